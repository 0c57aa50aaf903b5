/*
 * test_decode.c - dec_packet(): NFStream's parsing rules on hand-built frames.
 *
 * Every frame is copied into a heap buffer of exactly caplen bytes, so that ASan catches any
 * read past the captured bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "decode.h"

struct frame {
    uint8_t b[2048];
    uint32_t len;
};

static void
put(struct frame *f, const void *p, size_t n)
{
    memcpy(f->b + f->len, p, n);
    f->len += (uint32_t)n;
}

static void
put16(struct frame *f, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(f, b, 2);
}

static void
eth(struct frame *f, uint16_t type)
{
    static const uint8_t dst[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
    static const uint8_t src[6] = {0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
    put(f, dst, 6);
    put(f, src, 6);
    put16(f, type);
}

/* IPv4 header with the given total length; addresses 192.0.2.1 -> 198.51.100.2. */
static void
ipv4(struct frame *f, uint8_t proto, uint16_t tot_len, uint16_t frag)
{
    uint8_t h[20] = {0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2};
    h[2] = (uint8_t)(tot_len >> 8);
    h[3] = (uint8_t)tot_len;
    h[6] = (uint8_t)(frag >> 8);
    h[7] = (uint8_t)frag;
    put(f, h, 20);
}

static void
ipv6(struct frame *f, uint8_t nxt, uint16_t plen)
{
    uint8_t h[40] = {0x60, 0, 0, 0, 0, 0, nxt, 64};
    h[4] = (uint8_t)(plen >> 8);
    h[5] = (uint8_t)plen;
    h[8] = 0x20, h[9] = 0x01, h[10] = 0x0d, h[11] = 0xb8, h[23] = 1;
    h[24] = 0x20, h[25] = 0x01, h[26] = 0x0d, h[27] = 0xb8, h[39] = 2;
    put(f, h, 40);
}

static void
udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t len)
{
    put16(f, sport);
    put16(f, dport);
    put16(f, len);
    put16(f, 0);
}

static void
tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags, uint8_t doff)
{
    uint8_t h[20] = {0};
    h[0] = (uint8_t)(sport >> 8), h[1] = (uint8_t)sport;
    h[2] = (uint8_t)(dport >> 8), h[3] = (uint8_t)dport;
    h[12] = (uint8_t)(doff << 4);
    h[13] = flags;
    put(f, h, 20);
}

static void
zeros(struct frame *f, size_t n)
{
    memset(f->b + f->len, 0, n);
    f->len += (uint32_t)n;
}

/* Decodes f as captured with caplen bytes (default: all) from an exact-size heap copy. */
static enum dec_result
decode(const struct frame *f, int dlt, uint32_t caplen, struct pkt_meta *m)
{
    if (caplen == 0)
        caplen = f->len;
    uint8_t *copy = malloc(caplen);
    memcpy(copy, f->b, caplen);
    enum dec_result r = dec_packet(dlt, copy, caplen, f->len, true, m);
    free(copy);
    return r;
}

static void
tcp_syn_sizes(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    eth(&f, 0x0800);
    ipv4(&f, 6, 20 + 24 + 10, 0);
    tcp(&f, 40000, 443, 0x02, 6); /* 4 bytes of options */
    zeros(&f, 4 + 10);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_OK);
    assert_int_equal(m.src_port, 40000);
    assert_int_equal(m.dst_port, 443);
    assert_int_equal(m.protocol, 6);
    assert_int_equal(m.ip_version, 4);
    assert_int_equal(m.tcp_flags, 0x02);
    assert_int_equal(m.raw_size, 14 + 54);
    assert_int_equal(m.ip_size, 54);
    assert_int_equal(m.transport_size, 34);
    assert_int_equal(m.payload_size, 10);
    assert_int_equal(m.src_mac[0], 0x66);
    assert_int_equal(m.dst_mac[5], 0x55);
    assert_int_equal(m.src_ip[0], 192);
    assert_int_equal(m.dst_ip[3], 2);
}

static void
vlan_innermost_id(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    eth(&f, 0x8100);
    put16(&f, 100);
    put16(&f, 0x8100);
    put16(&f, 200);
    put16(&f, 0x0800);
    ipv4(&f, 17, 28, 0);
    udp(&f, 53, 5353, 8);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_OK);
    assert_int_equal(m.vlan_id, 200);
}

static void
ipv4_non_first_fragment_ignored(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    eth(&f, 0x0800);
    ipv4(&f, 17, 48, 0x0003); /* offset 24 bytes */
    zeros(&f, 28);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_IPV4_FRAGMENT);
    /* the first fragment (MF set, offset 0) is metered */
    f.len = 0;
    eth(&f, 0x0800);
    ipv4(&f, 17, 48, 0x2000);
    udp(&f, 1, 2, 100);
    zeros(&f, 20);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_OK);
    assert_int_equal(m.ip_size, 48);
}

static void
ipv6_ip_size_is_payload_length(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    eth(&f, 0x86dd);
    ipv6(&f, 17, 18);
    udp(&f, 1234, 53, 18);
    zeros(&f, 10);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_OK);
    assert_int_equal(m.ip_version, 6);
    assert_int_equal(m.ip_size, 18);
    assert_int_equal(m.transport_size, 18);
    assert_int_equal(m.payload_size, 10);
    assert_int_equal(m.src_ip[15], 1);
    assert_int_equal(m.dst_ip[15], 2);
}

static void
ipv6_truncated_ignored(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    eth(&f, 0x86dd);
    ipv6(&f, 17, 100);
    udp(&f, 1234, 53, 100);
    zeros(&f, 92);
    assert_int_equal(decode(&f, DLT_EN10MB, 14 + 40 + 20, &m), DEC_IPV6_TRUNCATED);
}

static void
ipv6_extension_headers(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    uint8_t dopt[8] = {6, 0}; /* destination options, next = TCP, 8 bytes */
    eth(&f, 0x86dd);
    ipv6(&f, 60, 8 + 20);
    put(&f, dopt, 8);
    tcp(&f, 80, 8080, 0x10, 5);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_OK);
    assert_int_equal(m.protocol, 6);
    assert_int_equal(m.src_port, 80);
    assert_int_equal(m.transport_size, 20);
    /* an extension header whose length runs past the packet */
    f.len = 0;
    eth(&f, 0x86dd);
    ipv6(&f, 60, 16);
    uint8_t bad[16] = {6, 10};
    put(&f, bad, 16);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_IPV6_EXT_HDR);
    /* a non-first fragment */
    f.len = 0;
    eth(&f, 0x86dd);
    ipv6(&f, 44, 16);
    uint8_t frag[16] = {17, 0, 0x00, 0x08};
    put(&f, frag, 16);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_IPV6_EXT_HDR);
}

static void
short_and_non_ip(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    eth(&f, 0x0800);
    zeros(&f, 10);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_L2_SHORT);
    f.len = 0;
    eth(&f, 0x0806); /* ARP: version nibble 0 */
    zeros(&f, 28);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_NON_IP);
    assert_int_equal(decode(&f, 189 /* USB */, 0, &m), DEC_UNSUPPORTED_DLT);
    assert_false(dec_dlt_supported(189));
    assert_true(dec_dlt_supported(DLT_EN10MB));
}

static void
vlan_cut_by_capture(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    /* four stacked tags that all announce another tag, up to the end of a 30-byte capture */
    eth(&f, 0x8100);
    for (int i = 0; i < 4; i++) {
        put16(&f, (uint16_t)(10 + i));
        put16(&f, 0x8100);
    }
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_VLAN_SHORT);
}

static void
nested_ip_in_ip_is_capped(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    eth(&f, 0x0800);
    for (int i = 0; i < 100; i++)
        ipv4(&f, 4, (uint16_t)(20 * (101 - i) + 8), 0);
    ipv4(&f, 17, 28, 0);
    udp(&f, 1, 2, 8);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_TOO_DEEP);
    /* two levels are decapsulated, tunnel_id stays 0 */
    f.len = 0;
    eth(&f, 0x0800);
    ipv4(&f, 4, 20 + 28, 0);
    ipv4(&f, 17, 28, 0);
    udp(&f, 7, 9, 8);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_OK);
    assert_int_equal(m.dst_port, 9);
    assert_int_equal(m.tunnel_id, 0);
}

static void
gtp_u_decapsulated(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    uint8_t gtp[8] = {0x30, 0xff, 0, 28 + 8, 0, 0, 0, 1};
    eth(&f, 0x0800);
    ipv4(&f, 17, 20 + 8 + 8 + 36, 0);
    udp(&f, 2152, 2152, 8 + 8 + 36);
    put(&f, gtp, 8);
    uint8_t inner[20] = {0x45, 0, 0, 36, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    put(&f, inner, 20);
    udp(&f, 5000, 6000, 16);
    zeros(&f, 8);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_OK);
    assert_int_equal(m.tunnel_id, PKT_TUNNEL_GTP);
    assert_int_equal(m.src_port, 5000);
    assert_int_equal(m.src_ip[0], 10);
    assert_int_equal(m.ip_size, 36);
    assert_int_equal(m.raw_size, f.len);
}

static void
truncated_tcp_header_reads_no_further(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    eth(&f, 0x0800);
    ipv4(&f, 6, 40 + 100, 0);
    tcp(&f, 1, 2, 0x18, 5);
    zeros(&f, 100);
    /* capture cut 2 bytes into the TCP header: ports beyond read as 0, no overread */
    assert_int_equal(decode(&f, DLT_EN10MB, 14 + 20 + 2, &m), DEC_OK);
    assert_int_equal(m.src_port, 1);
    assert_int_equal(m.dst_port, 0);
    assert_int_equal(m.ip_size, 140);
}

static void
dlt_null_and_raw(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    uint8_t af[4] = {0, 0, 0, 2};
    put(&f, af, 4);
    ipv4(&f, 17, 28, 0);
    udp(&f, 10, 20, 8);
    assert_int_equal(decode(&f, DLT_NULL, 0, &m), DEC_OK);
    assert_int_equal(m.dst_port, 20);
    f.len = 0;
    ipv6(&f, 17, 8);
    udp(&f, 10, 20, 8);
    assert_int_equal(decode(&f, DLT_RAW, 0, &m), DEC_OK);
    assert_int_equal(m.ip_version, 6);
}

/* Router fields (issue 13): octets, ToS, TTL, DF/MF, QinQ tags, MPLS stack, ICMP type/code. */
static void
router_fields_ipv4(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    eth(&f, 0x8100);
    put16(&f, 0xa000 | 100); /* PCP 5, VID 100: only the VID is kept */
    put16(&f, 0x8100);
    put16(&f, 200);
    put16(&f, 0x8847);
    uint8_t lse[8] = {0x03, 0xe8, 0x0a, 0x3f,  /* label 16000, exp 5, S 0, TTL 63 */
                      0x00, 0x01, 0x01, 0x3f}; /* label 16, exp 0, S 1 */
    put(&f, lse, 8);
    ipv4(&f, 1, 20 + 8 + 4, 0x4000); /* DF */
    f.b[f.len - 20 + 1] = 0xb8;      /* DSCP 46 (EF) */
    f.b[f.len - 20 + 8] = 57;        /* TTL */
    uint8_t icmp[8] = {8, 0, 0, 0, 0, 1, 0, 1}; /* echo request */
    put(&f, icmp, 8);
    zeros(&f, 4);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_OK);
    assert_int_equal(m.vlan_id, 200); /* NFStream's: the innermost tag */
    assert_int_equal(m.vlan_outer, 100);
    assert_int_equal(m.vlan_inner, 200);
    assert_int_equal(m.mpls_n, 2);
    assert_int_equal(m.mpls[0], 16000u << 4 | 5u << 1 | 0);
    assert_int_equal(m.mpls[1], 16u << 4 | 1);
    assert_int_equal(m.ip_octets, 32);
    assert_int_equal(m.wire_len, f.len);
    assert_int_equal(m.tos, 0xb8);
    assert_int_equal(m.ttl, 57);
    assert_int_equal(m.frag_flags, 0x40);
    assert_int_equal(m.icmp_type_code, 0x0800);
    assert_int_equal(m.src_port, 0); /* the key keeps NFStream's zero ports */
    assert_int_equal(m.dst_port, 0);

    /* one tag only: no customer tag; a TCP packet has no ICMP type; MF of a first fragment */
    f.len = 0;
    eth(&f, 0x8100);
    put16(&f, 7);
    put16(&f, 0x0800);
    ipv4(&f, 6, 40, 0x2000);
    tcp(&f, 1, 2, 0x02, 5);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_OK);
    assert_int_equal(m.vlan_outer, 7);
    assert_int_equal(m.vlan_inner, 0);
    assert_int_equal(m.mpls_n, 0);
    assert_int_equal(m.icmp_type_code, 0);
    assert_int_equal(m.frag_flags, 0x20);
    assert_int_equal(m.ttl, 64);
}

static void
router_fields_ipv6(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    eth(&f, 0x86dd);
    ipv6(&f, 44, 8 + 8);
    f.b[14] = 0x6b;      /* traffic class 0xb8: version 6, 0xb, then 0x8 in the next nibble */
    f.b[15] = 0x80;
    f.b[14 + 7] = 255;   /* hop limit */
    uint8_t frag[8] = {58, 0, 0, 1, 0, 0, 0, 9}; /* offset 0, M = 1 */
    put(&f, frag, 8);
    uint8_t icmp6[8] = {129, 0, 0, 0, 0, 1, 0, 1}; /* echo reply */
    put(&f, icmp6, 8);
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_OK);
    assert_int_equal(m.protocol, 58);
    assert_int_equal(m.ip_octets, 40 + 16); /* the 40-byte header counts */
    assert_int_equal(m.tos, 0xb8);
    assert_int_equal(m.ttl, 255);
    assert_int_equal(m.frag_flags, 0x20);
    assert_int_equal(m.icmp_type_code, 129 << 8);
}

/* Tags and labels cut by the capture are never read past caplen (ASan checks the copy). */
static void
router_fields_truncated(void **state)
{
    (void)state;
    struct frame f = {0};
    struct pkt_meta m;
    eth(&f, 0x8847);
    uint8_t lse[4] = {0x00, 0x01, 0x01, 0x40}; /* label 16, S 1 */
    put(&f, lse, 4);
    ipv4(&f, 1, 20 + 8, 0);
    uint8_t icmp[8] = {3, 1, 0, 0, 0, 0, 0, 0};
    put(&f, icmp, 8);
    for (uint32_t cut = 1; cut <= f.len; cut++) {
        enum dec_result r = decode(&f, DLT_EN10MB, cut, &m);
        if (r == DEC_OK)
            assert_true(m.mpls_n >= 1 && m.mpls_n <= PKT_MPLS_MAX);
    }
    assert_int_equal(decode(&f, DLT_EN10MB, 0, &m), DEC_OK);
    assert_int_equal(m.mpls_n, 1);
    assert_int_equal(m.mpls[0], 16u << 4 | 1);
    assert_int_equal(m.icmp_type_code, 0x0301);
}

static void
result_names(void **state)
{
    (void)state;
    assert_string_equal(dec_result_name(DEC_IPV4_FRAGMENT), "ipv4_fragment");
    assert_string_equal(dec_result_name(DEC_TOO_DEEP), "too_many_layers");
    for (int r = 0; r < DEC_NRESULTS; r++)
        assert_non_null(dec_result_name((enum dec_result)r));
    assert_string_equal(dec_result_name(DEC_NRESULTS), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_syn_sizes),
        cmocka_unit_test(vlan_innermost_id),
        cmocka_unit_test(ipv4_non_first_fragment_ignored),
        cmocka_unit_test(ipv6_ip_size_is_payload_length),
        cmocka_unit_test(ipv6_truncated_ignored),
        cmocka_unit_test(ipv6_extension_headers),
        cmocka_unit_test(short_and_non_ip),
        cmocka_unit_test(vlan_cut_by_capture),
        cmocka_unit_test(nested_ip_in_ip_is_capped),
        cmocka_unit_test(gtp_u_decapsulated),
        cmocka_unit_test(truncated_tcp_header_reads_no_further),
        cmocka_unit_test(dlt_null_and_raw),
        cmocka_unit_test(router_fields_ipv4),
        cmocka_unit_test(router_fields_ipv6),
        cmocka_unit_test(router_fields_truncated),
        cmocka_unit_test(result_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
