/*
 * export_v5.c - NetFlow v5 encoder. See export_v5.h.
 */
#include "export_v5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "export_enc.h"
#include "fields.h"
#include "sampling.h"

struct nf5_ctx {
    struct nf5_config cfg;
    uint32_t sequence;
    uint64_t split_done; /* records already made of the first flow of the next call */
    struct nf5_stats st;
};

struct nf5_ctx *
nf5_new(const struct nf5_config *cfg, char *err, size_t errlen)
{
    if (cfg->sampling_interval > NF5_SAMPLING_MAX_INTERVAL) {
        snprintf(err, errlen, "NetFlow v5: sampling interval %u above %u", cfg->sampling_interval,
                 NF5_SAMPLING_MAX_INTERVAL);
        return NULL;
    }
    if ((unsigned)cfg->sampling_mode > NF5_SAMPLING_RANDOM) {
        snprintf(err, errlen, "NetFlow v5: unknown sampling mode %d", (int)cfg->sampling_mode);
        return NULL;
    }
    struct nf5_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "NetFlow v5: out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    return c;
}

void
nf5_free(struct nf5_ctx *c)
{
    free(c);
}

const struct nf5_stats *
nf5_stats(const struct nf5_ctx *c)
{
    return &c->st;
}

uint32_t
nf5_sequence(const struct nf5_ctx *c)
{
    return c->sequence;
}

static void
put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Records a direction needs: each counter below 2^32. */
static uint64_t
records_for(const struct nf5_flow *f)
{
    uint64_t max = f->packets > f->octets ? f->packets : f->octets;
    return max / UINT32_MAX + (max % UINT32_MAX != 0);
}

static uint32_t
uptime(struct nf5_ctx *c, uint64_t t)
{
    if (t < c->cfg.boot_ms) {
        c->st.time_clamped++;
        return 0;
    }
    return (uint32_t)(t - c->cfg.boot_ms);
}

static uint16_t
as16(struct nf5_ctx *c, uint32_t as)
{
    if (as <= 0xffff)
        return (uint16_t)as;
    c->st.as_trans++;
    return NF5_AS_TRANS;
}

static uint16_t
if16(struct nf5_ctx *c, uint32_t ifindex)
{
    if (ifindex <= 0xffff)
        return (uint16_t)ifindex;
    c->st.ifindex_clamped++;
    return 0;
}

/* Record j of k of f: counters split evenly, the remainder on the first ones. */
static void
put_record(struct nf5_ctx *c, uint8_t *r, const struct nf5_flow *f, uint64_t j, uint64_t k)
{
    uint64_t pk = f->packets / k + (j < f->packets % k);
    uint64_t oc = f->octets / k + (j < f->octets % k);

    memset(r, 0, NF5_RECORD_LEN);
    put32(r + 0, f->src);
    put32(r + 4, f->dst);
    put32(r + 8, f->nexthop);
    put16(r + 12, if16(c, f->input));
    put16(r + 14, if16(c, f->output));
    put32(r + 16, (uint32_t)pk);
    put32(r + 20, (uint32_t)oc);
    put32(r + 24, uptime(c, f->first_ms));
    put32(r + 28, uptime(c, f->last_ms));
    put16(r + 32, f->sport);
    put16(r + 34, f->dport);
    r[37] = f->tcp_flags;
    r[38] = f->proto;
    r[39] = f->tos;
    put16(r + 40, as16(c, f->src_as));
    put16(r + 42, as16(c, f->dst_as));
    r[44] = f->src_mask;
    r[45] = f->dst_mask;
}

size_t
nf5_encode(struct nf5_ctx *c, const struct nf5_flow *flows, size_t n, uint64_t now_ms,
           uint8_t *buf, size_t cap, size_t *consumed)
{
    size_t room = cap < NF5_HEADER_LEN ? 0 : (cap - NF5_HEADER_LEN) / NF5_RECORD_LEN;
    size_t count = 0, i = 0;

    if (room > NF5_MAX_RECORDS)
        room = NF5_MAX_RECORDS;
    while (i < n && count < room) {
        const struct nf5_flow *f = &flows[i];
        if (f->family != 4) {
            c->st.not_exportable_v6++;
            c->split_done = 0;
            i++;
            continue;
        }
        if (f->packets == 0) {
            c->st.empty_directions++;
            c->split_done = 0;
            i++;
            continue;
        }
        uint64_t k = records_for(f);
        while (c->split_done < k && count < room) {
            put_record(c, buf + NF5_HEADER_LEN + count * NF5_RECORD_LEN, f, c->split_done, k);
            if (c->split_done > 0)
                c->st.split_records++;
            c->split_done++;
            count++;
        }
        if (c->split_done < k)
            break; /* the rest of this flow goes in the next packet */
        c->split_done = 0;
        i++;
    }
    *consumed = i;
    if (count == 0)
        return 0;
    uint32_t up = now_ms >= c->cfg.boot_ms ? (uint32_t)(now_ms - c->cfg.boot_ms) : 0;
    put16(buf + 0, 5);
    put16(buf + 2, (uint32_t)count);
    put32(buf + 4, up);
    put32(buf + 8, (uint32_t)(now_ms / 1000));
    put32(buf + 12, (uint32_t)(now_ms % 1000 * 1000000));
    put32(buf + 16, c->sequence);
    buf[20] = c->cfg.engine_type;
    buf[21] = c->cfg.engine_id;
    put16(buf + 22, (uint32_t)c->cfg.sampling_mode << 14 | c->cfg.sampling_interval);
    c->sequence += (uint32_t)count;
    c->st.records += count;
    c->st.packets++;
    return NF5_HEADER_LEN + count * NF5_RECORD_LEN;
}

void
nf5_set_boot(struct nf5_ctx *c, uint64_t boot_ms)
{
    c->cfg.boot_ms = boot_ms;
}

/* ------------------------------------------------------------------ export.c's encoder */

/* What a v5 record carries, by IPFIX element name: rows absent from the catalogue give 0. */
enum v5_el {
    EL_SRC, EL_DST, EL_SPORT, EL_DPORT, EL_PROTO, EL_IPV, EL_ICMP, EL_FLAGS, EL_TOS, EL_IN,
    EL_OUT, EL_SAS, EL_DAS, EL_SMASK, EL_DMASK, EL_NEXTHOP, EL_PKTS, EL_OCTETS, EL_FIRST,
    EL_LAST, EL_N
};

static const char *const v5_elements[EL_N] = {
    [EL_SRC] = "sourceIPv4Address",
    [EL_DST] = "destinationIPv4Address",
    [EL_SPORT] = "sourceTransportPort",
    [EL_DPORT] = "destinationTransportPort",
    [EL_PROTO] = "protocolIdentifier",
    [EL_IPV] = "ipVersion",
    [EL_ICMP] = "icmpTypeCodeIPv4",
    [EL_FLAGS] = "tcpControlBits",
    [EL_TOS] = "ipClassOfService",
    [EL_IN] = "ingressInterface",
    [EL_OUT] = "egressInterface",
    [EL_SAS] = "bgpSourceAsNumber",
    [EL_DAS] = "bgpDestinationAsNumber",
    [EL_SMASK] = "sourceIPv4PrefixLength",
    [EL_DMASK] = "destinationIPv4PrefixLength",
    [EL_NEXTHOP] = "ipNextHopIPv4Address",
    [EL_PKTS] = "packetDeltaCount",
    [EL_OCTETS] = "octetDeltaCount", /* IP-layer octets, as the catalogue's row counts them */
    [EL_FIRST] = "flowStartMilliseconds",
    [EL_LAST] = "flowEndMilliseconds",
};

/* sysUptime is 32-bit ms (49.7 days): the origin sits 2^30 ms (12.4 days) before the first
 * flow and moves when the uptime passes 3 * 2^30 ms. A capture replayed more than 2^30 ms
 * after it was taken is dated by its own clock (the latest flow end), not the wall clock. */
#define NF5_BOOT_BACK_MS (UINT64_C(1) << 30)
#define NF5_REBASE_MS (UINT64_C(3) << 30)

struct pend_info {
    bool last;        /* the flow's last direction: the flow counts as sent with it */
    uint64_t packets; /* both directions' counters, on the last one (notSent accounting) */
    uint64_t octets;
};

struct nf5_enc {
    struct exp_enc_params p;
    struct nf5_ctx *c;
    int row[2][EL_N]; /* forward, reverse: the catalogue row of each element, -1 = none */
    struct nf5_flow pend[NF5_MAX_RECORDS];
    struct pend_info pinfo[NF5_MAX_RECORDS];
    size_t n_pend;
    uint64_t clock_ms; /* the latest flow end seen */
    uint64_t boot_ms;
    bool boot_set;
    uint64_t not_exportable;
    uint8_t buf[NF5_MAX_PACKET];
};

static uint64_t
row_num(const struct nf5_enc *e, int row, const struct flow *f)
{
    union fld_value v;

    if (row < 0)
        return 0;
    fld_get((enum fld_id)row, &e->p.layout, f, &v);
    switch (fld_defs[row].type) {
    case FLD_T_U64:
    case FLD_T_APPID:
        return v.u;
    case FLD_T_I64:
        return v.i < 0 ? 0 : (uint64_t)v.i;
    case FLD_T_IP: /* the first 4 octets are the IPv4 address, network order */
        return (uint64_t)v.b[0] << 24 | (uint64_t)v.b[1] << 16 | (uint64_t)v.b[2] << 8 | v.b[3];
    default:
        return 0;
    }
}

/* Direction dir (0 forward, 1 reverse) of f as a v5 record; false when it saw no packet. */
static bool
make_dir(const struct nf5_enc *e, const struct flow *f, int dir, struct nf5_flow *o)
{
    const int *r = e->row[dir];

    memset(o, 0, sizeof(*o));
    o->packets = row_num(e, r[EL_PKTS], f);
    if (o->packets == 0)
        return false;
    o->family = 4;
    o->src = (uint32_t)row_num(e, r[EL_SRC], f);
    o->dst = (uint32_t)row_num(e, r[EL_DST], f);
    o->proto = (uint8_t)row_num(e, r[EL_PROTO], f);
    if ((o->proto == 1) && r[EL_ICMP] >= 0) {
        o->sport = 0; /* as routers send ICMP: dstport = type << 8 | code */
        o->dport = (uint16_t)row_num(e, r[EL_ICMP], f);
    } else {
        o->sport = (uint16_t)row_num(e, r[EL_SPORT], f);
        o->dport = (uint16_t)row_num(e, r[EL_DPORT], f);
    }
    o->tcp_flags = (uint8_t)row_num(e, r[EL_FLAGS], f);
    o->tos = (uint8_t)row_num(e, r[EL_TOS], f);
    o->input = (uint32_t)row_num(e, r[EL_IN], f);
    o->output = (uint32_t)row_num(e, r[EL_OUT], f);
    o->src_as = (uint32_t)row_num(e, r[EL_SAS], f);
    o->dst_as = (uint32_t)row_num(e, r[EL_DAS], f);
    o->src_mask = (uint8_t)row_num(e, r[EL_SMASK], f);
    o->dst_mask = (uint8_t)row_num(e, r[EL_DMASK], f);
    o->nexthop = (uint32_t)row_num(e, r[EL_NEXTHOP], f);
    o->octets = row_num(e, r[EL_OCTETS], f);
    if (e->p.sampling.upscale > 1) { /* --sampling-upscale */
        o->packets = smp_scale(o->packets, e->p.sampling.upscale);
        o->octets = smp_scale(o->octets, e->p.sampling.upscale);
    }
    o->first_ms = row_num(e, r[EL_FIRST], f);
    o->last_ms = row_num(e, r[EL_LAST], f);
    return true;
}

/* The header's time: the wall clock (or the fixed export time), unless the flows are too old
 * for sysUptime to reach them (a replayed capture): then the capture's clock. */
static uint64_t
v5_now(const struct nf5_enc *e)
{
    uint64_t now = e->p.export_time_s != 0 ? (uint64_t)e->p.export_time_s * 1000 : clk_wall_ms();

    if (e->clock_ms != 0 && (now < e->clock_ms || now - e->clock_ms > NF5_BOOT_BACK_MS))
        now = e->clock_ms;
    return now;
}

/* Encodes the queued directions into packets (one unless a counter split) for the sink. */
static void
v5_emit(struct nf5_enc *e)
{
    uint64_t now = v5_now(e), oldest = now;
    size_t i = 0;

    if (e->n_pend == 0)
        return;
    for (size_t k = 0; k < e->n_pend; k++)
        if (e->pend[k].first_ms < oldest)
            oldest = e->pend[k].first_ms;
    if (!e->boot_set || oldest < e->boot_ms || now - e->boot_ms > NF5_REBASE_MS) {
        e->boot_ms = oldest > NF5_BOOT_BACK_MS ? oldest - NF5_BOOT_BACK_MS : 0;
        e->boot_set = true;
        nf5_set_boot(e->c, e->boot_ms);
    }
    while (i < e->n_pend) {
        struct exp_msg_info info = {0};
        size_t used = 0;
        size_t len = nf5_encode(e->c, e->pend + i, e->n_pend - i, now, e->buf, sizeof(e->buf),
                                &used);
        for (size_t k = i; k < i + used; k++) {
            info.flows += e->pinfo[k].last;
            info.packets += e->pinfo[k].packets;
            info.octets += e->pinfo[k].octets;
        }
        if (len > 0) {
            info.records = (uint32_t)(e->buf[2] << 8 | e->buf[3]);
            e->p.sink(e->p.sink_ctx, e->buf, len, &info);
        } else if (used == 0) {
            break; /* not reached: a queued direction always makes a record */
        }
        i += used;
    }
    e->n_pend = 0;
}

static void
v5_free(void *enc)
{
    struct nf5_enc *e = enc;

    if (e == NULL)
        return;
    nf5_free(e->c);
    free(e);
}

static void *
v5_open(const struct exp_enc_params *p, char *err, size_t errlen)
{
    struct nf5_enc *e = calloc(1, sizeof(*e));
    uint16_t map[2][FLD_COUNT];
    uint32_t groups = fld_groups(&p->layout) | FLD_G_V4;

    if (e == NULL) {
        snprintf(err, errlen, "NetFlow v5: out of memory");
        return NULL;
    }
    e->p = *p;
    struct nf5_config c = {
        .engine_type = p->engine_type,
        .engine_id = p->engine_id,
        .sampling_mode = p->sampling.interval <= 1          ? NF5_SAMPLING_NONE
                         : p->sampling.mode == SMP_RANDOM ? NF5_SAMPLING_RANDOM
                                                          : NF5_SAMPLING_DETERMINISTIC,
    };
    if (p->sampling.interval > NF5_SAMPLING_MAX_INTERVAL) {
        snprintf(err, errlen, "NetFlow v5 carries a sampling interval up to %u, not %u (--sampling)",
                 NF5_SAMPLING_MAX_INTERVAL, p->sampling.interval);
        v5_free(e);
        return NULL;
    }
    c.sampling_interval = c.sampling_mode == NF5_SAMPLING_NONE ? 0 : (uint16_t)p->sampling.interval;
    if ((e->c = nf5_new(&c, err, errlen)) == NULL) {
        v5_free(e);
        return NULL;
    }
    fld_direction_map(FLOW_S2D, groups, map[0]);
    fld_direction_map(FLOW_D2S, groups, map[1]);
    for (int d = 0; d < 2; d++)
        for (int k = 0; k < EL_N; k++) {
            int id = fld_by_ipfix(v5_elements[k]);
            e->row[d][k] = -1;
            if (id >= 0 && fld_enabled((enum fld_id)map[d][id], groups))
                e->row[d][k] = map[d][id];
        }
    return e;
}

static int
v5_nothing(void *enc, const struct exp_opt_data *od)
{
    (void)enc;
    (void)od;
    return 0; /* v5 has no templates nor options */
}

static int
v5_flow(void *enc, const struct flow *f)
{
    struct nf5_enc *e = enc;
    struct nf5_flow d[2];
    size_t n = 0;

    if (row_num(e, e->row[0][EL_IPV], f) != 4) {
        e->not_exportable++;
        return 0;
    }
    if (f->dir[FLOW_BIDI].last_seen_ms > e->clock_ms)
        e->clock_ms = f->dir[FLOW_BIDI].last_seen_ms;
    for (int dir = 0; dir < 2; dir++)
        n += make_dir(e, f, dir, &d[n]);
    /* Datagrams are filled: a flow's two directions may go in two of them. */
    for (size_t k = 0; k < n; k++) {
        e->pend[e->n_pend] = d[k];
        e->pinfo[e->n_pend] = (struct pend_info){
            .last = k == n - 1,
            .packets = k == n - 1 ? f->dir[FLOW_BIDI].packets : 0,
            .octets = k == n - 1 ? f->dir[FLOW_BIDI].bytes : 0,
        };
        if (++e->n_pend == NF5_MAX_RECORDS)
            v5_emit(e);
    }
    return 0;
}

static int
v5_flush(void *enc)
{
    v5_emit(enc);
    return 0;
}

static void
v5_discard(void *enc, struct exp_msg_info *lost)
{
    struct nf5_enc *e = enc;

    if (lost != NULL) {
        memset(lost, 0, sizeof(*lost));
        for (size_t k = 0; k < e->n_pend; k++) {
            lost->records++;
            lost->flows += e->pinfo[k].last;
            lost->packets += e->pinfo[k].packets;
            lost->octets += e->pinfo[k].octets;
        }
    }
    e->n_pend = 0;
}

static bool
v5_partial(const void *enc)
{
    return ((const struct nf5_enc *)enc)->n_pend > 0;
}

static uint64_t
v5_not_exportable(const void *enc)
{
    return ((const struct nf5_enc *)enc)->not_exportable;
}

const struct exp_encoder_ops nf5_encoder_ops = {
    .scheme = "v5",
    .open = v5_open,
    .free = v5_free,
    .session = v5_nothing,
    .refresh = v5_nothing,
    .options = v5_nothing,
    .flow = v5_flow,
    .flush = v5_flush,
    .discard = v5_discard,
    .partial = v5_partial,
    .not_exportable = v5_not_exportable,
    .msg_len = NF5_MAX_PACKET,
    .udp_only = true,
};
