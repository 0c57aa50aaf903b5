/*
 * slicer.c - NFStream's FlowSlicer (plugins/slicer.py): ends every flow after `limit` packets
 * with expiration_id -1 (NFStream's custom expiration, IPFIX flowEndReason 4). The packet that
 * reaches the limit is in the flow; the next one starts a new flow. Adds no column.
 *
 *     nfprobe -r x.pcap --plugin probe/plugins/slicer.so:limit=10
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "nfprobe/plugin.h"

struct slicer {
    uint64_t limit;
};

static int
load(struct nfp_setup *setup, const struct nfp_args *args, char *err, size_t errlen)
{
    const char *v = nfp_arg(args, "limit");
    char *end;
    struct slicer *s;

    static const char *const known[] = {"limit", NULL};

    if (nfp_args_only(args, known, err, errlen) != 0)
        return -EINVAL;
    if (v == NULL) {
        snprintf(err, errlen, "needs limit=N (packets per flow, N >= 1)");
        return -EINVAL;
    }
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n == 0 || v[0] == '-') {
        snprintf(err, errlen, "limit '%s': expected a whole number >= 1", v);
        return -EINVAL;
    }
    s = malloc(sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->limit = n;
    setup->ctx = s;
    return 0;
}

static void
unload(void *ctx)
{
    free(ctx);
}

static void
on_init(void *ctx, struct nfp_flow *flow, const struct nfp_packet *pkt)
{
    const struct slicer *s = ctx;

    (void)pkt;
    if (s->limit == 1)
        nfp_flow_end(flow);
}

static void
on_update(void *ctx, struct nfp_flow *flow, const struct nfp_packet *pkt)
{
    const struct slicer *s = ctx;

    (void)pkt;
    if (nfp_flow_u64(flow, NFP_BIDIRECTIONAL_PACKETS) == s->limit)
        nfp_flow_end(flow);
}

NFP_DESCRIPTOR = {
    .abi_version = NFP_ABI_VERSION,
    .size = sizeof(struct nfp_plugin),
    .name = "slicer",
    .load = load,
    .unload = unload,
    .on_init = on_init,
    .on_update = on_update,
};
