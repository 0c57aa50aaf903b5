/*
 * log.c - one formatted line per message to stderr (one write) or syslog(3).
 *
 * No lock: the level and target are atomics, each message is formatted on the caller's stack
 * and leaves in one write(2) (or one syslog(3) call, which is thread-safe in glibc).
 */
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"

static _Atomic int log_level = LOG_INFO;
static _Atomic bool log_syslog = false;
static const char *log_ident = "nfprobe";

static const char *const level_names[] = {"emerg", "alert", "crit", "err",
                                          "warning", "notice", "info", "debug"};

const char *
log_level_name(int level)
{
    if (level < 0)
        level = 0;
    if (level > LOG_DEBUG)
        level = LOG_DEBUG;
    return level_names[level];
}

int
log_open(const char *target, int level, const char *ident)
{
    bool to_syslog;

    if (target != NULL && strcmp(target, "syslog") == 0)
        to_syslog = true;
    else if (target == NULL || strcmp(target, "stderr") == 0)
        to_syslog = false;
    else
        return -EINVAL;
    if (atomic_load(&log_syslog))
        closelog();
    if (ident != NULL)
        log_ident = ident;
    log_set_level(level);
    if (to_syslog)
        openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    atomic_store(&log_syslog, to_syslog);
    return 0;
}

void
log_close(void)
{
    if (atomic_exchange(&log_syslog, false))
        closelog();
}

void
log_set_level(int level)
{
    if (level < LOG_EMERG)
        level = LOG_EMERG;
    if (level > LOG_DEBUG)
        level = LOG_DEBUG;
    atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

int
log_get_level(void)
{
    return atomic_load_explicit(&log_level, memory_order_relaxed);
}

uint64_t
log_now_ms(void)
{
    return clk_mono_ms();
}

/* Formats, keeps it one line, appends the suppressed count and sends it. */
static void
emit(int level, uint64_t suppressed, const char *fmt, va_list ap)
{
    char msg[LOG_MAX_LINE];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t len;

    if (n < 0)
        return;
    len = (size_t)n;
    if (len >= sizeof(msg)) {
        len = sizeof(msg) - 1;
        memcpy(msg + len - 3, "...", 3);
    }
    while (len > 0 && msg[len - 1] == '\n')
        msg[--len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (msg[i] == '\n' || msg[i] == '\r')
            msg[i] = ' ';
    if (suppressed > 0 && len < sizeof(msg) - 1) {
        int m = snprintf(msg + len, sizeof(msg) - len, " (%" PRIu64 " suppressed)", suppressed);
        if (m > 0)
            len += (size_t)m < sizeof(msg) - len ? (size_t)m : sizeof(msg) - len - 1;
    }

    if (atomic_load(&log_syslog)) {
        syslog(level, "%s", msg);
        return;
    }
    char line[LOG_MAX_LINE + 128];
    int ll = snprintf(line, sizeof(line), "%s[%ld]: %s: %s\n", log_ident, (long)getpid(),
                      log_level_name(level), msg);
    if (ll < 0)
        return;
    if ((size_t)ll >= sizeof(line)) {
        ll = (int)sizeof(line) - 1;
        line[ll - 1] = '\n';
    }
    const char *p = line;
    size_t left = (size_t)ll;
    while (left > 0) {
        ssize_t w = write(STDERR_FILENO, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere left to report it */
        p += w;
        left -= (size_t)w;
    }
}

void
log_msg(int level, const char *fmt, ...)
{
    va_list ap;

    if (level > log_get_level())
        return;
    va_start(ap, fmt);
    emit(level, 0, fmt, ap);
    va_end(ap);
}

void
log_ratelimited(struct log_ratelimit *rl, uint64_t now_ms, unsigned secs, int level,
                const char *fmt, ...)
{
    va_list ap;

    if (level > log_get_level())
        return;
    uint64_t next = atomic_load(&rl->next_ms);
    if (now_ms < next ||
        !atomic_compare_exchange_strong(&rl->next_ms, &next, now_ms + (uint64_t)secs * 1000u)) {
        atomic_fetch_add(&rl->suppressed, 1);
        return;
    }
    uint64_t n = atomic_exchange(&rl->suppressed, 0);
    va_start(ap, fmt);
    emit(level, n, fmt, ap);
    va_end(ap);
}
