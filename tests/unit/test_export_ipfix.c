/*
 * test_export_ipfix.c - the IPFIX encoder (export_ipfix.c) and the exporter (export.c).
 *
 * Encoder goldens: fixed flows with a fixed export time -> the exact message bytes, compared
 * with tests/unit/data/ipfix_*.bin (BLESS=1 rewrites them; templates/check_registry.sh keeps
 * the ipfixDump text next to them, ipfix_*.txt, in step for review). Beyond the bytes, the
 * messages are checked against RFC 7011 and decoded back with libfixbuf's collecting side:
 * headers, sequence numbers per session, message sizes, no empty Set, the order nfdump needs
 * (options templates one per message, options data before any flow), every value of the flows.
 *
 * Exporter: collector URL parsing, a real UDP socket on 127.0.0.1 as the collector, a TCP
 * collector that is not there (flows queued, then counted as not sent in flows, packets and
 * octets), the queue's bound, a record larger than the MTU, round-robin.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "export_ipfix.h"
#include "sampling_export.h"
#include "features.h"
#include "flow.h"

#ifndef IPFIX_DATA_DIR
#define IPFIX_DATA_DIR "tests/unit/data"
#endif
#ifndef IPFIX_TEMPLATES_DIR
#define IPFIX_TEMPLATES_DIR "templates"
#endif

#define T0 UINT64_C(1700000000123) /* 2023-11-14 22:13:20.123 UTC */
#define EXPORT_TIME 1700000100u
#define SPLT_N 8
#define MAX_FLOW 2048
#define OPT_TID 0x9000

/* ------------------------------------------------------------------ flows */

/* A flow slot laid out as the meter does: statistics, SPLT arrays, then struct flow_l7. */
struct slot {
    _Alignas(struct flow) unsigned char raw[MAX_FLOW];
};

static struct feat_config feat = {.statistics = true, .splt_n = SPLT_N,
                                  .splt_off = FLOW_STATS_SIZE};

/* struct slot: statistics, SPLT, the router fields (every exporting run has them), L7. */
static size_t
router_off(void)
{
    return (FLOW_STATS_SIZE + feat_splt_size(SPLT_N) + 7) & ~(size_t)7;
}

static size_t
l7_off(void)
{
    return router_off() + sizeof(struct flow_router);
}

static const struct flow_layout *
rt_layout(void)
{
    static struct flow_layout l;
    l.router = true;
    l.router_off = router_off();
    return &l;
}
#define RT(f) flow_router(rt_layout(), f)

/* Every extension on, where struct slot has them. */
static struct flow_layout
full_layout(void)
{
    return (struct flow_layout){.tunnel_id = true, .statistics = true, .splt_n = SPLT_N,
                                .splt_off = feat.splt_off, .l7 = true, .l7_off = l7_off(),
                                .router = true, .router_off = router_off()};
}

static size_t
flow_size(void)
{
    return sizeof(struct flow) + l7_off() + sizeof(struct flow_l7);
}

static struct flow *
fl(struct slot *s)
{
    return (struct flow *)(void *)s->raw;
}

static struct flow_l7 *
l7(struct slot *s)
{
    return (struct flow_l7 *)(void *)(fl(s)->ext + l7_off());
}

/* Flow number i: IPv4 for even i, IPv6 for odd i; every field a distinct value. */
static void
make_flow(struct slot *s, unsigned i)
{
    struct flow *f = fl(s);

    memset(s, 0, sizeof(*s));
    f->id = 1000 + i;
    f->key.ip_version = i % 2 ? 6 : 4;
    f->key.protocol = i % 3 ? 6 : 17;
    if (f->key.ip_version == 4) {
        uint8_t a[4] = {10, 0, 0, (uint8_t)(1 + i)}, b[4] = {192, 0, 2, (uint8_t)(100 + i)};
        memcpy(f->key.lo_ip, a, 4);
        memcpy(f->key.hi_ip, b, 4);
    } else {
        f->key.lo_ip[0] = 0x20;
        f->key.lo_ip[1] = 0x01;
        f->key.lo_ip[2] = 0x0d;
        f->key.lo_ip[3] = 0xb8;
        f->key.lo_ip[15] = (uint8_t)i;
        memcpy(f->key.hi_ip, f->key.lo_ip, 16);
        f->key.hi_ip[14] = 0xff;
    }
    f->key.lo_port = (uint16_t)(40000 + i);
    f->key.hi_port = 443;
    f->key.vlan_id = (uint16_t)(i * 10);
    f->key.tunnel_id = (uint8_t)(i % 4);
    f->src_is_hi = (uint8_t)(i % 2);
    f->expiration_id = (int8_t)(i % 3 == 2 ? -1 : (int)(i % 2));
    f->end_reason = (uint8_t)(1 + i % 5);
    for (int k = 0; k < 6; k++) {
        f->src_mac[k] = (uint8_t)(0x10 + k + i);
        f->dst_mac[k] = (uint8_t)(0xa0 + k + i);
    }
    f->dir[FLOW_BIDI] = (struct flow_dir){T0 + i, T0 + 5000 + i, 10 + i, 1500 + i};
    f->dir[FLOW_S2D] = (struct flow_dir){T0 + i, T0 + 4000 + i, 6 + i, 900 + i};
    f->dir[FLOW_D2S] = (struct flow_dir){T0 + 20 + i, T0 + 5000 + i, 4, 600};
    f->tcp_flags_or[FLOW_BIDI] = 0x1b;
    f->tcp_flags_or[FLOW_S2D] = 0x1b;
    f->tcp_flags_or[FLOW_D2S] = 0x12;
    RT(f)->in_ifindex = 7 + i;
    RT(f)->vlan_outer = (uint16_t)(100 + i);
    RT(f)->vlan_inner = (uint16_t)(200 + i);
    RT(f)->ip_octets[0] = 860 + i;
    RT(f)->ip_octets[1] = 560;
    RT(f)->l2_octets[0] = 984 + i;
    RT(f)->l2_octets[1] = 656;
    RT(f)->tos[0] = (uint8_t)(0xb8 + i); /* DSCP 46 (EF) */
    RT(f)->tos[1] = 0x28;
    RT(f)->ttl_min[0] = 60;
    RT(f)->ttl_max[0] = (uint8_t)(64 + i);
    RT(f)->ttl_min[1] = 120;
    RT(f)->ttl_max[1] = 128;
    RT(f)->frag_flags[0] = 0x40;
    RT(f)->frag_flags[1] = 0x20;
    RT(f)->icmp_type_code[0] = (uint16_t)(0x0800 + i);
    RT(f)->icmp_type_code[1] = (uint16_t)(0x0000 + i);
    for (int k = 0; k < FLOW_MPLS_MAX; k++) { /* label 16000 + k + i, exp k, bos on the last */
        uint32_t lse = (16000u + (uint32_t)k + i) << 4 | (uint32_t)k << 1 | (k == 2);
        RT(f)->mpls[k][0] = (uint8_t)(lse >> 16);
        RT(f)->mpls[k][1] = (uint8_t)(lse >> 8);
        RT(f)->mpls[k][2] = (uint8_t)lse;
    }
    for (int d = 0; d < 3; d++) {
        struct flow_stats *st = &flow_stats(f)[d];
        st->mean_ps = 150.25 + d + i;
        st->m2_ps = 1234.5 * (d + 1);
        st->mean_piat = 333.125 + d;
        st->m2_piat = 99.75 * (d + 2);
        st->min_piat = (uint64_t)d + 1;
        st->max_piat = 4000 + (uint64_t)d;
        st->min_ps = (uint16_t)(40 + d);
        st->max_ps = (uint16_t)(1500 - d);
        for (int k = 0; k < 8; k++)
            st->flag_count[k] = (uint32_t)(k + 10 * d + i);
    }
    f->splt_len = (uint16_t)(3 + i % 4);
    uint32_t *piat = (uint32_t *)(void *)(f->ext + feat.splt_off);
    uint16_t *ps = (uint16_t *)(void *)(f->ext + feat.splt_off + SPLT_N * 4);
    uint8_t *dir = f->ext + feat.splt_off + SPLT_N * 6;
    for (unsigned k = 0; k < SPLT_N; k++) {
        piat[k] = k * 7 + i;
        ps[k] = (uint16_t)(60 + k * 100);
        dir[k] = (uint8_t)(k % 2);
    }
    struct flow_l7 *l = l7(s);
    l->master_id = 91;
    l->app_id = (uint16_t)(i % 2 ? 124 : 0);
    l->category_id = 5;
    l->guessed = (uint8_t)(i % 2);
    l->confidence = 6;
    snprintf(l->application_name, sizeof(l->application_name), "%s",
             i % 2 ? "TLS.YouTube" : "TLS");
    snprintf(l->category_name, sizeof(l->category_name), "Media");
    snprintf(l->requested_server_name, sizeof(l->requested_server_name), "www.example.%u", i);
    snprintf(l->client_fingerprint, sizeof(l->client_fingerprint),
             "0123456789abcdef0123456789abcde%x", i % 16);
    snprintf(l->server_fingerprint, sizeof(l->server_fingerprint), "fedcba9876543210");
    snprintf(l->user_agent, sizeof(l->user_agent), "curl/7.88 \"quoted\" %u", i);
    snprintf(l->content_type, sizeof(l->content_type), "text/html");
}

/* ------------------------------------------------------------------ capture sink */

#define MAX_MSGS 512

struct capture {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t n_msgs;
    size_t off[MAX_MSGS];
    uint32_t records[MAX_MSGS];
    uint32_t flows[MAX_MSGS];
};

static void
capture_sink(void *ctx, const uint8_t *msg, size_t len, const struct exp_msg_info *info)
{
    struct capture *c = ctx;

    assert_true(c->n_msgs < MAX_MSGS);
    if (c->len + len > c->cap) {
        c->cap = (c->len + len) * 2;
        c->buf = realloc(c->buf, c->cap);
        assert_non_null(c->buf);
    }
    c->off[c->n_msgs] = c->len;
    c->records[c->n_msgs] = info->records;
    c->flows[c->n_msgs] = info->flows;
    c->n_msgs++;
    memcpy(c->buf + c->len, msg, len);
    c->len += len;
}

static const char *const app_names[] = {"Unknown", "FTP_CONTROL", "POP3", "SMTP", "IMAP", "DNS",
                                        "IPP", "HTTP"};

static const char *
test_app_name(void *ctx, uint16_t id)
{
    (void)ctx;
    return id < sizeof(app_names) / sizeof(app_names[0]) ? app_names[id] : "Other";
}

static struct exp_enc_params
params(struct capture *c, bool full)
{
    struct exp_enc_params p = {
        .observation_domain = 7,
        .pen = 32473,
        .max_msg = 1400,
        .layout.tunnel_id = true,
        .layout.router = true,
        .layout.router_off = router_off(),
        .export_time_s = EXPORT_TIME,
        .sink = capture_sink,
        .sink_ctx = c,
    };
    if (full) {
        p.layout = full_layout();
        p.app_name = test_app_name;
        p.n_apps = 8;
    }
    return p;
}

static struct exp_opt_data
opt_data(void)
{
    struct exp_opt_data od = {
        .now_ms = (uint64_t)EXPORT_TIME * 1000,
        .start_ms = (uint64_t)EXPORT_TIME * 1000 - 60000,
        .messages = 11,
        .flow_records = 22,
        .octets = 3333,
        .not_sent_flows = 4,
        .not_sent_packets = 55,
        .not_sent_octets = 6666,
        .ignored_packets = 77,
        .ignored_octets = 8888,
        .first_obs_ms = T0,
        .last_obs_ms = T0 + 9000,
        .smp_observed = 12345,
        .smp_selected = 1235,
    };
    return od;
}

/* One session: preamble, n flows, the options, flush. */
static void
encode_run(struct capture *c, struct exp_enc_params p, unsigned n)
{
    char err[256];

    assert_ptr_equal(p.sink_ctx, c);
    void *e = ipfix_encoder_ops.open(&p, err, sizeof(err));
    struct exp_opt_data od = opt_data();
    struct slot s;
    if (e == NULL)
        fail_msg("open: %s", err);
    assert_int_equal(ipfix_encoder_ops.session(e, &od), 0);
    for (unsigned i = 0; i < n; i++) {
        make_flow(&s, i);
        assert_int_equal(ipfix_encoder_ops.flow(e, fl(&s)), 0);
    }
    assert_int_equal(ipfix_encoder_ops.options(e, &od), 0);
    assert_int_equal(ipfix_encoder_ops.flush(e), 0);
    assert_false(ipfix_encoder_ops.partial(e));
    ipfix_encoder_ops.free(e);
}

static uint16_t
be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * RFC 7011 checks of every message: header, length, sequence = data records before it, Sets
 * that tile the message with at least one record, template ids >= 256; and nfdump's needs:
 * options templates one per message, options data never in a message with flows before the
 * first flow. Returns the flow records counted from the sink.
 */
static uint32_t
check_messages(const struct capture *c, uint32_t max_msg)
{
    uint32_t seq = 0, flows = 0;
    bool seen_flow = false;

    for (size_t m = 0; m < c->n_msgs; m++) {
        const uint8_t *p = c->buf + c->off[m];
        size_t len = (m + 1 < c->n_msgs ? c->off[m + 1] : c->len) - c->off[m];
        int opt_templates = 0, flow_sets = 0;
        bool opt_before_flows = false;

        assert_int_equal(be16(p), 10);
        assert_int_equal(be16(p + 2), len);
        assert_true(len <= max_msg);
        assert_int_equal(be32(p + 4), EXPORT_TIME);
        assert_int_equal(be32(p + 8), seq);
        assert_int_equal(be32(p + 12), 7);
        for (size_t off = 16; off < len;) {
            assert_true(off + 4 <= len);
            uint16_t id = be16(p + off), slen = be16(p + off + 2);
            assert_true(slen > 4); /* no empty Set (RFC 7011 3.3.1) */
            assert_true(off + slen <= len);
            if (id == 3)
                opt_templates++;
            else if (id < 256)
                assert_int_equal(id, 2);
            if (id == IPFIX_TID_V4 || id == IPFIX_TID_V6)
                flow_sets++;
            else if (id >= 256 && !seen_flow && flow_sets == 0)
                opt_before_flows = true;
            off += slen;
        }
        /* nfdump 1.7.1 reads one options template per Set; one per message is what we do. */
        assert_true(opt_templates <= 1);
        if (opt_templates == 1)
            assert_int_equal(len, 16 + be16(p + 18));
        /* Options data sent before the first flow never shares a message with flows (nfdump
         * 1.7.1 counts only flow records in its sequence check). */
        if (opt_before_flows)
            assert_int_equal(flow_sets, 0);
        seen_flow |= flow_sets > 0;
        seq += c->records[m];
        flows += c->flows[m];
    }
    return flows;
}

/* ------------------------------------------------------------------ golden */

static void
golden(const struct capture *c, const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s.bin", IPFIX_DATA_DIR, name);
    if (getenv("BLESS") != NULL && strcmp(getenv("BLESS"), "1") == 0) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(c->buf, 1, c->len, f), c->len);
        assert_int_equal(fclose(f), 0);
        return;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("%s: cannot open (BLESS=1 creates it)", path);
    uint8_t *want = malloc(c->len + 1);
    size_t n = fread(want, 1, c->len + 1, f);
    fclose(f);
    if (n != c->len || memcmp(want, c->buf, c->len) != 0) {
        size_t i = 0;
        while (i < n && i < c->len && want[i] == c->buf[i])
            i++;
        free(want);
        fail_msg("%s: %zu bytes, encoder made %zu; first difference at %zu", path, n, c->len, i);
    }
    free(want);
}

static void
test_golden_basic(void **state)
{
    struct capture c = {0};
    (void)state;

    encode_run(&c, params(&c, false), 4);
    assert_int_equal(check_messages(&c, 1400), 4);
    golden(&c, "ipfix_basic");
    free(c.buf);
}

static void
test_golden_full(void **state)
{
    struct capture c = {0};
    (void)state;

    encode_run(&c, params(&c, true), 6);
    assert_int_equal(check_messages(&c, 1400), 6);
    golden(&c, "ipfix_full");
    free(c.buf);
}

/* ------------------------------------------------------------------ decode back */

struct decoded {
    struct ipfix_rec rec[16];
    bool v6[16];
    uint8_t splt_dir[16][SPLT_N];
    uint16_t splt_ps[16][SPLT_N];
    uint32_t splt_piat[16][SPLT_N];
    uint16_t splt_n[16];
    char str[16][8][300];
    size_t n;
    size_t app_records;
    size_t type_records;
};

static void
copy_str(char *dst, const fbVarfield_t *v)
{
    size_t n = v->len < 299 ? v->len : 299;
    if (n > 0) /* a field the template lacks: no buffer */
        memcpy(dst, v->buf, n);
    dst[n] = '\0';
}

/* Reads the messages back with libfixbuf's collecting side into struct ipfix_rec. */
static void
decode(const struct capture *c, struct decoded *d)
{
    char err[256];
    GError *gerr = NULL;
    fbInfoModel_t *model = ipfix_model_new(32473, err, sizeof(err));
    fbSession_t *s = fbSessionAlloc(model);
    fbTemplate_t *t = ipfix_rec_template(model, err, sizeof(err));
    FILE *fp = fmemopen(c->buf, c->len, "rb");

    static fbInfoElementSpec_t opt_spec[] = {
        {"observationDomainId", 4, 0}, {"informationElementId", 2, 0}, {"paddingOctets", 2, 0},
        FB_IESPEC_NULL};
    fbTemplate_t *ot = fbTemplateAlloc(model);

    assert_non_null(t);
    assert_true(fbSessionAddTemplate(s, TRUE, IPFIX_TID_REC, t, &gerr));
    assert_true(fbTemplateAppendSpecArray(ot, opt_spec, 0, &gerr));
    assert_true(fbSessionAddTemplate(s, TRUE, OPT_TID, ot, &gerr));
    fbCollector_t *col = fbCollectorAllocFP(NULL, fp);
    fBuf_t *fb = fBufAllocForCollection(s, col);
    memset(d, 0, sizeof(*d));
    for (;;) {
        uint16_t tid;
        fbTemplate_t *et = fBufNextCollectionTemplate(fb, &tid, &gerr);
        if (et == NULL) {
            assert_true(g_error_matches(gerr, FB_ERROR_DOMAIN, FB_ERROR_EOF));
            g_clear_error(&gerr);
            break;
        }
        if (tid != IPFIX_TID_V4 && tid != IPFIX_TID_V6) {
            struct {
                uint32_t domain;
                uint16_t ie_id;
                uint8_t pad[2];
            } o;
            size_t len = sizeof(o);
            assert_true(fbTemplateGetOptionsScope(et) > 0);
            assert_true(fBufSetInternalTemplate(fb, OPT_TID, &gerr));
            assert_true(fBufNext(fb, (uint8_t *)&o, &len, &gerr));
            d->app_records += tid == IPFIX_TID_APPMAP || tid == IPFIX_TID_APPMAP2;
            d->type_records += tid == IPFIX_TID_TYPEINFO;
            continue;
        }
        assert_true(d->n < 16);
        struct ipfix_rec *r = &d->rec[d->n];
        size_t len = sizeof(*r);
        memset(r, 0, sizeof(*r));
        assert_true(fBufSetInternalTemplate(fb, IPFIX_TID_REC, &gerr));
        if (!fBufNext(fb, (uint8_t *)r, &len, &gerr))
            fail_msg("fBufNext: %s", gerr->message);
        d->v6[d->n] = tid == IPFIX_TID_V6;
        d->splt_n[d->n] = r->splt_ps.dataPtr != NULL ? r->splt_ps.numElements : 0;
        for (uint16_t k = 0; k < d->splt_n[d->n] && k < SPLT_N; k++) {
          d->splt_dir[d->n][k] = r->splt_direction.dataPtr[k];
          d->splt_ps[d->n][k] = ((uint16_t *)(void *)r->splt_ps.dataPtr)[k];
          d->splt_piat[d->n][k] =
              ((uint32_t *)(void *)r->splt_piat_ms.dataPtr)[k];
        }
        const fbVarfield_t *vs[8] = {
            &r->application_name,      &r->application_category_name,
            &r->requested_server_name, &r->client_fingerprint,
            &r->server_fingerprint,    &r->user_agent,
            &r->content_type,          &r->application_id};
        for (int k = 0; k < 8; k++)
          copy_str(d->str[d->n][k], vs[k]);
        fbBasicListClear(&r->splt_direction);
        fbBasicListClear(&r->splt_ps);
        fbBasicListClear(&r->splt_piat_ms);
        d->n++;
    }
    fBufFree(fb);
    fclose(fp);
    fbInfoModelFree(model);
}

static void
test_decode_values(void **state)
{
    struct capture c = {0};
    struct decoded *d = calloc(1, sizeof(*d));
    (void)state;

    encode_run(&c, params(&c, true), 6);
    decode(&c, d);
    assert_int_equal(d->n, 6);
    assert_int_equal(d->app_records, 8);
    assert_true(d->type_records >= 30);
    for (unsigned i = 0; i < 6; i++) {
        struct slot s;
        make_flow(&s, i);
        const struct flow *f = fl(&s);
        const struct ipfix_rec *r = &d->rec[i];
        assert_int_equal(d->v6[i], i % 2);
        assert_int_equal(r->id, f->id);
        assert_int_equal(r->bidirectional_first_seen_ms, f->dir[FLOW_BIDI].first_seen_ms);
        assert_int_equal(r->bidirectional_last_seen_ms, f->dir[FLOW_BIDI].last_seen_ms);
        assert_int_equal(r->src2dst_last_seen_ms, f->dir[FLOW_S2D].last_seen_ms);
        assert_int_equal(r->dst2src_first_seen_ms, f->dir[FLOW_D2S].first_seen_ms);
        assert_int_equal(r->dst2src_last_seen_ms, f->dir[FLOW_D2S].last_seen_ms);
        assert_int_equal(r->src2dst_packets, f->dir[FLOW_S2D].packets);
        assert_int_equal(r->src2dst_bytes, f->dir[FLOW_S2D].bytes);
        assert_int_equal(r->dst2src_packets, f->dir[FLOW_D2S].packets);
        assert_int_equal(r->dst2src_bytes, f->dir[FLOW_D2S].bytes);
        assert_int_equal(r->bidirectional_duration_ms, 5000);
        if (i % 2) {
            assert_memory_equal(r->src_ip6, flow_src_ip(f), 16);
            assert_memory_equal(r->dst_ip6, flow_dst_ip(f), 16);
        } else {
            assert_int_equal(r->src_ip, be32(flow_src_ip(f)));
            assert_int_equal(r->dst_ip, be32(flow_dst_ip(f)));
        }
        assert_int_equal(r->src_port, flow_src_port(f));
        assert_int_equal(r->dst_port, flow_dst_port(f));
        assert_int_equal(r->protocol, f->key.protocol);
        assert_int_equal(r->ip_version, f->key.ip_version);
        assert_int_equal(r->vlan_id, f->key.vlan_id);
        assert_int_equal(r->tunnel_id, f->key.tunnel_id);
        assert_int_equal(r->expiration_id, f->expiration_id);
        assert_int_equal(r->flow_end_reason, f->end_reason);
        assert_int_equal(r->biflow_direction, 1);
        assert_int_equal(r->tcp_flags, 0x1b);
        assert_int_equal(r->src2dst_tcp_flags, 0x1b);
        assert_int_equal(r->dst2src_tcp_flags, 0x12);
        assert_memory_equal(r->src_mac, f->src_mac, 6);
        assert_memory_equal(r->dst_mac, f->dst_mac, 6);
        /* statistics: doubles bit for bit */
        assert_true(r->bidirectional_mean_ps == flow_stats(f)[FLOW_BIDI].mean_ps);
        assert_true(r->dst2src_mean_ps == flow_stats(f)[FLOW_D2S].mean_ps);
        assert_true(r->src2dst_stddev_ps == feat_stddev_ps(&flow_stats(f)[FLOW_S2D], f->dir[FLOW_S2D].packets));
        assert_true(r->dst2src_stddev_piat_ms ==
                    feat_stddev_piat(&flow_stats(f)[FLOW_D2S], f->dir[FLOW_D2S].packets));
        assert_true(r->bidirectional_mean_piat_ms == flow_stats(f)[FLOW_BIDI].mean_piat);
        assert_int_equal(r->bidirectional_min_piat_ms, flow_stats(f)[FLOW_BIDI].min_piat);
        assert_int_equal(r->dst2src_max_piat_ms, flow_stats(f)[FLOW_D2S].max_piat);
        assert_int_equal(r->src2dst_min_ps, flow_stats(f)[FLOW_S2D].min_ps);
        assert_int_equal(r->dst2src_max_ps, flow_stats(f)[FLOW_D2S].max_ps);
        assert_int_equal(r->src2dst_syn_packets, flow_stats(f)[FLOW_S2D].flag_count[0]);
        assert_int_equal(r->dst2src_cwr_packets, flow_stats(f)[FLOW_D2S].flag_count[1]);
        assert_int_equal(r->src2dst_ece_packets, flow_stats(f)[FLOW_S2D].flag_count[2]);
        assert_int_equal(r->dst2src_fin_packets, flow_stats(f)[FLOW_D2S].flag_count[7]);
        /* SPLT: only the packets seen */
        assert_int_equal(d->splt_n[i], f->splt_len);
        for (unsigned k = 0; k < f->splt_len; k++) {
            assert_int_equal(d->splt_piat[i][k], k * 7 + i);
            assert_int_equal(d->splt_ps[i][k], 60 + k * 100);
            assert_int_equal(d->splt_dir[i][k], k % 2);
        }
        /* L7 */
        assert_string_equal(d->str[i][0], l7(&s)->application_name);
        assert_string_equal(d->str[i][1], "Media");
        assert_string_equal(d->str[i][2], l7(&s)->requested_server_name);
        assert_string_equal(d->str[i][3], l7(&s)->client_fingerprint);
        assert_string_equal(d->str[i][5], l7(&s)->user_agent);
        /* applicationId: 20 | PEN 32473 | selector (app id, or the master id) */
        const uint8_t *id = (const uint8_t *)d->str[i][7];
        uint16_t sel = i % 2 ? 124 : 91;
        uint8_t want[IPFIX_APP_ID_LEN] = {20, 0, 0, 0x7e, 0xd9, (uint8_t)(sel >> 8), (uint8_t)sel};
        assert_memory_equal(id, want, IPFIX_APP_ID_LEN);
        assert_int_equal(r->master_protocol_id, 91);
        assert_int_equal(r->application_is_guessed, i % 2);
        assert_int_equal(r->application_confidence, 6);
    }
    free(d);
    free(c.buf);
}

/* A new session starts its sequence numbers again and sends every template first. */
/*
 * --sampling: the options templates and records the encoder sends (one template per message,
 * libfixbuf's encoding) are, Set for Set, what probe/sampling_export.c writes by hand for the
 * same values (the layouts docs/sampling.md specifies and nfdump 1.7.1 was measured to read),
 * in both modes, at session start and with the final options; --sampling-upscale multiplies
 * the flows' packet and octet counters by N and nothing else.
 */
static const uint8_t *
find_set(const struct capture *c, uint16_t set_id, uint16_t tid, size_t nth, uint16_t *len)
{
    for (size_t m = 0; m < c->n_msgs; m++) {
        const uint8_t *msg = c->buf + c->off[m];
        size_t mlen = be16(msg + 2);
        for (size_t off = 16; off + 4 <= mlen; off += be16(msg + off + 2)) {
            const uint8_t *set = msg + off;
            if (be16(set + 2) < 4)
                break;
            if (be16(set) == set_id && (set_id >= 256 || be16(set + 4) == tid) && nth-- == 0) {
                *len = be16(set + 2);
                return set;
            }
        }
    }
    return NULL;
}

/* Two Sets hold the same records: equal up to the optional zero padding (RFC 7011 3.3.1). */
static void
assert_same_set(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    assert_true(alen - n < 4 && blen - n < 4);
    assert_memory_equal(a, b, 2);
    assert_memory_equal(a + 4, b + 4, n - 4);
    for (size_t i = n; i < alen; i++)
        assert_int_equal(a[i], 0);
    for (size_t i = n; i < blen; i++)
        assert_int_equal(b[i], 0);
}

static void
test_sampling_options(void **state)
{
    (void)state;
    for (int mode = SMP_COUNT; mode <= SMP_RANDOM; mode++) {
        struct capture c = {0};
        struct exp_enc_params p = params(&c, false);
        struct exp_opt_data od = opt_data();
        smp_announce_init(&p.sampling, (enum smp_mode)mode, 10, false);
        encode_run(&c, p, 3);
        check_messages(&c, 1400);
        struct smpx_report r = {.mode = (enum smp_mode)mode, .interval = 10, .selector_id = 1,
                                .domain = 7, .observed = od.smp_observed,
                                .selected = od.smp_selected};
        uint8_t want[256];
        size_t n = smpx_ipfix_templates(&r, IPFIX_TID_SAMPLING, IPFIX_TID_SAMPLING_NFDUMP, want,
                                        sizeof(want));
        assert_true(n > 0);
        uint16_t len, first = be16(want + 2);
        const uint8_t *set = find_set(&c, 3, IPFIX_TID_SAMPLING, 0, &len);
        assert_non_null(set);
        assert_same_set(set, len, want, first);
        set = find_set(&c, 3, IPFIX_TID_SAMPLING_NFDUMP, 0, &len);
        assert_non_null(set);
        assert_same_set(set, len, want + first, n - first);
        n = smpx_ipfix_data(&r, IPFIX_TID_SAMPLING, IPFIX_TID_SAMPLING_NFDUMP, want, sizeof(want));
        assert_true(n > 0);
        first = be16(want + 2);
        for (size_t k = 0; k < 2; k++) { /* the session's and the final options */
            set = find_set(&c, IPFIX_TID_SAMPLING, 0, k, &len);
            assert_non_null(set);
            assert_same_set(set, len, want, first);
            set = find_set(&c, IPFIX_TID_SAMPLING_NFDUMP, 0, k, &len);
            assert_non_null(set);
            assert_same_set(set, len, want + first, n - first);
        }
        free(c.buf);
    }
    /* without --sampling: none of it */
    struct capture c = {0};
    uint16_t len;
    encode_run(&c, params(&c, false), 3);
    assert_null(find_set(&c, 3, IPFIX_TID_SAMPLING, 0, &len));
    assert_null(find_set(&c, IPFIX_TID_SAMPLING_NFDUMP, 0, 0, &len));
    static struct decoded plain, up;
    decode(&c, &plain);
    free(c.buf);
    /* --sampling-upscale */
    memset(&c, 0, sizeof(c));
    struct exp_enc_params p = params(&c, false);
    smp_announce_init(&p.sampling, SMP_COUNT, 10, true);
    encode_run(&c, p, 3);
    decode(&c, &up);
    free(c.buf);
    assert_int_equal(up.n, 3);
    assert_int_equal(plain.n, 3);
    for (size_t i = 0; i < 3; i++) {
        struct ipfix_rec a = plain.rec[i], b = up.rec[i];
        assert_true(a.src2dst_packets > 0 && a.dst2src_bytes > 0);
        assert_int_equal(b.src2dst_packets, 10 * a.src2dst_packets);
        assert_int_equal(b.src2dst_bytes, 10 * a.src2dst_bytes);
        assert_int_equal(b.dst2src_packets, 10 * a.dst2src_packets);
        assert_int_equal(b.dst2src_bytes, 10 * a.dst2src_bytes);
        assert_int_equal(b.src2dst_ip_bytes, 10 * a.src2dst_ip_bytes);
        assert_int_equal(b.dst2src_l2_bytes, 10 * a.dst2src_l2_bytes);
        b.src2dst_packets = a.src2dst_packets;
        b.src2dst_bytes = a.src2dst_bytes;
        b.dst2src_packets = a.dst2src_packets;
        b.dst2src_bytes = a.dst2src_bytes;
        assert_int_equal(b.bidirectional_first_seen_ms, a.bidirectional_first_seen_ms);
        assert_int_equal(b.src_port, a.src_port);
    }
}

/* The sampling options go out again with every refresh (UDP) and new session (TCP/TLS
 * reconnect), and their counters with every options call, as they grow. */
static void
test_sampling_resend(void **state)
{
    (void)state;
    struct capture c = {0};
    struct exp_enc_params p = params(&c, false);
    struct exp_opt_data od = opt_data();
    struct exp_msg_info lost;
    struct slot s;
    char err[256];

    smp_announce_init(&p.sampling, SMP_COUNT, 10, false);
    void *e = ipfix_encoder_ops.open(&p, err, sizeof(err));
    if (e == NULL)
        fail_msg("open: %s", err);
    const uint64_t obs[4] = {100, 2000, 30000, 400000};
    for (int k = 0; k < 4; k++) {
        od.smp_observed = obs[k];
        od.smp_selected = obs[k] / 10;
        if (k == 0)
            assert_int_equal(ipfix_encoder_ops.session(e, &od), 0);
        else if (k == 1)
            assert_int_equal(ipfix_encoder_ops.refresh(e, &od), 0);
        else if (k == 2)
            assert_int_equal(ipfix_encoder_ops.options(e, &od), 0);
        else {
            ipfix_encoder_ops.discard(e, &lost);
            assert_int_equal(ipfix_encoder_ops.session(e, &od), 0);
        }
        make_flow(&s, (unsigned)k);
        assert_int_equal(ipfix_encoder_ops.flow(e, fl(&s)), 0);
        assert_int_equal(ipfix_encoder_ops.flush(e), 0);
    }
    ipfix_encoder_ops.free(e);
    uint16_t len;
    for (size_t k = 0; k < 3; k++) { /* session, refresh, new session */
        assert_non_null(find_set(&c, 3, IPFIX_TID_SAMPLING, k, &len));
        assert_non_null(find_set(&c, 3, IPFIX_TID_SAMPLING_NFDUMP, k, &len));
    }
    assert_null(find_set(&c, 3, IPFIX_TID_SAMPLING, 3, &len));
    for (size_t k = 0; k < 4; k++) {
        const uint8_t *set = find_set(&c, IPFIX_TID_SAMPLING, 0, k, &len);
        assert_non_null(set);
        /* Set header, selectorId 8, algorithm 2, 305 and 306 4 each: then 318, 319 */
        const uint8_t *v = set + 4 + 8 + 2 + 4 + 4;
        assert_int_equal((uint64_t)be32(v) << 32 | be32(v + 4), obs[k]);
        assert_int_equal((uint64_t)be32(v + 8) << 32 | be32(v + 12), obs[k] / 10);
        assert_non_null(find_set(&c, IPFIX_TID_SAMPLING_NFDUMP, 0, k, &len));
    }
    free(c.buf);
}

static void
test_session_restart(void **state)
{
    struct capture c = {0};
    struct exp_enc_params p = params(&c, false);
    char err[256];
    void *e = ipfix_encoder_ops.open(&p, err, sizeof(err));
    struct exp_opt_data od = opt_data();
    struct slot s;
    struct exp_msg_info lost;
    (void)state;

    assert_non_null(e);
    assert_int_equal(ipfix_encoder_ops.session(e, &od), 0);
    for (unsigned i = 0; i < 3; i++) {
        make_flow(&s, i);
        assert_int_equal(ipfix_encoder_ops.flow(e, fl(&s)), 0);
    }
    assert_true(ipfix_encoder_ops.partial(e));
    /* the session dies with a message half filled: its content is reported, not sent */
    ipfix_encoder_ops.discard(e, &lost);
    assert_int_equal(lost.flows, 3);
    assert_int_equal(lost.packets, 10 + 11 + 12);
    assert_int_equal(lost.octets, 1500 + 1501 + 1502);
    assert_false(ipfix_encoder_ops.partial(e));
    assert_int_equal(ipfix_encoder_ops.flow(e, fl(&s)), -ENOTCONN);
    size_t first_session_msgs = c.n_msgs;
    assert_int_equal(ipfix_encoder_ops.session(e, &od), 0);
    make_flow(&s, 3);
    assert_int_equal(ipfix_encoder_ops.flow(e, fl(&s)), 0);
    assert_int_equal(ipfix_encoder_ops.flush(e), 0);
    /* second session: sequence 0 again, options templates first, data templates before data */
    const uint8_t *m = c.buf + c.off[first_session_msgs];
    assert_int_equal(be32(m + 8), 0);
    assert_int_equal(be16(m + 16), 3);
    bool templates_seen = false;
    for (size_t k = first_session_msgs; k < c.n_msgs; k++) {
        const uint8_t *q = c.buf + c.off[k];
        templates_seen |= be16(q + 16) == 2;
        if (be16(q + 16) == IPFIX_TID_V4 || be16(q + 16) == IPFIX_TID_V6)
            assert_true(templates_seen);
    }
    /* UDP refresh: the same session, sequence numbers go on */
    size_t before = c.n_msgs;
    uint32_t seq = 0;
    for (size_t k = first_session_msgs; k < c.n_msgs; k++)
        seq += c.records[k];
    assert_int_equal(ipfix_encoder_ops.refresh(e, &od), 0);
    assert_int_equal(ipfix_encoder_ops.flush(e), 0);
    assert_true(c.n_msgs > before);
    assert_int_equal(be32(c.buf + c.off[before] + 8), seq);
    ipfix_encoder_ops.free(e);
    free(c.buf);
}

/* A record larger than a message is refused (counted by the caller), the session goes on. */
static void
test_record_too_large(void **state)
{
    struct capture c = {0};
    struct exp_enc_params p = params(&c, true);
    char err[256];
    struct slot s;
    (void)state;

    p.max_msg = 300;
    assert_null(ipfix_encoder_ops.open(&p, err, sizeof(err)));
    assert_non_null(strstr(err, "message size 300 is too small"));
    p.max_msg = 900;
    void *e = ipfix_encoder_ops.open(&p, err, sizeof(err));
    struct exp_opt_data od = opt_data();
    assert_non_null(e);
    assert_int_equal(ipfix_encoder_ops.session(e, &od), 0);
    make_flow(&s, 1);
    memset(l7(&s)->user_agent, 'x', sizeof(l7(&s)->user_agent) - 1);
    assert_int_equal(ipfix_encoder_ops.flow(e, fl(&s)), -EMSGSIZE);
    make_flow(&s, 2);
    assert_int_equal(ipfix_encoder_ops.flow(e, fl(&s)), 0);
    assert_int_equal(ipfix_encoder_ops.flush(e), 0);
    check_messages(&c, 900); /* no empty Set left behind by the refused record */
    ipfix_encoder_ops.free(e);
    free(c.buf);
}

/* ------------------------------------------------------------------ template files */

static char *
write_tmp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/nfprobe-tmpl.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void
test_template_file_errors(void **state)
{
    struct capture c = {0};
    struct exp_enc_params p = params(&c, false);
    char err[512];
    (void)state;

    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"flowId\nnoSuchElement\n", ":2: 'noSuchElement' is not an element nfprobe exports"},
        {"flowId\n  flowId # again\n", ":2: 'flowId' is listed twice"},
        {"# only comments\n\n", "no element listed"},
        {"flowId octetDeltaCount\n", ":1: one element name per line"},
        {"paddingOctets\n", "is not an element nfprobe exports"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = write_tmp(cases[i].text);
        p.template_file = path;
        err[0] = '\0';
        assert_null(ipfix_encoder_ops.open(&p, err, sizeof(err)));
        if (strstr(err, cases[i].msg) == NULL || strstr(err, path) == NULL)
            fail_msg("case %zu: '%s'", i, err);
        unlink(path);
    }
    p.template_file = "/nonexistent/x.tmpl";
    assert_null(ipfix_encoder_ops.open(&p, err, sizeof(err)));
    assert_non_null(strstr(err, "--ipfix-template /nonexistent/x.tmpl"));
}

/* A chosen field list makes templates of exactly those fields, in that order. */
static void
test_template_file_subset(void **state)
{
    struct capture c = {0};
    struct exp_enc_params p = params(&c, true);
    char *path = write_tmp("# mine\nsourceIPv4Address\ndestinationIPv4Address\n"
                           "sourceIPv6Address\nflowStartMilliseconds  # start\n"
                           "octetDeltaCount\nreverseOctetDeltaCount\napplicationName\n");
    (void)state;

    p.template_file = path;
    encode_run(&c, p, 2);
    unlink(path);
    /* find the data template set (id 2): 256 with 5 fields, 257 with 4 */
    int found = 0;
    for (size_t m = 0; m < c.n_msgs; m++) {
        const uint8_t *q = c.buf + c.off[m];
        if (be16(q + 16) != 2)
            continue;
        size_t off = 20, end = 16 + be16(q + 18);
        while (off < end) {
            uint16_t tid = be16(q + off), n = be16(q + off + 2);
            const uint16_t want_v4[] = {8, 12, 152, 1, 1, 96};
            const uint16_t want_v6[] = {27, 152, 1, 1, 96};
            const uint16_t *want = tid == IPFIX_TID_V4 ? want_v4 : want_v6;
            assert_int_equal(n, tid == IPFIX_TID_V4 ? 6 : 5);
            off += 4;
            for (uint16_t k = 0; k < n; k++) {
                uint16_t id = be16(q + off);
                assert_int_equal(id & 0x7fff, want[k]);
                off += id & 0x8000 ? 8 : 4;
            }
            found++;
        }
    }
    assert_int_equal(found, 2);
    free(c.buf);
}

/* templates/default.tmpl (generated from the catalogue) gives byte for byte the built-in default. */
static void
test_default_tmpl_file(void **state)
{
    struct capture a = {0}, b = {0};
    struct exp_enc_params pb = params(&b, true);
    (void)state;

    encode_run(&a, params(&a, true), 5);
    pb.template_file = IPFIX_TEMPLATES_DIR "/default.tmpl";
    pb.ntop_compat = false;
    encode_run(&b, pb, 5);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.buf, b.buf, a.len);
    free(a.buf);
    free(b.buf);
}

/* --ntop-compat adds ntop's elements; none of them without it. */
static void
test_ntop_compat(void **state)
{
    struct capture a = {0}, b = {0};
    struct exp_enc_params pb = params(&b, true);
    (void)state;

    encode_run(&a, params(&a, true), 2);
    pb.ntop_compat = true;
    encode_run(&b, pb, 2);
    const uint8_t ntop[4] = {0, 0, 0x8b, 0x30}; /* PEN 35632 */
    assert_null(memmem(a.buf, a.len, ntop, 4));
    assert_non_null(memmem(b.buf, b.len, ntop, 4));
    free(a.buf);
    free(b.buf);
}

static void
test_model_pen(void **state)
{
    char err[256];
    (void)state;

    assert_null(ipfix_model_new(29305, err, sizeof(err)));
    assert_non_null(strstr(err, "--pen 29305"));
    assert_null(ipfix_model_new(35632, err, sizeof(err)));
    fbInfoModel_t *m = ipfix_model_new(4242, err, sizeof(err));
    assert_non_null(m);
    const fbInfoElement_t *ie = fbInfoModelGetElementByName(m, "reverseNfsMeanPacketSize");
    assert_non_null(ie);
    assert_int_equal(ie->ent, 4242);
    assert_int_equal(ie->num, 4 | 0x4000);
    ie = fbInfoModelGetElementByName(m, "L7_PROTO");
    assert_int_equal(ie->ent, 35632);
    assert_int_equal(ie->num, 118);
    fbInfoModelFree(m);
}

/* ------------------------------------------------------------------ exporter */

static void
test_parse_collector(void **state)
{
    char s[16], t[8], h[256], p[8], err[256];
    (void)state;

    static const struct {
        const char *url;
        const char *scheme, *transport, *host, *port; /* NULL host: an error */
    } cases[] = {
        {"ipfix+udp://127.0.0.1:4739", "ipfix", "udp", "127.0.0.1", "4739"},
        {"ipfix+tcp://collector.example", "ipfix", "tcp", "collector.example", "4739"},
        {"ipfix+tls://[::1]", "ipfix", "tls", "::1", "4740"},
        {"ipfix+tls://[2001:db8::1]:9995/", "ipfix", "tls", "2001:db8::1", "9995"},
        {"v9+udp://10.1.2.3", "v9", "udp", "10.1.2.3", "2055"},
        {"v5+udp://10.1.2.3", "v5", "udp", "10.1.2.3", "2055"},
        {"v5+udp://10.1.2.3:9995?engine-type=1&engine-id=7", "v5", "udp", "10.1.2.3", "9995"},
        {"ipfix+udp://[::1]:4739?uniflow&domain=42&exporter=::1", "ipfix", "udp", "::1", "4739"},
        {"v9+udp://127.0.0.1/?uniflow=no&exporter=127.0.0.2", "v9", "udp", "127.0.0.1", "2055"},
        {"v5+tcp://10.1.2.3", NULL, NULL, NULL, NULL},
        {"v5+tls://10.1.2.3", NULL, NULL, NULL, NULL},
        {"v9+udp://10.1.2.3?engine-id=1", NULL, NULL, NULL, NULL},
        {"v5+udp://10.1.2.3?engine-id=256", NULL, NULL, NULL, NULL},
        {"ipfix+udp://10.1.2.3?domain=4294967296", NULL, NULL, NULL, NULL},
        {"ipfix+udp://10.1.2.3?domain=", NULL, NULL, NULL, NULL},
        {"ipfix+udp://10.1.2.3?exporter=host.example", NULL, NULL, NULL, NULL},
        {"ipfix+udp://10.1.2.3?uniflow=maybe", NULL, NULL, NULL, NULL},
        {"ipfix+udp://10.1.2.3?sampling=10", NULL, NULL, NULL, NULL},
        {"ipfix+sctp://127.0.0.1:4739", NULL, NULL, NULL, NULL},
        {"netflow+udp://127.0.0.1", NULL, NULL, NULL, NULL},
        {"ipfix://127.0.0.1", NULL, NULL, NULL, NULL},
        {"127.0.0.1:4739", NULL, NULL, NULL, NULL},
        {"ipfix+udp://::1:4739", NULL, NULL, NULL, NULL},
        {"ipfix+udp://[::1:4739", NULL, NULL, NULL, NULL},
        {"ipfix+udp://127.0.0.1:0", NULL, NULL, NULL, NULL},
        {"ipfix+udp://127.0.0.1:65536", NULL, NULL, NULL, NULL},
        {"ipfix+udp://127.0.0.1:47x", NULL, NULL, NULL, NULL},
        {"ipfix+udp://:4739", NULL, NULL, NULL, NULL},
        {"ipfix+udp://host/path", NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = exp_parse_collector(cases[i].url, s, sizeof(s), t, sizeof(t), h, sizeof(h), p,
                                     sizeof(p), err, sizeof(err));
        if (cases[i].host == NULL) {
            if (rc != -EINVAL || strstr(err, cases[i].url) == NULL)
                fail_msg("%s: accepted or error without the URL: %s", cases[i].url, err);
            continue;
        }
        if (rc != 0)
            fail_msg("%s: %s", cases[i].url, err);
        assert_string_equal(s, cases[i].scheme);
        assert_string_equal(t, cases[i].transport);
        assert_string_equal(h, cases[i].host);
        assert_string_equal(p, cases[i].port);
    }
}

static void
test_parse_options(void **state)
{
    struct exp_collector_options o;
    char err[256];
    (void)state;

    assert_int_equal(exp_parse_options("ipfix+udp://127.0.0.1", &o, err, sizeof(err)), 0);
    assert_false(o.uniflow);
    assert_false(o.has_domain);
    assert_int_equal(o.engine_type, -1);
    assert_int_equal(o.engine_id, -1);
    assert_string_equal(o.exporter, "");
    assert_int_equal(exp_parse_options("v5+udp://h?engine-id=255&domain=4294967295&uniflow="
                                       "yes&engine-type=0&exporter=2001:db8::1",
                                       &o, err, sizeof(err)),
                     0);
    assert_true(o.uniflow);
    assert_true(o.has_domain);
    assert_int_equal(o.domain, UINT32_MAX);
    assert_int_equal(o.engine_type, 0);
    assert_int_equal(o.engine_id, 255);
    assert_string_equal(o.exporter, "2001:db8::1");
    assert_int_equal(exp_parse_options("v9+udp://h?uniflow&bogus", &o, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "?bogus: unknown option"));
    assert_non_null(strstr(err, "collector 'v9+udp://h?uniflow&bogus'"));
}

static struct exp_config
exp_cfg(const char *const *urls, size_t n)
{
    struct exp_config c = {
        .collectors = urls,
        .n_collectors = n,
        .observation_domain = 9,
        .layout = full_layout(),
        .flow_size = flow_size(),
        .export_time_s = EXPORT_TIME,
    };
    return c;
}

/* A UDP socket on 127.0.0.1 stands for the collector: every flow arrives, in order. */
/* --uniflow: a record per direction, forward elements only, the reverse one swapped. */
/* --uniflow with --sampling-upscale: each direction's counters times N, as in biflow records. */
static void
test_uniflow_upscale(void **state)
{
    struct capture c = {0};
    struct decoded *d = calloc(1, sizeof(*d));
    struct exp_enc_params p = params(&c, true);
    (void)state;

    p.uniflow = true;
    smp_announce_init(&p.sampling, SMP_COUNT, 10, true);
    encode_run(&c, p, 4);
    decode(&c, d);
    assert_int_equal(d->n, 8);
    for (unsigned i = 0; i < 4; i++) {
        struct slot s;
        make_flow(&s, i);
        const struct flow *f = fl(&s);
        for (int dir = 0; dir < 2; dir++) {
            const struct ipfix_rec *r = &d->rec[2 * i + (unsigned)dir];
            const struct flow_dir *fd = &f->dir[dir == 0 ? FLOW_S2D : FLOW_D2S];
            assert_int_equal(r->src2dst_packets, 10 * fd->packets);
            assert_int_equal(r->src2dst_ip_bytes, 10 * RT(f)->ip_octets[dir]);
        }
    }
    free(d);
    free(c.buf);
}

static void
test_uniflow_values(void **state)
{
    struct capture c = {0};
    struct decoded *d = calloc(1, sizeof(*d));
    struct exp_enc_params p = params(&c, true);
    (void)state;

    p.uniflow = true;
    encode_run(&c, p, 4);
    decode(&c, d);
    assert_int_equal(d->n, 8); /* both directions of every flow saw packets */
    uint32_t flows = 0;
    for (size_t m = 0; m < c.n_msgs; m++)
        flows += c.flows[m];
    assert_int_equal(flows, 4); /* a flow counts once, with its last record */
    for (unsigned i = 0; i < 4; i++) {
        struct slot s;
        make_flow(&s, i);
        const struct flow *f = fl(&s);
        for (int dir = 0; dir < 2; dir++) {
            const struct ipfix_rec *r = &d->rec[2 * i + (unsigned)dir];
            const struct flow_dir *fd = &f->dir[dir == 0 ? FLOW_S2D : FLOW_D2S];
            assert_int_equal(r->id, f->id);
            assert_int_equal(r->src2dst_packets, fd->packets);
            assert_int_equal(r->src2dst_bytes, fd->bytes);
            assert_int_equal(r->bidirectional_first_seen_ms, fd->first_seen_ms);
            assert_int_equal(r->bidirectional_last_seen_ms, fd->last_seen_ms);
            assert_int_equal(r->src2dst_last_seen_ms, fd->last_seen_ms);
            assert_int_equal(r->dst2src_packets, 0); /* no reverse element in the template */
            assert_int_equal(r->dst2src_bytes, 0);
            assert_int_equal(r->src2dst_ip_bytes, RT(f)->ip_octets[dir]);
            assert_int_equal(r->src2dst_l2_bytes, RT(f)->l2_octets[dir]);
            assert_int_equal(r->src2dst_tcp_flags, f->tcp_flags_or[dir == 0 ? FLOW_S2D : FLOW_D2S]);
            assert_int_equal(r->tcp_flags, f->tcp_flags_or[FLOW_BIDI]); /* the biflow union */
            assert_int_equal(r->src_port, dir == 0 ? flow_src_port(f) : flow_dst_port(f));
            assert_int_equal(r->dst_port, dir == 0 ? flow_dst_port(f) : flow_src_port(f));
            assert_memory_equal(r->src_mac, dir == 0 ? f->src_mac : f->dst_mac, 6);
            if (i % 2)
                assert_memory_equal(r->src_ip6, dir == 0 ? flow_src_ip(f) : flow_dst_ip(f), 16);
        }
    }
    free(d);
    free(c.buf);
}

/* A v5 collector: 30 records per datagram, one per direction, IPv6 flows counted. */
static void
test_exporter_v5(void **state)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    char url[96], err[512];
    int rcvbuf = 8 << 20;
    (void)state;

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(url, sizeof(url), "v5+udp://127.0.0.1:%u?engine-type=1&engine-id=7",
             ntohs(sa.sin_port));
    const char *urls[] = {url};
    struct exp_config cfg = exp_cfg(urls, 1);
    struct exporter *x = exp_new(&cfg, err, sizeof(err));
    if (x == NULL)
        fail_msg("%s", err);
    struct slot s;
    uint64_t want_packets = 0;
    for (unsigned i = 0; i < 40; i++) { /* 20 IPv4 flows (40 directions), 20 IPv6 */
        make_flow(&s, i);
        if (fl(&s)->key.ip_version == 4)
            want_packets += fl(&s)->dir[FLOW_BIDI].packets;
        exp_flow(x, fl(&s));
    }
    exp_close(x, NULL, 5000);
    struct exp_stats st;
    exp_stats(x, 0, &st);
    assert_int_equal(st.flows, 40);
    assert_int_equal(st.flows_sent, 20);
    assert_int_equal(st.not_exportable, 20);
    assert_int_equal(st.not_sent_flows, 0);
    uint8_t buf[2048];
    uint32_t seq = 0, records = 0, msgs = 0;
    uint64_t packets = 0;
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        uint16_t count = be16(buf + 2);
        assert_int_equal(be16(buf), 5);
        assert_int_equal(n, 24 + 48 * count);
        assert_int_equal(be32(buf + 16), seq);
        assert_int_equal(buf[20], 1);
        assert_int_equal(buf[21], 7);
        for (unsigned k = 0; k < count; k++)
            packets += be32(buf + 24 + 48 * k + 16);
        seq += count;
        records += count;
        msgs++;
    }
    assert_int_equal(records, 40);
    assert_int_equal(msgs, 2); /* 30 + 10 */
    assert_int_equal(packets, want_packets);
    assert_int_equal(msgs, st.messages_sent);
    exp_free(x);
    close(fd);
}

static void
test_exporter_udp(void **state)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    char url[64], err[512];
    int rcvbuf = 8 << 20;
    (void)state;

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(url, sizeof(url), "ipfix+udp://127.0.0.1:%u", ntohs(sa.sin_port));
    const char *urls[] = {url};
    struct exp_config cfg = exp_cfg(urls, 1);
    struct exporter *x = exp_new(&cfg, err, sizeof(err));
    if (x == NULL)
        fail_msg("%s", err);
    struct slot s;
    for (unsigned i = 0; i < 40; i++) {
        make_flow(&s, i);
        exp_flow(x, fl(&s));
    }
    exp_close(x, NULL, 5000);
    struct exp_stats st;
    exp_stats(x, 0, &st);
    assert_int_equal(st.flows, 40);
    assert_int_equal(st.flows_sent, 40);
    assert_int_equal(st.not_sent_flows, 0);
    assert_int_equal(st.sessions, 1);
    assert_int_equal(st.queued, 0);
    /* read back what arrived: sequence numbers without gap, the flows' records counted by
     * libfixbuf through the header sequence of a final options message */
    uint8_t buf[65536];
    uint64_t msgs = 0, octets = 0;
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        assert_int_equal(be16(buf), 10);
        assert_int_equal(be16(buf + 2), n);
        assert_true(n <= 1400);
        assert_int_equal(be32(buf + 12), 9);
        msgs++;
        octets += (uint64_t)n;
    }
    assert_int_equal(msgs, st.messages_sent);
    assert_int_equal(octets, st.octets_sent);
    exp_free(x);
    close(fd);
}

/* A TCP collector that is not there: flows wait in the queue, are counted as not sent at
 * close, in flows, packets and octets; the queue's bound drops the oldest. */
static void
test_exporter_collector_down(void **state)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    char url[64], err[512];
    (void)state;

    /* a port nobody listens on: bound, never listen()ed */
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(url, sizeof(url), "ipfix+tcp://127.0.0.1:%u", ntohs(sa.sin_port));
    const char *urls[] = {url};
    struct exp_config cfg = exp_cfg(urls, 1);
    cfg.queue_bytes = 20 * ((flow_size() + 7) & ~(size_t)7); /* room for 20 flows */
    struct exporter *x = exp_new(&cfg, err, sizeof(err));
    assert_non_null(x);
    struct slot s;
    uint64_t packets = 0, octets = 0;
    for (unsigned i = 0; i < 50; i++) {
        make_flow(&s, i);
        packets += fl(&s)->dir[FLOW_BIDI].packets;
        octets += fl(&s)->dir[FLOW_BIDI].bytes;
        exp_flow(x, fl(&s));
    }
    struct exp_stats st;
    exp_stats(x, 0, &st);
    assert_int_equal(st.queued, 20);
    assert_int_equal(st.not_sent_flows, 30); /* the 30 oldest gave way */
    /* not connected yet: a file's reader waits for it (the output loop stops waiting after
     * --drain-timeout without progress) */
    assert_true(exp_backlogged(x));
    exp_close(x, NULL, 300);
    exp_stats(x, SIZE_MAX, &st);
    assert_int_equal(st.flows, 50);
    assert_int_equal(st.flows_sent, 0);
    assert_int_equal(st.not_sent_flows, 50);
    assert_int_equal(st.not_sent_packets, packets);
    assert_int_equal(st.not_sent_octets, octets);
    assert_int_equal(st.sessions, 0);
    assert_true(st.connect_failures >= 1);
    exp_free(x);
    close(fd);
}

static void
test_exporter_errors(void **state)
{
    char err[512];
    const char *bad[] = {"ipfix+udp://127.0.0.1:4739", "ipfix+tcp://[::1:1"};
    (void)state;

    struct exp_config cfg = exp_cfg(bad, 2);
    assert_null(exp_new(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "ipfix+tcp://[::1:1"));
    cfg = exp_cfg(bad, 1);
    cfg.collector_mode = "random";
    assert_null(exp_new(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "--collector-mode"));
    cfg = exp_cfg(bad, 1);
    cfg.template_file = "/nonexistent.tmpl";
    assert_null(exp_new(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent.tmpl"));
    cfg = exp_cfg(bad, 1);
    cfg.pen = 29305;
    assert_null(exp_new(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "--pen"));
}

/* A record that cannot fit the UDP MTU is counted as not sent; the others go. */
static void
test_exporter_mtu(void **state)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    char url[64], err[512];
    (void)state;

    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(url, sizeof(url), "ipfix+udp://127.0.0.1:%u", ntohs(sa.sin_port));
    const char *urls[] = {url};
    struct exp_config cfg = exp_cfg(urls, 1);
    cfg.mtu = 700;
    struct exporter *x = exp_new(&cfg, err, sizeof(err));
    assert_non_null(x);
    struct slot s;
    make_flow(&s, 0);
    exp_flow(x, fl(&s));
    memset(l7(&s)->user_agent, 'x', sizeof(l7(&s)->user_agent) - 1);
    exp_flow(x, fl(&s));
    exp_close(x, NULL, 2000);
    struct exp_stats st;
    exp_stats(x, 0, &st);
    assert_int_equal(st.flows_sent, 1);
    assert_int_equal(st.not_sent_flows, 1);
    assert_int_equal(st.not_sent_packets, fl(&s)->dir[FLOW_BIDI].packets);
    exp_free(x);
    close(fd);
}

/* Sets of the datagrams waiting on fd: how many data template Sets (2), flow Sets (256/257). */
static void
drain_udp(int fd, int *template_sets, int *flow_sets)
{
    uint8_t buf[65536];
    ssize_t n;

    *template_sets = *flow_sets = 0;
    while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        for (size_t off = 16; off + 4 <= (size_t)n; off += be16(buf + off + 2)) {
            uint16_t id = be16(buf + off);
            *template_sets += id == 2;
            *flow_sets += id == IPFIX_TID_V4 || id == IPFIX_TID_V6;
            if (be16(buf + off + 2) < 4)
                break;
        }
    }
}

/* The timers run on the caller's clock: a partly filled message leaves after flush_ms, the
 * templates go again (UDP) every template_refresh seconds. */
static void
test_exporter_timers(void **state)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    char url[64], err[512];
    struct timespec ts;
    int tmpl, flows;
    (void)state;

    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(url, sizeof(url), "ipfix+udp://127.0.0.1:%u", ntohs(sa.sin_port));
    const char *urls[] = {url};
    struct exp_config cfg = exp_cfg(urls, 1);
    cfg.template_refresh_s = 30;
    cfg.flush_ms = 500;
    struct exporter *x = exp_new(&cfg, err, sizeof(err));
    assert_non_null(x);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    exp_poll(x, t, NULL); /* the session starts: templates */
    drain_udp(fd, &tmpl, &flows);
    assert_int_equal(tmpl, 1);
    assert_int_equal(flows, 0);
    struct slot s;
    make_flow(&s, 0);
    exp_flow(x, fl(&s));
    exp_poll(x, t + 499, NULL);
    drain_udp(fd, &tmpl, &flows);
    assert_int_equal(flows, 0); /* still filling */
    exp_poll(x, t + 500, NULL);
    drain_udp(fd, &tmpl, &flows);
    assert_int_equal(flows, 1); /* flushed on time */
    exp_poll(x, t + 29999, NULL);
    drain_udp(fd, &tmpl, &flows);
    assert_int_equal(tmpl, 0);
    exp_poll(x, t + 30000, NULL);
    drain_udp(fd, &tmpl, &flows);
    assert_int_equal(tmpl, 1); /* refreshed */
    exp_close(x, NULL, 1000);
    struct exp_stats st;
    exp_stats(x, 0, &st);
    assert_int_equal(st.flows_sent, 1);
    assert_int_equal(st.sessions, 1);
    exp_free(x);
    close(fd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_basic),
        cmocka_unit_test(test_golden_full),
        cmocka_unit_test(test_decode_values),
        cmocka_unit_test(test_sampling_options),
        cmocka_unit_test(test_sampling_resend),
        cmocka_unit_test(test_session_restart),
        cmocka_unit_test(test_record_too_large),
        cmocka_unit_test(test_template_file_errors),
        cmocka_unit_test(test_template_file_subset),
        cmocka_unit_test(test_default_tmpl_file),
        cmocka_unit_test(test_ntop_compat),
        cmocka_unit_test(test_model_pen),
        cmocka_unit_test(test_parse_collector),
        cmocka_unit_test(test_parse_options),
        cmocka_unit_test(test_uniflow_values),
        cmocka_unit_test(test_uniflow_upscale),
        cmocka_unit_test(test_exporter_v5),
        cmocka_unit_test(test_exporter_udp),
        cmocka_unit_test(test_exporter_collector_down),
        cmocka_unit_test(test_exporter_errors),
        cmocka_unit_test(test_exporter_mtu),
        cmocka_unit_test(test_exporter_timers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
