/*
 * lpm_gen.c - the random BGP-like prefix set of lpm_gen.h.
 */
#include "lpm_gen.h"

#include <string.h>

uint64_t
lpm_gen_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Cumulative per-mille of prefix lengths, roughly a 2026 full table's. */
static const struct {
    uint16_t permille;
    uint8_t plen;
} v4_dist[] = {{2, 8},    {4, 12},   {8, 14},   {14, 15},  {40, 16},  {55, 17},  {80, 18},
               {115, 19}, {165, 20}, {225, 21}, {310, 22}, {400, 23}, {985, 24}, {990, 25},
               {994, 27}, {997, 29}, {999, 30}, {1000, 32}},
  v6_dist[] = {{10, 29},  {180, 32}, {210, 33}, {240, 36}, {300, 40}, {380, 44},
               {420, 46}, {450, 47}, {960, 48}, {980, 56}, {1000, 64}};

static uint8_t
pick(uint64_t r, int v6)
{
    unsigned x = (unsigned)(r % 1000);
    if (v6) {
        for (size_t i = 0; i < sizeof(v6_dist) / sizeof(v6_dist[0]); i++)
            if (x < v6_dist[i].permille)
                return v6_dist[i].plen;
        return 48;
    }
    for (size_t i = 0; i < sizeof(v4_dist) / sizeof(v4_dist[0]); i++)
        if (x < v4_dist[i].permille)
            return v4_dist[i].plen;
    return 24;
}

static void
mask(uint8_t *a, unsigned bytes, unsigned plen)
{
    for (unsigned i = 0; i < bytes; i++) {
        unsigned keep = plen >= 8 * (i + 1) ? 8 : plen > 8 * i ? plen - 8 * i : 0;
        a[i] &= (uint8_t)(0xff00u >> keep);
    }
}

static void
rand_bytes(uint64_t *s, uint8_t *out, unsigned n)
{
    for (unsigned i = 0; i < n; i += 8) {
        uint64_t r = lpm_gen_rand(s);
        for (unsigned k = 0; k < 8 && i + k < n; k++)
            out[i + k] = (uint8_t)(r >> (8 * k));
    }
}

void
lpm_gen_table(struct lpm_gen_prefix *p, size_t n, uint64_t seed)
{
    uint64_t s = seed;

    for (size_t i = 0; i < n; i++) {
        int v6 = lpm_gen_rand(&s) % 100 < 15;
        memset(&p[i], 0, sizeof(p[i]));
        p[i].family = v6 ? 6 : 4;
        p[i].plen = pick(lpm_gen_rand(&s), v6);
        rand_bytes(&s, p[i].addr, v6 ? 16 : 4);
        if (v6)
            p[i].addr[0] = (uint8_t)(0x20 | (p[i].addr[0] & 0x1f)); /* 2000::/3 */
        else if (p[i].addr[0] == 0 || p[i].addr[0] >= 224)
            p[i].addr[0] = (uint8_t)(1 + p[i].addr[0] % 223);
        mask(p[i].addr, v6 ? 16 : 4, p[i].plen);
        p[i].asn = (uint32_t)(1 + lpm_gen_rand(&s) % 400000);
    }
}

void
lpm_gen_addr(const struct lpm_gen_prefix *p, size_t n, int family, uint64_t *s, uint8_t out[16])
{
    uint64_t r = lpm_gen_rand(s);

    rand_bytes(s, out, 16);
    if (r & 1) {
        /* inside a prefix of that family: start from a random one, scan for the family */
        size_t i = (size_t)(r >> 1) % n;
        for (size_t k = 0; k < n; k++, i = (i + 1) % n) {
            if (p[i].family != family)
                continue;
            unsigned bytes = family == 4 ? 4 : 16;
            for (unsigned b = 0; b < bytes; b++) {
                unsigned keep = p[i].plen >= 8 * (b + 1) ? 8 : p[i].plen > 8 * b ? p[i].plen - 8 * b : 0;
                uint8_t m = (uint8_t)(0xff00u >> keep);
                out[b] = (uint8_t)((p[i].addr[b] & m) | (out[b] & ~m));
            }
            return;
        }
    }
    if (family == 6)
        out[0] = (uint8_t)(0x20 | (out[0] & 0x1f));
}
