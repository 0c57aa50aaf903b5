/*
 * noop.c - a plugin that does nothing, on every packet: what the plugin machinery costs
 * (make bench compares packets/s with it and without).
 */
#include "nfprobe/plugin.h"

static void
on_packet(void *ctx, struct nfp_flow *flow, const struct nfp_packet *pkt)
{
    (void)ctx;
    (void)flow;
    (void)pkt;
}

static void
on_expire(void *ctx, struct nfp_flow *flow)
{
    (void)ctx;
    (void)flow;
}

NFP_DESCRIPTOR = {
    .abi_version = NFP_ABI_VERSION,
    .size = sizeof(struct nfp_plugin),
    .name = "noop",
    .on_init = on_packet,
    .on_update = on_packet,
    .on_expire = on_expire,
};
