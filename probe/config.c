/*
 * config.c - option table, the configuration-file parser, printing and validation.
 *
 * Every option is one row of opts[]: its name (the long flag and the file key), its kind, the
 * field it sets, its range, its short letter, value name, --help line and section. cfg_set(),
 * cfg_parse_buf(), cfg_print(), cfg_reload_check(), getopt's tables (cfg_long_options()) and
 * --help (cfg_usage()) all walk that one table, so a new option is one row; test_config checks
 * the man page's OPTIONS against it.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "ifspec.h"
#include "metrics.h"

/* One block of configuration-file text; values point into text[]. */
struct cfg_text {
    struct cfg_text *next;
    char text[];
};

enum opt_kind {
    K_NUM,    /* unsigned integer field of `size` bytes, in [lo, hi] */
    K_STR,    /* const char *, non-empty */
    K_LIST,   /* const char *[cap] with a size_t count at n_off */
    K_FLAG,   /* bool; on the command line a flag without value, in a file yes/no */
    K_CHOICE, /* const char * pointing to one of choices[] */
    K_LEVEL,  /* uint8_t syslog level, written as its name */
    K_CLI,    /* command line only (-C, -n, -h, -V): handled by main, no field */
};

enum opt_unit { U_NONE, U_SECONDS, U_BYTES };

/* Where --help and the man page group an option. */
enum opt_sect { S_INPUT, S_METER, S_DPI, S_OUTPUT, S_EXPORT, S_DAEMON, S_NSECT };

static const char *const sect_title[S_NSECT] = {
    "input", "metering (NFStream's parameters and defaults)", "application detection (nDPI)",
    "output", "export", "appliance",
};

struct opt {
    const char *name;
    enum opt_kind kind;
    enum opt_unit unit;
    size_t off;    /* offsetof the field in struct prb_config */
    size_t size;   /* sizeof the field */
    size_t n_off;  /* K_LIST: offsetof the count */
    size_t cap;    /* K_LIST: capacity */
    uint32_t bit;  /* K_LIST: its bit in lists_from_file */
    uint64_t lo, hi;
    bool neg;      /* K_FLAG: this name turns the flag off ("no-decode-tunnels") */
    bool reload;   /* may change on SIGHUP without a restart */
    const char *const *choices;
    /* The command line and --help: */
    char letter;       /* short option, or 0 */
    const char *arg;   /* the value's name in --help ("FILE"); NULL: a flag without value */
    const char *help;  /* --help text; '\n' continues on the next line; NULL: not listed */
    enum opt_sect sect;
};

static const char *const collector_modes[] = {"all", "round-robin", NULL};
static const char *const log_targets[] = {"stderr", "syslog", NULL};
static const char *const sampling_modes[] = {"count", "random", NULL};
/* Indexed by syslog level (LOG_EMERG 0 .. LOG_DEBUG 7). */
static const char *const level_names[] = {"emerg", "alert", "crit",  "err",
                                          "warning", "notice", "info", "debug"};

/*
 * Row makers: the key, the field, the kind's own arguments, whether SIGHUP may change it,
 * then the section and the --help line (and .letter = 'x' for a short option, .arg for the
 * value's name where the default one does not fit).
 */
#define FIELD(f) .off = offsetof(struct prb_config, f), .size = sizeof(((struct prb_config *)0)->f)
#define NUM(n, f, l, h, u, r, s, a, hl, ...)                                                       \
    {.name = n, .kind = K_NUM, FIELD(f), .lo = l, .hi = h, .unit = u, .reload = r, .sect = s,     \
     .arg = a, .help = hl, __VA_ARGS__}
#define STR(n, f, r, s, a, hl, ...)                                                                \
    {.name = n, .kind = K_STR, FIELD(f), .reload = r, .sect = s, .arg = a, .help = hl, __VA_ARGS__}
#define LIST(n, f, cnt, b, r, s, a, hl, ...)                                                       \
    {.name = n, .kind = K_LIST, FIELD(f), .n_off = offsetof(struct prb_config, cnt),              \
     .cap = sizeof(((struct prb_config *)0)->f) / sizeof(const char *), .bit = b, .reload = r,    \
     .sect = s, .arg = a, .help = hl, __VA_ARGS__}
#define FLAG(n, f, ng, r, s, hl, ...)                                                              \
    {.name = n, .kind = K_FLAG, FIELD(f), .neg = ng, .reload = r, .sect = s, .help = hl,          \
     __VA_ARGS__}
#define CHOICE(n, f, ch, r, s, a, hl, ...)                                                         \
    {.name = n, .kind = K_CHOICE, FIELD(f), .choices = ch, .reload = r, .sect = s, .arg = a,      \
     .help = hl, __VA_ARGS__}
/* Command line only (-C, -n, -h, -V): no field, not a configuration-file key. */
#define CLI(n, l, a, hl) {.name = n, .kind = K_CLI, .letter = l, .sect = S_DAEMON, .arg = a, .help = hl}

/* Durations are refused past a year: larger is a typo (a unit twice, ms for s), not a plan. */
#define MAX_DURATION (366ull * 86400)

/*
 * THE option table: every long flag, configuration-file key and --help line comes from here,
 * and test_config checks the man page against it. A new option is one row. The order is the
 * order cfg_print() writes and, within a section, --help lists.
 */
static const struct opt opts[] = {
    /* input */
    LIST("read", files, n_files, 1u << 0, false, S_INPUT, "FILE",
         "read a pcap/pcapng file (repeat: read in order as one)", .letter = 'r'),
    LIST("interface", ifaces, n_ifaces, 1u << 1, false, S_INPUT, "IFACE",
         "capture live (repeatable)", .letter = 'i'),
    STR("bpf-filter", bpf_filter, false, S_INPUT, "EXPR", "only packets matching the BPF expression"),
    FLAG("decode-tunnels", decode_tunnels, false, false, S_INPUT, NULL),
    FLAG("no-decode-tunnels", decode_tunnels, true, false, S_INPUT,
         "do not decode GTP-U, CAPWAP, TZSP (default: decode)"),
    NUM("snapshot-length", snapshot_length, 64, 262144, U_BYTES, false, S_INPUT, "N",
        "live: bytes captured per packet (1536)"),
    FLAG("promiscuous-mode", promiscuous_mode, false, false, S_INPUT, NULL),
    FLAG("no-promiscuous-mode", promiscuous_mode, true, false, S_INPUT,
         "live: do not put the interface in promiscuous mode"),
    NUM("socket-buffer-size", socket_buffer_size, 0, INT32_MAX, U_BYTES, false, S_INPUT, "N",
        "live: kernel capture buffer in bytes"),
    NUM("input-ifindex", input_ifindex, 0, UINT32_MAX, U_NONE, false, S_INPUT, "N",
        "-r: ifIndex exported as ingressInterface (0 unknown; -i IFACE@N live)"),
    /* metering; timeouts are whole seconds as in NFStream */
    NUM("idle-timeout", idle_timeout, 0, MAX_DURATION, U_SECONDS, true, S_METER, "S",
        "idle timeout in seconds (120)"),
    NUM("active-timeout", active_timeout, 0, MAX_DURATION, U_SECONDS, true, S_METER, "S",
        "active timeout in seconds (1800)"),
    NUM("accounting-mode", accounting_mode, 0, 3, U_NONE, false, S_METER, "N",
        "0 link, 1 IP, 2 transport, 3 payload bytes (0)"),
    NUM("n-dissections", n_dissections, 0, 255, U_NONE, false, S_DPI, "N",
        "packets given to nDPI per flow, 0 = off (20)"),
    FLAG("statistical-analysis", statistical_analysis, false, false, S_METER,
         "packet size/inter-arrival statistics and TCP flags"),
    NUM("splt-analysis", splt_analysis, 0, 65535, U_NONE, false, S_METER, "N",
        "sizes/times/directions of the first N packets (0)"),
    NUM("max-nflows", max_nflows, 0, UINT64_MAX, U_NONE, false, S_METER, "N",
        "stop after N flows (0 = no limit)"),
    NUM("max-flows", max_flows, 1, 1u << 30, U_NONE, false, S_METER, "N",
        "flow table size; when full a flow is exported\nearly, flowEndReason 5 (1048576)"),
    NUM("max-memory", max_memory, 0, 1ull << 50, U_BYTES, false, S_METER, "SIZE",
        "memory of the flow tables (K/M/G; default 1/4 of\nRAM, at most 4G); sizes the table if smaller"),
    NUM("sampling", sampling, 0, CFG_MAX_SAMPLING, U_NONE, false, S_METER, "N",
        "meter one packet in N, before metering (RFC\n7014; 1 = every packet; 0 = off, the default)"),
    CHOICE("sampling-mode", sampling_mode, sampling_modes, false, S_METER, "M",
           "count: every Nth packet (default); random:\none at a random place in each N"),
    FLAG("sampling-upscale", sampling_upscale, false, false, S_METER,
         "export packet/octet counters times N (default:\nas observed, RFC 7014)"),
    /* DPI */
    STR("ndpi-protos", ndpi_protos, false, S_DPI, "FILE", "nDPI custom protocols file"),
    STR("ndpi-categories", ndpi_categories, false, S_DPI, "FILE", "nDPI custom categories file"),
    /* output */
    STR("csv", csv_path, false, S_OUTPUT, "PATH", "NFStream to_csv() format ('-' = stdout)"),
    STR("json", json_path, false, S_OUTPUT, "PATH", "JSON lines, same keys and values ('-' = stdout)"),
    STR("anonymize", anonymize, false, S_OUTPUT, "COL,...",
        "keyed BLAKE2b-512 of these columns (NFStream's)"),
    STR("anonymize-key", anonymize_key, false, S_OUTPUT, "FILE",
        "key of --anonymize (32-64 octets): the same ids across runs"),
    /* export */
    LIST("collector", collectors, n_collectors, 1u << 2, true, S_EXPORT, "URL",
         "ipfix+udp://HOST:PORT, ipfix+tcp://, ipfix+tls://,\nv9+udp://, v9+tcp://, v9+tls://, v5+udp://,\nkafka://BROKER[,BROKER]/TOPIC,\nzmq+tcp://HOST:PORT (ntopng) "
         "(repeatable)", .letter = 'c'),
    CHOICE("collector-mode", collector_mode, collector_modes, true, S_EXPORT, "M",
           "all (default) or round-robin"),
    NUM("observation-domain", observation_domain, 0, UINT32_MAX, U_NONE, false, S_EXPORT, "N",
        "IPFIX observation domain / v9 source id (1)"),
    NUM("pen", pen, 1, UINT32_MAX, U_NONE, false, S_EXPORT, "N",
        "enterprise number of nfprobe's elements (32473)"),
    NUM("mtu", mtu, 512, 65000, U_BYTES, false, S_EXPORT, "N",
        "largest UDP export message in octets (1400)"),
    NUM("template-refresh", template_refresh, 1, 86400, U_SECONDS, true, S_EXPORT, "S",
        "UDP template refresh period in seconds (60)"),
    NUM("template-refresh-packets", template_refresh_packets, 1, 1000000, U_NONE, true, S_EXPORT,
        "N", "v9: also every N export packets (20)"),
    NUM("export-rate", export_rate, 0, 10000000, U_NONE, false, S_EXPORT, "N",
        "UDP messages per second per collector, 0 = unpaced\n(20000)"),
    STR("ipfix-template", ipfix_template, false, S_EXPORT, "FILE",
        "which fields to export (default: all)"),
    FLAG("ntop-compat", ntop_compat, false, false, S_EXPORT, "add ntop's elements (PEN 35632)"),
    FLAG("uniflow", uniflow, false, false, S_EXPORT,
         "IPFIX/v9: a record per direction, forward elements\nonly (as routers send)"),
    STR("networks-file", networks_file, false, S_EXPORT, "FILE",
        "AS numbers and prefix lengths from a pmacct\nnetworks file ([peer_as,]asn,prefix); SIGHUP rereads"),
    STR("asn-database", asn_database, false, S_EXPORT, "FILE",
        "AS numbers and prefix lengths from a MaxMind\nASN database (.mmdb); SIGHUP rereads"),
    FLAG("route-lookup", route_lookup, false, false, S_EXPORT,
         "next hop, egress interface and prefix lengths\nfrom the kernel's FIB (nfprobe on the router)"),
    STR("local-networks", local_networks, false, S_EXPORT, "LIST|FILE",
        "flowDirection: 0 ingress to these prefixes, 1\negress from them (comma-separated, or a file)"),
    STR("tls-ca", tls_ca, true, S_EXPORT, "FILE", "CA the TLS collector's certificate must chain to"),
    STR("tls-cert", tls_cert, true, S_EXPORT, "FILE", "our client certificate (mutual authentication)"),
    STR("tls-key", tls_key, true, S_EXPORT, "FILE", "its private key"),
    LIST("kafka-option", kafka_options, n_kafka_options, 1u << 4, false, S_EXPORT, "K=V",
         "librdkafka property for kafka:// collectors\n(repeatable, e.g. compression.codec=zstd)"),
    LIST("zmq-bind", zmq_binds, n_zmq_binds, 1u << 5, true, S_EXPORT, "tcp://ADDR:PORT",
         "ntopng: bind a ZMQ publisher ntopng connects to\n(repeatable)"),
    STR("zmq-source-id", zmq_source_id, true, S_EXPORT, "N",
        "ntopng: the messages' source id (observation domain)"),
    NUM("zmq-update-interval", zmq_update_interval, 1, 3600, U_SECONDS, true, S_EXPORT, "S",
        "ntopng: report an active flow again after S s (30)"),
    NUM("zmq-event-interval", zmq_event_interval, 1, 3600, U_SECONDS, true, S_EXPORT, "S",
        "ntopng: an event with counters and timeouts every\nS s (10)"),
    NUM("zmq-hwm", zmq_hwm, 1, 1000000, U_NONE, true, S_EXPORT, "N",
        "ntopng: messages queued per endpoint, then dropped\nand counted (1000)"),
    STR("zmq-encryption-key", zmq_encryption_key, true, S_EXPORT, "KEY",
        "ntopng: CURVE with ntopng's public key (Z85)"),
    STR("zmq-ndpi-ids", zmq_ndpi_ids, false, S_EXPORT, "FILE",
        "ntopng: its nDPI's ids (ndpi-4.10.ids), by name"),
    FLAG("zmq-rebase-time", zmq_rebase_time, false, false, S_EXPORT,
         "ntopng: shift capture times so the first packet is\nnow (replays)"),
    /* daemon */
    NUM("workers", workers, 1, 64, U_NONE, false, S_INPUT, "N",
        "live: capture threads per interface (1)"),
    NUM("stats-interval", stats_interval, 0, 86400, U_SECONDS, true, S_DAEMON, "S",
        "log counters every S seconds (0 = off)"),
    NUM("drain-timeout", drain_timeout, 0, 86400, U_SECONDS, true, S_EXPORT, "S",
        "at exit, wait at most S s for queued flows to\nbe sent (30; offline: until no progress for S)"),
    FLAG("progress", progress, false, false, S_DAEMON,
         "offline: a progress line on stderr (default:\nwhen stderr is a terminal)"),
    FLAG("no-progress", no_progress, false, false, S_DAEMON, "offline: no progress line"),
    STR("metrics", metrics, false, S_DAEMON, "ADDR:PORT",
        "Prometheus text endpoint (e.g. 127.0.0.1:9108)"),
    STR("pid-file", pid_file, false, S_DAEMON, "PATH", "write the process id there"),
    STR("user", user, false, S_DAEMON, "NAME", "drop privileges to NAME after opening captures"),
    CHOICE("log", log, log_targets, false, S_DAEMON, "stderr|syslog", "where messages go (stderr)"),
    {.name = "log-level", .kind = K_LEVEL, FIELD(log_level), .reload = true, .sect = S_DAEMON,
     .arg = "LEVEL", .help = "emerg .. debug (info)"},
    FLAG("daemon", daemon, false, false, S_DAEMON, "detach (needs --log syslog)"),
    FLAG("seccomp", seccomp, false, false, S_DAEMON,
         "after start-up, allow only the system calls\nnfprobe needs (others stop it, logged)"),
    LIST("plugin", plugins, n_plugins, 1u << 3, false, S_OUTPUT, "PATH[:K=V,...]",
         "load a plugin: udps.* columns and elements\n(repeatable, see nfprobe/plugin.h)"),
    FLAG("verbose", verbose, false, true, S_DAEMON, "more detail", .letter = 'v'),
    /* command line only */
    CLI("config", 'C', "FILE", "read options from FILE (key = value); flags override"),
    CLI("check", 'n', NULL, "check the configuration, print it, exit"),
    CLI("help", 'h', NULL, "this text"),
    CLI("version", 'V', NULL, "version"),
    CLI("list-fields", 0, NULL, "print the flow fields: column, IPFIX/v9/ntop ids, what enables each"),
};

#undef FIELD
#undef NUM
#undef STR
#undef LIST
#undef FLAG
#undef CHOICE
#undef CLI

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

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
    c->sampling_mode = "count";
    c->collector_mode = "all";
    c->observation_domain = 1;
    c->pen = 32473; /* RFC 5612 documentation PEN until the project has its own */
    c->mtu = 1400;
    c->template_refresh = 60;
    c->template_refresh_packets = 20;
    c->export_rate = 20000;
    c->drain_timeout = 30;
    c->zmq_update_interval = 30;
    c->zmq_event_interval = 10;
    c->zmq_hwm = 1000;
    c->workers = 1;
    c->log = "stderr";
    c->log_level = LOG_INFO;
}

void
cfg_free(struct prb_config *c)
{
    if (c == NULL)
        return;
    struct cfg_text *t = c->text;
    while (t != NULL) {
        struct cfg_text *next = t->next;
        free(t);
        t = next;
    }
    c->text = NULL;
    c->lists_from_file = 0;
}

/* The row of a configuration key (command-line-only rows are no keys). */
static const struct opt *
find_opt(const char *key)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (opts[i].kind != K_CLI && strcmp(opts[i].name, key) == 0)
            return &opts[i];
    return NULL;
}

/* Field accessors: the table knows offsets and sizes, the struct's types stay plain. */
static void *
field(struct prb_config *c, const struct opt *o)
{
    return (char *)c + o->off;
}

static const void *
cfield(const struct prb_config *c, const struct opt *o)
{
    return (const char *)c + o->off;
}

static uint64_t
get_num(const struct prb_config *c, const struct opt *o)
{
    const void *p = cfield(c, o);
    switch (o->size) {
    case 1: return *(const uint8_t *)p;
    case 2: return *(const uint16_t *)p;
    case 4: return *(const uint32_t *)p;
    default: return *(const uint64_t *)p;
    }
}

static void
put_num(struct prb_config *c, const struct opt *o, uint64_t v)
{
    void *p = field(c, o);
    switch (o->size) {
    case 1: *(uint8_t *)p = (uint8_t)v; break;
    case 2: *(uint16_t *)p = (uint16_t)v; break;
    case 4: *(uint32_t *)p = (uint32_t)v; break;
    default: *(uint64_t *)p = v; break;
    }
}

static const char *
unit_hint(enum opt_unit u)
{
    switch (u) {
    case U_SECONDS: return " seconds (or with a unit: s, m, h, d)";
    case U_BYTES: return " bytes (or with a unit: K/KiB, M/MiB, G/GiB)";
    default: return "";
    }
}

/* The multiplier of a unit suffix, 0 if the suffix is not one of o's units. */
static uint64_t
unit_factor(enum opt_unit u, const char *s)
{
    if (*s == '\0')
        return 1;
    if (u == U_SECONDS) {
        if (strcmp(s, "s") == 0)
            return 1;
        if (strcmp(s, "m") == 0)
            return 60;
        if (strcmp(s, "h") == 0)
            return 3600;
        if (strcmp(s, "d") == 0)
            return 86400;
    } else if (u == U_BYTES) {
        if (strcmp(s, "B") == 0)
            return 1;
        if (strcmp(s, "K") == 0 || strcmp(s, "k") == 0 || strcmp(s, "KiB") == 0)
            return 1ull << 10;
        if (strcmp(s, "M") == 0 || strcmp(s, "MiB") == 0)
            return 1ull << 20;
        if (strcmp(s, "G") == 0 || strcmp(s, "GiB") == 0)
            return 1ull << 30;
    }
    return 0;
}

/* Parses a whole unsigned decimal number with an optional unit of o, in [lo, hi]. */
static int
parse_num(const struct opt *o, const char *v, uint64_t *out, char *err, size_t errlen)
{
    char *end;

    if (v == NULL) {
        snprintf(err, errlen, "--%s: needs a value", o->name);
        return -EINVAL;
    }
    if (!isdigit((unsigned char)v[0]))
        goto bad;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0)
        goto bad;
    uint64_t f = unit_factor(o->unit, end);
    if (f == 0 || n > o->hi / f || n * f < o->lo || n * f > o->hi)
        goto bad;
    *out = n * f;
    return 0;
bad:
    snprintf(err, errlen, "--%s: '%s' is not a number from %" PRIu64 " to %" PRIu64 "%s", o->name,
             v, o->lo, o->hi, unit_hint(o->unit));
    return -EINVAL;
}

static int
parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

/*
 * Sets one option. from_file: v is a file's value (a flag needs yes/no), and a list remembers it
 * came from a file; otherwise (command line) a flag without value is turned on, and a list that
 * came from a file is replaced.
 */
static int
set_opt(struct prb_config *c, const struct opt *o, const char *v, bool from_file, char *err,
        size_t errlen)
{
    uint64_t n;
    int rc;

    switch (o->kind) {
    case K_NUM:
        if ((rc = parse_num(o, v, &n, err, errlen)) != 0)
            return rc;
        put_num(c, o, n);
        return 0;
    case K_STR:
        if (v == NULL || v[0] == '\0') {
            snprintf(err, errlen, "--%s: needs a value", o->name);
            return -EINVAL;
        }
        if (strlen(v) > CFG_MAX_VALUE)
            goto too_long;
        *(const char **)field(c, o) = v;
        return 0;
    case K_LIST: {
        const char **list = field(c, o);
        size_t *count = (size_t *)((char *)c + o->n_off);
        if (v == NULL || v[0] == '\0') {
            snprintf(err, errlen, "--%s: needs a value", o->name);
            return -EINVAL;
        }
        if (strlen(v) > CFG_MAX_VALUE)
            goto too_long;
        if (!from_file && (c->lists_from_file & o->bit)) {
            memset(list, 0, o->size);
            *count = 0;
            c->lists_from_file &= ~o->bit;
        }
        if (*count >= o->cap) {
            snprintf(err, errlen, "--%s: at most %zu may be given", o->name, o->cap);
            return -EINVAL;
        }
        list[(*count)++] = v;
        if (from_file)
            c->lists_from_file |= o->bit;
        return 0;
    }
    case K_FLAG: {
        /* A bare flag (command line, v NULL) turns it on; a value says yes or no. */
        bool b = true;
        if ((v == NULL && from_file) || (v != NULL && parse_bool(v, &b) != 0)) {
            snprintf(err, errlen, "--%s: '%s' is not yes or no (or true, false, on, off, 1, 0)",
                     o->name, v ? v : "");
            return -EINVAL;
        }
        *(bool *)field(c, o) = o->neg ? !b : b;
        return 0;
    }
    case K_CHOICE:
        for (size_t i = 0; v != NULL && o->choices[i] != NULL; i++) {
            if (strcmp(v, o->choices[i]) == 0) {
                *(const char **)field(c, o) = o->choices[i];
                return 0;
            }
        }
        snprintf(err, errlen, "--%s: '%s' is not one of %s%s%s", o->name, v ? v : "",
                 o->choices[0], o->choices[1] ? ", " : "", o->choices[1] ? o->choices[1] : "");
        return -EINVAL;
    case K_LEVEL:
        for (size_t i = 0; v != NULL && i < sizeof(level_names) / sizeof(level_names[0]); i++) {
            if (strcmp(v, level_names[i]) == 0) {
                *(uint8_t *)field(c, o) = (uint8_t)i;
                return 0;
            }
        }
        if (v != NULL && (strcmp(v, "error") == 0 || strcmp(v, "warn") == 0)) {
            *(uint8_t *)field(c, o) = v[0] == 'e' ? LOG_ERR : LOG_WARNING;
            return 0;
        }
        snprintf(err, errlen,
                 "--%s: '%s' is not a level (emerg, alert, crit, err, warning, notice, info, "
                 "debug)",
                 o->name, v ? v : "");
        return -EINVAL;
    case K_CLI:
        break;
    }
    snprintf(err, errlen, "--%s: only on the command line", o->name);
    return -EINVAL;
too_long:
    /* Bounded so that cfg_print() can always write the value back on one line. */
    snprintf(err, errlen, "--%s: value longer than %d bytes", o->name, CFG_MAX_VALUE);
    return -EINVAL;
}

/* The longest line cfg_print() writes: a key, " = ", quotes, every byte escaped as \xHH. */
_Static_assert(32 + 5 + 4 * CFG_MAX_VALUE <= CFG_MAX_LINE, "CFG_MAX_LINE too small");

int
cfg_set(struct prb_config *c, const char *key, const char *v, char *err, size_t errlen)
{
    const struct opt *o = find_opt(key);

    if (o == NULL) {
        snprintf(err, errlen, "unknown option '%s'", key);
        return -EINVAL;
    }
    return set_opt(c, o, v, false, err, errlen);
}

/* ------------------------------------------------------------------ file syntax */

static bool
is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static char *
skip_blank(char *s)
{
    while (is_blank(*s))
        s++;
    return s;
}

static int
hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/*
 * Decodes the quoted value starting at s (on the opening quote) in place. *val gets the value,
 * NUL-terminated; what follows the closing quote must be blanks and an optional comment.
 */
static int
parse_quoted(char *s, char **val, char *err, size_t errlen)
{
    char *r = s + 1, *w = s;

    *val = w;
    for (;;) {
        char ch = *r++;
        if (ch == '\0') {
            snprintf(err, errlen, "missing closing quote");
            return -EINVAL;
        }
        if (ch == '"')
            break;
        if (ch != '\\') {
            *w++ = ch;
            continue;
        }
        ch = *r++;
        switch (ch) {
        case '\\': *w++ = '\\'; break;
        case '"': *w++ = '"'; break;
        case 'n': *w++ = '\n'; break;
        case 't': *w++ = '\t'; break;
        case 'r': *w++ = '\r'; break;
        case 'x': {
            int hi = hexval(r[0]), lo = hi < 0 ? -1 : hexval(r[1]);
            if (hi < 0 || lo < 0 || (hi | lo) == 0) {
                snprintf(err, errlen, "\\x needs two hex digits, not 00");
                return -EINVAL;
            }
            *w++ = (char)(hi << 4 | lo);
            r += 2;
            break;
        }
        case '\0':
            snprintf(err, errlen, "missing closing quote");
            return -EINVAL;
        default:
            snprintf(err, errlen, "unknown escape '\\%c' (use \\\\ \\\" \\n \\t \\r \\xHH)",
                     isprint((unsigned char)ch) ? ch : '?');
            return -EINVAL;
        }
    }
    *w = '\0';
    r = skip_blank(r);
    if (*r != '\0' && *r != '#') {
        snprintf(err, errlen, "text after the closing quote");
        return -EINVAL;
    }
    return 0;
}

/* The first row of the table that sets the same field as o: flag pairs share one slot. */
static size_t
slot_of(const struct opt *o)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (opts[i].kind != K_CLI && opts[i].off == o->off)
            return i;
    return (size_t)(o - opts);
}

/* Parses and applies one line (NUL-terminated, no newline). err gets the message only. */
static int
parse_line(char *s, unsigned lineno, unsigned *seen, struct prb_config *c, char *err,
           size_t errlen)
{
    s = skip_blank(s);
    if (*s == '\0' || *s == '#')
        return 0;

    char *key = s;
    while (isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.')
        s++;
    char *key_end = s;
    s = skip_blank(s);
    if (key_end == key || *s != '=') {
        snprintf(err, errlen, "expected 'key = value'");
        return -EINVAL;
    }
    s = skip_blank(s + 1);
    *key_end = '\0';

    char *val;
    if (*s == '"') {
        int rc = parse_quoted(s, &val, err, errlen);
        if (rc != 0)
            return rc;
    } else {
        /* A '#' at the start of the value or after a blank begins a comment. */
        val = s;
        char *e = s;
        while (*e != '\0' && !(*e == '#' && (e == val || is_blank(e[-1]))))
            e++;
        while (e > val && is_blank(e[-1]))
            e--;
        *e = '\0';
    }

    const struct opt *o = find_opt(key);
    if (o == NULL) {
        char alt[64];
        size_t klen = strlen(key);
        if (klen < sizeof(alt)) {
            for (size_t i = 0; i <= klen; i++)
                alt[i] = key[i] == '_' ? '-' : key[i];
            if (strcmp(alt, key) != 0 && find_opt(alt) != NULL) {
                snprintf(err, errlen, "unknown key '%s' (did you mean '%s'?)", key, alt);
                return -EINVAL;
            }
        }
        snprintf(err, errlen, "unknown key '%s'", key);
        return -EINVAL;
    }
    size_t slot = slot_of(o);
    if (o->kind != K_LIST && seen[slot] != 0) {
        snprintf(err, errlen, "%s: already set on line %u", o->name, seen[slot]);
        return -EINVAL;
    }
    seen[slot] = lineno;
    return set_opt(c, o, val, true, err, errlen);
}

/* Messages are one line: control characters from a value become '?'. */
static void
one_line(char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

int
cfg_parse_buf(const char *buf, size_t len, const char *name, struct prb_config *out, char *err,
              size_t errlen)
{
    unsigned seen[N_OPTS] = {0};
    char msg[512];
    unsigned lineno = 0;
    int rc = 0;

    if (name == NULL)
        name = "configuration";
    if (len > CFG_MAX_FILE) {
        snprintf(err, errlen, "%s: larger than %u bytes", name, CFG_MAX_FILE);
        return -EINVAL;
    }
    struct cfg_text *t = malloc(sizeof(*t) + len + 1);
    if (t == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -ENOMEM;
    }
    if (len > 0)
        memcpy(t->text, buf, len);
    t->text[len] = '\0';
    t->next = out->text;
    out->text = t;

    char *p = t->text, *end = t->text + len;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* a UTF-8 byte order mark some editors write */
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl != NULL ? nl : end;
        size_t ll = (size_t)(eol - p);
        lineno++;
        if (ll > 0 && p[ll - 1] == '\r')
            ll--;
        if (ll > CFG_MAX_LINE) {
            snprintf(msg, sizeof(msg), "line longer than %d characters", CFG_MAX_LINE);
            rc = -EINVAL;
            break;
        }
        if (memchr(p, '\0', ll) != NULL) {
            snprintf(msg, sizeof(msg), "NUL byte in line");
            rc = -EINVAL;
            break;
        }
        p[ll] = '\0';
        if ((rc = parse_line(p, lineno, seen, out, msg, sizeof(msg))) != 0)
            break;
        p = nl != NULL ? nl + 1 : end;
    }
    if (rc != 0) {
        one_line(msg);
        snprintf(err, errlen, "%s:%u: %s", name, lineno, msg);
    }
    return rc;
}

int
cfg_load_file(const char *path, struct prb_config *c, char *err, size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int fd, rc;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = -EISDIR;
        snprintf(err, errlen, "%s: is a directory", path);
        goto out;
    }
    /* Read to the end rather than trust st_size: pipes and /dev/stdin have none. */
    if ((buf = malloc(CFG_MAX_FILE + 1)) == NULL) {
        rc = -ENOMEM;
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, CFG_MAX_FILE + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > CFG_MAX_FILE) {
            rc = -EFBIG;
            snprintf(err, errlen, "%s: larger than %u bytes", path, CFG_MAX_FILE);
            goto out;
        }
    }
    rc = cfg_parse_buf(buf, len, path, c, err, errlen);
out:
    free(buf);
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------ printing */

static bool
needs_quotes(const char *v)
{
    if (v[0] == '\0' || v[0] == '"' || is_blank(v[0]) || is_blank(v[strlen(v) - 1]))
        return true;
    for (const char *s = v; *s != '\0'; s++)
        if (*s == '#' || (unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static void
print_value(FILE *out, const char *key, const char *v)
{
    if (!needs_quotes(v)) {
        fprintf(out, "%s = %s\n", key, v);
        return;
    }
    fprintf(out, "%s = \"", key);
    for (const unsigned char *s = (const unsigned char *)v; *s != '\0'; s++) {
        switch (*s) {
        case '\\': fputs("\\\\", out); break;
        case '"': fputs("\\\"", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (*s < 0x20 || *s == 0x7f)
                fprintf(out, "\\x%02x", *s);
            else
                fputc(*s, out);
        }
    }
    fputs("\"\n", out);
}

void
cfg_print(FILE *out, const struct prb_config *c)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt *o = &opts[i];
        switch (o->kind) {
        case K_NUM:
            fprintf(out, "%s = %" PRIu64 "\n", o->name, get_num(c, o));
            break;
        case K_STR:
        case K_CHOICE: {
            const char *v = *(const char *const *)cfield(c, o);
            if (v != NULL)
                print_value(out, o->name, v);
            break;
        }
        case K_LIST: {
            const char *const *list = cfield(c, o);
            size_t n = *(const size_t *)((const char *)c + o->n_off);
            for (size_t j = 0; j < n; j++)
                print_value(out, o->name, list[j]);
            break;
        }
        case K_FLAG:
            if (!o->neg)
                fprintf(out, "%s = %s\n", o->name, *(const bool *)cfield(c, o) ? "yes" : "no");
            break;
        case K_LEVEL: {
            uint8_t l = *(const uint8_t *)cfield(c, o);
            fprintf(out, "%s = %s\n", o->name, l < 8 ? level_names[l] : "debug");
            break;
        }
        case K_CLI:
            break;
        }
    }
}

/* ------------------------------------------------------------------ checks */

/* MemTotal of /proc/meminfo in bytes, 0 if unknown. */
static uint64_t
mem_total(void)
{
    FILE *fp = fopen("/proc/meminfo", "r");
    char line[128];
    unsigned long long kb = 0;

    if (fp == NULL)
        return 0;
    while (fgets(line, sizeof(line), fp) != NULL)
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            break;
    fclose(fp);
    return (uint64_t)kb * 1024;
}

uint64_t
cfg_memory_budget(const struct prb_config *c, char *how, size_t howlen)
{
    if (c->max_memory != 0) {
        snprintf(how, howlen, "--max-memory");
        return c->max_memory;
    }
    uint64_t total = mem_total();
    if (total == 0) {
        snprintf(how, howlen, "auto: MemTotal unknown, %llu MiB",
                 (unsigned long long)(CFG_AUTO_MEMORY_MAX >> 20));
        return CFG_AUTO_MEMORY_MAX;
    }
    uint64_t b = total / 4 < CFG_AUTO_MEMORY_MAX ? total / 4 : CFG_AUTO_MEMORY_MAX;
    snprintf(how, howlen, "auto: 1/4 of MemTotal %llu MiB, at most %llu MiB",
             (unsigned long long)(total >> 20), (unsigned long long)(CFG_AUTO_MEMORY_MAX >> 20));
    return b;
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
    if (c->anonymize_key != NULL && c->anonymize == NULL) {
        snprintf(err, errlen, "--anonymize-key: applies to --anonymize, and none is given");
        return -EINVAL;
    }
    if (c->input_ifindex != 0 && c->n_ifaces > 0) {
        snprintf(err, errlen, "--input-ifindex: applies to -r input; give a live interface's "
                              "ifIndex as -i %s@%" PRIu32, c->ifaces[0], c->input_ifindex);
        return -EINVAL;
    }
    /* The same interface twice would count every packet twice. */
    for (size_t i = 0; i < c->n_ifaces; i++) {
        struct ifs_spec si, sj;
        /* A missing interface is libpcap's to report when it opens (-n checks elsewhere). */
        int rc = ifs_parse(c->ifaces[i], &si, err, errlen);
        if (rc != 0 && rc != -ENODEV)
            return rc;
        for (size_t j = 0; j < i; j++) {
            (void)ifs_parse(c->ifaces[j], &sj, err, errlen);
            if (strcmp(si.name, sj.name) == 0) {
                snprintf(err, errlen, "-i %s: given twice (every packet would be counted twice; "
                                      "--workers N spreads one interface over threads)",
                         c->ifaces[i]);
                return -EINVAL;
            }
        }
    }
    if (c->max_memory != 0) {
        /* A budget the machine cannot give would only move the failure to the OOM killer. */
        uint64_t total = mem_total();
        if (c->max_memory < CFG_MIN_MEMORY) {
            snprintf(err, errlen, "--max-memory %" PRIu64 ": below the minimum of 1 MiB",
                     c->max_memory);
            return -EINVAL;
        }
        if (total != 0 && c->max_memory > total) {
            snprintf(err, errlen, "--max-memory %" PRIu64 " MiB: more than this machine's memory "
                     "(MemTotal %" PRIu64 " MiB)", c->max_memory >> 20, total >> 20);
            return -EINVAL;
        }
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
    /* Sampling modifiers without --sampling would silently do nothing. */
    if (c->sampling == 0 && (c->sampling_upscale || strcmp(c->sampling_mode, "count") != 0)) {
        snprintf(err, errlen, "%s: applies to --sampling N, and none is given",
                 c->sampling_upscale ? "--sampling-upscale" : "--sampling-mode");
        return -EINVAL;
    }
    /* NetFlow v5 announces N in 14 bits: a larger N would go out as another rate. */
    for (size_t i = 0; i < c->n_collectors && c->sampling > CFG_MAX_SAMPLING_V5; i++) {
        if (strncmp(c->collectors[i], "v5+", 3) == 0) {
            snprintf(err, errlen, "--sampling %" PRIu32 ": NetFlow v5 (%s) announces at most 1:%u",
                     c->sampling, c->collectors[i], CFG_MAX_SAMPLING_V5);
            return -EINVAL;
        }
    }
    /* Files are one stream in one clock: splitting them over threads would change the flows. */
    if (c->workers > 1 && c->n_ifaces == 0) {
        snprintf(err, errlen, "--workers %" PRIu32 ": several workers need -i INTERFACE (files "
                              "are read by one)", c->workers);
        return -EINVAL;
    }
    /* Export settings without a collector are a configuration mistake, not a no-op. */
    if (c->n_collectors == 0 && (c->ipfix_template != NULL || c->ntop_compat)) {
        snprintf(err, errlen, "%s: applies to export (-c URL), and no collector is given",
                 c->ipfix_template != NULL ? "--ipfix-template" : "--ntop-compat");
        return -EINVAL;
    }
    if (c->n_kafka_options > 0) {
        bool kafka = false;
        for (size_t i = 0; i < c->n_collectors; i++)
            kafka |= strncmp(c->collectors[i], "kafka://", 8) == 0;
        if (!kafka) {
            snprintf(err, errlen, "--kafka-option: applies to Kafka collectors (-c kafka://...), "
                                  "and none is given");
            return -EINVAL;
        }
    }
    size_t n_zmq = c->n_zmq_binds;
    for (size_t i = 0; i < c->n_collectors; i++)
        n_zmq += strncmp(c->collectors[i], "zmq+", 4) == 0;
    if (n_zmq == 0 && (c->zmq_encryption_key != NULL || c->zmq_ndpi_ids != NULL ||
                       c->zmq_rebase_time)) {
        snprintf(err, errlen, "%s: applies to ntopng export (-c zmq+tcp://HOST:PORT or "
                              "--zmq-bind), and none is given",
                 c->zmq_encryption_key != NULL ? "--zmq-encryption-key"
                 : c->zmq_ndpi_ids != NULL     ? "--zmq-ndpi-ids"
                                               : "--zmq-rebase-time");
        return -EINVAL;
    }
    if (c->zmq_source_id != NULL) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(c->zmq_source_id, &end, 10);
        if (errno != 0 || end == c->zmq_source_id || *end != '\0' || v > UINT32_MAX ||
            c->zmq_source_id[0] == '-') {
            snprintf(err, errlen, "--zmq-source-id %s: not a number from 0 to %" PRIu32,
                     c->zmq_source_id, UINT32_MAX);
            return -EINVAL;
        }
    }
    if (strcmp(c->collector_mode, "round-robin") == 0 && c->n_collectors < 2) {
        snprintf(err, errlen, "--collector-mode round-robin: needs at least two collectors "
                              "(%zu given)", c->n_collectors);
        return -EINVAL;
    }
    if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
        bool cert = c->tls_cert != NULL;
        snprintf(err, errlen, "%s: needs %s too (a client certificate and its key)",
                 cert ? "--tls-cert" : "--tls-key", cert ? "--tls-key" : "--tls-cert");
        return -EINVAL;
    }
    if (c->user != NULL) {
        /* Checked now so that a typo fails before captures open, not after. */
        errno = 0;
        struct passwd *pw = getpwnam(c->user);
        if (pw == NULL) {
            snprintf(err, errlen, "--user %s: %s", c->user,
                     errno != 0 && errno != ENOENT && errno != ESRCH ? strerror(errno)
                                                                    : "no such user");
            return -EINVAL;
        }
        if (pw->pw_uid == 0 || pw->pw_gid == 0) {
            snprintf(err, errlen, "--user %s: is uid or gid 0, which keeps root's privileges",
                     c->user);
            return -EINVAL;
        }
    }
    if (c->metrics != NULL) {
        char host[256], why[256];
        uint16_t port;
        if (prom_parse_addr(c->metrics, host, sizeof(host), &port, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "--metrics: %s", why);
            return -EINVAL;
        }
    }
    if (c->daemon) {
        /* A daemon's stdio is /dev/null and its directory "/": say so now, not lose output. */
        if (strcmp(c->log, "stderr") == 0) {
            snprintf(err, errlen, "--daemon: logging to stderr would be lost: set log = syslog");
            return -EINVAL;
        }
        if ((c->csv_path != NULL && strcmp(c->csv_path, "-") == 0) ||
            (c->json_path != NULL && strcmp(c->json_path, "-") == 0)) {
            snprintf(err, errlen, "--daemon: flows written to stdout ('-') would be lost");
            return -EINVAL;
        }
        if (c->pid_file != NULL && c->pid_file[0] != '/') {
            snprintf(err, errlen, "--pid-file %s: must be an absolute path with --daemon",
                     c->pid_file);
            return -EINVAL;
        }
    }
    return 0;
}

static bool
str_eq(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
opt_equal(const struct prb_config *a, const struct prb_config *b, const struct opt *o)
{
    switch (o->kind) {
    case K_NUM:
        return get_num(a, o) == get_num(b, o);
    case K_STR:
    case K_CHOICE:
        return str_eq(*(const char *const *)cfield(a, o), *(const char *const *)cfield(b, o));
    case K_LIST: {
        size_t na = *(const size_t *)((const char *)a + o->n_off);
        size_t nb = *(const size_t *)((const char *)b + o->n_off);
        const char *const *la = cfield(a, o), *const *lb = cfield(b, o);
        if (na != nb)
            return false;
        for (size_t i = 0; i < na; i++)
            if (!str_eq(la[i], lb[i]))
                return false;
        return true;
    }
    case K_FLAG:
        return *(const bool *)cfield(a, o) == *(const bool *)cfield(b, o);
    case K_LEVEL:
        return *(const uint8_t *)cfield(a, o) == *(const uint8_t *)cfield(b, o);
    case K_CLI:
        return true;
    }
    return false;
}

int
cfg_reload_check(const struct prb_config *running, const struct prb_config *next, char *err,
                 size_t errlen)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt *o = &opts[i];
        if (o->reload || (o->kind == K_FLAG && o->neg))
            continue;
        if (!opt_equal(running, next, o)) {
            snprintf(err, errlen, "--%s: changing it needs a restart", o->name);
            return -EINVAL;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ command line */

const struct option *
cfg_long_options(void)
{
    static struct option lo[N_OPTS + 1];

    if (lo[0].name == NULL)
        for (size_t i = 0; i < N_OPTS; i++)
            lo[i] = (struct option){opts[i].name,
                                    opts[i].arg != NULL ? required_argument : no_argument, NULL,
                                    opts[i].letter};
    return lo;
}

const char *
cfg_short_options(void)
{
    static char so[2 * N_OPTS + 1];

    if (so[0] == '\0') {
        size_t w = 0;
        for (size_t i = 0; i < N_OPTS; i++) {
            if (opts[i].letter == 0)
                continue;
            so[w++] = opts[i].letter;
            if (opts[i].arg != NULL)
                so[w++] = ':';
        }
        so[w] = '\0';
    }
    return so;
}

const char *
cfg_option_name(int letter_or_index, bool is_letter, bool *cli_only)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        if (is_letter ? opts[i].letter == letter_or_index : (int)i == letter_or_index) {
            if (cli_only != NULL)
                *cli_only = opts[i].kind == K_CLI;
            return opts[i].name;
        }
    }
    return NULL;
}

void
cfg_usage(FILE *out)
{
    fputs("usage: nfprobe -r FILE [-r FILE ...] [options]\n"
          "       nfprobe -i IFACE [-i IFACE ...] [options]\n",
          out);
    for (int s = 0; s < S_NSECT; s++) {
        fprintf(out, "\n%s:\n", sect_title[s]);
        for (size_t i = 0; i < N_OPTS; i++) {
            const struct opt *o = &opts[i];
            char head[64];
            if (o->sect != (enum opt_sect)s || o->help == NULL)
                continue;
            int n = snprintf(head, sizeof(head), "  %c%c%s--%s%s%s", o->letter ? '-' : ' ',
                             o->letter ? o->letter : ' ', o->letter ? ", " : "  ", o->name,
                             o->arg ? " " : "", o->arg ? o->arg : "");
            /* The text starts in column 30, or after one blank when the head is longer. */
            fprintf(out, "%s%*s", head, n < 29 ? 29 - n : 1, "");
            for (const char *h = o->help; *h != '\0'; h++) {
                fputc(*h, out);
                if (*h == '\n')
                    fprintf(out, "%29s", "");
            }
            fputc('\n', out);
        }
    }
}
