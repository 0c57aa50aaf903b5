/*
 * lpm_bench.c - the prefix table's cost: build time of an N-prefix BGP-like table (default
 * 1,000,000, 85% IPv4 / 15% IPv6, tests/unit/lpm_gen.c), the same table written as a pmacct
 * networks file and loaded from it, memory, and lookups/s of random addresses (half inside a
 * prefix), IPv4 and IPv6, one thread: uniformly over 1M addresses (every lookup a cache miss:
 * the worst case) and over a 64k-address working set (the endpoints of concurrent flows).
 * Times are the process's CPU time.
 *
 * usage: lpm_bench [N] [LOOKUPS]
 *        lpm_bench --write FILE [N]   (only write the table as a networks file)
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lpm.h"
#include "lpm_gen.h"

/* Process CPU time: on a shared machine, wall time measures the neighbours (both are printed
 * for the load; the rates use CPU time). */
static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --write FILE [N]: only writes the N-prefix table as a networks file (tools/bench/enrich.sh). */
static int
write_only(const char *path, size_t n)
{
    struct lpm_gen_prefix *p = malloc(n * sizeof(*p));
    FILE *fp = fopen(path, "w");

    if (p == NULL || fp == NULL) {
        fprintf(stderr, "lpm_bench: %s: cannot write\n", path);
        free(p);
        if (fp != NULL)
            fclose(fp);
        return 1;
    }
    lpm_gen_table(p, n, 42);
    for (size_t i = 0; i < n; i++) {
        char s[INET6_ADDRSTRLEN];
        inet_ntop(p[i].family == 4 ? AF_INET : AF_INET6, p[i].addr, s, sizeof(s));
        fprintf(fp, "%u,%s/%u\n", p[i].asn, s, p[i].plen);
    }
    free(p);
    return fclose(fp) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--write") == 0)
        return write_only(argv[2], argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000);
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t nl = argc > 2 ? strtoul(argv[2], NULL, 10) : 20000000;
    char err[512];
    struct lpm_gen_prefix *p = malloc(n * sizeof(*p));

    if (p == NULL || n == 0)
        return 1;
    lpm_gen_table(p, n, 42);

    /* build from memory */
    double t0 = now_s(), w0 = wall_s();
    struct lpm_builder *b = lpm_builder_new();
    for (size_t i = 0; i < n; i++) {
        struct lpm_entry e = {.asn = p[i].asn};
        lpm_builder_add(b, p[i].family, p[i].addr, p[i].plen, &e);
    }
    struct lpm *t = lpm_builder_finish(b, err, sizeof(err));
    double t_build = now_s() - t0, w_build = wall_s() - w0;
    if (t == NULL) {
        fprintf(stderr, "lpm_bench: %s\n", err);
        return 1;
    }

    /* load from a networks file */
    char path[] = "/tmp/lpm-bench-XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fp == NULL)
        return 1;
    for (size_t i = 0; i < n; i++) {
        char s[INET6_ADDRSTRLEN];
        inet_ntop(p[i].family == 4 ? AF_INET : AF_INET6, p[i].addr, s, sizeof(s));
        fprintf(fp, "%u,%s/%u\n", p[i].asn, s, p[i].plen);
    }
    fclose(fp);
    t0 = now_s();
    w0 = wall_s();
    struct lpm *t2 = lpm_load(path, NULL, err, sizeof(err));
    double t_load = now_s() - t0, w_load = wall_s() - w0;
    unlink(path);
    if (t2 == NULL) {
        fprintf(stderr, "lpm_bench: %s\n", err);
        return 1;
    }
    lpm_free(t2);

    /* lookups: addresses generated first, so only the lookups are timed */
    size_t na = 1 << 20;
    uint32_t *a4 = malloc(na * sizeof(*a4));
    uint8_t(*a6)[16] = malloc(na * 16);
    uint64_t st = 1;
    for (size_t i = 0; i < na; i++) {
        uint8_t a[16];
        lpm_gen_addr(p, n, 4, &st, a);
        a4[i] = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
        lpm_gen_addr(p, n, 6, &st, a6[i]);
    }
    uint64_t sum = 0;
    t0 = now_s();
    for (size_t i = 0; i < nl; i++) {
        const struct lpm_entry *e = lpm_lookup4(t, a4[i & (na - 1)]);
        sum += e ? e->asn : 0;
    }
    double t4 = now_s() - t0;
    t0 = now_s();
    for (size_t i = 0; i < nl; i++) {
        const struct lpm_entry *e = lpm_lookup6(t, a6[i & (na - 1)]);
        sum += e ? e->asn : 0;
    }
    double t6 = now_s() - t0;

    /* Flow-like: the endpoints of 64k concurrent flows, each looked up repeatedly (a probe looks
     * up both addresses once per flow; the table's hot part stays in cache). */
    size_t ws = 1 << 16;
    t0 = now_s();
    for (size_t i = 0; i < nl; i++) {
        size_t k = (i * 2654435761u) & (ws - 1);
        const struct lpm_entry *e = lpm_lookup4(t, a4[k]);
        sum += e ? e->asn : 0;
    }
    double t4w = now_s() - t0;
    t0 = now_s();
    for (size_t i = 0; i < nl; i++) {
        size_t k = (i * 2654435761u) & (ws - 1);
        const struct lpm_entry *e = lpm_lookup6(t, a6[k]);
        sum += e ? e->asn : 0;
    }
    double t6w = now_s() - t0;

    printf("prefixes: %zu (IPv4 %zu, IPv6 %zu distinct)\n", n, lpm_count(t, 4), lpm_count(t, 6));
    printf("build from memory: %.3f s CPU (%.3f s wall)\n", t_build, w_build);
    printf("load networks file: %.3f s CPU (%.3f s wall)\n", t_load, w_load);
    printf("memory: %.1f MiB\n", (double)lpm_memory(t) / (1024.0 * 1024.0));
    printf("IPv4 lookups: %.1f M/s (%.1f ns each)\n", (double)nl / t4 / 1e6, t4 * 1e9 / (double)nl);
    printf("IPv6 lookups: %.1f M/s (%.1f ns each)\n", (double)nl / t6 / 1e6, t6 * 1e9 / (double)nl);
    printf("IPv4 lookups, 64k-address working set: %.1f M/s (%.1f ns each)\n",
           (double)nl / t4w / 1e6, t4w * 1e9 / (double)nl);
    printf("IPv6 lookups, 64k-address working set: %.1f M/s (%.1f ns each)\n",
           (double)nl / t6w / 1e6, t6w * 1e9 / (double)nl);
    printf("(checksum %" PRIu64 ")\n", sum);
    lpm_free(t);
    free(a4);
    free(a6);
    free(p);
    return 0;
}
