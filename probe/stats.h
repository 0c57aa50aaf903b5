/*
 * stats.h - telemetry: the probe's counters read from one place.
 *
 * Summing the workers' counters, what the export options records report, the exit summary and
 * the /metrics text all read through this module, so a counter is named and added once.
 *
 * Threads: the output thread owns the workers and the exporter; the metrics thread renders.
 * The hub keeps what rendering needs that another thread may change (the exporter's counters,
 * the collectors' names, which a SIGHUP reload replaces) as its own copies under its own lock:
 * rendering never reads the configuration, the exporter or anything a reload frees.
 */
#ifndef NFPROBE_STATS_H
#define NFPROBE_STATS_H

#include <stddef.h>
#include <stdio.h>

#include "export.h"
#include "worker.h"

struct st_hub;

/* Versions /metrics reports in nfprobe_build_info (copied). NULL fields print as "". */
struct st_build {
    const char *version;
    const char *ndpi;
    const char *libpcap;
};

/*
 * A hub over the n workers w[] (they must outlive it). label[i] names worker i's input (its
 * interface; NULL offline) and is copied. Returns NULL on allocation failure.
 */
struct st_hub *st_new(struct worker *const *w, size_t n, const char *const *label,
                      const struct st_build *build);
void st_free(struct st_hub *h);

/* Sums the workers' counters (any thread: wrk_stats() reads atomics). */
void st_sum(const struct st_hub *h, struct wrk_stats *t);

/* What the export options records report about the metering process. */
void st_process(const struct wrk_stats *t, struct exp_process_stats *ps);

/* The summary printed at exit, on SIGUSR1 and every --stats-interval. */
void st_summary(FILE *out, const struct wrk_stats *t);

/*
 * Copies x's per-collector counters and names for rendering (x NULL: no collectors). Called by
 * the thread that owns x, after every poll and after a reload replaced it; cheap (no
 * allocation unless a name changed).
 */
void st_publish_export(struct st_hub *h, const struct exporter *x);

/*
 * A sink outside the exporter (kafka://, zmq+tcp://) adds its own families to /metrics: fn runs
 * on the metrics thread, after the exporter's, and must read only what is safe there (its
 * module's atomic or locked counters). At most ST_MAX_SINKS; returns 0 or -ENOSPC.
 */
#define ST_MAX_SINKS 8
struct prom_buf;
typedef void (*st_sink_render_fn)(void *ctx, struct prom_buf *b);
int st_add_sink(struct st_hub *h, st_sink_render_fn fn, void *ctx);

/*
 * The Prometheus text (a prom_render_fn over a struct st_hub *): build information, per-input
 * capture counters, metering, nDPI, per-collector export counters. Runs on the metrics thread.
 */
size_t st_render(void *hub, char *buf, size_t cap);

#endif
