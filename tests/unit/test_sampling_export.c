/*
 * test_sampling_export.c - the sampling options Sets against bytes written out by hand from
 * RFC 7011 §3.4.2.2 (IPFIX options template) and RFC 3954 §6.1 (v9 options template), and
 * the short-buffer contract. collectors-test/sampling_nfcapd.sh checks nfdump reads them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "sampling_export.h"

static const struct smpx_report count100 = {.mode = SMP_COUNT, .interval = 100,
                                            .selector_id = 7, .domain = 42,
                                            .observed = 100000, .selected = 1000};

static void
v9_templates_bytes(void **state)
{
    (void)state;
    uint8_t b[64];
    static const uint8_t want[] = {
        0, 1, 0, 20, 1, 4, 0, 4, 0, 4, 0, 1, 0, 4, 0, 34, 0, 4,      /* id 260: scope + 34 */
        0, 0,                                                        /* pad to 4 */
        0, 1, 0, 24, 1, 5, 0, 4, 0, 8, 0, 1, 0, 4, 0, 34, 0, 4, 0, 35, 0, 1, /* 261: + 35 */
        0, 0,
    };
    size_t n = smpx_v9_templates(260, 261, b, sizeof(b));
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(b, want, sizeof(want));
    assert_int_equal(smpx_v9_templates(260, 261, b, sizeof(want) - 1), 0);
}

static void
v9_data_bytes(void **state)
{
    (void)state;
    uint8_t b[64];
    struct smpx_report r = count100;
    r.mode = SMP_RANDOM;
    static const uint8_t want[] = {
        1, 4, 0, 12, 0, 0, 0, 42, 0, 0, 0, 100,             /* 260: source id, interval */
        1, 5, 0, 16, 0, 0, 0, 42, 0, 0, 0, 100, 2, 0, 0, 0, /* 261: + algorithm 2, pad */
    };
    size_t n = smpx_v9_data(&r, 260, 261, b, sizeof(b));
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(b, want, sizeof(want));
}

static void
ipfix_bytes(void **state)
{
    (void)state;
    uint8_t b[128];
    static const uint8_t tmpl[] = {
        0, 3, 0, 36, 1, 4, 0, 6, 0, 1,                  /* set 3: id 260, 6 fields, 1 scope */
        1, 46, 0, 8, 1, 48, 0, 2, 1, 49, 0, 4, 1, 50, 0, 4, 1, 62, 0, 8, 1, 63, 0, 8, 0, 0,
        0, 3, 0, 24, 1, 5, 0, 3, 0, 1,                  /* set 3: id 261, 3 fields, 1 scope */
        0, 149, 0, 4, 1, 49, 0, 4, 1, 50, 0, 4, 0, 0,   /* 149, 305, 306, pad */
    };
    size_t n = smpx_ipfix_templates(&count100, 260, 261, b, sizeof(b));
    assert_int_equal(n, sizeof(tmpl));
    assert_memory_equal(b, tmpl, sizeof(tmpl));

    static const uint8_t data[] = {
        1, 4, 0, 40, 0, 0, 0, 0, 0, 0, 0, 7, 0, 1, 0, 0, 0, 1, 0, 0, 0, 99, /* 302, 304, 305, 306 */
        0, 0, 0, 0, 0, 1, 0x86, 0xa0, 0, 0, 0, 0, 0, 0, 0x03, 0xe8,       /* 318, 319 */
        0, 0,                                                             /* pad */
        1, 5, 0, 16, 0, 0, 0, 42, 0, 0, 0, 1, 0, 0, 0, 99,                /* 149, 305, 306 */
    };
    n = smpx_ipfix_data(&count100, 260, 261, b, sizeof(b));
    assert_int_equal(n, sizeof(data));
    assert_memory_equal(b, data, sizeof(data));

    /* random mode: 309 samplingSize 1 / 310 samplingPopulation N, algorithm 3 */
    struct smpx_report r = count100;
    r.mode = SMP_RANDOM;
    n = smpx_ipfix_templates(&r, 260, 261, b, sizeof(b));
    assert_int_equal(n, 60);
    assert_int_equal(b[18], 1);
    assert_int_equal(b[19], 53); /* 309 */
    assert_int_equal(b[22], 1);
    assert_int_equal(b[23], 54); /* 310 */
    n = smpx_ipfix_data(&r, 260, 261, b, sizeof(b));
    assert_int_equal(b[13], 3);   /* algorithm */
    assert_int_equal(b[17], 1);   /* n */
    assert_int_equal(b[21], 100); /* N */
    assert_int_equal(smpx_ipfix_data(&r, 260, 261, b, 20), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v9_templates_bytes),
        cmocka_unit_test(v9_data_bytes),
        cmocka_unit_test(ipfix_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
