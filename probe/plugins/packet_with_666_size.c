/*
 * packet_with_666_size.c - NFStream's README plugin example in C: counts a flow's packets whose
 * raw (link layer) size is 666 octets. Column udps.packet_with_666_size.
 *
 *     nfprobe -r x.pcap --plugin probe/plugins/packet_with_666_size.so
 */
#include "nfprobe/plugin.h"

struct udps {
    uint64_t packet_with_666_size;
};

static const struct nfp_field fields[] = {
    NFP_FIELD(struct udps, packet_with_666_size, NFP_U64, 0),
};

/* NFStream's on_init and on_update do the same here: the first packet counts too. */
static void
count(void *ctx, struct nfp_flow *flow, const struct nfp_packet *pkt)
{
    struct udps *u = flow->udps;

    (void)ctx;
    if (pkt->raw_size == 666)
        u->packet_with_666_size++;
}

NFP_PLUGIN("packet_with_666_size", struct udps, 0, fields, NULL, NULL, count, count, NULL);
