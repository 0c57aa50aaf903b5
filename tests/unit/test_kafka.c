/*
 * test_kafka.c - the Kafka sink without a broker: URL parsing, property checks, and that a
 * producer whose brokers are unreachable never blocks the caller, counts what did not fit as
 * dropped and what it gave up on at close as failed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka.h"

static uint64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
test_parse_good(void **state)
{
    static const struct {
        const char *url, *brokers, *topic;
    } cases[] = {
        {"kafka://k1/flows", "k1", "flows"},
        {"kafka://k1:9092,k2:9093/flows.v1_x-y", "k1:9092,k2:9093", "flows.v1_x-y"},
        {"kafka://[2001:db8::1]:9092,127.0.0.1/t?format=json&compression=zstd",
         "[2001:db8::1]:9092,127.0.0.1", "t"},
        {"kafka://k1/t?acks=1", "k1", "t"},
    };
    char b[256], t[256], err[512];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(kfk_parse_url(cases[i].url, b, sizeof(b), t, sizeof(t), err,
                                       sizeof(err)), 0);
        assert_string_equal(b, cases[i].brokers);
        assert_string_equal(t, cases[i].topic);
    }
}

static void
test_parse_bad(void **state)
{
    static const struct {
        const char *url, *why;
    } cases[] = {
        {"kafka:/k1/t", "not a kafka:// URL"},
        {"kafka://k1", "no /TOPIC"},
        {"kafka:///t", "no broker"},
        {"kafka://k1/", "no topic"},
        {"kafka://k1,/t", "bad broker ''"},
        {"kafka://k1:0/t", "bad broker 'k1:0'"},
        {"kafka://k1:65536/t", "bad broker 'k1:65536'"},
        {"kafka://k1:12a/t", "bad broker 'k1:12a'"},
        {"kafka://[::1/t", "bad broker '[::1'"},
        {"kafka://k1/a b", "a topic has only"},
        {"kafka://k1/..", "are not topic names"},
        {"kafka://k1/t?x", "'x' in the query is not KEY=VALUE"},
        {"kafka://k1/t?x=", "'x=' in the query is not KEY=VALUE"},
        {"kafka://k1/t?=1", "'=1' in the query is not KEY=VALUE"},
        {"kafka://k1/t?format=xml", "format must be json"},
        {"kafka://k1/t?format=ipfix", "format=ipfix is not supported yet"},
    };
    char b[256], t[256], err[512];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        assert_int_equal(kfk_parse_url(cases[i].url, b, sizeof(b), t, sizeof(t), err,
                                       sizeof(err)), -EINVAL);
        if (strstr(err, cases[i].why) == NULL || strstr(err, cases[i].url) == NULL)
            fail_msg("%s: got '%s', want '%s'", cases[i].url, err, cases[i].why);
        assert_null(strchr(err, '\n'));
    }
    /* A topic of 250 characters is one too many. */
    char url[300] = "kafka://k1/";
    memset(url + strlen(url), 'a', 250);
    assert_int_equal(kfk_parse_url(url, b, sizeof(b), t, sizeof(t), err, sizeof(err)), -EINVAL);
    url[strlen(url) - 1] = '\0';
    assert_int_equal(kfk_parse_url(url, b, sizeof(b), t, sizeof(t), err, sizeof(err)), 0);
}

static void
test_check_properties(void **state)
{
    const char *good[] = {"linger.ms=5", "compression.codec=zstd", "acks=1"};
    const char *unknown[] = {"linger.ms=5", "no.such.thing=1"};
    const char *badval[] = {"compression.codec=rar"};
    const char *noeq[] = {"linger.ms"};
    struct kfk_config c = {.url = "kafka://127.0.0.1:1/t"};
    char err[512];

    (void)state;
    c.options = good;
    c.n_options = 3;
    assert_int_equal(kfk_check(&c, err, sizeof(err)), 0);
    c.options = unknown;
    c.n_options = 2;
    assert_int_equal(kfk_check(&c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--kafka-option no.such.thing=1: "));
    assert_non_null(strstr(err, "no.such.thing"));
    c.options = badval;
    c.n_options = 1;
    assert_int_equal(kfk_check(&c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--kafka-option compression.codec=rar: "));
    c.options = noeq;
    assert_int_equal(kfk_check(&c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "expected PROPERTY=VALUE"));
    /* The URL's query goes through the same checks, named by the URL. */
    c.n_options = 0;
    c.url = "kafka://127.0.0.1:1/t?linger.mss=5";
    assert_int_equal(kfk_check(&c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "-c kafka://127.0.0.1:1/t?linger.mss=5: "));
    c.url = "kafka://127.0.0.1:1/t?compression=snappy";
    assert_int_equal(kfk_check(&c, err, sizeof(err)), 0);
    c.url = "kafka://127.0.0.1:1/t?compression=rar";
    assert_int_equal(kfk_check(&c, err, sizeof(err)), -EINVAL);
}

/* Port 1 on loopback refuses connections: the brokers are down for the whole test. */
static void
test_brokers_down_never_blocks(void **state)
{
    const char *opts[] = {"queue.buffering.max.messages=50", "message.timeout.ms=60000"};
    struct out_config oc = {0};
    struct kfk_config c = {
        .url = "kafka://127.0.0.1:1/flows",
        .options = opts,
        .n_options = 2,
        .observation_domain = 3,
        .version = "test",
        .out = &oc,
    };
    char err[512];
    struct flow *f = calloc(1, sizeof(*f));
    struct kfk_stats st;

    (void)state;
    assert_non_null(f);
    f->key.ip_version = 4;
    struct kfk *k = kfk_new(&c, err, sizeof(err));
    if (k == NULL)
        fail_msg("kfk_new: %s", err);
    assert_true(kfk_poll_fd(k) >= 0);
    uint64_t t0 = mono_ms();
    for (int i = 0; i < 1000; i++) {
        f->id = (uint64_t)i;
        f->key.lo_ip[15] = (uint8_t)i;
        kfk_flow(k, f);
        if (i % 100 == 0)
            kfk_poll(k);
    }
    /* Live (offline false): a full queue drops at once, it never waits for a broker. */
    assert_true(mono_ms() - t0 < 2000);
    kfk_stats(k, &st);
    assert_int_equal(st.produced, 50);
    assert_int_equal(st.dropped, 950);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.queued, 50);
    t0 = mono_ms();
    kfk_close(k, 300);
    /* Bounded: the drain bound plus the purge's own second at most. */
    assert_true(mono_ms() - t0 < 2500);
    kfk_stats(k, &st);
    assert_int_equal(st.failed, 50);
    assert_int_equal(st.queued, 0);
    assert_int_equal(kfk_not_delivered(k), 1000);
    kfk_free(k);
    free(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_check_properties),
        cmocka_unit_test(test_brokers_down_never_blocks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
