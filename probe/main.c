/*
 * main.c - nfprobe: startup order, the packet loop, shutdown. The only file that exits.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "capture.h"
#include "decode.h"
#include "meter.h"
#include "output.h"

#define NFPROBE_VERSION "0.1.0"

/* Exit codes, documented in the README and the man page. */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,       /* bad flag or configuration, or an input that cannot be opened */
    EXIT_INPUT_ERROR = 2, /* an input file was cut or corrupt: what was read was exported */
    EXIT_OUTPUT_ERROR = 3 /* writing the CSV/JSON output failed */
};

struct sinks {
    struct out_writer *csv;
    struct out_writer *json;
    int error;
};

static void
emit_flow(void *ctx, const struct flow *f)
{
    struct sinks *s = ctx;
    int rc;

    if (s->csv != NULL && (rc = out_flow(s->csv, f)) != 0 && s->error == 0)
        s->error = rc;
    if (s->json != NULL && (rc = out_flow(s->json, f)) != 0 && s->error == 0)
        s->error = rc;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: nfprobe -r FILE [-r FILE ...] [options]\n"
            "\n"
            "input:\n"
            "  -r, --read FILE            read a pcap/pcapng file (repeat: read in order as one)\n"
            "      --bpf-filter EXPR      only packets matching the BPF expression\n"
            "      --no-decode-tunnels    do not decode GTP-U, CAPWAP, TZSP (default: decode)\n"
            "metering (NFStream's parameters and defaults):\n"
            "      --idle-timeout S       idle timeout in seconds (120)\n"
            "      --active-timeout S     active timeout in seconds (1800)\n"
            "      --accounting-mode N    0 link, 1 IP, 2 transport, 3 payload bytes (0)\n"
            "      --statistical-analysis packet size/inter-arrival statistics and TCP flags\n"
            "      --splt-analysis N      sizes/times/directions of the first N packets (0)\n"
            "      --n-dissections N      packets given to nDPI per flow, 0 = off (20)\n"
            "      --max-nflows N         stop after N flows (0 = no limit)\n"
            "      --max-flows N          flow table size; when full the oldest flow is\n"
            "                             exported early, flowEndReason 5 (1048576)\n"
            "output:\n"
            "      --csv PATH             NFStream to_csv() format ('-' = stdout)\n"
            "      --json PATH            JSON lines, same keys and values ('-' = stdout)\n"
            "      --anonymize COL,...    keyed BLAKE2b-512 of these columns (NFStream's)\n"
            "  -v, --verbose              print counters at exit even when all is well\n"
            "  -h, --help                 this text\n"
            "  -V, --version              version\n");
}

static void
print_summary(FILE *out, const struct cap_stats *cs, const uint64_t *ignored,
              const struct mtr_stats *ms)
{
    uint64_t n_ignored = 0;

    for (int r = 1; r < DEC_NRESULTS; r++)
        n_ignored += ignored[r];
    fprintf(out,
            "nfprobe: %" PRIu64 " packets read (%" PRIu64 " bytes), %" PRIu64 " metered, %" PRIu64
            " ignored",
            cs->packets, cs->bytes, ms->packets, n_ignored);
    const char *sep = " (";
    for (int r = 1; r < DEC_NRESULTS; r++) {
        if (ignored[r] == 0)
            continue;
        fprintf(out, "%s%s %" PRIu64, sep, dec_result_name((enum dec_result)r), ignored[r]);
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
    if (ms->ts_backwards || cs->caplen_gt_len || cs->files_truncated)
        fprintf(out,
                "nfprobe: %" PRIu64 " timestamps went backwards (clamped), %" PRIu64
                " records with caplen > len, %" PRIu64 " files ended in error\n",
                ms->ts_backwards, cs->caplen_gt_len, cs->files_truncated);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"read", required_argument, NULL, 'r'},
        {"bpf-filter", required_argument, NULL, 0},
        {"decode-tunnels", no_argument, NULL, 0},
        {"no-decode-tunnels", no_argument, NULL, 0},
        {"idle-timeout", required_argument, NULL, 0},
        {"active-timeout", required_argument, NULL, 0},
        {"accounting-mode", required_argument, NULL, 0},
        {"n-dissections", required_argument, NULL, 0},
        {"statistical-analysis", no_argument, NULL, 0},
        {"splt-analysis", required_argument, NULL, 0},
        {"max-nflows", required_argument, NULL, 0},
        {"max-flows", required_argument, NULL, 0},
        {"csv", required_argument, NULL, 0},
        {"json", required_argument, NULL, 0},
        {"anonymize", required_argument, NULL, 0},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct prb_config cfg;
    char err[512];
    int opt, idx, status = EXIT_OK;
    struct sinks sinks = {0};
    struct cap_source *src = NULL;
    struct meter *mt = NULL;

    cfg_defaults(&cfg);
    /* Until DPI is wired in, the default is NFStream's with dissection off. */
    cfg.n_dissections = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "r:vhV", longopts, &idx)) != -1) {
        const char *key;
        switch (opt) {
        case 0:
            key = longopts[idx].name;
            break;
        case 'r':
            key = "read";
            break;
        case 'v':
            key = "verbose";
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("nfprobe %s\n", NFPROBE_VERSION);
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
        if (cfg_set(&cfg, key, optarg, err, sizeof(err)) != 0) {
            fprintf(stderr, "nfprobe: %s\n", err);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "nfprobe: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (cfg_validate(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "nfprobe: %s\n", err);
        return EXIT_USAGE;
    }
    if (cfg.n_dissections > 0) {
        fprintf(stderr, "nfprobe: --n-dissections: DPI is not available in this build\n");
        return EXIT_USAGE;
    }
    if (cfg.n_ifaces > 0) {
        fprintf(stderr, "nfprobe: -i: live capture is not available in this build\n");
        return EXIT_USAGE;
    }

    src = cap_open_files(cfg.files, cfg.n_files, cfg.bpf_filter, err, sizeof(err));
    if (src == NULL) {
        fprintf(stderr, "nfprobe: %s\n", err);
        return EXIT_USAGE;
    }

    struct mtr_config mc = {
        .idle_ms = cfg.idle_timeout * 1000,
        .active_ms = cfg.active_timeout * 1000,
        .accounting_mode = cfg.accounting_mode,
        .statistics = cfg.statistical_analysis,
        .splt_n = cfg.splt_analysis,
        .max_flows = cfg.max_flows,
        .max_nflows = cfg.max_nflows,
    };
    if (getrandom(&mc.seed, sizeof(mc.seed), 0) != (ssize_t)sizeof(mc.seed))
        mc.seed = 0x9e3779b97f4a7c15ull; /* still correct, only less resistant to collisions */
    mt = mtr_new(&mc, NULL, 0, emit_flow, &sinks, err, sizeof(err));
    if (mt == NULL) {
        fprintf(stderr, "nfprobe: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    struct out_config oc = {
        .tunnel_id = cfg.decode_tunnels,
        .statistics = cfg.statistical_analysis,
        .splt_n = cfg.splt_analysis,
        .feat = mtr_features(mt),
    };
    /* With no output chosen, the flows are printed as CSV: the probe's main job until export. */
    if (cfg.csv_path == NULL && cfg.json_path == NULL)
        cfg.csv_path = "-";
    if (cfg.csv_path != NULL &&
        (sinks.csv = out_open(cfg.csv_path, OUT_CSV, &oc, cfg.anonymize, err, sizeof(err))) ==
            NULL) {
        fprintf(stderr, "nfprobe: --csv %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    if (cfg.json_path != NULL &&
        (sinks.json = out_open(cfg.json_path, OUT_JSON, &oc, cfg.anonymize, err, sizeof(err))) ==
            NULL) {
        fprintf(stderr, "nfprobe: --json %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }

    uint64_t ignored[DEC_NRESULTS] = {0};
    struct cap_packet cp;
    const char *rerr;
    enum cap_result cr;
    while (!mtr_done(mt) && (cr = cap_next(src, &cp)) != CAP_END) {
        struct pkt_meta m;
        if ((rerr = cap_take_error(src)) != NULL) {
            fprintf(stderr, "nfprobe: %s (flows so far are kept)\n", rerr);
            status = EXIT_INPUT_ERROR;
        }
        if (cr != CAP_PACKET)
            continue;
        enum dec_result r = dec_packet(cp.dlt, cp.bytes, cp.caplen, cp.wirelen,
                                       cfg.decode_tunnels, &m);
        if (r != DEC_OK) {
            ignored[r]++;
            continue;
        }
        m.time_ms = cp.time_ms;
        mtr_packet(mt, &m);
    }
    if ((rerr = cap_take_error(src)) != NULL) {
        fprintf(stderr, "nfprobe: %s (flows so far are kept)\n", rerr);
        status = EXIT_INPUT_ERROR;
    }
    if (!mtr_done(mt))
        mtr_flush(mt);

    struct cap_stats cs;
    struct mtr_stats ms;
    cap_stats(src, &cs);
    mtr_stats(mt, &ms);
    print_summary(stderr, &cs, ignored, &ms);
out:
    if (sinks.csv != NULL && out_close(sinks.csv) != 0 && sinks.error == 0)
        sinks.error = -EIO;
    if (sinks.json != NULL && out_close(sinks.json) != 0 && sinks.error == 0)
        sinks.error = -EIO;
    if (sinks.error != 0) {
        fprintf(stderr, "nfprobe: writing flows: %s\n", strerror(-sinks.error));
        status = EXIT_OUTPUT_ERROR;
    }
    mtr_free(mt);
    cap_close(src);
    return status;
}
