/*
 * worker.c - the per-thread packet loop.
 */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dpi.h"
#include "plugin.h" /* plugin */
#include "ring.h"

/* How often (ms) a live worker advances its clock, expires flows and publishes counters. */
#define WRK_TICK_MS 100
#define WRK_TICK_BUDGET 100000
/* Flows waiting in the ring before a batch wakes a sleeping output thread; a tick (and the
 * end) wakes it for any. */
#define WRK_NOTIFY_MIN 128

/*
 * Packets are read and decoded in batches so that the flow table's cache misses overlap:
 * bucket prefetches are issued as packets are decoded, flow prefetches a few packets ahead of
 * processing. Processing stays strictly in capture order, so results are unchanged.
 */
#define WRK_BATCH 16
#define WRK_AHEAD 4
#define WRK_SNAP_MAX 262144 /* libpcap's largest snapshot length */

struct batch_pkt {
    struct pkt_meta m;
    enum dec_result r;
    uint32_t wirelen;
};

struct worker {
    struct wrk_config cfg;
    struct cap_source *src;
    struct meter *mt;
    struct dpi_ctx *dpi;
    struct plg_worker *plg; /* plugin: every --plugin, one extension after DPI */
    bool l7;
    size_t sink_off; /* wrk_config.sink_ext's state in ext[], SIZE_MAX = none */
    struct spsc_ring *ring;
    /* packet copies for the batch when a flow extension (DPI, a plugin) reads packet bytes during
     * metering: libpcap reuses its buffer at every read */
    uint8_t *copies;
    struct batch_pkt batch[WRK_BATCH];
    bool sampling; /* smp_interval > 0: packets go through smp first */
    struct smp smp;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_bool done;
    _Atomic uint64_t new_idle_ms;   /* UINT64_MAX = no change pending */
    _Atomic uint64_t new_active_ms;
    /* counters: written by the loop, snapshot under the lock at each tick and at the end */
    uint64_t ignored[DEC_NRESULTS];
    uint64_t ignored_octets;
    uint64_t ring_waits;
    pthread_mutex_t lock;
    struct wrk_stats snap;
    char error[600];
    bool has_error;
};

/* Meter emit callback in ring mode: copy the flow into the ring, waiting for room. */
static void
emit_to_ring(void *ctx, const struct flow *f)
{
    struct worker *w = ctx;
    size_t size = mtr_flow_size(w->mt);
    void *slot;

    /* The output thread drains every ring as it fills; waiting here only delays this worker
     * while the kernel ring (live) or the file (offline) holds the packets. Dropping a finished
     * flow is never an option. The wait blocks (no spinning) until a slot is released. */
    while ((slot = spsc_reserve(w->ring)) == NULL) {
        w->ring_waits++;
        spsc_wait_room(w->ring);
    }
    memcpy(slot, f, size);
    spsc_commit(w->ring);
}

/* The sink's extension, wrapped so that a due live update reaches this worker's ring: the
 * meter calls these with the worker as ctx. */
static void
sink_init(void *ctx, struct flow *f, void *state, const struct pkt_meta *m)
{
    struct worker *w = ctx;

    w->cfg.sink_ext.on_init(w->cfg.sink_ext.ctx, f, state, m);
}

static void
sink_update(void *ctx, struct flow *f, void *state, const struct pkt_meta *m)
{
    struct worker *w = ctx;

    if (!w->cfg.sink_due(w->cfg.sink_ext.ctx, f, state, m))
        return;
    if (w->ring != NULL)
        emit_to_ring(w, f); /* a copy: the ring's slot, no allocation, no I/O */
    else
        w->cfg.emit(w->cfg.emit_ctx, f);
    w->cfg.sink_reported(w->cfg.sink_ext.ctx, f, state);
}

static void
sink_expire(void *ctx, struct flow *f, void *state)
{
    struct worker *w = ctx;

    w->cfg.sink_ext.on_expire(w->cfg.sink_ext.ctx, f, state);
}

struct worker *
wrk_new(const struct wrk_config *c, char *err, size_t errlen)
{
    struct worker *w = calloc(1, sizeof(*w));
    struct mtr_ext ext[3];
    size_t n_ext = 0;

    if (w == NULL) {
        snprintf(err, errlen, "worker: %s", strerror(ENOMEM));
        return NULL;
    }
    w->cfg = *c;
    pthread_mutex_init(&w->lock, NULL);
    atomic_init(&w->stop, false);
    atomic_init(&w->done, false);
    atomic_init(&w->new_idle_ms, UINT64_MAX);
    atomic_init(&w->new_active_ms, UINT64_MAX);
    if (c->files != NULL)
        w->src = cap_open_files(c->files, c->n_files, c->bpf, err, errlen);
    else
        w->src = cap_open_live(&c->live, err, errlen);
    if (w->src == NULL)
        goto fail;
    if (c->smp_interval > 0) {
        if (smp_init(&w->smp, c->smp_mode, c->smp_interval, c->smp_seed, err, errlen) != 0)
            goto fail;
        w->sampling = true;
        w->snap.has_sampling = true; /* /metrics lists the families before the first tick */
    }
    if (c->n_dissections > 0) {
        struct dpi_config dc = {
            .n_dissections = c->n_dissections,
            .max_concurrent = c->dpi_max_concurrent,
            .protos_file = c->ndpi_protos,
            .categories_file = c->ndpi_categories,
        };
        w->dpi = dpi_new(&dc, err, errlen);
        if (w->dpi == NULL)
            goto fail;
        ext[n_ext++] = dpi_meter_ext(w->dpi);
    }
    /* BEGIN plugin: plugins run after DPI, so that they see this packet's labels (NFStream) */
    if (c->plugins != NULL && plg_count(c->plugins) > 0) {
        w->plg = plg_worker_new(c->plugins, err, errlen);
        if (w->plg == NULL)
            goto fail;
        ext[n_ext++] = plg_worker_ext(w->plg);
    }
    /* END plugin */
    size_t sink_i = n_ext;
    if (c->sink_ext.ext_size > 0) {
        ext[n_ext] = c->sink_ext;
        if (c->sink_due != NULL) {
            ext[n_ext].ctx = w;
            ext[n_ext].on_init = c->sink_ext.on_init != NULL ? sink_init : NULL;
            ext[n_ext].on_update = sink_update;
            ext[n_ext].on_expire = c->sink_ext.on_expire != NULL ? sink_expire : NULL;
        }
        n_ext++;
    }
    struct mtr_config mc = c->mc;
    mc.tunnel_id = c->decode_tunnels; /* part of the flow layout the outputs read */
    if (c->ring_slots > 0)
        w->mt = mtr_new(&mc, ext, n_ext, emit_to_ring, w, err, errlen);
    else
        w->mt = mtr_new(&mc, ext, n_ext, c->emit, c->emit_ctx, err, errlen);
    if (w->mt == NULL)
        goto fail;
    w->sink_off = c->sink_ext.ext_size > 0 ? mtr_ext_offset(w->mt, sink_i) : SIZE_MAX;
    w->l7 = w->dpi != NULL;
    /* BEGIN plugin */
    if (w->plg != NULL && plg_worker_bind(w->plg, w->mt, err, errlen) != 0)
        goto fail;
    /* END plugin */
    if (w->dpi != NULL || (w->plg != NULL && plg_wants_packets(c->plugins))) { /* plugin */
        w->copies = malloc((size_t)WRK_BATCH * WRK_SNAP_MAX);
        if (w->copies == NULL) {
            snprintf(err, errlen, "worker %u: cannot allocate its packet buffers", c->id);
            goto fail;
        }
    }
    if (c->ring_slots > 0 &&
        (w->ring = spsc_new(c->ring_slots, mtr_flow_size(w->mt))) == NULL) {
        snprintf(err, errlen, "worker %u: cannot allocate its flow ring", c->id);
        goto fail;
    }
    if (w->ring != NULL)
        spsc_set_doorbell(w->ring, c->doorbell, c->doorbell_ctx);
    return w;
fail:
    wrk_free(w);
    return NULL;
}

void
wrk_free(struct worker *w)
{
    if (w == NULL)
        return;
    mtr_free(w->mt);
    dpi_free(w->dpi);
    plg_worker_free(w->plg); /* plugin */
    cap_close(w->src);
    spsc_free(w->ring);
    free(w->copies);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

static void
publish_stats(struct worker *w)
{
    pthread_mutex_lock(&w->lock);
    cap_stats(w->src, &w->snap.cap);
    mtr_stats(w->mt, &w->snap.mtr);
    memcpy(w->snap.ignored, w->ignored, sizeof(w->ignored));
    w->snap.ignored_octets = w->ignored_octets;
    w->snap.ring_waits = w->ring_waits;
    w->snap.has_sampling = w->sampling;
    w->snap.smp_observed = w->smp.observed;
    w->snap.smp_selected = w->smp.selected;
    if (w->dpi != NULL) {
        w->snap.has_dpi = true;
        dpi_stats(w->dpi, &w->snap.dpi);
    }
    const char *e = cap_take_error(w->src);
    /* A read interrupted by the stop signal is the stop, not a cut file. */
    if (e != NULL && !(atomic_load(&w->stop) && strstr(e, "Interrupted system call") != NULL)) {
        snprintf(w->error, sizeof(w->error), "%s", e);
        w->has_error = true;
    }
    pthread_mutex_unlock(&w->lock);
}

/* Reads up to WRK_BATCH packets, decodes them and prefetches their buckets. */
static size_t
read_batch(struct worker *w, enum cap_result *last)
{
    struct cap_packet cp;
    size_t n = 0;

    while (n < WRK_BATCH) {
        *last = cap_next(w->src, &cp);
        if (*last != CAP_PACKET)
            break;
        /* Sampling comes first: a packet not selected costs no copy and no decoding. */
        if (w->sampling && !smp_select(&w->smp))
            continue;
        struct batch_pkt *b = &w->batch[n];
        const uint8_t *bytes = cp.bytes;
        if (w->copies != NULL) {
            uint32_t len = cp.caplen < WRK_SNAP_MAX ? cp.caplen : WRK_SNAP_MAX;
            uint8_t *copy = w->copies + n * (size_t)WRK_SNAP_MAX;
            memcpy(copy, cp.bytes, len);
            bytes = copy;
            cp.caplen = len;
        }
        b->r = dec_packet(cp.dlt, bytes, cp.caplen, cp.wirelen, w->cfg.decode_tunnels, &b->m);
        b->wirelen = cp.wirelen;
        if (b->r == DEC_OK) {
            b->m.time_ms = cp.time_ms;
            if (w->copies == NULL)
                b->m.ip_pkt = NULL; /* not valid after the next read; nobody needs it */
            mtr_prefetch(w->mt, &b->m);
        }
        n++;
    }
    return n;
}

void
wrk_run(struct worker *w)
{
    const bool live = cap_is_live(w->src);
    uint64_t next_tick = clk_mono_ms() + WRK_TICK_MS;
    enum cap_result last = CAP_PACKET;

    while (!mtr_done(w->mt)) {
        /* A live source ends by itself once stopped (after reading what the kernel holds);
         * files are simply not read further. */
        if (!live && atomic_load_explicit(&w->stop, memory_order_relaxed))
            break;
        size_t n = read_batch(w, &last);
        for (size_t i = 0; i < n && i < WRK_AHEAD; i++)
            if (w->batch[i].r == DEC_OK)
                mtr_prefetch_flow(w->mt, &w->batch[i].m);
        for (size_t i = 0; i < n && !mtr_done(w->mt); i++) {
            struct batch_pkt *b = &w->batch[i];
            if (i + WRK_AHEAD < n && w->batch[i + WRK_AHEAD].r == DEC_OK)
                mtr_prefetch_flow(w->mt, &w->batch[i + WRK_AHEAD].m);
            if (b->r == DEC_OK) {
                mtr_packet(w->mt, &b->m);
            } else {
                w->ignored[b->r]++;
                w->ignored_octets += b->wirelen;
            }
        }
        if (w->ring != NULL)
            spsc_notify(w->ring, WRK_NOTIFY_MIN);
        if (last == CAP_END)
            break;
        /* The clock is read once per batch, and on every read timeout (no traffic), which
         * is when timely expiry matters most. */
        uint64_t now = clk_mono_ms();
        if (now < next_tick)
            continue;
        next_tick = now + WRK_TICK_MS;
        if (w->ring != NULL)
            spsc_notify(w->ring, 1);
        uint64_t idle = atomic_exchange(&w->new_idle_ms, UINT64_MAX);
        if (idle != UINT64_MAX)
            mtr_set_timeouts(w->mt, idle, atomic_load(&w->new_active_ms));
        if (live)
            mtr_tick(w->mt, clk_wall_ms(), WRK_TICK_BUDGET);
        publish_stats(w);
    }
    if (!mtr_done(w->mt))
        mtr_flush(w->mt);
    publish_stats(w);
    atomic_store(&w->done, true);
    if (w->ring != NULL)
        spsc_ring_doorbell(w->ring); /* the consumer must see "done" even with nothing queued */
}

/*
 * Stopping a worker that is blocked reading a FIFO or standard input: the stop signal, sent to
 * that thread only, makes the read fail with EINTR (no SA_RESTART), and the worker then sees
 * its stop flag. Every other thread blocks it; its handler does nothing. A real-time signal,
 * so that no signal a user sends means this.
 */
#define WRK_STOP_SIGNAL (SIGRTMIN + 1)

static void
on_stop_signal(int sig)
{
    (void)sig;
}

static void
install_stop_signal(void)
{
    struct sigaction sa;
    sigset_t one;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(WRK_STOP_SIGNAL, &sa, NULL);
    /* The caller (the output thread) and the threads it starts later keep it blocked. */
    sigemptyset(&one);
    sigaddset(&one, WRK_STOP_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &one, NULL);
}

static void *
thread_main(void *arg)
{
    sigset_t all;
    /* Signals are the main thread's business; not the ones a fault raises in this thread
     * (SIGSYS: --seccomp names the forbidden call in its handler; blocked, the kernel would
     * kill the process without a word). */
    sigfillset(&all);
    sigdelset(&all, SIGSYS);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, WRK_STOP_SIGNAL);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
    wrk_run(arg);
    return NULL;
}

int
wrk_start(struct worker *w)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_stop_signal);
    int rc = pthread_create(&w->thread, NULL, thread_main, w);
    if (rc != 0)
        return -rc;
    w->started = true;
    return 0;
}

void
wrk_stop(struct worker *w)
{
    atomic_store(&w->stop, true);
    cap_break(w->src);
    /* A read blocked on a FIFO or a pipe returns (EINTR). A signal that comes just before the
     * read blocks is lost: the output loop calls this again every tick while stopping. */
    if (w->started && !atomic_load(&w->done))
        pthread_kill(w->thread, WRK_STOP_SIGNAL);
}

bool
wrk_done(const struct worker *w)
{
    return atomic_load(&w->done);
}

void
wrk_join(struct worker *w)
{
    if (w->started) {
        pthread_join(w->thread, NULL);
        w->started = false;
    }
}

struct flow *
wrk_peek(struct worker *w)
{
    return spsc_peek(w->ring);
}

void
wrk_release(struct worker *w)
{
    spsc_release(w->ring);
}

bool
wrk_arm(struct worker *w)
{
    return spsc_arm(w->ring);
}

void
wrk_stats(struct worker *w, struct wrk_stats *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->snap;
    pthread_mutex_unlock(&w->lock);
}

void
wrk_set_timeouts(struct worker *w, uint64_t idle_ms, uint64_t active_ms)
{
    atomic_store(&w->new_active_ms, active_ms);
    atomic_store(&w->new_idle_ms, idle_ms);
}

const char *
wrk_take_error(struct worker *w)
{
    static __thread char copy[600];
    const char *ret = NULL;

    pthread_mutex_lock(&w->lock);
    if (w->has_error) {
        snprintf(copy, sizeof(copy), "%s", w->error);
        w->has_error = false;
        ret = copy;
    }
    pthread_mutex_unlock(&w->lock);
    return ret;
}

const struct feat_config *
wrk_features(const struct worker *w)
{
    return mtr_features(w->mt);
}

size_t
wrk_flow_size(const struct worker *w)
{
    return mtr_flow_size(w->mt);
}

bool
wrk_has_l7(const struct worker *w)
{
    return w->l7;
}

const struct flow_layout *
wrk_layout(const struct worker *w)
{
    return mtr_layout(w->mt);
}

struct dpi_ctx *
wrk_dpi(const struct worker *w)
{
    return w->dpi;
}

size_t
wrk_sink_ext_offset(const struct worker *w)
{
    return w->sink_off;
}
