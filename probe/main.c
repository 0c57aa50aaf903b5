/*
 * main.c - nfprobe: startup order, signals, the output/export loop, shutdown.
 * The only file that exits.
 *
 * Offline: one worker runs in this thread and hands flows to the sinks inline, in NFStream's
 * order. Live: --workers threads per interface (PACKET_FANOUT) feed this thread through
 * per-worker rings; this thread writes and exports, ticks, and handles signals.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <syslog.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <net/if.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "decode.h"
#include "dpi.h"
#include "export.h"
#include "export_enc.h"
#include "fields.h"
#include "log.h"
#include "metrics.h"
#include "ndpi_ids.h"
#include "output.h"
#include "plugin.h"
#include "worker.h"
#include "zmq.h"

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
    struct met_server *metrics;
    /* What the metrics thread reads: exporter counters copied under this lock by the loop. */
    pthread_mutex_t exp_lock;
    struct exp_stats exp_snap[CFG_MAX_COLLECTORS];
    size_t exp_n;
    /* ntopng over ZMQ: -c zmq+tcp:// collectors and --zmq-bind; the rest go to the exporter */
    struct zsink *zmq;
    struct nid_map *ndpi_ids;
    const char *zmq_connect[CFG_MAX_COLLECTORS];
    const char *exp_collectors[CFG_MAX_COLLECTORS];
};

static volatile sig_atomic_t got_stop;
static volatile sig_atomic_t got_usr1;
static volatile sig_atomic_t got_hup;
static struct app *signal_app;

static void
on_signal(int sig)
{
    if (sig == SIGUSR1) {
        got_usr1 = 1;
        return;
    }
    if (sig == SIGHUP) {
        got_hup = 1;
        return;
    }
    got_stop = 1;
    /* wrk_stop() only stores atomics: safe in a handler. */
    for (size_t i = 0; signal_app != NULL && i < signal_app->n_workers; i++)
        wrk_stop(signal_app->workers[i]);
}

static void
install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* A collector that goes away must not kill us: write errors are handled where they occur. */
    signal(SIGPIPE, SIG_IGN);
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
    if (a->zmq != NULL)
        zsink_flow(a->zmq, f);
}

static const char *
app_name(void *ctx, uint16_t id)
{
    return dpi_proto_name(ctx, id);
}

/* Offline: the meter emits in NFStream's order with NFStream's ids. */
static void
emit_inline(void *ctx, const struct flow *f)
{
    sink_flow(ctx, f);
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: nfprobe -r FILE [-r FILE ...] [options]\n"
            "       nfprobe -i IFACE [-i IFACE ...] [options]\n"
            "\n"
            "input:\n"
            "  -r, --read FILE            read a pcap/pcapng file (repeat: read in order as one)\n"
            "  -i, --interface IFACE      capture live (repeatable)\n"
            "      --bpf-filter EXPR      only packets matching the BPF expression\n"
            "      --no-decode-tunnels    do not decode GTP-U, CAPWAP, TZSP (default: decode)\n"
            "      --snapshot-length N    live: bytes captured per packet (1536)\n"
            "      --no-promiscuous-mode  live: do not put the interface in promiscuous mode\n"
            "      --socket-buffer-size N live: kernel capture buffer in bytes\n"
            "      --workers N            live: capture threads per interface (1)\n"
            "metering (NFStream's parameters and defaults):\n"
            "      --idle-timeout S       idle timeout in seconds (120)\n"
            "      --active-timeout S     active timeout in seconds (1800)\n"
            "      --accounting-mode N    0 link, 1 IP, 2 transport, 3 payload bytes (0)\n"
            "      --statistical-analysis packet size/inter-arrival statistics and TCP flags\n"
            "      --splt-analysis N      sizes/times/directions of the first N packets (0)\n"
            "      --n-dissections N      packets given to nDPI per flow, 0 = off (20)\n"
            "      --ndpi-protos FILE     nDPI custom protocols file\n"
            "      --ndpi-categories FILE nDPI custom categories file\n"
            "      --max-nflows N         stop after N flows (0 = no limit)\n"
            "      --max-flows N          flow table size; when full a flow is exported\n"
            "                             early, flowEndReason 5 (1048576)\n"
            "output:\n"
            "      --csv PATH             NFStream to_csv() format ('-' = stdout)\n"
            "      --json PATH            JSON lines, same keys and values ('-' = stdout)\n"
            "      --anonymize COL,...    keyed BLAKE2b-512 of these columns (NFStream's)\n"
            "      --anonymize-key FILE   its key (32-64 octets): the same digests every run\n"
            "      --plugin PATH[:K=V,...] load a plugin: udps.* columns and elements\n"
            "                             (repeatable, see nfprobe/plugin.h)\n"
            "export:\n"
            "  -c, --collector URL        ipfix+udp://HOST:PORT, ipfix+tcp://, ipfix+tls://,\n"
            "                             v9+udp://, v9+tcp:// (repeatable)\n"
            "      --collector-mode M     all (default) or round-robin\n"
            "      --observation-domain N IPFIX observation domain / v9 source id (1)\n"
            "      --pen N                enterprise number of nfprobe's elements (32473)\n"
            "      --mtu N                largest UDP export message in octets (1400)\n"
            "      --template-refresh S   UDP template refresh period in seconds (60)\n"
            "      --template-refresh-packets N  v9: also every N export packets (20)\n"
            "      --export-rate N        UDP messages per second per collector, 0 = unpaced\n"
            "                             (20000)\n"
            "      --ipfix-template FILE  which fields to export (default: all)\n"
            "      --ntop-compat          add ntop's elements (PEN 35632)\n"
            "      --list-fields          the fields, their columns and IPFIX/v9/ntop ids\n"
            "      --tls-ca FILE          CA the TLS collector's certificate must chain to\n"
            "      --tls-cert FILE        our client certificate (mutual authentication)\n"
            "      --tls-key FILE         its private key\n"
            "ntopng (ZMQ, nDPI TLV as nProbe sends it; docs/ntopng.md):\n"
            "  -c zmq+tcp://HOST:PORT     connect to ntopng -i tcp://HOST:PORTc (repeatable)\n"
            "      --zmq-bind tcp://ADDR:PORT  bind; ntopng -i tcp://ADDR:PORT connects\n"
            "      --zmq-source-id N      header source id (the observation domain)\n"
            "      --zmq-update-interval S  update active flows every S seconds (30)\n"
            "      --zmq-event-interval S event message every S seconds (10)\n"
            "      --zmq-hwm N            messages queued per endpoint, then dropped (1000)\n"
            "      --zmq-encryption-key K CURVE: ntopng's public key (Z85, 40 characters)\n"
            "      --zmq-ndpi-ids FILE    ntopng's nDPI ids (etc/ndpi-4.10.ids for ntopng 6.2)\n"
            "      --zmq-rebase-time      shift capture times: the first packet is the start\n"
            "                             time of nfprobe (replays of old captures)\n"
            "appliance:\n"
            "  -C, --config FILE          read options from FILE (key = value); flags override\n"
            "  -n, --check                check the configuration, print it, exit\n"
            "      --stats-interval S     log counters every S seconds (0 = off)\n"
            "      --metrics ADDR:PORT    Prometheus text endpoint (e.g. 127.0.0.1:9108)\n"
            "      --pid-file PATH        write the process id there\n"
            "      --user NAME            drop privileges to NAME after opening captures\n"
            "      --log stderr|syslog    where messages go (stderr)\n"
            "      --log-level LEVEL      emerg .. debug (info)\n"
            "      --daemon               detach (needs --log syslog)\n"
            "  -v, --verbose              more detail\n"
            "  -h, --help                 this text\n"
            "  -V, --version              version\n");
}

static void
sum_stats(struct app *a, struct wrk_stats *t)
{
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < a->n_workers; i++) {
        struct wrk_stats s;
        wrk_stats(a->workers[i], &s);
        t->cap.packets += s.cap.packets;
        t->cap.bytes += s.cap.bytes;
        t->cap.caplen_gt_len += s.cap.caplen_gt_len;
        t->cap.files_truncated += s.cap.files_truncated;
        t->cap.kernel_drops += s.cap.kernel_drops;
        t->cap.if_drops += s.cap.if_drops;
        for (int r = 0; r < DEC_NRESULTS; r++)
            t->ignored[r] += s.ignored[r];
        t->ignored_octets += s.ignored_octets;
        t->ring_waits += s.ring_waits;
        t->mtr.packets += s.mtr.packets;
        t->mtr.ts_backwards += s.mtr.ts_backwards;
        t->mtr.flows_idle += s.mtr.flows_idle;
        t->mtr.flows_active += s.mtr.flows_active;
        t->mtr.flows_flushed += s.mtr.flows_flushed;
        t->mtr.flows_evicted += s.mtr.flows_evicted;
        t->mtr.flows_custom += s.mtr.flows_custom;
        t->mtr.flows_active_now += s.mtr.flows_active_now;
        t->mtr.flows_peak += s.mtr.flows_peak;
        if (s.has_dpi) {
            t->has_dpi = true;
            t->dpi.packets_fed += s.dpi.packets_fed;
            t->dpi.flows_detected += s.dpi.flows_detected;
            t->dpi.flows_guessed += s.dpi.flows_guessed;
            t->dpi.pool_exhausted += s.dpi.pool_exhausted;
            t->dpi.bytes_capped += s.dpi.bytes_capped;
            /* process-wide already (nDPI's allocator hooks) */
            t->dpi.ndpi_mem_bytes = s.dpi.ndpi_mem_bytes;
            t->dpi.ndpi_mem_peak = s.dpi.ndpi_mem_peak;
        }
    }
}

/* What the options records report about the metering process. */
static void
process_stats(const struct wrk_stats *t, struct exp_process_stats *ps)
{
    memset(ps, 0, sizeof(*ps));
    for (int r = 1; r < DEC_NRESULTS; r++)
        ps->packets_ignored += t->ignored[r];
    ps->octets_ignored = t->ignored_octets;
    ps->capture_drops = t->cap.kernel_drops + t->cap.if_drops;
}

static void
print_summary(FILE *out, const struct wrk_stats *t)
{
    uint64_t n_ignored = 0;
    const struct mtr_stats *ms = &t->mtr;

    for (int r = 1; r < DEC_NRESULTS; r++)
        n_ignored += t->ignored[r];
    fprintf(out,
            "nfprobe: %" PRIu64 " packets read (%" PRIu64 " bytes), %" PRIu64 " metered, %" PRIu64
            " ignored",
            t->cap.packets, t->cap.bytes, ms->packets, n_ignored);
    const char *sep = " (";
    for (int r = 1; r < DEC_NRESULTS; r++) {
        if (t->ignored[r] == 0)
            continue;
        fprintf(out, "%s%s %" PRIu64, sep, dec_result_name((enum dec_result)r), t->ignored[r]);
        sep = ", ";
    }
    fprintf(out, "%s\n", n_ignored ? ")" : "");
    fprintf(out,
            "nfprobe: %" PRIu64 " flows: %" PRIu64 " idle, %" PRIu64 " active, %" PRIu64
            " end of input, %" PRIu64 " evicted (table full), %" PRIu64 " custom\n",
            ms->flows_idle + ms->flows_active + ms->flows_flushed + ms->flows_evicted +
                ms->flows_custom,
            ms->flows_idle, ms->flows_active, ms->flows_flushed, ms->flows_evicted,
            ms->flows_custom);
    fprintf(out, "nfprobe: %" PRIu64 " flows at most in the table at once\n", ms->flows_peak);
    if (t->has_dpi) {
        const struct dpi_stats *d = &t->dpi;
        fprintf(out,
                "nfprobe: nDPI: %" PRIu64 " packets fed (%" PRIu64 " cut to the size cap), %" PRIu64
                " flows detected, %" PRIu64 " guessed, %" PRIu64
                " unlabelled (no detection state free), %" PRIu64 " bytes at peak\n",
                d->packets_fed, d->bytes_capped, d->flows_detected, d->flows_guessed,
                d->pool_exhausted, d->ndpi_mem_peak);
    }
    if (t->cap.kernel_drops || t->cap.if_drops)
        fprintf(out, "nfprobe: capture dropped %" PRIu64 " packets (kernel), %" PRIu64
                     " (interface)\n", t->cap.kernel_drops, t->cap.if_drops);
    if (ms->ts_backwards || t->cap.caplen_gt_len || t->cap.files_truncated)
        fprintf(out,
                "nfprobe: %" PRIu64 " timestamps went backwards (clamped), %" PRIu64
                " records with caplen > len, %" PRIu64 " files ended in error\n",
                ms->ts_backwards, t->cap.caplen_gt_len, t->cap.files_truncated);
}

/* Every long option; each is also a configuration-file key handled by cfg_set(). */
static const struct option longopts[] = {
    {"config", required_argument, NULL, 'C'},
    {"check", no_argument, NULL, 'n'},
    {"read", required_argument, NULL, 'r'},
    {"interface", required_argument, NULL, 'i'},
    {"collector", required_argument, NULL, 'c'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"bpf-filter", required_argument, NULL, 0},
    {"decode-tunnels", no_argument, NULL, 0},
    {"no-decode-tunnels", no_argument, NULL, 0},
    {"snapshot-length", required_argument, NULL, 0},
    {"promiscuous-mode", no_argument, NULL, 0},
    {"no-promiscuous-mode", no_argument, NULL, 0},
    {"socket-buffer-size", required_argument, NULL, 0},
    {"workers", required_argument, NULL, 0},
    {"idle-timeout", required_argument, NULL, 0},
    {"active-timeout", required_argument, NULL, 0},
    {"accounting-mode", required_argument, NULL, 0},
    {"n-dissections", required_argument, NULL, 0},
    {"ndpi-protos", required_argument, NULL, 0},
    {"ndpi-categories", required_argument, NULL, 0},
    {"statistical-analysis", no_argument, NULL, 0},
    {"splt-analysis", required_argument, NULL, 0},
    {"max-nflows", required_argument, NULL, 0},
    {"max-flows", required_argument, NULL, 0},
    {"csv", required_argument, NULL, 0},
    {"json", required_argument, NULL, 0},
    {"anonymize", required_argument, NULL, 0},
    {"anonymize-key", required_argument, NULL, 0},
    {"collector-mode", required_argument, NULL, 0},
    {"observation-domain", required_argument, NULL, 0},
    {"pen", required_argument, NULL, 0},
    {"mtu", required_argument, NULL, 0},
    {"template-refresh", required_argument, NULL, 0},
    {"template-refresh-packets", required_argument, NULL, 0},
    {"export-rate", required_argument, NULL, 0},
    {"ipfix-template", required_argument, NULL, 0},
    {"ntop-compat", no_argument, NULL, 0},
    {"tls-ca", required_argument, NULL, 0},
    {"tls-cert", required_argument, NULL, 0},
    {"tls-key", required_argument, NULL, 0},
    {"zmq-bind", required_argument, NULL, 0},
    {"zmq-source-id", required_argument, NULL, 0},
    {"zmq-update-interval", required_argument, NULL, 0},
    {"zmq-event-interval", required_argument, NULL, 0},
    {"zmq-hwm", required_argument, NULL, 0},
    {"zmq-encryption-key", required_argument, NULL, 0},
    {"zmq-ndpi-ids", required_argument, NULL, 0},
    {"zmq-rebase-time", no_argument, NULL, 0},
    {"stats-interval", required_argument, NULL, 0},
    {"metrics", required_argument, NULL, 0},
    {"pid-file", required_argument, NULL, 0},
    {"user", required_argument, NULL, 0},
    {"log", required_argument, NULL, 0},
    {"log-level", required_argument, NULL, 0},
    {"daemon", no_argument, NULL, 0},
    {"plugin", required_argument, NULL, 0},
    {"list-fields", no_argument, NULL, 0},
    {NULL, 0, NULL, 0},
};
#define SHORTOPTS "C:nr:i:c:vhV"

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
build_config(struct prb_config *c, int argc, char **argv, const char **config_file, bool *check)
{
    char err[512];
    int opt, idx;

    cfg_defaults(c);
    *check = false;
    /* First pass: only -C, so that the file is applied before any other flag. */
    opterr = 0;
    optind = 0;
    while ((opt = getopt_long(argc, argv, SHORTOPTS, longopts, &idx)) != -1)
        if (opt == 'C')
            *config_file = optarg;
    if (*config_file != NULL && cfg_load_file(*config_file, c, err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: %s\n", err);
        return EXIT_USAGE;
    }
    optind = 0;
    while ((opt = getopt_long(argc, argv, SHORTOPTS, longopts, &idx)) != -1) {
        const char *key;
        switch (opt) {
        case 0:
            key = longopts[idx].name;
            if (strcmp(key, "list-fields") == 0)
                return list_fields(c->pen);
            break;
        case 'C':
            continue;
        case 'n':
            *check = true;
            continue;
        case 'r':
            key = "read";
            break;
        case 'i':
            key = "interface";
            break;
        case 'c':
            key = "collector";
            break;
        case 'v':
            key = "verbose";
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("nfprobe %s (nDPI %s)\n", NFPROBE_VERSION, dpi_version());
            return EXIT_OK;
        default:
            /* One line naming the flag; getopt's own messages are off (opterr = 0). */
            if (optopt != 0 && optopt != '?')
                fprintf(stderr, "nfprobe: option -%c: unrecognized option or missing value "
                                "(see nfprobe --help)\n", optopt);
            else
                fprintf(stderr, "nfprobe: unrecognized option or missing value '%s' (see "
                                "nfprobe --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
        if (cfg_set(c, key, optarg, err, sizeof(err)) != 0) {
            fprintf(stderr, "nfprobe: %s\n", err);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "nfprobe: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (cfg_validate(c, err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: %s\n", err);
        return EXIT_USAGE;
    }
    return -1;
}

/* Creates the workers: one offline, or --workers per interface live. */
static int
open_workers(struct app *a, uint64_t seed, char *err, size_t errlen)
{
    const struct prb_config *c = &a->cfg;
    struct wrk_config wc = {
        .bpf = c->bpf_filter,
        .decode_tunnels = c->decode_tunnels,
        .mc = {
            .idle_ms = c->idle_timeout * 1000,
            .active_ms = c->active_timeout * 1000,
            .accounting_mode = c->accounting_mode,
            .statistics = c->statistical_analysis,
            .splt_n = c->splt_analysis,
            .max_flows = c->max_flows,
            .max_nflows = c->max_nflows,
            .seed = seed,
        },
        .n_dissections = c->n_dissections,
        .ndpi_protos = c->ndpi_protos,
        .ndpi_categories = c->ndpi_categories,
        /* As many detection states as flows: the pool can never run dry (NFStream keeps
         * one per flow); only those in use at once take memory. */
        .dpi_max_concurrent = c->max_flows,
        .plugins = a->plugins, /* plugin */
    };
    if (a->zmq != NULL)
        wc.sink_ext = zsink_meter_ext(a->zmq);

    if (c->n_files > 0) {
        wc.files = c->files;
        wc.n_files = c->n_files;
        wc.emit = emit_inline;
        wc.emit_ctx = a;
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
    for (size_t i = 0; i < c->n_ifaces; i++) {
        for (uint32_t k = 0; k < c->workers; k++) {
            wc.id = (unsigned)a->n_workers;
            wc.live = (struct cap_live_config){
                .iface = c->ifaces[i],
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

/* Copies the exporter's counters for the metrics thread (the exporter is this thread's). */
static void
snapshot_export(struct app *a)
{
    if (a->exp == NULL || a->metrics == NULL)
        return;
    pthread_mutex_lock(&a->exp_lock);
    a->exp_n = exp_n_collectors(a->exp);
    for (size_t i = 0; i < a->exp_n && i < CFG_MAX_COLLECTORS; i++)
        exp_stats(a->exp, i, &a->exp_snap[i]);
    pthread_mutex_unlock(&a->exp_lock);
}

/* Prometheus text: runs on the metrics thread, reads only snapshots taken under locks. */
static size_t
render_metrics(void *ctx, char *buf, size_t cap)
{
    struct app *a = ctx;
    struct met_buf b;
    struct wrk_stats t;
    char lab[256];

    met_buf_init(&b, buf, cap);
    sum_stats(a, &t);
    met_counter(&b, "nfprobe_packets_total", "Packets captured.", NULL, t.cap.packets);
    met_counter(&b, "nfprobe_octets_total", "Octets captured (wire length).", NULL, t.cap.bytes);
    met_counter(&b, "nfprobe_metered_packets_total", "Packets metered into flows.", NULL,
                t.mtr.packets);
    for (int r = 1; r < DEC_NRESULTS; r++) {
        lab[0] = '\0';
        met_label(lab, sizeof(lab), "reason", dec_result_name((enum dec_result)r));
        met_counter(&b, "nfprobe_ignored_packets_total", "Packets not metered, by reason.", lab,
                    t.ignored[r]);
    }
    met_counter(&b, "nfprobe_capture_drops_total", "Packets the kernel dropped.",
                "kind=\"kernel\"", t.cap.kernel_drops);
    met_counter(&b, "nfprobe_capture_drops_total", "Packets the kernel dropped.",
                "kind=\"interface\"", t.cap.if_drops);
    met_gauge(&b, "nfprobe_flows_active", "Flows in the flow tables.", NULL,
              (double)t.mtr.flows_active_now);
    static const char *const reasons[] = {"idle", "active", "end", "evicted", "custom"};
    const uint64_t counts[] = {t.mtr.flows_idle, t.mtr.flows_active, t.mtr.flows_flushed,
                               t.mtr.flows_evicted, t.mtr.flows_custom};
    for (size_t i = 0; i < 5; i++) {
        lab[0] = '\0';
        met_label(lab, sizeof(lab), "reason", reasons[i]);
        met_counter(&b, "nfprobe_flows_expired_total", "Flows that left the table, by reason.",
                    lab, counts[i]);
    }
    if (t.has_dpi) {
        met_counter(&b, "nfprobe_dpi_packets_total", "Packets given to nDPI.", NULL,
                    t.dpi.packets_fed);
        static const char *const results[] = {"detected", "guessed", "no_state"};
        const uint64_t dcounts[] = {t.dpi.flows_detected, t.dpi.flows_guessed,
                                    t.dpi.pool_exhausted};
        for (size_t i = 0; i < 3; i++) {
            lab[0] = '\0';
            met_label(lab, sizeof(lab), "result", results[i]);
            met_counter(&b, "nfprobe_dpi_flows_total",
                        "Flows by nDPI outcome (no_state: no detection state was free).", lab,
                        dcounts[i]);
        }
        met_gauge(&b, "nfprobe_dpi_memory_bytes", "Bytes nDPI holds.", NULL,
                  (double)t.dpi.ndpi_mem_bytes);
    }
    pthread_mutex_lock(&a->exp_lock);
    for (size_t i = 0; i < a->exp_n; i++) {
        const struct exp_stats *e = &a->exp_snap[i];
        lab[0] = '\0';
        met_label(lab, sizeof(lab), "collector", a->cfg.collectors[i]);
        met_counter(&b, "nfprobe_export_messages_total", "Export messages sent.", lab,
                    e->messages_sent);
        met_counter(&b, "nfprobe_export_records_total", "Flow records sent.", lab, e->flows_sent);
        met_counter(&b, "nfprobe_export_not_sent_flows_total", "Flows that could not be sent.",
                    lab, e->not_sent_flows);
        met_counter(&b, "nfprobe_export_failures_total", "Failed connects and handshakes.", lab,
                    e->connect_failures);
    }
    pthread_mutex_unlock(&a->exp_lock);
    return met_buf_len(&b);
}

static struct exporter *open_exporter(struct app *a, char *err, size_t errlen);
static size_t split_collectors(struct app *a, size_t *n_zmq);

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

    if (build_config(&next, a->argc, a->argv, &file, &check) >= 0) {
        log_msg(LOG_WARNING, "SIGHUP: configuration not reloaded (see the message above)");
        cfg_free(&next);
        return;
    }
    if (cfg_reload_check(&a->cfg, &next, err, sizeof(err)) != 0) {
        log_msg(LOG_WARNING, "SIGHUP: not reloaded: %s", err);
        cfg_free(&next);
        return;
    }
    log_set_level(next.verbose ? LOG_DEBUG : next.log_level);
    for (size_t i = 0; i < a->n_workers; i++)
        wrk_set_timeouts(a->workers[i], next.idle_timeout * 1000, next.active_timeout * 1000);
    struct prb_config old = a->cfg;
    a->cfg = next;
    size_t n_zmq, n_exp = split_collectors(a, &n_zmq);
    if (a->exp != NULL || n_exp > 0) {
        /* New collectors and TLS material: the old sessions close cleanly first. (ZMQ
         * endpoints stay as they were started.) */
        struct exporter *x = n_exp > 0 ? open_exporter(a, err, sizeof(err)) : NULL;
        if (x == NULL && n_exp > 0) {
            log_msg(LOG_ERR, "SIGHUP: %s; keeping the previous collectors", err);
            a->cfg = old;
            cfg_free(&next);
            return;
        }
        if (a->exp != NULL) {
            exp_close(a->exp, NULL, 5000);
            exp_summary(a->exp, stderr);
            pthread_mutex_lock(&a->exp_lock);
            exp_free(a->exp);
            a->exp = x;
            pthread_mutex_unlock(&a->exp_lock);
        } else {
            a->exp = x;
        }
    }
    cfg_free(&old);
    log_msg(LOG_NOTICE, "SIGHUP: configuration reloaded");
}

/* The -c collectors that are not ZMQ (zmq+tcp:// goes to the ntopng sink), into a. */
static size_t
split_collectors(struct app *a, size_t *n_zmq)
{
    size_t n = 0;

    *n_zmq = 0;
    for (size_t i = 0; i < a->cfg.n_collectors; i++) {
        const char *u = a->cfg.collectors[i];
        if (strncmp(u, ZSINK_SCHEME, strlen(ZSINK_SCHEME)) == 0)
            a->zmq_connect[(*n_zmq)++] = u + strlen(ZSINK_SCHEME);
        else
            a->exp_collectors[n++] = u;
    }
    return n;
}

static struct exporter *
open_exporter(struct app *a, char *err, size_t errlen)
{
    struct worker *w0 = a->workers[0];
    size_t n_zmq, n_exp = split_collectors(a, &n_zmq);
    struct exp_config ec = {
            .collectors = a->exp_collectors,
            .n_collectors = n_exp,
            .collector_mode = a->cfg.collector_mode,
            .observation_domain = a->cfg.observation_domain,
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
    return exp_new(&ec, err, errlen);
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

/* Opens the ntopng sink before the workers: they carry its per-flow extension. */
static int
open_zmq(struct app *a, size_t n_connect, char *err, size_t errlen)
{
    const struct prb_config *c = &a->cfg;
    struct zsink_config zc = {
        .connect = a->zmq_connect,
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
        .ifindex = c->n_ifaces > 0 ? if_nametoindex(c->ifaces[0]) : 0,
        .iface = c->n_ifaces > 0 ? c->ifaces[0] : c->n_files > 0 ? c->files[0] : "",
        .idle_s = c->idle_timeout,
        .active_s = c->active_timeout,
        .offline = c->n_files > 0,
        .version = NFPROBE_VERSION,
    };
    a->zmq = zsink_open(&zc, err, errlen);
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

/* Live: drain every ring until all workers are done. */
static void
consume_live(struct app *a)
{
    struct timespec nap = {0, 1000000};
    uint64_t next_poll = 0, next_zmq = 0;
    uint64_t next_stats = clk_mono_ms() + (uint64_t)a->cfg.stats_interval * 1000;

    for (size_t i = 0; i < a->n_workers; i++) {
        if (wrk_start(a->workers[i]) != 0) {
            fprintf(stderr, "nfprobe: cannot start worker %zu\n", i);
            got_stop = 1;
        }
    }
    dmn_ready();
    for (;;) {
        bool any = false, all_done = true;
        for (size_t i = 0; i < a->n_workers; i++) {
            struct worker *w = a->workers[i];
            bool done = wrk_done(w); /* read before draining: nothing follows done */
            struct flow *f;
            while ((f = wrk_peek(w)) != NULL) {
                f->id = a->next_id++;
                if (a->cfg.max_nflows == 0 || f->id < a->cfg.max_nflows)
                    sink_flow(a, f);
                wrk_release(w);
                any = true;
            }
            all_done &= done;
        }
        if (all_done)
            break;
        if (got_stop || (a->cfg.max_nflows != 0 && a->next_id >= a->cfg.max_nflows))
            for (size_t i = 0; i < a->n_workers; i++)
                wrk_stop(a->workers[i]);
        if (got_usr1 || (a->cfg.stats_interval > 0 && clk_mono_ms() >= next_stats)) {
            struct wrk_stats t;
            got_usr1 = 0;
            next_stats = clk_mono_ms() + (uint64_t)a->cfg.stats_interval * 1000;
            sum_stats(a, &t);
            print_summary(stderr, &t);
            if (a->exp != NULL)
                exp_summary(a->exp, stderr);
        }
        if (got_hup) {
            got_hup = 0;
            reload(a);
        }
        uint64_t now = clk_mono_ms();
        if (a->exp != NULL && (any || now >= next_poll)) {
            struct wrk_stats t;
            struct exp_process_stats ps;
            sum_stats(a, &t);
            process_stats(&t, &ps);
            exp_poll(a->exp, now, &ps);
            snapshot_export(a);
            next_poll = now + 10;
        }
        if (a->zmq != NULL && now >= next_zmq) {
            struct wrk_stats t;
            struct zsink_probe_stats zp;
            sum_stats(a, &t);
            zmq_probe_stats(&t, &zp);
            zsink_tick(a->zmq, now, &zp);
            next_zmq = now + zsink_tick_ms(a->zmq);
        }
        if (!any)
            nanosleep(&nap, NULL);
    }
    dmn_stopping();
    for (size_t i = 0; i < a->n_workers; i++)
        wrk_join(a->workers[i]);
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
    pthread_mutex_init(&a->exp_lock, NULL);
    if ((rc = build_config(&a->cfg, argc, argv, &a->config_file, &check)) >= 0) {
        cfg_free(&a->cfg);
        return rc;
    }
    if (check) {
        /* -n: the effective configuration, in the file's syntax. */
        cfg_print(stdout, &a->cfg);
        cfg_free(&a->cfg);
        return EXIT_OK;
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
    size_t n_zmq, n_exp = split_collectors(a, &n_zmq);
    if ((n_zmq > 0 || a->cfg.n_zmq_binds > 0) && open_zmq(a, n_zmq, err, sizeof(err)) != 0) {
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
    /* With no output chosen, the flows are printed as CSV. */
    if (a->cfg.csv_path == NULL && a->cfg.json_path == NULL)
        a->cfg.csv_path = "-";
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
    if (n_exp > 0 && (a->exp = open_exporter(a, err, sizeof(err))) == NULL) {
        fprintf(stderr, "nfprobe: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    if (a->cfg.metrics != NULL &&
        (a->metrics = met_start(a->cfg.metrics, render_metrics, a, err, sizeof(err))) == NULL) {
        fprintf(stderr, "nfprobe: --metrics %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    /* Captures and sockets are open: now the pid file, then drop privileges (fail closed). */
    if (a->cfg.pid_file != NULL && dmn_pidfile_create(a->cfg.pid_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: --pid-file %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    if (a->cfg.user != NULL &&
        dmn_drop_privileges(a->cfg.user, a->cfg.n_ifaces > 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: --user %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }

    if (a->exp != NULL && a->cfg.n_files > 0) {
        /* Offline, reading can block (a FIFO, a slow disk) and nothing else drives the
         * exporter: let TCP/TLS sessions come up first (bounded), so the first flows do not
         * wait in the queue for a handshake. */
        uint64_t deadline = clk_mono_ms() + 5000;
        struct timespec nap = {0, 10000000};
        for (;;) {
            bool all_up = true;
            exp_poll(a->exp, clk_mono_ms(), NULL);
            for (size_t i = 0; i < exp_n_collectors(a->exp); i++) {
                struct exp_stats es;
                exp_stats(a->exp, i, &es);
                all_up &= es.sessions > 0;
            }
            if (all_up || clk_mono_ms() >= deadline)
                break;
            nanosleep(&nap, NULL);
        }
    }

    signal_app = a;
    install_signals();
    if (a->cfg.n_files > 0)
        wrk_run(w0);
    else
        consume_live(a);

    const char *rerr;
    for (size_t i = 0; i < a->n_workers; i++) {
        while ((rerr = wrk_take_error(a->workers[i])) != NULL) {
            fprintf(stderr, "nfprobe: %s (flows read before it were kept)\n", rerr);
            status = EXIT_INPUT_ERROR;
        }
    }
    struct wrk_stats total;
    sum_stats(a, &total);
    print_summary(stderr, &total);
    if (a->exp != NULL) {
        struct exp_process_stats ps;
        process_stats(&total, &ps);
        /* Bounded: a collector that never answers cannot hold the exit forever. */
        exp_close(a->exp, &ps, 10000);
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
out:
    if (a->csv != NULL && (rc = out_close(a->csv)) != 0 && a->out_error == 0)
        a->out_error = rc;
    if (a->json != NULL && (rc = out_close(a->json)) != 0 && a->out_error == 0)
        a->out_error = rc;
    if (a->out_error != 0) {
        fprintf(stderr, "nfprobe: writing flows: %s\n", strerror(-a->out_error));
        status = EXIT_OUTPUT_ERROR;
    }
    signal_app = NULL;
    met_stop(a->metrics);
    exp_free(a->exp);
    zsink_free(a->zmq);
    nid_free(a->ndpi_ids);
    dmn_pidfile_remove();
    for (size_t i = 0; i < a->n_workers; i++)
        wrk_free(a->workers[i]);
    plg_free(a->plugins); /* plugin: after the workers that ran them */
    cfg_free(&a->cfg);
    log_close();
    return status;
}
