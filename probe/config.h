/*
 * config.h - nfprobe's configuration: one struct, one setter for every option.
 *
 * Command-line flags and configuration-file keys share their names ("idle-timeout",
 * "accounting-mode", ... NFStream's parameter names with dashes) and both go through cfg_set(),
 * so a key means the same thing wherever it is written.
 */
#ifndef NFPROBE_CONFIG_H
#define NFPROBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_FILES 256
#define CFG_MAX_COLLECTORS 16
#define CFG_MAX_IFACES 16

struct prb_config {
    /* input */
    const char *files[CFG_MAX_FILES];
    size_t n_files;
    const char *ifaces[CFG_MAX_IFACES];
    size_t n_ifaces;
    const char *bpf_filter;
    bool decode_tunnels;
    uint32_t snapshot_length;
    bool promiscuous_mode;
    uint32_t socket_buffer_size;
    /* metering (NFStream's parameters) */
    uint64_t idle_timeout;   /* seconds */
    uint64_t active_timeout; /* seconds */
    uint8_t accounting_mode;
    uint8_t n_dissections;
    bool statistical_analysis;
    uint16_t splt_analysis;
    uint64_t max_nflows;
    uint32_t max_flows;
    /* DPI */
    const char *ndpi_protos;
    const char *ndpi_categories;
    /* output */
    const char *csv_path;
    const char *json_path;
    const char *anonymize;
    /* export */
    const char *collectors[CFG_MAX_COLLECTORS]; /* -c ipfix+udp://HOST:PORT, v9+udp://... */
    size_t n_collectors;
    const char *collector_mode;     /* "all" or "round-robin" */
    uint32_t observation_domain;
    uint32_t pen;                   /* our private enterprise number */
    uint32_t mtu;                   /* largest UDP export message, octets */
    uint32_t template_refresh;      /* seconds */
    uint32_t template_refresh_packets; /* NetFlow v9: also every N export packets */
    const char *ipfix_template;     /* template spec file choosing the exported fields */
    bool ntop_compat;               /* add ntop's PEN 35632 elements */
    const char *tls_ca;
    const char *tls_cert;
    const char *tls_key;
    /* daemon */
    uint32_t workers;
    uint32_t stats_interval;        /* seconds, 0 = off */
    const char *metrics;            /* Prometheus endpoint ADDR:PORT */
    const char *pid_file;
    const char *user;
    const char *log;                /* "stderr" or "syslog" */
    const char *plugins[16];
    size_t n_plugins;
    bool verbose;
};

/* Fills c with the defaults (NFStream's where NFStream has the parameter). */
void cfg_defaults(struct prb_config *c);

/*
 * Sets option `key` (a long option name without the dashes) to value (NULL for a flag without
 * argument). Values are kept by pointer: they must outlive c. Returns 0, or -EINVAL with a
 * one-line message naming the option in err.
 */
int cfg_set(struct prb_config *c, const char *key, const char *value, char *err, size_t errlen);

/* Cross-option checks before anything is opened. Returns 0 or -EINVAL with err. */
int cfg_validate(const struct prb_config *c, char *err, size_t errlen);

#endif
