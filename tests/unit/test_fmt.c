/*
 * test_fmt.c - fmt_double() must print exactly Python 3's repr(float); fmt_u64()/fmt_i64()
 * exactly str(int).
 *
 * Inputs are C99 hex-float literals so that they are exact bit patterns, not subject to the
 * compiler's decimal parsing; the expected strings were produced by python3's repr().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

/* Canary bytes past the documented buffer size: a write there is a buffer overflow. */
#define CANARY 0x5a
#define SLACK 16

static void
expect_double(double v, const char *want)
{
    char buf[FMT_DOUBLE_MAX + SLACK];

    memset(buf, CANARY, sizeof(buf));
    size_t n = fmt_double(buf, v);

    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
    assert_true(n < FMT_DOUBLE_MAX);
    for (size_t i = FMT_DOUBLE_MAX; i < sizeof(buf); i++)
        assert_int_equal((unsigned char)buf[i], CANARY);
}

struct double_case {
    double v;
    const char *want;
};

static const struct double_case double_cases[] = {
    /* zeros and small integers: integral values keep ".0" */
    {0.0, "0.0"},
    {-0.0, "-0.0"},
    {0x1.0000000000000p+0, "1.0"},
    {-0x1.0000000000000p+0, "-1.0"},
    {0x1.0000000000000p-1, "0.5"},
    {0x1.4000000000000p+1, "2.5"},
    {0x1.9000000000000p+6, "100.0"},
    {0x1.d6f3454000000p+26, "123456789.0"},
    /* positional up to 16 digits before the point, exponent from 1e16 */
    {0x1.1c37937e08000p+53, "1e+16"},
    {0x1.1c37937e07fffp+53, "9999999999999998.0"},
    {0x1.c6bf526340000p+49, "1000000000000000.0"},
    {0x1.aa535d3d0c000p+53, "1.5e+16"},
    {0x1.c12218377de66p+46, "123456789012345.6"},
    {0x1.18b54f22aeb03p+50, "1234567890123456.8"}, /* 1234567890123456.7 */
    {0x1.c6bf52633ffffp+49, "999999999999999.9"},
    /* positional down to 1e-4, exponent below */
    {0x1.4f8b588e368f1p-17, "1e-05"},
    {0x1.a36e2eb1c432dp-14, "0.0001"},
    {0x1.02e4b6ce5dc68p-13, "0.00012345"},
    {0x1.9e3abe16fc70dp-17, "1.2345e-05"},
    {0x1.0624dd2f1a9fcp-10, "0.001"},
    {0x1.ad7f29abcaf48p-24, "1e-07"},
    {0x1.421f5f40d8376p-23, "1.5e-07"},
    {-0x1.12e0be826d695p-32, "-2.5e-10"},
    {0x1.0f0cf064dd592p+73, "1e+22"},
    {0x1.52d02c7e14af6p+76, "1e+23"},
    {0x1.7e43c8800759cp+996, "1e+300"},
    {0x1.bff2ee48e0530p-333, "1e-100"},
    /* shortest round-trip digits */
    {0x1.999999999999ap-4, "0.1"},
    {0x1.3333333333333p-2, "0.3"},
    {0x1.3333333333334p-2, "0.30000000000000004"}, /* 0.1 + 0.2 */
    {0x1.5555555555555p-2, "0.3333333333333333"},  /* 1/3 */
    {0x1.2492492492492p-3, "0.14285714285714285"}, /* 1/7 */
    {0x1.6a09e667f3bcdp+0, "1.4142135623730951"},  /* sqrt(2) */
    {0x1.edd2f1a9fbe77p+6, "123.456"},
    {0x1.3692492492492p+8, "310.57142857142856"},
    {0x1.41fffffffffffp+6, "80.49999999999999"},
    {0x1.279a74590331dp+2, "4.618802153517007"},
    {0x1.03b26c2bb96afp+12, "4155.1514088862305"},
    /* subnormals, the normal/subnormal boundary, the extremes */
    {0x0.0000000000001p-1022, "5e-324"},
    {0x0.0000000000003p-1022, "1.5e-323"},
    {0x0.000000000097dp-1022, "1.2e-320"},
    {0x0.fffffffffffffp-1022, "2.225073858507201e-308"},
    {0x1.0000000000000p-1022, "2.2250738585072014e-308"},
    {0x1.fffffffffffffp+1023, "1.7976931348623157e+308"},
    {-0x1.fffffffffffffp+1023, "-1.7976931348623157e+308"},
    /* powers of two (narrower interval below) and the 2^53 boundary */
    {0x1.0000000000000p+52, "4503599627370496.0"},
    {0x1.fffffffffffffp+52, "9007199254740991.0"},
    {0x1.0000000000000p+53, "9007199254740992.0"},
    {0x1.0000000000001p+53, "9007199254740994.0"},
    {0x1.0000000000000p+54, "1.8014398509481984e+16"},
    {0x1.0000000000000p+63, "9.223372036854776e+18"},
    {0x1.0000000000000p+64, "1.8446744073709552e+19"},
    {0x1.0000000000000p+1023, "8.98846567431158e+307"},
    /* exactly halfway between two shortest candidates: the even one, as dtoa */
    {0x1.0000000000000p-25, "2.9802322387695312e-08"}, /* ...3125 exactly */
    {0x1.ca21fe8c80000p+23, "15012095.274414062"},     /* ...0625 exactly */
    {0x1.b73baf8772880p+40, "1886492002162.5312"},     /* ...53125 exactly */
};

static void
test_double_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(double_cases) / sizeof(double_cases[0]); i++)
        expect_double(double_cases[i].v, double_cases[i].want);
}

/* Values computed at run time (IEEE arithmetic is exact-rounded, so these are fixed bits). */
static void
test_double_computed(void **state)
{
    /* volatile: computed in double at run time, not folded or kept in wider registers */
    volatile double one = 1.0, three = 3.0, seven = 7.0, tenth = 0.1, fifth = 0.2;
    volatile double two53 = 9007199254740992.0;
    volatile double r;

    (void)state;
    r = one / three;
    expect_double(r, "0.3333333333333333");
    r = one / seven;
    expect_double(r, "0.14285714285714285");
    r = tenth + fifth;
    expect_double(r, "0.30000000000000004");
    r = two53 + one; /* halfway, rounds to even: 2^53 */
    expect_double(r, "9007199254740992.0");
    expect_double(ldexp(1.0, -1074), "5e-324");
}

static void
test_double_special(void **state)
{
    (void)state;
    expect_double((double)INFINITY, "inf");
    expect_double(-(double)INFINITY, "-inf");
    expect_double((double)NAN, "nan");
    expect_double(-(double)NAN, "nan"); /* Python drops the sign of a NaN */
}

static uint64_t
xorshift64(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/*
 * Random bit patterns: the text reads back as the same double (strtod is correctly rounded),
 * never exceeds the buffer, and has repr's shape. The exact digits are checked against python3
 * by a separate brute-force run; this guards the invariants in every build.
 */
static void
test_double_roundtrip_random(void **state)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL;

    (void)state;
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = xorshift64(&seed);
        double v, back;
        char buf[FMT_DOUBLE_MAX + SLACK];

        if (i & 1) /* half of them in the range real data lives in, 1e-10 .. 1e20 */
            bits = (bits & 0x800fffffffffffffULL) | ((uint64_t)(989 + (bits >> 52) % 100) << 52);
        memcpy(&v, &bits, sizeof(v));
        if (isnan(v))
            continue;
        memset(buf, CANARY, sizeof(buf));
        size_t n = fmt_double(buf, v);

        assert_int_equal(n, strlen(buf));
        assert_true(n < FMT_DOUBLE_MAX);
        for (size_t j = FMT_DOUBLE_MAX; j < sizeof(buf); j++)
            assert_int_equal((unsigned char)buf[j], CANARY);
        if (isinf(v))
            continue;
        back = strtod(buf, NULL);
        assert_memory_equal(&back, &v, sizeof(v));
        /* Positional output always has a point; exponent output never ends in ".0". */
        assert_true(strchr(buf, '.') != NULL || strchr(buf, 'e') != NULL);
        if (strchr(buf, 'e') == NULL)
            assert_true(buf[n - 1] != '.');
    }
}

static void
expect_u64(uint64_t v, const char *want)
{
    char buf[FMT_INT_MAX + SLACK];

    memset(buf, CANARY, sizeof(buf));
    size_t n = fmt_u64(buf, v);

    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
    for (size_t i = FMT_INT_MAX; i < sizeof(buf); i++)
        assert_int_equal((unsigned char)buf[i], CANARY);
}

static void
expect_i64(int64_t v, const char *want)
{
    char buf[FMT_INT_MAX + SLACK];

    memset(buf, CANARY, sizeof(buf));
    size_t n = fmt_i64(buf, v);

    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
    for (size_t i = FMT_INT_MAX; i < sizeof(buf); i++)
        assert_int_equal((unsigned char)buf[i], CANARY);
}

static void
test_integers(void **state)
{
    (void)state;
    expect_u64(0, "0");
    expect_u64(1, "1");
    expect_u64(9, "9");
    expect_u64(10, "10");
    expect_u64(99, "99");
    expect_u64(100, "100");
    expect_u64(12345678, "12345678");
    expect_u64(99999999, "99999999");
    expect_u64(100000000, "100000000");
    expect_u64(9999999999999999999ULL, "9999999999999999999");
    expect_u64(10000000000000000000ULL, "10000000000000000000");
    expect_u64(UINT64_MAX, "18446744073709551615");
    expect_i64(0, "0");
    expect_i64(-1, "-1");
    expect_i64(-10, "-10");
    expect_i64(INT64_MAX, "9223372036854775807");
    expect_i64(INT64_MIN, "-9223372036854775808");
}

/* Every digit count and its boundaries, and random values, against printf. */
static void
test_integers_vs_printf(void **state)
{
    uint64_t seed = 0x2545f4914f6cdd1dULL;
    char want[32];

    (void)state;
    for (uint64_t p = 1; p != 0 && p <= UINT64_MAX / 10; p *= 10) {
        for (int d = -1; d <= 1; d++) {
            snprintf(want, sizeof(want), "%" PRIu64, p + (uint64_t)(int64_t)d);
            expect_u64(p + (uint64_t)(int64_t)d, want);
            snprintf(want, sizeof(want), "%" PRId64, -(int64_t)p - d);
            expect_i64(-(int64_t)p - d, want);
        }
    }
    for (int i = 0; i < 100000; i++) {
        uint64_t u = xorshift64(&seed) >> (i % 64);

        snprintf(want, sizeof(want), "%" PRIu64, u);
        expect_u64(u, want);
        snprintf(want, sizeof(want), "%" PRId64, (int64_t)u);
        expect_i64((int64_t)u, want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_table),
        cmocka_unit_test(test_double_computed),
        cmocka_unit_test(test_double_special),
        cmocka_unit_test(test_double_roundtrip_random),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_integers_vs_printf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
