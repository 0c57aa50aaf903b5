/*
 * export_v5.c - NetFlow v5 encoder. See export_v5.h.
 */
#include "export_v5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
