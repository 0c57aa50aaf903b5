/*
 * test_meter.c - the meter's router fields (issue 13): what struct flow carries for export,
 * from hand-made packets (struct pkt_meta as the decoder fills it): the input's ifIndex,
 * IP-layer and link-layer octets per direction whatever the accounting mode, ToS of each
 * direction's first packet, the TTL range, fragment flags, the first packet's ICMP type/code,
 * tags and labels; and nothing of NFStream's counters changes. A run that does not export has
 * no room for them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "meter.h"

static struct flow got;
static struct flow_router got_rt; /* got's router fields */
static const struct flow_layout *layout;
static int n_got;

static void
take(void *ctx, const struct flow *f)
{
    (void)ctx;
    got = *f;
    if (layout->router)
        got_rt = *flow_router(layout, f);
    n_got++;
}

static struct pkt_meta
pkt(uint64_t t, int reverse, uint16_t ip_len, uint8_t tos, uint8_t ttl, uint8_t frag)
{
    struct pkt_meta m;
    memset(&m, 0, sizeof(m));
    m.time_ms = t;
    uint8_t a[4] = {192, 0, 2, 1}, b[4] = {198, 51, 100, 2};
    memcpy(m.src_ip, reverse ? b : a, 4);
    memcpy(m.dst_ip, reverse ? a : b, 4);
    m.ip_version = 4;
    m.protocol = 1;
    m.ip_size = ip_len;
    m.ip_octets = ip_len;
    m.raw_size = (uint16_t)(ip_len + 18);
    m.wire_len = ip_len + 18u;
    m.transport_size = (uint16_t)(ip_len - 20);
    m.tos = tos;
    m.ttl = ttl;
    m.frag_flags = frag;
    m.icmp_type_code = reverse ? 0x0301 : 0x0800; /* the way back: not the request's type */
    m.vlan_id = 200;
    m.vlan_outer = 100;
    m.vlan_inner = 200;
    m.mpls_n = 2;
    m.mpls[0] = 16000u << 4 | 5u << 1;
    m.mpls[1] = 16u << 4 | 1;
    return m;
}

static struct meter *
meter_with(uint8_t accounting_mode, bool router)
{
    struct mtr_config c = {
        .router = router,
        .idle_ms = 120000,
        .active_ms = 1800000,
        .accounting_mode = accounting_mode,
        .max_flows = 64,
        .seed = 1,
        .ifindex = 9,
    };
    char err[128];
    struct meter *mt = mtr_new(&c, NULL, 0, take, NULL, err, sizeof(err));
    if (mt == NULL)
        fail_msg("mtr_new: %s", err);
    layout = mtr_layout(mt);
    n_got = 0;
    return mt;
}

static struct meter *
meter(uint8_t accounting_mode)
{
    return meter_with(accounting_mode, true);
}

static void
router_fields_per_direction(void **state)
{
    (void)state;
    for (uint8_t mode = 0; mode <= 3; mode++) {
        struct meter *mt = meter(mode);
        struct pkt_meta p[] = {
            pkt(1000, 0, 84, 0xb8, 64, 0x40), pkt(1010, 1, 84, 0x28, 120, 0),
            pkt(1020, 0, 100, 0x00, 60, 0x20), pkt(1030, 1, 60, 0x00, 128, 0),
            pkt(1040, 0, 50, 0x10, 62, 0),
        };
        for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
            mtr_packet(mt, &p[i]);
        mtr_flush(mt);
        assert_int_equal(n_got, 1);
        assert_int_equal(got_rt.in_ifindex, 9);
        /* IP-layer and link-layer octets whatever the accounting mode */
        assert_int_equal(got_rt.ip_octets[0], 84 + 100 + 50);
        assert_int_equal(got_rt.ip_octets[1], 84 + 60);
        assert_int_equal(got_rt.l2_octets[0], 84 + 100 + 50 + 3 * 18);
        assert_int_equal(got_rt.l2_octets[1], 84 + 60 + 2 * 18);
        /* the accounting mode's bytes are NFStream's, unchanged */
        uint64_t s2d = mode == 0 ? 234 + 54 : mode == 1 ? 234 : mode == 2 ? 234 - 60 : 0;
        assert_int_equal(got.dir[FLOW_S2D].bytes, s2d);
        assert_int_equal(got_rt.tos[0], 0xb8); /* the direction's first packet */
        assert_int_equal(got_rt.tos[1], 0x28);
        assert_int_equal(got_rt.ttl_min[0], 60);
        assert_int_equal(got_rt.ttl_max[0], 64);
        assert_int_equal(got_rt.ttl_min[1], 120);
        assert_int_equal(got_rt.ttl_max[1], 128);
        assert_int_equal(got_rt.frag_flags[0], 0x60);
        assert_int_equal(got_rt.frag_flags[1], 0);
        assert_int_equal(got_rt.icmp_type_code[0], 0x0800);
        assert_int_equal(got_rt.icmp_type_code[1], 0x0301); /* its own first packet's */
        assert_int_equal(got_rt.vlan_outer, 100);
        assert_int_equal(got_rt.vlan_inner, 200);
        assert_int_equal(flow_mpls(&got_rt, 0), 16000u << 4 | 5u << 1);
        assert_int_equal(flow_mpls(&got_rt, 1), 16u << 4 | 1);
        assert_int_equal(flow_mpls(&got_rt, 2), 0);
        mtr_free(mt);
    }
}

/* A direction that saw no packet exports zeros, and a reused slot keeps nothing of the last. */
static void
one_direction_and_slot_reuse(void **state)
{
    (void)state;
    struct meter *mt = meter(0);
    struct pkt_meta a = pkt(1000, 0, 84, 0xb8, 64, 0x40);
    a.mpls_n = 0;
    a.vlan_outer = a.vlan_inner = 0;
    mtr_packet(mt, &a);
    mtr_flush(mt);
    struct pkt_meta b = pkt(2000, 1, 60, 0x04, 7, 0);
    b.mpls_n = 0;
    mtr_packet(mt, &b); /* the same slot, now the other way round */
    mtr_flush(mt);
    assert_int_equal(n_got, 2);
    assert_int_equal(got_rt.ip_octets[0], 60);
    assert_int_equal(got_rt.ip_octets[1], 0);
    assert_int_equal(got_rt.tos[1], 0);
    assert_int_equal(got_rt.ttl_min[1], 0);
    assert_int_equal(got_rt.ttl_max[1], 0);
    assert_int_equal(got_rt.ttl_min[0], 7);
    assert_int_equal(got_rt.icmp_type_code[0], 0x0301); /* this flow's first packet's */
    assert_int_equal(got_rt.icmp_type_code[1], 0);      /* nothing of the slot's last flow */
    assert_int_equal(flow_mpls(&got_rt, 0), 0);
    mtr_free(mt);
}

/* Without exports (router off) the slot has no room for them, and NFStream's counters are the
 * same packet for packet. */
static void
no_router_fields_without_export(void **state)
{
    (void)state;
    struct meter *on = meter_with(0, true);
    size_t with = mtr_flow_size(on);
    struct pkt_meta a = pkt(1000, 0, 84, 0xb8, 64, 0x40), b = pkt(1010, 1, 60, 0, 7, 0);
    mtr_packet(on, &a);
    mtr_packet(on, &b);
    mtr_flush(on);
    struct flow want = got;
    mtr_free(on);
    struct meter *off = meter_with(0, false);
    assert_false(mtr_layout(off)->router);
    assert_int_equal(mtr_flow_size(off) + sizeof(struct flow_router), with);
    a = pkt(1000, 0, 84, 0xb8, 64, 0x40);
    b = pkt(1010, 1, 60, 0, 7, 0);
    mtr_packet(off, &a);
    mtr_packet(off, &b);
    mtr_flush(off);
    assert_int_equal(n_got, 1);
    assert_memory_equal(got.dir, want.dir, sizeof(want.dir));
    assert_int_equal(got.tcp_flags_or[0], want.tcp_flags_or[0]);
    mtr_free(off);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(router_fields_per_direction),
        cmocka_unit_test(one_direction_and_slot_reuse),
        cmocka_unit_test(no_router_fields_without_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
