/*
 * test_evloop.c - the output thread's event loop: timers, file events, wakeups from another
 * thread, signals as events, the before-sleep hook. Real descriptors, real time (short).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "evloop.h"

struct rec {
    int fired[8];
    uint64_t when[8];
    int order[16];
    int n_order;
    struct ev_loop *l;
};

static int64_t
timer_cb(struct ev_loop *l, uint64_t id, void *ctx)
{
    struct rec *r = ctx;

    (void)l;
    r->fired[id]++;
    r->when[id] = clk_mono_ms();
    if (r->n_order < 16)
        r->order[r->n_order++] = (int)id;
    return id == 3 && r->fired[id] < 3 ? 10 : EV_TIMER_END;
}

static struct ev_loop *
new_loop(void)
{
    char err[128];
    struct ev_loop *l = ev_new(1024, err, sizeof(err));

    assert_non_null(l);
    return l;
}

static void
run_for(struct ev_loop *l, uint64_t ms)
{
    uint64_t end = clk_mono_ms() + ms;

    while (clk_mono_ms() < end)
        assert_true(ev_run_once(l, (int)(end - clk_mono_ms())) >= 0);
}

/* Timers fire in deadline order, not before their time, repeat while asked, and a deleted
 * one never fires. */
static void
timers_fire_in_order(void **state)
{
    (void)state;
    struct ev_loop *l = new_loop();
    struct rec r = {0};
    uint64_t t0 = clk_mono_ms();

    assert_int_equal(ev_add_timer(l, 40, timer_cb, &r), 1);
    assert_int_equal(ev_add_timer(l, 20, timer_cb, &r), 2);
    assert_int_equal(ev_add_timer(l, 5, timer_cb, &r), 3);
    assert_int_equal(ev_add_timer(l, 30, timer_cb, &r), 4);
    assert_int_equal(ev_del_timer(l, 4), 0);
    assert_int_equal(ev_del_timer(l, 4), -ENOENT);
    run_for(l, 80);
    assert_int_equal(r.fired[1], 1);
    assert_int_equal(r.fired[2], 1);
    assert_int_equal(r.fired[3], 3);
    assert_int_equal(r.fired[4], 0);
    assert_true(r.when[1] >= t0 + 40);
    assert_true(r.when[2] >= t0 + 20);
    assert_true(r.when[3] >= t0 + 25); /* 5 + 10 + 10 */
    /* the earliest first; timer 2 (20 ms) before timer 1 (40 ms), whatever the load */
    assert_int_equal(r.order[0], 3);
    int i1 = -1, i2 = -1;
    for (int i = 0; i < r.n_order; i++) {
        if (r.order[i] == 1)
            i1 = i;
        if (r.order[i] == 2)
            i2 = i;
    }
    assert_true(i2 >= 0 && i1 > i2);
    /* all gone: the loop now waits only as long as told */
    uint64_t t1 = clk_mono_ms();
    assert_int_equal(ev_run_once(l, 30), 0);
    assert_true(clk_mono_ms() - t1 >= 25);
    ev_free(l);
}

/* A reset timer fires at its new time. */
static void
timer_reset_moves_it(void **state)
{
    (void)state;
    struct ev_loop *l = new_loop();
    struct rec r = {0};

    uint64_t id = ev_add_timer(l, 5, timer_cb, &r);
    assert_int_equal(ev_reset_timer(l, id, 60), 0);
    run_for(l, 30);
    assert_int_equal(r.fired[id], 0);
    run_for(l, 50);
    assert_int_equal(r.fired[id], 1);
    ev_free(l);
}

struct fdrec {
    int reads;
    int writes;
    char got[16];
};

static void
file_cb(struct ev_loop *l, int fd, int mask, void *ctx)
{
    struct fdrec *f = ctx;

    if (mask & EV_READABLE) {
        ssize_t n = read(fd, f->got, sizeof(f->got) - 1);
        if (n > 0)
            f->got[n] = '\0';
        f->reads++;
    }
    if (mask & EV_WRITABLE) {
        f->writes++;
        ev_set_file(l, fd, 0, NULL, NULL); /* once */
    }
}

/* Readable and writable events reach their callback; mask 0 stops them. */
static void
file_events(void **state)
{
    (void)state;
    struct ev_loop *l = new_loop();
    struct fdrec f = {0};
    int p[2];

    assert_int_equal(pipe(p), 0);
    assert_int_equal(ev_set_file(l, p[0], EV_READABLE, file_cb, &f), 0);
    assert_int_equal(ev_set_file(l, p[1], EV_WRITABLE, file_cb, &f), 0);
    assert_int_equal(ev_file_mask(l, p[0]), EV_READABLE);
    assert_int_equal(ev_run_once(l, 100), 1); /* the pipe can be written, nothing to read */
    assert_int_equal(f.writes, 1);
    assert_int_equal(f.reads, 0);
    assert_int_equal(ev_file_mask(l, p[1]), 0);
    assert_int_equal(write(p[1], "flow", 4), 4);
    assert_int_equal(ev_run_once(l, 100), 1);
    assert_int_equal(f.reads, 1);
    assert_string_equal(f.got, "flow");
    assert_int_equal(ev_set_file(l, p[0], 0, NULL, NULL), 0);
    assert_int_equal(write(p[1], "more", 4), 4);
    assert_int_equal(ev_run_once(l, 20), 0);
    assert_int_equal(f.reads, 1);
    assert_int_equal(ev_set_file(l, 5000, EV_READABLE, file_cb, &f), -ERANGE);
    close(p[0]);
    close(p[1]);
    ev_free(l);
}

static int wakes;

static void
wake_cb(struct ev_loop *l, void *ctx)
{
    (void)ctx;
    wakes++;
    ev_stop(l);
}

static void *
waker(void *arg)
{
    struct timespec ts = {0, 20 * 1000 * 1000};

    nanosleep(&ts, NULL); /* test only: let the loop block first */
    ev_wake(arg);
    ev_wake(arg);
    return NULL;
}

/* Another thread's ev_wake() ends a blocking wait; several wakes before the loop runs make
 * one callback. */
static void
wake_from_thread(void **state)
{
    (void)state;
    struct ev_loop *l = new_loop();
    pthread_t t;
    uint64_t t0 = clk_mono_ms();

    wakes = 0;
    ev_set_wake(l, wake_cb, NULL);
    assert_int_equal(pthread_create(&t, NULL, waker, l), 0);
    pthread_join(t, NULL);
    ev_run(l);
    assert_int_equal(wakes, 1);
    assert_true(clk_mono_ms() - t0 < 2000);
    ev_free(l);
}

static int sigs[4];

static void
signal_cb(struct ev_loop *l, int signo, void *ctx)
{
    (void)l;
    (void)ctx;
    if (signo == SIGUSR1)
        sigs[0]++;
    if (signo == SIGHUP)
        sigs[1]++;
}

static void *
reader(void *arg)
{
    int fd = *(int *)arg;
    char buf[8];

    /* A blocking read in a thread that inherited the blocked mask: signals must not end it. */
    return (void *)(intptr_t)read(fd, buf, sizeof(buf));
}

/* Signals are events of the loop, and a read blocked in another thread is not interrupted. */
static void
signals_are_events(void **state)
{
    (void)state;
    struct ev_loop *l = new_loop();
    static const int watched[] = {SIGUSR1, SIGHUP};
    int p[2];
    pthread_t t;
    void *ret;

    assert_int_equal(ev_watch_signals(l, watched, 2, signal_cb, NULL), 0);
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pthread_create(&t, NULL, reader, &p[0]), 0);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGHUP);
    run_for(l, 50);
    assert_int_equal(sigs[0], 1);
    assert_int_equal(sigs[1], 1);
    assert_int_equal(write(p[1], "abc", 3), 3);
    pthread_join(t, &ret);
    assert_int_equal((intptr_t)ret, 3);
    close(p[0]);
    close(p[1]);
    ev_free(l);
}

static int before_calls;

static bool
before_cb(struct ev_loop *l, void *ctx)
{
    (void)l;
    (void)ctx;
    return ++before_calls < 3; /* busy twice, then idle */
}

/* While the hook reports pending work the loop does not block. */
static void
before_sleep_keeps_going(void **state)
{
    (void)state;
    struct ev_loop *l = new_loop();
    uint64_t t0 = clk_mono_ms();

    before_calls = 0;
    ev_set_before_sleep(l, before_cb, NULL);
    ev_run_once(l, 1000);
    ev_run_once(l, 1000);
    assert_true(clk_mono_ms() - t0 < 500);
    assert_int_equal(before_calls, 2);
    ev_run_once(l, 30);
    assert_int_equal(before_calls, 3);
    assert_true(clk_mono_ms() - t0 >= 25);
    ev_free(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timers_fire_in_order),
        cmocka_unit_test(timer_reset_moves_it),
        cmocka_unit_test(file_events),
        cmocka_unit_test(wake_from_thread),
        cmocka_unit_test(signals_are_events),
        cmocka_unit_test(before_sleep_keeps_going),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
