/*
 * splt.c - NFStream's SPLT plugin (plugins/splt.py) in C: the direction, size and inter-arrival
 * time of a flow's first packets, as the built-in --splt-analysis computes them.
 *
 *     nfprobe -r x.pcap --plugin probe/plugins/splt.so:sequence_length=20,accounting_mode=0
 *
 * Columns udps.splt_direction, udps.splt_ps, udps.splt_piat_ms: lists of sequence_length
 * entries, -1 where the flow had no packet. With the same N and accounting mode they equal the
 * built-in splt_direction, splt_ps and splt_piat_ms (tests/golden/plugin_golden.sh checks it).
 * sequence_length defaults to 20 (at most 23: a column's text is bounded), accounting_mode to 0
 * (0 raw, 1 IP, 2 transport, 3 payload size).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "nfprobe/plugin.h"

struct splt {
    uint32_t n;
    uint32_t accounting_mode;
    uint32_t ps_off;   /* int32_t splt_ps[n] */
    uint32_t piat_off; /* int64_t splt_piat_ms[n] */
    struct nfp_field fields[3];
};

static int
number_arg(const struct nfp_args *args, const char *key, unsigned long dflt, unsigned long lo,
           unsigned long hi, unsigned long *out, char *err, size_t errlen)
{
    const char *v = nfp_arg(args, key);
    char *end;

    *out = dflt;
    if (v == NULL)
        return 0;
    errno = 0;
    *out = strtoul(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || *out < lo || *out > hi) {
        snprintf(err, errlen, "%s '%s': expected a whole number in %lu..%lu", key, v, lo, hi);
        return -EINVAL;
    }
    return 0;
}

static int
load(struct nfp_setup *setup, const struct nfp_args *args, char *err, size_t errlen)
{
    static const char *const known[] = {"sequence_length", "accounting_mode", NULL};
    unsigned long n, am;
    struct splt *s;

    if (nfp_args_only(args, known, err, errlen) != 0 ||
        number_arg(args, "sequence_length", 20, 1, 65535, &n, err, errlen) != 0 ||
        number_arg(args, "accounting_mode", 0, 0, 3, &am, err, errlen) != 0)
        return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->n = (uint32_t)n;
    s->accounting_mode = (uint32_t)am;
    /* int8 directions, then int32 sizes, then int64 times, each naturally aligned */
    s->ps_off = (s->n + 3) & ~3u;
    s->piat_off = (s->ps_off + 4 * s->n + 7) & ~7u;
    s->fields[0] = (struct nfp_field){"splt_direction", NFP_I8, s->n, 0, 0, 0};
    s->fields[1] = (struct nfp_field){"splt_ps", NFP_I32, s->n, s->ps_off, 0, 0};
    s->fields[2] = (struct nfp_field){"splt_piat_ms", NFP_I64, s->n, s->piat_off, 0, 0};
    setup->fields = s->fields;
    setup->n_fields = 3;
    setup->udps_size = s->piat_off + 8 * s->n;
    setup->ctx = s;
    return 0;
}

static void
unload(void *ctx)
{
    free(ctx);
}

static int32_t
packet_size(const struct nfp_packet *pkt, uint32_t accounting_mode)
{
    switch (accounting_mode) {
    case 0:
        return pkt->raw_size;
    case 1:
        return pkt->ip_size;
    case 2:
        return pkt->transport_size;
    default:
        return pkt->payload_size;
    }
}

static void
record(const struct splt *s, struct nfp_flow *flow, uint32_t i, const struct nfp_packet *pkt)
{
    unsigned char *u = flow->udps;
    int8_t *dir = (int8_t *)u;
    int32_t *ps = (int32_t *)(void *)(u + s->ps_off);
    int64_t *piat = (int64_t *)(void *)(u + s->piat_off);

    dir[i] = (int8_t)pkt->direction;
    ps[i] = packet_size(pkt, s->accounting_mode);
    piat[i] = (int64_t)pkt->delta_time;
}

static void
on_init(void *ctx, struct nfp_flow *flow, const struct nfp_packet *pkt)
{
    const struct splt *s = ctx;
    unsigned char *u = flow->udps;
    int8_t *dir = (int8_t *)u;
    int32_t *ps = (int32_t *)(void *)(u + s->ps_off);
    int64_t *piat = (int64_t *)(void *)(u + s->piat_off);

    for (uint32_t i = 0; i < s->n; i++) {
        dir[i] = -1;
        ps[i] = -1;
        piat[i] = -1;
    }
    /* The first packet: direction 0, delta_time 0 (NFStream's on_init). */
    record(s, flow, 0, pkt);
}

static void
on_update(void *ctx, struct nfp_flow *flow, const struct nfp_packet *pkt)
{
    const struct splt *s = ctx;
    uint64_t packets = nfp_flow_u64(flow, NFP_BIDIRECTIONAL_PACKETS);

    if (packets <= s->n)
        record(s, flow, (uint32_t)(packets - 1), pkt);
}

NFP_DESCRIPTOR = {
    .abi_version = NFP_ABI_VERSION,
    .size = sizeof(struct nfp_plugin),
    .name = "splt",
    .load = load,
    .unload = unload,
    .on_init = on_init,
    .on_update = on_update,
};
