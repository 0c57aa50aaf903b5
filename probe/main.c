/*
 * main.c - nfprobe: startup order, signals, the output/export loop, shutdown.
 * The only file that exits.
 *
 * Workers are threads: offline one reads the files and meters (its ring keeps NFStream's
 * order), live --workers per interface (PACKET_FANOUT). This thread is the output thread: one
 * event loop (evloop.h) drains the workers' rings, writes CSV/JSON, feeds the exporter and
 * runs everything timed (pacing, connects, refresh, statistics, progress) and the signals
 * (blocked in every thread, read as events: they never interrupt a read).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <syslog.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "evloop.h"
#include "decode.h"
#include "dpi.h"
#include "enrich.h"
#include "export.h"
#include "export_enc.h"
#include "export_ipfix.h"
#include "fields.h"
#include "ifspec.h"
#include "kafka.h"
#include "ndpi_ids.h"
#include "zmq.h"
#include "log.h"
#include "meter.h"
#include "metrics.h"
#include "stats.h"
#include "transport.h"
#include "output.h"
#include "plugin.h"
#include "worker.h"

#define NFPROBE_VERSION "0.1.0"
#define MAX_WORKERS 64

/* Exit codes, documented in the README and the man page. */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,       /* bad flag or configuration, or an input that cannot be opened */
    EXIT_INPUT_ERROR = 2, /* an input file was cut or corrupt: what was read was exported */
    EXIT_OUTPUT_ERROR = 3, /* writing the CSV/JSON output failed */
    EXIT_EXPORT_LOSS = 4   /* some flows could not be exported (counted, see the summary) */
};

struct app {
    struct prb_config cfg;
    struct worker *workers[MAX_WORKERS];
    size_t n_workers;
    struct out_writer *csv;
    struct out_writer *json;
    struct exporter *exp;
    /* plugin: loaded once before the workers; their udps.* columns */
    struct plg_set *plugins;
    struct out_extra extra[OUT_MAX_EXTRA];
    struct exp_extra xextra[EXP_MAX_EXTRA]; /* and their IPFIX / v9 elements */
    int out_error;
    uint64_t next_id;
    const char *config_file;
    int argc;
    char **argv;
    struct prom_server *metrics;
    struct st_hub *stats; /* counters, summary, /metrics text */
    struct kfk *kafka[CFG_MAX_COLLECTORS]; /* -c kafka://: one producer each, every flow */
    size_t n_kafka;
    /* ntopng over ZMQ: -c zmq+tcp:// collectors and --zmq-bind */
    struct zsink *zmq;
    struct nid_map *ndpi_ids;
    const char *zmq_connect[CFG_MAX_COLLECTORS];
    uint64_t next_zmq; /* monotonic ms of the sink's next tick */
    /* the output thread's loop and its state */
    struct ev_loop *loop;
    bool offline;
    unsigned stops;           /* SIGTERM/SIGINT received: 1 = drain, 2 = stop now */
    bool finishing;           /* every worker done: the exporter drains */
    uint64_t drain_deadline;  /* monotonic ms, 0 = none */
    uint64_t export_progress; /* offline: flows sent or lost so far, and when that last moved */
    uint64_t export_progress_ms;
    bool no_backpressure;     /* offline: stopped waiting for a collector that makes no progress */
    bool progress;            /* offline progress line on stderr */
    bool progress_shown;
    uint64_t progress_t0;
    uint64_t flows_out; /* flows the output thread took from the rings */
    struct enricher *enr; /* AS, prefixes, routes, direction of finished flows (enrich.h) */
};

/* What the output thread adds to finished flows (enrich.h). */
static struct enr_config
enrich_config(const struct prb_config *c)
{
    return (struct enr_config){.networks_file = c->networks_file,
                               .asn_database = c->asn_database,
                               .route_lookup = c->route_lookup,
                               .local_networks = c->local_networks};
}

/* Hands one finished flow to every sink. */
static void
sink_flow(struct app *a, const struct flow *f)
{
    int rc;

    if (a->csv != NULL && (rc = out_flow(a->csv, f)) != 0 && a->out_error == 0)
        a->out_error = rc;
    if (a->json != NULL && (rc = out_flow(a->json, f)) != 0 && a->out_error == 0)
        a->out_error = rc;
    if (a->exp != NULL)
        exp_flow(a->exp, f);
    for (size_t i = 0; i < a->n_kafka; i++)
        kfk_flow(a->kafka[i], f);
    if (a->zmq != NULL)
        zsink_flow(a->zmq, f);
}

static const char *
app_name(void *ctx, uint16_t id)
{
    return dpi_proto_name(ctx, id);
}

/* A worker published into an armed ring (worker thread): wake the output loop. */
static void
ring_doorbell(void *ctx)
{
    ev_wake(ctx);
}

/* --list-fields: the field catalogue with the IPFIX ids under --pen (given before it). */
static int
list_fields(uint32_t pen)
{
    const char *names[FLD_COUNT];
    uint32_t pens[FLD_COUNT];
    uint16_t ids[FLD_COUNT];

    for (size_t i = 0; i < FLD_COUNT; i++)
        names[i] = fld_defs[i].ipfix;
    bool ok = ipfix_element_ids(names, FLD_COUNT, pen, pens, ids) == 0;
    fld_list(stdout, ok ? pens : NULL, ok ? ids : NULL);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_OUTPUT_ERROR;
}

/*
 * Builds a configuration: defaults, then the -C file, then the command line (which overrides
 * the file). Returns 0, or an exit status after printing one line; *check is set by -n.
 */
static int
build_config(struct prb_config *c, int argc, char **argv, const char **config_file, bool *check,
             char *err, size_t errlen)
{
    const struct option *longopts = cfg_long_options();
    const char *shortopts = cfg_short_options();
    int opt, idx;

    cfg_defaults(c);
    *check = false;
    /* First pass: only -C, so that the file is applied before any other flag. */
    opterr = 0;
    optind = 0;
    while ((opt = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1)
        if (opt == 'C')
            *config_file = optarg;
    if (*config_file != NULL && cfg_load_file(*config_file, c, err, errlen) != 0)
        return EXIT_USAGE;
    optind = 0;
    while ((opt = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
        /* Every option is a row of config.c's table: its name is its configuration key. */
        bool cli_only = false;
        const char *key = opt == 0 ? longopts[idx].name
                          : opt != '?' && opt != ':' ? cfg_option_name(opt, true, &cli_only)
                                                     : NULL;
        if (opt == 0)
            cfg_option_name(idx, false, &cli_only);
        if (key == NULL) {
            /* One line naming the flag; getopt's own messages are off (opterr = 0). */
            if (optopt != 0 && optopt != '?')
                snprintf(err, errlen, "option -%c: unrecognized option or missing value "
                                      "(see nfprobe --help)", optopt);
            else
                snprintf(err, errlen, "unrecognized option or missing value '%s' (see "
                                      "nfprobe --help)", argv[optind - 1]);
            return EXIT_USAGE;
        }
        if (cli_only) {
            if (strcmp(key, "check") == 0) {
                *check = true;
            } else if (strcmp(key, "help") == 0) {
                cfg_usage(stdout);
                return EXIT_OK;
            } else if (strcmp(key, "version") == 0) {
                printf("nfprobe %s (nDPI %s)\n", NFPROBE_VERSION, dpi_version());
                return EXIT_OK;
            } else if (strcmp(key, "list-fields") == 0) {
                return list_fields(c->pen);
            }
            continue; /* config: read in the first pass */
        }
        if (cfg_set(c, key, optarg, err, errlen) != 0)
            return EXIT_USAGE;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    if (cfg_validate(c, err, errlen) != 0)
        return EXIT_USAGE;
    return -1;
}

/* A file given with -r can be opened for reading (a FIFO or "-" is checked when read). */
static int
check_readable(const char *flag, const char *path, char *err, size_t errlen)
{
    if (path == NULL || strcmp(path, "-") == 0)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s %s: %s", flag, path, strerror(errno));
        return -errno;
    }
    close(fd);
    return 0;
}

static bool zmq_config(const struct prb_config *c, const char **connect,
                       struct zsink_config *zc);

/*
 * -n: what can be checked without capturing or sending anything: input and side files
 * readable, the BPF filter compiled for each file's link type (Ethernet for interfaces, whose
 * type is known only once they open), every collector URL parsed, its name resolved and its TLS material loaded
 * (certificate and key must match), plugins loaded. Returns 0 or -errno with one line.
 */
static int
check_resources(const struct prb_config *c, char *err, size_t errlen)
{
    char why[256];
    int rc;

    for (size_t i = 0; i < c->n_files; i++)
        if ((rc = check_readable("-r", c->files[i], err, errlen)) != 0)
            return rc;
    if ((rc = check_readable("--ipfix-template", c->ipfix_template, err, errlen)) != 0 ||
        (rc = check_readable("--ndpi-protos", c->ndpi_protos, err, errlen)) != 0 ||
        (rc = check_readable("--ndpi-categories", c->ndpi_categories, err, errlen)) != 0 ||
        (rc = check_readable("--tls-ca", c->tls_ca, err, errlen)) != 0 ||
        (rc = check_readable("--tls-cert", c->tls_cert, err, errlen)) != 0 ||
        (rc = check_readable("--tls-key", c->tls_key, err, errlen)) != 0)
        return rc;
    if (c->ipfix_template != NULL &&
        (rc = ipfix_check_template(c->ipfix_template, err, errlen)) != 0)
        return rc;
    struct enr_config ec = enrich_config(c); /* networks file, ASN database, local networks */
    if (enr_groups(&ec) != 0) {
        struct enricher *e = enr_new(&ec, err, errlen);
        if (e == NULL)
            return -EINVAL;
        enr_free(e);
    }
    for (size_t i = 0; c->bpf_filter != NULL && i < (c->n_files > 0 ? c->n_files : 1); i++) {
        if (cap_check_filter(c->bpf_filter, c->n_files > 0 ? c->files[i] : NULL, why,
                             sizeof(why)) != 0) {
            snprintf(err, errlen, "--bpf-filter '%.200s': %s", c->bpf_filter, why);
            return -EINVAL;
        }
    }
    for (size_t i = 0; i < c->n_collectors; i++) {
        char scheme[16], transport[16], host[256], port[16];
        if (strncmp(c->collectors[i], ZSINK_SCHEME, strlen(ZSINK_SCHEME)) == 0)
            continue; /* zsink_check() below */
        if (kfk_is_url(c->collectors[i])) {
            struct kfk_config kc = {.url = c->collectors[i],
                                    .options = c->kafka_options,
                                    .n_options = c->n_kafka_options};
            if ((rc = kfk_check(&kc, err, errlen)) != 0)
                return rc;
            continue;
        }
        if (exp_parse_collector(c->collectors[i], scheme, sizeof(scheme), transport,
                                sizeof(transport), host, sizeof(host), port, sizeof(port), why,
                                sizeof(why)) != 0) {
            snprintf(err, errlen, "-c: %s", why);
            return -EINVAL;
        }
        struct tx_config tc = {
            .proto = strcmp(transport, "tls") == 0   ? TX_TLS
                     : strcmp(transport, "tcp") == 0 ? TX_TCP
                                                     : TX_UDP,
            .host = host,
            .port = port,
            .tls_ca = c->tls_ca,
            .tls_cert = c->tls_cert,
            .tls_key = c->tls_key,
            .queue_bytes = 4096,
        };
        struct tx_peer *p = tx_open(&tc, why, sizeof(why)); /* TCP/TLS: no connect yet */
        if (p == NULL) {
            snprintf(err, errlen, "-c: %s", why);
            return -EINVAL;
        }
        tx_close(p, 0, NULL);
    }
    const char *zconnect[CFG_MAX_COLLECTORS];
    struct zsink_config zc;
    if (zmq_config(c, zconnect, &zc) && (rc = zsink_check(&zc, err, errlen)) != 0)
        return rc;
    if (c->n_plugins > 0) {
        struct plg_set *ps = plg_load(c->plugins, c->n_plugins, why, sizeof(why));
        if (ps == NULL) {
            snprintf(err, errlen, "%s", why); /* names --plugin and the file */
            return -EINVAL;
        }
        plg_free(ps);
    }
    return 0;
}

/*
 * Sizes each worker's flow table from the memory budget (--max-memory, or the automatic one),
 * split evenly between the tables: a flow's slot, statistics, SPLT arrays, DPI and plugin state
 * and its nDPI flow state all count. plugins NULL: their state is not counted (nfprobe -n).
 */
static int
plan_tables(const struct prb_config *c, const struct plg_set *plugins, struct mtr_sizing *sz,
            size_t *n_tables, uint64_t *budget_out, char *how, size_t howlen, char *err,
            size_t errlen)
{
    uint64_t budget = *budget_out = cfg_memory_budget(c, how, howlen);
    size_t ext[2], n_ext = 0, extra = 0;
    struct enr_config ec = enrich_config(c);
    struct mtr_config mc = {.statistics = c->statistical_analysis,
                            .splt_n = c->splt_analysis,
                            .max_flows = c->max_flows,
                            .enrich = enr_groups(&ec)};

    *n_tables = c->n_files > 0 ? 1 : c->n_ifaces * c->workers;
    if (*n_tables == 0)
        *n_tables = 1;
    if (c->n_dissections > 0)
        extra = dpi_flow_memory(&ext[n_ext++]);
    if (plugins != NULL && plg_count(plugins) > 0)
        ext[n_ext++] = plg_flow_bytes(plugins);
    if (mtr_size(&mc, ext, n_ext, extra, budget / *n_tables, sz) != 0) {
        snprintf(err, errlen,
                 "--max-memory %" PRIu64 " KiB (%s): holds %" PRIu32 " flows of %zu bytes per "
                 "table (%zu tables), fewer than %d: raise --max-memory or lower "
                 "--splt-analysis",
                 budget >> 10, how, sz->fit, sz->per_flow, *n_tables, MTR_MIN_FLOWS);
        return -1;
    }
    return 0;
}

/* One line on the sizing: -n prints it, the start logs it. */
static void
describe_tables(char *buf, size_t len, const struct prb_config *c, const struct mtr_sizing *sz,
                size_t n_tables, uint64_t budget, const char *how)
{
    snprintf(buf, len,
             "flow tables: %zu x %" PRIu32 " flows of %zu bytes (slot %zu) = %" PRIu64
             " KiB of the --max-memory budget %" PRIu64 " KiB (%s); %s",
             n_tables, sz->max_flows, sz->per_flow, sz->slot_size, sz->bytes * n_tables >> 10,
             budget >> 10, how,
             sz->max_flows < c->max_flows
                 ? "the budget wins over --max-flows: it is the host's limit"
                 : "--max-flows wins: it is smaller than what the budget holds");
}

/*
 * The router fields (struct flow_router) serve exports only: a run that reads files and writes
 * CSV, JSON or Kafka's JSON goes without them. Live, SIGHUP may add collectors: flows always
 * have them.
 */
static bool
needs_router_fields(const struct prb_config *c)
{
    if (c->n_files == 0 || c->n_zmq_binds > 0)
        return true;
    for (size_t i = 0; i < c->n_collectors; i++)
        if (!kfk_is_url(c->collectors[i]) || kfk_url_ipfix(c->collectors[i]))
            return true;
    return false;
}

/* Creates the workers: one offline, or --workers per interface live. */
static int
open_workers(struct app *a, uint64_t seed, char *err, size_t errlen)
{
    const struct prb_config *c = &a->cfg;
    struct mtr_sizing sz;
    size_t n_tables;
    uint64_t budget;
    char how[160], line[512];

    if (plan_tables(c, a->plugins, &sz, &n_tables, &budget, how, sizeof(how), err, errlen) != 0)
        return -1;
    describe_tables(line, sizeof(line), c, &sz, n_tables, budget, how);
    /* An explicit --max-flows cut down by the budget is worth a warning; the default is not. */
    log_msg(sz.max_flows < c->max_flows && c->max_flows != (1u << 20) ? LOG_WARNING : LOG_DEBUG,
            "%s", line);
    struct wrk_config wc = {
        .bpf = c->bpf_filter,
        .decode_tunnels = c->decode_tunnels,
        .mc = {
            .idle_ms = c->idle_timeout * 1000,
            .active_ms = c->active_timeout * 1000,
            .accounting_mode = c->accounting_mode,
            .statistics = c->statistical_analysis,
            .splt_n = c->splt_analysis,
            .max_flows = sz.max_flows,
            .max_nflows = c->max_nflows,
            .seed = seed,
        },
        .n_dissections = c->n_dissections,
        .ndpi_protos = c->ndpi_protos,
        .ndpi_categories = c->ndpi_categories,
        /* As many detection states as flows: the pool can never run dry (NFStream keeps
         * one per flow); only those in use at once take memory. */
        .dpi_max_concurrent = sz.max_flows,
        .plugins = a->plugins, /* plugin */
        .smp_mode = (enum smp_mode)smp_mode_parse(c->sampling_mode),
        .smp_interval = c->sampling,
        .smp_seed = seed ^ 0x5851f42d4c957f2dull, /* not the flow hash's seed */
    };

    struct enr_config ec = enrich_config(c);
    wc.mc.enrich = enr_groups(&ec);
    wc.mc.router = needs_router_fields(c);

    if (a->zmq != NULL) { /* the ntopng sink's per-flow state; live updates via the ring */
        wc.sink_ext = zsink_meter_ext(a->zmq);
        wc.sink_due = zsink_due;
        wc.sink_reported = zsink_reported;
    }
    if (c->n_files > 0) {
        wc.files = c->files;
        wc.n_files = c->n_files;
        wc.mc.ifindex = c->input_ifindex;
        /* One worker: its ring keeps the meter's (NFStream's) order and ids. A file waits
         * for the output thread (no packet is lost), so the ring only has to let both run in
         * batches (a quarter of it per wake-up, ring.h); a live ring absorbs bursts. */
        wc.ring_slots = 4096;
        wc.doorbell = ring_doorbell;
        wc.doorbell_ctx = a->loop;
        a->workers[0] = wrk_new(&wc, err, errlen);
        a->n_workers = a->workers[0] != NULL;
        return a->workers[0] != NULL ? 0 : -1;
    }
    if (c->n_ifaces * c->workers > MAX_WORKERS) {
        snprintf(err, errlen, "--workers: at most %d capture threads in all", MAX_WORKERS);
        return -1;
    }
    wc.mc.expiry = MTR_EXPIRY_TIMELY;
    wc.mc.max_nflows = 0; /* counted by this thread across workers */
    wc.ring_slots = 16384;
    wc.doorbell = ring_doorbell;
    wc.doorbell_ctx = a->loop;
    for (size_t i = 0; i < c->n_ifaces; i++) {
        /* -i IFACE[@IFINDEX]: the name to open, the ifIndex its flows are exported with. A
         * missing interface keeps ifIndex 0 here: libpcap says why it cannot open it. */
        struct ifs_spec spec;
        int rc = ifs_parse(c->ifaces[i], &spec, err, errlen);
        if (rc != 0 && rc != -ENODEV)
            return -1;
        wc.mc.ifindex = spec.ifindex;
        for (uint32_t k = 0; k < c->workers; k++) {
            wc.id = (unsigned)a->n_workers;
            wc.smp_seed += 0x9e3779b97f4a7c15ull; /* each worker its own random positions */
            wc.live = (struct cap_live_config){
                .iface = spec.name,
                .snaplen = c->snapshot_length,
                .promisc = c->promiscuous_mode,
                .buffer_size = c->socket_buffer_size,
                .timeout_ms = 100,
                .bpf = c->bpf_filter,
                /* one fanout group per interface, unique to this process */
                .fanout_group = c->workers > 1 ? (uint16_t)((getpid() + i) & 0xffff) : 0,
            };
            if (wc.live.fanout_group == 0 && c->workers > 1)
                wc.live.fanout_group = 1;
            struct worker *w = wrk_new(&wc, err, errlen);
            if (w == NULL)
                return -1;
            a->workers[a->n_workers++] = w;
        }
    }
    return 0;
}

/* Collectors the IPFIX/v9 exporter serves: all but kafka:// (kafka.c). */
static size_t
n_export_collectors(const struct prb_config *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_collectors; i++)
        n += !kfk_is_url(c->collectors[i]) &&
             strncmp(c->collectors[i], ZSINK_SCHEME, strlen(ZSINK_SCHEME)) != 0;
    return n;
}

/* kafka: true when both configurations have the same kafka:// collectors, in order. */
static bool
same_kafka(const struct prb_config *x, const struct prb_config *y)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < x->n_collectors && !kfk_is_url(x->collectors[i]))
            i++;
        while (j < y->n_collectors && !kfk_is_url(y->collectors[j]))
            j++;
        if (i == x->n_collectors || j == y->n_collectors)
            return i == x->n_collectors && j == y->n_collectors;
        if (strcmp(x->collectors[i++], y->collectors[j++]) != 0)
            return false;
    }
}

static struct exporter *open_exporter(struct app *a, char *err, size_t errlen);

/*
 * SIGHUP: re-reads the configuration (file and command line as at start) and applies what can
 * change safely: timeouts, collectors and TLS files, statistics interval, log level. Anything
 * else is refused with a message, and the running configuration stays.
 */
static void
reload(struct app *a)
{
    struct prb_config next;
    const char *file = NULL;
    bool check;
    char err[512];

    /* Nothing changes until everything new is in hand: a failure leaves the running state. */
    if (build_config(&next, a->argc, a->argv, &file, &check, err, sizeof(err)) >= 0 ||
        cfg_reload_check(&a->cfg, &next, err, sizeof(err)) != 0) {
        log_msg(LOG_WARNING, "SIGHUP: not reloaded: %s", err);
        cfg_free(&next);
        return;
    }
    struct prb_config old = a->cfg;
    struct exporter *x = NULL;
    if (!wrk_layout(a->workers[0])->router && n_export_collectors(&next) > 0) {
        /* Its flows have no router fields (needs_router_fields()): no octets to export. */
        log_msg(LOG_WARNING, "SIGHUP: not reloaded: a run reading files that started without "
                             "collectors gets them only on a restart");
        cfg_free(&next);
        return;
    }
    bool new_exp = n_export_collectors(&old) > 0 || n_export_collectors(&next) > 0;
    if (!same_kafka(&old, &next))
        log_msg(LOG_WARNING, "SIGHUP: Kafka collectors change only on a restart: the running "
                             "ones stay");
    /* ntopng: the endpoints are checked now, opened after the exporter (zsink_reload()). */
    const char *zconnect[CFG_MAX_COLLECTORS];
    struct zsink_config zc;
    bool zmq_next = zmq_config(&next, zconnect, &zc);
    if (a->zmq == NULL && zmq_next)
        log_msg(LOG_WARNING, "SIGHUP: ZMQ export (ntopng) starts only on a restart: not started");
    if (a->zmq != NULL && zsink_check(&zc, err, sizeof(err)) != 0) {
        log_msg(LOG_WARNING, "SIGHUP: not reloaded: %s", err);
        cfg_free(&next);
        return;
    }
    if (new_exp) {
        /* The new collectors and TLS material, opened while the old ones still run. */
        a->cfg = next; /* open_exporter() reads a->cfg; restored below on failure */
        x = open_exporter(a, err, sizeof(err));
        a->cfg = old;
        if (x == NULL && n_export_collectors(&next) > 0) {
            log_msg(LOG_ERR, "SIGHUP: not reloaded: %s; keeping the previous collectors", err);
            cfg_free(&next);
            return;
        }
    }
    /* New ZMQ endpoints open, unchanged ones stay, the others close; on failure, none. */
    if (a->zmq != NULL && zsink_reload(a->zmq, &zc, err, sizeof(err)) != 0) {
        log_msg(LOG_ERR, "SIGHUP: not reloaded: %s; keeping the previous collectors", err);
        exp_free(x);
        cfg_free(&next);
        return;
    }
    /* Commit: log level, timeouts, exporter (the old sessions close cleanly), configuration. */
    log_set_level(next.verbose ? LOG_DEBUG : next.log_level);
    for (size_t i = 0; i < a->n_workers; i++)
        wrk_set_timeouts(a->workers[i], next.idle_timeout * 1000, next.active_timeout * 1000);
    if (new_exp) {
        if (a->exp != NULL) {
            exp_close(a->exp, NULL, 5000);
            exp_summary(a->exp, stderr);
            exp_free(a->exp);
        }
        a->exp = x;
        /* The metrics thread reads the hub's copies only: it never sees a freed name. */
        st_publish_export(a->stats, a->exp);
        if (a->exp != NULL)
            exp_watch(a->exp, a->loop);
    }
    a->cfg = next;
    cfg_free(&old);
    log_msg(LOG_NOTICE, "SIGHUP: configuration reloaded");
}

/* What the ntopng events report about the probe. */
static void
zmq_probe_stats(const struct wrk_stats *t, struct zsink_probe_stats *zp)
{
    zp->packets = t->mtr.packets;
    zp->bytes = t->cap.bytes;
    zp->drops = t->cap.kernel_drops + t->cap.if_drops;
    zp->flows = t->mtr.flows_idle + t->mtr.flows_active + t->mtr.flows_flushed +
                t->mtr.flows_evicted + t->mtr.flows_custom;
}

/* The first input's ifIndex (-i IFACE[@N], or --input-ifindex for files), 0 = unknown. */
static uint32_t
first_ifindex(const struct prb_config *c)
{
    struct ifs_spec spec;
    char err[160];

    if (c->n_ifaces == 0)
        return c->input_ifindex;
    return ifs_parse(c->ifaces[0], &spec, err, sizeof(err)) == 0 ? spec.ifindex : 0;
}

/* The ntopng sink's configuration from c (connect[] holds the zmq+ URLs' endpoints); false
 * when c has no ZMQ endpoint. */
static bool
zmq_config(const struct prb_config *c, const char **connect, struct zsink_config *zc)
{
    size_t n_connect = 0;
    for (size_t i = 0; i < c->n_collectors; i++)
        if (strncmp(c->collectors[i], ZSINK_SCHEME, strlen(ZSINK_SCHEME)) == 0)
            connect[n_connect++] = c->collectors[i] + strlen(ZSINK_SCHEME);
    *zc = (struct zsink_config){
        .connect = connect,
        .n_connect = n_connect,
        .bind = c->zmq_binds,
        .n_bind = c->n_zmq_binds,
        /* checked by cfg_validate() */
        .source_id = c->zmq_source_id != NULL ? (uint32_t)strtoul(c->zmq_source_id, NULL, 10)
                                              : c->observation_domain,
        .server_key = c->zmq_encryption_key,
        .update_s = c->zmq_update_interval,
        .event_s = c->zmq_event_interval,
        .hwm = c->zmq_hwm,
        .rebase_time = c->zmq_rebase_time,
        .ifindex = first_ifindex(c),
        .iface = c->n_ifaces > 0 ? c->ifaces[0] : c->n_files > 0 ? c->files[0] : "",
        .idle_s = c->idle_timeout,
        .active_s = c->active_timeout,
        .offline = c->n_files > 0,
        .version = NFPROBE_VERSION,
    };
    return n_connect > 0 || c->n_zmq_binds > 0;
}

/* Builds the ntopng sink before the workers (they carry its per-flow extension); its sockets
 * open after the capability drop (zsink_start()). */
static int
open_zmq(struct app *a, char *err, size_t errlen)
{
    struct zsink_config zc;
    if (!zmq_config(&a->cfg, a->zmq_connect, &zc))
        return 0;
    a->zmq = zsink_new(&zc, err, errlen);
    return a->zmq != NULL ? 0 : -1;
}

/* Once the workers exist: the flows' layout, and the receiver's nDPI ids. */
static int
bind_zmq(struct app *a, char *err, size_t errlen)
{
    struct worker *w0 = a->workers[0];
    if (a->cfg.zmq_ndpi_ids != NULL && wrk_dpi(w0) != NULL) {
        char e[400];
        a->ndpi_ids = nid_load(a->cfg.zmq_ndpi_ids, app_name, wrk_dpi(w0),
                               dpi_num_protocols(wrk_dpi(w0)), e, sizeof(e));
        if (a->ndpi_ids == NULL) {
            snprintf(err, errlen, "--zmq-ndpi-ids %s", e);
            return -1;
        }
        log_msg(LOG_INFO, "zmq: nDPI ids: %zu translated to other numbers, %zu the receiver "
                          "lacks (sent without L7_PROTO)", nid_n_moved(a->ndpi_ids),
                nid_n_missing(a->ndpi_ids));
    }
    zsink_bind(a->zmq, wrk_layout(w0), wrk_sink_ext_offset(w0), a->ndpi_ids);
    return 0;
}

/* /metrics: the Kafka producers' counters (kfk_stats() reads atomics: safe on that thread). */
static void
render_kafka(void *ctx, struct prom_buf *b)
{
    const struct app *a = ctx;
    static const char *const outcome[] = {"delivered", "failed", "dropped"};
    struct kfk_stats ks[CFG_MAX_COLLECTORS];
    char lab[512];

    for (size_t i = 0; i < a->n_kafka; i++)
        kfk_stats(a->kafka[i], &ks[i]);
    /* One family after the other: promtool wants each HELP once. */
    for (size_t o = 0; o < 3; o++) {
        for (size_t i = 0; i < a->n_kafka; i++) {
            const uint64_t v[] = {ks[i].delivered, ks[i].failed, ks[i].dropped};
            lab[0] = '\0';
            prom_label(lab, sizeof(lab), "collector", kfk_name(a->kafka[i]));
            prom_label(lab, sizeof(lab), "status", outcome[o]);
            prom_counter(b, "nfprobe_kafka_messages_total",
                         "Flows given to Kafka, by outcome (dropped: local queue full).", lab, v[o]);
        }
    }
    for (size_t i = 0; i < a->n_kafka; i++) {
        lab[0] = '\0';
        prom_label(lab, sizeof(lab), "collector", kfk_name(a->kafka[i]));
        prom_counter(b, "nfprobe_kafka_retries_total", "Produce requests sent again.", lab,
                     ks[i].retried);
    }
    for (size_t i = 0; i < a->n_kafka; i++) {
        lab[0] = '\0';
        prom_label(lab, sizeof(lab), "collector", kfk_name(a->kafka[i]));
        prom_gauge(b, "nfprobe_kafka_queued_messages", "Flows awaiting their delivery report.",
                   lab, (double)ks[i].queued);
    }
}

/* /metrics: the ntopng endpoints' counters (zsink_stats() locks: safe on that thread). */
static void
render_zmq(void *ctx, struct prom_buf *b)
{
    struct zsink *z = ((const struct app *)ctx)->zmq;
    size_t n = zsink_n_endpoints(z); /* a reload may change it meanwhile: stats say "" then */
    struct zsink_stats zs[CFG_MAX_COLLECTORS * 2];
    char lab[512];

    if (n > sizeof(zs) / sizeof(zs[0]))
        n = sizeof(zs) / sizeof(zs[0]);
    for (size_t i = 0; i < n; i++)
        zsink_stats(z, i, &zs[i]);
    static const struct {
        const char *name, *help;
        size_t off;
    } fam[] = {
        {"nfprobe_zmq_messages_total", "ZMQ messages queued for ntopng.",
         offsetof(struct zsink_stats, messages)},
        {"nfprobe_zmq_dropped_messages_total", "ZMQ messages dropped: the endpoint's queue was "
         "full (--zmq-hwm).", offsetof(struct zsink_stats, dropped)},
        {"nfprobe_zmq_unsubscribed_messages_total", "ZMQ messages sent while no ntopng "
         "subscribed (lost).", offsetof(struct zsink_stats, no_subscriber)},
        {"nfprobe_zmq_flow_records_total", "Flow records sent to ntopng (updates included).",
         offsetof(struct zsink_stats, flows)},
    };
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        for (size_t i = 0; i < n; i++) {
            uint64_t v;
            memcpy(&v, (const char *)&zs[i] + fam[f].off, sizeof(v));
            lab[0] = '\0';
            prom_label(lab, sizeof(lab), "endpoint", zs[i].endpoint);
            prom_counter(b, fam[f].name, fam[f].help, lab, v);
        }
    }
}

static struct exporter *
open_exporter(struct app *a, char *err, size_t errlen)
{
    struct worker *w0 = a->workers[0];
    const char *urls[CFG_MAX_COLLECTORS]; /* kafka:// URLs go to kafka.c, not the exporter */
    size_t n_urls = 0;
    for (size_t i = 0; i < a->cfg.n_collectors; i++)
        if (!kfk_is_url(a->cfg.collectors[i]) &&
            strncmp(a->cfg.collectors[i], ZSINK_SCHEME, strlen(ZSINK_SCHEME)) != 0)
            urls[n_urls++] = a->cfg.collectors[i];
    struct exp_config ec = {
            .collectors = urls,
            .n_collectors = n_urls,
            .collector_mode = a->cfg.collector_mode,
            .observation_domain = a->cfg.observation_domain,
            .uniflow = a->cfg.uniflow,
            .pen = a->cfg.pen,
            .mtu = a->cfg.mtu,
            .template_refresh_s = a->cfg.template_refresh,
            .template_refresh_packets = a->cfg.template_refresh_packets,
            .udp_rate = a->cfg.export_rate ? a->cfg.export_rate : EXP_UDP_UNPACED,
            .template_file = a->cfg.ipfix_template,
            .ntop_compat = a->cfg.ntop_compat,
            .tls_ca = a->cfg.tls_ca,
            .tls_cert = a->cfg.tls_cert,
            .tls_key = a->cfg.tls_key,
            .layout = *wrk_layout(w0),
            .app_name = wrk_dpi(w0) != NULL ? app_name : NULL,
            .app_ctx = wrk_dpi(w0),
            .n_apps = wrk_dpi(w0) != NULL ? dpi_num_protocols(wrk_dpi(w0)) : 0,
            .flow_size = wrk_flow_size(w0),
            .offline = a->cfg.n_files > 0,
            .extras = a->xextra, /* plugin */
            .n_extras = a->plugins != NULL ? plg_exp_extras(a->plugins, a->xextra, EXP_MAX_EXTRA)
                                           : 0,
        };
    smp_announce_init(&ec.sampling, (enum smp_mode)smp_mode_parse(a->cfg.sampling_mode),
                      a->cfg.sampling, a->cfg.sampling_upscale);
    return exp_new(&ec, err, errlen);
}

/* The telemetry hub over the workers, each labelled with its interface (live). */
static int
open_stats(struct app *a)
{
    const char *label[MAX_WORKERS];
    struct st_build b = {NFPROBE_VERSION, dpi_version(), cap_lib_version()};

    for (size_t i = 0; i < a->n_workers; i++)
        label[i] = a->cfg.n_ifaces > 0 ? a->cfg.ifaces[i / a->cfg.workers] : NULL;
    if ((a->stats = st_new(a->workers, a->n_workers, label, &b)) == NULL)
        return -1;
    st_publish_export(a->stats, a->exp);
    return 0;
}

/* ------------------------------------------------------------------ the output loop */

#define OUT_BATCH 4096     /* flows taken from the rings before the loop looks at its events */
#define OUT_TICK_MS 100    /* export counters for the options records and /metrics, progress */

enum drain_result { DR_EMPTY, DR_MORE, DR_BLOCKED };

/* Moves finished flows from the workers' rings to the sinks, at most OUT_BATCH. Reading files,
 * stops while the exporter is backlogged: the worker then waits on its full ring, and no flow
 * of a file is dropped. */
static enum drain_result
drain_rings(struct app *a)
{
    size_t n = 0;

    for (size_t i = 0; i < a->n_workers; i++) {
        struct worker *w = a->workers[i];
        struct flow *f;
        while ((f = wrk_peek(w)) != NULL) {
            if (a->offline && a->exp != NULL && !a->no_backpressure && exp_backlogged(a->exp))
                return DR_BLOCKED;
            if (a->enr != NULL) /* AS, prefixes, route: the output thread's work */
                enr_flow(a->enr, wrk_layout(w), f);
            if (wrk_is_update(f)) {
                /* a live update for ntopng (worker.h): no id, no other sink */
                zsink_flow(a->zmq, f);
            } else if (a->offline) {
                sink_flow(a, f); /* the meter's ids, NFStream's order */
            } else {
                f->id = a->next_id++;
                if (a->cfg.max_nflows == 0 || f->id < a->cfg.max_nflows)
                    sink_flow(a, f);
            }
            a->flows_out += !wrk_is_update(f);
            wrk_release(w);
            if (++n >= OUT_BATCH)
                return DR_MORE;
        }
    }
    return DR_EMPTY;
}

static void
stop_workers(struct app *a)
{
    for (size_t i = 0; i < a->n_workers; i++)
        wrk_stop(a->workers[i]);
}

static int64_t
on_deadline(struct ev_loop *l, uint64_t id, void *ctx)
{
    (void)l;
    (void)id;
    (void)ctx;
    return EV_TIMER_END; /* only wakes the loop: before_sleep() sees the time */
}

static void
set_drain_deadline(struct app *a, uint64_t ms_from_now)
{
    uint64_t when = clk_mono_ms() + ms_from_now;

    if (a->drain_deadline == 0 || when < a->drain_deadline) {
        a->drain_deadline = when;
        ev_add_timer(a->loop, ms_from_now, on_deadline, a);
    }
}

static void
current_process_stats(struct app *a, struct exp_process_stats *ps)
{
    struct wrk_stats t;

    st_sum(a->stats, &t);
    st_process(&t, ps);
}

/* Erases the progress line before anything else is written to stderr. */
static void
clear_progress(struct app *a)
{
    if (a->progress_shown) {
        fputs("\r\033[K", stderr);
        a->progress_shown = false;
    }
}

static void
show_progress(struct app *a)
{
    struct wrk_stats t; /* offline: the one worker */
    wrk_stats(a->workers[0], &t);
    const struct cap_stats *c = &t.cap;
    uint64_t now = clk_mono_ms();
    double secs = (double)(now - a->progress_t0) / 1000.0;
    size_t fi = c->file_index < a->cfg.n_files ? c->file_index : a->cfg.n_files - 1;
    const char *file = strrchr(a->cfg.files[fi], '/');
    char pct[16] = "", eta[32] = "";

    file = file != NULL ? file + 1 : a->cfg.files[fi];
    if (c->file_bytes_total > 0) {
        double frac = (double)c->file_bytes_read / (double)c->file_bytes_total;
        if (frac > 1.0)
            frac = 1.0;
        snprintf(pct, sizeof(pct), " %5.1f%%", frac * 100.0);
        if (frac > 0.0 && secs > 0.5) {
            unsigned left = (unsigned)(secs / frac - secs + 0.5);
            snprintf(eta, sizeof(eta), ", ETA %u:%02u", left / 60, left % 60);
        }
    }
    fprintf(stderr,
            "\r\033[Knfprobe: %s%s, %.0f packets/s, %" PRIu64 " flows active, %" PRIu64
            " exported%s",
            file, pct, secs > 0 ? (double)c->packets / secs : 0.0, t.mtr.flows_active_now,
            a->flows_out, eta);
    fflush(stderr);
    a->progress_shown = true;
}

static void
print_stats(struct app *a)
{
    struct wrk_stats t;

    clear_progress(a);
    st_sum(a->stats, &t);
    st_summary(stderr, &t);
    if (a->enr != NULL)
        enr_summary(a->enr, stderr);
    if (a->exp != NULL)
        exp_summary(a->exp, stderr);
}

/* Every OUT_TICK_MS: counters for the options records and /metrics; offline, the watch on a
 * collector that makes no progress, and the progress line. */
static int64_t
on_tick(struct ev_loop *l, uint64_t id, void *ctx)
{
    struct app *a = ctx;
    uint64_t now = clk_mono_ms();
    struct wrk_stats t;

    (void)l;
    (void)id;
    st_sum(a->stats, &t);
    /* The service watchdog (WatchdogSec): a loop that turns pings it. */
    dmn_watchdog();
    for (size_t i = 0; i < a->n_kafka; i++) /* delivery reports (KFK_POLL_INTERVAL_MS) */
        kfk_poll(a->kafka[i]);
    if (a->enr != NULL) /* a SIGHUP reload of the AS table that finished */
        enr_poll(a->enr);
    if (a->zmq != NULL && now >= a->next_zmq) { /* live updates, events */
        struct zsink_probe_stats zp;
        zmq_probe_stats(&t, &zp);
        zsink_tick(a->zmq, now, &zp);
        a->next_zmq = now + zsink_tick_ms(a->zmq);
    }
    if (a->exp != NULL) {
        struct exp_process_stats ps;
        struct exp_stats es;
        st_process(&t, &ps);
        exp_poll(a->exp, now, &ps);
        exp_rearm(a->exp);
        st_publish_export(a->stats, a->exp);
        exp_stats(a->exp, SIZE_MAX, &es);
        uint64_t moved = es.flows_sent + es.not_sent_flows;
        if (moved != a->export_progress || es.queued == 0) {
            a->export_progress = moved;
            a->export_progress_ms = now;
        } else if (a->offline && !a->no_backpressure &&
                   now - a->export_progress_ms >= (uint64_t)a->cfg.drain_timeout * 1000u) {
            /* Waiting for a collector is worth it while it takes flows; one that took none
             * for --drain-timeout is not coming back in time: let its queue drop (counted). */
            clear_progress(a);
            log_msg(LOG_WARNING, "export: no flow sent for %u s (--drain-timeout): no longer "
                                 "waiting for the collectors", a->cfg.drain_timeout);
            a->no_backpressure = true;
            if (a->finishing)
                set_drain_deadline(a, 0);
        }
    }
    if (a->progress && !a->finishing)
        show_progress(a);
    if (a->stops > 0 && !a->finishing)
        stop_workers(a); /* again: a worker may have entered a blocking read since */
    return OUT_TICK_MS;
}

static int64_t
on_stats_timer(struct ev_loop *l, uint64_t id, void *ctx)
{
    struct app *a = ctx;

    (void)l;
    (void)id;
    if (a->cfg.stats_interval == 0)
        return 1000; /* off (a reload may turn it on) */
    print_stats(a);
    return (int64_t)a->cfg.stats_interval * 1000;
}

static void
on_signal(struct ev_loop *l, int signo, void *ctx)
{
    struct app *a = ctx;

    (void)l;
    switch (signo) {
    case SIGUSR1:
        print_stats(a);
        break;
    case SIGHUP:
        clear_progress(a);
        reload(a);
        /* The AS table is re-read whatever the configuration did: a changed file is the point. */
        if (a->enr != NULL && enr_reload(a->enr) == -EBUSY)
            log_msg(LOG_WARNING, "SIGHUP: the AS table is still loading: not reloaded again");
        break;
    default: /* SIGTERM, SIGINT */
        a->stops++;
        stop_workers(a);
        /* The first drains (bounded); a second one stops now. What is not sent is counted. */
        a->no_backpressure = true;
        set_drain_deadline(a, a->stops == 1 ? (uint64_t)a->cfg.drain_timeout * 1000u : 0);
        break;
    }
}

/* Runs before the loop blocks: drains the rings, starts and ends the exit drain, arms the
 * rings' doorbells. Returns true when work is left (the loop then does not block). */
static bool
before_sleep(struct ev_loop *l, void *ctx)
{
    struct app *a = ctx;
    bool all_done = true;

    for (size_t i = 0; i < a->n_workers; i++)
        all_done &= wrk_done(a->workers[i]); /* read before draining: nothing follows done */
    enum drain_result r = drain_rings(a);
    if (!a->offline && a->cfg.max_nflows != 0 && a->next_id >= a->cfg.max_nflows)
        stop_workers(a);
    if (r == DR_EMPTY && all_done) {
        uint64_t now = clk_mono_ms();
        if (!a->finishing) {
            a->finishing = true;
            clear_progress(a);
            if (a->exp != NULL) {
                struct exp_process_stats ps;
                current_process_stats(a, &ps);
                exp_finish(a->exp, &ps);
            }
            /* Live, the exit waits --drain-timeout at most; offline, until all is sent (or
             * no collector took a flow for --drain-timeout, see on_tick()). */
            if (!a->offline)
                set_drain_deadline(a, (uint64_t)a->cfg.drain_timeout * 1000u);
        }
        if (a->exp == NULL || exp_drained(a->exp) ||
            (a->drain_deadline != 0 && now >= a->drain_deadline)) {
            ev_stop(l);
            return false;
        }
    }
    if (a->exp != NULL)
        exp_rearm(a->exp);
    if (r == DR_MORE)
        return true;
    if (r == DR_EMPTY)
        for (size_t i = 0; i < a->n_workers; i++)
            if (!wrk_arm(a->workers[i]))
                return true; /* a flow arrived meanwhile */
    return false;
}

/* Starts the workers and runs the output loop until every flow is written and exported. */
static int
run_output(struct app *a)
{
    uint64_t tick, stats;

    a->offline = a->cfg.n_files > 0;
    a->progress = a->offline && !a->cfg.no_progress && (a->cfg.progress || isatty(2));
    a->progress_t0 = clk_mono_ms();
    a->export_progress_ms = a->progress_t0;
    if (a->exp != NULL)
        exp_watch(a->exp, a->loop);
    if (a->enr != NULL && enr_watch(a->enr, a->loop) != 0)
        return -EINVAL;
    ev_set_before_sleep(a->loop, before_sleep, a);
    tick = ev_add_timer(a->loop, OUT_TICK_MS, on_tick, a);
    stats = ev_add_timer(a->loop,
                         a->cfg.stats_interval ? (uint64_t)a->cfg.stats_interval * 1000u : 1000u,
                         on_stats_timer, a);
    if (tick == 0 || stats == 0)
        return -ENOMEM;
    for (size_t i = 0; i < a->n_workers; i++) {
        if (wrk_start(a->workers[i]) != 0) {
            fprintf(stderr, "nfprobe: cannot start worker %zu\n", i);
            stop_workers(a);
            set_drain_deadline(a, 0);
        }
    }
    if (!a->offline)
        dmn_ready();
    ev_run(a->loop);
    if (!a->offline)
        dmn_stopping();
    for (size_t i = 0; i < a->n_workers; i++)
        wrk_join(a->workers[i]);
    /* Stopped early (a signal, a deadline): what the rings still hold goes to the sinks, and
     * to the exporter's queue, where exp_close() counts it as not sent. */
    a->no_backpressure = true;
    while (drain_rings(a) == DR_MORE)
        ;
    clear_progress(a);
    return 0;
}

int
main(int argc, char **argv)
{
    static struct app app;
    struct app *a = &app;
    char err[512];
    int status = EXIT_OK, rc;
    uint64_t seed;

    bool check;
    a->argc = argc;
    a->argv = argv;
    if ((rc = build_config(&a->cfg, argc, argv, &a->config_file, &check, err, sizeof(err))) >=
        0) {
        if (rc != EXIT_OK)
            fprintf(stderr, "nfprobe: %s\n", err);
        cfg_free(&a->cfg);
        return rc;
    }
    if (check) {
        /* -n: everything checkable without capturing, then the effective configuration. */
        struct mtr_sizing sz;
        size_t n_tables;
        uint64_t budget;
        char how[160], line[512];
        rc = check_resources(&a->cfg, err, sizeof(err));
        if (rc == 0)
            rc = plan_tables(&a->cfg, NULL, &sz, &n_tables, &budget, how, sizeof(how), err,
                             sizeof(err));
        if (rc == 0) {
            describe_tables(line, sizeof(line), &a->cfg, &sz, n_tables, budget, how);
            cfg_print(stdout, &a->cfg);
            printf("# %s%s\n", line, a->cfg.n_plugins > 0 ? " (plugin state not counted)" : "");
        } else {
            fprintf(stderr, "nfprobe: %s\n", err);
        }
        cfg_free(&a->cfg);
        return rc == 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (log_open(a->cfg.log, a->cfg.verbose ? LOG_DEBUG : a->cfg.log_level, "nfprobe") != 0) {
        fprintf(stderr, "nfprobe: --log %s: cannot open\n", a->cfg.log);
        return EXIT_USAGE;
    }
    if (a->cfg.daemon) {
        /* Before any thread exists. The parent exits once the daemon is ready (or died). */
        int st = 0;
        rc = dmn_daemonize(&st, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "nfprobe: %s\n", err);
            return EXIT_USAGE;
        }
        if (rc == 1)
            return st;
    }
    /* The output thread's loop, and the signals as its events: blocked here, before any
     * thread exists, so that every thread inherits the mask and no read is ever interrupted. */
    static const int signals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
    if ((a->loop = ev_new(65536, err, sizeof(err))) == NULL ||
        ev_watch_signals(a->loop, signals, sizeof(signals) / sizeof(signals[0]), on_signal, a) !=
            0) {
        fprintf(stderr, "nfprobe: %s\n", a->loop == NULL ? err : "signalfd failed");
        ev_free(a->loop);
        return EXIT_USAGE;
    }
    /* A collector that goes away must not kill us: write errors are handled where they occur. */
    signal(SIGPIPE, SIG_IGN);
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        seed = 0x9e3779b97f4a7c15ull; /* still correct, only less resistant to collisions */
    /* BEGIN plugin: every plugin is checked and loaded before any worker uses one */
    if (a->cfg.n_plugins > 0 &&
        (a->plugins = plg_load(a->cfg.plugins, a->cfg.n_plugins, err, sizeof(err))) == NULL) {
        fprintf(stderr, "nfprobe: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    /* END plugin */
    /* Before the workers: the layout says what it fills. */
    struct enr_config ec = enrich_config(&a->cfg);
    if (enr_groups(&ec) != 0 && (a->enr = enr_new(&ec, err, sizeof(err))) == NULL) {
        fprintf(stderr, "nfprobe: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    /* Before the workers: they carry its per-flow extension. */
    if (open_zmq(a, err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    if (open_workers(a, seed, err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }

    struct worker *w0 = a->workers[0];
    struct out_config oc = {
        .layout = *wrk_layout(w0),
        .extra = a->extra, /* plugin */
        .n_extra = a->plugins != NULL ? plg_out_extras(a->plugins, a->extra, OUT_MAX_EXTRA) : 0,
        .anonymize_key = a->cfg.anonymize_key,
    };
    /* With no output at all, the flows are printed as CSV; never beside collectors (a service
     * would flood its journal) unless --csv/--json asks for it. */
    if (a->cfg.csv_path == NULL && a->cfg.json_path == NULL && a->cfg.n_collectors == 0) {
        if (getenv("NOTIFY_SOCKET") != NULL) {
            /* A service (systemd): standard output is the journal, not a place for flows. */
            fprintf(stderr, "nfprobe: no output: as a service give collector = URL, csv = PATH "
                            "or json = PATH\n");
            status = EXIT_USAGE;
            goto out;
        }
        a->cfg.csv_path = "-";
    }
    if (a->cfg.csv_path != NULL &&
        (a->csv = out_open(a->cfg.csv_path, OUT_CSV, &oc, a->cfg.anonymize, err, sizeof(err))) ==
            NULL) {
        fprintf(stderr, "nfprobe: --csv %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    if (a->cfg.json_path != NULL &&
        (a->json = out_open(a->cfg.json_path, OUT_JSON, &oc, a->cfg.anonymize, err,
                            sizeof(err))) == NULL) {
        fprintf(stderr, "nfprobe: --json %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }

    if (a->zmq != NULL && bind_zmq(a, err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    if (n_export_collectors(&a->cfg) > 0 &&
        (a->exp = open_exporter(a, err, sizeof(err))) == NULL) {
        fprintf(stderr, "nfprobe: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    if (open_stats(a) != 0) {
        fprintf(stderr, "nfprobe: out of memory\n");
        status = EXIT_USAGE;
        goto out;
    }
    /* Captures and sockets are open: now the pid file, then drop privileges (fail closed). */
    if (a->cfg.pid_file != NULL && dmn_pidfile_create(a->cfg.pid_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: --pid-file %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    if (a->cfg.user != NULL && a->cfg.pid_file != NULL && dmn_pidfile_keep(err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: --pid-file %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    if (a->cfg.user != NULL && dmn_drop_privileges(a->cfg.user, false, err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: --user %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    /* Nothing needs a capability once captures and sockets are open (a reload reopens no
     * capture): none is kept, as root too. Capabilities are per thread, so this comes before
     * the first thread (the metrics server) starts, which inherits the empty sets. */
    if (dmn_drop_capabilities(err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    /* Kafka producers start threads of their own: after the capability drop, so that none of
     * them keeps a capability. Brokers are reached in the background. */
    for (size_t i = 0; i < a->cfg.n_collectors; i++) {
        struct kfk_config kc = {
            .url = a->cfg.collectors[i],
            .options = a->cfg.kafka_options,
            .n_options = a->cfg.n_kafka_options,
            .observation_domain = a->cfg.observation_domain,
            .version = NFPROBE_VERSION,
            .out = &oc,
            .anonymize = a->cfg.anonymize,
            .offline = a->cfg.n_files > 0,
            .ipfix = {.pen = a->cfg.pen, /* format=ipfix: as for an IPFIX collector */
                      .template_file = a->cfg.ipfix_template,
                      .ntop_compat = a->cfg.ntop_compat,
                      .layout = *wrk_layout(a->workers[0]),
                      .app_name = wrk_dpi(a->workers[0]) != NULL ? app_name : NULL,
                      .app_ctx = wrk_dpi(a->workers[0]),
                      .n_apps = wrk_dpi(a->workers[0]) != NULL
                                    ? dpi_num_protocols(wrk_dpi(a->workers[0])) : 0,
                      .extras = a->xextra, /* plugin */
                      .n_extras = a->plugins != NULL
                                      ? plg_exp_extras(a->plugins, a->xextra, EXP_MAX_EXTRA)
                                      : 0},
        };
        if (!kfk_is_url(kc.url))
            continue;
        if ((a->kafka[a->n_kafka] = kfk_new(&kc, err, sizeof(err))) == NULL) {
            fprintf(stderr, "nfprobe: %s\n", err);
            status = EXIT_USAGE;
            goto out;
        }
        a->n_kafka++;
    }
    /* The ZMQ sockets and libzmq's I/O threads: after the drop too. */
    if (a->zmq != NULL && zsink_start(a->zmq, err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    if ((a->n_kafka > 0 && st_add_sink(a->stats, render_kafka, a) != 0) ||
        (a->zmq != NULL && st_add_sink(a->stats, render_zmq, a) != 0)) {
        fprintf(stderr, "nfprobe: too many sinks for /metrics\n");
        status = EXIT_USAGE;
        goto out;
    }
    if (a->cfg.metrics != NULL &&
        (a->metrics = prom_start(a->cfg.metrics, st_render, a->stats, err, sizeof(err))) == NULL) {
        fprintf(stderr, "nfprobe: --metrics %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    /* Last of the start-up: every socket is bound; the filter covers the metrics thread too. */
    if (a->cfg.seccomp && dmn_seccomp(err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }

    if (run_output(a) != 0) {
        fprintf(stderr, "nfprobe: event loop: %s\n", strerror(ENOMEM));
        status = EXIT_USAGE;
        goto out;
    }

    const char *rerr;
    struct wrk_stats total;
    st_sum(a->stats, &total);
    for (size_t i = 0; i < a->n_workers; i++) {
        while ((rerr = wrk_take_error(a->workers[i])) != NULL) {
            /* Nothing read at all (an empty file, /dev/null): an unreadable input, status 1
             * as when the open fails; cut after some packets: status 2, the rest was kept. */
            bool none = total.cap.packets == 0;
            fprintf(stderr, "nfprobe: %s%s\n", rerr,
                    none ? " (no packet could be read)" : " (flows read before it were kept)");
            if (status == EXIT_OK || status == EXIT_INPUT_ERROR)
                status = none ? EXIT_USAGE : EXIT_INPUT_ERROR;
        }
    }
    st_summary(stderr, &total);
    if (a->enr != NULL)
        enr_summary(a->enr, stderr);
    if (a->exp != NULL) {
        struct exp_process_stats ps;
        st_process(&total, &ps);
        /* The loop drained it (or gave up, bounded): close now, counting what is left. */
        exp_close(a->exp, &ps, 0);
        exp_summary(a->exp, stderr);
        struct exp_stats es;
        exp_stats(a->exp, SIZE_MAX, &es);
        if (es.not_sent_flows > 0 && status == EXIT_OK)
            status = EXIT_EXPORT_LOSS;
    }
    if (a->zmq != NULL) {
        struct zsink_probe_stats zp;
        struct zsink_stats zs;
        zmq_probe_stats(&total, &zp);
        zsink_close(a->zmq, &zp, 2000);
        zsink_summary(a->zmq, stderr);
        zsink_stats(a->zmq, SIZE_MAX, &zs);
        if (zs.dropped > 0 && status == EXIT_OK)
            status = EXIT_EXPORT_LOSS;
    }
    for (size_t i = 0; i < a->n_kafka; i++) {
        /* Bounded as the exporter's drain; what is not confirmed by then is not delivered. */
        kfk_close(a->kafka[i], (int)a->cfg.drain_timeout * 1000);
        kfk_summary(a->kafka[i], stderr);
        if (kfk_not_delivered(a->kafka[i]) > 0 && status == EXIT_OK)
            status = EXIT_EXPORT_LOSS;
    }
out:
    if (a->csv != NULL && (rc = out_close(a->csv)) != 0 && a->out_error == 0)
        a->out_error = rc;
    if (a->json != NULL && (rc = out_close(a->json)) != 0 && a->out_error == 0)
        a->out_error = rc;
    if (a->out_error != 0) {
        fprintf(stderr, "nfprobe: writing flows: %s\n", strerror(-a->out_error));
        status = EXIT_OUTPUT_ERROR;
    }
    prom_stop(a->metrics);
    st_free(a->stats);
    for (size_t i = 0; i < a->n_kafka; i++)
        kfk_free(a->kafka[i]);
    zsink_free(a->zmq);
    nid_free(a->ndpi_ids);
    exp_free(a->exp);
    dmn_pidfile_remove();
    for (size_t i = 0; i < a->n_workers; i++)
        wrk_free(a->workers[i]);
    plg_free(a->plugins); /* plugin: after the workers that ran them */
    enr_unwatch(a->enr, a->loop);
    enr_free(a->enr);
    ev_free(a->loop);
    cfg_free(&a->cfg);
    log_close();
    return status;
}
