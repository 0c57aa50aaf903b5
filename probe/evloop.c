/*
 * evloop.c - epoll + timers + eventfd wakeup + signalfd.
 *
 * File events live in an array indexed by descriptor (ae.c's events[]); the registered mask is
 * kept so that epoll_ctl is only called when it changes. Timers are an unsorted list: the loop
 * has a handful of them (pacing, flush, refresh, backoff, statistics), so a linear scan for the
 * earliest is cheaper than a heap's bookkeeping (ae.c makes the same choice).
 */
#include "evloop.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"

#define EV_MAX_READY 64

struct ev_file {
    int mask;
    ev_file_fn fn;
    void *ctx;
};

struct ev_timer {
    uint64_t id;
    uint64_t when_ms;
    ev_timer_fn fn;
    void *ctx;
    bool deleted;
    struct ev_timer *next;
};

struct ev_loop {
    int epfd;
    int max_fd;
    struct ev_file *files;
    struct ev_timer *timers;
    uint64_t next_timer_id;
    int wake_fd;
    ev_wake_fn wake_fn;
    void *wake_ctx;
    int sig_fd;
    ev_signal_fn sig_fn;
    void *sig_ctx;
    ev_before_fn before;
    void *before_ctx;
    bool stop;
};

struct ev_loop *
ev_new(int max_fd, char *err, size_t errlen)
{
    struct ev_loop *l = calloc(1, sizeof(*l));

    if (l == NULL || max_fd <= 0) {
        snprintf(err, errlen, "event loop: %s", strerror(l == NULL ? ENOMEM : EINVAL));
        free(l);
        return NULL;
    }
    l->epfd = -1;
    l->wake_fd = -1;
    l->sig_fd = -1;
    l->max_fd = max_fd;
    l->next_timer_id = 1;
    l->files = calloc((size_t)max_fd, sizeof(*l->files));
    if (l->files == NULL) {
        snprintf(err, errlen, "event loop: %s", strerror(ENOMEM));
        goto fail;
    }
    if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        snprintf(err, errlen, "event loop: epoll_create1: %s", strerror(errno));
        goto fail;
    }
    if ((l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        snprintf(err, errlen, "event loop: eventfd: %s", strerror(errno));
        goto fail;
    }
    struct epoll_event ee = {.events = EPOLLIN, .data.fd = l->wake_fd};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &ee) != 0) {
        snprintf(err, errlen, "event loop: epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    return l;
fail:
    ev_free(l);
    return NULL;
}

void
ev_free(struct ev_loop *l)
{
    if (l == NULL)
        return;
    while (l->timers != NULL) {
        struct ev_timer *t = l->timers;
        l->timers = t->next;
        free(t);
    }
    if (l->sig_fd >= 0)
        close(l->sig_fd);
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    if (l->epfd >= 0)
        close(l->epfd);
    free(l->files);
    free(l);
}

/* ------------------------------------------------------------------ files */

int
ev_set_file(struct ev_loop *l, int fd, int mask, ev_file_fn fn, void *ctx)
{
    if (fd < 0 || fd >= l->max_fd)
        return -ERANGE;
    struct ev_file *f = &l->files[fd];
    struct epoll_event ee = {.events = 0, .data.fd = fd};
    int op = f->mask == 0 ? EPOLL_CTL_ADD : mask == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;

    mask &= EV_READABLE | EV_WRITABLE;
    if (mask & EV_READABLE)
        ee.events |= EPOLLIN;
    if (mask & EV_WRITABLE)
        ee.events |= EPOLLOUT;
    if (mask != f->mask && !(f->mask == 0 && mask == 0) &&
        epoll_ctl(l->epfd, op, fd, &ee) != 0) {
        /* A descriptor closed behind our back is gone from epoll already; its number may
         * since name a new socket, which must be added rather than modified. */
        if (op == EPOLL_CTL_MOD && errno == ENOENT) {
            if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ee) != 0)
                return -errno;
        } else if (!(op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT))) {
            return -errno;
        }
    }
    f->mask = mask;
    f->fn = mask != 0 ? fn : NULL;
    f->ctx = mask != 0 ? ctx : NULL;
    return 0;
}

int
ev_file_mask(const struct ev_loop *l, int fd)
{
    return fd >= 0 && fd < l->max_fd ? l->files[fd].mask : 0;
}

/* ------------------------------------------------------------------ timers */

uint64_t
ev_add_timer(struct ev_loop *l, uint64_t delay_ms, ev_timer_fn fn, void *ctx)
{
    struct ev_timer *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return 0;
    t->id = l->next_timer_id++;
    t->when_ms = clk_mono_ms() + delay_ms;
    t->fn = fn;
    t->ctx = ctx;
    t->next = l->timers;
    l->timers = t;
    return t->id;
}

static struct ev_timer *
find_timer(struct ev_loop *l, uint64_t id)
{
    for (struct ev_timer *t = l->timers; t != NULL; t = t->next)
        if (t->id == id && !t->deleted)
            return t;
    return NULL;
}

int
ev_reset_timer(struct ev_loop *l, uint64_t id, uint64_t delay_ms)
{
    struct ev_timer *t = find_timer(l, id);

    if (t == NULL)
        return -ENOENT;
    t->when_ms = clk_mono_ms() + delay_ms;
    return 0;
}

int
ev_del_timer(struct ev_loop *l, uint64_t id)
{
    struct ev_timer *t = find_timer(l, id);

    if (t == NULL)
        return -ENOENT;
    t->deleted = true; /* unlinked after the timer pass (it may be running now) */
    return 0;
}

static void
reap_timers(struct ev_loop *l)
{
    struct ev_timer **pp = &l->timers;

    while (*pp != NULL) {
        struct ev_timer *t = *pp;
        if (t->deleted) {
            *pp = t->next;
            free(t);
        } else {
            pp = &t->next;
        }
    }
}

/* Ms until the earliest timer, 0 if one is due, -1 if there is none. */
static int
next_timer_wait(const struct ev_loop *l, uint64_t now)
{
    uint64_t best = UINT64_MAX;

    for (const struct ev_timer *t = l->timers; t != NULL; t = t->next)
        if (!t->deleted && t->when_ms < best)
            best = t->when_ms;
    if (best == UINT64_MAX)
        return -1;
    if (best <= now)
        return 0;
    return best - now > INT_MAX ? INT_MAX : (int)(best - now);
}

static int
run_timers(struct ev_loop *l)
{
    uint64_t now = clk_mono_ms();
    /* Timers added by a callback wait for the next pass: their ids are above this one. */
    uint64_t max_id = l->next_timer_id - 1;
    int n = 0;

    for (struct ev_timer *t = l->timers; t != NULL; t = t->next) {
        if (t->deleted || t->id > max_id || t->when_ms > now)
            continue;
        int64_t again = t->fn(l, t->id, t->ctx);
        n++;
        if (again < 0)
            t->deleted = true;
        else if (!t->deleted)
            t->when_ms = clk_mono_ms() + (uint64_t)again;
    }
    reap_timers(l);
    return n;
}

/* ------------------------------------------------------------------ wakeup, signals */

void
ev_set_wake(struct ev_loop *l, ev_wake_fn fn, void *ctx)
{
    l->wake_fn = fn;
    l->wake_ctx = ctx;
}

void
ev_wake(struct ev_loop *l)
{
    uint64_t one = 1;
    ssize_t n;

    /* EAGAIN only when the counter is about to overflow: it is readable then anyway. */
    do
        n = write(l->wake_fd, &one, sizeof(one));
    while (n < 0 && errno == EINTR);
}

int
ev_watch_signals(struct ev_loop *l, const int *signals, size_t n, ev_signal_fn fn, void *ctx)
{
    sigset_t set;

    sigemptyset(&set);
    for (size_t i = 0; i < n; i++)
        sigaddset(&set, signals[i]);
    int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc != 0)
        return -rc;
    int fd = signalfd(l->sig_fd, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (l->sig_fd < 0) {
        struct epoll_event ee = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ee) != 0) {
            rc = -errno;
            close(fd);
            return rc;
        }
    }
    l->sig_fd = fd;
    l->sig_fn = fn;
    l->sig_ctx = ctx;
    return 0;
}

static void
read_signals(struct ev_loop *l)
{
    struct signalfd_siginfo si;

    while (read(l->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        if (l->sig_fn != NULL)
            l->sig_fn(l, (int)si.ssi_signo, l->sig_ctx);
}

void
ev_set_before_sleep(struct ev_loop *l, ev_before_fn fn, void *ctx)
{
    l->before = fn;
    l->before_ctx = ctx;
}

/* ------------------------------------------------------------------ loop */

int
ev_run_once(struct ev_loop *l, int max_wait_ms)
{
    struct epoll_event ready[EV_MAX_READY];
    bool busy = l->before != NULL && l->before(l, l->before_ctx);
    int wait = next_timer_wait(l, clk_mono_ms());
    int handled = 0;

    if (busy || l->stop)
        wait = 0;
    else if (max_wait_ms >= 0 && (wait < 0 || wait > max_wait_ms))
        wait = max_wait_ms;
    int n = epoll_wait(l->epfd, ready, EV_MAX_READY, wait);
    if (n < 0) {
        if (errno != EINTR)
            return -errno;
        n = 0;
    }
    for (int i = 0; i < n; i++) {
        int fd = ready[i].data.fd;
        uint32_t e = ready[i].events;

        if (fd == l->wake_fd) {
            uint64_t v;
            while (read(l->wake_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
                ;
            if (l->wake_fn != NULL)
                l->wake_fn(l, l->wake_ctx);
        } else if (fd == l->sig_fd) {
            read_signals(l);
        } else {
            struct ev_file *f = &l->files[fd];
            int mask = 0;
            if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
                mask |= EV_READABLE;
            if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                mask |= EV_WRITABLE;
            /* A previous callback of this batch may have dropped or changed the watch. */
            mask &= f->mask;
            if (mask != 0 && f->fn != NULL)
                f->fn(l, fd, mask, f->ctx);
        }
        handled++;
    }
    handled += run_timers(l);
    return handled;
}

void
ev_run(struct ev_loop *l)
{
    l->stop = false;
    while (!l->stop)
        if (ev_run_once(l, -1) < 0)
            break;
}

void
ev_stop(struct ev_loop *l)
{
    l->stop = true;
}

bool
ev_stopped(const struct ev_loop *l)
{
    return l->stop;
}
