/*
 * test_kafka.c - the Kafka sink without a broker: URL parsing, property checks, and that a
 * producer whose brokers are unreachable never blocks the caller, counts what did not fit as
 * dropped and what it gave up on at close as failed; with format=ipfix, counted in flows while
 * a message carries a batch of them.
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
        {"kafka://k1/t?acks=1&format=ipfix", "k1", "t"},
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
        {"kafka://k1/t?format=xml", "format must be json or ipfix"},
        {"kafka://k1/t?format=IPFIX", "format must be json or ipfix"},
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
    /* -n sees that a format=ipfix batch cannot fit in message.max.bytes. */
    c.url = "kafka://127.0.0.1:1/t?format=ipfix&message.max.bytes=200000";
    assert_int_equal(kfk_check(&c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "format=ipfix needs message.max.bytes of 200702 at least"));
    c.url = "kafka://127.0.0.1:1/t?format=ipfix&message.max.bytes=200702";
    assert_int_equal(kfk_check(&c, err, sizeof(err)), 0);
}

/* A producer for c and an IPv4 flow to feed it (free it). */
static struct kfk *
open_down(const struct kfk_config *c, struct flow **f)
{
    char err[512];
    struct kfk *k = kfk_new(c, err, sizeof(err));

    if (k == NULL)
        fail_msg("kfk_new: %s", err);
    *f = calloc(1, sizeof(**f));
    assert_non_null(*f);
    (*f)->key.ip_version = 4;
    return k;
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
    struct flow *f;
    struct kfk_stats st;
    struct kfk *k = open_down(&c, &f);

    (void)state;
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

/* format=ipfix: messages are batches, the counters still count flows; bad sizes refused. */
static void
test_ipfix_batches(void **state)
{
    const char *opts[] = {"message.max.bytes=250000", "message.timeout.ms=60000"};
    struct kfk_config c = {
        .url = "kafka://127.0.0.1:1/flows?format=ipfix",
        .options = opts,
        .n_options = 2,
        .observation_domain = 3,
        .version = "test",
    };
    struct flow *f;
    struct kfk_stats st;
    struct kfk *k = open_down(&c, &f);

    (void)state;
    for (int i = 0; i < 3000; i++) {
        f->id = (uint64_t)i;
        kfk_flow(k, f);
    }
    kfk_stats(k, &st);
    /* Batches of at most ~115 kB went as they filled; the last one is still being filled. */
    assert_true(st.produced > 0 && st.produced < 3000);
    assert_int_equal(st.produced, st.queued);
    assert_int_equal(st.dropped + st.failed, 0);
    kfk_close(k, 200);
    kfk_stats(k, &st);
    assert_int_equal(st.produced, 3000);
    assert_int_equal(st.failed, 3000);
    assert_int_equal(st.queued, 0);
    assert_int_equal(kfk_not_delivered(k), 3000);
    kfk_free(k);

    /* A batch must fit in a message. */
    char err[512];
    const char *small[] = {"message.max.bytes=100000"};
    c.options = small;
    c.n_options = 1;
    assert_null(kfk_new(&c, err, sizeof(err)));
    assert_non_null(strstr(err, "-c kafka://127.0.0.1:1/flows?format=ipfix: format=ipfix needs "
                                "message.max.bytes of "));
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
        cmocka_unit_test(test_ipfix_batches),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
