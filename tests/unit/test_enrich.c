/*
 * test_enrich.c - the output thread's enrichment of finished flows (probe/enrich.c): AS numbers
 * and prefix lengths from a networks file with overlapping IPv4 and IPv6 prefixes (expected
 * values from a brute-force longest match over the same lines, written by the test), a MaxMind
 * DB written by Debian's libmaxmind-db-writer-perl beside a networks file (the file's entry
 * wins for a prefix both have), bad lines (the error names FILE:LINE), --local-networks and
 * flowDirection (list and file forms), the groups each configuration turns on, and the SIGHUP
 * reload: a changed file changes the AS numbers once enr_poll() swaps the table, a broken one
 * keeps the running table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "enrich.h"
#include "fields.h"
#include "lpm_gen.h"

static char err[512];

static void
write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* A flow slot has the enrichment extension at ext[0] when there are no statistics, SPLT or
 * DPI (SLOT declares one and fp pointing to it). */
#define SLOT                                                                                 \
    _Alignas(struct flow) unsigned char raw[sizeof(struct flow) + sizeof(struct flow_enrich)]; \
    struct flow *fp = (struct flow *)(void *)raw
static const struct flow_layout L = {.enrich = FLD_G_AS | FLD_G_PREFIX | FLD_G_ROUTE |
                                               FLD_G_DIRECTION,
                                     .enrich_off = 0};
#define ENR(f) flow_enrich(&L, (f))

/* A flow from src to dst (both of one family). */
static void
mkflow(struct flow *f, const char *src, const char *dst)
{
    memset(f, 0, sizeof(*f));
    int fam = strchr(src, ':') != NULL ? AF_INET6 : AF_INET;
    f->key.ip_version = fam == AF_INET ? 4 : 6;
    assert_int_equal(inet_pton(fam, src, f->key.lo_ip), 1);
    assert_int_equal(inet_pton(fam, dst, f->key.hi_ip), 1);
    f->src_is_hi = 0;
    memset(ENR(f), 0xa5, sizeof(struct flow_enrich)); /* enr_flow writes every member */
}

/* Brute-force reference: the longest of n prefixes (later lines replace earlier equal ones)
 * holding addr. */
struct ref_prefix {
    int family;
    uint8_t addr[16];
    unsigned plen;
    uint32_t asn;
};

static bool
in_prefix(const struct ref_prefix *p, int family, const uint8_t *a)
{
    if (p->family != family)
        return false;
    for (unsigned b = 0; b < p->plen; b++)
        if (((p->addr[b / 8] ^ a[b / 8]) >> (7 - b % 8)) & 1)
            return false;
    return true;
}

static const struct ref_prefix *
ref_lookup(const struct ref_prefix *p, size_t n, int family, const uint8_t *a)
{
    const struct ref_prefix *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (in_prefix(&p[i], family, a) && (best == NULL || p[i].plen >= best->plen))
            best = &p[i];
    return best;
}

/* Overlapping IPv4 and IPv6 prefixes (default routes, /8 .. /32, /32 .. /128, pmacct's forms),
 * then random addresses around them: enr_flow() equals the brute-force reference. */
static void
as_and_prefix_lengths_follow_the_longest_match(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "0.0.0.0/0",                    "64500,10.0.0.0/8",
        "64501,10.1.0.0/16",            "65535,64502,10.1.2.0/24",
        "4200000000,10.1.2.128/25",     "64503,10.1.2.129/32",
        "64504,192.0.2.0/24",           "64505,198.51.100.0/22",
        "64506,2001:db8::/32",          "64507,2001:db8:1::/48",
        "64508,2001:db8:1:2::/64",      "64509,2001:db8:1:2::1/128",
        "64510,::/0",                   "64511,10.1.0.0/16",
    };
    const size_t n = sizeof(lines) / sizeof(lines[0]);
    struct ref_prefix ref[16];
    char text[2048] = "# overlapping prefixes\n! pmacct comment\n\n";
    for (size_t i = 0; i < n; i++) {
        char net[64];
        const char *comma = strrchr(lines[i], ',');
        snprintf(net, sizeof(net), "%s", comma != NULL ? comma + 1 : lines[i]);
        char *slash = strchr(net, '/');
        *slash = '\0';
        ref[i].family = strchr(net, ':') != NULL ? 6 : 4;
        assert_int_equal(inet_pton(ref[i].family == 4 ? AF_INET : AF_INET6, net, ref[i].addr), 1);
        ref[i].plen = (unsigned)atoi(slash + 1);
        /* the origin AS is the field before the prefix; none: 0 */
        ref[i].asn = 0;
        if (comma != NULL) {
            const char *start = comma;
            while (start > lines[i] && start[-1] != ',')
                start--;
            ref[i].asn = (uint32_t)strtoul(start, NULL, 10);
        }
        strcat(text, lines[i]);
        strcat(text, "\n");
    }
    char path[] = "/tmp/nfprobe-enrich-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, text);

    struct enr_config c = {.networks_file = path};
    assert_int_equal(enr_groups(&c), FLD_G_AS | FLD_G_PREFIX);
    struct enricher *e = enr_new(&c, err, sizeof(err));
    if (e == NULL)
        fail_msg("%s", err);
    assert_int_equal(enr_stats(e)->prefixes4, 8); /* 10.1.0.0/16 twice: the later one wins */
    assert_int_equal(enr_stats(e)->prefixes6, 5);

    uint64_t seed = 7;
    for (int i = 0; i < 20000; i++) {
        int fam = (i & 1) ? 6 : 4;
        uint8_t a[2][16] = {{0}};
        for (int k = 0; k < 2; k++) {
            const struct ref_prefix *p = &ref[lpm_gen_rand(&seed) % n];
            while (p->family != fam)
                p = &ref[lpm_gen_rand(&seed) % n];
            memcpy(a[k], p->addr, 16);
            /* random bits from somewhere around the prefix's end */
            unsigned from = p->plen > 3 ? p->plen - 3 : 0, len = fam == 4 ? 32 : 128;
            for (unsigned b = from; b < len; b++)
                if (lpm_gen_rand(&seed) & 1)
                    a[k][b / 8] ^= (uint8_t)(0x80 >> (b % 8));
        }
        SLOT;
        char s[2][64];
        for (int k = 0; k < 2; k++)
            inet_ntop(fam == 4 ? AF_INET : AF_INET6, a[k], s[k], sizeof(s[k]));
        mkflow(fp, s[0], s[1]);
        enr_flow(e, &L, fp);
        const struct ref_prefix *rs = ref_lookup(ref, n, fam, a[0]);
        const struct ref_prefix *rd = ref_lookup(ref, n, fam, a[1]);
        if (ENR(fp)->src_as != (rs ? rs->asn : 0) || ENR(fp)->src_plen != (rs ? rs->plen : 0) ||
            ENR(fp)->dst_as != (rd ? rd->asn : 0) || ENR(fp)->dst_plen != (rd ? rd->plen : 0))
            fail_msg("%s -> %s: AS %u/%u plen %u/%u, expected %u/%u %u/%u", s[0], s[1],
                     ENR(fp)->src_as, ENR(fp)->dst_as, ENR(fp)->src_plen, ENR(fp)->dst_plen,
                     rs ? rs->asn : 0, rd ? rd->asn : 0, rs ? rs->plen : 0, rd ? rd->plen : 0);
        /* nothing else was configured: direction 0, and without --route-lookup the slot's
         * extension ends before the route members, which enr_flow() must not touch */
        assert_int_equal(ENR(fp)->direction, 0);
        const unsigned char *after = (const unsigned char *)ENR(fp) + FLOW_ENRICH_BASE_SIZE;
        for (size_t k = 0; k < sizeof(struct flow_enrich) - FLOW_ENRICH_BASE_SIZE; k++)
            assert_int_equal(after[k], 0xa5);
    }
    assert_int_equal(enr_stats(e)->flows, 20000);
    enr_free(e);
    unlink(path);
}

/* A bad line stops the start: the error names the file and the line. */
static void
bad_lines_name_file_and_line(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *where;
    } cases[] = {
        {"64500,10.0.0.0/8\n64501,10.0.0.0/33\n", ":2:"},
        {"# c\n\n64500,2001:db8::/129\n", ":3:"},
        {"64500,10.0.0.0/8\nx,10.1.0.0/16\n", ":2:"},
        {"64500,10.0.0.0/8\n64501,10.1.0.0/16\n64502,not-an-address/8\n", ":3:"},
    };
    char path[] = "/tmp/nfprobe-enrich-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_file(path, cases[i].text);
        struct enr_config c = {.networks_file = path};
        err[0] = '\0';
        assert_null(enr_new(&c, err, sizeof(err)));
        char want[128];
        snprintf(want, sizeof(want), "%s%s", path, cases[i].where);
        if (strstr(err, want) == NULL)
            fail_msg("case %zu: '%s' does not name %s", i, err, want);
        assert_null(strchr(err, '\n'));
    }
    struct enr_config c = {.networks_file = "/nonexistent/networks.lst"};
    assert_null(enr_new(&c, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/networks.lst"));
    /* --local-networks: the bad item is named */
    c = (struct enr_config){.local_networks = "10.0.0.0/8,10.1.0.0/99"};
    assert_null(enr_new(&c, err, sizeof(err)));
    assert_non_null(strstr(err, "--local-networks"));
    unlink(path);
}

/* flowDirection: destination local -> 0 (ingress), source local and destination not -> 1
 * (egress), neither -> 0; the list and file forms agree. */
static void
direction_from_local_networks(void **state)
{
    (void)state;
    char path[] = "/tmp/nfprobe-enrich-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "# ours\n192.0.2.0/24\n2001:db8:5::/48\n");
    const char *forms[] = {"192.0.2.0/24,2001:db8:5::/48", path};
    static const struct {
        const char *src, *dst;
        uint8_t dir;
    } cases[] = {
        {"198.51.100.1", "192.0.2.7", 0},   /* into ours: ingress */
        {"192.0.2.7", "198.51.100.1", 1},   /* out of ours: egress */
        {"192.0.2.7", "192.0.2.8", 0},      /* both: arriving at the destination */
        {"198.51.100.1", "203.0.113.1", 0}, /* transit */
        {"2001:db8:5::1", "2001:db8:6::1", 1},
        {"2001:db8:6::1", "2001:db8:5::1", 0},
    };
    for (size_t k = 0; k < 2; k++) {
        struct enr_config c = {.local_networks = forms[k]};
        assert_int_equal(enr_groups(&c), FLD_G_DIRECTION);
        struct enricher *e = enr_new(&c, err, sizeof(err));
        if (e == NULL)
            fail_msg("%s", err);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            SLOT;
            mkflow(fp, cases[i].src, cases[i].dst);
            enr_flow(e, &L, fp);
            if (ENR(fp)->direction != cases[i].dir)
                fail_msg("%s -> %s: direction %u", cases[i].src, cases[i].dst, ENR(fp)->direction);
            assert_int_equal(ENR(fp)->src_as, 0);
        }
        enr_free(e);
    }
    unlink(path);
}

static void
groups(void **state)
{
    (void)state;
    struct enr_config c = {0};
    assert_int_equal(enr_groups(&c), 0);
    c.route_lookup = true;
    assert_int_equal(enr_groups(&c), FLD_G_ROUTE | FLD_G_PREFIX);
    c.asn_database = "x.mmdb";
    assert_int_equal(enr_groups(&c), FLD_G_ROUTE | FLD_G_PREFIX | FLD_G_AS);
}

/* A MaxMind DB written by the test beside a networks file: one table; for a prefix both have,
 * the networks file wins. */
static void
mmdb_and_networks_file(void **state)
{
    (void)state;
    if (system("perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null") != 0)
        skip(); /* Debian: libmaxmind-db-writer-perl */
    char mmdb[] = "/tmp/nfprobe-enrich-mmdb-XXXXXX", nets[] = "/tmp/nfprobe-enrich-XXXXXX";
    int fd = mkstemp(mmdb);
    assert_true(fd >= 0);
    close(fd);
    fd = mkstemp(nets);
    assert_true(fd >= 0);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "perl %s/mkmmdb.pl %s", LPM_DATA_DIR, mmdb);
    FILE *pp = popen(cmd, "w");
    assert_non_null(pp);
    fputs("198.51.100.0/24 64496\n203.0.113.0/24 64497\n2001:db8:7::/48 64498\n"
          "2001:db8:8::/48 64499\n", pp);
    assert_int_equal(pclose(pp), 0);
    write_file(nets, "64600,203.0.113.0/24\n64601,2001:db8:8::/48\n64602,192.0.2.0/25\n");

    struct enr_config c = {.networks_file = nets, .asn_database = mmdb};
    struct enricher *e = enr_new(&c, err, sizeof(err));
    if (e == NULL)
        fail_msg("%s", err);
    static const struct {
        const char *src, *dst;
        uint32_t sas, das;
        uint8_t splen, dplen;
    } cases[] = {
        {"198.51.100.9", "203.0.113.9", 64496, 64600, 24, 24},
        {"192.0.2.1", "192.0.2.200", 64602, 0, 25, 0},
        {"2001:db8:7::1", "2001:db8:8::1", 64498, 64601, 48, 48},
        {"2001:db8:9::1", "2001:db8:7:1::5", 0, 64498, 0, 48},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        SLOT;
        mkflow(fp, cases[i].src, cases[i].dst);
        enr_flow(e, &L, fp);
        if (ENR(fp)->src_as != cases[i].sas || ENR(fp)->dst_as != cases[i].das ||
            ENR(fp)->src_plen != cases[i].splen || ENR(fp)->dst_plen != cases[i].dplen)
            fail_msg("%s -> %s: AS %u/%u plen %u/%u", cases[i].src, cases[i].dst, ENR(fp)->src_as,
                     ENR(fp)->dst_as, ENR(fp)->src_plen, ENR(fp)->dst_plen);
    }
    enr_free(e);
    unlink(mmdb);
    unlink(nets);
}

/* Waits (bounded) for the reload thread, polling as the output tick does. */
static bool
poll_until_done(struct enricher *e, uint64_t reloads, uint64_t failures)
{
    for (int i = 0; i < 500; i++) {
        enr_poll(e);
        const struct enr_stats *s = enr_stats(e);
        if (s->reloads != reloads || s->reload_failures != failures)
            return true;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* SIGHUP: a changed file changes AS numbers once the new table is swapped in; until then the
 * old one answers; a broken file keeps the running table; a second reload while one runs is
 * refused. */
static void
reload_swaps_or_keeps(void **state)
{
    (void)state;
    char path[] = "/tmp/nfprobe-enrich-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "64500,10.0.0.0/8\n");
    struct enr_config c = {.networks_file = path};
    struct enricher *e = enr_new(&c, err, sizeof(err));
    if (e == NULL)
        fail_msg("%s", err);
    SLOT;
    mkflow(fp, "10.1.1.1", "11.0.0.1");
    enr_flow(e, &L, fp);
    assert_int_equal(ENR(fp)->src_as, 64500);
    assert_int_equal(ENR(fp)->src_plen, 8);

    write_file(path, "64501,10.1.0.0/16\n64502,11.0.0.0/8\n");
    assert_int_equal(enr_reload(e), 0);
    int again = enr_reload(e);
    assert_true(again == -EBUSY || again == 0); /* 0 only if the first one was already swapped */
    assert_true(poll_until_done(e, 0, 0));
    if (again == 0)
        poll_until_done(e, 1, 0);
    enr_flow(e, &L, fp);
    assert_int_equal(ENR(fp)->src_as, 64501);
    assert_int_equal(ENR(fp)->src_plen, 16);
    assert_int_equal(ENR(fp)->dst_as, 64502);
    assert_int_equal(enr_stats(e)->prefixes4, 2);

    uint64_t reloads = enr_stats(e)->reloads;
    write_file(path, "64503,10.0.0.0/8\nbroken line\n");
    assert_int_equal(enr_reload(e), 0);
    assert_true(poll_until_done(e, reloads, 0));
    assert_int_equal(enr_stats(e)->reload_failures, 1);
    enr_flow(e, &L, fp);
    assert_int_equal(ENR(fp)->src_as, 64501); /* the running table stayed */

    /* freed while a reload runs: enr_free() waits for it */
    assert_int_equal(enr_reload(e), 0);
    enr_free(e);
    unlink(path);

    /* nothing to reload without a table */
    c = (struct enr_config){.local_networks = "10.0.0.0/8"};
    e = enr_new(&c, err, sizeof(err));
    assert_non_null(e);
    assert_int_equal(enr_reload(e), -ENOENT);
    enr_free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(as_and_prefix_lengths_follow_the_longest_match),
        cmocka_unit_test(bad_lines_name_file_and_line),
        cmocka_unit_test(direction_from_local_networks),
        cmocka_unit_test(groups),
        cmocka_unit_test(mmdb_and_networks_file),
        cmocka_unit_test(reload_swaps_or_keeps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
