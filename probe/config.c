/*
 * config.c - option table, parsing and validation.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
cfg_defaults(struct prb_config *c)
{
    memset(c, 0, sizeof(*c));
    c->decode_tunnels = true;
    c->snapshot_length = 1536;
    c->promiscuous_mode = true;
    c->idle_timeout = 120;
    c->active_timeout = 1800;
    c->n_dissections = 20;
    c->max_flows = 1u << 20;
    c->collector_mode = "all";
    c->observation_domain = 1;
    c->pen = 32473; /* RFC 5612 documentation PEN until the project has its own */
    c->mtu = 1400;
    c->template_refresh = 60;
    c->template_refresh_packets = 20;
    c->workers = 1;
    c->log = "stderr";
}

/* Parses a whole unsigned decimal number in [min, max]. */
static int
parse_u64(const char *key, const char *v, uint64_t min, uint64_t max, uint64_t *out, char *err,
          size_t errlen)
{
    char *end;

    if (v == NULL || v[0] == '\0' || v[0] == '-' || v[0] == '+') {
        snprintf(err, errlen, "--%s: expected a number from %" PRIu64 " to %" PRIu64, key, min,
                 max);
        return -EINVAL;
    }
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max) {
        snprintf(err, errlen, "--%s: '%s' is not a number from %" PRIu64 " to %" PRIu64, key, v,
                 min, max);
        return -EINVAL;
    }
    *out = n;
    return 0;
}

static int
add_to_list(const char *key, const char **list, size_t *n, size_t cap, const char *v, char *err,
            size_t errlen)
{
    if (v == NULL || v[0] == '\0') {
        snprintf(err, errlen, "--%s: needs a value", key);
        return -EINVAL;
    }
    if (*n >= cap) {
        snprintf(err, errlen, "--%s: at most %zu may be given", key, cap);
        return -EINVAL;
    }
    list[(*n)++] = v;
    return 0;
}

int
cfg_set(struct prb_config *c, const char *key, const char *v, char *err, size_t errlen)
{
    uint64_t n;
    int rc;

#define NUM(name, lo, hi, field)                                                                   \
    if (strcmp(key, name) == 0) {                                                                  \
        if ((rc = parse_u64(key, v, lo, hi, &n, err, errlen)) != 0)                                \
            return rc;                                                                             \
        c->field = n;                                                                              \
        return 0;                                                                                  \
    }
#define STR(name, field)                                                                           \
    if (strcmp(key, name) == 0) {                                                                  \
        if (v == NULL || v[0] == '\0') {                                                           \
            snprintf(err, errlen, "--%s: needs a value", key);                                     \
            return -EINVAL;                                                                        \
        }                                                                                          \
        c->field = v;                                                                              \
        return 0;                                                                                  \
    }
#define FLAG(name, field, val)                                                                     \
    if (strcmp(key, name) == 0) {                                                                  \
        c->field = val;                                                                            \
        return 0;                                                                                  \
    }

    if (strcmp(key, "read") == 0)
        return add_to_list(key, c->files, &c->n_files, CFG_MAX_FILES, v, err, errlen);
    if (strcmp(key, "interface") == 0)
        return add_to_list(key, c->ifaces, &c->n_ifaces, CFG_MAX_IFACES, v, err, errlen);
    if (strcmp(key, "collector") == 0)
        return add_to_list(key, c->collectors, &c->n_collectors, CFG_MAX_COLLECTORS, v, err,
                           errlen);
    if (strcmp(key, "plugin") == 0)
        return add_to_list(key, c->plugins, &c->n_plugins, 16, v, err, errlen);
    if (strcmp(key, "collector-mode") == 0) {
        if (v == NULL || (strcmp(v, "all") != 0 && strcmp(v, "round-robin") != 0)) {
            snprintf(err, errlen, "--collector-mode: expected 'all' or 'round-robin'");
            return -EINVAL;
        }
        c->collector_mode = v;
        return 0;
    }
    NUM("observation-domain", 0, UINT32_MAX, observation_domain)
    NUM("pen", 1, UINT32_MAX, pen)
    NUM("mtu", 512, 65000, mtu)
    NUM("template-refresh", 1, 86400, template_refresh)
    NUM("template-refresh-packets", 1, 1000000, template_refresh_packets)
    STR("ipfix-template", ipfix_template)
    FLAG("ntop-compat", ntop_compat, true)
    STR("tls-ca", tls_ca)
    STR("tls-cert", tls_cert)
    STR("tls-key", tls_key)
    NUM("workers", 1, 64, workers)
    NUM("stats-interval", 0, 86400, stats_interval)
    STR("metrics", metrics)
    STR("pid-file", pid_file)
    STR("user", user)
    STR("log", log)
    STR("bpf-filter", bpf_filter)
    FLAG("decode-tunnels", decode_tunnels, true)
    FLAG("no-decode-tunnels", decode_tunnels, false)
    NUM("snapshot-length", 64, 262144, snapshot_length)
    FLAG("promiscuous-mode", promiscuous_mode, true)
    FLAG("no-promiscuous-mode", promiscuous_mode, false)
    NUM("socket-buffer-size", 0, INT32_MAX, socket_buffer_size)
    /* Timeouts are whole seconds as in NFStream; the ms value must fit 64 bits. */
    NUM("idle-timeout", 0, UINT64_MAX / 1000, idle_timeout)
    NUM("active-timeout", 0, UINT64_MAX / 1000, active_timeout)
    NUM("accounting-mode", 0, 3, accounting_mode)
    NUM("n-dissections", 0, 255, n_dissections)
    FLAG("statistical-analysis", statistical_analysis, true)
    NUM("splt-analysis", 0, 65535, splt_analysis)
    NUM("max-nflows", 0, UINT64_MAX, max_nflows)
    NUM("max-flows", 1, 1u << 30, max_flows)
    STR("ndpi-protos", ndpi_protos)
    STR("ndpi-categories", ndpi_categories)
    STR("csv", csv_path)
    STR("json", json_path)
    STR("anonymize", anonymize)
    FLAG("verbose", verbose, true)
#undef NUM
#undef STR
#undef FLAG
    snprintf(err, errlen, "unknown option '%s'", key);
    return -EINVAL;
}

int
cfg_validate(const struct prb_config *c, char *err, size_t errlen)
{
    if (c->n_files == 0 && c->n_ifaces == 0) {
        snprintf(err, errlen, "no input: give -r FILE or -i INTERFACE");
        return -EINVAL;
    }
    if (c->n_files > 0 && c->n_ifaces > 0) {
        snprintf(err, errlen, "-r and -i cannot be mixed");
        return -EINVAL;
    }
    if (c->anonymize != NULL && c->csv_path == NULL && c->json_path == NULL) {
        snprintf(err, errlen, "--anonymize: applies to --csv/--json output, and none is given");
        return -EINVAL;
    }
    if (c->csv_path != NULL && c->json_path != NULL && strcmp(c->csv_path, "-") == 0 &&
        strcmp(c->json_path, "-") == 0) {
        snprintf(err, errlen, "--csv and --json cannot both write to stdout");
        return -EINVAL;
    }
    return 0;
}
