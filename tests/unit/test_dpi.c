/*
 * test_dpi.c - nDPI labels through a real meter: Ethernet frames assembled here are decoded with
 * dec_packet(), metered with the DPI extension and labelled by the real nDPI 4.2; the labels are
 * read from the emitted flows' struct flow_l7. Also the nDPI state pool (return at detection,
 * exhaustion), giving up after n_dissections, custom rule files and their errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <pcap/dlt.h>

#include "decode.h"
#include "dpi.h"
#include "meter.h"

#define MAX_OUT 16
#define SLOT 4096

static unsigned char out[MAX_OUT][SLOT];
static size_t n_out;
static size_t flow_size;
static size_t l7_off;

static void
collect(void *ctx, const struct flow *f)
{
    (void)ctx;
    assert_true(n_out < MAX_OUT);
    assert_true(flow_size <= SLOT);
    memcpy(out[n_out++], f, flow_size);
}

static const struct flow_l7 *
l7_of(size_t i)
{
    const struct flow *f = (const struct flow *)(const void *)out[i];
    return (const struct flow_l7 *)(const void *)(f->ext + l7_off);
}

static struct dpi_ctx *
new_dpi(uint8_t n_dissections, uint32_t max_concurrent, const char *protos, const char *cats)
{
    struct dpi_config c = {
        .n_dissections = n_dissections,
        .max_concurrent = max_concurrent,
        .protos_file = protos,
        .categories_file = cats,
    };
    char err[512] = "";
    struct dpi_ctx *d = dpi_new(&c, err, sizeof(err));
    if (d == NULL)
        fail_msg("dpi_new: %s", err);
    return d;
}

/* The wiring main.c does: the DPI extension first, the l7 columns at its offset. */
static struct meter *
new_meter(struct dpi_ctx *d)
{
    struct mtr_config c = {
        .idle_ms = 120000,
        .active_ms = 1800000,
        .max_flows = 64,
        .seed = 7,
    };
    struct mtr_ext ext = dpi_meter_ext(d);
    char err[256];
    n_out = 0;
    struct meter *mt = mtr_new(&c, &ext, 1, collect, NULL, err, sizeof(err));
    assert_non_null(mt);
    flow_size = mtr_flow_size(mt);
    l7_off = mtr_ext_offset(mt, 0);
    return mt;
}

/* ------------------------------------------------------------------ frames */

static const uint8_t CLIENT[4] = {192, 168, 1, 10};
static const uint8_t SERVER[4] = {198, 51, 100, 7};
static const uint8_t SERVER2[4] = {198, 51, 100, 8};

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_PSH = 0x08, TH_ACK = 0x10 };

static void
be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
be32(uint8_t *p, uint32_t v)
{
    be16(p, (uint16_t)(v >> 16));
    be16(p + 2, (uint16_t)v);
}

/* Ethernet + IPv4 + UDP (proto 17) or TCP (proto 6) + payload; returns the frame length. */
static uint32_t
frame(uint8_t *f, const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
      uint8_t proto, uint32_t seq, uint32_t ack, uint8_t flags, const void *payload, size_t plen)
{
    size_t l4 = proto == 6 ? 20 : 8;
    size_t total = 20 + l4 + plen;
    uint8_t *ip = f + 14, *th = ip + 20;
    uint32_t sum = 0;

    memset(f, 0, 14 + total);
    memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
    ip[0] = 0x45;
    be16(ip + 2, (uint16_t)total);
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    be16(ip + 10, (uint16_t)~sum);
    be16(th, sport);
    be16(th + 2, dport);
    if (proto == 6) {
        be32(th + 4, seq);
        be32(th + 8, ack);
        th[12] = 5 << 4;
        th[13] = flags;
        be16(th + 14, 65535);
    } else {
        be16(th + 4, (uint16_t)(8 + plen));
    }
    if (plen > 0)
        memcpy(th + l4, payload, plen);
    return (uint32_t)(14 + total);
}

static void
meter_frame(struct meter *mt, const uint8_t *f, uint32_t len, uint64_t t)
{
    struct pkt_meta m;
    assert_int_equal(dec_packet(DLT_EN10MB, f, len, len, true, &m), DEC_OK);
    m.time_ms = t;
    mtr_packet(mt, &m);
}

static void
udp(struct meter *mt, const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
    const void *payload, size_t plen, uint64_t t)
{
    uint8_t f[2048];
    meter_frame(mt, f, frame(f, src, sport, dst, dport, 17, 0, 0, 0, payload, plen), t);
}

/* A TCP connection with consistent sequence numbers, as nDPI's connection tracking wants. */
struct tcp_conn {
    const uint8_t *cli, *srv;
    uint16_t cport, sport;
    uint32_t cseq, sseq;
};

static void
tcp(struct meter *mt, struct tcp_conn *c, int from_client, uint8_t flags, const void *payload,
    size_t plen, uint64_t t)
{
    uint8_t f[4096];
    uint32_t *seq = from_client ? &c->cseq : &c->sseq, ack = from_client ? c->sseq : c->cseq;
    uint32_t len = from_client
                       ? frame(f, c->cli, c->cport, c->srv, c->sport, 6, *seq, ack, flags,
                               payload, plen)
                       : frame(f, c->srv, c->sport, c->cli, c->cport, 6, *seq, ack, flags,
                               payload, plen);
    meter_frame(mt, f, len, t);
    *seq += (uint32_t)plen + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
}

static void
handshake(struct meter *mt, struct tcp_conn *c, uint64_t t)
{
    tcp(mt, c, 1, TH_SYN, NULL, 0, t);
    tcp(mt, c, 0, TH_SYN | TH_ACK, NULL, 0, t + 1);
    tcp(mt, c, 1, TH_ACK, NULL, 0, t + 2);
}

/* A DNS message for "example.com" (type A): a query, or an answer carrying 192.0.2.1. */
static size_t
dns(uint8_t *b, const char *n1, const char *n2, int answer)
{
    size_t o = 0, l1 = strlen(n1), l2 = strlen(n2);
    memcpy(b, answer ? "\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00"
                     : "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00",
           12);
    o = 12;
    b[o++] = (uint8_t)l1;
    memcpy(b + o, n1, l1);
    o += l1;
    b[o++] = (uint8_t)l2;
    memcpy(b + o, n2, l2);
    o += l2;
    memcpy(b + o, "\x00\x00\x01\x00\x01", 5);
    o += 5;
    if (answer) {
        memcpy(b + o, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\xc0\x00\x02\x01", 16);
        o += 16;
    }
    return o;
}

/* ------------------------------------------------------------------ labels */

static void
dns_query_and_answer(void **state)
{
    (void)state;
    struct dpi_ctx *d = new_dpi(20, 8, NULL, NULL);
    struct meter *mt = new_meter(d);
    struct dpi_stats st;
    uint8_t b[512];

    udp(mt, CLIENT, 40000, SERVER, 53, b, dns(b, "example", "com", 0), 1000);
    dpi_stats(d, &st);
    assert_int_equal(st.packets_fed, 1);
    assert_int_equal(st.flows_detected, 0); /* DNS waits for the answer (extra dissection) */
    udp(mt, SERVER, 53, CLIENT, 40000, b, dns(b, "example", "com", 1), 1010);
    dpi_stats(d, &st);
    assert_int_equal(st.packets_fed, 2);
    assert_int_equal(st.flows_detected, 1); /* the answer completes it: state back in the pool */
    mtr_flush(mt);

    assert_int_equal(n_out, 1);
    const struct flow_l7 *l = l7_of(0);
    assert_string_equal(l->application_name, "DNS");
    assert_string_equal(l->category_name, "Network");
    assert_string_equal(l->requested_server_name, "example.com");
    assert_int_equal(l->guessed, 0);
    assert_int_equal(l->confidence, 4); /* nDPI 4.2 NDPI_CONFIDENCE_DPI */
    assert_string_equal(l->application_name, dpi_proto_name(d, l->app_id));
    assert_string_equal(l->category_name, dpi_category_name(d, l->category_id));
    assert_string_equal(l->client_fingerprint, "");
    mtr_free(mt);
    dpi_free(d);
}

static void
http_get_host_user_agent_content_type(void **state)
{
    (void)state;
    static const char get[] = "GET /index.html HTTP/1.1\r\n"
                              "Host: www.example.org\r\n"
                              "User-Agent: nfprobe-test/1.0 (X11)\r\n"
                              "Accept: */*\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Type: text/html; charset=utf-8\r\n"
                               "Content-Length: 5\r\n\r\nhello";
    struct dpi_ctx *d = new_dpi(20, 8, NULL, NULL);
    struct meter *mt = new_meter(d);
    struct tcp_conn c = {CLIENT, SERVER, 51000, 80, 1000, 7000};
    struct dpi_stats st;

    handshake(mt, &c, 1000);
    tcp(mt, &c, 1, TH_PSH | TH_ACK, get, strlen(get), 1010);
    /* nDPI 4.2 keeps a response's Content-Type only after a server packet without payload */
    tcp(mt, &c, 0, TH_ACK, NULL, 0, 1015);
    dpi_stats(d, &st);
    assert_int_equal(st.flows_detected, 0); /* HTTP known, waiting for the response */
    tcp(mt, &c, 0, TH_PSH | TH_ACK, resp, strlen(resp), 1020);
    dpi_stats(d, &st);
    assert_int_equal(st.flows_detected, 1); /* the response ends HTTP's extra dissection */
    tcp(mt, &c, 1, TH_ACK, NULL, 0, 1030);
    dpi_stats(d, &st);
    assert_int_equal(st.packets_fed, 6); /* nothing fed once detection completed */
    mtr_flush(mt);

    assert_int_equal(n_out, 1);
    const struct flow_l7 *l = l7_of(0);
    assert_string_equal(l->application_name, "HTTP");
    assert_string_equal(l->requested_server_name, "www.example.org");
    assert_string_equal(l->user_agent, "nfprobe-test/1.0 (X11)");
    assert_string_equal(l->content_type, "text/html"); /* nDPI stops at the ';' */
    assert_string_equal(l->client_fingerprint, "");
    assert_int_equal(l->guessed, 0);
    mtr_free(mt);
    dpi_free(d);
}

/* NFStream decodes every label with decode('utf-8', errors='ignore'): invalid bytes vanish. */
static void
labels_drop_invalid_utf8(void **state)
{
    (void)state;
    static const char get[] = "GET / HTTP/1.1\r\n"
                              "Host: www.example.org\r\n"
                              "User-Agent: a\xff\xfe"
                              "b\xc3\xa9"
                              "c\xe2\x82"
                              "d\xed\xa0\x80"
                              "e\r\n\r\n";
    struct dpi_ctx *d = new_dpi(20, 8, NULL, NULL);
    struct meter *mt = new_meter(d);
    struct tcp_conn c = {CLIENT, SERVER, 51001, 80, 1000, 7000};

    handshake(mt, &c, 1000);
    tcp(mt, &c, 1, TH_PSH | TH_ACK, get, strlen(get), 1010);
    mtr_flush(mt);
    assert_int_equal(n_out, 1);
    /* \xc3\xa9 is a valid e-acute; a cut sequence and an encoded surrogate are dropped. */
    assert_string_equal(l7_of(0)->user_agent, "ab\xc3\xa9" "cde");
    mtr_free(mt);
    dpi_free(d);
}

/* A TLS 1.2 ClientHello with one cipher suite and only the server_name extension. */
static size_t
client_hello(uint8_t *b, const char *sni)
{
    size_t n = strlen(sni), o = 0;
    size_t ext_len = 4 + 2 + 3 + n;            /* server_name extension */
    size_t body = 2 + 32 + 1 + 4 + 2 + 2 + ext_len;

    b[o++] = 0x16, b[o++] = 0x03, b[o++] = 0x01; /* handshake record, TLS 1.0 record version */
    be16(b + o, (uint16_t)(4 + body)), o += 2;
    b[o++] = 0x01;                              /* ClientHello */
    b[o++] = 0, be16(b + o, (uint16_t)body), o += 2;
    b[o++] = 0x03, b[o++] = 0x03;               /* TLS 1.2 */
    for (int i = 0; i < 32; i++)
        b[o++] = (uint8_t)(i * 7 + 1);          /* random */
    b[o++] = 0;                                 /* no session id */
    be16(b + o, 2), o += 2, be16(b + o, 0xc02f), o += 2;
    b[o++] = 1, b[o++] = 0;                     /* compression: null */
    be16(b + o, (uint16_t)ext_len), o += 2;
    be16(b + o, 0x0000), o += 2;                /* server_name */
    be16(b + o, (uint16_t)(2 + 3 + n)), o += 2;
    be16(b + o, (uint16_t)(3 + n)), o += 2;
    b[o++] = 0;                                 /* host_name */
    be16(b + o, (uint16_t)n), o += 2;
    memcpy(b + o, sni, n);
    return o + n;
}

static void
md5_hex(const char *s, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_true(EVP_Digest(s, strlen(s), md, &len, EVP_md5(), NULL));
    for (unsigned i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void
tls_client_hello_sni_and_ja3(void **state)
{
    (void)state;
    struct dpi_ctx *d = new_dpi(20, 8, NULL, NULL);
    struct meter *mt = new_meter(d);
    struct tcp_conn c = {CLIENT, SERVER2, 52000, 443, 1000, 7000};
    uint8_t b[512];
    char ja3[33];

    handshake(mt, &c, 1000);
    tcp(mt, &c, 1, TH_PSH | TH_ACK, b, client_hello(b, "www.example.net"), 1010);
    mtr_flush(mt);

    assert_int_equal(n_out, 1);
    const struct flow_l7 *l = l7_of(0);
    assert_string_equal(l->application_name, "TLS");
    assert_string_equal(l->requested_server_name, "www.example.net");
    /* JA3: version,ciphers,extensions,curves,point formats of this very ClientHello */
    md5_hex("771,49199,0,,", ja3);
    assert_string_equal(l->client_fingerprint, ja3);
    assert_string_equal(l->server_fingerprint, ""); /* no ServerHello seen */
    assert_int_equal(l->guessed, 0);
    mtr_free(mt);
    dpi_free(d);
}

/* ------------------------------------------------------------------ feeding and the pool */

/* NFStream gives up when the flow's packet count reaches n_dissections with no application. */
static void
gives_up_at_n_dissections(void **state)
{
    (void)state;
    static const uint8_t junk[] = {0x9c, 0x01, 0x77, 0x42, 0x13, 0x00, 0xfe, 0x5a};
    struct dpi_ctx *d = new_dpi(3, 8, NULL, NULL);
    struct meter *mt = new_meter(d);
    struct dpi_stats st;

    for (int i = 0; i < 2; i++)
        udp(mt, CLIENT, 40001, SERVER, 5060, junk, sizeof(junk), 1000 + (uint64_t)i);
    dpi_stats(d, &st);
    assert_int_equal(st.flows_guessed, 0);
    udp(mt, SERVER, 5060, CLIENT, 40001, junk, sizeof(junk), 1002);
    dpi_stats(d, &st);
    assert_int_equal(st.flows_guessed, 1); /* gave up at packet 3 */
    assert_int_equal(st.packets_fed, 3);
    for (int i = 0; i < 4; i++)
        udp(mt, CLIENT, 40001, SERVER, 5060, junk, sizeof(junk), 1003 + (uint64_t)i);
    dpi_stats(d, &st);
    assert_int_equal(st.packets_fed, 3);
    mtr_flush(mt);

    assert_int_equal(n_out, 1);
    const struct flow_l7 *l = l7_of(0);
    /* guessed from the port: SIP's 5060, confidence "match by port" */
    assert_int_equal(l->guessed, 1);
    assert_int_equal(l->confidence, 1);
    assert_string_equal(l->application_name, "SIP");
    assert_string_equal(l->application_name, dpi_proto_name(d, l->app_id));
    mtr_free(mt);
    dpi_free(d);
}

/* With n_dissections == 1, an unknown flow gives up right after its first packet. */
static void
one_dissection_gives_up_at_once(void **state)
{
    (void)state;
    static const uint8_t junk[] = {0x01, 0x02, 0x03, 0x04};
    struct dpi_ctx *d = new_dpi(1, 1, NULL, NULL);
    struct meter *mt = new_meter(d);
    struct dpi_stats st;

    udp(mt, CLIENT, 40002, SERVER, 40003, junk, sizeof(junk), 1000);
    dpi_stats(d, &st);
    assert_int_equal(st.flows_guessed, 1);
    /* the single state went back: another flow gets one */
    udp(mt, CLIENT, 40004, SERVER, 40005, junk, sizeof(junk), 1001);
    dpi_stats(d, &st);
    assert_int_equal(st.flows_guessed, 2);
    assert_int_equal(st.pool_exhausted, 0);
    mtr_flush(mt);
    assert_int_equal(n_out, 2);
    assert_string_equal(l7_of(0)->application_name, "Unknown");
    assert_int_equal(l7_of(0)->guessed, 0);
    assert_int_equal(l7_of(0)->confidence, 0);
    mtr_free(mt);
    dpi_free(d);
}

/* The state goes back at detection, so one entry serves flows one after another. */
static void
state_returns_to_pool_after_detection(void **state)
{
    (void)state;
    struct dpi_ctx *d = new_dpi(20, 1, NULL, NULL);
    struct meter *mt = new_meter(d);
    struct dpi_stats st;
    uint8_t b[512];

    for (uint16_t i = 0; i < 3; i++) {
        uint16_t port = (uint16_t)(41000 + i);
        udp(mt, CLIENT, port, SERVER, 53, b, dns(b, "example", "com", 0), 1000 + 10u * i);
        udp(mt, SERVER, 53, CLIENT, port, b, dns(b, "example", "com", 1), 1001 + 10u * i);
    }
    dpi_stats(d, &st);
    assert_int_equal(st.flows_detected, 3);
    assert_int_equal(st.pool_exhausted, 0);
    mtr_flush(mt);
    assert_int_equal(n_out, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(l7_of(i)->application_name, "DNS");
    mtr_free(mt);
    dpi_free(d);
}

/* Two flows in detection at once with one entry: the second is counted and labelled Unknown. */
static void
pool_exhausted_labels_unknown(void **state)
{
    (void)state;
    struct dpi_ctx *d = new_dpi(20, 1, NULL, NULL);
    struct meter *mt = new_meter(d);
    struct dpi_stats st;
    uint8_t b[512];

    udp(mt, CLIENT, 42000, SERVER, 53, b, dns(b, "example", "com", 0), 1000);
    udp(mt, CLIENT, 42001, SERVER, 53, b, dns(b, "example", "org", 0), 1001);
    udp(mt, SERVER, 53, CLIENT, 42001, b, dns(b, "example", "org", 1), 1002);
    dpi_stats(d, &st);
    assert_int_equal(st.pool_exhausted, 1);
    assert_int_equal(st.packets_fed, 1); /* the second flow is never fed */
    mtr_flush(mt);

    assert_int_equal(n_out, 2);
    assert_string_equal(l7_of(0)->application_name, "DNS"); /* expired while in detection */
    assert_string_equal(l7_of(0)->requested_server_name, "example.com");
    assert_string_equal(l7_of(1)->application_name, "Unknown");
    assert_string_equal(l7_of(1)->category_name, "Unspecified");
    assert_string_equal(l7_of(1)->requested_server_name, "");
    assert_int_equal(l7_of(1)->guessed, 0);
    dpi_stats(d, &st);
    assert_int_equal(st.flows_detected + st.flows_guessed + st.pool_exhausted, 2);
    mtr_free(mt);
    dpi_free(d);
}

/* A flow still in detection when the meter is freed: dpi_free() releases its nDPI data. */
static void
free_with_flows_in_detection(void **state)
{
    (void)state;
    static const char get[] = "GET / HTTP/1.1\r\nHost: a.example\r\nUser-Agent: x\r\n\r\n";
    struct dpi_ctx *d = new_dpi(20, 4, NULL, NULL);
    struct meter *mt = new_meter(d);
    struct tcp_conn c = {CLIENT, SERVER, 51002, 80, 1000, 7000};
    struct dpi_stats st;

    handshake(mt, &c, 1000);
    tcp(mt, &c, 1, TH_PSH | TH_ACK, get, strlen(get), 1010); /* HTTP, waiting for the response */
    dpi_stats(d, &st);
    assert_int_equal(st.flows_detected, 0);
    assert_true(st.ndpi_mem_bytes > 0);
    assert_true(st.ndpi_mem_peak >= st.ndpi_mem_bytes);
    mtr_free(mt);
    dpi_free(d); /* LeakSanitizer checks that the user agent nDPI allocated is freed */
}

/* One detection module per worker thread, all running at once (the allocator hooks are shared). */
struct worker_run {
    pthread_t tid;
    unsigned id;
    unsigned labelled; /* flows emitted as "DNS" with the right server name */
    unsigned emitted;
    size_t l7_off;
};

static void
count_dns(void *ctx, const struct flow *f)
{
    struct worker_run *w = ctx;
    const struct flow_l7 *l = (const struct flow_l7 *)(const void *)(f->ext + w->l7_off);
    w->emitted++;
    if (strcmp(l->application_name, "DNS") == 0 &&
        strcmp(l->requested_server_name, "example.com") == 0)
        w->labelled++;
}

static void *
worker_main(void *arg)
{
    struct worker_run *w = arg;
    struct dpi_config dc = {.n_dissections = 20, .max_concurrent = 16};
    struct mtr_config mc = {.idle_ms = 120000, .active_ms = 1800000, .max_flows = 512, .seed = 3};
    char err[256];
    struct dpi_ctx *d = dpi_new(&dc, err, sizeof(err));
    struct mtr_ext ext;
    struct meter *mt;
    uint8_t b[512], f[2048];
    uint8_t cli[4] = {10, 0, (uint8_t)w->id, 1};

    if (d == NULL)
        return NULL;
    ext = dpi_meter_ext(d);
    mt = mtr_new(&mc, &ext, 1, count_dns, w, err, sizeof(err));
    if (mt == NULL) {
        dpi_free(d);
        return NULL;
    }
    w->l7_off = mtr_ext_offset(mt, 0);
    for (unsigned i = 0; i < 300; i++) {
        uint16_t port = (uint16_t)(20000 + i);
        struct pkt_meta m;
        uint32_t len = frame(f, cli, port, SERVER, 53, 17, 0, 0, 0, b, dns(b, "example", "com", 0));
        if (dec_packet(DLT_EN10MB, f, len, len, true, &m) != DEC_OK)
            break;
        m.time_ms = 1000 + i;
        mtr_packet(mt, &m);
        len = frame(f, SERVER, 53, cli, port, 17, 0, 0, 0, b, dns(b, "example", "com", 1));
        if (dec_packet(DLT_EN10MB, f, len, len, true, &m) != DEC_OK)
            break;
        m.time_ms = 1000 + i;
        mtr_packet(mt, &m);
    }
    mtr_flush(mt);
    mtr_free(mt);
    dpi_free(d);
    return NULL;
}

static void
workers_in_parallel(void **state)
{
    (void)state;
    struct worker_run w[4];

    memset(w, 0, sizeof(w));
    for (unsigned i = 0; i < 4; i++) {
        w[i].id = i;
        assert_int_equal(pthread_create(&w[i].tid, NULL, worker_main, &w[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(w[i].tid, NULL), 0);
        assert_int_equal(w[i].emitted, 300);
        assert_int_equal(w[i].labelled, 300);
    }
}

/* ------------------------------------------------------------------ configuration */

static char *
temp_file(const char *text)
{
    char *path = strdup("/tmp/test_dpi.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void
custom_protocols_and_categories(void **state)
{
    (void)state;
    char *protos = temp_file("# custom\nhost:\"example.com\"@NfprobeTest\ntcp:8081@HTTP\n");
    char *cats = temp_file("example.com\t100\n");
    struct dpi_ctx *d = new_dpi(20, 8, protos, cats);
    struct meter *mt = new_meter(d);
    uint8_t b[512];

    udp(mt, CLIENT, 43000, SERVER, 53, b, dns(b, "example", "com", 0), 1000);
    udp(mt, SERVER, 53, CLIENT, 43000, b, dns(b, "example", "com", 1), 1001);
    mtr_flush(mt);
    assert_int_equal(n_out, 1);
    assert_string_equal(l7_of(0)->application_name, "DNS.NfprobeTest");
    assert_string_equal(l7_of(0)->category_name, dpi_category_name(d, 100));
    assert_string_equal(l7_of(0)->category_name, "Malware");
    mtr_free(mt);
    dpi_free(d);
    unlink(protos);
    unlink(cats);
    free(protos);
    free(cats);
}

static void
expect_error(const char *protos, const char *cats, const char *want1, const char *want2)
{
    struct dpi_config c = {
        .n_dissections = 20,
        .max_concurrent = 8,
        .protos_file = protos,
        .categories_file = cats,
    };
    char err[512] = "";
    struct dpi_ctx *d = dpi_new(&c, err, sizeof(err));
    assert_null(d);
    if (strstr(err, want1) == NULL || strstr(err, want2) == NULL)
        fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", err, want1, want2);
    assert_null(strchr(err, '\n'));
}

static void
bad_rule_files_name_the_file(void **state)
{
    (void)state;
    char *bad = temp_file("tcp:81@HTTP\n\nthis is not a rule\n");
    char *badattr = temp_file("port:81@HTTP\n");
    char *badcat = temp_file("example.com 100\n");
    char *badid = temp_file("example.com\t9999\n");

    expect_error(bad, NULL, bad, ":3:");
    expect_error(badattr, NULL, badattr, ":1:");
    expect_error("/nonexistent/protos.txt", NULL, "/nonexistent/protos.txt", "No such file");
    expect_error(NULL, badcat, badcat, ":1:");
    expect_error(NULL, badid, badid, ":1:");
    expect_error(NULL, "/nonexistent/cats.txt", "/nonexistent/cats.txt", "No such file");
    for (char **p = (char *[]){bad, badattr, badcat, badid, NULL}; *p != NULL; p++) {
        unlink(*p);
        free(*p);
    }
}

static void
bad_config_rejected(void **state)
{
    (void)state;
    struct dpi_config c = {.n_dissections = 0, .max_concurrent = 8};
    char err[256] = "";
    assert_null(dpi_new(&c, err, sizeof(err)));
    assert_non_null(strstr(err, "n_dissections"));
    c.n_dissections = 20;
    c.max_concurrent = 0;
    assert_null(dpi_new(&c, err, sizeof(err)));
    dpi_free(NULL);
}

static void
names_and_version(void **state)
{
    (void)state;
    struct dpi_ctx *d = new_dpi(20, 1, NULL, NULL);
    assert_string_equal(dpi_proto_name(d, 0), "Unknown");
    assert_string_equal(dpi_proto_name(d, 7), "HTTP");      /* NDPI_PROTOCOL_HTTP */
    assert_string_equal(dpi_category_name(d, 0), "Unspecified");
    assert_true(dpi_num_protocols(d) > 200);
    assert_string_equal(dpi_proto_name(d, (uint16_t)(dpi_num_protocols(d) + 5)), "Unknown");
    assert_non_null(dpi_version());
    assert_true(strlen(dpi_version()) > 0);
    dpi_free(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dns_query_and_answer),
        cmocka_unit_test(http_get_host_user_agent_content_type),
        cmocka_unit_test(labels_drop_invalid_utf8),
        cmocka_unit_test(tls_client_hello_sni_and_ja3),
        cmocka_unit_test(gives_up_at_n_dissections),
        cmocka_unit_test(one_dissection_gives_up_at_once),
        cmocka_unit_test(state_returns_to_pool_after_detection),
        cmocka_unit_test(pool_exhausted_labels_unknown),
        cmocka_unit_test(free_with_flows_in_detection),
        cmocka_unit_test(workers_in_parallel),
        cmocka_unit_test(custom_protocols_and_categories),
        cmocka_unit_test(bad_rule_files_name_the_file),
        cmocka_unit_test(bad_config_rejected),
        cmocka_unit_test(names_and_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
