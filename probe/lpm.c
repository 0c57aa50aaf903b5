/*
 * lpm.c - poptrie longest-prefix match, its builders (pmacct networks file, MaxMind DB) and
 * the QSBR table swap. See lpm.h for the structure and the contracts.
 */
#include "lpm.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <maxminddb.h>

#define NODE_BIT 0x80000000u /* direct entry: a node index, not a leaf */
#define STRIDE 6

/* ---------------------------------------------------------------- builder */

struct bpfx {
    uint64_t hi, lo; /* key, left-aligned (IPv4 in the top 32 bits of hi) */
    uint32_t seq;    /* insertion order: a later duplicate wins */
    uint32_t ent;    /* index into entries */
    uint8_t plen;
};

struct bvec {
    struct bpfx *v;
    size_t n, cap;
};

struct lpm_builder {
    struct bvec fam[2]; /* [0] IPv4, [1] IPv6 */
    struct lpm_entry *ents;
    size_t n_ents, cap_ents;
    uint32_t seq;
};

struct lpm_node {
    uint64_t vector;  /* slot has a child node */
    uint64_t leafvec; /* a run of equal leaves starts at this slot */
    uint32_t base0;   /* first leaf */
    uint32_t base1;   /* first child */
};

struct lpm_tab {
    unsigned dbits;
    size_t count;
    uint32_t *direct; /* 1 << dbits: leaf value, or NODE_BIT | node index */
    struct lpm_node *nodes;
    size_t n_nodes, cap_nodes;
    uint32_t *leaves; /* leaf value: entry index + 1, 0 = no prefix */
    size_t n_leaves, cap_leaves;
};

struct lpm {
    struct lpm_tab tab[2];
    struct lpm_entry *ents;
    size_t n_ents;
    int popcnt; /* the CPU has POPCNT: use the walk built for it */
};

struct lpm_builder *
lpm_builder_new(void)
{
    return calloc(1, sizeof(struct lpm_builder));
}

void
lpm_builder_free(struct lpm_builder *b)
{
    if (b == NULL)
        return;
    free(b->fam[0].v);
    free(b->fam[1].v);
    free(b->ents);
    free(b);
}

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (q == NULL)
        return -ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static void
mask_key(uint64_t *hi, uint64_t *lo, unsigned plen)
{
    if (plen == 0) {
        *hi = *lo = 0;
    } else if (plen < 64) {
        *hi &= ~0ULL << (64 - plen);
        *lo = 0;
    } else if (plen == 64) {
        *lo = 0;
    } else if (plen < 128) {
        *lo &= ~0ULL << (128 - plen);
    }
}

static uint64_t
load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int
lpm_builder_add(struct lpm_builder *b, int family, const uint8_t *addr, unsigned plen,
                const struct lpm_entry *e)
{
    uint64_t hi, lo = 0;
    int f;

    if (family == 4 && plen <= 32) {
        f = 0;
        hi = (uint64_t)((uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
                        (uint32_t)addr[2] << 8 | addr[3])
             << 32;
    } else if (family == 6 && plen <= 128) {
        f = 1;
        hi = load_be64(addr);
        lo = load_be64(addr + 8);
    } else {
        return -EINVAL;
    }
    mask_key(&hi, &lo, plen);
    struct bvec *v = &b->fam[f];
    if (grow((void **)&v->v, &v->cap, v->n + 1, sizeof(*v->v)) != 0 ||
        grow((void **)&b->ents, &b->cap_ents, b->n_ents + 1, sizeof(*b->ents)) != 0)
        return -ENOMEM;
    if (b->n_ents >= NODE_BIT - 1)
        return -ENOMEM;
    struct lpm_entry *d = &b->ents[b->n_ents];
    *d = *e;
    d->plen = (uint8_t)plen;
    d->family = (uint8_t)family;
    v->v[v->n++] = (struct bpfx){.hi = hi, .lo = lo, .seq = b->seq++, .ent = (uint32_t)b->n_ents,
                                 .plen = (uint8_t)plen};
    b->n_ents++;
    return 0;
}

/* ---------------------------------------------------------------- build */

/* Key bits [off, off + n) from the left, zero past the end (n <= 32). */
static inline unsigned
chunk(uint64_t hi, uint64_t lo, unsigned off, unsigned n)
{
    uint64_t w;

    if (off == 0)
        w = hi;
    else if (off < 64)
        w = hi << off | lo >> (64 - off);
    else if (off < 128)
        w = lo << (off - 64);
    else
        w = 0;
    return (unsigned)(w >> (64 - n));
}

static int
cmp_bpfx(const void *a, const void *b)
{
    const struct bpfx *x = a, *y = b;

    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if (x->plen != y->plen)
        return x->plen < y->plen ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct level {
    uint32_t *val;
    uint8_t *len;
    size_t *cstart, *cend;
};

/*
 * One level of 1 << bits slots at key offset off over prefixes p[lo, hi) (sorted, all longer
 * than off, all sharing the key's top off bits): fills the leaf value of every slot (the
 * longest prefix ending within this level that covers it, else inherit) and the range of the
 * longer prefixes below each slot. Sorted order puts a covering prefix before the ones it
 * covers, and a slot's longer prefixes in one contiguous run.
 */
static void
fill_level(const struct bpfx *p, size_t lo, size_t hi, unsigned off, unsigned bits,
           uint32_t inherit, struct level *l)
{
    size_t n = (size_t)1 << bits;

    for (size_t s = 0; s < n; s++) {
        l->val[s] = inherit;
        l->len[s] = 0;
        l->cstart[s] = l->cend[s] = 0;
    }
    for (size_t i = lo; i < hi; i++) {
        unsigned s = chunk(p[i].hi, p[i].lo, off, bits);
        if (p[i].plen <= off + bits) {
            size_t span = (size_t)1 << (off + bits - p[i].plen);
            for (size_t k = s; k < s + span; k++) {
                if (p[i].plen >= l->len[k]) {
                    l->len[k] = p[i].plen;
                    l->val[k] = p[i].ent + 1;
                }
            }
        } else {
            if (l->cstart[s] == l->cend[s])
                l->cstart[s] = i;
            l->cend[s] = i + 1;
        }
    }
}

static int build_node(struct lpm_tab *t, const struct bpfx *p, size_t lo, size_t hi,
                      unsigned off, uint32_t inherit, uint32_t idx);

static int
alloc_nodes(struct lpm_tab *t, size_t n, uint32_t *first)
{
    if (grow((void **)&t->nodes, &t->cap_nodes, t->n_nodes + n, sizeof(*t->nodes)) != 0 ||
        t->n_nodes + n >= NODE_BIT)
        return -ENOMEM;
    *first = (uint32_t)t->n_nodes;
    t->n_nodes += n;
    return 0;
}

static int
build_node(struct lpm_tab *t, const struct bpfx *p, size_t lo, size_t hi, unsigned off,
           uint32_t inherit, uint32_t idx)
{
    uint32_t val[64];
    uint8_t len[64];
    size_t cs[64], ce[64];
    struct level l = {val, len, cs, ce};
    struct lpm_node nd = {0};

    fill_level(p, lo, hi, off, STRIDE, inherit, &l);
    size_t nleaf = 0;
    uint32_t prev = 0;
    int first = 1;
    for (unsigned s = 0; s < 64; s++) {
        if (cs[s] != ce[s]) {
            nd.vector |= 1ULL << s;
        } else if (first || val[s] != prev) {
            nd.leafvec |= 1ULL << s;
            prev = val[s];
            first = 0;
            nleaf++;
        }
    }
    if (grow((void **)&t->leaves, &t->cap_leaves, t->n_leaves + nleaf, sizeof(*t->leaves)) != 0)
        return -ENOMEM;
    nd.base0 = (uint32_t)t->n_leaves;
    for (unsigned s = 0; s < 64; s++)
        if (nd.leafvec >> s & 1)
            t->leaves[t->n_leaves++] = val[s];
    unsigned nchild = (unsigned)__builtin_popcountll(nd.vector);
    if (nchild > 0 && alloc_nodes(t, nchild, &nd.base1) != 0)
        return -ENOMEM;
    t->nodes[idx] = nd;
    uint32_t c = nd.base1;
    for (unsigned s = 0; s < 64; s++) {
        if (cs[s] == ce[s])
            continue;
        int rc = build_node(t, p, cs[s], ce[s], off + STRIDE, val[s], c++);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int
build_tab(struct lpm_tab *t, struct bpfx *p, size_t n, unsigned dbits)
{
    size_t slots = (size_t)1 << dbits;
    struct level l = {
        .val = malloc(slots * sizeof(uint32_t)),
        .len = malloc(slots),
        .cstart = malloc(slots * sizeof(size_t)),
        .cend = malloc(slots * sizeof(size_t)),
    };
    int rc = -ENOMEM;

    t->dbits = dbits;
    t->direct = malloc(slots * sizeof(uint32_t));
    if (l.val == NULL || l.len == NULL || l.cstart == NULL || l.cend == NULL || t->direct == NULL)
        goto out;
    if (n > 0)
        qsort(p, n, sizeof(*p), cmp_bpfx);
    /* Same prefix more than once: the last definition wins. */
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && p[w - 1].hi == p[i].hi && p[w - 1].lo == p[i].lo &&
            p[w - 1].plen == p[i].plen)
            p[w - 1] = p[i];
        else
            p[w++] = p[i];
    }
    n = w;
    t->count = n;
    fill_level(p, 0, n, 0, dbits, 0, &l);
    for (size_t s = 0; s < slots; s++) {
        if (l.cstart[s] == l.cend[s]) {
            t->direct[s] = l.val[s];
            continue;
        }
        uint32_t idx;
        if (alloc_nodes(t, 1, &idx) != 0)
            goto out;
        t->direct[s] = NODE_BIT | idx;
        if ((rc = build_node(t, p, l.cstart[s], l.cend[s], dbits, l.val[s], idx)) != 0)
            goto out;
    }
    rc = 0;
out:
    free(l.val);
    free(l.len);
    free(l.cstart);
    free(l.cend);
    return rc;
}

static void
tab_fini(struct lpm_tab *t)
{
    free(t->direct);
    free(t->nodes);
    free(t->leaves);
}

void
lpm_free(struct lpm *t)
{
    if (t == NULL)
        return;
    tab_fini(&t->tab[0]);
    tab_fini(&t->tab[1]);
    free(t->ents);
    free(t);
}

struct lpm *
lpm_builder_finish(struct lpm_builder *b, char *err, size_t errlen)
{
    struct lpm *t = calloc(1, sizeof(*t));

    if (t == NULL || build_tab(&t->tab[0], b->fam[0].v, b->fam[0].n, LPM_DIRECT4_BITS) != 0 ||
        build_tab(&t->tab[1], b->fam[1].v, b->fam[1].n, LPM_DIRECT6_BITS) != 0) {
        snprintf(err, errlen, "prefix table: out of memory");
        lpm_free(t);
        lpm_builder_free(b);
        return NULL;
    }
    t->ents = b->ents;
    t->n_ents = b->n_ents;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    t->popcnt = __builtin_cpu_supports("popcnt");
#endif
    b->ents = NULL;
    lpm_builder_free(b);
    return t;
}

/* ---------------------------------------------------------------- lookup */

/*
 * The walk, generic over the key extraction (IPv4: 32 bits in hi, never past bit 63; IPv6: the
 * whole key). Inlined into a copy built for the POPCNT instruction and a baseline copy (x86-64
 * baseline has no POPCNT: __builtin_popcountll is then a libgcc call per level); lpm_builder_
 * finish() picks one per table from the CPU.
 */
static inline __attribute__((always_inline)) uint32_t
walk(const struct lpm_tab *t, uint64_t hi, uint64_t lo, int v4)
{
    uint32_t e = t->direct[hi >> (64 - t->dbits)];

    if (!(e & NODE_BIT))
        return e;
    const struct lpm_node *n = &t->nodes[e & ~NODE_BIT];
    unsigned off = t->dbits;
    for (;;) {
        unsigned c = v4 ? (unsigned)((hi << off) >> (64 - STRIDE)) : chunk(hi, lo, off, STRIDE);
        uint64_t bit = 1ULL << c;
        if (!(n->vector & bit))
            return t->leaves[n->base0 +
                             (unsigned)__builtin_popcountll(n->leafvec & ((bit << 1) - 1)) - 1];
        n = &t->nodes[n->base1 + (unsigned)__builtin_popcountll(n->vector & (bit - 1))];
        off += STRIDE;
    }
}

static uint32_t
walk4(const struct lpm_tab *t, uint64_t hi)
{
    return walk(t, hi, 0, 1);
}

static uint32_t
walk6(const struct lpm_tab *t, uint64_t hi, uint64_t lo)
{
    return walk(t, hi, lo, 0);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define LPM_POPCNT_CLONES 1
__attribute__((target("popcnt"))) static uint32_t
walk4_popcnt(const struct lpm_tab *t, uint64_t hi)
{
    return walk(t, hi, 0, 1);
}

__attribute__((target("popcnt"))) static uint32_t
walk6_popcnt(const struct lpm_tab *t, uint64_t hi, uint64_t lo)
{
    return walk(t, hi, lo, 0);
}
#endif

const struct lpm_entry *
lpm_lookup4(const struct lpm *t, uint32_t addr)
{
    uint64_t hi = (uint64_t)addr << 32;
    uint32_t v;
#ifdef LPM_POPCNT_CLONES
    v = t->popcnt ? walk4_popcnt(&t->tab[0], hi) : walk4(&t->tab[0], hi);
#else
    v = walk4(&t->tab[0], hi);
#endif
    return v ? &t->ents[v - 1] : NULL;
}

const struct lpm_entry *
lpm_lookup6(const struct lpm *t, const uint8_t addr[16])
{
    uint64_t hi = load_be64(addr), lo = load_be64(addr + 8);
    uint32_t v;
#ifdef LPM_POPCNT_CLONES
    v = t->popcnt ? walk6_popcnt(&t->tab[1], hi, lo) : walk6(&t->tab[1], hi, lo);
#else
    v = walk6(&t->tab[1], hi, lo);
#endif
    return v ? &t->ents[v - 1] : NULL;
}

size_t
lpm_count(const struct lpm *t, int family)
{
    return family == 4 ? t->tab[0].count : family == 6 ? t->tab[1].count : 0;
}

size_t
lpm_memory(const struct lpm *t)
{
    size_t m = t->n_ents * sizeof(*t->ents);
    for (int f = 0; f < 2; f++)
        m += ((size_t)1 << t->tab[f].dbits) * sizeof(uint32_t) +
             t->tab[f].n_nodes * sizeof(struct lpm_node) + t->tab[f].n_leaves * sizeof(uint32_t);
    return m;
}

/* ---------------------------------------------------------------- networks file */

static int
parse_u32(const char *s, size_t n, uint32_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 10)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* An address of either family; returns 4, 6 or 0. */
static int
parse_addr(const char *s, size_t n, uint8_t out[16])
{
    char tmp[INET6_ADDRSTRLEN + 1];

    if (n == 0 || n >= sizeof(tmp))
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (inet_pton(AF_INET, tmp, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, tmp, out) == 1)
        return 6;
    return 0;
}

struct field {
    const char *s;
    size_t n;
};

/* One line without its newline; 0, -EINVAL with err set, -ENOMEM. */
static int
parse_line(struct lpm_builder *b, const char *where, unsigned lineno, const char *s, size_t n,
           char *err, size_t errlen)
{
    struct field f[4];
    unsigned nf = 0;
    struct lpm_entry e = {0};
    uint8_t addr[16];

    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    while (n > 0 && isspace((unsigned char)*s))
        s++, n--;
    if (n == 0 || *s == '!' || *s == '#')
        return 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == ',') {
            if (nf == 4)
                goto too_many;
            const char *fs = s + start;
            size_t fn = i - start;
            while (fn > 0 && isspace((unsigned char)*fs))
                fs++, fn--;
            while (fn > 0 && isspace((unsigned char)fs[fn - 1]))
                fn--;
            f[nf++] = (struct field){fs, fn};
            start = i + 1;
        }
    }
    if (nf == 4)
        goto too_many;

    /* The network: last field. */
    struct field *net = &f[nf - 1];
    const char *slash = memchr(net->s, '/', net->n);
    size_t alen = slash ? (size_t)(slash - net->s) : net->n;
    int fam = parse_addr(net->s, alen, addr);
    uint32_t plen = fam == 4 ? 32 : 128;
    if (fam == 0) {
        snprintf(err, errlen, "%s:%u: bad network '%.*s'", where, lineno, (int)alen, net->s);
        return -EINVAL;
    }
    if (slash != NULL &&
        (parse_u32(slash + 1, net->n - alen - 1, &plen) != 0 || plen > (fam == 4 ? 32u : 128u))) {
        snprintf(err, errlen, "%s:%u: bad mask '%.*s' (0-%u)", where, lineno,
                 (int)(net->n - alen - 1), slash + 1, fam == 4 ? 32 : 128);
        return -EINVAL;
    }

    /* [peer_]origin AS: the field before the network. */
    if (nf >= 2) {
        struct field *as = &f[nf - 2];
        const char *us = memchr(as->s, '_', as->n);
        size_t on = us ? (size_t)(as->s + as->n - us - 1) : as->n;
        const char *os = us ? us + 1 : as->s;
        if (parse_u32(os, on, &e.asn) != 0 ||
            (us != NULL && parse_u32(as->s, (size_t)(us - as->s), &e.peer_as) != 0)) {
            snprintf(err, errlen, "%s:%u: bad AS number '%.*s'", where, lineno, (int)as->n,
                     as->s);
            return -EINVAL;
        }
    }
    /* First of three: a BGP next hop (pmacct), or the peer AS (issue 13's form). */
    if (nf == 3) {
        struct field *x = &f[0];
        uint8_t nh[16];
        int nfam = parse_addr(x->s, x->n, nh);
        if (nfam != 0) {
            e.nh_family = (uint8_t)nfam;
            memcpy(e.nexthop, nh, nfam == 4 ? 4 : 16);
        } else if (parse_u32(x->s, x->n, &e.peer_as) != 0 ||
                   memchr(f[1].s, '_', f[1].n) != NULL) {
            snprintf(err, errlen, "%s:%u: bad next hop or peer AS '%.*s'", where, lineno,
                     (int)x->n, x->s);
            return -EINVAL;
        }
    }
    if (lpm_builder_add(b, fam, addr, plen, &e) != 0) {
        snprintf(err, errlen, "%s:%u: out of memory", where, lineno);
        return -ENOMEM;
    }
    return 0;
too_many:
    snprintf(err, errlen,
             "%s:%u: too many fields (want [next hop,][[peer_as_]asn,]network[/mask])", where,
             lineno);
    return -EINVAL;
}

int
lpm_parse_networks(struct lpm_builder *b, const char *name, const char *buf, size_t len,
                   char *err, size_t errlen)
{
    unsigned lineno = 0;
    size_t i = 0;

    while (i < len) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;
        lineno++;
        int rc = parse_line(b, name, lineno, buf + i, n, err, errlen);
        if (rc != 0)
            return rc;
        i += n + 1;
    }
    return 0;
}

int
lpm_load_networks(struct lpm_builder *b, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned lineno = 0;
    int rc = 0;

    if (fp == NULL) {
        rc = -errno;
        snprintf(err, errlen, "networks file %s: %s", path, strerror(errno));
        return rc;
    }
    while ((n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if ((rc = parse_line(b, path, lineno, line, (size_t)n, err, errlen)) != 0)
            break;
    }
    if (rc == 0 && ferror(fp)) {
        rc = -EIO;
        snprintf(err, errlen, "networks file %s: read error", path);
    }
    free(line);
    fclose(fp);
    return rc;
}

/* ---------------------------------------------------------------- MaxMind DB */

struct walk {
    uint32_t node;
    uint8_t depth;
    uint64_t hi, lo;
};

static void
set_bit(uint64_t *hi, uint64_t *lo, unsigned pos)
{
    if (pos < 64)
        *hi |= 1ULL << (63 - pos);
    else
        *lo |= 1ULL << (127 - pos);
}

static void
store_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* One data record reached at depth bits: add it when it has an AS number. */
static int
mmdb_add(struct lpm_builder *b, MMDB_entry_s *entry, uint64_t hi, uint64_t lo, unsigned depth,
         int in_v4)
{
    MMDB_entry_data_s d;
    struct lpm_entry e = {0};
    uint8_t addr[16];

    if (MMDB_get_value(entry, &d, "autonomous_system_number", NULL) != MMDB_SUCCESS ||
        !d.has_data)
        return 0;
    if (d.type == MMDB_DATA_TYPE_UINT32)
        e.asn = d.uint32;
    else if (d.type == MMDB_DATA_TYPE_UINT16)
        e.asn = d.uint16;
    else if (d.type == MMDB_DATA_TYPE_UINT64 && d.uint64 <= UINT32_MAX)
        e.asn = (uint32_t)d.uint64;
    else
        return 0;
    if (in_v4) {
        uint32_t a = (uint32_t)lo; /* bits 96..127 */
        addr[0] = (uint8_t)(a >> 24);
        addr[1] = (uint8_t)(a >> 16);
        addr[2] = (uint8_t)(a >> 8);
        addr[3] = (uint8_t)a;
        return lpm_builder_add(b, 4, addr, depth - 96, &e);
    }
    store_be64(addr, hi);
    store_be64(addr + 8, lo);
    return lpm_builder_add(b, 6, addr, depth, &e);
}

int
lpm_load_mmdb(struct lpm_builder *b, const char *path, char *err, size_t errlen)
{
    MMDB_s db;
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &db);

    if (rc != MMDB_SUCCESS) {
        snprintf(err, errlen, "mmdb %s: %s", path, MMDB_strerror(rc));
        return rc == MMDB_IO_ERROR ? -EIO : -EINVAL;
    }
    /* An IPv4-only database is walked as the low 32 bits of ::/96. */
    unsigned base = db.metadata.ip_version == 4 ? 96 : 0;
    uint32_t v4_node = UINT32_MAX;
    struct walk stack[130];
    unsigned sp = 0;

    stack[sp++] = (struct walk){.node = 0, .depth = (uint8_t)base};
    rc = 0;
    while (sp > 0 && rc == 0) {
        struct walk w = stack[--sp];
        MMDB_search_node_s n;
        if (w.depth == 96 && w.hi == 0 && (w.lo >> 32) == 0 && base == 0)
            v4_node = w.node; /* ::/96: IPv4; other pointers to it are aliases */
        else if (w.node == v4_node)
            continue;
        if (MMDB_read_node(&db, w.node, &n) != MMDB_SUCCESS) {
            snprintf(err, errlen, "mmdb %s: corrupt search tree (node %u)", path, w.node);
            rc = -EINVAL;
            break;
        }
        /* Right first onto the stack, so the left (lower) half is walked first. */
        for (int side = 1; side >= 0; side--) {
            uint8_t type = side ? n.right_record_type : n.left_record_type;
            uint64_t rec = side ? n.right_record : n.left_record;
            MMDB_entry_s *ent = side ? &n.right_record_entry : &n.left_record_entry;
            uint64_t hi = w.hi, lo = w.lo;
            if (side)
                set_bit(&hi, &lo, w.depth);
            unsigned depth = w.depth + 1u;
            int in_v4 = base == 96 || (depth >= 96 && hi == 0 && (lo >> 32) == 0);
            if (type == MMDB_RECORD_TYPE_SEARCH_NODE) {
                if (depth >= 128 || sp >= sizeof(stack) / sizeof(stack[0])) {
                    snprintf(err, errlen, "mmdb %s: search tree deeper than 128 bits", path);
                    rc = -EINVAL;
                    break;
                }
                stack[sp++] = (struct walk){(uint32_t)rec, (uint8_t)depth, hi, lo};
            } else if (type == MMDB_RECORD_TYPE_DATA) {
                if ((rc = mmdb_add(b, ent, hi, lo, depth, in_v4)) != 0) {
                    snprintf(err, errlen, "mmdb %s: out of memory", path);
                    break;
                }
            } else if (type == MMDB_RECORD_TYPE_INVALID) {
                snprintf(err, errlen, "mmdb %s: corrupt search tree (node %u)", path, w.node);
                rc = -EINVAL;
                break;
            }
        }
    }
    MMDB_close(&db);
    return rc;
}

struct lpm *
lpm_load(const char *networks_file, const char *mmdb_file, char *err, size_t errlen)
{
    struct lpm_builder *b = lpm_builder_new();

    if (b == NULL) {
        snprintf(err, errlen, "prefix table: out of memory");
        return NULL;
    }
    if ((mmdb_file != NULL && lpm_load_mmdb(b, mmdb_file, err, errlen) != 0) ||
        (networks_file != NULL && lpm_load_networks(b, networks_file, err, errlen) != 0)) {
        lpm_builder_free(b);
        return NULL;
    }
    return lpm_builder_finish(b, err, errlen);
}

/* ---------------------------------------------------------------- QSBR swap */

#define OFFLINE UINT64_MAX

struct rcu_slot {
    _Alignas(64) _Atomic uint64_t seen; /* the epoch at the reader's last quiescent point */
};

struct lpm_rcu {
    _Atomic(struct lpm *) cur;
    _Atomic uint64_t epoch;
    unsigned n_readers;
    struct {
        struct lpm *t;
        uint64_t epoch; /* freed once every online reader has seen this epoch */
    } retired[LPM_RCU_MAX_RETIRED];
    unsigned n_retired;
    struct rcu_slot *slots;
};

struct lpm_rcu *
lpm_rcu_new(unsigned n_readers, struct lpm *initial)
{
    struct lpm_rcu *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->slots = aligned_alloc(64, sizeof(struct rcu_slot) * (n_readers ? n_readers : 1));
    if (r->slots == NULL) {
        free(r);
        return NULL;
    }
    r->n_readers = n_readers;
    atomic_init(&r->cur, initial);
    atomic_init(&r->epoch, 1);
    for (unsigned i = 0; i < n_readers; i++)
        atomic_init(&r->slots[i].seen, OFFLINE);
    return r;
}

void
lpm_rcu_free(struct lpm_rcu *r)
{
    if (r == NULL)
        return;
    for (unsigned i = 0; i < r->n_retired; i++)
        lpm_free(r->retired[i].t);
    lpm_free(atomic_load(&r->cur));
    free(r->slots);
    free(r);
}

const struct lpm *
lpm_rcu_get(const struct lpm_rcu *r)
{
    return atomic_load_explicit(&((struct lpm_rcu *)r)->cur, memory_order_acquire);
}

void
lpm_rcu_quiescent(struct lpm_rcu *r, unsigned reader)
{
    /* seq_cst: the epoch read here is ordered after every use of the table that came before,
     * and every lpm_rcu_get() after sees a table at least as new as that epoch's. */
    atomic_store(&r->slots[reader].seen, atomic_load(&r->epoch));
}

void
lpm_rcu_offline(struct lpm_rcu *r, unsigned reader)
{
    atomic_store(&r->slots[reader].seen, OFFLINE);
}

int
lpm_rcu_publish(struct lpm_rcu *r, struct lpm *t)
{
    lpm_rcu_reclaim(r);
    if (r->n_retired == LPM_RCU_MAX_RETIRED)
        return -EBUSY;
    struct lpm *old = atomic_exchange(&r->cur, t);
    uint64_t e = atomic_fetch_add(&r->epoch, 1) + 1;
    if (old != NULL) {
        r->retired[r->n_retired].t = old;
        r->retired[r->n_retired].epoch = e;
        r->n_retired++;
    }
    lpm_rcu_reclaim(r);
    return 0;
}

unsigned
lpm_rcu_reclaim(struct lpm_rcu *r)
{
    uint64_t min = OFFLINE;

    for (unsigned i = 0; i < r->n_readers; i++) {
        uint64_t s = atomic_load(&r->slots[i].seen);
        if (s < min)
            min = s;
    }
    unsigned w = 0;
    for (unsigned i = 0; i < r->n_retired; i++) {
        if (r->retired[i].epoch <= min)
            lpm_free(r->retired[i].t);
        else
            r->retired[w++] = r->retired[i];
    }
    r->n_retired = w;
    return w;
}
