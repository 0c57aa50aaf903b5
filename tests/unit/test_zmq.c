/*
 * test_zmq.c - the ntopng sink on loopback: the exact header bytes, the TLV bytes of the spec's
 * worked example, deltas across live updates (by time and before 2^31 octets) handed over as
 * the worker does (a copy of the flow, still metered), at most 255 records per message, the
 * endpoint and CURVE key checks, and a reload that moves the feed to another endpoint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ndpi_api.h>
#include <zmq.h>

#include "fields.h"
#include "worker.h"
#include "zmq.h"

struct sub {
    void *ctx, *s;
    char ep[128];
};

static void
sub_open(struct sub *b)
{
    int t = 3000;
    size_t l = sizeof(b->ep);
    b->ctx = zmq_ctx_new();
    b->s = zmq_socket(b->ctx, ZMQ_SUB);
    zmq_setsockopt(b->s, ZMQ_SUBSCRIBE, "", 0);
    zmq_setsockopt(b->s, ZMQ_RCVTIMEO, &t, sizeof(t));
    assert_int_equal(zmq_bind(b->s, "tcp://127.0.0.1:*"), 0);
    zmq_getsockopt(b->s, ZMQ_LAST_ENDPOINT, b->ep, &l);
}

static void
sub_close(struct sub *b)
{
    int z = 0;
    zmq_setsockopt(b->s, ZMQ_LINGER, &z, sizeof(z));
    zmq_close(b->s);
    zmq_ctx_term(b->ctx);
}

/* Next message of topic (skipping others): header into hdr, payload length returned. */
static int
sub_recv(struct sub *b, const char *topic, uint8_t hdr[28], uint8_t *pl, size_t cap)
{
    for (;;) {
        int n = zmq_recv(b->s, hdr, 28, 0);
        if (n < 0)
            return -1;
        assert_int_equal(n, 28);
        int p = zmq_recv(b->s, pl, cap, 0);
        if (strcmp((const char *)hdr, topic) == 0)
            return p;
    }
}

/* The flows' layout: the router fields at ext[0] (an exporting run has them), then the sink's
 * state (ZS_OFF). */
static const struct flow_layout zl = {.router = true, .router_off = 0};
#define ZS_OFF sizeof(struct flow_router)

static struct zsink *
open_sink(struct sub *b, uint32_t update_s)
{
    char err[256];
    const char *conn[1] = {b->ep};
    struct zsink_config c = {
        .connect = conn, .n_connect = 1, .source_id = 42, .update_s = update_s,
    };
    struct zsink *z = zsink_new(&c, err, sizeof(err));
    assert_non_null(z);
    assert_int_equal(zsink_start(z, err, sizeof(err)), 0);
    /* Our SUB sends its subscription only while this thread uses it: alternate until the sink
     * has seen it (what zsink_start() waits for offline, with the collector in its own process). */
    struct zsink_stats st = {0};
    for (int i = 0; i < 300 && st.subscribers == 0; i++) {
        int ev;
        size_t el = sizeof(ev);
        zmq_getsockopt(b->s, ZMQ_EVENTS, &ev, &el);
        zsink_tick(z, 0, NULL);
        zsink_stats(z, SIZE_MAX, &st);
        usleep(10000);
    }
    assert_int_not_equal(st.subscribers, 0);
    zsink_bind(z, &zl, ZS_OFF, NULL);
    return z;
}

/* A TCP flow 10.0.0.1:40000 -> 10.0.0.2:443 with its sink state at ext[ZS_OFF]. */
static struct flow *
new_flow(struct zsink *z, struct mtr_ext *x, struct pkt_meta *m)
{
    *x = zsink_meter_ext(z);
    struct flow *f = calloc(1, sizeof(*f) + ZS_OFF + x->ext_size);
    f->key.lo_ip[0] = 10, f->key.lo_ip[3] = 1;
    f->key.hi_ip[0] = 10, f->key.hi_ip[3] = 2;
    f->key.lo_port = 40000;
    f->key.hi_port = 443;
    f->key.protocol = 6;
    f->key.ip_version = 4;
    memset(m, 0, sizeof(*m));
    m->ip_version = 4;
    m->ip_size = 1000;
    m->time_ms = 1700000000000ull;
    f->dir[FLOW_BIDI].first_seen_ms = f->dir[FLOW_BIDI].last_seen_ms = m->time_ms;
    f->dir[FLOW_S2D].packets = 1;
    f->dir[FLOW_S2D].bytes = 1014; /* --accounting-mode's: ntopng gets the IP octets */
    flow_router(&zl, f)->ip_octets[0] = 1000;
    x->on_init(x->ctx, f, f->ext + ZS_OFF, m);
    f->end_reason = FLOW_END_IDLE; /* what zsink_flow() gets is finished, unless a copy says */
    return f;
}

/*
 * One more packet of octets in direction dir (0 src2dst), as the meter counts it: the octets
 * go where the catalogue's octetDeltaCount / reverseOctetDeltaCount rows read them (the flow's
 * IP-layer octets; checked here so that a change of those rows shows up at this line).
 */
static void
add_packet(struct flow *f, int dir, uint64_t octets)
{
    union fld_value v;
    uint64_t before;

    fld_get((enum fld_id)fld_by_ipfix(dir ? "reverseOctetDeltaCount" : "octetDeltaCount"), &zl,
            f, &v);
    before = v.u;
    f->dir[FLOW_S2D + dir].packets++;
    f->dir[FLOW_S2D + dir].bytes += octets + 14;
    flow_router(&zl, f)->ip_octets[dir] += octets;
    fld_get((enum fld_id)fld_by_ipfix(dir ? "reverseOctetDeltaCount" : "octetDeltaCount"), &zl,
            f, &v);
    assert_int_equal(v.u - before, octets);
}

/* The worker's side of a packet: the sink's check, and when an update is due, the copy it
 * hands to the output thread (a flow still metered: no end reason). */
static void
packet(struct zsink *z, struct flow *f, size_t size, struct pkt_meta *m)
{
    if (zsink_due(z, f, f->ext + ZS_OFF, m)) {
        struct flow *copy = malloc(size);
        memcpy(copy, f, size);
        copy->end_reason = 0;
        assert_true(wrk_is_update(copy));
        zsink_flow(z, copy);
        free(copy);
        zsink_reported(z, f, f->ext + ZS_OFF);
    }
}

/* Sums key over every record of a TLV payload; counts records. */
static uint64_t
sum_key(uint8_t *pl, int len, uint32_t want, int *records, uint64_t *max)
{
    ndpi_deserializer d;
    ndpi_serialization_type kt, t;
    uint64_t sum = 0;
    assert_int_equal(ndpi_init_deserializer_buf(&d, pl, (u_int32_t)len), 0);
    *records = 0;
    while ((t = ndpi_deserialize_get_item_type(&d, &kt)) != ndpi_serialization_unknown) {
        if (t == ndpi_serialization_end_of_record) {
            (*records)++;
        } else {
            uint32_t k, v32;
            uint64_t v = 0;
            ndpi_deserialize_key_uint32(&d, &k);
            if (t == ndpi_serialization_uint64) {
                ndpi_deserialize_value_uint64(&d, &v);
            } else if (t >= ndpi_serialization_uint8 && t <= ndpi_serialization_uint32) {
                ndpi_deserialize_value_uint32(&d, &v32);
                v = v32;
            }
            if (k == want) {
                sum += v;
                if (v > *max)
                    *max = v;
            }
        }
        ndpi_deserialize_next(&d);
    }
    return sum;
}

static void
header_and_worked_example_bytes(void **state)
{
    (void)state;
    struct sub b;
    struct mtr_ext x;
    struct pkt_meta m;
    static uint8_t hdr[28], pl[1 << 18];
    sub_open(&b);
    struct zsink *z = open_sink(&b, 30);
    struct flow *f = new_flow(z, &x, &m);
    zsink_flow(z, f);
    zsink_close(z, NULL, 1000);
    int n = sub_recv(&b, "flow", hdr, pl, sizeof(pl));
    assert_true(n > 2);
    /* 66 6c 6f 77 00*12 | 03 | 00 | size (host order) | msg_id (network) | source id (host) */
    static const uint8_t topic[16] = {'f', 'l', 'o', 'w'};
    assert_memory_equal(hdr, topic, 16);
    assert_int_equal(hdr[16], 3);
    assert_int_equal(hdr[17], 0);
    uint16_t size;
    uint32_t id, src;
    memcpy(&size, hdr + 18, 2);
    memcpy(&id, hdr + 20, 4);
    memcpy(&src, hdr + 24, 4);
    assert_int_equal(size, n);
    assert_int_equal(ntohl(id), 2); /* 1 was the first tick's event */
    assert_int_equal(src, 42);
    /* serializer version 1, format TLV; the spec's bytes for these items */
    assert_int_equal(pl[0], 1);
    assert_int_equal(pl[1], 1);
    static const uint8_t addr[] = {0x2b, 0x08, 0x00, 0x08, '1', '0', '.', '0', '.', '0', '.', '1'};
    static const uint8_t port[] = {0x23, 0x07, 0x9c, 0x40};
    static const uint8_t proto[] = {0x22, 0x04, 0x06};
    static const uint8_t bytes[] = {0x23, 0x01, 0x03, 0xe8}; /* IN_BYTES 1000 */
    static const uint8_t last[] = {0x24, 0x15, 0x65, 0x53, 0xf1, 0x00}; /* 1700000000 s */
    assert_non_null(memmem(pl, (size_t)n, addr, sizeof(addr)));
    assert_non_null(memmem(pl, (size_t)n, port, sizeof(port)));
    assert_non_null(memmem(pl, (size_t)n, proto, sizeof(proto)));
    assert_non_null(memmem(pl, (size_t)n, bytes, sizeof(bytes)));
    assert_non_null(memmem(pl, (size_t)n, last, sizeof(last)));
    assert_int_equal(pl[n - 1], 1); /* end of record */
    /* then the closing event, next msg_id */
    n = sub_recv(&b, "event", hdr, pl, sizeof(pl));
    memcpy(&id, hdr + 20, 4);
    assert_int_equal(ntohl(id), 3);
    assert_non_null(memmem(pl, (size_t)n, "\"timeout\":{\"lifetime\"", 21));
    free(f);
    zsink_free(z);
    sub_close(&b);
}

/* Packets over 95 s, update every 30 s: four records whose deltas sum to the totals. */
static void
deltas_sum_across_updates(void **state)
{
    (void)state;
    struct sub b;
    struct mtr_ext x;
    struct pkt_meta m;
    static uint8_t hdr[28], pl[1 << 18];
    sub_open(&b);
    struct zsink *z = open_sink(&b, 30);
    struct flow *f = new_flow(z, &x, &m);
    for (int i = 1; i <= 95; i++) {
        m.time_ms += 1000;
        m.direction = (uint8_t)(i & 1);
        add_packet(f, m.direction, 1000);
        f->dir[FLOW_BIDI].last_seen_ms = m.time_ms;
        packet(z, f, sizeof(*f) + ZS_OFF + x.ext_size, &m);
    }
    zsink_flow(z, f);
    zsink_close(z, NULL, 1000);
    int n = sub_recv(&b, "flow", hdr, pl, sizeof(pl)), recs;
    uint64_t max = 0;
    assert_int_equal(sum_key(pl, n, 2, &recs, &max), f->dir[FLOW_S2D].packets);
    assert_int_equal(recs, 4);
    assert_int_equal(sum_key(pl, n, 24, &recs, &max), f->dir[FLOW_D2S].packets);
    assert_int_equal(sum_key(pl, n, 1, &recs, &max), 1000 * f->dir[FLOW_S2D].packets);
    assert_int_equal(sum_key(pl, n, 23, &recs, &max), 1000 * f->dir[FLOW_D2S].packets);
    struct zsink_stats st;
    zsink_stats(z, SIZE_MAX, &st);
    assert_int_equal(st.updates, 3);
    free(f);
    zsink_free(z);
    sub_close(&b);
}

/* 80000 packets of 65535 octets in one second: updates keep every delta under 2^31, and the
 * deltas sum to the total past 2^32 (the sink keeps what it reported modulo 2^32). */
static void
deltas_stay_under_2_31(void **state)
{
    (void)state;
    struct sub b;
    struct mtr_ext x;
    struct pkt_meta m;
    static uint8_t hdr[28], pl[1 << 18];
    sub_open(&b);
    struct zsink *z = open_sink(&b, 30);
    struct flow *f = new_flow(z, &x, &m);
    uint64_t total = 1000;
    m.ip_size = 65535 - 40; /* the IP layer's size bounds the octets */
    for (int i = 0; i < 80000; i++) {
        add_packet(f, 0, 65535);
        total += 65535;
        packet(z, f, sizeof(*f) + ZS_OFF + x.ext_size, &m);
    }
    zsink_flow(z, f);
    zsink_close(z, NULL, 1000);
    int n = sub_recv(&b, "flow", hdr, pl, sizeof(pl)), recs;
    uint64_t max = 0;
    assert_true(total > (1ull << 32));
    assert_int_equal(sum_key(pl, n, 1, &recs, &max), total);
    assert_true(recs >= 3);
    assert_true(max < (1ull << 31) + 65535);
    free(f);
    zsink_free(z);
    sub_close(&b);
}

/* 600 flows: messages of 255, 255 and 90 records, consecutive ids. */
static void
at_most_255_records_per_message(void **state)
{
    (void)state;
    struct sub b;
    struct mtr_ext x;
    struct pkt_meta m;
    static uint8_t hdr[28], pl[1 << 18];
    sub_open(&b);
    struct zsink *z = open_sink(&b, 30);
    struct flow *f = new_flow(z, &x, &m);
    for (int i = 0; i < 600; i++)
        zsink_flow(z, f);
    zsink_close(z, NULL, 1000);
    int want[3] = {255, 255, 90};
    for (int k = 0; k < 3; k++) {
        int n = sub_recv(&b, "flow", hdr, pl, sizeof(pl)), recs;
        uint64_t max = 0;
        sum_key(pl, n, 1, &recs, &max);
        assert_int_equal(recs, want[k]);
        assert_true(n <= 131072);
    }
    free(f);
    zsink_free(z);
    sub_close(&b);
}

static void
curve_key_check(void **state)
{
    (void)state;
    char pub[41], sec[41];
    assert_int_equal(zmq_curve_keypair(pub, sec), 0);
    assert_int_equal(zsink_check_key(pub), 0);
    assert_int_not_equal(zsink_check_key("short"), 0);
    assert_int_not_equal(zsink_check_key(NULL), 0);
    pub[5] = '~'; /* not a Z85 character */
    assert_int_not_equal(zsink_check_key(pub), 0);
    char err[256];
    struct zsink_config c = {.server_key = pub};
    assert_null(zsink_new(&c, err, sizeof(err)));
    assert_non_null(strstr(err, "--zmq-encryption-key"));
}

/* Endpoints are checked before anything opens (-n, the start, SIGHUP): one line each. */
static void
endpoint_check(void **state)
{
    (void)state;
    char err[256];
    const char *good[] = {"tcp://127.0.0.1:5556", "tcp://[::1]:1", "tcp://ntop.example:65535"};
    const char *bad[] = {"udp://127.0.0.1:5556", "tcp://127.0.0.1", "tcp://:5556",
                         "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536", "tcp://h:12x", "tcp://h:*"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct zsink_config c = {.connect = &good[i], .n_connect = 1};
        assert_int_equal(zsink_check(&c, err, sizeof(err)), 0);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct zsink_config c = {.connect = &bad[i], .n_connect = 1};
        assert_int_not_equal(zsink_check(&c, err, sizeof(err)), 0);
        assert_non_null(strstr(err, "-c zmq+"));
        assert_null(strchr(err, '\n'));
    }
    const char *any = "tcp://127.0.0.1:*";
    struct zsink_config c = {.bind = &any, .n_bind = 1};
    assert_int_equal(zsink_check(&c, err, sizeof(err)), 0);
}

/* A reload that moves the feed: the pending records leave on the old endpoint, the next ones
 * on the new, msg_id goes on by one per message across both (no gap, no restart). */
static void
reload_moves_endpoint(void **state)
{
    (void)state;
    struct sub b1, b2;
    struct mtr_ext x;
    struct pkt_meta m;
    static uint8_t hdr[28], pl[1 << 18];
    char err[256];
    uint32_t id1, id2;
    sub_open(&b1);
    sub_open(&b2);
    struct zsink *z = open_sink(&b1, 30);
    struct flow *f = new_flow(z, &x, &m);
    zsink_flow(z, f); /* pending when the reload comes */
    const char *conn[1] = {b2.ep};
    struct zsink_config c = {.connect = conn, .n_connect = 1, .source_id = 42};
    assert_int_equal(zsink_reload(z, &c, err, sizeof(err)), 0);
    assert_int_equal(zsink_n_endpoints(z), 1);
    struct zsink_stats st = {0};
    for (int i = 0; i < 300 && st.subscribers == 0; i++) {
        int ev;
        size_t el = sizeof(ev);
        zmq_getsockopt(b2.s, ZMQ_EVENTS, &ev, &el);
        zsink_tick(z, 1, NULL);
        zsink_stats(z, 0, &st);
        usleep(10000);
    }
    assert_int_not_equal(st.subscribers, 0);
    assert_string_equal(st.endpoint, b2.ep);
    zsink_flow(z, f);
    zsink_close(z, NULL, 1000);
    assert_int_equal(sub_recv(&b1, "flow", hdr, pl, sizeof(pl)) > 2, 1);
    memcpy(&id1, hdr + 20, 4);
    assert_int_equal(sub_recv(&b2, "flow", hdr, pl, sizeof(pl)) > 2, 1);
    memcpy(&id2, hdr + 20, 4);
    assert_int_equal(ntohl(id2), ntohl(id1) + 1);
    /* the totals keep the closed endpoint's messages: its event and flow, then the new one's */
    zsink_stats(z, SIZE_MAX, &st);
    assert_int_equal(st.messages, 4);
    /* a bad endpoint changes nothing */
    const char *worse[1] = {"tcp://nowhere"};
    c.connect = worse;
    assert_int_not_equal(zsink_reload(z, &c, err, sizeof(err)), 0);
    free(f);
    zsink_free(z);
    sub_close(&b1);
    sub_close(&b2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_and_worked_example_bytes),
        cmocka_unit_test(deltas_sum_across_updates),
        cmocka_unit_test(deltas_stay_under_2_31),
        cmocka_unit_test(at_most_255_records_per_message),
        cmocka_unit_test(curve_key_check),
        cmocka_unit_test(endpoint_check),
        cmocka_unit_test(reload_moves_endpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
