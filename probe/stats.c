/*
 * stats.c - telemetry: summing the workers' counters, the exit summary, the /metrics text.
 *
 * The Prometheus text is written family by family (one "# HELP"/"# TYPE" pair, then every
 * labelled sample of it), as the exposition format requires: a loop over collectors or inputs
 * is always inside the loop over families, never around it.
 */
#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "metrics.h"

#define ST_MAX_WORKERS 64

struct st_collector {
    char *name;           /* the URL as given, the `collector` label */
    struct exp_stats es;
};

struct st_hub {
    struct worker *const *workers;
    size_t n_workers;
    /* Inputs: distinct worker labels in order of first appearance; group[i] is worker i's. */
    char *input[ST_MAX_WORKERS];
    size_t n_inputs;
    size_t group[ST_MAX_WORKERS];
    struct wrk_stats *per_input; /* n_inputs sums, rendering's scratch (one metrics thread) */
    char *build[3];
    /* The exporter's counters as last published, under lock. */
    pthread_mutex_t lock;
    struct st_collector coll[CFG_MAX_COLLECTORS];
    size_t n_coll;
    /* Sinks beside the exporter: set before the metrics thread starts, read-only after. */
    st_sink_render_fn sink_fn[ST_MAX_SINKS];
    void *sink_ctx[ST_MAX_SINKS];
    size_t n_sinks;
};

static char *
dup_or_empty(const char *s)
{
    return strdup(s != NULL ? s : "");
}

struct st_hub *
st_new(struct worker *const *w, size_t n, const char *const *label, const struct st_build *build)
{
    struct st_hub *h = calloc(1, sizeof(*h));

    if (h == NULL || n > ST_MAX_WORKERS)
        goto fail;
    pthread_mutex_init(&h->lock, NULL);
    h->workers = w;
    h->n_workers = n;
    for (size_t i = 0; i < n; i++) {
        const char *l = label != NULL ? label[i] : NULL;
        size_t g = 0;
        if (l == NULL) {
            h->group[i] = SIZE_MAX; /* offline: no input label */
            continue;
        }
        while (g < h->n_inputs && strcmp(h->input[g], l) != 0)
            g++;
        if (g == h->n_inputs && (h->input[h->n_inputs++] = strdup(l)) == NULL)
            goto fail;
        h->group[i] = g;
    }
    if ((h->per_input = calloc(h->n_inputs + 1, sizeof(*h->per_input))) == NULL)
        goto fail;
    h->build[0] = dup_or_empty(build != NULL ? build->version : NULL);
    h->build[1] = dup_or_empty(build != NULL ? build->ndpi : NULL);
    h->build[2] = dup_or_empty(build != NULL ? build->libpcap : NULL);
    if (h->build[0] == NULL || h->build[1] == NULL || h->build[2] == NULL)
        goto fail;
    return h;
fail:
    st_free(h);
    return NULL;
}

void
st_free(struct st_hub *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->n_inputs; i++)
        free(h->input[i]);
    for (size_t i = 0; i < CFG_MAX_COLLECTORS; i++)
        free(h->coll[i].name);
    for (size_t i = 0; i < 3; i++)
        free(h->build[i]);
    free(h->per_input);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static void
add_stats(struct wrk_stats *t, const struct wrk_stats *s)
{
    t->cap.packets += s->cap.packets;
    t->cap.bytes += s->cap.bytes;
    t->cap.caplen_gt_len += s->cap.caplen_gt_len;
    t->cap.files_truncated += s->cap.files_truncated;
    t->cap.kernel_drops += s->cap.kernel_drops;
    t->cap.if_drops += s->cap.if_drops;
    for (int r = 0; r < DEC_NRESULTS; r++)
        t->ignored[r] += s->ignored[r];
    t->ignored_octets += s->ignored_octets;
    t->ring_waits += s->ring_waits;
    t->has_sampling |= s->has_sampling;
    t->smp_observed += s->smp_observed;
    t->smp_selected += s->smp_selected;
    t->mtr.packets += s->mtr.packets;
    t->mtr.ts_backwards += s->mtr.ts_backwards;
    t->mtr.flows_idle += s->mtr.flows_idle;
    t->mtr.flows_active += s->mtr.flows_active;
    t->mtr.flows_flushed += s->mtr.flows_flushed;
    t->mtr.flows_evicted += s->mtr.flows_evicted;
    t->mtr.flows_custom += s->mtr.flows_custom;
    t->mtr.flows_active_now += s->mtr.flows_active_now;
    t->mtr.flows_peak += s->mtr.flows_peak;
    if (s->has_dpi) {
        t->has_dpi = true;
        t->dpi.packets_fed += s->dpi.packets_fed;
        t->dpi.flows_detected += s->dpi.flows_detected;
        t->dpi.flows_guessed += s->dpi.flows_guessed;
        t->dpi.pool_exhausted += s->dpi.pool_exhausted;
        t->dpi.bytes_capped += s->dpi.bytes_capped;
        /* process-wide already (nDPI's allocator hooks) */
        t->dpi.ndpi_mem_bytes = s->dpi.ndpi_mem_bytes;
        t->dpi.ndpi_mem_peak = s->dpi.ndpi_mem_peak;
    }
}

void
st_sum(const struct st_hub *h, struct wrk_stats *t)
{
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < h->n_workers; i++) {
        struct wrk_stats s;
        wrk_stats(h->workers[i], &s);
        add_stats(t, &s);
    }
}

void
st_process(const struct wrk_stats *t, struct exp_process_stats *ps)
{
    memset(ps, 0, sizeof(*ps));
    for (int r = 1; r < DEC_NRESULTS; r++)
        ps->packets_ignored += t->ignored[r];
    ps->octets_ignored = t->ignored_octets;
    ps->capture_drops = t->cap.kernel_drops + t->cap.if_drops;
    ps->sampling_observed = t->smp_observed;
    ps->sampling_selected = t->smp_selected;
}

void
st_summary(FILE *out, const struct wrk_stats *t)
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
    if (t->has_sampling)
        fprintf(out, "nfprobe: sampling: %" PRIu64 " packets observed, %" PRIu64 " selected\n",
                t->smp_observed, t->smp_selected);
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
    /* Only what happened: a line of zeros reads like an alarm. */
    const char *lsep = "nfprobe: ";
    if (ms->ts_backwards) {
        fprintf(out, "%s%" PRIu64 " timestamps went backwards (clamped)", lsep, ms->ts_backwards);
        lsep = ", ";
    }
    if (t->cap.caplen_gt_len) {
        fprintf(out, "%s%" PRIu64 " records with caplen > len", lsep, t->cap.caplen_gt_len);
        lsep = ", ";
    }
    if (t->cap.files_truncated) {
        fprintf(out, "%s%" PRIu64 " files ended in error", lsep, t->cap.files_truncated);
        lsep = ", ";
    }
    if (lsep[0] == ',')
        fputc('\n', out);
}

void
st_publish_export(struct st_hub *h, const struct exporter *x)
{
    size_t n = x != NULL ? exp_n_collectors(x) : 0;

    if (n > CFG_MAX_COLLECTORS)
        n = CFG_MAX_COLLECTORS;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < n; i++) {
        struct st_collector *c = &h->coll[i];
        const char *name = exp_collector_name(x, i);
        if (name == NULL)
            name = "";
        if (c->name == NULL || strcmp(c->name, name) != 0) {
            free(c->name);
            c->name = strdup(name); /* NULL on failure: the collector is then left out */
        }
        exp_stats(x, i, &c->es);
    }
    h->n_coll = n;
    pthread_mutex_unlock(&h->lock);
}

/* ------------------------------------------------------------------ /metrics */

/* One counter family with one sample per input (or one unlabelled sample offline). */
typedef uint64_t (*st_get_fn)(const struct wrk_stats *s, size_t arg);

/* The samples of one family, over the inputs: `key="val"` is appended to each input's label. */
static void
per_input(const struct st_hub *h, struct prom_buf *b, bool counter, const char *name,
          const char *help, const char *key, const char *val, st_get_fn get, size_t arg)
{
    char lab[512];
    size_t n = h->n_inputs > 0 ? h->n_inputs : 1;

    for (size_t g = 0; g < n; g++) {
        const struct wrk_stats *s = &h->per_input[g];
        lab[0] = '\0';
        if (h->n_inputs > 0)
            prom_label(lab, sizeof(lab), "interface", h->input[g]);
        if (key != NULL)
            prom_label(lab, sizeof(lab), key, val);
        if (counter)
            prom_counter(b, name, help, lab[0] != '\0' ? lab : NULL, get(s, arg));
        else
            prom_gauge(b, name, help, lab[0] != '\0' ? lab : NULL, (double)get(s, arg));
    }
}

static uint64_t get_packets(const struct wrk_stats *s, size_t a) { (void)a; return s->cap.packets; }
static uint64_t get_bytes(const struct wrk_stats *s, size_t a) { (void)a; return s->cap.bytes; }
static uint64_t get_metered(const struct wrk_stats *s, size_t a) { (void)a; return s->mtr.packets; }
static uint64_t get_ignored(const struct wrk_stats *s, size_t r) { return s->ignored[r]; }
static uint64_t get_kdrops(const struct wrk_stats *s, size_t a) { (void)a; return s->cap.kernel_drops; }
static uint64_t get_idrops(const struct wrk_stats *s, size_t a) { (void)a; return s->cap.if_drops; }
static uint64_t get_active(const struct wrk_stats *s, size_t a) { (void)a; return s->mtr.flows_active_now; }
static uint64_t get_smp_obs(const struct wrk_stats *s, size_t a) { (void)a; return s->smp_observed; }
static uint64_t get_smp_sel(const struct wrk_stats *s, size_t a) { (void)a; return s->smp_selected; }
static uint64_t get_dpi_fed(const struct wrk_stats *s, size_t a) { (void)a; return s->dpi.packets_fed; }

static uint64_t
get_expired(const struct wrk_stats *s, size_t i)
{
    const uint64_t v[] = {s->mtr.flows_idle, s->mtr.flows_active, s->mtr.flows_flushed,
                          s->mtr.flows_evicted, s->mtr.flows_custom};
    return v[i];
}

static uint64_t
get_dpi_flows(const struct wrk_stats *s, size_t i)
{
    const uint64_t v[] = {s->dpi.flows_detected, s->dpi.flows_guessed, s->dpi.pool_exhausted};
    return v[i];
}

/* Per-collector export counters: each family's samples for every collector, in turn. */
static void
render_export(struct st_hub *h, struct prom_buf *b)
{
    static const struct {
        const char *name, *help;
        bool counter;
        size_t off;
    } fam[] = {
        {"nfprobe_export_messages_total", "Export messages sent (templates and options included).",
         true, offsetof(struct exp_stats, messages_sent)},
        {"nfprobe_export_bytes_total", "Export message bytes sent.", true,
         offsetof(struct exp_stats, octets_sent)},
        {"nfprobe_export_records_total", "Flow records sent.", true,
         offsetof(struct exp_stats, flows_sent)},
        {"nfprobe_export_not_sent_flows_total", "Flows that could not be sent.", true,
         offsetof(struct exp_stats, not_sent_flows)},
        {"nfprobe_export_not_exportable_flows_total",
         "Flows the export protocol cannot carry (IPv6 in NetFlow v5).", true,
         offsetof(struct exp_stats, not_exportable)},
        {"nfprobe_export_failures_total", "Failed connects and handshakes.", true,
         offsetof(struct exp_stats, connect_failures)},
        {"nfprobe_export_queued_flows", "Flows waiting in the export queue.", false,
         offsetof(struct exp_stats, queued)},
    };
    char lab[CFG_MAX_VALUE + 64];

    pthread_mutex_lock(&h->lock);
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        for (size_t i = 0; i < h->n_coll; i++) {
            const struct st_collector *c = &h->coll[i];
            uint64_t v;
            if (c->name == NULL)
                continue;
            memcpy(&v, (const char *)&c->es + fam[f].off, sizeof(v));
            lab[0] = '\0';
            prom_label(lab, sizeof(lab), "collector", c->name);
            if (fam[f].counter)
                prom_counter(b, fam[f].name, fam[f].help, lab, v);
            else
                prom_gauge(b, fam[f].name, fam[f].help, lab, (double)v);
        }
    }
    pthread_mutex_unlock(&h->lock);
}

size_t
st_render(void *hub, char *buf, size_t cap)
{
    struct st_hub *h = hub;
    struct prom_buf b;
    struct wrk_stats t;
    char lab[1024];

    prom_buf_init(&b, buf, cap);
    lab[0] = '\0';
    prom_label(lab, sizeof(lab), "version", h->build[0]);
    prom_label(lab, sizeof(lab), "ndpi", h->build[1]);
    prom_label(lab, sizeof(lab), "libpcap", h->build[2]);
    prom_gauge(&b, "nfprobe_build_info", "Versions of nfprobe and its libraries (always 1).", lab,
               1);

    /* Per input: sum each input's workers once, then write family by family. */
    size_t n = h->n_inputs > 0 ? h->n_inputs : 1;
    memset(h->per_input, 0, n * sizeof(*h->per_input));
    memset(&t, 0, sizeof(t));
    for (size_t i = 0; i < h->n_workers; i++) {
        struct wrk_stats s;
        wrk_stats(h->workers[i], &s);
        add_stats(&h->per_input[h->group[i] == SIZE_MAX ? 0 : h->group[i]], &s);
        add_stats(&t, &s);
    }
    per_input(h, &b, true, "nfprobe_packets_total", "Packets captured.", NULL, NULL, get_packets,
              0);
    per_input(h, &b, true, "nfprobe_bytes_total", "Bytes captured (wire length).", NULL, NULL,
              get_bytes, 0);
    per_input(h, &b, true, "nfprobe_metered_packets_total", "Packets metered into flows.", NULL,
              NULL, get_metered, 0);
    if (t.has_sampling) {
        per_input(h, &b, true, "nfprobe_sampling_observed_packets_total",
                  "Packets the sampler saw (--sampling; RFC 7014 selectorIdTotalPktsObserved).",
                  NULL, NULL, get_smp_obs, 0);
        per_input(h, &b, true, "nfprobe_sampling_selected_packets_total",
                  "Packets the sampler kept for metering (selectorIdTotalPktsSelected).", NULL,
                  NULL, get_smp_sel, 0);
    }
    for (int r = 1; r < DEC_NRESULTS; r++)
        per_input(h, &b, true, "nfprobe_ignored_packets_total", "Packets not metered, by reason.",
                  "reason", dec_result_name((enum dec_result)r), get_ignored, (size_t)r);
    per_input(h, &b, true, "nfprobe_capture_dropped_packets_total",
              "Packets the capture dropped (kernel: no room in the buffer; interface: the NIC).",
              "kind", "kernel", get_kdrops, 0);
    per_input(h, &b, true, "nfprobe_capture_dropped_packets_total",
              "Packets the capture dropped (kernel: no room in the buffer; interface: the NIC).",
              "kind", "interface", get_idrops, 0);
    per_input(h, &b, false, "nfprobe_flows_active", "Flows in the flow tables.", NULL, NULL,
              get_active, 0);
    static const char *const reasons[] = {"idle", "active", "end", "evicted", "custom"};
    for (size_t i = 0; i < 5; i++)
        per_input(h, &b, true, "nfprobe_flows_expired_total",
                  "Flows that left the table, by reason.", "reason", reasons[i], get_expired, i);
    if (t.has_dpi) {
        per_input(h, &b, true, "nfprobe_dpi_packets_total", "Packets given to nDPI.", NULL, NULL,
                  get_dpi_fed, 0);
        static const char *const results[] = {"detected", "guessed", "no_state"};
        for (size_t i = 0; i < 3; i++)
            per_input(h, &b, true, "nfprobe_dpi_flows_total",
                      "Flows by nDPI outcome (no_state: no detection state was free).", "result",
                      results[i], get_dpi_flows, i);
        /* process-wide: nDPI's allocator hooks count every module */
        prom_gauge(&b, "nfprobe_dpi_memory_bytes", "Bytes nDPI holds.", NULL,
                   (double)t.dpi.ndpi_mem_bytes);
    }
    render_export(h, &b);
    for (size_t i = 0; i < h->n_sinks; i++)
        h->sink_fn[i](h->sink_ctx[i], &b);
    return prom_buf_len(&b);
}

int
st_add_sink(struct st_hub *h, st_sink_render_fn fn, void *ctx)
{
    if (h->n_sinks == ST_MAX_SINKS)
        return -ENOSPC;
    h->sink_fn[h->n_sinks] = fn;
    h->sink_ctx[h->n_sinks] = ctx;
    h->n_sinks++;
    return 0;
}
