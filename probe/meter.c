/*
 * meter.c - NFStream's meter (meter.py consume/meter_scan/meter_cleanup) over a fixed table.
 */
#include "meter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h" /* FLD_G_ROUTE: the enrichment extension's size */
#include "flow_table.h"

/* NFStream scans for idle flows every 10 ms of packet time, at most 1000 flows per scan. */
#define MTR_SCAN_INTERVAL_MS 10
#define MTR_SCAN_BUDGET 1000
/* Flows prefetched ahead of the one being flushed. */
#define MTR_FLUSH_AHEAD 8

struct meter {
    struct mtr_config cfg;
    uint32_t lru_head; /* MTR_EXPIRY_TIMELY: least recently seen first (f->lru_prev/lru_next) */
    uint32_t lru_tail;
    struct feat_config feat;
    struct flow_layout layout;
    struct ft_table *tab;
    mtr_emit_fn emit;
    void *emit_ctx;
    struct mtr_ext ext[MTR_MAX_EXT];
    size_t n_ext;
    uint64_t tick;      /* monotonic packet clock (max time seen) */
    uint64_t scan_tick; /* clock at the last idle scan */
    uint64_t next_id;
    struct mtr_stats st;
};

/* Offset of extension i's state in ext[] (i == n: the end), as mtr_new() lays them out. */
static size_t
ext_layout(const struct mtr_config *c, const size_t *sizes, size_t n, size_t *offs)
{
    size_t off = (c->statistics ? FLOW_STATS_SIZE : 0) + feat_splt_size(c->splt_n);
    if (c->router) /* struct flow_router: updated per packet, so next to the flow's own lines */
        off = ((off + 7) & ~(size_t)7) + sizeof(struct flow_router);
    if (c->enrich != 0) /* struct flow_enrich, the output thread's (flow.h): routes or not */
        off = ((off + 7) & ~(size_t)7) +
              (c->enrich & FLD_G_ROUTE ? sizeof(struct flow_enrich) : FLOW_ENRICH_BASE_SIZE);
    for (size_t i = 0; i < n; i++) {
        off = (off + 7) & ~(size_t)7;
        if (offs != NULL)
            offs[i] = off;
        off += sizes[i];
    }
    return off;
}

int
mtr_size(const struct mtr_config *c, const size_t *ext_sizes, size_t n_ext,
         size_t extra_per_flow, uint64_t budget, struct mtr_sizing *out)
{
    memset(out, 0, sizeof(*out));
    out->slot_size = sizeof(struct flow) + ext_layout(c, ext_sizes, n_ext, NULL);
    /* The largest n whose table fits: the cost is monotonic in n, so bisect. */
    uint32_t lo = 0, hi = 1u << 30;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        uint64_t need = ft_table_bytes(mid, out->slot_size) + (uint64_t)mid * extra_per_flow;
        if (need <= budget)
            lo = mid;
        else
            hi = mid - 1;
    }
    out->fit = lo;
    out->max_flows = lo < c->max_flows ? lo : c->max_flows;
    uint32_t n = out->max_flows > 0 ? out->max_flows : 1;
    out->bytes = ft_table_bytes(out->max_flows, out->slot_size) +
                 (uint64_t)out->max_flows * extra_per_flow;
    out->per_flow = (size_t)((ft_table_bytes(n, out->slot_size) + (uint64_t)n * extra_per_flow) / n);
    return out->fit < MTR_MIN_FLOWS ? -ENOSPC : 0;
}

struct meter *
mtr_new(const struct mtr_config *c, const struct mtr_ext *exts, size_t n_ext, mtr_emit_fn emit,
        void *emit_ctx, char *err, size_t errlen)
{
    struct meter *mt;
    size_t off = c->statistics ? FLOW_STATS_SIZE : 0; /* statistics first, see flow.h */

    if (n_ext > MTR_MAX_EXT) {
        snprintf(err, errlen, "meter: too many flow extensions (%zu > %d)", n_ext, MTR_MAX_EXT);
        return NULL;
    }
    mt = calloc(1, sizeof(*mt));
    if (mt == NULL) {
        snprintf(err, errlen, "meter: out of memory");
        return NULL;
    }
    mt->cfg = *c;
    mt->emit = emit;
    mt->emit_ctx = emit_ctx;
    mt->feat.accounting_mode = c->accounting_mode;
    mt->feat.statistics = c->statistics;
    mt->feat.splt_n = c->splt_n;
    mt->feat.splt_off = off;
    size_t sizes[MTR_MAX_EXT] = {0}, offs[MTR_MAX_EXT];
    for (size_t i = 0; i < n_ext; i++)
        sizes[i] = exts[i].ext_size;
    off = ext_layout(c, sizes, n_ext, offs);
    for (size_t i = 0; i < n_ext; i++) {
        mt->ext[i] = exts[i];
        mt->ext[i].ext_off = offs[i];
    }
    mt->n_ext = n_ext;
    size_t router_off = (mt->feat.splt_off + feat_splt_size(c->splt_n) + 7) & ~(size_t)7;
    mt->layout = (struct flow_layout){
        .tunnel_id = c->tunnel_id,
        .statistics = c->statistics,
        .splt_n = c->splt_n,
        .splt_off = mt->feat.splt_off,
        .router = c->router,
        .router_off = router_off,
        .enrich = c->enrich,
        .enrich_off = router_off + (c->router ? sizeof(struct flow_router) : 0),
    };
    for (size_t i = 0; i < n_ext; i++) {
        if (exts[i].kind == MTR_EXT_L7) {
            mt->layout.l7 = true;
            mt->layout.l7_off = mt->ext[i].ext_off;
        } else if (exts[i].kind == MTR_EXT_PLUGINS) {
            mt->layout.plugins = true;
            mt->layout.plugin_off = mt->ext[i].ext_off;
        }
    }
    mt->tab = ft_new(c->max_flows, sizeof(struct flow) + off, c->seed, err, errlen);
    if (mt->tab == NULL) {
        free(mt);
        return NULL;
    }
    mt->lru_head = mt->lru_tail = FT_NONE;
    return mt;
}

void
mtr_free(struct meter *mt)
{
    if (mt == NULL)
        return;
    ft_free(mt->tab);
    free(mt);
}

/* Builds the canonical key and tells whether the packet's source is the key's hi endpoint. */
static int
make_key(const struct pkt_meta *m, struct flow_key *k)
{
    int c = memcmp(m->src_ip, m->dst_ip, 16);
    int src_hi = c > 0 || (c == 0 && m->src_port > m->dst_port);

    memset(k, 0, sizeof(*k));
    if (src_hi) {
        memcpy(k->lo_ip, m->dst_ip, 16);
        memcpy(k->hi_ip, m->src_ip, 16);
        k->lo_port = m->dst_port;
        k->hi_port = m->src_port;
    } else {
        memcpy(k->lo_ip, m->src_ip, 16);
        memcpy(k->hi_ip, m->dst_ip, 16);
        k->lo_port = m->src_port;
        k->hi_port = m->dst_port;
    }
    k->vlan_id = m->vlan_id;
    k->protocol = m->protocol;
    k->ip_version = m->ip_version;
    k->tunnel_id = m->tunnel_id;
    return src_hi;
}

/* LRU list of the timely policy: lru_prev = older, lru_next = newer. */
static void
lru_unlink(struct meter *mt, struct flow *f)
{
    if (f->lru_prev != FT_NONE)
        ft_at(mt->tab, f->lru_prev)->lru_next = f->lru_next;
    else
        mt->lru_head = f->lru_next;
    if (f->lru_next != FT_NONE)
        ft_at(mt->tab, f->lru_next)->lru_prev = f->lru_prev;
    else
        mt->lru_tail = f->lru_prev;
}

static void
lru_append(struct meter *mt, struct flow *f)
{
    uint32_t idx = ft_index(mt->tab, f);
    f->lru_prev = mt->lru_tail;
    f->lru_next = FT_NONE;
    if (mt->lru_tail != FT_NONE)
        ft_at(mt->tab, mt->lru_tail)->lru_next = idx;
    else
        mt->lru_head = idx;
    mt->lru_tail = idx;
}

static void *
ext_state(const struct meter *mt, size_t i, struct flow *f)
{
    return f->ext + mt->ext[i].ext_off;
}

/* Hands f to the sink and frees its slot. */
static void
emit_flow(struct meter *mt, struct flow *f, int8_t expiration_id, uint8_t end_reason)
{
    for (size_t i = 0; i < mt->n_ext; i++)
        if (mt->ext[i].on_expire != NULL)
            mt->ext[i].on_expire(mt->ext[i].ctx, f, ext_state(mt, i, f));
    f->expiration_id = expiration_id;
    f->end_reason = end_reason;
    f->id = mt->next_id++;
    switch (end_reason) {
    case FLOW_END_IDLE:
        mt->st.flows_idle++;
        break;
    case FLOW_END_ACTIVE:
        mt->st.flows_active++;
        break;
    case FLOW_END_RESOURCES:
        mt->st.flows_evicted++;
        break;
    default:
        if (expiration_id == FLOW_EXPIRY_CUSTOM)
            mt->st.flows_custom++;
        else
            mt->st.flows_flushed++;
        break;
    }
    /* A flow past --max-nflows is dropped, not emitted: NFStream stops iterating there. */
    if (mt->cfg.max_nflows == 0 || f->id < mt->cfg.max_nflows)
        mt->emit(mt->emit_ctx, f);
    if (mt->cfg.expiry == MTR_EXPIRY_TIMELY)
        lru_unlink(mt, f);
    ft_remove(mt->tab, f);
}

/*
 * The router fields (issue 13) of a new flow from its first packet. The slot is zeroed by the
 * table, so the reverse direction starts empty; ttl_min[1] is set at its first packet.
 */
static inline void
router_init(const struct meter *mt, struct flow *f, const struct pkt_meta *m)
{
    if (!mt->layout.router)
        return;
    struct flow_router *r = flow_router(&mt->layout, f);
    r->in_ifindex = mt->cfg.ifindex;
    r->vlan_outer = m->vlan_outer;
    r->vlan_inner = m->vlan_inner;
    r->ip_octets[0] = m->ip_octets;
    r->l2_octets[0] = m->wire_len;
    for (unsigned i = 0; i < m->mpls_n && i < FLOW_MPLS_MAX; i++) {
        r->mpls[i][0] = (uint8_t)(m->mpls[i] >> 16);
        r->mpls[i][1] = (uint8_t)(m->mpls[i] >> 8);
        r->mpls[i][2] = (uint8_t)m->mpls[i];
    }
    r->tos[0] = m->tos;
    r->ttl_min[0] = r->ttl_max[0] = m->ttl;
    r->frag_flags[0] = m->frag_flags;
    r->icmp_type_code[0] = m->icmp_type_code;
}

/* A later packet, after feat_update() set its direction. */
static inline void
router_update(const struct meter *mt, struct flow *f, const struct pkt_meta *m)
{
    if (!mt->layout.router)
        return;
    struct flow_router *r = flow_router(&mt->layout, f);
    unsigned d = m->direction != 0;
    if (d == 1 && f->dir[FLOW_D2S].packets == 1) { /* dst2src's first packet */
        r->tos[d] = m->tos;
        r->ttl_min[d] = r->ttl_max[d] = m->ttl;
        r->icmp_type_code[d] = m->icmp_type_code; /* an echo reply is not the request */
    } else if (m->ttl < r->ttl_min[d]) {
        r->ttl_min[d] = m->ttl;
    } else if (m->ttl > r->ttl_max[d]) {
        r->ttl_max[d] = m->ttl;
    }
    r->ip_octets[d] += m->ip_octets;
    r->l2_octets[d] += m->wire_len;
    r->frag_flags[d] |= m->frag_flags;
}

/* A custom expiration requested by an extension during this packet. */
static int
custom_end(const struct flow *f)
{
    return f->expiration_id == FLOW_EXPIRY_CUSTOM;
}

static void
create_flow(struct meter *mt, const struct flow_key *k, uint32_t hash, int src_hi,
            struct pkt_meta *m)
{
    struct flow *f = ft_insert(mt->tab, k, hash);
    if (f == NULL) {
        /* Table full: export a flow early rather than lose this one: the least recently
         * active one under the timely policy, the oldest (NFStream's cache head) otherwise. */
        struct flow *victim = mt->cfg.expiry == MTR_EXPIRY_TIMELY ? ft_at(mt->tab, mt->lru_head)
                                                                  : ft_oldest(mt->tab);
        emit_flow(mt, victim, FLOW_EXPIRY_IDLE, FLOW_END_RESOURCES);
        f = ft_insert(mt->tab, k, hash);
    }
    mt->st.flows_created++;
    if (ft_count(mt->tab) > mt->st.flows_peak)
        mt->st.flows_peak = ft_count(mt->tab);
    if (mt->cfg.expiry == MTR_EXPIRY_TIMELY)
        lru_append(mt, f);
    f->src_is_hi = (uint8_t)src_hi;
    memcpy(f->src_mac, m->src_mac, 6);
    memcpy(f->dst_mac, m->dst_mac, 6);
    router_init(mt, f, m);
    m->direction = 0;
    m->delta_time = 0;
    feat_init(&mt->feat, f, m);
    for (size_t i = 0; i < mt->n_ext; i++)
        if (mt->ext[i].on_init != NULL)
            mt->ext[i].on_init(mt->ext[i].ctx, f, ext_state(mt, i, f), m);
    if (custom_end(f))
        emit_flow(mt, f, FLOW_EXPIRY_CUSTOM, FLOW_END_FORCED);
}

/* NFStream meter_scan(): expire idle flows from the oldest on, stop at the first live one. */
static void
idle_scan(struct meter *mt)
{
    uint64_t idle = mt->cfg.idle_ms;

    for (unsigned n = 0; n < MTR_SCAN_BUDGET; n++) {
        struct flow *f = ft_oldest(mt->tab);
        /* tick - idle >= last_seen, without unsigned underflow */
        if (f == NULL || mt->tick < idle || mt->tick - idle < f->dir[FLOW_BIDI].last_seen_ms)
            return;
        emit_flow(mt, f, FLOW_EXPIRY_IDLE, FLOW_END_IDLE);
    }
}

void
mtr_packet(struct meter *mt, struct pkt_meta *m)
{
    struct flow_key k;
    int go_scan;

    if (m->time_ms > mt->tick) {
        mt->tick = m->time_ms;
    } else {
        if (m->time_ms < mt->tick)
            mt->st.ts_backwards++;
        m->time_ms = mt->tick;
    }
    mt->st.packets++;
    mt->st.bytes += m->raw_size;
    go_scan = mt->tick - mt->scan_tick >= MTR_SCAN_INTERVAL_MS;
    if (go_scan)
        mt->scan_tick = mt->tick;

    int src_hi = make_key(m, &k);
    uint32_t hash = m->hashed ? m->hash : ft_hash(mt->tab, &k);
    m->hash = hash;
    struct flow *f = ft_lookup(mt->tab, &k, hash);
    if (f == NULL) {
        create_flow(mt, &k, hash, src_hi, m);
    } else if (m->time_ms - f->dir[FLOW_BIDI].last_seen_ms >= mt->cfg.idle_ms) {
        emit_flow(mt, f, FLOW_EXPIRY_IDLE, FLOW_END_IDLE);
        create_flow(mt, &k, hash, src_hi, m);
    } else if (m->time_ms - f->dir[FLOW_BIDI].first_seen_ms >= mt->cfg.active_ms) {
        emit_flow(mt, f, FLOW_EXPIRY_ACTIVE, FLOW_END_ACTIVE);
        create_flow(mt, &k, hash, src_hi, m);
    } else {
        feat_update(&mt->feat, f, m);
        router_update(mt, f, m);
        if (mt->cfg.expiry == MTR_EXPIRY_TIMELY && mt->lru_tail != ft_index(mt->tab, f)) {
            lru_unlink(mt, f);
            lru_append(mt, f);
        }
        for (size_t i = 0; i < mt->n_ext; i++)
            if (mt->ext[i].on_update != NULL)
                mt->ext[i].on_update(mt->ext[i].ctx, f, ext_state(mt, i, f), m);
        if (custom_end(f))
            emit_flow(mt, f, FLOW_EXPIRY_CUSTOM, FLOW_END_FORCED);
    }
    if (go_scan && mt->cfg.expiry == MTR_EXPIRY_NFSTREAM)
        idle_scan(mt);
}

/* a - b, or 0 when b is later (a packet stamped slightly after the tick's clock). */
static inline uint64_t
elapsed(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

void
mtr_tick(struct meter *mt, uint64_t now_ms, unsigned budget)
{
    /* The tick's clock decides expiry only; it does not move the packet clock, so packets
     * captured before the tick but read after it keep their own timestamps. */
    if (mt->cfg.expiry != MTR_EXPIRY_TIMELY)
        return;
    /* Creation order is first_seen order: active timeouts are due from the oldest on. */
    while (budget > 0) {
        struct flow *f = ft_oldest(mt->tab);
        if (f == NULL || elapsed(now_ms, f->dir[FLOW_BIDI].first_seen_ms) < mt->cfg.active_ms)
            break;
        emit_flow(mt, f, FLOW_EXPIRY_ACTIVE, FLOW_END_ACTIVE);
        budget--;
    }
    /* LRU order is last_seen order: idle timeouts are due from the least recent on. */
    while (budget > 0 && mt->lru_head != FT_NONE) {
        struct flow *f = ft_at(mt->tab, mt->lru_head);
        if (elapsed(now_ms, f->dir[FLOW_BIDI].last_seen_ms) < mt->cfg.idle_ms)
            break;
        emit_flow(mt, f, FLOW_EXPIRY_IDLE, FLOW_END_IDLE);
        budget--;
    }
}

void
mtr_prefetch(struct meter *mt, struct pkt_meta *m)
{
    struct flow_key k;

    make_key(m, &k);
    m->hash = ft_hash(mt->tab, &k);
    m->hashed = 1;
    ft_prefetch_bucket(mt->tab, m->hash);
}

void
mtr_prefetch_flow(struct meter *mt, const struct pkt_meta *m)
{
    ft_prefetch_flow(mt->tab, m->hash);
}

void
mtr_set_timeouts(struct meter *mt, uint64_t idle_ms, uint64_t active_ms)
{
    mt->cfg.idle_ms = idle_ms;
    mt->cfg.active_ms = active_ms;
}

void
mtr_flush(struct meter *mt)
{
    struct flow *f, *ahead = ft_oldest(mt->tab);

    /* Every flow's bucket is a cache miss at removal: prefetch the bucket and the flow a few
     * flows ahead in creation order (emitting f never unlinks another flow). */
    for (int i = 0; ahead != NULL && i < MTR_FLUSH_AHEAD; i++)
        ahead = ft_next(mt->tab, ahead);
    while ((f = ft_oldest(mt->tab)) != NULL) {
        if (ahead != NULL) {
            ft_prefetch_bucket(mt->tab, ahead->hash);
            __builtin_prefetch(ahead);
            ahead = ft_next(mt->tab, ahead);
        }
        emit_flow(mt, f, FLOW_EXPIRY_IDLE, FLOW_END_FORCED);
    }
}

bool
mtr_done(const struct meter *mt)
{
    return mt->cfg.max_nflows != 0 && mt->next_id >= mt->cfg.max_nflows;
}

void
mtr_end_flow(struct meter *mt, struct flow *f)
{
    (void)mt;
    f->expiration_id = FLOW_EXPIRY_CUSTOM;
}

void
mtr_stats(const struct meter *mt, struct mtr_stats *out)
{
    *out = mt->st;
    out->flows_active_now = ft_count(mt->tab);
}

size_t
mtr_ext_offset(const struct meter *mt, size_t i)
{
    return mt->ext[i].ext_off;
}

const struct flow_layout *
mtr_layout(const struct meter *mt)
{
    return &mt->layout;
}

const struct feat_config *
mtr_features(const struct meter *mt)
{
    return &mt->feat;
}

size_t
mtr_flow_size(const struct meter *mt)
{
    return ft_flow_size(mt->tab);
}

size_t
mtr_memory(const struct meter *mt)
{
    return sizeof(*mt) + ft_memory(mt->tab);
}
