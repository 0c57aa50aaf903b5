/*
 * test_plugin.c - the plugin loader and runtime: descriptors, ABI versions, arguments and fields
 * refused with one clear line and nothing left loaded; columns, elements and encodings of every
 * field type; the packet and flow views; NFStream's custom expiration (-1).
 *
 * The plugins are real shared objects: tests/unit/plugin_fixture.c built once per variant
 * (PLUGIN_FIXTURES) and the example plugins (PLUGIN_EXAMPLES).
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "meter.h"
#include "output.h"
#include "plugin.h"

#ifndef PLUGIN_FIXTURES
#define PLUGIN_FIXTURES "tests/unit/plugins"
#endif
#ifndef PLUGIN_EXAMPLES
#define PLUGIN_EXAMPLES "probe/plugins"
#endif

#define MAX_OUT 32
#define SLOT 4096

static char errbuf[512];
static int live; /* the good fixture's counter: loads minus unloads */

static const char *
fixture(const char *name, const char *args)
{
    static char buf[8][600];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, 600, "%s/%s.so%s%s", PLUGIN_FIXTURES, name, args ? ":" : "", args ? args : "");
    return b;
}

static const char *
example(const char *name, const char *args)
{
    static char buf[4][600];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 600, "%s/%s.so%s%s", PLUGIN_EXAMPLES, name, args ? ":" : "", args ? args : "");
    return b;
}

/* "counter=<address of live>" for the good fixture. */
static const char *
counter_arg(const char *more)
{
    static char buf[4][200];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 200, "counter=%llx%s%s", (unsigned long long)(uintptr_t)&live,
             more ? "," : "", more ? more : "");
    return b;
}

/* Loading specs fails with a message containing want (and the file's name). */
static void
refused(const char *const *specs, size_t n, const char *want)
{
    errbuf[0] = '\0';
    struct plg_set *s = plg_load(specs, n, errbuf, sizeof(errbuf));
    if (s != NULL || strstr(errbuf, want) == NULL)
        fail_msg("expected an error with '%s', got %s: '%s'", want, s ? "a set" : "NULL", errbuf);
    assert_null(strchr(errbuf, '\n'));
}

static void
refused1(const char *spec, const char *want)
{
    refused(&spec, 1, want);
}

/* True when the object at path is mapped in this process. */
static bool
mapped(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (h != NULL)
        dlclose(h);
    return h != NULL;
}

/* ------------------------------------------------------------------ loading */

static void
loads_good_plugin(void **state)
{
    (void)state;
    const char *spec = fixture("good", counter_arg("tag=x"));
    struct plg_set *s = plg_load(&spec, 1, errbuf, sizeof(errbuf));
    assert_non_null(s);
    assert_int_equal(live, 1);
    assert_int_equal(plg_count(s), 1);
    assert_false(plg_wants_packets(s));
    struct exp_extra x[EXP_MAX_EXTRA];
    assert_int_equal(plg_exp_extras(s, x, EXP_MAX_EXTRA), 7);
    assert_int_equal(plg_exp_extras(s, x, 2), 2);
    plg_exp_extras(s, x, EXP_MAX_EXTRA);
    assert_string_equal(x[0].name, "udpsPackets");
    assert_string_equal(x[0].description, "nfprobe plugin fixture: NFStream udps column "
                                           "udps.packets");
    assert_int_equal(x[0].type, 4); /* unsigned64 */
    assert_int_equal(x[0].length, 8);
    assert_false(x[0].varlen);
    assert_true(x[0].id >= PLG_IPFIX_ID_HASHED && x[0].id <= PLG_IPFIX_ID_MAX);
    assert_int_equal(x[0].v9_id, EXP_V9_EXTRA_FIRST + x[0].id % 4096);
    assert_string_equal(x[1].name, "udpsNegBytes");
    assert_int_equal(x[1].type, 8); /* signed64 */
    assert_int_equal(x[2].type, 10); /* float64 */
    assert_string_equal(x[3].name, "udpsArr");
    assert_int_equal(x[3].type, 0); /* octetArray: 3 x int16 */
    assert_int_equal(x[3].length, 6);
    assert_int_equal(x[4].type, 13); /* string */
    assert_true(x[4].varlen);
    assert_int_equal(x[4].length, 15);
    assert_true(x[4].v9_id != 0); /* NUL-padded in v9 */
    assert_int_equal(x[5].id, 2000); /* explicit */
    assert_int_equal(x[5].type, 0);
    assert_true(x[5].varlen);
    assert_int_equal(x[5].v9_id, 0); /* bytes: IPFIX only */
    assert_string_equal(x[6].name, "udpsFirstDir");
    assert_int_equal(x[6].type, 1); /* unsigned8 */
    uint16_t id0 = x[0].id;
    plg_free(s);
    assert_int_equal(live, 0);
    assert_false(mapped(fixture("good", NULL)));
    /* Ids derived from names are the same in every run. */
    s = plg_load(&spec, 1, errbuf, sizeof(errbuf));
    assert_non_null(s);
    plg_exp_extras(s, x, EXP_MAX_EXTRA);
    assert_int_equal(x[0].id, id0);
    plg_free(s);
    plg_free(NULL);
}

static void
empty_set(void **state)
{
    (void)state;
    struct plg_set *s = plg_load(NULL, 0, errbuf, sizeof(errbuf));
    assert_non_null(s);
    assert_int_equal(plg_count(s), 0);
    assert_int_equal(plg_flow_bytes(s), 0);
    plg_free(s);
}

static void
refuses_missing_and_foreign_objects(void **state)
{
    (void)state;
    refused1("/nonexistent/x.so", "--plugin /nonexistent/x.so: cannot load:");
    refused1(fixture("no_symbol", NULL), "no 'nfprobe_plugin' symbol: not an nfprobe plugin");
    refused1(fixture("no_callback", NULL), "defines none of on_init, on_update, on_expire");
    refused1(fixture("short", NULL), "descriptor of 16 bytes");
}

static void
refuses_other_abi_version(void **state)
{
    (void)state;
    const char *spec = fixture("bad_abi", NULL);
    refused1(spec, "built for plugin ABI version 999, this nfprobe has version 1");
    assert_non_null(strstr(errbuf, "bad_abi.so"));
}

static void
refuses_bad_fields(void **state)
{
    (void)state;
    refused1(fixture("dup_field", NULL), "field packets: a field of that name exists already");
    refused1(fixture("overlap", NULL), "fields packets and low_half overlap");
    refused1(fixture("misaligned", NULL), "field packets: offset 4 is not aligned to 8");
    refused1(fixture("past_end", NULL), "is past the udps struct");
    refused1(fixture("too_wide", NULL), "field many: its value can print as 528 characters");
    refused1(fixture("bad_type", NULL), "field packets: unknown type 42");
    refused1(fixture("bad_name", NULL), "field 0: name must match");
    refused1(fixture("bad_id", NULL), "field packets: IPFIX id 100 outside 1024..8191");
}

static void
refuses_bad_arguments(void **state)
{
    (void)state;
    refused1(fixture("good", "tag"), "argument 'tag': expected KEY=VALUE");
    refused1(fixture("good", "=x"), "argument '=x': expected KEY=VALUE");
    refused1(fixture("good", "tag=a,tag=b"), "argument 'tag' given twice");
    refused1(fixture("good", "tag=a,,end=1"), "argument '': expected KEY=VALUE");
    refused1(fixture("good", "bogus=1"),
             "unknown argument 'bogus' (takes counter, end, tag, want, fail)");
    refused1(fixture("good", "fail=1"), "good.so: fail=1: failing as asked");
    refused1(fixture("good", ""), "nothing after ':'");
    refused1(":x", "expected PATH[:KEY=VALUE,...]");
    refused1(example("packet_with_666_size", "size=1"), "takes no arguments ('size' given)");
    refused1(example("slicer", NULL), "needs limit=N");
    refused1(example("slicer", "limit=0"), "limit '0': expected a whole number >= 1");
    refused1(example("splt", "sequence_length=24"),
             "field splt_piat_ms: its value can print as 528 characters");
    refused1(example("splt", "accounting_mode=4"), "accounting_mode '4'");
    refused1(example("model", NULL), "needs model=FILE");
    refused1(example("model", "model=/nonexistent/m"), "labels /nonexistent/m.labels:");
    assert_int_equal(live, 0);
}

/* A failure in any plugin unloads every plugin loaded before it. */
static void
nothing_loaded_half_way(void **state)
{
    (void)state;
    const char *specs[] = {fixture("good", counter_arg(NULL)), fixture("bad_abi", NULL)};
    refused(specs, 2, "bad_abi.so: built for plugin ABI version");
    assert_int_equal(live, 0);
    assert_false(mapped(fixture("good", NULL)));
    assert_false(mapped(fixture("bad_abi", NULL)));

    /* Field names are one namespace across plugins; the second load succeeded, then both go. */
    const char *twice[] = {fixture("good", counter_arg(NULL)), fixture("good", counter_arg(NULL))};
    refused(twice, 2, "field packets: a field of that name exists already (another plugin)");
    assert_int_equal(live, 0);
    assert_false(mapped(fixture("good", NULL)));

    const char *many[PLG_MAX_PLUGINS + 1];
    for (size_t i = 0; i <= PLG_MAX_PLUGINS; i++)
        many[i] = fixture("good", NULL);
    refused(many, PLG_MAX_PLUGINS + 1, "at most 16 plugins");
}

/* ------------------------------------------------------------------ running */

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

struct rig {
    struct plg_set *s;
    struct plg_worker *pw;
    struct meter *mt;
    struct out_extra x[OUT_MAX_EXTRA];
    size_t n_x;
};

static void
rig_open(struct rig *r, const char *spec, bool statistics)
{
    struct mtr_config c = {
        .idle_ms = 120000,
        .active_ms = 1800000,
        .statistics = statistics,
        .max_flows = 64,
        .seed = 7,
    };
    memset(r, 0, sizeof(*r));
    r->s = plg_load(&spec, 1, errbuf, sizeof(errbuf));
    if (r->s == NULL)
        fail_msg("%s", errbuf);
    r->pw = plg_worker_new(r->s, errbuf, sizeof(errbuf));
    assert_non_null(r->pw);
    struct mtr_ext ext = plg_worker_ext(r->pw);
    assert_int_equal(ext.ext_size, plg_flow_bytes(r->s));
    n_out = 0;
    r->mt = mtr_new(&c, &ext, 1, collect, NULL, errbuf, sizeof(errbuf));
    assert_non_null(r->mt);
    flow_size = mtr_flow_size(r->mt);
    assert_int_equal(plg_worker_bind(r->pw, r->mt, errbuf, sizeof(errbuf)), 0);
    r->n_x = plg_out_extras(r->s, r->x, OUT_MAX_EXTRA);
}

static void
rig_close(struct rig *r)
{
    mtr_free(r->mt);
    plg_worker_free(r->pw);
    plg_free(r->s);
}

/* A UDP packet 10.0.0.a:pa -> 10.0.0.b:pb of raw size 100 at time t. */
static void
pkt(struct meter *mt, uint8_t a, uint16_t pa, uint8_t b, uint16_t pb, uint64_t t,
    const uint8_t *ip)
{
    struct pkt_meta m;
    memset(&m, 0, sizeof(m));
    m.src_ip[0] = 10, m.src_ip[3] = a;
    m.dst_ip[0] = 10, m.dst_ip[3] = b;
    m.src_port = pa;
    m.dst_port = pb;
    m.protocol = 17;
    m.ip_version = 4;
    m.raw_size = 100;
    m.ip_size = 86;
    m.time_ms = t;
    m.ip_pkt = ip;
    m.ip_caplen = ip != NULL ? 4 : 0;
    mtr_packet(mt, &m);
}

/* Column `name` of emitted flow i as text. */
static const char *
col(struct rig *r, size_t i, const char *name, int *kind)
{
    static char buf[512];
    for (size_t k = 0; k < r->n_x; k++) {
        if (strcmp(r->x[k].name, name) == 0) {
            int kd = r->x[k].format(r->x[k].ctx, got(i), buf, sizeof(buf));
            if (kind != NULL)
                *kind = kd;
            return buf;
        }
    }
    fail_msg("no column %s", name);
    return NULL;
}

static void
columns_of_every_type(void **state)
{
    (void)state;
    struct rig r;
    int kind;
    rig_open(&r, fixture("good", "tag=hello"), false);
    static const char *const names[] = {"udps.packets", "udps.neg_bytes", "udps.ratio",
                                        "udps.arr", "udps.label", "udps.raw", "udps.first_dir"};
    assert_int_equal(r.n_x, 7);
    for (size_t k = 0; k < 7; k++)
        assert_string_equal(r.x[k].name, names[k]);
    pkt(r.mt, 1, 1000, 2, 2000, 1000, NULL);
    pkt(r.mt, 2, 2000, 1, 1000, 1010, NULL);
    pkt(r.mt, 1, 1000, 2, 2000, 1020, NULL);
    pkt(r.mt, 2, 2000, 1, 1000, 1030, NULL);
    mtr_flush(r.mt);
    assert_int_equal(n_out, 1);
    assert_int_equal(got(0)->expiration_id, 0); /* ending at expiry changes nothing */
    assert_int_equal(got(0)->end_reason, FLOW_END_FORCED);
    assert_string_equal(col(&r, 0, "udps.packets", &kind), "4");
    assert_int_equal(kind, OUT_KIND_NUMBER);
    assert_string_equal(col(&r, 0, "udps.neg_bytes", &kind), "-400");
    assert_string_equal(col(&r, 0, "udps.ratio", &kind), "0.5"); /* 2 of 4 packets reversed */
    assert_int_equal(kind, OUT_KIND_NUMBER);
    assert_string_equal(col(&r, 0, "udps.arr", &kind), "[1000, -2, 2000]");
    assert_int_equal(kind, OUT_KIND_LIST);
    assert_string_equal(col(&r, 0, "udps.label", &kind), "hello");
    assert_int_equal(kind, OUT_KIND_STRING);
    assert_string_equal(col(&r, 0, "udps.raw", &kind), "b'a\\'\"\\n'"); /* Python's repr */
    assert_int_equal(kind, OUT_KIND_STRING);
    assert_string_equal(col(&r, 0, "udps.first_dir", NULL), "0");

    /* IPFIX / v9 encodings: network order, strings without their NUL. */
    struct exp_extra x[EXP_MAX_EXTRA];
    uint8_t b[64];
    assert_int_equal(plg_exp_extras(r.s, x, EXP_MAX_EXTRA), 7);
#define ENC(i, cap) x[i].encode(x[i].ctx, got(0), b, cap)
    assert_int_equal(ENC(0, sizeof(b)), 8);
    assert_memory_equal(b, "\0\0\0\0\0\0\0\x04", 8);
    assert_int_equal(ENC(1, sizeof(b)), 8);
    assert_memory_equal(b, "\xff\xff\xff\xff\xff\xff\xfe\x70", 8); /* -400 */
    assert_int_equal(ENC(2, sizeof(b)), 8);
    assert_memory_equal(b, "\x3f\xe0\0\0\0\0\0\0", 8); /* 0.5 */
    assert_int_equal(ENC(3, sizeof(b)), 6);
    assert_memory_equal(b, "\x03\xe8\xff\xfe\x07\xd0", 6);
    assert_int_equal(ENC(4, sizeof(b)), 5);
    assert_memory_equal(b, "hello", 5);
    assert_int_equal(ENC(5, sizeof(b)), 4);
    assert_memory_equal(b, "a'\"\n", 4);
    assert_int_equal(ENC(6, sizeof(b)), 1);
    assert_int_equal(ENC(0, 7), 0); /* no room */
#undef ENC
    rig_close(&r);
}

/* NFStream's custom expiration: the packet that ends the flow is in it, the next one starts
 * a new flow; expiration_id -1, flowEndReason 4. */
static void
custom_expiration(void **state)
{
    (void)state;
    struct rig r;
    struct mtr_stats st;
    rig_open(&r, fixture("good", "end=3"), true);
    for (uint64_t t = 0; t < 7; t++)
        pkt(r.mt, (t & 1) ? 2 : 1, (t & 1) ? 2000 : 1000, (t & 1) ? 1 : 2,
            (t & 1) ? 1000 : 2000, 1000 + t, NULL);
    assert_int_equal(n_out, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(got(i)->expiration_id, -1);
        assert_int_equal(got(i)->end_reason, FLOW_END_FORCED);
        assert_int_equal(got(i)->dir[FLOW_BIDI].packets, 3);
        assert_string_equal(col(&r, i, "udps.packets", NULL), "3");
    }
    /* The second slice starts with a reverse packet: that host is its source. */
    assert_string_equal(col(&r, 1, "udps.arr", NULL), "[2000, -2, 1000]");
    assert_int_equal(got(0)->dir[FLOW_BIDI].first_seen_ms, 1000);
    assert_int_equal(got(1)->dir[FLOW_BIDI].first_seen_ms, 1003);
    mtr_flush(r.mt);
    assert_int_equal(n_out, 3);
    assert_int_equal(got(2)->expiration_id, 0);
    assert_int_equal(got(2)->dir[FLOW_BIDI].packets, 1);
    mtr_stats(r.mt, &st);
    assert_int_equal(st.flows_custom, 2);
    rig_close(&r);

    /* end=1: every packet is a flow of its own, ended in on_init. */
    rig_open(&r, fixture("good", "end=1"), false);
    for (uint64_t t = 0; t < 4; t++)
        pkt(r.mt, 1, 1000, 2, 2000, 1000 + t, NULL);
    assert_int_equal(n_out, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(got(i)->expiration_id, -1);
        assert_int_equal(got(i)->dir[FLOW_BIDI].packets, 1);
    }
    rig_close(&r);
}

static void
packet_bytes_when_asked(void **state)
{
    (void)state;
    struct rig r;
    static const uint8_t ip[4] = {0x45, 0x00, 0x00, 0x54};
    rig_open(&r, fixture("good", "want=1"), false);
    assert_true(plg_wants_packets(r.s));
    pkt(r.mt, 1, 1000, 2, 2000, 1000, ip);
    mtr_flush(r.mt);
    assert_string_equal(col(&r, 0, "udps.raw", NULL), "b'E\\x00\\x00T'");
    rig_close(&r);

    /* Not asked: the plugin gets no bytes even when the worker has them (DPI). */
    rig_open(&r, fixture("good", NULL), false);
    pkt(r.mt, 1, 1000, 2, 2000, 1000, ip);
    mtr_flush(r.mt);
    assert_string_equal(col(&r, 0, "udps.raw", NULL), "b'a\\'\"\\n'");
    rig_close(&r);
}

/* The flow's memory: fields and state in the slot, zeroed for each new flow. */
static void
per_flow_memory(void **state)
{
    (void)state;
    struct rig r;
    rig_open(&r, fixture("good", NULL), false);
    /* udps struct (8-aligned) + 8 bytes of state */
    assert_int_equal(plg_flow_bytes(r.s), 56 + 8);
    pkt(r.mt, 1, 1, 2, 2, 1000, NULL);
    pkt(r.mt, 3, 3, 4, 4, 1000, NULL);
    pkt(r.mt, 1, 1, 2, 2, 1001, NULL);
    mtr_flush(r.mt);
    assert_int_equal(n_out, 2);
    assert_string_equal(col(&r, 0, "udps.packets", NULL), "2");
    assert_string_equal(col(&r, 1, "udps.packets", NULL), "1");
    rig_close(&r);
}

/* The SPLT example equals the built-in SPLT on a hand-made flow. */
static void
splt_example_matches_builtin(void **state)
{
    (void)state;
    struct rig r;
    rig_open(&r, example("splt", "sequence_length=3"), false);
    pkt(r.mt, 1, 1, 2, 2, 1000, NULL);
    pkt(r.mt, 2, 2, 1, 1, 1007, NULL);
    mtr_flush(r.mt);
    assert_string_equal(col(&r, 0, "udps.splt_direction", NULL), "[0, 1, -1]");
    assert_string_equal(col(&r, 0, "udps.splt_ps", NULL), "[100, 100, -1]");
    assert_string_equal(col(&r, 0, "udps.splt_piat_ms", NULL), "[0, 7, -1]");
    rig_close(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_good_plugin),
        cmocka_unit_test(empty_set),
        cmocka_unit_test(refuses_missing_and_foreign_objects),
        cmocka_unit_test(refuses_other_abi_version),
        cmocka_unit_test(refuses_bad_fields),
        cmocka_unit_test(refuses_bad_arguments),
        cmocka_unit_test(nothing_loaded_half_way),
        cmocka_unit_test(columns_of_every_type),
        cmocka_unit_test(custom_expiration),
        cmocka_unit_test(packet_bytes_when_asked),
        cmocka_unit_test(per_flow_memory),
        cmocka_unit_test(splt_example_matches_builtin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
