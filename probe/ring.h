/*
 * ring.h - single-producer single-consumer ring of fixed-size items (prefix spsc_).
 *
 * How finished flows travel from a worker thread to the output thread without locks: the
 * producer reserves a slot, writes it and commits; the consumer peeks and releases. Sized once
 * at creation; never allocates afterwards.
 *
 * Neither side spins. The consumer, before it blocks in its event loop, arms the ring
 * (spsc_arm()); the producer then calls the doorbell (the loop's ev_wake()) from
 * spsc_notify(), which it calls after a batch of commits with a threshold, so that a consumer
 * faster than its producer is not woken once per item.
 * A producer that finds the ring full blocks in spsc_wait_room() until the consumer has freed
 * a quarter of the ring (after ringing the doorbell), so that two threads sharing a core do not
 * take turns item by item.
 */
#ifndef NFPROBE_RING_H
#define NFPROBE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spsc_ring;

/* Called by the producer when it publishes into an armed ring (thread-safe for the consumer). */
typedef void (*spsc_doorbell_fn)(void *ctx);

/* A ring of at least `slots` items (rounded up to a power of two) of item_size bytes each. */
struct spsc_ring *spsc_new(size_t slots, size_t item_size);
void spsc_free(struct spsc_ring *r);

/* Sets the consumer's doorbell (before the producer starts). */
void spsc_set_doorbell(struct spsc_ring *r, spsc_doorbell_fn fn, void *ctx);

/* Producer: a free slot to fill, or NULL when the ring is full. spsc_commit() publishes it. */
void *spsc_reserve(struct spsc_ring *r);
void spsc_commit(struct spsc_ring *r);
/* Producer: rings the doorbell if the consumer armed the ring and at least min_items are
 * waiting (1: any). Call after a batch of commits, and with 1 when pausing (a timer tick). */
void spsc_notify(struct spsc_ring *r, size_t min_items);
/* Producer: blocks until a quarter of the ring is free (at least one slot). */
void spsc_wait_room(struct spsc_ring *r);
/* Producer: rings the doorbell unconditionally (the producer is done). */
void spsc_ring_doorbell(struct spsc_ring *r);

/* Consumer: the oldest published item, or NULL when empty. spsc_release() frees its slot
 * (and wakes a producer blocked in spsc_wait_room()). */
void *spsc_peek(struct spsc_ring *r);
void spsc_release(struct spsc_ring *r);
/* Consumer: about to block. Returns false (not armed) when items are waiting. */
bool spsc_arm(struct spsc_ring *r);

#endif
