/*
 * test_lpm.c - the prefix table: overlapping, default and host routes in both families, the
 * networks file's forms and its errors (FILE:LINE), a 1M-prefix random table against an
 * independent reference (a hash of every prefix, probed from /32 or /128 down), a MaxMind DB
 * written by Debian's libmaxmind-db-writer-perl against libmaxminddb's own lookups, and the
 * QSBR swap (retired tables freed only after every reader's quiescent point; a reader thread
 * looking up while tables are replaced, which ASan checks for use after free).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lpm.h"
#include "lpm_gen.h"

static struct lpm *
table_of(const char *text)
{
    char err[256] = "";
    struct lpm_builder *b = lpm_builder_new();
    assert_non_null(b);
    int rc = lpm_parse_networks(b, "test.lst", text, strlen(text), err, sizeof(err));
    if (rc != 0)
        fail_msg("%s", err);
    struct lpm *t = lpm_builder_finish(b, err, sizeof(err));
    assert_non_null(t);
    return t;
}

static uint32_t
v4(const char *s)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return ntohl(a.s_addr);
}

static const struct lpm_entry *
look4(const struct lpm *t, const char *s)
{
    return lpm_lookup4(t, v4(s));
}

static const struct lpm_entry *
look6(const struct lpm *t, const char *s)
{
    uint8_t a[16];
    assert_int_equal(inet_pton(AF_INET6, s, a), 1);
    return lpm_lookup6(t, a);
}

#define ASSERT_MATCH(e, as, len)                                                                   \
    do {                                                                                           \
        const struct lpm_entry *e_ = (e);                                                          \
        assert_non_null(e_);                                                                       \
        assert_int_equal(e_->asn, (as));                                                           \
        assert_int_equal(e_->plen, (len));                                                         \
    } while (0)

static void
overlapping_v4(void **state)
{
    (void)state;
    struct lpm *t = table_of("10.0.0.0/8 \n"
                             "1,10.0.0.0/8\n"
                             "2,10.1.0.0/16\n"
                             "3,10.1.2.0/24\n"
                             "4,10.1.2.128/25\n"
                             "5,10.1.2.200/32\n"
                             "6,10.1.3.0/26\n"
                             "7,192.0.2.0/23\n"
                             "8,192.0.3.0/24\n");
    ASSERT_MATCH(look4(t, "10.200.0.1"), 1, 8);
    ASSERT_MATCH(look4(t, "10.1.255.255"), 2, 16);
    ASSERT_MATCH(look4(t, "10.1.2.0"), 3, 24);
    ASSERT_MATCH(look4(t, "10.1.2.127"), 3, 24);
    ASSERT_MATCH(look4(t, "10.1.2.128"), 4, 25);
    ASSERT_MATCH(look4(t, "10.1.2.199"), 4, 25);
    ASSERT_MATCH(look4(t, "10.1.2.200"), 5, 32);
    ASSERT_MATCH(look4(t, "10.1.2.201"), 4, 25);
    ASSERT_MATCH(look4(t, "10.1.3.63"), 6, 26);
    ASSERT_MATCH(look4(t, "10.1.3.64"), 2, 16);
    ASSERT_MATCH(look4(t, "192.0.2.77"), 7, 23);
    ASSERT_MATCH(look4(t, "192.0.3.77"), 8, 24);
    assert_null(look4(t, "11.0.0.0"));
    assert_null(look4(t, "9.255.255.255"));
    assert_null(look4(t, "192.0.4.0"));
    assert_int_equal(lpm_count(t, 4), 8); /* the two 10/8 lines are one prefix */
    assert_int_equal(lpm_count(t, 6), 0);
    lpm_free(t);
}

static void
default_and_host_routes(void **state)
{
    (void)state;
    struct lpm *t = table_of("64999,0.0.0.0/0\n"
                             "65000,::/0\n"
                             "1,255.255.255.255/32\n"
                             "2,0.0.0.0/32\n"
                             "3,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128\n"
                             "4,::/128\n"
                             "5,1.2.3.4\n" /* no mask: a host route */
                             "6,2001:db8::1\n");
    ASSERT_MATCH(look4(t, "255.255.255.255"), 1, 32);
    ASSERT_MATCH(look4(t, "255.255.255.254"), 64999, 0);
    ASSERT_MATCH(look4(t, "0.0.0.0"), 2, 32);
    ASSERT_MATCH(look4(t, "0.0.0.1"), 64999, 0);
    ASSERT_MATCH(look4(t, "1.2.3.4"), 5, 32);
    ASSERT_MATCH(look4(t, "1.2.3.5"), 64999, 0);
    ASSERT_MATCH(look6(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 3, 128);
    ASSERT_MATCH(look6(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), 65000, 0);
    ASSERT_MATCH(look6(t, "::"), 4, 128);
    ASSERT_MATCH(look6(t, "::1"), 65000, 0);
    ASSERT_MATCH(look6(t, "2001:db8::1"), 6, 128);
    ASSERT_MATCH(look6(t, "2001:db8::2"), 65000, 0);
    lpm_free(t);
}

static void
overlapping_v6(void **state)
{
    (void)state;
    struct lpm *t = table_of("1,2001:db8::/32\n"
                             "2,2001:db8:1::/48\n"
                             "3,2001:db8:1:2::/64\n"
                             "4,2001:db8:1:2:8000::/65\n"
                             "5,2001:db8:1:2::1/128\n"
                             "6,2001:db8:1:2:3:4:5:0/127\n"
                             "7,2a00::/12\n");
    ASSERT_MATCH(look6(t, "2001:db8:ffff::1"), 1, 32);
    ASSERT_MATCH(look6(t, "2001:db8:1:ffff::1"), 2, 48);
    ASSERT_MATCH(look6(t, "2001:db8:1:2::2"), 3, 64);
    ASSERT_MATCH(look6(t, "2001:db8:1:2::1"), 5, 128);
    ASSERT_MATCH(look6(t, "2001:db8:1:2:8000::9"), 4, 65);
    ASSERT_MATCH(look6(t, "2001:db8:1:2:3:4:5:1"), 6, 127);
    ASSERT_MATCH(look6(t, "2001:db8:1:2:3:4:5:2"), 3, 64);
    ASSERT_MATCH(look6(t, "2a0f:ffff::"), 7, 12);
    assert_null(look6(t, "2a10::"));
    assert_null(look6(t, "2001:db9::"));
    assert_null(look6(t, "::ffff:10.1.2.3"));
    assert_int_equal(lpm_count(t, 6), 7);
    lpm_free(t);
}

/* pmacct's forms: next hop, peer_origin, comments; issue 13's peer,origin,network; host bits
 * cleared; a later line for the same prefix wins. */
static void
networks_file_forms(void **state)
{
    (void)state;
    struct lpm *t = table_of("! pmacct comment\n"
                             "# hash comment\n"
                             "\n"
                             "   \t\n"
                             "192.168.95.0/24\n"
                             "65500,192.168.1.0/24\n"
                             "64512_65501,192.168.2.0/25\n"
                             "10.0.0.1,65502,192.168.4.0/23\n"
                             "2001:db8::ff,64512_65503,2001:db8:4::/48\n"
                             "64496, 65504 , 198.51.100.77/24\r\n"
                             "1,203.0.113.0/24\n"
                             "2,203.0.113.0/24");
    const struct lpm_entry *e = look4(t, "192.168.95.9");
    ASSERT_MATCH(e, 0, 24);
    e = look4(t, "192.168.1.1");
    ASSERT_MATCH(e, 65500, 24);
    assert_int_equal(e->peer_as, 0);
    assert_int_equal(e->nh_family, 0);
    e = look4(t, "192.168.2.1");
    ASSERT_MATCH(e, 65501, 25);
    assert_int_equal(e->peer_as, 64512);
    assert_null(look4(t, "192.168.2.128"));
    e = look4(t, "192.168.5.255");
    ASSERT_MATCH(e, 65502, 23);
    assert_int_equal(e->nh_family, 4);
    assert_memory_equal(e->nexthop, "\x0a\x00\x00\x01", 4);
    e = look6(t, "2001:db8:4:1::1");
    ASSERT_MATCH(e, 65503, 48);
    assert_int_equal(e->peer_as, 64512);
    assert_int_equal(e->nh_family, 6);
    assert_int_equal(e->nexthop[15], 0xff);
    assert_int_equal(e->family, 6);
    e = look4(t, "198.51.100.1");
    ASSERT_MATCH(e, 65504, 24);
    assert_int_equal(e->peer_as, 64496);
    ASSERT_MATCH(look4(t, "203.0.113.1"), 2, 24);
    lpm_free(t);
}

static void
expect_error(const char *text, const char *want)
{
    char err[256] = "";
    struct lpm_builder *b = lpm_builder_new();
    int rc = lpm_parse_networks(b, "nets.lst", text, strlen(text), err, sizeof(err));
    assert_int_equal(rc, -EINVAL);
    if (strstr(err, want) == NULL)
        fail_msg("error '%s' lacks '%s'", err, want);
    lpm_builder_free(b);
}

static void
bad_lines(void **state)
{
    (void)state;
    expect_error("1,10.0.0.0/8\n2,10.0.0.0/33\n", "nets.lst:2: bad mask '33'");
    expect_error("! c\n\n1,10.0.0.0/8\n1,2001:db8::/129\n", "nets.lst:4: bad mask '129'");
    expect_error("1,10.0.0/8\n", "nets.lst:1: bad network '10.0.0'");
    expect_error("1,10.0.0.0/\n", "nets.lst:1: bad mask ''");
    expect_error("1,10.0.0.0/x\n", "nets.lst:1: bad mask 'x'");
    expect_error("\n\nAS1,10.0.0.0/8\n", "nets.lst:3: bad AS number 'AS1'");
    expect_error("4294967296,10.0.0.0/8\n", "nets.lst:1: bad AS number");
    expect_error("1_,10.0.0.0/8\n", "nets.lst:1: bad AS number '1_'");
    expect_error("x,1,10.0.0.0/8\n", "nets.lst:1: bad next hop or peer AS 'x'");
    expect_error("1,2_3,10.0.0.0/8\n", "nets.lst:1: bad next hop or peer AS");
    expect_error("1,2,3,10.0.0.0/8\n", "nets.lst:1: too many fields");
    expect_error("1,,10.0.0.0/8\n", "nets.lst:1: bad AS number ''");
    expect_error("1,\n", "nets.lst:1: bad network ''");
    expect_error("1,10.0.0.0/8 junk\n", "nets.lst:1: bad mask '8 junk'");
}

static void
load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/nfprobe-lpm-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "! x\n65001,10.0.0.0/8\n65002,2001:db8::/32\n65003,10.0.0.0/99\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char err[512] = "";
    struct lpm *t = lpm_load(path, NULL, err, sizeof(err));
    assert_null(t);
    char want[600];
    snprintf(want, sizeof(want), "%s:4: bad mask '99' (0-32)", path);
    assert_string_equal(err, want);
    /* the good part alone */
    assert_int_equal(truncate(path, (off_t)(strlen(text) - strlen("65003,10.0.0.0/99\n"))), 0);
    t = lpm_load(path, NULL, err, sizeof(err));
    assert_non_null(t);
    ASSERT_MATCH(look4(t, "10.9.9.9"), 65001, 8);
    ASSERT_MATCH(look6(t, "2001:db8::9"), 65002, 32);
    lpm_free(t);
    unlink(path);
    assert_null(lpm_load("/nonexistent/nets.lst", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "networks file /nonexistent/nets.lst: No such file"));
}

/* ---- the 1M random table against a hash of every prefix */

struct ref_slot {
    uint8_t used, family, plen;
    uint8_t addr[16];
    uint32_t asn;
};

struct ref {
    struct ref_slot *s;
    size_t mask;
};

static size_t
ref_hash(int family, unsigned plen, const uint8_t *a)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)family ^ (uint64_t)plen << 8;
    for (int i = 0; i < 16; i++)
        h = (h ^ a[i]) * 1099511628211ULL;
    return (size_t)(h ^ h >> 29);
}

static void
masked(const uint8_t *a, unsigned plen, uint8_t out[16])
{
    memset(out, 0, 16);
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = plen >= 8 * (i + 1) ? 8 : plen > 8 * i ? plen - 8 * i : 0;
        out[i] = (uint8_t)(a[i] & (0xff00u >> keep));
    }
}

static struct ref_slot *
ref_find(struct ref *r, int family, unsigned plen, const uint8_t *addr, int insert)
{
    uint8_t k[16];
    masked(addr, plen, k);
    if (family == 4)
        memset(k + 4, 0, 12);
    for (size_t i = ref_hash(family, plen, k) & r->mask;; i = (i + 1) & r->mask) {
        struct ref_slot *s = &r->s[i];
        if (!s->used) {
            if (!insert)
                return NULL;
            s->used = 1;
            s->family = (uint8_t)family;
            s->plen = (uint8_t)plen;
            memcpy(s->addr, k, 16);
            return s;
        }
        if (s->family == family && s->plen == plen && memcmp(s->addr, k, 16) == 0)
            return s;
    }
}

static void
random_table_vs_reference(void **state)
{
    (void)state;
    const size_t n = 1000000;
    struct lpm_gen_prefix *p = malloc(n * sizeof(*p));
    struct ref r = {calloc((size_t)1 << 22, sizeof(struct ref_slot)), ((size_t)1 << 22) - 1};
    assert_non_null(p);
    assert_non_null(r.s);
    lpm_gen_table(p, n, 42);
    struct lpm_builder *b = lpm_builder_new();
    for (size_t i = 0; i < n; i++) {
        struct lpm_entry e = {.asn = p[i].asn};
        assert_int_equal(lpm_builder_add(b, p[i].family, p[i].addr, p[i].plen, &e), 0);
        ref_find(&r, p[i].family, p[i].plen, p[i].addr, 1)->asn = p[i].asn; /* later wins */
    }
    char err[128];
    struct lpm *t = lpm_builder_finish(b, err, sizeof(err));
    assert_non_null(t);
    assert_true(lpm_count(t, 4) + lpm_count(t, 6) > n * 9 / 10);

    uint64_t st = 7;
    size_t hits = 0;
    for (int i = 0; i < 100000; i++) {
        int family = i % 4 == 3 ? 6 : 4;
        uint8_t a[16] = {0};
        lpm_gen_addr(p, n, family, &st, a);
        if (family == 4)
            memset(a + 4, 0, 12);
        const struct ref_slot *want = NULL;
        for (int plen = family == 4 ? 32 : 128; plen >= 0 && want == NULL; plen--)
            want = ref_find(&r, family, (unsigned)plen, a, 0);
        const struct lpm_entry *got =
            family == 4 ? lpm_lookup4(t, (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
                                             (uint32_t)a[2] << 8 | a[3])
                        : lpm_lookup6(t, a);
        if (want == NULL) {
            if (got != NULL)
                fail_msg("lookup %d: no prefix, got /%u AS%u", i, got->plen, got->asn);
            continue;
        }
        hits++;
        if (got == NULL || got->asn != want->asn || got->plen != want->plen)
            fail_msg("lookup %d (IPv%d): want /%u AS%u, got %s /%u AS%u", i, family, want->plen,
                     want->asn, got ? "" : "none", got ? got->plen : 0, got ? got->asn : 0);
    }
    assert_true(hits > 50000); /* most addresses fall in a prefix: the test compares entries */
    lpm_free(t);
    free(r.s);
    free(p);
}

/* ---- MaxMind DB written by libmaxmind-db-writer-perl, checked against libmaxminddb */

static void
mmdb_vs_libmaxminddb(void **state)
{
    (void)state;
    if (system("perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null") != 0)
        skip(); /* Debian: libmaxmind-db-writer-perl */
    char path[] = "/tmp/nfprobe-lpm-mmdb-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    const size_t n = 3000;
    struct lpm_gen_prefix *p = calloc(n, sizeof(*p));
    lpm_gen_table(p, n, 99);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "perl %s/mkmmdb.pl %s", LPM_DATA_DIR, path);
    FILE *pp = popen(cmd, "w");
    assert_non_null(pp);
    /* shorter first: the writer replaces what a later, larger network covers */
    for (unsigned plen = 0; plen <= 128; plen++) {
        for (size_t i = 0; i < n; i++) {
            char s[INET6_ADDRSTRLEN];
            if (p[i].plen != plen)
                continue;
            if (p[i].family == 6 && p[i].addr[0] == 0x20 && p[i].addr[1] == 0x02)
                continue; /* 2002::/16 is the writer's IPv4 alias */
            inet_ntop(p[i].family == 4 ? AF_INET : AF_INET6, p[i].addr, s, sizeof(s));
            fprintf(pp, "%s/%u %u\n", s, plen, p[i].asn);
        }
    }
    fprintf(pp, "2a02:9999::/32 4200000001\n");
    assert_int_equal(pclose(pp), 0);

    char err[512] = "";
    struct lpm *t = lpm_load(NULL, path, err, sizeof(err));
    if (t == NULL)
        fail_msg("%s", err);
    MMDB_s db;
    assert_int_equal(MMDB_open(path, MMDB_MODE_MMAP, &db), MMDB_SUCCESS);
    uint64_t st = 5;
    size_t hits = 0;
    for (int i = 0; i < 40000; i++) {
        int family = i % 3 == 2 ? 6 : 4;
        uint8_t a[16] = {0};
        lpm_gen_addr(p, n, family, &st, a);
        struct sockaddr_storage ss = {0};
        if (family == 4) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
            sin->sin_family = AF_INET;
            memcpy(&sin->sin_addr, a, 4);
        } else {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
            sin6->sin6_family = AF_INET6;
            memcpy(&sin6->sin6_addr, a, 16);
        }
        int mrc;
        MMDB_lookup_result_s res = MMDB_lookup_sockaddr(&db, (struct sockaddr *)&ss, &mrc);
        assert_int_equal(mrc, MMDB_SUCCESS);
        const struct lpm_entry *got =
            family == 4 ? lpm_lookup4(t, (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
                                             (uint32_t)a[2] << 8 | a[3])
                        : lpm_lookup6(t, a);
        if (!res.found_entry) {
            if (got != NULL)
                fail_msg("lookup %d: libmaxminddb finds nothing, lpm AS%u", i, got->asn);
            continue;
        }
        MMDB_entry_data_s d;
        assert_int_equal(MMDB_get_value(&res.entry, &d, "autonomous_system_number", NULL),
                         MMDB_SUCCESS);
        unsigned want_plen = family == 4 ? res.netmask - 96u : res.netmask;
        if (got == NULL || got->asn != d.uint32 || got->plen != want_plen)
            fail_msg("lookup %d (IPv%d): libmaxminddb /%u AS%u, lpm %s/%u AS%u", i, family,
                     want_plen, d.uint32, got ? "" : "none ", got ? got->plen : 0,
                     got ? got->asn : 0);
        hits++;
    }
    assert_true(hits > 10000);
    /* 4-octet AS; aliases of IPv4 are not IPv6 prefixes of their own */
    ASSERT_MATCH(look6(t, "2a02:9999::1"), 4200000001u, 32);
    assert_null(look6(t, "::ffff:0:0"));
    assert_null(look6(t, "2002::"));
    MMDB_close(&db);
    lpm_free(t);

    /* a file that is not an mmdb */
    assert_null(lpm_load(NULL, LPM_DATA_DIR "/mkmmdb.pl", err, sizeof(err)));
    assert_non_null(strstr(err, "mmdb " LPM_DATA_DIR "/mkmmdb.pl: "));
    unlink(path);
    free(p);
}

/* ---- QSBR swap */

static struct lpm *
one(uint32_t asn)
{
    char text[64];
    snprintf(text, sizeof(text), "%u,10.0.0.0/8\n", asn);
    return table_of(text);
}

static void
rcu_retires_after_quiescence(void **state)
{
    (void)state;
    struct lpm_rcu *r = lpm_rcu_new(2, one(1));
    assert_non_null(r);
    lpm_rcu_quiescent(r, 0);
    lpm_rcu_quiescent(r, 1);
    assert_int_equal(lpm_rcu_get(r) != NULL, 1);
    assert_int_equal(lpm_lookup4(lpm_rcu_get(r), v4("10.0.0.1"))->asn, 1);

    assert_int_equal(lpm_rcu_publish(r, one(2)), 0);
    assert_int_equal(lpm_lookup4(lpm_rcu_get(r), v4("10.0.0.1"))->asn, 2);
    assert_int_equal(lpm_rcu_reclaim(r), 1); /* both readers may hold table 1 */
    lpm_rcu_quiescent(r, 0);
    assert_int_equal(lpm_rcu_reclaim(r), 1); /* reader 1 still may */
    lpm_rcu_quiescent(r, 1);
    assert_int_equal(lpm_rcu_reclaim(r), 0);

    /* an offline reader holds nothing */
    lpm_rcu_offline(r, 1);
    assert_int_equal(lpm_rcu_publish(r, one(3)), 0);
    assert_int_equal(lpm_rcu_reclaim(r), 1);
    lpm_rcu_quiescent(r, 0);
    assert_int_equal(lpm_rcu_reclaim(r), 0);

    /* a stuck reader: at most LPM_RCU_MAX_RETIRED tables wait, then publish refuses */
    for (unsigned i = 0; i < LPM_RCU_MAX_RETIRED; i++)
        assert_int_equal(lpm_rcu_publish(r, one(10 + i)), 0);
    struct lpm *extra = one(99);
    assert_int_equal(lpm_rcu_publish(r, extra), -EBUSY);
    lpm_free(extra);
    lpm_rcu_quiescent(r, 0);
    assert_int_equal(lpm_rcu_reclaim(r), 0);
    lpm_rcu_free(r);
}

struct reader_arg {
    struct lpm_rcu *r;
    atomic_int stop;
    uint64_t lookups;
    int bad;
};

static void *
reader(void *p)
{
    struct reader_arg *a = p;
    while (!atomic_load(&a->stop)) {
        for (int i = 0; i < 256; i++) {
            const struct lpm *t = lpm_rcu_get(a->r);
            const struct lpm_entry *e = lpm_lookup4(t, 0x0a000000u + (uint32_t)i);
            if (e == NULL || e->asn < 1000)
                a->bad++;
            a->lookups++;
        }
        lpm_rcu_quiescent(a->r, 0);
    }
    lpm_rcu_offline(a->r, 0);
    return NULL;
}

static void
rcu_swap_under_readers(void **state)
{
    (void)state;
    struct reader_arg a = {.r = lpm_rcu_new(1, one(1000))};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, reader, &a), 0);
    for (uint32_t i = 1; i <= 200;) {
        if (lpm_rcu_publish(a.r, one(1000 + i)) == 0)
            i++;
        else
            usleep(100);
    }
    atomic_store(&a.stop, 1);
    pthread_join(th, NULL);
    assert_int_equal(a.bad, 0);
    assert_true(a.lookups > 0);
    assert_int_equal(lpm_rcu_reclaim(a.r), 0);
    assert_int_equal(lpm_lookup4(lpm_rcu_get(a.r), 0x0a000001u)->asn, 1200);
    lpm_rcu_free(a.r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(overlapping_v4),
        cmocka_unit_test(default_and_host_routes),
        cmocka_unit_test(overlapping_v6),
        cmocka_unit_test(networks_file_forms),
        cmocka_unit_test(bad_lines),
        cmocka_unit_test(load_file),
        cmocka_unit_test(random_table_vs_reference),
        cmocka_unit_test(mmdb_vs_libmaxminddb),
        cmocka_unit_test(rcu_retires_after_quiescence),
        cmocka_unit_test(rcu_swap_under_readers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
