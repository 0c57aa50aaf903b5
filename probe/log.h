/*
 * log.h - levelled, rate-limited logging to stderr or syslog, from any thread.
 *
 * Levels are syslog's (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG from <syslog.h>).
 * On stderr a message is one line, "nfprobe[PID]: warning: text", written with one write(2)
 * so lines from several threads never interleave; journald adds the time under systemd. The
 * packet path never logs (STYLE.md §3): it counts, and the exporter logs the counts.
 */
#ifndef NFPROBE_LOG_H
#define NFPROBE_LOG_H

#include <stdatomic.h>
#include <stdint.h>
#include <syslog.h>

#define LOG_MAX_LINE 1024 /* longer messages are cut and end in "..." */

/*
 * Chooses the target ("stderr" or "syslog", facility LOG_DAEMON), the level (messages above it
 * are dropped) and the name messages carry (ident, kept by pointer). Before log_open() messages
 * go to stderr at LOG_INFO as "nfprobe". Call it from one thread before the others start.
 * Returns 0 or -EINVAL for an unknown target (the previous target stays).
 */
int log_open(const char *target, int level, const char *ident);

/* Closes syslog if it was open; later messages go to stderr. */
void log_close(void);

/* Changes the level at any time (SIGHUP reload), from any thread. */
void log_set_level(int level);
int log_get_level(void);

/* "err", "warning", ... for a syslog level. */
const char *log_level_name(int level);

/* Logs one message (a trailing newline in fmt is dropped). Thread-safe. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* State of one LOG_RATELIMITED() call site. Zero-initialised = nothing logged yet. */
struct log_ratelimit {
    _Atomic uint64_t next_ms;    /* monotonic ms before which the site stays quiet */
    _Atomic uint64_t suppressed; /* messages dropped since the last one printed */
};

/*
 * Logs through rl at most once per `secs` seconds of the monotonic clock now_ms; the message
 * after a quiet period ends in " (N suppressed)". Messages above the level are neither printed
 * nor counted. Thread-safe: of threads racing at the same site, one prints.
 */
void log_ratelimited(struct log_ratelimit *rl, uint64_t now_ms, unsigned secs, int level,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t log_now_ms(void);

/* log_msg() printing at most once per `secs` seconds per call site, with a suppressed count. */
#define LOG_RATELIMITED(level, secs, ...)                                                          \
    do {                                                                                           \
        static struct log_ratelimit log_rl_site_;                                                  \
        log_ratelimited(&log_rl_site_, log_now_ms(), (secs), (level), __VA_ARGS__);                \
    } while (0)

#endif
