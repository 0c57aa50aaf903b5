/*
 * test_sampling.c - RFC 7014 selection: 1:10 of 100,000 packets selects exactly 10,000 in
 * both modes; count-based takes every 10th from the first; random picks one position per block
 * of 10, spread over the positions (each 1,000 within 4 standard deviations) and without a period; the same
 * seed repeats, another differs; counters; bad options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "sampling.h"

static void
count_1_in_10(void **state)
{
    (void)state;
    struct smp s;
    char err[128];
    assert_int_equal(smp_init(&s, SMP_COUNT, 10, 0, err, sizeof(err)), 0);
    unsigned n = 0;
    for (unsigned i = 0; i < 100000; i++) {
        if (smp_select(&s)) {
            assert_int_equal(i % 10, 0);
            n++;
        }
    }
    assert_int_equal(n, 10000);
    assert_int_equal(s.observed, 100000);
    assert_int_equal(s.selected, 10000);
}

static void
random_1_out_of_10(void **state)
{
    (void)state;
    struct smp s;
    char err[128];
    unsigned pos[10] = {0}, n = 0, same_as_last = 0, last = 99;
    assert_int_equal(smp_init(&s, SMP_RANDOM, 10, 12345, err, sizeof(err)), 0);
    for (unsigned i = 0; i < 100000; i++) {
        if (smp_select(&s)) {
            pos[i % 10]++;
            if (i % 10 == last)
                same_as_last++;
            last = i % 10;
            n++;
        }
        if (i % 10 == 9)
            assert_int_equal(n, i / 10 + 1); /* exactly one per block */
    }
    assert_int_equal(n, 10000);
    assert_int_equal(s.selected, 10000);
    for (int p = 0; p < 10; p++)
        assert_in_range(pos[p], 880, 1120); /* binomial: 1000 +- 4 standard deviations */
    /* no period: consecutive blocks pick the same position about 1 time in 10 */
    assert_in_range(same_as_last, 900, 1100);
}

static uint64_t
pattern(uint64_t seed)
{
    struct smp s;
    char err[128];
    uint64_t h = 0;
    assert_int_equal(smp_init(&s, SMP_RANDOM, 7, seed, err, sizeof(err)), 0);
    for (unsigned i = 0; i < 7000; i++)
        if (smp_select(&s))
            h = h * 31 + i;
    return h;
}

static void
deterministic_seed(void **state)
{
    (void)state;
    assert_true(pattern(1) == pattern(1));
    assert_true(pattern(1) != pattern(2));
}

static void
interval_one_and_none(void **state)
{
    (void)state;
    struct smp s;
    char err[128];
    assert_int_equal(smp_init(&s, SMP_COUNT, 1, 0, err, sizeof(err)), 0);
    for (int i = 0; i < 100; i++)
        assert_true(smp_select(&s));
    assert_int_equal(smp_init(&s, SMP_NONE, 50, 0, err, sizeof(err)), 0);
    for (int i = 0; i < 100; i++)
        assert_true(smp_select(&s));
    assert_int_equal(s.selected, 100);
    assert_int_equal(smp_init(&s, SMP_COUNT, 0, 0, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "--sampling 0: want 1 to 2147483648");
    assert_int_equal(smp_init(&s, (enum smp_mode)7, 10, 0, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "--sampling-mode: unknown mode 7");
    assert_int_equal(smp_mode_parse("count"), SMP_COUNT);
    assert_int_equal(smp_mode_parse("random"), SMP_RANDOM);
    assert_int_equal(smp_mode_parse("bernoulli"), -1);
    assert_string_equal(smp_mode_name(SMP_RANDOM), "random");
    assert_int_equal(smp_algorithm(SMP_COUNT), 1);
    assert_int_equal(smp_algorithm(SMP_RANDOM), 3);
}

/* What the exporters read: the announce from the configuration, the v5 header field, the
 * counters --sampling-upscale multiplies. */
static void
announce(void **state)
{
    (void)state;
    struct smp_announce a;

    smp_announce_init(&a, SMP_COUNT, 0, true); /* no --sampling */
    assert_int_equal(a.interval, 0);
    assert_int_equal(a.upscale, 1);
    assert_int_equal(smp_v5_sampling(&a), 0);
    smp_announce_init(&a, SMP_COUNT, 100, false);
    assert_int_equal(a.algorithm, SMP_ALGO_SYSTEMATIC_COUNT);
    assert_int_equal(a.v9_mode, 1);
    assert_int_equal(a.interval, 100);
    assert_int_equal(a.upscale, 1);
    assert_int_equal(smp_v5_sampling(&a), 0x4000 | 100);
    smp_announce_init(&a, SMP_RANDOM, 16383, true);
    assert_int_equal(a.algorithm, SMP_ALGO_RANDOM_N_OUT_OF_N);
    assert_int_equal(a.v9_mode, 2);
    assert_int_equal(a.upscale, 16383);
    assert_int_equal(smp_v5_sampling(&a), 0x8000 | 16383);
    smp_announce_init(&a, SMP_RANDOM, 16384, false); /* not announceable in v5 */
    assert_int_equal(smp_v5_sampling(&a), 0);
    assert_true(smp_scaled_element("octetDeltaCount"));
    assert_true(smp_scaled_element("reversePacketDeltaCount"));
    assert_true(smp_scaled_element("layer2OctetDeltaCount"));
    assert_false(smp_scaled_element("tcpSynTotalCount"));
    assert_false(smp_scaled_element("nfsMeanPacketSize"));
    assert_false(smp_scaled_element(NULL));
    assert_int_equal(smp_scale(7, 10), 70);
    assert_int_equal(smp_scale(UINT64_MAX / 3, 10), UINT64_MAX);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(count_1_in_10),
        cmocka_unit_test(random_1_out_of_10),
        cmocka_unit_test(deterministic_seed),
        cmocka_unit_test(interval_one_and_none),
        cmocka_unit_test(announce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
