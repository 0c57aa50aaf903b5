/*
 * flow_table.c - open addressing + flow pool + creation-order list.
 *
 * The slot array and the pool are anonymous mappings: the kernel hands out zero pages lazily,
 * and free pool entries are reused LIFO, so resident memory follows the number of flows alive,
 * not the configured maximum. (mmap rather than calloc also keeps a gigabyte-sized table out
 * of malloc's and the leak checker's way.)
 */
#include "flow_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* At most this much of a flow is prefetched (8 cache lines): extensions past it (SPLT,
 * L7 state) are touched by few packets. */
#define FT_PREFETCH_MAX 512

struct ft_slot {
    uint32_t hash;
    uint32_t idx1; /* pool index + 1; 0 = empty */
};

struct ft_table {
    struct ft_slot *slots;
    size_t slots_len;
    size_t pool_len;
    uint32_t mask;
    uint32_t max_flows;
    uint32_t count;
    uint32_t free_head;  /* LIFO free list threaded through order_next */
    uint32_t next_fresh; /* pool slots below this have been used at least once */
    uint32_t order_head;
    uint32_t order_tail;
    size_t flow_size;
    size_t prefetch_len; /* bytes of a flow prefetched ahead of its packet */
    uint64_t seed;
    unsigned char *pool;
};

/* Zero-filled memory straight from the kernel, or NULL. */
static void *
zeroed_map(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    /* Lookups hit random slots and flows: huge pages spare a TLB miss (and a page fault per
     * 4 KiB) on most of them. Only advice: where THP is off this changes nothing. */
    madvise(p, len, MADV_HUGEPAGE);
    return p;
}

/* Slots for max_flows: the load factor stays at or below 0.75 so probe sequences stay short. */
static uint64_t
slots_for(uint32_t max_flows)
{
    uint64_t cap = 16;
    while (cap * 3 < (uint64_t)max_flows * 4)
        cap <<= 1;
    return cap;
}

uint64_t
ft_table_bytes(uint32_t max_flows, size_t flow_size)
{
    return sizeof(struct ft_table) + slots_for(max_flows) * sizeof(struct ft_slot) +
           (uint64_t)max_flows * ((flow_size + 7) & ~(size_t)7);
}

struct ft_table *
ft_new(uint32_t max_flows, size_t flow_size, uint64_t seed, char *err, size_t errlen)
{
    struct ft_table *t;
    uint64_t cap;

    if (max_flows == 0 || max_flows > (1u << 30) || flow_size < sizeof(struct flow)) {
        snprintf(err, errlen, "flow table: bad size (max flows %u, flow size %zu)", max_flows,
                 flow_size);
        return NULL;
    }
    cap = slots_for(max_flows);
    flow_size = (flow_size + 7) & ~(size_t)7;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        goto fail;
    t->slots_len = cap * sizeof(*t->slots);
    t->pool_len = (size_t)max_flows * flow_size;
    t->slots = zeroed_map(t->slots_len);
    t->pool = zeroed_map(t->pool_len);
    if (t->slots == NULL || t->pool == NULL)
        goto fail;
    t->mask = (uint32_t)(cap - 1);
    t->max_flows = max_flows;
    t->flow_size = flow_size;
    t->prefetch_len = flow_size < FT_PREFETCH_MAX ? flow_size : FT_PREFETCH_MAX;
    t->seed = seed;
    t->free_head = FT_NONE;
    t->order_head = t->order_tail = FT_NONE;
    return t;
fail:
    snprintf(err, errlen, "flow table: cannot allocate %u flows of %zu bytes: %s", max_flows,
             flow_size, strerror(ENOMEM));
    ft_free(t);
    return NULL;
}

void
ft_free(struct ft_table *t)
{
    if (t == NULL)
        return;
    if (t->slots != NULL)
        munmap(t->slots, t->slots_len);
    if (t->pool != NULL)
        munmap(t->pool, t->pool_len);
    free(t);
}

uint32_t
ft_hash(const struct ft_table *t, const struct flow_key *k)
{
    return (uint32_t)XXH3_64bits_withSeed(k, sizeof(*k), t->seed);
}

struct flow *
ft_at(const struct ft_table *t, uint32_t idx)
{
    return (struct flow *)(void *)(t->pool + (size_t)idx * t->flow_size);
}

uint32_t
ft_index(const struct ft_table *t, const struct flow *f)
{
    return (uint32_t)(((const unsigned char *)f - t->pool) / t->flow_size);
}

struct flow *
ft_lookup(struct ft_table *t, const struct flow_key *k, uint32_t hash)
{
    for (uint32_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        const struct ft_slot *s = &t->slots[i];
        if (s->idx1 == 0)
            return NULL;
        if (s->hash == hash) {
            struct flow *f = ft_at(t, s->idx1 - 1);
            if (memcmp(&f->key, k, sizeof(*k)) == 0)
                return f;
        }
    }
}

void
ft_prefetch_bucket(const struct ft_table *t, uint32_t hash)
{
    __builtin_prefetch(&t->slots[hash & t->mask], 0, 3);
}

void
ft_prefetch_flow(const struct ft_table *t, uint32_t hash)
{
    const struct ft_slot *s = &t->slots[hash & t->mask];
    /* Only the home bucket: most lookups end there at a load factor <= 0.75. Every cache
     * line of the flow's hot part: the key, the counters and the statistics a packet updates
     * (one line would leave the update stalling on the others). */
    if (s->idx1 != 0 && s->hash == hash) {
        const unsigned char *f = (const unsigned char *)ft_at(t, s->idx1 - 1);
        for (size_t off = 0; off < t->prefetch_len; off += 64)
            __builtin_prefetch(f + off, 1, 3);
    }
}

struct flow *
ft_insert(struct ft_table *t, const struct flow_key *k, uint32_t hash)
{
    uint32_t idx;

    if (t->count >= t->max_flows)
        return NULL;
    if (t->free_head != FT_NONE) {
        idx = t->free_head;
        t->free_head = ft_at(t, idx)->order_next;
    } else {
        idx = t->next_fresh++;
    }
    struct flow *f = ft_at(t, idx);
    memset(f, 0, t->flow_size);
    f->key = *k;
    f->hash = hash;

    uint32_t i = hash & t->mask;
    while (t->slots[i].idx1 != 0)
        i = (i + 1) & t->mask;
    t->slots[i].hash = hash;
    t->slots[i].idx1 = idx + 1;

    f->order_prev = t->order_tail;
    f->order_next = FT_NONE;
    if (t->order_tail != FT_NONE)
        ft_at(t, t->order_tail)->order_next = idx;
    else
        t->order_head = idx;
    t->order_tail = idx;
    t->count++;
    return f;
}

void
ft_remove(struct ft_table *t, struct flow *f)
{
    uint32_t idx = ft_index(t, f);
    uint32_t i = f->hash & t->mask;

    while (t->slots[i].idx1 != idx + 1)
        i = (i + 1) & t->mask;
    /* Backward-shift deletion: pull later members of the probe run into the hole. */
    for (uint32_t j = (i + 1) & t->mask;; j = (j + 1) & t->mask) {
        if (t->slots[j].idx1 == 0)
            break;
        uint32_t home = t->slots[j].hash & t->mask;
        /* Move j into hole i unless its home lies cyclically in (i, j]. */
        if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i].idx1 = 0;
    t->slots[i].hash = 0;

    if (f->order_prev != FT_NONE)
        ft_at(t, f->order_prev)->order_next = f->order_next;
    else
        t->order_head = f->order_next;
    if (f->order_next != FT_NONE)
        ft_at(t, f->order_next)->order_prev = f->order_prev;
    else
        t->order_tail = f->order_prev;

    f->order_next = t->free_head;
    t->free_head = idx;
    t->count--;
}

struct flow *
ft_oldest(const struct ft_table *t)
{
    return t->order_head == FT_NONE ? NULL : ft_at(t, t->order_head);
}

struct flow *
ft_next(const struct ft_table *t, const struct flow *f)
{
    return f->order_next == FT_NONE ? NULL : ft_at(t, f->order_next);
}

uint32_t
ft_count(const struct ft_table *t)
{
    return t->count;
}

uint32_t
ft_max_flows(const struct ft_table *t)
{
    return t->max_flows;
}

size_t
ft_flow_size(const struct ft_table *t)
{
    return t->flow_size;
}

size_t
ft_memory(const struct ft_table *t)
{
    return sizeof(*t) + ((size_t)t->mask + 1) * sizeof(struct ft_slot) +
           (size_t)t->max_flows * t->flow_size;
}
