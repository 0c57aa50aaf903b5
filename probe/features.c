/*
 * features.c - NFStream's flow_init_* / flow_update_* (lib_engine.c), operation for operation.
 *
 * SPLT layout in ext[]: uint32 piat[N], uint16 ps[N], uint8 dir[N]. piat is stored in 32 bits:
 * an inter-arrival inside a flow is below the idle timeout, so it only saturates for idle
 * timeouts above 49.7 days.
 */
#include "features.h"

#include <math.h>
#include <string.h>

size_t
feat_splt_size(uint16_t n)
{
    return (size_t)n * (sizeof(uint32_t) + sizeof(uint16_t) + sizeof(uint8_t));
}

static uint32_t *
splt_piat(const struct feat_config *c, struct flow *f)
{
    return (uint32_t *)(void *)(f->ext + c->splt_off);
}

static uint16_t *
splt_ps(const struct feat_config *c, struct flow *f)
{
    return (uint16_t *)(void *)(f->ext + c->splt_off + (size_t)c->splt_n * sizeof(uint32_t));
}

static uint8_t *
splt_dir(const struct feat_config *c, struct flow *f)
{
    return f->ext + c->splt_off + (size_t)c->splt_n * (sizeof(uint32_t) + sizeof(uint16_t));
}

const uint32_t *
feat_splt_piat(const struct feat_config *c, const struct flow *f)
{
    return splt_piat(c, (struct flow *)f);
}

const uint16_t *
feat_splt_ps(const struct feat_config *c, const struct flow *f)
{
    return splt_ps(c, (struct flow *)f);
}

const uint8_t *
feat_splt_dir(const struct feat_config *c, const struct flow *f)
{
    return splt_dir(c, (struct flow *)f);
}

uint16_t
feat_pkt_size(const struct pkt_meta *m, uint8_t accounting_mode)
{
    switch (accounting_mode) {
    case 0:
        return m->raw_size;
    case 1:
        return m->ip_size;
    case 2:
        return m->transport_size;
    default:
        return m->payload_size;
    }
}

/* Counts the packet's TCP flags in NFStream's column order: syn cwr ece urg ack psh rst fin. */
static void
count_flags(struct flow_stats *s, uint8_t fl)
{
    s->flag_count[0] += (fl & PKT_SYN) != 0;
    s->flag_count[1] += (fl & PKT_CWR) != 0;
    s->flag_count[2] += (fl & PKT_ECE) != 0;
    s->flag_count[3] += (fl & PKT_URG) != 0;
    s->flag_count[4] += (fl & PKT_ACK) != 0;
    s->flag_count[5] += (fl & PKT_PSH) != 0;
    s->flag_count[6] += (fl & PKT_RST) != 0;
    s->flag_count[7] += (fl & PKT_FIN) != 0;
}

static void
ps_init(struct flow_stats *s, uint16_t size)
{
    s->min_ps = s->max_ps = size;
    s->mean_ps = size;
}

/* Welford step; n is the direction's packet count including this packet. */
static void
ps_update(struct flow_stats *s, uint16_t size, uint64_t n)
{
    if (size > s->max_ps)
        s->max_ps = size;
    if (size < s->min_ps)
        s->min_ps = size;
    double old = s->mean_ps;
    s->mean_ps += (size - old) / (double)n;
    s->m2_ps += (size - old) * (size - s->mean_ps);
}

static void
piat_init(struct flow_stats *s, uint64_t piat)
{
    s->min_piat = s->max_piat = piat;
    s->mean_piat = (double)piat;
}

/* Welford step over intervals; n is the packet count, so n - 1 intervals. */
static void
piat_update(struct flow_stats *s, uint64_t piat, uint64_t n)
{
    if (piat > s->max_piat)
        s->max_piat = piat;
    if (piat < s->min_piat)
        s->min_piat = piat;
    double old = s->mean_piat;
    s->mean_piat += ((double)piat - old) / (double)(n - 1);
    s->m2_piat += ((double)piat - old) * ((double)piat - s->mean_piat);
}

void
feat_init(const struct feat_config *c, struct flow *f, const struct pkt_meta *m)
{
    uint16_t size = feat_pkt_size(m, c->accounting_mode);
    struct flow_stats *st = c->statistics ? flow_stats(f) : NULL;

    for (int d = FLOW_BIDI; d <= FLOW_S2D; d++) {
        f->dir[d].first_seen_ms = f->dir[d].last_seen_ms = m->time_ms;
        f->dir[d].packets = 1;
        f->dir[d].bytes = size;
        f->tcp_flags_or[d] = m->tcp_flags;
        if (st != NULL) {
            ps_init(&st[d], size);
            count_flags(&st[d], m->tcp_flags);
        }
    }
    if (c->splt_n > 0) {
        splt_piat(c, f)[0] = 0;
        splt_ps(c, f)[0] = size;
        splt_dir(c, f)[0] = 0;
        f->splt_len = 1;
    }
}

/* NFStream flow_set_packet_direction(): ports first, then addresses. */
static uint8_t
packet_direction(const struct flow *f, const struct pkt_meta *m)
{
    if (flow_src_port(f) != m->src_port || flow_dst_port(f) != m->dst_port)
        return 1;
    if (memcmp(flow_src_ip(f), m->src_ip, 16) != 0 || memcmp(flow_dst_ip(f), m->dst_ip, 16) != 0)
        return 1;
    return 0;
}

void
feat_update(const struct feat_config *c, struct flow *f, struct pkt_meta *m)
{
    uint16_t size = feat_pkt_size(m, c->accounting_mode);
    struct flow_dir *b = &f->dir[FLOW_BIDI];
    uint64_t piat = m->time_ms - b->last_seen_ms;
    struct flow_stats *st = c->statistics ? flow_stats(f) : NULL;

    m->direction = packet_direction(f, m);
    m->delta_time = piat;
    b->packets++;
    if (c->splt_n > 0 && b->packets - 1 < c->splt_n) {
        uint32_t k = (uint32_t)(b->packets - 1);
        splt_piat(c, f)[k] = piat > UINT32_MAX ? UINT32_MAX : (uint32_t)piat;
        splt_ps(c, f)[k] = size;
        splt_dir(c, f)[k] = m->direction;
        f->splt_len = (uint16_t)(k + 1);
    }
    b->last_seen_ms = m->time_ms;
    b->bytes += size;
    f->tcp_flags_or[FLOW_BIDI] |= m->tcp_flags;
    if (st != NULL) {
        count_flags(&st[FLOW_BIDI], m->tcp_flags);
        ps_update(&st[FLOW_BIDI], size, b->packets);
        if (b->packets == 2)
            piat_init(&st[FLOW_BIDI], piat);
        else
            piat_update(&st[FLOW_BIDI], piat, b->packets);
    }

    int dn = m->direction == 0 ? FLOW_S2D : FLOW_D2S;
    struct flow_dir *d = &f->dir[dn];
    d->packets++;
    d->bytes += size;
    f->tcp_flags_or[dn] |= m->tcp_flags;
    if (d->packets == 1) {
        /* Only dst2src can start here: its first packet initialises, no interval yet. */
        d->first_seen_ms = d->last_seen_ms = m->time_ms;
        if (st != NULL) {
            ps_init(&st[dn], size);
            count_flags(&st[dn], m->tcp_flags);
        }
        return;
    }
    uint64_t dpiat = m->time_ms - d->last_seen_ms;
    d->last_seen_ms = m->time_ms;
    if (st != NULL) {
        ps_update(&st[dn], size, d->packets);
        count_flags(&st[dn], m->tcp_flags);
        if (d->packets == 2)
            piat_init(&st[dn], dpiat);
        else
            piat_update(&st[dn], dpiat, d->packets);
    }
}

double
feat_stddev_ps(const struct flow_stats *s, uint64_t packets)
{
    return packets > 1 ? sqrt(s->m2_ps / (double)(packets - 1)) : 0.0;
}

double
feat_stddev_piat(const struct flow_stats *s, uint64_t packets)
{
    return packets > 2 ? sqrt(s->m2_piat / (double)(packets - 2)) : 0.0;
}
