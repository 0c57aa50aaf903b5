/*
 * evloop.h - the output thread's event loop (epoll), in the style of Redis's ae.c.
 *
 * One loop waits for everything the output side waits for: sockets (collectors), timers
 * (export pacing, flush and template refresh, reconnect backoff, statistics), a wakeup other
 * threads use to say "your ring has data", and signals (read through a signalfd, so they are
 * events of the loop and never interrupt a system call of any thread). Nothing in the output
 * path sleeps or polls: it returns to the loop, and the loop blocks in epoll_wait() until the
 * next event or the earliest timer.
 *
 * Single-threaded: every function but ev_wake() must be called from the loop's thread.
 * Times are CLOCK_MONOTONIC milliseconds (clock.h).
 */
#ifndef NFPROBE_EVLOOP_H
#define NFPROBE_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;

/* File event masks. */
#define EV_READABLE 1
#define EV_WRITABLE 2

/* What a timer callback returns to stop repeating. */
#define EV_TIMER_END (-1)

/* A file descriptor became ready; mask says how (an error or hang-up reports both). */
typedef void (*ev_file_fn)(struct ev_loop *l, int fd, int mask, void *ctx);
/* A timer fired: return the next delay in ms to repeat, or EV_TIMER_END to delete it. */
typedef int64_t (*ev_timer_fn)(struct ev_loop *l, uint64_t id, void *ctx);
/* Another thread called ev_wake() (once per batch of calls). */
typedef void (*ev_wake_fn)(struct ev_loop *l, void *ctx);
/* A signal watched with ev_watch_signals() arrived. */
typedef void (*ev_signal_fn)(struct ev_loop *l, int signo, void *ctx);
/* Runs before the loop blocks; returns true when it left work pending: the loop then checks
 * for events without blocking and calls it again (ae.c's beforesleep). */
typedef bool (*ev_before_fn)(struct ev_loop *l, void *ctx);

/*
 * A loop for file descriptors below max_fd (at most that many). Creates the epoll instance and
 * the wakeup eventfd. Returns NULL with a one-line err.
 */
struct ev_loop *ev_new(int max_fd, char *err, size_t errlen);
/* Closes the loop's own descriptors (not the watched ones). Takes NULL. */
void ev_free(struct ev_loop *l);

/*
 * Watches fd for mask (EV_READABLE | EV_WRITABLE), replacing its previous mask and callback;
 * mask 0 stops watching it. Call with 0 before closing fd. 0 or -errno (-ERANGE: fd >= max_fd).
 */
int ev_set_file(struct ev_loop *l, int fd, int mask, ev_file_fn fn, void *ctx);
/* The mask fd is watched for, 0 if none. */
int ev_file_mask(const struct ev_loop *l, int fd);

/* A timer firing after delay_ms. Returns its id (never 0), or 0 when out of memory. */
uint64_t ev_add_timer(struct ev_loop *l, uint64_t delay_ms, ev_timer_fn fn, void *ctx);
/* Moves a timer to fire after delay_ms from now. 0 or -ENOENT. */
int ev_reset_timer(struct ev_loop *l, uint64_t id, uint64_t delay_ms);
/* Deletes a timer (also from inside its own callback). 0 or -ENOENT. */
int ev_del_timer(struct ev_loop *l, uint64_t id);

/* Sets the wakeup callback (NULL = none). */
void ev_set_wake(struct ev_loop *l, ev_wake_fn fn, void *ctx);
/* Thread-safe and async-signal-safe: makes the loop call its wakeup callback soon. */
void ev_wake(struct ev_loop *l);

/*
 * Blocks these signals in the calling thread (threads created later inherit the mask: call it
 * before starting any) and delivers them as events through a signalfd. 0 or -errno.
 */
int ev_watch_signals(struct ev_loop *l, const int *signals, size_t n, ev_signal_fn fn,
                     void *ctx);

void ev_set_before_sleep(struct ev_loop *l, ev_before_fn fn, void *ctx);

/*
 * One iteration: runs the before-sleep hook, waits at most max_wait_ms (-1 = until the next
 * timer or event) and dispatches what happened. Returns the number of events and timers
 * handled, or -errno.
 */
int ev_run_once(struct ev_loop *l, int max_wait_ms);
/* Iterates until ev_stop(). */
void ev_run(struct ev_loop *l);
void ev_stop(struct ev_loop *l);
bool ev_stopped(const struct ev_loop *l);

#endif
