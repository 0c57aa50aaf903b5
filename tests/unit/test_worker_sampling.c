/*
 * test_worker_sampling.c - --sampling in the worker: a capture the test writes (1003 UDP
 * packets, packet i in flow i % 7, plus non-IP frames the decoder ignores) read by a worker
 * with count 1:10 meters exactly packets 0, 10, 20, ... (each flow's packets computed here),
 * the ignored frames among the selected ones are counted as ignored and not metered, the
 * counters say observed/selected; random 1:10 selects one packet per block of 10 (a fixed
 * seed repeats its choice); without sampling every packet is metered and no selector counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"

#define N_PKTS 1003
#define N_FLOWS 7
#define NON_IP_EVERY 50 /* packet i with i % 50 == 0 is an ARP frame (ignored by the decoder) */

static char path[64];

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The capture: Ethernet/IPv4/UDP, packet i from port 1000 + i % 7, 64 + i % 13 payload octets. */
static void
write_capture(void)
{
    snprintf(path, sizeof(path), "/tmp/test_worker_sampling.%d.pcap", (int)getpid());
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    const uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    assert_int_equal(fwrite(gh, 4, 6, fp), 6);
    for (unsigned i = 0; i < N_PKTS; i++) {
        uint8_t f[14 + 20 + 8 + 80];
        size_t len;
        memset(f, 0, sizeof(f));
        memcpy(f, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
        if (i % NON_IP_EVERY == 0) {
            put16(f + 12, 0x0806); /* ARP */
            len = 14 + 28;
        } else {
            size_t pl = 64 + i % 13;
            put16(f + 12, 0x0800);
            uint8_t *ip = f + 14;
            ip[0] = 0x45;
            put16(ip + 2, (uint16_t)(20 + 8 + pl));
            ip[8] = 64;
            ip[9] = 17;
            memcpy(ip + 12, "\x0a\0\0\x01\x0a\0\0\x02", 8);
            put16(ip + 20, (uint16_t)(1000 + i % N_FLOWS));
            put16(ip + 22, 53);
            put16(ip + 24, (uint16_t)(8 + pl));
            len = 14 + 20 + 8 + pl;
        }
        uint32_t rh[4] = {1700000000u, i * 1000u, (uint32_t)len, (uint32_t)len};
        assert_int_equal(fwrite(rh, 4, 4, fp), 4);
        assert_int_equal(fwrite(f, 1, len, fp), len);
    }
    assert_int_equal(fclose(fp), 0);
}

struct seen {
    uint64_t packets[N_FLOWS];
    uint64_t total;
};

static void
on_flow(void *ctx, const struct flow *f)
{
    struct seen *s = ctx;
    uint16_t sp = f->key.lo_port != 53 ? f->key.lo_port : f->key.hi_port;
    assert_true(sp >= 1000 && sp < 1000 + N_FLOWS);
    s->packets[sp - 1000] += f->dir[FLOW_BIDI].packets;
    s->total += f->dir[FLOW_BIDI].packets;
}

/* Runs a worker over the capture; returns its counters, *s the metered packets per flow. */
static void
run(enum smp_mode mode, uint32_t interval, uint64_t seed, struct seen *s, struct wrk_stats *st)
{
    const char *files[1] = {path};
    char err[256];
    memset(s, 0, sizeof(*s));
    struct wrk_config wc = {
        .files = files,
        .n_files = 1,
        .mc = {.idle_ms = 120000, .active_ms = 1800000, .max_flows = 64, .seed = 1},
        .smp_mode = mode,
        .smp_interval = interval,
        .smp_seed = seed,
        .emit = on_flow,
        .emit_ctx = s,
    };
    struct worker *w = wrk_new(&wc, err, sizeof(err));
    if (w == NULL)
        fail_msg("wrk_new: %s", err);
    wrk_run(w);
    wrk_stats(w, st);
    wrk_free(w);
}

static void
count_mode(void **state)
{
    (void)state;
    struct seen s;
    struct wrk_stats st;
    uint64_t want[N_FLOWS] = {0}, want_ignored = 0, want_total = 0;

    for (unsigned i = 0; i < N_PKTS; i += 10) { /* the first of every block of 10 */
        if (i % NON_IP_EVERY == 0) {
            want_ignored++;
            continue;
        }
        want[i % N_FLOWS]++;
        want_total++;
    }
    run(SMP_COUNT, 10, 0, &s, &st);
    assert_true(st.has_sampling);
    assert_int_equal(st.cap.packets, N_PKTS);
    assert_int_equal(st.smp_observed, N_PKTS);
    assert_int_equal(st.smp_selected, (N_PKTS + 9) / 10);
    assert_int_equal(st.mtr.packets, want_total);
    assert_int_equal(st.ignored[DEC_NON_IP], want_ignored);
    assert_int_equal(s.total, want_total);
    for (unsigned k = 0; k < N_FLOWS; k++)
        assert_int_equal(s.packets[k], want[k]);
}

static void
random_mode(void **state)
{
    (void)state;
    struct seen a, b, c;
    struct wrk_stats sa, sb, sc;

    run(SMP_RANDOM, 10, 42, &a, &sa);
    assert_int_equal(sa.smp_observed, N_PKTS);
    /* one per full block of 10; the last 3 packets hold it with probability 3/10 */
    assert_true(sa.smp_selected == N_PKTS / 10 || sa.smp_selected == N_PKTS / 10 + 1);
    uint64_t ign = 0;
    for (int r = 1; r < DEC_NRESULTS; r++)
        ign += sa.ignored[r];
    assert_int_equal(sa.mtr.packets + ign, sa.smp_selected);
    assert_int_equal(a.total, sa.mtr.packets);
    run(SMP_RANDOM, 10, 42, &b, &sb); /* the same seed, the same packets */
    assert_memory_equal(a.packets, b.packets, sizeof(a.packets));
    run(SMP_RANDOM, 10, 43, &c, &sc); /* another seed, other positions */
    assert_memory_not_equal(a.packets, c.packets, sizeof(a.packets));
}

static void
no_sampling(void **state)
{
    (void)state;
    struct seen s;
    struct wrk_stats st;

    run(SMP_NONE, 0, 0, &s, &st);
    assert_false(st.has_sampling);
    assert_int_equal(st.smp_observed, 0);
    assert_int_equal(st.mtr.packets, N_PKTS - (N_PKTS + NON_IP_EVERY - 1) / NON_IP_EVERY);
    assert_int_equal(s.total, st.mtr.packets);
    run(SMP_COUNT, 1, 0, &s, &st); /* 1:1: the selector runs and keeps everything */
    assert_true(st.has_sampling);
    assert_int_equal(st.smp_observed, N_PKTS);
    assert_int_equal(st.smp_selected, N_PKTS);
    assert_int_equal(s.total, st.mtr.packets);
}

static void
bad_interval(void **state)
{
    (void)state;
    const char *files[1] = {path};
    char err[256];
    struct seen s;
    struct wrk_config wc = {.files = files, .n_files = 1, .mc = {.max_flows = 64},
                            .smp_mode = SMP_COUNT, .smp_interval = (1u << 31) + 1,
                            .emit = on_flow, .emit_ctx = &s};
    assert_null(wrk_new(&wc, err, sizeof(err)));
    assert_non_null(strstr(err, "--sampling"));
}

static int
setup(void **state)
{
    (void)state;
    write_capture();
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(count_mode),
        cmocka_unit_test(random_mode),
        cmocka_unit_test(no_sampling),
        cmocka_unit_test(bad_interval),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
