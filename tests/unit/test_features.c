/*
 * test_features.c - the meter and NFStream's features: Welford statistics, directions, SPLT,
 * idle/active expiry, the creation-ordered idle scan, the clock clamp, eviction, custom ends.
 * Packets are struct pkt_meta built by hand; emitted flows are copied into an array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "meter.h"

#define MAX_OUT 64
#define SLOT 1024

static unsigned char out[MAX_OUT][SLOT];
static size_t n_out;
static size_t flow_size;

static void
collect(void *ctx, const struct flow *f)
{
    (void)ctx;
    assert_true(n_out < MAX_OUT);
    assert_true(flow_size <= SLOT);
    memcpy(out[n_out++], f, flow_size);
}

static const struct flow *
got(size_t i)
{
    return (const struct flow *)(const void *)out[i];
}

static struct meter *
new_meter(uint64_t idle_s, uint64_t active_s, uint16_t splt, uint32_t max_flows,
          const struct mtr_ext *ext, size_t n_ext)
{
    struct mtr_config c = {
        .idle_ms = idle_s * 1000,
        .active_ms = active_s * 1000,
        .statistics = true,
        .splt_n = splt,
        .max_flows = max_flows,
        .seed = 5,
    };
    char err[256];
    n_out = 0;
    struct meter *mt = mtr_new(&c, ext, n_ext, collect, NULL, err, sizeof(err));
    assert_non_null(mt);
    flow_size = mtr_flow_size(mt);
    return mt;
}

/* A UDP packet a:pa -> b:pb (one-byte host parts) of raw size `size` at time t. */
static void
pkt(struct meter *mt, uint8_t a, uint16_t pa, uint8_t b, uint16_t pb, uint16_t size, uint64_t t,
    uint8_t flags)
{
    struct pkt_meta m;
    memset(&m, 0, sizeof(m));
    m.src_ip[0] = 10, m.src_ip[3] = a;
    m.dst_ip[0] = 10, m.dst_ip[3] = b;
    m.src_port = pa;
    m.dst_port = pb;
    m.protocol = flags ? 6 : 17;
    m.ip_version = 4;
    m.raw_size = size;
    m.ip_size = (uint16_t)(size - 14);
    m.tcp_flags = flags;
    m.time_ms = t;
    mtr_packet(mt, &m);
}

static void
welford_statistics(void **state)
{
    (void)state;
    struct meter *mt = new_meter(120, 1800, 0, 16, NULL, 0);
    pkt(mt, 1, 1000, 2, 53, 60, 1000, 0x02);
    pkt(mt, 1, 1000, 2, 53, 70, 1010, 0x10);
    pkt(mt, 1, 1000, 2, 53, 80, 1030, 0x11);
    mtr_flush(mt);
    assert_int_equal(n_out, 1);
    const struct flow *f = got(0);
    const struct flow_stats *b = &flow_stats(f)[FLOW_BIDI];
    assert_int_equal(f->dir[FLOW_BIDI].packets, 3);
    assert_int_equal(f->dir[FLOW_BIDI].bytes, 210);
    assert_int_equal(flow_duration(&f->dir[FLOW_BIDI]), 30);
    assert_int_equal(b->min_ps, 60);
    assert_int_equal(b->max_ps, 80);
    assert_true(b->mean_ps == 70.0);
    assert_true(feat_stddev_ps(b, 3) == 10.0);
    assert_int_equal(b->min_piat, 10);
    assert_int_equal(b->max_piat, 20);
    assert_true(b->mean_piat == 15.0);
    assert_true(feat_stddev_piat(b, 3) == 7.0710678118654755);
    assert_int_equal(b->flag_count[0], 1); /* syn */
    assert_int_equal(b->flag_count[4], 2); /* ack */
    assert_int_equal(b->flag_count[7], 1); /* fin */
    assert_int_equal(f->tcp_flags_or[FLOW_BIDI], 0x13);
    assert_int_equal(f->dir[FLOW_D2S].packets, 0);
    assert_true(flow_stats(f)[FLOW_D2S].mean_ps == 0.0);
    assert_int_equal(f->expiration_id, FLOW_EXPIRY_IDLE);
    assert_int_equal(f->end_reason, FLOW_END_FORCED);
    mtr_free(mt);
}

static void
directions_and_splt(void **state)
{
    (void)state;
    struct meter *mt = new_meter(120, 1800, 4, 16, NULL, 0);
    pkt(mt, 5, 4000, 3, 80, 100, 500, 0);
    pkt(mt, 3, 80, 5, 4000, 200, 520, 0); /* reverse: initialises dst2src */
    pkt(mt, 3, 80, 5, 4000, 300, 560, 0);
    mtr_flush(mt);
    const struct flow *f = got(0);
    /* src is the first packet's source even though it is the "higher" address */
    assert_int_equal(flow_src_ip(f)[3], 5);
    assert_int_equal(flow_src_port(f), 4000);
    assert_int_equal(f->dir[FLOW_S2D].packets, 1);
    assert_int_equal(f->dir[FLOW_D2S].packets, 2);
    assert_int_equal(f->dir[FLOW_D2S].first_seen_ms, 520);
    assert_int_equal(flow_duration(&f->dir[FLOW_D2S]), 40);
    assert_int_equal(flow_stats(f)[FLOW_D2S].min_piat, 40);
    assert_true(flow_stats(f)[FLOW_D2S].mean_ps == 250.0);
    const struct feat_config *fc = mtr_features(mt);
    assert_int_equal(f->splt_len, 3);
    assert_int_equal(feat_splt_dir(fc, f)[1], 1);
    assert_int_equal(feat_splt_ps(fc, f)[2], 300);
    assert_int_equal(feat_splt_piat(fc, f)[0], 0);
    assert_int_equal(feat_splt_piat(fc, f)[2], 40);
    mtr_free(mt);
}

static void
idle_and_active_expiry_on_arrival(void **state)
{
    (void)state;
    struct meter *mt = new_meter(10, 30, 0, 16, NULL, 0);
    pkt(mt, 1, 1, 2, 2, 64, 1000, 0);
    pkt(mt, 1, 1, 2, 2, 64, 11000, 0); /* exactly idle: >= splits */
    assert_int_equal(n_out, 1);
    assert_int_equal(got(0)->expiration_id, FLOW_EXPIRY_IDLE);
    assert_int_equal(got(0)->dir[FLOW_BIDI].packets, 1);
    for (uint64_t t = 12000; t <= 42000; t += 5000)
        pkt(mt, 2, 2, 1, 1, 64, t, 0);
    /* 42000 - 11000 >= 30000: the packet at 42000 ends the active flow and starts a new one */
    assert_int_equal(n_out, 2);
    assert_int_equal(got(1)->expiration_id, FLOW_EXPIRY_ACTIVE);
    assert_int_equal(got(1)->end_reason, FLOW_END_ACTIVE);
    assert_int_equal(got(1)->id, 1);
    mtr_flush(mt);
    assert_int_equal(n_out, 3);
    /* the new flow's direction is that of the packet that started it (NFStream #125) */
    assert_int_equal(flow_src_ip(got(2))[3], 2);
    mtr_free(mt);
}

static void
scan_stops_at_first_live_flow(void **state)
{
    (void)state;
    struct meter *mt = new_meter(5, 1800, 0, 16, NULL, 0);
    pkt(mt, 1, 1, 9, 9, 64, 1000, 0); /* A, kept busy */
    pkt(mt, 2, 2, 9, 9, 64, 1001, 0); /* B, goes idle */
    for (uint64_t t = 2000; t <= 9000; t += 1000)
        pkt(mt, 1, 1, 9, 9, 64, t, 0);
    /* B is idle since 6001 but sits behind the busy A in creation order: not emitted */
    assert_int_equal(n_out, 0);
    pkt(mt, 3, 3, 9, 9, 64, 15000, 0); /* A idle now too: scan emits A then B */
    assert_int_equal(n_out, 2);
    assert_int_equal(flow_src_ip(got(0))[3], 1);
    assert_int_equal(flow_src_ip(got(1))[3], 2);
    mtr_free(mt);
}

static void
clock_is_clamped(void **state)
{
    (void)state;
    struct meter *mt = new_meter(120, 1800, 0, 16, NULL, 0);
    pkt(mt, 1, 1, 2, 2, 64, 5000, 0);
    pkt(mt, 1, 1, 2, 2, 64, 4000, 0); /* goes back in time: counted at 5000 */
    mtr_flush(mt);
    assert_int_equal(got(0)->dir[FLOW_BIDI].last_seen_ms, 5000);
    assert_int_equal(flow_stats(got(0))[FLOW_BIDI].max_piat, 0);
    struct mtr_stats st;
    mtr_stats(mt, &st);
    assert_int_equal(st.ts_backwards, 1);
    mtr_free(mt);
}

static void
full_table_evicts_oldest(void **state)
{
    (void)state;
    struct meter *mt = new_meter(120, 1800, 0, 2, NULL, 0);
    pkt(mt, 1, 1, 9, 9, 64, 1, 0);
    pkt(mt, 2, 2, 9, 9, 64, 2, 0);
    pkt(mt, 3, 3, 9, 9, 64, 3, 0);
    assert_int_equal(n_out, 1);
    assert_int_equal(got(0)->end_reason, FLOW_END_RESOURCES);
    assert_int_equal(flow_src_ip(got(0))[3], 1);
    struct mtr_stats st;
    mtr_stats(mt, &st);
    assert_int_equal(st.flows_evicted, 1);
    mtr_free(mt);
}

static struct meter *ext_meter;

static void
end_after_two(void *ctx, struct flow *f, void *state, const struct pkt_meta *m)
{
    (void)ctx, (void)state, (void)m;
    if (f->dir[FLOW_BIDI].packets == 2)
        mtr_end_flow(ext_meter, f);
}

static void
custom_expiration(void **state)
{
    (void)state;
    struct mtr_ext ext = {.ext_size = 8, .on_update = end_after_two};
    ext_meter = new_meter(120, 1800, 0, 16, &ext, 1);
    pkt(ext_meter, 1, 1, 2, 2, 64, 1, 0);
    pkt(ext_meter, 1, 1, 2, 2, 64, 2, 0);
    assert_int_equal(n_out, 1);
    assert_int_equal(got(0)->expiration_id, FLOW_EXPIRY_CUSTOM);
    assert_int_equal(got(0)->dir[FLOW_BIDI].packets, 2); /* the packet is included */
    pkt(ext_meter, 1, 1, 2, 2, 64, 3, 0);                /* starts a new flow */
    mtr_flush(ext_meter);
    assert_int_equal(n_out, 2);
    assert_int_equal(got(1)->dir[FLOW_BIDI].packets, 1);
    mtr_free(ext_meter);
}

static void
max_nflows_stops(void **state)
{
    (void)state;
    struct mtr_config c = {.idle_ms = 0, .active_ms = 1000, .max_flows = 8, .max_nflows = 2};
    char err[256];
    n_out = 0;
    struct meter *mt = mtr_new(&c, NULL, 0, collect, NULL, err, sizeof(err));
    flow_size = mtr_flow_size(mt);
    /* idle timeout 0: every packet is its own flow */
    for (int i = 0; i < 5 && !mtr_done(mt); i++)
        pkt(mt, 1, 1, 2, 2, 64, (uint64_t)i, 0);
    assert_true(mtr_done(mt));
    assert_int_equal(n_out, 2);
    mtr_free(mt);
}

static void
timely_expiry_without_packets(void **state)
{
    (void)state;
    struct mtr_config c = {.expiry = MTR_EXPIRY_TIMELY, .idle_ms = 5000, .active_ms = 20000,
                           .max_flows = 2};
    char err[256];
    n_out = 0;
    struct meter *mt = mtr_new(&c, NULL, 0, collect, NULL, err, sizeof(err));
    flow_size = mtr_flow_size(mt);
    pkt(mt, 1, 1, 9, 9, 64, 1000, 0); /* A */
    pkt(mt, 2, 2, 9, 9, 64, 1001, 0); /* B */
    pkt(mt, 1, 1, 9, 9, 64, 3000, 0); /* A is now the most recently seen */
    mtr_tick(mt, 6001, 100);          /* B idle (1001 + 5000), A not yet */
    assert_int_equal(n_out, 1);
    assert_int_equal(flow_src_ip(got(0))[3], 2);
    assert_int_equal(got(0)->end_reason, FLOW_END_IDLE);
    for (uint64_t t = 7000; t <= 19000; t += 2000)
        pkt(mt, 1, 1, 9, 9, 64, t, 0);
    mtr_tick(mt, 21000, 100); /* A active since 1000: 20000 reached without a packet */
    assert_int_equal(n_out, 2);
    assert_int_equal(got(1)->end_reason, FLOW_END_ACTIVE);
    /* a full table under the timely policy evicts the least recently active flow */
    pkt(mt, 3, 3, 9, 9, 64, 22000, 0); /* C */
    pkt(mt, 4, 4, 9, 9, 64, 22001, 0); /* D */
    pkt(mt, 3, 3, 9, 9, 64, 22002, 0); /* C touched: D is the LRU */
    pkt(mt, 5, 5, 9, 9, 64, 22003, 0); /* E: table full */
    assert_int_equal(n_out, 3);
    assert_int_equal(flow_src_ip(got(2))[3], 4);
    assert_int_equal(got(2)->end_reason, FLOW_END_RESOURCES);
    mtr_free(mt);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(welford_statistics),
        cmocka_unit_test(directions_and_splt),
        cmocka_unit_test(idle_and_active_expiry_on_arrival),
        cmocka_unit_test(scan_stops_at_first_live_flow),
        cmocka_unit_test(clock_is_clamped),
        cmocka_unit_test(full_table_evicts_oldest),
        cmocka_unit_test(custom_expiration),
        cmocka_unit_test(max_nflows_stops),
        cmocka_unit_test(timely_expiry_without_packets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
