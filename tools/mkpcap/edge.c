/*
 * edge.c - the malformed-input corpus (see edge.h). Each class gets a capture of its own: the
 * good UDP flow, the class's odd packets, and (unless the clock jumped or the link type carries
 * no IP) one more good packet, so a test sees both that the odd packets are counted and that
 * the good flow survives them. Files libpcap would refuse to write are written by hand.
 */
#include "edge.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gen.h"

/* ------------------------------------------------------------------------ edge-case captures */

#define EDGE_T0 (1717243200ULL * US_PER_S) /* 2024-06-01 12:00:00 UTC */

/* One capture being written: the good UDP flow plus the class's odd packets. */
struct edge {
    struct pw w;
    struct sink s;
    struct conn good;
    struct rng r;
    uint64_t t;
    unsigned nbad;
};

static const uint8_t g_bad_mac[6] = {0x3c, 0xfd, 0xfe, 0x00, 0x00, 0x02};
static const char *const g_bad_src = "192.0.2.2";
static const char *const g_bad_dst = "198.51.100.2";
static const char *const g_bad_src6 = "2001:db8::2";
static const char *const g_bad_dst6 = "2001:db8:1::2";

/* One datagram of the good flow (192.0.2.1:40000 <-> 198.51.100.1:5000). */
static void
edge_good(struct edge *e, int dir)
{
    uint8_t data[32];

    memset(data, 'a' + (int)(e->good.ip_id[dir] % 26), sizeof(data));
    e->good.t = e->t;
    udp_send(&e->good, dir, data, sizeof(data));
    e->t += 1000;
}

/* An odd packet: nbad counts the ones the manifest names; the others are context. */
static void
edge_raw(struct edge *e, const uint8_t *p, uint32_t caplen, uint32_t len, bool bad)
{
    sink_packet(&e->s, e->t, p, caplen, len);
    e->t += 1000;
    if (bad)
        e->nbad++;
}

static void
edge_bad(struct edge *e, const uint8_t *p, size_t len)
{
    edge_raw(e, p, (uint32_t)len, (uint32_t)len, true);
}

/* Ethernet + IPv4 (IHL 5) for the bad endpoints; returns the L4 offset. */
static size_t
mk_ip4(uint8_t *b, uint16_t vlan, uint8_t proto, uint16_t l4len, uint16_t frag)
{
    uint8_t src[16], dst[16];
    size_t off = put_eth(b, g_gw_mac, g_bad_mac, vlan, ET_IPV4);

    parse_ip(src, g_bad_src);
    parse_ip(dst, g_bad_dst);
    put_ip4(b + off, src, dst, proto, (uint16_t)(20 + l4len), 0x1234, 64, frag);
    return off + 20;
}

/* Ethernet + IPv6 for the bad endpoints; returns the offset after the fixed header. */
static size_t
mk_ip6(uint8_t *b, uint8_t nxt, uint16_t plen)
{
    uint8_t src[16], dst[16];
    size_t off = put_eth(b, g_gw_mac, g_bad_mac, 0, ET_IPV6);

    parse_ip(src, g_bad_src6);
    parse_ip(dst, g_bad_dst6);
    put_ip6(b + off, src, dst, nxt, plen, 64, 0x12345);
    return off + 40;
}

/* A complete, valid IPv4 UDP frame of the bad endpoints with n payload bytes ('x'). */
static size_t
mk_udp4(uint8_t *b, uint16_t sport, uint16_t dport, size_t n)
{
    size_t l4 = mk_ip4(b, 0, 17, (uint16_t)(8 + n), 0);
    uint8_t src[16], dst[16];

    parse_ip(src, g_bad_src);
    parse_ip(dst, g_bad_dst);
    put_udp(b + l4, sport, dport, (uint16_t)(8 + n));
    memset(b + l4 + 8, 'x', n);
    put_l4_csum(b + l4, 8 + n, 6, false, src, dst, 17);
    return l4 + 8 + n;
}

/* A complete, valid IPv4 TCP frame (ACK|PSH, n payload bytes) of the bad endpoints. */
static size_t
mk_tcp4(uint8_t *b, size_t n)
{
    size_t l4 = mk_ip4(b, 0, 6, (uint16_t)(20 + n), 0x4000);
    uint8_t src[16], dst[16];

    parse_ip(src, g_bad_src);
    parse_ip(dst, g_bad_dst);
    put_tcp(b + l4, 41000, 6000, 1000, 2000, TH_ACK | TH_PSH, 502, NULL, 0);
    memset(b + l4 + 20, 'y', n);
    put_l4_csum(b + l4, 20 + n, 16, false, src, dst, 6);
    return l4 + 20 + n;
}

/* IPv6 UDP with n payload bytes, checksummed, after ext bytes of extension headers. */
static size_t
mk_udp6_ext(uint8_t *b, uint8_t first_nxt, const uint8_t *ext, size_t extlen, size_t n)
{
    size_t off = mk_ip6(b, first_nxt, (uint16_t)(extlen + 8 + n));
    uint8_t src[16], dst[16];

    parse_ip(src, g_bad_src6);
    parse_ip(dst, g_bad_dst6);
    if (extlen > 0)
        memcpy(b + off, ext, extlen);
    off += extlen;
    put_udp(b + off, 41000, 6000, (uint16_t)(8 + n));
    memset(b + off + 8, 'A', n);
    put_l4_csum(b + off, 8 + n, 6, true, src, dst, 17);
    return off + 8 + n;
}

static void
ec_eth_short(struct edge *e)
{
    static const uint32_t lens[] = {0, 6, 13, 14, 20, 27};
    uint8_t *b = g_frame;

    mk_udp4(b, 41000, 6000, 20);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        edge_bad(e, b, lens[i]);
}

static void
ec_ip_short(struct edge *e)
{
    uint8_t *b = g_frame;

    mk_udp4(b, 41000, 6000, 20);
    for (uint32_t n = 28; n < 34; n += 2)
        edge_bad(e, b, n);
}

/* Frames made of 802.1Q tags whose inner type is 0x8100 again, to the end of the capture. */
static void
ec_vlan_short(struct edge *e)
{
    static const uint32_t lens[] = {30, 32, 45, 61};
    uint8_t *b = g_frame;

    put_eth(b, g_gw_mac, g_bad_mac, 0, ET_VLAN);
    for (size_t off = 14; off + 4 <= 64; off += 4) {
        put_be16(b + off, 100);
        put_be16(b + off + 2, ET_VLAN);
    }
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        edge_bad(e, b, lens[i]);
}

/* 20 stacked tags (VIDs 1..20) in front of a valid UDP datagram. */
static void
ec_vlan_stack_20(struct edge *e)
{
    uint8_t inner[128], *b = g_frame;
    size_t n = mk_udp4(inner, 41000, 6000, 24);

    memcpy(b, inner, 12);
    put_be16(b + 12, ET_VLAN);
    for (int i = 0; i < 20; i++) {
        put_be16(b + 14 + 4 * i, (uint16_t)(i + 1));
        put_be16(b + 16 + 4 * i, i < 19 ? ET_VLAN : ET_IPV4);
    }
    memcpy(b + 14 + 80, inner + 14, n - 14);
    for (int i = 0; i < 3; i++)
        edge_bad(e, b, n + 80);
}

/* MPLS labels without the bottom-of-stack bit up to the end of the frame. */
static void
ec_mpls_no_bos(struct edge *e)
{
    static const uint32_t lens[] = {60, 100, 200};
    uint8_t *b = g_frame;

    put_eth(b, g_gw_mac, g_bad_mac, 0, ET_MPLS);
    for (uint32_t off = 14, label = 16; off + 4 <= 200; off += 4, label++)
        put_be32(b + off, label << 12 | 64); /* TC 0, S 0, TTL 64 */
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        edge_bad(e, b, lens[i]);
}

/* Two VLAN tags, then an MPLS ethertype with fewer than five bytes left for the label. */
static void
ec_mpls_short(struct edge *e)
{
    uint8_t *b = g_frame;

    put_eth(b, g_gw_mac, g_bad_mac, 0, ET_VLAN);
    put_be16(b + 14, 10);
    put_be16(b + 16, ET_VLAN);
    put_be16(b + 18, 20);
    put_be16(b + 20, ET_VLAN);
    put_be16(b + 22, 30);
    put_be16(b + 24, ET_MPLS);
    put_be32(b + 26, 16u << 12 | 1u << 8 | 64);
    for (uint32_t n = 28; n <= 30; n++)
        edge_bad(e, b, n);
}

/* ARP request and reply (padded to 60 bytes) and an LLDP frame. */
static void
ec_non_ip(struct edge *e)
{
    uint8_t *b = g_frame;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t sip[16], tip[16];

    parse_ip(sip, g_bad_src);
    parse_ip(tip, "192.0.2.254");
    for (int reply = 0; reply < 2; reply++) {
        memset(b, 0, 60);
        put_eth(b, reply ? g_bad_mac : bcast, reply ? g_gw_mac : g_bad_mac, 0, ET_ARP);
        put_be16(b + 14, 1);
        put_be16(b + 16, ET_IPV4);
        b[18] = 6;
        b[19] = 4;
        put_be16(b + 20, reply ? 2 : 1);
        memcpy(b + 22, reply ? g_gw_mac : g_bad_mac, 6);
        memcpy(b + 28, reply ? tip : sip, 4);
        if (reply)
            memcpy(b + 32, g_bad_mac, 6);
        memcpy(b + 38, reply ? sip : tip, 4);
        edge_bad(e, b, 60);
    }
    static const uint8_t lldp_mc[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e};
    struct bb l;
    memset(b, 0, 64);
    put_eth(b, lldp_mc, g_gw_mac, 0, ET_LLDP);
    bb_init(&l, b + 14, 64);
    bb_u16(&l, 1 << 9 | 7); /* chassis id: MAC */
    bb_u8(&l, 4);
    bb_mem(&l, g_gw_mac, 6);
    bb_u16(&l, 2 << 9 | 4); /* port id: local "Gi1" */
    bb_u8(&l, 7);
    bb_str(&l, "Gi1");
    bb_u16(&l, 3 << 9 | 2); /* TTL 120 */
    bb_u16(&l, 120);
    bb_u16(&l, 0);
    edge_bad(e, b, 14 + l.len < 60 ? 60 : 14 + l.len);
}

/* An IEEE 802.3 frame with LLC DSAP/SSAP 0x42: a spanning-tree BPDU. */
static void
ec_llc_stp(struct edge *e)
{
    static const uint8_t stp_mc[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};
    uint8_t *b = g_frame;

    memset(b, 0, 60);
    memcpy(b, stp_mc, 6);
    memcpy(b + 6, g_gw_mac, 6);
    put_be16(b + 12, 3 + 35);
    b[14] = 0x42;
    b[15] = 0x42;
    b[16] = 0x03;
    /* Configuration BPDU: protocol 0, version 0, type 0, root and bridge ids, costs, timers. */
    b[21] = 0x80;
    memcpy(b + 23, g_gw_mac, 6);
    b[33] = 0x80;
    memcpy(b + 35, g_gw_mac, 6);
    put_be16(b + 41, 0x8001);
    put_be16(b + 45, 20 * 256);
    put_be16(b + 47, 2 * 256);
    put_be16(b + 49, 15 * 256);
    for (int i = 0; i < 3; i++)
        edge_bad(e, b, 60);
}

/* TCP segments whose IHL is 0..4: NFStream reads the L4 header inside the IP header. */
static void
ec_ipv4_ihl_small(struct edge *e)
{
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        uint8_t *b = g_frame;
        size_t n = mk_tcp4(b, 0);
        b[14] = (uint8_t)(0x40 | ihl);
        put_be16(b + 14 + 4, (uint16_t)(0x2000 + ihl));
        fix_ip4_csum(b + 14, 20);
        edge_bad(e, b, n < 60 ? 60 : n);
    }
}

/* IHL 11, 13, 15 with only 40 bytes of IPv4 captured. */
static void
ec_ipv4_ihl_past_caplen(struct edge *e)
{
    for (uint8_t ihl = 11; ihl <= 15; ihl += 2) {
        uint8_t *b = g_frame;
        size_t n = mk_tcp4(b, 0);
        b[14] = (uint8_t)(0x40 | ihl);
        edge_bad(e, b, n);
    }
}

static void
totlen_case(struct edge *e, const uint16_t *totlens, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint8_t *b = g_frame;
        size_t n = mk_tcp4(b, 6);
        put_be16(b + 16, totlens[i]);
        fix_ip4_csum(b + 14, 20);
        edge_bad(e, b, n < 60 ? 60 : n);
    }
}

static void
ec_ipv4_totlen_lt_hlen(struct edge *e)
{
    static const uint16_t t[] = {1, 10, 19};
    totlen_case(e, t, 3);
}

static void
ec_ipv4_totlen_zero(struct edge *e)
{
    static const uint16_t t[] = {0, 0, 0};
    totlen_case(e, t, 3);
}

/* Total length 1500 in 60-byte frames (caplen == len): NFStream meters the claimed size. */
static void
ec_ipv4_totlen_gt_frame(struct edge *e)
{
    static const uint16_t t[] = {1500, 1500, 1000};
    totlen_case(e, t, 3);
}

/* UDP datagrams of 1 byte in frames padded to 60 bytes. */
static void
ec_ipv4_padding(struct edge *e)
{
    for (int i = 0; i < 3; i++) {
        uint8_t *b = g_frame;
        size_t n = mk_udp4(b, 41000, 6000, 1);
        memset(b + n, 0, 60 - n);
        edge_bad(e, b, 60);
    }
}

static void
ec_ipv6_short(struct edge *e)
{
    static const uint32_t lens[] = {34, 40, 53};
    uint8_t *b = g_frame;

    mk_udp6_ext(b, 17, NULL, 0, 16);
    for (size_t i = 0; i < 3; i++)
        edge_bad(e, b, lens[i]);
}

static void
ec_ipv6_paylen_gt_captured(struct edge *e)
{
    uint8_t *b = g_frame;
    size_t n = mk_udp6_ext(b, 17, NULL, 0, 20);

    put_be16(b + 14 + 4, 1000);
    for (int i = 0; i < 3; i++)
        edge_bad(e, b, n);
}

/* count Destination Options headers (8 bytes each, PadN) in front of UDP. */
static void
ext_chain(struct edge *e, unsigned count)
{
    static uint8_t ext[8 * 128];

    for (unsigned i = 0; i < count; i++) {
        uint8_t *h = ext + 8 * i;
        h[0] = i + 1 < count ? 60 : 17;
        h[1] = 0;
        h[2] = 1; /* PadN */
        h[3] = 4;
        memset(h + 4, 0, 4);
    }
    for (int i = 0; i < 3; i++) {
        size_t n = mk_udp6_ext(g_frame, 60, ext, 8 * count, 16);
        edge_bad(e, g_frame, n);
    }
}

static void
ec_ipv6_ext_chain_50(struct edge *e)
{
    ext_chain(e, 50);
}

static void
ec_ipv6_ext_chain_100(struct edge *e)
{
    ext_chain(e, 100);
}

/* Hop-by-hop, and a destination-options header after it, claiming more than the packet. */
static void
ec_ipv6_ext_past_end(struct edge *e)
{
    uint8_t ext[16] = {17, 100, 1, 4, 0, 0, 0, 0};
    size_t n = mk_udp6_ext(g_frame, 0, ext, 8, 8);

    edge_bad(e, g_frame, n);
    edge_bad(e, g_frame, n);
    uint8_t ext2[16] = {60, 0, 1, 4, 0, 0, 0, 0, 17, 200, 1, 4, 0, 0, 0, 0};
    n = mk_udp6_ext(g_frame, 0, ext2, 16, 8);
    edge_bad(e, g_frame, n);
}

/* A UDP datagram sent as IPv6 fragments: the first is metered, the others are not. */
static void
ec_ipv6_frag_nonfirst(struct edge *e)
{
    uint8_t ext[8] = {17, 0, 0, 0, 0, 0, 0x4e, 0x21};
    size_t n;

    put_be16(ext + 2, 0 << 3 | 1); /* offset 0, M */
    n = mk_udp6_ext(g_frame, 44, ext, 8, 1232);
    put_be16(g_frame + 54 + 8 + 4, 8 + 3000); /* the UDP length of the whole datagram */
    edge_raw(e, g_frame, (uint32_t)n, (uint32_t)n, false);
    for (uint16_t off = 1240; off < 3008; off += 1240) {
        uint8_t *b = g_frame;
        size_t plen = off + 1240 < 3008 ? 1240 : 3008 - off;
        size_t o = mk_ip6(b, 44, (uint16_t)(8 + plen));
        b[o] = 17;
        b[o + 1] = 0;
        put_be16(b + o + 2, (uint16_t)(off | (off + 1240 < 3008 ? 1 : 0)));
        memcpy(b + o + 4, ext + 4, 4);
        memset(b + o + 8, 'A', plen);
        edge_bad(e, b, o + 8 + plen);
    }
}

/* No Next Header (59) followed by data, directly and after a hop-by-hop header. */
static void
ec_ipv6_nnh_data(struct edge *e)
{
    uint8_t *b = g_frame;
    size_t o = mk_ip6(b, 59, 20);

    memset(b + o, 'n', 20);
    edge_bad(e, b, o + 20);
    o = mk_ip6(b, 0, 28);
    uint8_t hbh[8] = {59, 0, 1, 4, 0, 0, 0, 0};
    memcpy(b + o, hbh, 8);
    memset(b + o + 8, 'n', 20);
    edge_bad(e, b, o + 28);
}

/* Data offsets 0, 2, 4 (below the 20-byte minimum) on a segment with 20 payload bytes. */
static void
ec_tcp_doff_small(struct edge *e)
{
    for (uint8_t doff = 0; doff < 5; doff += 2) {
        uint8_t *b = g_frame;
        size_t n = mk_tcp4(b, 20);
        b[34 + 12] = (uint8_t)(doff << 4);
        edge_bad(e, b, n);
    }
}

/* TCP with 8 and 12 bytes of header left (ports, sequence number, ...): port-0 flow. */
static void
ec_tcp_short(struct edge *e)
{
    static const uint16_t keep[] = {8, 12, 8};

    for (size_t i = 0; i < 3; i++) {
        uint8_t *b = g_frame;
        mk_tcp4(b, 0);
        put_be16(b + 16, (uint16_t)(20 + keep[i]));
        fix_ip4_csum(b + 14, 20);
        edge_bad(e, b, 34 + keep[i]);
    }
}

/* UDP with only its 4 port bytes, in frames padded to 60 (as a switch port sees them). */
static void
ec_udp_short(struct edge *e)
{
    for (int i = 0; i < 3; i++) {
        uint8_t *b = g_frame;
        mk_udp4(b, 41000, 6000, 0);
        put_be16(b + 16, 24);
        fix_ip4_csum(b + 14, 20);
        memset(b + 38, 0, 22);
        edge_bad(e, b, 60);
    }
}

/* The same datagrams unpadded: the frame ends inside the UDP header. */
static void
ec_udp_short_unpadded(struct edge *e)
{
    for (int i = 0; i < 3; i++) {
        uint8_t *b = g_frame;
        mk_udp4(b, 41000, 6000, 0);
        put_be16(b + 16, 24);
        fix_ip4_csum(b + 14, 20);
        edge_bad(e, b, 38);
    }
}

/* ICMP echo requests cut to 4 bytes (type, code, checksum). */
static void
ec_icmp_short(struct edge *e)
{
    for (int i = 0; i < 3; i++) {
        uint8_t *b = g_frame;
        size_t l4 = mk_ip4(b, 0, 1, 4, 0);
        b[l4] = 8;
        b[l4 + 1] = 0;
        put_be16(b + l4 + 2, 0);
        put_be16(b + l4 + 2, csum_fold(csum_add(0, b + l4, 4)));
        memset(b + l4 + 4, 0, 60 - (l4 + 4));
        edge_bad(e, b, 60);
    }
}

/* GTP-U T-PDU around an inner IPv4/UDP packet; flags and the bytes after the 8-byte GTP
 * header are the caller's. Returns the frame length. */
static size_t
mk_gtp(uint8_t *b, uint8_t flags, const uint8_t *opt, size_t optlen, const uint8_t *inner,
       size_t innerlen)
{
    size_t gl = 8 + optlen + innerlen;
    size_t l4 = mk_ip4(b, 0, 17, (uint16_t)(8 + gl), 0);
    uint8_t *g = b + l4 + 8;
    uint8_t src[16], dst[16];

    put_udp(b + l4, 2152, 2152, (uint16_t)(8 + gl));
    g[0] = flags;
    g[1] = 0xff;
    put_be16(g + 2, (uint16_t)(gl - 8));
    put_be32(g + 4, 0x0badcafe);
    if (optlen > 0)
        memcpy(g + 8, opt, optlen);
    memcpy(g + 8 + optlen, inner, innerlen);
    parse_ip(src, g_bad_src);
    parse_ip(dst, g_bad_dst);
    put_l4_csum(b + l4, 8 + gl, 6, false, src, dst, 17);
    return l4 + 8 + gl;
}

/* An extension header of length 0 (the chain cannot advance): metered as the outer UDP flow. */
static void
ec_gtp_ext_zero_len(struct edge *e)
{
    uint8_t inner[128], opt[8] = {0, 0, 0, 0x85, 0, 0, 0, 0};
    size_t n = mk_udp4(inner, 1234, 5678, 20);

    for (int i = 0; i < 3; i++) {
        size_t len = mk_gtp(g_frame, 0x34, opt, 8, inner + 14, n - 14);
        edge_bad(e, g_frame, len);
    }
}

/* Inner packets whose version nibble is 0, 5 or 7, and an inner IPv6 cut below 40 bytes. */
static void
ec_gtp_bad_inner(struct edge *e)
{
    uint8_t inner[128];
    static const uint8_t vers[] = {0x05, 0x55, 0x75};

    for (size_t i = 0; i < sizeof(vers); i++) {
        size_t n = mk_udp4(inner, 1234, 5678, 20);
        inner[14] = vers[i];
        size_t len = mk_gtp(g_frame, 0x30, NULL, 0, inner + 14, n - 14);
        edge_bad(e, g_frame, len);
    }
    memset(inner, 0, 30);
    inner[0] = 0x60;
    size_t len = mk_gtp(g_frame, 0x30, NULL, 0, inner, 30);
    edge_bad(e, g_frame, len);
}

/* 100 nested IPv4-in-IPv4 headers around a UDP datagram. */
static void
ec_ipip_nested_100(struct edge *e)
{
    uint8_t src[16], dst[16];
    uint8_t *b = g_frame;
    size_t depth = 100, off = put_eth(b, g_gw_mac, g_bad_mac, 0, ET_IPV4);
    size_t total = depth * 20 + 8 + 16;

    parse_ip(src, g_bad_src);
    parse_ip(dst, g_bad_dst);
    for (size_t i = 0; i < depth; i++) {
        put_ip4(b + off + 20 * i, src, dst, i + 1 < depth ? 4 : 17,
                (uint16_t)(total - 20 * i), (uint16_t)i, 64, 0);
    }
    size_t l4 = off + 20 * depth;
    put_udp(b + l4, 41000, 6000, 24);
    memset(b + l4 + 8, 'z', 16);
    put_l4_csum(b + l4, 24, 6, false, src, dst, 17);
    edge_bad(e, b, l4 + 24);
    edge_bad(e, b, l4 + 24);
}

/* Two 3000-byte UDP datagrams in three IPv4 fragments each. */
static void
ec_frag_v4(struct edge *e)
{
    for (int d = 0; d < 2; d++) {
        for (uint16_t off = 0; off < 3008; off += 1480) {
            uint8_t *b = g_frame;
            size_t n = off + 1480 < 3008 ? 1480 : 3008 - off;
            uint16_t frag = (uint16_t)((off + 1480 < 3008 ? 0x2000 : 0) | off / 8);
            size_t l4 = mk_ip4(b, 0, 17, (uint16_t)n, frag);
            put_be16(b + 18, (uint16_t)(0x3000 + d));
            fix_ip4_csum(b + 14, 20);
            memset(b + l4, 'f', n);
            if (off == 0)
                put_udp(b + l4, 41000, 6000, 3008);
            edge_raw(e, b, (uint32_t)(l4 + n), (uint32_t)(l4 + n), off != 0);
        }
    }
}

/* TCP sent as a tiny first fragment (8 bytes: ports and sequence number) and a second
 * fragment holding the rest of the header: the classic filter-evasion layout. */
static void
ec_tiny_first_frag(struct edge *e)
{
    for (int d = 0; d < 2; d++) {
        uint8_t seg[128], *b = g_frame;
        size_t n = mk_tcp4(seg, 12);
        const uint8_t *tcp = seg + 34;
        size_t l4 = mk_ip4(b, 0, 6, 8, 0x2000);
        put_be16(b + 18, (uint16_t)(0x4000 + d));
        fix_ip4_csum(b + 14, 20);
        memcpy(b + l4, tcp, 8);
        edge_raw(e, b, (uint32_t)(l4 + 8), (uint32_t)(l4 + 8), false);
        size_t rest = n - 34 - 8;
        l4 = mk_ip4(b, 0, 6, (uint16_t)rest, 1);
        put_be16(b + 18, (uint16_t)(0x4000 + d));
        fix_ip4_csum(b + 14, 20);
        memcpy(b + l4, tcp + 8, rest);
        edge_bad(e, b, l4 + rest);
    }
}

/* A UDP flow whose timestamps go back by 1 and 2 s, then forward again. */
static void
ec_ts_backwards(struct edge *e)
{
    static const int64_t dt_ms[] = {0, -1000, -2000, 5, -500};
    uint64_t base = e->t;

    for (size_t i = 0; i < sizeof(dt_ms) / sizeof(dt_ms[0]); i++) {
        size_t n = mk_udp4(g_frame, 41000, 6000, 10);
        e->t = (uint64_t)((int64_t)base + dt_ms[i] * 1000);
        edge_bad(e, g_frame, n);
    }
    e->t = base + 10000;
}

/* Timestamps 0 (1970) twice, then 2037-12-31 23:59:59 (the largest a classic pcap's signed
 * 32-bit seconds field holds), then 0 again. */
static void
ec_ts_zero_and_future(struct edge *e)
{
    static const uint64_t ts[] = {0, 0, 2145916799ULL * US_PER_S, 0};

    for (size_t i = 0; i < 4; i++) {
        size_t n = mk_udp4(g_frame, 41000, 6000, 10);
        sink_packet(&e->s, ts[i], g_frame, (uint32_t)n, (uint32_t)n);
        e->nbad++;
    }
}

/* Seconds 4102444800 (2100-01-01 if unsigned): libpcap reads the field as signed, so this is
 * 1963, and NFStream's (uint64)tv_sec * 1000 wraps to about 2^64 ms, far in the future. */
static void
ec_ts_sign_wrap(struct edge *e)
{
    for (int i = 0; i < 2; i++) {
        size_t n = mk_udp4(g_frame, 41000, 6000, 10);
        sink_packet(&e->s, 4102444800ULL * US_PER_S + (uint64_t)i * 1000, g_frame, (uint32_t)n,
                    (uint32_t)n);
        e->nbad++;
    }
}

/* Jumbo frames: 9000-byte IPv4 UDP datagrams. */
static void
ec_jumbo_9000(struct edge *e)
{
    for (int i = 0; i < 3; i++) {
        size_t n = mk_udp4(g_frame, 41000, 6000, 9000 - 28);
        edge_bad(e, g_frame, n);
    }
}

/* A TCP flow of full-size segments, captured with snaplen 64 (the file's snaplen cuts them). */
static void
ec_snaplen_64(struct edge *e)
{
    for (int i = 0; i < 4; i++) {
        size_t n = mk_tcp4(g_frame, 1460);
        edge_bad(e, g_frame, n);
    }
}

/* The same for IPv6: NFStream ignores any IPv6 packet whose payload was not fully captured. */
static void
ec_snaplen_64_v6(struct edge *e)
{
    for (int i = 0; i < 4; i++) {
        size_t n = mk_udp6_ext(g_frame, 17, NULL, 0, 1200);
        edge_bad(e, g_frame, n);
    }
}

/* Linux USB captures (DLT_USB_LINUX): 48-byte URB headers with 16 bytes of data. */
static void
ec_linktype_usb(struct edge *e)
{
    uint8_t *b = g_frame;

    for (int i = 0; i < 4; i++) {
        memset(b, 0, 64);
        uint64_t id = 0xffff8881c0a1b200ULL + (uint64_t)i;
        for (int k = 0; k < 8; k++)
            b[k] = (uint8_t)(id >> (8 * k)); /* little-endian, as the kernel writes it */
        b[8] = i % 2 == 0 ? 'S' : 'C';
        b[9] = 3;    /* interrupt transfer */
        b[10] = 0x81; /* endpoint 1 IN */
        b[11] = 2;   /* device */
        b[12] = 1;   /* bus */
        b[36] = 16;  /* urb length */
        b[40] = 16;  /* data length */
        memset(b + 48, 0x11 * i, 16);
        edge_bad(e, b, 64);
    }
}

/* --------------------------------------------------------------------- hand-written captures */

/* A pcap written byte by byte: any magic and byte order, and records libpcap would refuse. */
struct rawf {
    FILE *f;
    bool be;
};

static void
raw_u32(struct rawf *r, uint32_t v)
{
    uint8_t b[4];

    if (r->be) {
        put_be32(b, v);
    } else {
        for (int i = 0; i < 4; i++)
            b[i] = (uint8_t)(v >> (8 * i));
    }
    fwrite(b, 1, 4, r->f);
}

static void
raw_u16(struct rawf *r, uint16_t v)
{
    uint8_t b[2];

    if (r->be)
        put_be16(b, v);
    else
        b[0] = (uint8_t)v, b[1] = (uint8_t)(v >> 8);
    fwrite(b, 1, 2, r->f);
}

static void
raw_hdr(struct rawf *r, uint32_t magic, uint32_t linktype)
{
    raw_u32(r, magic);
    raw_u16(r, 2);
    raw_u16(r, 4);
    raw_u32(r, 0);
    raw_u32(r, 0);
    raw_u32(r, SNAPLEN_MAX);
    raw_u32(r, linktype);
}

/* A record header and n data bytes (n may differ from caplen on purpose). */
static void
raw_rec(struct rawf *r, uint64_t sec, uint32_t frac, uint32_t caplen, uint32_t len,
        const uint8_t *data, size_t n)
{
    raw_u32(r, (uint32_t)sec);
    raw_u32(r, frac);
    raw_u32(r, caplen);
    raw_u32(r, len);
    fwrite(data, 1, n, r->f);
}

/* The good flow collected in memory, for the hand-written files. */
static struct rec g_good_recs[8];
static uint8_t g_good_arena[1024];

static size_t
good_records(void)
{
    struct edge e;

    memset(&e, 0, sizeof(e));
    e.s.recs = g_good_recs;
    e.s.max = 8;
    e.s.arena = g_good_arena;
    e.s.cap = sizeof(g_good_arena);
    e.r.s = 0x676f6f64ULL;
    e.t = EDGE_T0;
    conn_init(&e.good, &e.s, &e.r, 17, g_mac_intel, "192.0.2.1", 40000, g_gw_mac, "198.51.100.1",
              5000, e.t, 2000);
    e.good.pad = false;
    edge_good(&e, CLI);
    edge_good(&e, SRV);
    edge_good(&e, CLI);
    edge_good(&e, SRV);
    return e.s.n;
}

enum rawkind {
    RAW_EMPTY,
    RAW_HEADER_ONLY,
    RAW_GARBAGE,
    RAW_CUT_LAST,
    RAW_CAPLEN_HUGE,
    RAW_CAPLEN_GT_LEN,
    RAW_NS,
    RAW_BIGENDIAN,
    RAW_PCAPNG,
};

static void
pcapng_block(FILE *f, uint32_t type, const uint8_t *body, size_t n)
{
    uint8_t h[8];
    uint32_t total = (uint32_t)(12 + ((n + 3) & ~(size_t)3));
    static const uint8_t zero[4];

    for (int i = 0; i < 4; i++) {
        h[i] = (uint8_t)(type >> (8 * i));
        h[4 + i] = (uint8_t)(total >> (8 * i));
    }
    fwrite(h, 1, 8, f);
    fwrite(body, 1, n, f);
    fwrite(zero, 1, ((n + 3) & ~(size_t)3) - n, f);
    fwrite(h + 4, 1, 4, f);
}

static void
le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void
le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* Section header, one Ethernet interface (microsecond resolution), enhanced packet blocks. */
static void
write_pcapng(FILE *f, size_t ngood)
{
    uint8_t body[2048];
    static const char appl[] = "mkpcap (nfprobe tests)";

    memset(body, 0, sizeof(body));
    le32(body, 0x1a2b3c4d);
    le16(body + 4, 1);
    le16(body + 6, 0);
    memset(body + 8, 0xff, 8); /* section length unknown */
    le16(body + 16, 4);        /* shb_userappl */
    le16(body + 18, sizeof(appl) - 1);
    memcpy(body + 20, appl, sizeof(appl) - 1);
    size_t n = 20 + ((sizeof(appl) - 1 + 3) & ~(size_t)3);
    le32(body + n, 0); /* opt_endofopt */
    pcapng_block(f, 0x0a0d0d0a, body, n + 4);

    memset(body, 0, 32);
    le16(body, DLT_EN10MB);
    le32(body + 4, SNAPLEN_MAX);
    le16(body + 8, 9); /* if_tsresol: 10^-6 */
    le16(body + 10, 1);
    body[12] = 6;
    le32(body + 16, 0);
    pcapng_block(f, 1, body, 20);

    for (size_t i = 0; i < ngood; i++) {
        const struct rec *r = &g_good_recs[i];
        memset(body, 0, 20);
        le32(body + 4, (uint32_t)(r->ts >> 32));
        le32(body + 8, (uint32_t)r->ts);
        le32(body + 12, r->caplen);
        le32(body + 16, r->len);
        memcpy(body + 20, g_good_arena + r->off, r->caplen);
        pcapng_block(f, 6, body, 20 + r->caplen);
    }
}

static int
write_raw(const char *path, enum rawkind kind, unsigned *nbad, char *err, size_t errlen)
{
    struct rawf r = {NULL, kind == RAW_BIGENDIAN};
    size_t ngood = good_records();
    int rc = 0;

    *nbad = 0;
    r.f = fopen(path, "wb");
    if (r.f == NULL) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    switch (kind) {
    case RAW_EMPTY:
        break;
    case RAW_HEADER_ONLY:
        raw_hdr(&r, 0xa1b2c3d4, DLT_EN10MB);
        break;
    case RAW_GARBAGE: {
        uint8_t junk[4096];
        struct rng g = {0x6761726261676521ULL};
        rng_fill(&g, junk, sizeof(junk));
        memcpy(junk, "GARB", 4); /* never a pcap or pcapng magic */
        fwrite(junk, 1, sizeof(junk), r.f);
        break;
    }
    case RAW_PCAPNG:
        write_pcapng(r.f, ngood);
        break;
    default: {
        bool ns = kind == RAW_NS;
        raw_hdr(&r, ns ? 0xa1b23c4d : 0xa1b2c3d4, DLT_EN10MB);
        for (size_t i = 0; i < ngood; i++) {
            const struct rec *g = &g_good_recs[i];
            uint32_t frac = (uint32_t)(g->ts % US_PER_S);
            raw_rec(&r, g->ts / US_PER_S, ns ? frac * 1000 + 789 : frac, g->caplen, g->len,
                    g_good_arena + g->off, g->caplen);
        }
        uint64_t t = g_good_recs[ngood - 1].ts + 1000;
        size_t n = mk_udp4(g_frame, 41000, 6000, 32);
        if (kind == RAW_CUT_LAST) {
            raw_rec(&r, t / US_PER_S, (uint32_t)(t % US_PER_S), (uint32_t)n, (uint32_t)n,
                    g_frame, n / 2);
            *nbad = 1;
        } else if (kind == RAW_CAPLEN_HUGE) {
            raw_rec(&r, t / US_PER_S, (uint32_t)(t % US_PER_S), 300000, 300000, g_frame, n);
            *nbad = 1;
        } else if (kind == RAW_CAPLEN_GT_LEN) {
            raw_rec(&r, t / US_PER_S, (uint32_t)(t % US_PER_S), (uint32_t)n, 60, g_frame, n);
            *nbad = 1;
        }
        break;
    }
    }
    if (fflush(r.f) != 0 || ferror(r.f)) {
        rc = -EIO;
        snprintf(err, errlen, "%s: write error", path);
    }
    fclose(r.f);
    return rc;
}

/* ------------------------------------------------------------------------------ edge driver */

/* One malformed-input class. good_flows is the number of flows nfprobe must report with its
 * default options (the good UDP flow plus any flow the metered odd packets form); counter is
 * the decoder counter that must count exactly the odd packets, or "metered" when NFStream's
 * rules meter them. */
struct edge_class {
    const char *name;
    int dlt;
    uint32_t snaplen;
    bool trailing_good; /* a good packet after the odd ones (not after a clock jump) */
    unsigned good_flows;
    const char *counter;
    const char *desc;
    void (*gen)(struct edge *e);
};

static const struct edge_class g_edge[] = {
    {"eth_short", DLT_EN10MB, SNAPLEN_MAX, true, 1, "l2_short",
     "frames of 0-27 bytes (below link header + 28)", ec_eth_short},
    {"ip_short", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ip_short",
     "IPv4 frames of 28-33 bytes: fewer than 20 bytes at the IP header", ec_ip_short},
    {"vlan_short", DLT_EN10MB, SNAPLEN_MAX, true, 1, "vlan_short",
     "802.1Q tags (inner type 0x8100) up to the end of the frame", ec_vlan_short},
    {"vlan_stack_20", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "20 stacked 802.1Q tags before IPv4/UDP: walked, innermost VID 20 kept", ec_vlan_stack_20},
    {"mpls_no_bos", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ip_short",
     "MPLS labels without bottom-of-stack to the end: the walk stops, no IP header left",
     ec_mpls_no_bos},
    {"mpls_short", DLT_EN10MB, SNAPLEN_MAX, true, 1, "mpls_short",
     "VLAN tags then ethertype MPLS with no room for a label", ec_mpls_short},
    {"non_ip", DLT_EN10MB, SNAPLEN_MAX, true, 1, "non_ip",
     "ARP request, ARP reply, LLDP (version nibble 0)", ec_non_ip},
    {"llc_stp", DLT_EN10MB, SNAPLEN_MAX, true, 1, "llc_stp",
     "IEEE 802.3 frames with LLC 0x42 (spanning-tree BPDUs)", ec_llc_stp},
    {"ipv4_ihl_small", DLT_EN10MB, SNAPLEN_MAX, true, 6, "metered",
     "IHL 0..4 on TCP: NFStream reads L4 inside the IP header, one flow per IHL",
     ec_ipv4_ihl_small},
    {"ipv4_ihl_past_caplen", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv4_bad_header",
     "IHL 11/13/15 with 40 bytes of IPv4 captured", ec_ipv4_ihl_past_caplen},
    {"ipv4_totlen_lt_hlen", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv4_bad_length",
     "total length 1/10/19 below the 20-byte header", ec_ipv4_totlen_lt_hlen},
    {"ipv4_totlen_gt_frame", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "total length 1000/1500 in 60-byte frames, caplen == len: sizes as claimed",
     ec_ipv4_totlen_gt_frame},
    {"ipv4_padding", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "1-byte UDP datagrams padded to 60-byte frames", ec_ipv4_padding},
    {"ipv4_totlen_zero", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv4_bad_length",
     "total length 0 (TSO-style): wraps below the header length", ec_ipv4_totlen_zero},
    {"ipv6_short", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv6_short",
     "IPv6 frames with 20-39 bytes of header", ec_ipv6_short},
    {"ipv6_paylen_gt_captured", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv6_truncated",
     "payload length 1000 with 28 bytes present, caplen == len", ec_ipv6_paylen_gt_captured},
    {"ipv6_ext_chain_50", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "50 consistent destination-options headers before UDP", ec_ipv6_ext_chain_50},
    {"ipv6_ext_chain_100", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "100 consistent destination-options headers before UDP (nDPI's walk has no count limit)",
     ec_ipv6_ext_chain_100},
    {"ipv6_ext_past_end", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv6_ext_header",
     "hop-by-hop / destination options longer than the packet", ec_ipv6_ext_past_end},
    {"ipv6_frag_nonfirst", DLT_EN10MB, SNAPLEN_MAX, true, 2, "ipv6_ext_header",
     "IPv6 fragments of one datagram: first metered, the 2 others counted",
     ec_ipv6_frag_nonfirst},
    {"ipv6_nnh_data", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv6_ext_header",
     "No Next Header (59) followed by data, directly and after hop-by-hop", ec_ipv6_nnh_data},
    {"tcp_doff_small", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "TCP data offset 0/2/4: ports kept, payload = segment - doff*4", ec_tcp_doff_small},
    {"tcp_short", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "TCP with 8/12 header bytes: one port-0 TCP flow", ec_tcp_short},
    {"udp_short", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "UDP with 4 header bytes in 60-byte padded frames: one port-0 UDP flow", ec_udp_short},
    {"udp_short_unpadded", DLT_EN10MB, SNAPLEN_MAX, true, 1, "tunnel_short",
     "UDP with 4 header bytes, frame ends there: the tunnel check needs 8", ec_udp_short_unpadded},
    {"icmp_short", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "ICMP echo cut to 4 bytes", ec_icmp_short},
    {"gtp_ext_zero_len", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "GTP-U extension header of length 0: not decapsulated, metered as outer UDP 2152",
     ec_gtp_ext_zero_len},
    {"gtp_bad_inner", DLT_EN10MB, SNAPLEN_MAX, true, 1, "gtp_bad_inner",
     "GTP-U T-PDU with inner version 0/5/7 and a 30-byte inner IPv6", ec_gtp_bad_inner},
    {"ipip_nested_100", DLT_EN10MB, SNAPLEN_MAX, true, 1, "too_many_layers",
     "100 nested IPv4-in-IPv4 headers", ec_ipip_nested_100},
    {"frag_v4", DLT_EN10MB, SNAPLEN_MAX, true, 2, "ipv4_fragment",
     "two UDP datagrams in 3 fragments: first fragments metered, 4 others counted", ec_frag_v4},
    {"tiny_first_frag", DLT_EN10MB, SNAPLEN_MAX, true, 2, "ipv4_fragment",
     "TCP first fragments of 8 bytes (metered as a port-0 flow), 2 second fragments counted",
     ec_tiny_first_frag},
    {"ts_backwards", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "timestamps going back 1 and 2 s within a flow: clamped, all metered", ec_ts_backwards},
    {"ts_zero_and_future", DLT_EN10MB, SNAPLEN_MAX, false, 3, "metered",
     "timestamps 0, 0, 2037-12-31, 0: clamped; the jump idles the flow out, so it splits",
     ec_ts_zero_and_future},
    {"ts_sign_wrap", DLT_EN10MB, SNAPLEN_MAX, false, 2, "metered",
     "seconds field 4102444800: signed in libpcap, time_ms wraps to ~2^64 as in NFStream",
     ec_ts_sign_wrap},
    {"jumbo_9000", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "9000-byte IPv4 UDP datagrams", ec_jumbo_9000},
    {"snaplen_64", DLT_EN10MB, 64, true, 2, "metered",
     "file snaplen 64: 1514-byte TCP segments with caplen 64 < len", ec_snaplen_64},
    {"snaplen_64_v6", DLT_EN10MB, 64, true, 1, "ipv6_truncated",
     "file snaplen 64: IPv6 with its payload cut is not metered (NFStream)", ec_snaplen_64_v6},
    {"linktype_usb", DLT_USB_LINUX, SNAPLEN_MAX, false, 0, "unsupported_linktype",
     "DLT_USB_LINUX (189) URBs; no good flow possible in this link type", ec_linktype_usb},
};

/* Files libpcap must be made to read (or refuse) as they are, written by hand. */
struct raw_class {
    const char *file;
    enum rawkind kind;
    unsigned good_flows;
    const char *counter;
    const char *desc;
};

static const struct raw_class g_raw[] = {
    {"empty.pcap", RAW_EMPTY, 0, "error", "0-byte file: cannot be opened"},
    {"header_only.pcap", RAW_HEADER_ONLY, 0, "metered", "24-byte header, no records: 0 flows"},
    {"garbage.pcap", RAW_GARBAGE, 0, "error", "4 KiB of random bytes: not a capture"},
    {"cut_last_record.pcap", RAW_CUT_LAST, 1, "error",
     "last record cut in the middle: earlier flows kept, truncation reported"},
    {"caplen_huge.pcap", RAW_CAPLEN_HUGE, 1, "error",
     "record header claiming caplen 300000: libpcap error, earlier flows kept"},
    {"caplen_gt_len.pcap", RAW_CAPLEN_GT_LEN, 2, "metered",
     "a record with caplen 74 > len 60: read, metered with len as the wire size"},
    {"ns.pcap", RAW_NS, 1, "metered", "nanosecond magic a1b23c4d"},
    {"bigendian.pcap", RAW_BIGENDIAN, 1, "metered", "big-endian header and records"},
    {"pcapng.pcapng", RAW_PCAPNG, 1, "metered", "pcapng: SHB, IDB (us resolution), 4 EPBs"},
};

int
gen_edge(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    FILE *man;
    int rc;

    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
        return rc;
    }
    snprintf(path, sizeof(path), "%s/manifest.tsv", dir);
    man = fopen(path, "w");
    if (man == NULL) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    fprintf(man, "file\tgood_flows\texpected_counter\tbad_packets\tdescription\n");
    for (size_t i = 0; i < sizeof(g_edge) / sizeof(g_edge[0]); i++) {
        const struct edge_class *ec = &g_edge[i];
        struct edge e;
        char name[128];

        memset(&e, 0, sizeof(e));
        snprintf(name, sizeof(name), "edge_%s.pcap", ec->name);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if ((rc = pw_open(&e.w, path, ec->dlt, ec->snaplen, err, errlen)) != 0)
            goto fail;
        e.s.w = &e.w;
        e.r.s = 0x65646765ULL + i;
        e.t = EDGE_T0;
        conn_init(&e.good, &e.s, &e.r, 17, g_mac_intel, "192.0.2.1", 40000, g_gw_mac,
                  "198.51.100.1", 5000, e.t, 2000);
        e.good.pad = false;
        if (ec->dlt == DLT_EN10MB) {
            edge_good(&e, CLI);
            edge_good(&e, SRV);
            edge_good(&e, CLI);
        }
        ec->gen(&e);
        if (ec->dlt == DLT_EN10MB && ec->trailing_good)
            edge_good(&e, SRV);
        if ((rc = pw_close(&e.w, path, err, errlen)) != 0)
            goto fail;
        fprintf(man, "%s\t%u\t%s\t%u\t%s\n", name, ec->good_flows, ec->counter, e.nbad,
                ec->desc);
    }
    for (size_t i = 0; i < sizeof(g_raw) / sizeof(g_raw[0]); i++) {
        unsigned nbad;
        snprintf(path, sizeof(path), "%s/%s", dir, g_raw[i].file);
        if ((rc = write_raw(path, g_raw[i].kind, &nbad, err, errlen)) != 0)
            goto fail;
        fprintf(man, "%s\t%u\t%s\t%u\t%s\n", g_raw[i].file, g_raw[i].good_flows,
                g_raw[i].counter, nbad, g_raw[i].desc);
    }
    if (fflush(man) != 0 || ferror(man)) {
        snprintf(err, errlen, "%s/manifest.tsv: write error", dir);
        rc = -EIO;
        goto fail;
    }
    rc = 0;
fail:
    fclose(man);
    return rc;
}
