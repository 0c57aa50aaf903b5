/*
 * worker.h - one capture pipeline: source -> decode -> meter (+ DPI) -> finished flows.
 *
 * A worker owns its capture handle, flow table and nDPI module: no locks on the packet path.
 * Each worker is a thread (offline one, reading the files; live one per PACKET_FANOUT socket)
 * and hands flows to the output thread through its own SPSC ring, in the order the meter emits
 * them (offline: NFStream's order). A full ring makes the worker wait (counted), never drop.
 */
#ifndef NFPROBE_WORKER_H
#define NFPROBE_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "decode.h"
#include "dpi.h"
#include "flow.h"
#include "meter.h"
#include "sampling.h"

struct plg_set; /* plugin.h */

struct wrk_config {
    unsigned id;
    /* exactly one source: files (offline) or a live interface */
    const char *const *files;
    size_t n_files;
    const char *bpf;
    struct cap_live_config live; /* used when files == NULL */
    bool decode_tunnels;
    struct mtr_config mc;
    /* packet sampling before decoding (sampling.h): smp_interval 0 = off, every packet metered
     * without the selector; seed of SMP_RANDOM's positions */
    enum smp_mode smp_mode;
    uint32_t smp_interval;
    uint64_t smp_seed;
    /* DPI, when n_dissections > 0 */
    uint8_t n_dissections;
    const char *ndpi_protos;
    const char *ndpi_categories;
    uint32_t dpi_max_concurrent;
    /* plugin: loaded plugins (plg_load()), NULL or empty = none; must outlive the worker */
    struct plg_set *plugins;
    /* a sink's per-flow extension (zsink_meter_ext()), after DPI and plugins; ext_size 0 = none.
     * sink_due (NULL = none) runs on each later packet of a flow in place of its on_update: true
     * hands a copy of the flow, still metered, to the output thread through the ring (or emit()),
     * in order with the finished flows: a live update (wrk_is_update()); sink_reported then runs
     * on the flow itself (the copy keeps the state from before it). */
    struct mtr_ext sink_ext;
    bool (*sink_due)(void *ctx, struct flow *f, void *state, const struct pkt_meta *m);
    void (*sink_reported)(void *ctx, struct flow *f, void *state);
    /* where finished flows go: a ring of ring_slots flows read by the output thread, which
     * doorbell() wakes (spsc_set_doorbell()); or emit() inline (ring_slots 0) */
    size_t ring_slots;
    void (*doorbell)(void *ctx);
    void *doorbell_ctx;
    mtr_emit_fn emit;
    void *emit_ctx;
};

/* A consistent snapshot of a worker's counters. */
struct wrk_stats {
    struct cap_stats cap;
    struct mtr_stats mtr;
    uint64_t ignored[DEC_NRESULTS];
    uint64_t ignored_octets;
    uint64_t ring_waits; /* times the worker waited for room in its ring */
    bool has_sampling;   /* --sampling: packets read (observed) and kept for metering */
    uint64_t smp_observed, smp_selected;
    bool has_dpi;
    struct dpi_stats dpi; /* when has_dpi */
};

struct worker;

/* Opens the source and builds the meter (and DPI). Returns NULL with a one-line err. */
struct worker *wrk_new(const struct wrk_config *c, char *err, size_t errlen);
void wrk_free(struct worker *w);

/* Runs the loop in the calling thread until the source ends or wrk_stop(); then flushes. */
void wrk_run(struct worker *w);

/* Starts the loop in a thread of its own (signals blocked there). 0 or -errno. */
int wrk_start(struct worker *w);
/* Asks the loop to stop: capture ends, remaining flows are flushed. Thread-safe. */
void wrk_stop(struct worker *w);
/* True once the loop ended and every flow was handed over. */
bool wrk_done(const struct worker *w);
void wrk_join(struct worker *w);

/* A flow from the ring that is a live update's copy (sink_due), not a finished flow: it has no
 * end reason (a flow gets one only when it leaves the meter). Only the sink that asked for it
 * reads it. */
static inline bool
wrk_is_update(const struct flow *f)
{
    return f->end_reason == 0;
}

/* Ring consumer side: the next finished flow (or live update), or NULL; then release it. */
struct flow *wrk_peek(struct worker *w);
void wrk_release(struct worker *w);
/* The consumer is about to block: the next flow (or the end) rings the doorbell. Returns false
 * when flows are waiting (then do not block). */
bool wrk_arm(struct worker *w);

void wrk_stats(struct worker *w, struct wrk_stats *out);

/* New idle/active timeouts from another thread (SIGHUP); the worker applies them at its next
 * tick (within 100 ms). */
void wrk_set_timeouts(struct worker *w, uint64_t idle_ms, uint64_t active_ms);

/* A non-fatal source error since the last call ("FILE: truncated dump file"), or NULL. */
const char *wrk_take_error(struct worker *w);

/* What the outputs need to read this worker's flows (identical across workers). */
const struct feat_config *wrk_features(const struct worker *w);
size_t wrk_flow_size(const struct worker *w);
bool wrk_has_l7(const struct worker *w);
/* The flow layout (mtr_layout): where the statistics, SPLT, L7 and plugin state sit. */
const struct flow_layout *wrk_layout(const struct worker *w);
struct dpi_ctx *wrk_dpi(const struct worker *w);
/* Offset in a flow's ext[] of wrk_config.sink_ext's state (SIZE_MAX without one). */
size_t wrk_sink_ext_offset(const struct worker *w);

#endif
