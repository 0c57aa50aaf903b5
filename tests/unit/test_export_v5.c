/*
 * test_export_v5.c - the NetFlow v5 encoder against bytes written out by hand from the format
 * (Cisco's v5 layout, export_v5.h), and its rules: 30 records per packet, flow_sequence
 * counting records, counters split below 2^32, AS_TRANS, IPv6 and empty directions counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "export_v5.h"

static const uint64_t BOOT = 1700000000000ULL; /* Unix ms */

static struct nf5_ctx *
ctx(uint8_t et, uint8_t eid, enum nf5_sampling_mode m, uint16_t iv)
{
    char err[128];
    struct nf5_config c = {.engine_type = et, .engine_id = eid, .sampling_mode = m,
                           .sampling_interval = iv, .boot_ms = BOOT};
    struct nf5_ctx *x = nf5_new(&c, err, sizeof(err));
    assert_non_null(x);
    return x;
}

static struct nf5_flow
tcp_flow(void)
{
    return (struct nf5_flow){
        .family = 4, .proto = 6, .tcp_flags = 0x1b, .tos = 0xb8, .src_mask = 24, .dst_mask = 16,
        .sport = 40000, .dport = 443, .src = 0xc0000201, /* 192.0.2.1 */
        .dst = 0xc6336407, /* 198.51.100.7 */ .nexthop = 0x0a000001, .input = 3, .output = 7,
        .src_as = 64500, .dst_as = 65551, .packets = 10, .octets = 5200,
        .first_ms = BOOT + 1000, .last_ms = BOOT + 2500};
}

static void
one_record_bytes(void **state)
{
    (void)state;
    struct nf5_ctx *c = ctx(1, 42, NF5_SAMPLING_DETERMINISTIC, 100);
    struct nf5_flow f = tcp_flow();
    uint8_t buf[NF5_MAX_PACKET];
    size_t used;
    size_t len = nf5_encode(c, &f, 1, BOOT + 3000123, buf, sizeof(buf), &used);
    static const uint8_t want[72] = {
        /* header */
        0x00, 0x05, 0x00, 0x01,             /* version 5, count 1 */
        0x00, 0x2d, 0xc7, 0x3b,             /* sysUptime 3000123 ms */
        0x65, 0x53, 0xfc, 0xb8,             /* unix_secs 1700003000 */
        0x07, 0x54, 0xd4, 0xc0,             /* unix_nsecs 123000000 */
        0x00, 0x00, 0x00, 0x00,             /* flow_sequence 0 */
        0x01, 0x2a,                         /* engine type 1, id 42 */
        0x40, 0x64,                         /* sampling: mode 1, interval 100 */
        /* record */
        0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x07, 0x0a, 0x00, 0x00, 0x01,
        0x00, 0x03, 0x00, 0x07,             /* input 3, output 7 */
        0x00, 0x00, 0x00, 0x0a,             /* dPkts 10 */
        0x00, 0x00, 0x14, 0x50,             /* dOctets 5200 */
        0x00, 0x00, 0x03, 0xe8,             /* First 1000 */
        0x00, 0x00, 0x09, 0xc4,             /* Last 2500 */
        0x9c, 0x40, 0x01, 0xbb,             /* ports 40000, 443 */
        0x00, 0x1b, 0x06, 0xb8,             /* pad, flags, proto, tos */
        0xfb, 0xf4, 0x5b, 0xa0,             /* src_as 64500, dst_as AS_TRANS 23456 */
        0x18, 0x10, 0x00, 0x00,             /* masks 24, 16, pad */
    };
    assert_int_equal(used, 1);
    assert_int_equal(len, 72);
    assert_memory_equal(buf, want, sizeof(want));
    assert_int_equal(nf5_stats(c)->as_trans, 1);
    assert_int_equal(nf5_sequence(c), 1);
    nf5_free(c);
}

static void
thirty_per_packet_and_sequence(void **state)
{
    (void)state;
    struct nf5_ctx *c = ctx(0, 0, NF5_SAMPLING_NONE, 0);
    struct nf5_flow f[65];
    uint8_t buf[4096];
    size_t used;
    for (int i = 0; i < 65; i++) {
        f[i] = tcp_flow();
        f[i].sport = (uint16_t)i;
    }
    size_t off = 0, packets = 0;
    uint32_t seqs[3];
    while (off < 65) {
        size_t len = nf5_encode(c, f + off, 65 - off, BOOT + 5000, buf, sizeof(buf), &used);
        assert_true(len > 0);
        seqs[packets] = (uint32_t)buf[16] << 24 | (uint32_t)buf[17] << 16 |
                        (uint32_t)buf[18] << 8 | buf[19];
        size_t count = (size_t)buf[2] << 8 | buf[3];
        assert_int_equal(len, NF5_HEADER_LEN + count * NF5_RECORD_LEN);
        assert_int_equal(count, used);
        /* the first record of this packet is flow off */
        assert_int_equal((size_t)buf[24 + 32] << 8 | buf[24 + 33], off);
        off += used;
        packets++;
    }
    assert_int_equal(packets, 3);
    assert_int_equal(seqs[0], 0);
    assert_int_equal(seqs[1], 30);
    assert_int_equal(seqs[2], 60);
    assert_int_equal(nf5_stats(c)->records, 65);
    /* a buffer for two records only */
    size_t len = nf5_encode(c, f, 65, BOOT + 5000, buf, NF5_HEADER_LEN + 2 * 48 + 47, &used);
    assert_int_equal(len, NF5_HEADER_LEN + 2 * 48);
    assert_int_equal(used, 2);
    nf5_free(c);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
counters_split_below_2_32(void **state)
{
    (void)state;
    struct nf5_ctx *c = ctx(0, 0, NF5_SAMPLING_NONE, 0);
    struct nf5_flow f[2] = {tcp_flow(), tcp_flow()};
    f[0].packets = 9000000000ULL;      /* 3 records */
    f[0].octets = 9000000000ULL * 60;  /* 126 records */
    f[1].sport = 1;
    uint8_t buf[NF5_MAX_PACKET];
    size_t used, total = 0, packets = 0;
    uint64_t pk = 0, oc = 0, recs = 0;
    while (total < 2) {
        size_t len = nf5_encode(c, f + total, 2 - total, BOOT + 9000, buf, sizeof(buf), &used);
        assert_true(len > 0);
        packets++;
        size_t count = (size_t)buf[2] << 8 | buf[3];
        for (size_t r = 0; r < count; r++) {
            const uint8_t *rec = buf + NF5_HEADER_LEN + r * NF5_RECORD_LEN;
            if ((rec[32] << 8 | rec[33]) != 40000)
                continue;
            pk += get32(rec + 16);
            oc += get32(rec + 20);
            recs++;
            assert_true(get32(rec + 16) > 0);
        }
        total += used;
    }
    assert_int_equal(packets, 5); /* 30 + 30 + 30 + 30 + 6 + 1 */
    assert_int_equal(total, 2);
    assert_int_equal(recs, 126);
    assert_int_equal(pk, 9000000000ULL);
    assert_int_equal(oc, 9000000000ULL * 60);
    assert_int_equal(nf5_stats(c)->split_records, 125);
    assert_int_equal(nf5_stats(c)->records, 127);
    assert_int_equal(nf5_sequence(c), 127);
    nf5_free(c);
}

static void
ipv6_and_empty_counted(void **state)
{
    (void)state;
    struct nf5_ctx *c = ctx(0, 0, NF5_SAMPLING_NONE, 0);
    struct nf5_flow f[4] = {tcp_flow(), tcp_flow(), tcp_flow(), tcp_flow()};
    f[0].family = 6;
    f[1].packets = 0;
    f[1].octets = 0;
    f[3].family = 6;
    uint8_t buf[NF5_MAX_PACKET];
    size_t used;
    size_t len = nf5_encode(c, f, 2, BOOT, buf, sizeof(buf), &used);
    assert_int_equal(len, 0);
    assert_int_equal(used, 2);
    len = nf5_encode(c, f + 2, 2, BOOT, buf, sizeof(buf), &used);
    assert_int_equal(len, 72);
    assert_int_equal(used, 2);
    assert_int_equal(nf5_stats(c)->not_exportable_v6, 2);
    assert_int_equal(nf5_stats(c)->empty_directions, 1);
    assert_int_equal(nf5_stats(c)->records, 1);
    nf5_free(c);
}

static void
clamps(void **state)
{
    (void)state;
    struct nf5_ctx *c = ctx(0, 0, NF5_SAMPLING_RANDOM, 16383);
    struct nf5_flow f = tcp_flow();
    f.input = 70000;
    f.src_as = 4200000000u;
    f.first_ms = BOOT - 5;
    uint8_t buf[NF5_MAX_PACKET];
    size_t used;
    assert_int_equal(nf5_encode(c, &f, 1, BOOT + 10, buf, sizeof(buf), &used), 72);
    assert_int_equal(buf[22], 0xbf); /* mode 2, interval 16383 */
    assert_int_equal(buf[23], 0xff);
    assert_int_equal(buf[24 + 12] << 8 | buf[24 + 13], 0);
    assert_int_equal(buf[24 + 40] << 8 | buf[24 + 41], NF5_AS_TRANS);
    assert_int_equal(get32(buf + 24 + 24), 0);
    assert_int_equal(nf5_stats(c)->ifindex_clamped, 1);
    assert_int_equal(nf5_stats(c)->as_trans, 2);
    assert_int_equal(nf5_stats(c)->time_clamped, 1);
    nf5_free(c);

    char err[128];
    struct nf5_config bad = {.sampling_mode = NF5_SAMPLING_DETERMINISTIC,
                             .sampling_interval = 16384};
    assert_null(nf5_new(&bad, err, sizeof(err)));
    assert_string_equal(err, "NetFlow v5: sampling interval 16384 above 16383");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_record_bytes),
        cmocka_unit_test(thirty_per_packet_and_sequence),
        cmocka_unit_test(counters_split_below_2_32),
        cmocka_unit_test(ipv6_and_empty_counted),
        cmocka_unit_test(clamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
