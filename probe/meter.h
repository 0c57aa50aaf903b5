/*
 * meter.h - turns decoded packets into flows: lookup, creation, update, expiry, emission.
 *
 * One meter per worker thread, owning one flow table. Finished flows are handed to an emit
 * callback (which must copy what it keeps: the flow's memory is reused right after).
 *
 * Expiry is one of two policies over the same table and flows (enum mtr_expiry):
 * MTR_EXPIRY_NFSTREAM reproduces NFStream's cache exactly (packet-driven, creation-ordered idle
 * scan every 10 ms of packet time, spec section 6), which offline output depends on;
 * MTR_EXPIRY_TIMELY keeps flows in LRU order too and expires them from mtr_tick(), driven by a
 * clock, so idle and active timeouts fire on time even when no packet arrives (live capture).
 * Flow contents are NFStream's under both; only when flows leave differs.
 */
#ifndef NFPROBE_METER_H
#define NFPROBE_METER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "features.h"
#include "flow.h"
#include "pkt.h"

struct meter;

/* A flow left the meter. f is valid only during the call. */
typedef void (*mtr_emit_fn)(void *ctx, const struct flow *f);

/*
 * A per-flow extension (DPI, plugins): called after the meter's own update of each packet, and
 * once before a flow is emitted. Any of the callbacks may be NULL. ext_size bytes of per-flow
 * state are reserved in struct flow's ext[] at ext_off (filled in by mtr_new()).
 */
/* What an extension's state is, for the flow layout (mtr_layout). */
enum mtr_ext_kind {
    MTR_EXT_OTHER = 0,
    MTR_EXT_L7,      /* its state begins with struct flow_l7 (dpi.c) */
    MTR_EXT_PLUGINS, /* the plugins' block (plugin.c) */
};

struct mtr_ext {
    enum mtr_ext_kind kind;
    void *ctx;
    size_t ext_size;
    size_t ext_off;
    void (*on_init)(void *ctx, struct flow *f, void *state, const struct pkt_meta *m);
    void (*on_update)(void *ctx, struct flow *f, void *state, const struct pkt_meta *m);
    void (*on_expire)(void *ctx, struct flow *f, void *state);
};

#define MTR_MAX_EXT 16

enum mtr_expiry {
    MTR_EXPIRY_NFSTREAM = 0,
    MTR_EXPIRY_TIMELY = 1,
};

struct mtr_config {
    enum mtr_expiry expiry;
    uint64_t idle_ms;        /* --idle-timeout * 1000 */
    uint64_t active_ms;      /* --active-timeout * 1000 */
    uint8_t accounting_mode;
    bool statistics;
    uint16_t splt_n;
    uint32_t max_flows;      /* table size; when full the oldest flow is evicted */
    uint64_t max_nflows;     /* stop after this many flows were emitted (0 = no limit) */
    uint64_t seed;           /* hash seed */
    bool tunnel_id;          /* decode_tunnels: flows report their tunnel (the layout says) */
    uint32_t enrich;         /* FLD_G_* the output thread fills (enr_groups()): when not 0,
                              * the slot has room for a struct flow_enrich (flow.h) */
    uint32_t ifindex;        /* the input's ifIndex, every flow's ingressInterface (0 = unknown) */
    bool router;             /* keep struct flow_router (flow.h): the run exports */
};

/* Meter counters; a snapshot is taken with mtr_stats(). */
struct mtr_stats {
    uint64_t packets;          /* metered packets */
    uint64_t bytes;            /* their wire bytes */
    uint64_t ts_backwards;     /* packets whose time was clamped to the meter clock */
    uint64_t flows_created;
    uint64_t flows_idle;       /* emitted on idle timeout (packet or scan) */
    uint64_t flows_active;     /* emitted on active timeout */
    uint64_t flows_flushed;    /* emitted at end of input */
    uint64_t flows_evicted;    /* emitted early because the table was full */
    uint64_t flows_custom;     /* ended by an extension (plugin) */
    uint64_t flows_active_now; /* flows in the table */
    uint64_t flows_peak;       /* most flows in the table at once */
};

/*
 * Creates a meter. exts (n_ext entries, may be 0) are copied; their ext_off is assigned.
 * Returns NULL and writes err on failure.
 */
struct meter *mtr_new(const struct mtr_config *c, const struct mtr_ext *exts, size_t n_ext,
                      mtr_emit_fn emit, void *emit_ctx, char *err, size_t errlen);
void mtr_free(struct meter *mt);

/*
 * Meters one decoded packet. m->time_ms is the packet's own time; the meter clamps it to its
 * monotonic clock (NFStream) and may emit flows (expiry on arrival, then the idle scan).
 */
void mtr_packet(struct meter *mt, struct pkt_meta *m);

/*
 * Under MTR_EXPIRY_TIMELY, emits every flow whose idle or active timeout has passed at now_ms
 * (a wall clock in the packets' time base), at most `budget` flows per call. The packet clock
 * is not moved. Does nothing under MTR_EXPIRY_NFSTREAM, whose expiry is packet-driven only.
 */
void mtr_tick(struct meter *mt, uint64_t now_ms, unsigned budget);

/*
 * Optional, for batches: computes m's flow hash and prefetches its bucket (stage 1), then the
 * flow itself (stage 2, once the bucket had time to arrive). mtr_packet() then finds both in
 * cache. Calling them changes no result.
 */
void mtr_prefetch(struct meter *mt, struct pkt_meta *m);
void mtr_prefetch_flow(struct meter *mt, const struct pkt_meta *m);

/* Changes the idle and active timeouts (SIGHUP reload); applies to the next checks. */
void mtr_set_timeouts(struct meter *mt, uint64_t idle_ms, uint64_t active_ms);

/* Emits every remaining flow in creation order (end of input / shutdown). */
void mtr_flush(struct meter *mt);

/* True once max_nflows flows were emitted: the caller stops reading. */
bool mtr_done(const struct meter *mt);

/* Asks the meter to end f after the current callback (a plugin's custom expiration). */
void mtr_end_flow(struct meter *mt, struct flow *f);

void mtr_stats(const struct meter *mt, struct mtr_stats *out);

/* Offset in struct flow's ext[] of the state of extension i (as passed to mtr_new()). */
size_t mtr_ext_offset(const struct meter *mt, size_t i);

/*
 * Where the extensions of this meter's flows are (statistics, SPLT, L7, plugins): computed once
 * in mtr_new(), the one layout every reader of a flow uses (flow.h accessors).
 */
const struct flow_layout *mtr_layout(const struct meter *mt);

/*
 * Sizing from a memory budget (--max-memory), before any allocation. A flow costs its slot
 * (struct flow, statistics, SPLT arrays, the extensions of ext_sizes), its share of the hash
 * slots, and extra_per_flow (the nDPI state each flow may hold). out->max_flows is the largest
 * table that fits budget, capped at c->max_flows (--max-flows is a cap, the budget a limit:
 * the smaller wins). Returns 0, or -ENOSPC when fewer than MTR_MIN_FLOWS flows fit.
 */
#define MTR_MIN_FLOWS 16
struct mtr_sizing {
    size_t slot_size;   /* bytes of one flow slot */
    size_t per_flow;    /* slot + hash-slot share + extra_per_flow (at the chosen size) */
    uint32_t fit;       /* flows the budget holds (capped at 2^30) */
    uint32_t max_flows; /* min(fit, c->max_flows): the table size to use */
    uint64_t bytes;     /* memory of a table of max_flows flows, extra included */
};
int mtr_size(const struct mtr_config *c, const size_t *ext_sizes, size_t n_ext,
             size_t extra_per_flow, uint64_t budget, struct mtr_sizing *out);

/* Feature layout (for readers of SPLT arrays), flow slot size, and per-flow bytes in use. */
const struct feat_config *mtr_features(const struct meter *mt);
size_t mtr_flow_size(const struct meter *mt);
size_t mtr_memory(const struct meter *mt);

#endif
