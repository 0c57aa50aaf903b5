/*
 * fuzz_networks.c - libFuzzer harness for the networks-file parser (lpm_parse_networks) and
 * the table built from what it accepts.
 *
 * Properties checked on every input, beyond "no crash, no leak, no UB" (ASan/UBSan):
 *   - a rejected input gets one line naming it and its line ("fuzz:LINE: ...");
 *   - an accepted input builds a table, and every address the input names as a network is
 *     found in it (some prefix covers it).
 *
 * Built two ways: with -fsanitize=fuzzer it is a libFuzzer target; with -DFUZZ_STANDALONE it
 * runs seeded, deterministic mutations of a few seed files and is a `make check` test.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpm.h"

static void
die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_networks: property violated: %s: %s\n", what, detail);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    struct lpm_builder *b = lpm_builder_new();

    if (b == NULL)
        die("builder", "out of memory");
    if (lpm_parse_networks(b, "fuzz", (const char *)data, size, err, sizeof(err)) != 0) {
        if (strncmp(err, "fuzz:", 5) != 0 || strchr(err, '\n') != NULL)
            die("error message", err);
        lpm_builder_free(b);
        return 0;
    }
    struct lpm *t = lpm_builder_finish(b, err, sizeof(err));
    if (t == NULL)
        die("build", err);
    /* Every "ADDR/" or "ADDR" at a line's last field must be covered by some prefix. */
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *f = p;
        while (f < le && (*f == ' ' || *f == '\t'))
            f++;
        if (f < le && (*f == '!' || *f == '#')) {
            p = le + 1;
            continue; /* a comment line */
        }
        const char *c = le;
        while (c > p && c[-1] != ',')
            c--;
        char tmp[64];
        size_t n = 0;
        while (c + n < le && n < sizeof(tmp) - 1 && c[n] != '/' && c[n] != ' ' && c[n] != '\t' &&
               c[n] != '\r')
            n++;
        while (n > 0 && c == p && (*c == ' ' || *c == '\t'))
            c++, n--;
        memcpy(tmp, c, n);
        tmp[n] = 0;
        uint8_t a[16];
        if (n > 0 && inet_pton(AF_INET, tmp, a) == 1) {
            uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
            if (lpm_lookup4(t, v) == NULL)
                die("IPv4 network not found", tmp);
        } else if (n > 0 && inet_pton(AF_INET6, tmp, a) == 1) {
            if (lpm_lookup6(t, a) == NULL)
                die("IPv6 network not found", tmp);
        }
        p = le + 1;
    }
    lpm_free(t);
    return 0;
}

#ifdef FUZZ_STANDALONE
static const char *seeds[] = {
    "! comment\n65500,192.168.1.0/24\n64512_65501,192.168.2.0/25\n10.0.0.1,65502,192.168.4.0/23\n",
    "1,0.0.0.0/0\n2,::/0\n3,2001:db8::/32\n4,2001:db8:1::1/128\n5,10.0.0.0/8\n6,10.1.2.3\n",
    "2001:db8::ff,64512_65503,2001:db8:4::/48\n64496, 65504 , 198.51.100.77/24\r\n# x\n\n",
};
static const char alphabet[] = "0123456789abcdef.:,/_!# \n\r\t";

static uint64_t
rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int
main(int argc, char **argv)
{
    /* each input builds a table (a 1 MiB direct array per family): ~3 ms */
    unsigned iters = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000;
    uint64_t s = 1;
    uint8_t buf[512];

    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
        LLVMFuzzerTestOneInput((const uint8_t *)seeds[i], strlen(seeds[i]));
    for (unsigned it = 0; it < iters; it++) {
        const char *seed = seeds[rnd(&s) % (sizeof(seeds) / sizeof(seeds[0]))];
        size_t n = strlen(seed);
        memcpy(buf, seed, n);
        unsigned edits = 1 + (unsigned)(rnd(&s) % 4);
        for (unsigned e = 0; e < edits && n > 0; e++) {
            size_t at = (size_t)(rnd(&s) % n);
            switch (rnd(&s) % 4) {
            case 0: /* replace */
                buf[at] = (uint8_t)alphabet[rnd(&s) % (sizeof(alphabet) - 1)];
                break;
            case 1: /* insert */
                if (n < sizeof(buf)) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = (uint8_t)alphabet[rnd(&s) % (sizeof(alphabet) - 1)];
                    n++;
                }
                break;
            case 2: /* delete */
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
                break;
            default: /* truncate */
                n = at;
                break;
            }
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz_networks: %u mutated inputs, properties held\n", iters);
    return 0;
}
#endif
