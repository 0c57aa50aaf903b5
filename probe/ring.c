/*
 * ring.c - SPSC ring: the producer owns head, the consumer owns tail; each reads the other's
 * index with acquire and publishes its own with release. Indices run freely and are masked.
 */
#include "ring.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>

struct rng_ring {
    alignas(64) _Atomic size_t head; /* next slot the producer fills */
    alignas(64) _Atomic size_t tail; /* next slot the consumer reads */
    alignas(64) size_t mask;
    size_t item_size;
    unsigned char *items;
};

struct rng_ring *
rng_new(size_t slots, size_t item_size)
{
    size_t n = 2;
    while (n < slots)
        n <<= 1;
    struct rng_ring *r = aligned_alloc(64, sizeof(*r));
    if (r == NULL)
        return NULL;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->mask = n - 1;
    r->item_size = (item_size + 63) & ~(size_t)63;
    r->items = calloc(n, r->item_size);
    if (r->items == NULL) {
        free(r);
        return NULL;
    }
    return r;
}

void
rng_free(struct rng_ring *r)
{
    if (r == NULL)
        return;
    free(r->items);
    free(r);
}

void *
rng_reserve(struct rng_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head - tail > r->mask)
        return NULL;
    return r->items + (head & r->mask) * r->item_size;
}

void
rng_commit(struct rng_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

void *
rng_peek(struct rng_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (tail == head)
        return NULL;
    return r->items + (tail & r->mask) * r->item_size;
}

void
rng_release(struct rng_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}
