/*
 * ring.h - single-producer single-consumer ring of fixed-size items.
 *
 * How finished flows travel from a worker thread to the output/export thread without locks:
 * the producer reserves a slot, writes it and commits; the consumer peeks and releases. Sized
 * once at creation; never allocates afterwards.
 */
#ifndef NFPROBE_RING_H
#define NFPROBE_RING_H

#include <stddef.h>
#include <stdint.h>

struct rng_ring;

/* A ring of at least `slots` items (rounded up to a power of two) of item_size bytes each. */
struct rng_ring *rng_new(size_t slots, size_t item_size);
void rng_free(struct rng_ring *r);

/* Producer: a free slot to fill, or NULL when the ring is full. rng_commit() publishes it. */
void *rng_reserve(struct rng_ring *r);
void rng_commit(struct rng_ring *r);

/* Consumer: the oldest published item, or NULL when empty. rng_release() frees its slot. */
void *rng_peek(struct rng_ring *r);
void rng_release(struct rng_ring *r);

#endif
