/*
 * plugin_fixture.c - plugins for tests/unit/test_plugin.c, one per -DFIXTURE_<name>: a good one
 * exercising every field type, the accessors and custom expiration, and broken ones the loader
 * must refuse with a clear message.
 *
 * The good plugin's arguments: counter=HEX (address of an int in the test process, +1 at load,
 * -1 at unload: the test sees what stays loaded), end=N (end flows after N packets), tag=TEXT
 * (udps.label), want=1 (ask for packet bytes), fail=1 (load() fails).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfprobe/plugin.h"

/* Each variant uses some of what follows. */
#define UNUSED __attribute__((unused))

struct udps {
    uint64_t packets;
    int64_t neg_bytes;
    double ratio;
    int16_t arr[3];
    char label[16];
    NFP_BYTES_T(4) raw;
    uint8_t first_dir;
};

struct ctx {
    int *counter;
    uint64_t end;
    int want;
    char tag[16];
};

UNUSED static const struct nfp_field good_fields[] = {
    NFP_FIELD(struct udps, packets, NFP_U64, 0),
    NFP_FIELD(struct udps, neg_bytes, NFP_I64, 0),
    NFP_FIELD(struct udps, ratio, NFP_F64, 0),
    NFP_FIELD(struct udps, arr, NFP_I16, 3),
    NFP_FIELD(struct udps, label, NFP_STRING, 16),
    NFP_FIELD_ID(struct udps, raw, NFP_BYTES, 4, 2000),
    NFP_FIELD(struct udps, first_dir, NFP_U8, 0),
};

UNUSED static int
load(struct nfp_setup *setup, const struct nfp_args *args, char *err, size_t errlen)
{
    static const char *const known[] = {"counter", "end", "tag", "want", "fail", NULL};
    struct ctx *c;
    const char *v;

    if (nfp_args_only(args, known, err, errlen) != 0)
        return -EINVAL;
    if ((v = nfp_arg(args, "fail")) != NULL && strcmp(v, "1") == 0) {
        snprintf(err, errlen, "fail=1: failing as asked");
        return -EINVAL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    if ((v = nfp_arg(args, "counter")) != NULL)
        c->counter = (int *)(uintptr_t)strtoull(v, NULL, 16);
    if ((v = nfp_arg(args, "end")) != NULL)
        c->end = strtoull(v, NULL, 10);
    if ((v = nfp_arg(args, "tag")) != NULL)
        snprintf(c->tag, sizeof(c->tag), "%s", v);
    if ((v = nfp_arg(args, "want")) != NULL && strcmp(v, "1") == 0) {
        c->want = 1;
        setup->flags |= NFP_WANT_PACKET;
    }
    if (c->counter != NULL)
        (*c->counter)++;
    setup->ctx = c;
    return 0;
}

UNUSED static void
unload(void *ctx)
{
    struct ctx *c = ctx;
    if (c->counter != NULL)
        (*c->counter)--;
    free(c);
}

UNUSED static void
on_init(void *vctx, struct nfp_flow *flow, const struct nfp_packet *pkt)
{
    const struct ctx *c = vctx;
    struct udps *u = flow->udps;
    uint64_t *seen = flow->state;

    u->packets = 1;
    u->neg_bytes = -(int64_t)nfp_flow_u64(flow, NFP_BIDIRECTIONAL_BYTES);
    u->ratio = 0.5;
    u->arr[0] = (int16_t)pkt->src_port;
    u->arr[1] = -2;
    u->arr[2] = (int16_t)nfp_flow_u64(flow, NFP_DST_PORT);
    snprintf(u->label, sizeof(u->label), "%s", c->tag);
    if (pkt->ip_packet != NULL && pkt->ip_caplen >= 4) {
        memcpy(u->raw.data, pkt->ip_packet, 4);
        u->raw.len = 4;
    } else {
        memcpy(u->raw.data, "a'\"\n", 4);
        u->raw.len = c->want ? 1 : 4;
    }
    u->first_dir = pkt->direction;
    *seen = 1;
    if (c->end == 1)
        nfp_flow_end(flow);
}

UNUSED static void
on_update(void *vctx, struct nfp_flow *flow, const struct nfp_packet *pkt)
{
    const struct ctx *c = vctx;
    struct udps *u = flow->udps;
    uint64_t *seen = flow->state;

    (void)pkt;
    u->packets++;
    (*seen)++;
    u->neg_bytes = -(int64_t)nfp_flow_u64(flow, NFP_BIDIRECTIONAL_BYTES);
    u->ratio = (double)nfp_flow_u64(flow, NFP_DST2SRC_PACKETS) / (double)*seen;
    if (c->end != 0 && nfp_flow_u64(flow, NFP_BIDIRECTIONAL_PACKETS) == c->end)
        nfp_flow_end(flow);
}

UNUSED static void
on_expire(void *vctx, struct nfp_flow *flow)
{
    (void)vctx;
    /* Ending at expiry must change nothing. */
    nfp_flow_end(flow);
}

#if defined(FIXTURE_good)
NFP_DESCRIPTOR = {
    .abi_version = NFP_ABI_VERSION,
    .size = sizeof(struct nfp_plugin),
    .name = "fixture",
    .udps_size = sizeof(struct udps),
    .state_size = sizeof(uint64_t),
    .n_fields = sizeof(good_fields) / sizeof(good_fields[0]),
    .fields = good_fields,
    .load = load,
    .unload = unload,
    .on_init = on_init,
    .on_update = on_update,
    .on_expire = on_expire,
};
#elif defined(FIXTURE_no_symbol)
/* A descriptor under another name: not what the loader looks for. */
NFP_EXPORT const struct nfp_plugin nfprobe_plugin_v2 = {
    .abi_version = NFP_ABI_VERSION,
    .size = sizeof(struct nfp_plugin),
    .name = "no_symbol",
    .on_init = on_init,
};
#else
#if defined(FIXTURE_dup_field)
static const struct nfp_field fields[] = {
    NFP_FIELD(struct udps, packets, NFP_U64, 0),
    {"packets", NFP_I64, 0, offsetof(struct udps, neg_bytes), 0, 0},
};
#elif defined(FIXTURE_overlap)
static const struct nfp_field fields[] = {
    NFP_FIELD(struct udps, packets, NFP_U64, 0),
    {"low_half", NFP_U32, 0, offsetof(struct udps, packets), 0, 0},
};
#elif defined(FIXTURE_misaligned)
static const struct nfp_field fields[] = {
    {"packets", NFP_U64, 0, 4, 0, 0},
};
#elif defined(FIXTURE_past_end)
static const struct nfp_field fields[] = {
    {"packets", NFP_U64, 0, sizeof(struct udps), 0, 0},
};
#elif defined(FIXTURE_too_wide)
static const struct nfp_field fields[] = {
    {"many", NFP_I64, 24, 0, 0, 0},
};
#elif defined(FIXTURE_bad_type)
static const struct nfp_field fields[] = {
    {"packets", 42, 0, 0, 0, 0},
};
#elif defined(FIXTURE_bad_name)
static const struct nfp_field fields[] = {
    {"a-b", NFP_U64, 0, 0, 0, 0},
};
#elif defined(FIXTURE_bad_id)
static const struct nfp_field fields[] = {
    {"packets", NFP_U64, 0, 0, 100, 0},
};
#else
static const struct nfp_field fields[] = {
    NFP_FIELD(struct udps, packets, NFP_U64, 0),
};
#endif

NFP_DESCRIPTOR = {
#if defined(FIXTURE_bad_abi)
    .abi_version = NFP_ABI_VERSION + 998,
#else
    .abi_version = NFP_ABI_VERSION,
#endif
#if defined(FIXTURE_short)
    .size = 16,
#else
    .size = sizeof(struct nfp_plugin),
#endif
    .name = "broken",
#if defined(FIXTURE_too_wide)
    .udps_size = 24 * sizeof(int64_t),
#else
    .udps_size = sizeof(struct udps),
#endif
    .n_fields = sizeof(fields) / sizeof(fields[0]),
    .fields = fields,
#if !defined(FIXTURE_no_callback)
    .on_init = on_init,
    .on_expire = on_expire,
#endif
};
#endif
