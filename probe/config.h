/*
 * config.h - nfprobe's configuration: one struct, one setter for every option.
 *
 * Command-line flags and configuration-file keys share their names ("idle-timeout",
 * "accounting-mode", ... NFStream's parameter names with dashes) and both go through one option
 * table, so a key means the same thing wherever it is written. The file syntax (STYLE.md §8):
 *
 *     # comment                          a '#' at the start of a value or after a blank, too
 *     idle-timeout = 2m                  durations: plain seconds, or s, m, h, d
 *     socket-buffer-size = 64MiB         sizes: plain bytes, or K/KiB, M/MiB, G/GiB (binary)
 *     collector = ipfix+udp://192.0.2.10:4739
 *     collector = v9+udp://192.0.2.11:2055   repeated keys build lists
 *     statistical-analysis = yes         flags: yes|no|true|false|on|off|1|0
 *     bpf-filter = "tcp port 443"        quotes keep blanks and '#'; escapes \" \\ \n \t \xHH
 *
 * Lists given on the command line replace the file's list of the same key; every other flag
 * overrides the file's value.
 */
#ifndef NFPROBE_CONFIG_H
#define NFPROBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_MAX_FILES 256
#define CFG_MAX_COLLECTORS 16
#define CFG_MAX_IFACES 16
#define CFG_MAX_PLUGINS 16
#define CFG_MAX_KAFKA_OPTIONS 64
#define CFG_MAX_VALUE 8000       /* longest string value, in a file or on the command line */
/* Longest configuration-file line, newline excluded: room for any value cfg_print() escapes. */
#define CFG_MAX_LINE 32768
#define CFG_MAX_FILE (1u << 20)  /* largest configuration file cfg_load_file() reads */
#define CFG_MAX_SAMPLING 1000000u /* --sampling: 1:N beyond this measures nothing (typo) */
#define CFG_MAX_SAMPLING_V5 16383u /* the NetFlow v5 header holds N in 14 bits */

struct cfg_text; /* configuration-file text the string values point into (config.c) */

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
    uint32_t input_ifindex;  /* -r input's ingressInterface (-i has IFACE@N) */
    /* metering (NFStream's parameters) */
    uint64_t idle_timeout;   /* seconds */
    uint64_t active_timeout; /* seconds */
    uint8_t accounting_mode;
    uint8_t n_dissections;
    bool statistical_analysis;
    uint16_t splt_analysis;
    uint64_t max_nflows;
    uint32_t max_flows;
    uint64_t max_memory;     /* bytes for the flow tables, 0 = auto (cfg_memory_budget()) */
    uint32_t sampling;        /* meter one packet in N (RFC 7014), 0 = no sampling */
    const char *sampling_mode; /* "count" (systematic) or "random" (n-out-of-N) */
    bool sampling_upscale;    /* exported packet/octet counters times N */
    /* DPI */
    const char *ndpi_protos;
    const char *ndpi_categories;
    /* output */
    const char *csv_path;
    const char *json_path;
    const char *anonymize;
    const char *anonymize_key;      /* file with the BLAKE2b key for --anonymize */
    /* export */
    const char *collectors[CFG_MAX_COLLECTORS]; /* -c ipfix+udp://HOST:PORT, v9+udp://... */
    size_t n_collectors;
    const char *collector_mode;     /* "all" or "round-robin" */
    uint32_t observation_domain;
    uint32_t pen;                   /* our private enterprise number */
    uint32_t mtu;                   /* largest UDP export message, octets */
    uint32_t template_refresh;      /* seconds */
    uint32_t template_refresh_packets; /* NetFlow v9: also every N export packets */
    uint32_t export_rate;           /* UDP messages/s per collector, 0 = unpaced */
    const char *ipfix_template;     /* template spec file choosing the exported fields */
    bool ntop_compat;               /* add ntop's PEN 35632 elements */
    bool uniflow;                   /* --uniflow: IPFIX/v9 records one per direction */
    /* enrichment of exported flows (enrich.h) */
    const char *networks_file;      /* pmacct networks_file: AS numbers, prefix lengths */
    const char *asn_database;       /* MaxMind ASN database (.mmdb) */
    bool route_lookup;              /* next hop, egress, prefix lengths from the FIB */
    const char *local_networks;     /* PREFIX[,PREFIX...] or a file: flowDirection */
    const char *tls_ca;
    const char *tls_cert;
    const char *tls_key;
    const char *kafka_options[CFG_MAX_KAFKA_OPTIONS]; /* librdkafka "property=value" */
    size_t n_kafka_options;
    /* ntopng over ZMQ (-c zmq+tcp://HOST:PORT connects; these bind) */
    const char *zmq_binds[CFG_MAX_COLLECTORS];
    size_t n_zmq_binds;
    const char *zmq_source_id;      /* header source id 0..2^32-1; NULL: the observation domain */
    uint32_t zmq_update_interval;   /* seconds between live updates of an active flow */
    uint32_t zmq_event_interval;    /* seconds between event messages */
    uint32_t zmq_hwm;               /* messages queued per endpoint at most */
    const char *zmq_encryption_key; /* ntopng's CURVE public key (Z85) */
    const char *zmq_ndpi_ids;       /* the receiver nDPI's id table (tools/mkndpi-ids.sh) */
    bool zmq_rebase_time;           /* shift capture times so the first packet is now */
    /* daemon */
    uint32_t workers;
    uint32_t stats_interval;        /* seconds, 0 = off */
    uint32_t drain_timeout;         /* live: seconds the exit waits for collectors (30); offline:
                                     * seconds without export progress before giving up */
    bool progress;                  /* offline progress line on stderr: forced on */
    bool no_progress;               /* ... forced off (default: on when stderr is a terminal) */
    const char *metrics;            /* Prometheus endpoint ADDR:PORT */
    const char *pid_file;
    const char *user;
    const char *log;                /* "stderr" or "syslog" */
    uint8_t log_level;              /* syslog level: LOG_ERR .. LOG_DEBUG (default LOG_INFO) */
    bool daemon;                    /* detach from the terminal (default: foreground) */
    bool seccomp;                   /* allow only the system calls needed after start-up */
    const char *plugins[CFG_MAX_PLUGINS];
    size_t n_plugins;
    bool verbose;

    /* Bookkeeping of cfg_parse_buf(), not options. */
    struct cfg_text *text;          /* owns the strings read from files: cfg_free() */
    uint32_t lists_from_file;       /* lists last filled by a file: the command line replaces */
};

/* Fills c with the defaults (NFStream's where NFStream has the parameter). */
void cfg_defaults(struct prb_config *c);

/*
 * Releases the configuration-file text the string values point into; c's string fields that
 * came from a file dangle afterwards. Takes a config with no file text (or NULL) too.
 */
void cfg_free(struct prb_config *c);

/*
 * Sets option `key` (a long option name without the dashes) to value. A flag takes NULL (turns
 * it on) or yes/no (so "--statistical-analysis=no" works if getopt declares the flag with an
 * optional argument). Values are kept by pointer: they must outlive c. Durations and sizes take
 * the units of the file syntax. Returns 0, or -EINVAL with a one-line message naming the option in
 * err. A list key replaces the list when the list came from a file, else appends to it.
 */
int cfg_set(struct prb_config *c, const char *key, const char *value, char *err, size_t errlen);

/*
 * Applies the settings in buf[0..len) (a configuration file's text, not NUL-terminated) on top
 * of *out, which cfg_defaults() initialised. Pure: no I/O, no global state; the text is copied
 * and owned by out (cfg_free()). name (e.g. the file's path) prefixes errors: "nfprobe.conf:12:
 * --idle-timeout: 'x' is not a number ...". Returns 0 or -EINVAL with err; after an error *out
 * holds the settings before the bad line and still needs cfg_free().
 */
int cfg_parse_buf(const char *buf, size_t len, const char *name, struct prb_config *out,
                  char *err, size_t errlen);

/* Reads the file at path (at most CFG_MAX_FILE bytes) and applies it with cfg_parse_buf(). */
int cfg_load_file(const char *path, struct prb_config *c, char *err, size_t errlen);

/*
 * Prints every option that is set (defaults included) in the file syntax, one key per line,
 * one line per list element, so that the output parsed again gives the same configuration.
 */
void cfg_print(FILE *out, const struct prb_config *c);

/*
 * Cross-option checks before anything is opened (input given and not mixed, --workers > 1
 * only with interfaces, export settings only with collectors, round-robin over two or more,
 * --user names an existing non-root account, TLS certificate and key together, the metrics
 * address, the daemon's needs). Returns 0 or -EINVAL with err.
 */
int cfg_validate(const struct prb_config *c, char *err, size_t errlen);

/*
 * The memory budget of the flow tables (flow slots, their extensions, nDPI states), shared by
 * all workers: --max-memory, or by default 1/4 of MemTotal capped at CFG_AUTO_MEMORY_MAX.
 * Writes how it was chosen into how ("--max-memory" or "auto: ...").
 */
#define CFG_AUTO_MEMORY_MAX (4ull << 30)
#define CFG_MIN_MEMORY (1ull << 20)
uint64_t cfg_memory_budget(const struct prb_config *c, char *how, size_t howlen);

/*
 * For a SIGHUP reload: 0 when every difference between the running configuration and the
 * next one is in a key that can change while running (timeouts, collectors and their TLS
 * files, collector-mode, template refresh, stats-interval, log-level, verbose); else -EINVAL
 * with err naming the first other key that changed ("--workers: changing it needs a restart").
 */
int cfg_reload_check(const struct prb_config *running, const struct prb_config *next, char *err,
                     size_t errlen);

/*
 * The command line, from the same option table: getopt_long(3)'s long options (every option
 * as --name; val is the short letter or 0) and short-option string. Static tables, built on
 * the first call.
 */
struct option;
const struct option *cfg_long_options(void);
const char *cfg_short_options(void);

/*
 * The name of short option letter ('r' -> "read") when is_letter, else of the table's row
 * letter_or_index (NULL past the end: iterate from 0). *cli_only (if not NULL) tells whether it
 * is a command-line-only option (config, check, help, version), not a configuration-file key.
 */
const char *cfg_option_name(int letter_or_index, bool is_letter, bool *cli_only);

/* Writes --help: every listed option, by section, from the table. */
void cfg_usage(FILE *out);

#endif
