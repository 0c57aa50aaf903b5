/*
 * test_log.c - the stderr line format, levels, truncation, the rate limiter and lines from
 * many threads at once. stderr is pointed at a temporary file so the real write path runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static char path[64];
static int saved_stderr = -1;
static FILE *real_stderr, *old_stderr;

static int
setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/nfprobe-test-log.%d", (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    if (fd < 0)
        return -1;
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    /* cmocka reports failures with fprintf(stderr): keep that stream on the real stderr. */
    real_stderr = fdopen(dup(saved_stderr), "w");
    setvbuf(real_stderr, NULL, _IONBF, 0);
    old_stderr = stderr;
    stderr = real_stderr;
    return log_open("stderr", LOG_INFO, "nfprobe-test");
}

static int
teardown(void **state)
{
    (void)state;
    log_close();
    stderr = old_stderr;
    fclose(real_stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    unlink(path);
    return 0;
}

/* What was logged since the last call; empties the file. */
static char *
take(void)
{
    static char buf[4 << 20];
    FILE *fp = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    if (ftruncate(STDERR_FILENO, 0) != 0 || lseek(STDERR_FILENO, 0, SEEK_SET) != 0)
        fail_msg("cannot reset the log file");
    return buf;
}

static void
line_format_and_levels(void **state)
{
    (void)state;
    char want[128];
    log_msg(LOG_WARNING, "tx %s: %s", "udp://127.0.0.1:4739", "Connection refused");
    snprintf(want, sizeof(want), "nfprobe-test[%d]: warning: tx udp://127.0.0.1:4739: "
                                 "Connection refused\n", (int)getpid());
    assert_string_equal(take(), want);

    log_msg(LOG_DEBUG, "not shown at info");
    assert_string_equal(take(), "");
    log_set_level(LOG_DEBUG);
    assert_int_equal(log_get_level(), LOG_DEBUG);
    log_msg(LOG_DEBUG, "shown at debug\n");
    snprintf(want, sizeof(want), "nfprobe-test[%d]: debug: shown at debug\n", (int)getpid());
    assert_string_equal(take(), want);
    log_set_level(LOG_ERR);
    log_msg(LOG_WARNING, "hidden");
    log_msg(LOG_ERR, "two\nlines");
    snprintf(want, sizeof(want), "nfprobe-test[%d]: err: two lines\n", (int)getpid());
    assert_string_equal(take(), want);
    log_set_level(99); /* clamped */
    assert_int_equal(log_get_level(), LOG_DEBUG);
    log_set_level(LOG_INFO);

    assert_string_equal(log_level_name(LOG_NOTICE), "notice");
    assert_int_equal(log_open("file", LOG_INFO, NULL), -22);
    log_msg(LOG_INFO, "still on stderr");
    assert_non_null(strstr(take(), "info: still on stderr\n"));
}

static void
long_message_is_cut(void **state)
{
    (void)state;
    char big[3000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_msg(LOG_ERR, "%s", big);
    char *out = take();
    size_t len = strlen(out);
    assert_true(len < LOG_MAX_LINE + 64);
    assert_int_equal(out[len - 1], '\n');
    assert_memory_equal(out + len - 5, "a...\n", 5);
    assert_ptr_equal(strchr(out, '\n'), out + len - 1);
}

static void
rate_limit_counts_suppressed(void **state)
{
    (void)state;
    struct log_ratelimit rl = {0};
    log_ratelimited(&rl, 10000, 5, LOG_WARNING, "collector %d down", 1);
    for (int i = 0; i < 7; i++)
        log_ratelimited(&rl, 10000 + 700 * (uint64_t)i, 5, LOG_WARNING, "collector %d down", 1);
    char *out = take();
    assert_non_null(strstr(out, "warning: collector 1 down\n"));
    assert_null(strstr(out + 1, "nfprobe-test[")); /* exactly one line */

    /* 5 s after the first message the next one prints, with the count of those dropped. */
    log_ratelimited(&rl, 15000, 5, LOG_WARNING, "collector %d down", 1);
    out = take();
    assert_non_null(strstr(out, "warning: collector 1 down (7 suppressed)\n"));
    /* and the count starts again */
    log_ratelimited(&rl, 20000, 5, LOG_WARNING, "collector %d down", 1);
    out = take();
    assert_non_null(strstr(out, "collector 1 down\n"));
    assert_null(strstr(out, "suppressed"));

    /* Messages above the level are neither printed nor counted. */
    struct log_ratelimit quiet = {0};
    log_ratelimited(&quiet, 1000, 1, LOG_DEBUG, "debug");
    log_ratelimited(&quiet, 1000, 1, LOG_DEBUG, "debug");
    assert_string_equal(take(), "");
    assert_int_equal(quiet.suppressed, 0);

    /* The macro: one static site, so a loop prints once. */
    for (int i = 0; i < 100; i++)
        LOG_RATELIMITED(LOG_NOTICE, 60, "loop %d", i);
    out = take();
    assert_non_null(strstr(out, "notice: loop 0\n"));
    assert_null(strstr(out, "loop 1"));
}

#define N_THREADS 8
#define N_LINES 2000

static void *
writer(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < N_LINES; i++)
        log_msg(LOG_INFO, "thread %ld line %d %s", id, i,
                "padding padding padding padding padding padding padding padding");
    return NULL;
}

static struct log_ratelimit shared_rl;

static void *
limited(void *arg)
{
    (void)arg;
    for (int i = 0; i < N_LINES; i++)
        log_ratelimited(&shared_rl, 5000, 10, LOG_WARNING, "shared site");
    return NULL;
}

static void
threads_never_interleave(void **state)
{
    (void)state;
    pthread_t t[N_THREADS];
    for (long i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)i), 0);
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(t[i], NULL);
    char *out = take();
    char prefix[64];
    int pl = snprintf(prefix, sizeof(prefix), "nfprobe-test[%d]: info: thread ", (int)getpid());
    int lines = 0, per[N_THREADS] = {0};
    for (char *line = out; *line != '\0'; lines++) {
        char *eol = strchr(line, '\n');
        assert_non_null(eol);
        assert_memory_equal(line, prefix, (size_t)pl);
        long id;
        int n;
        assert_int_equal(sscanf(line + pl, "%ld line %d", &id, &n), 2);
        assert_true(id >= 0 && id < N_THREADS);
        assert_int_equal(n, per[id]); /* each thread's lines in its own order */
        per[id]++;
        assert_memory_equal(eol - 7, "padding", 7);
        line = eol + 1;
    }
    assert_int_equal(lines, N_THREADS * N_LINES);

    /* Racing at one rate-limited site: exactly one line. */
    for (long i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, limited, NULL), 0);
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(t[i], NULL);
    out = take();
    assert_non_null(strstr(out, "warning: shared site\n"));
    assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));
    assert_int_equal(shared_rl.suppressed, N_THREADS * N_LINES - 1);
}

static void
syslog_target_leaves_stderr_alone(void **state)
{
    (void)state;
    assert_int_equal(log_open("syslog", LOG_INFO, "nfprobe-test"), 0);
    log_msg(LOG_INFO, "to syslog, not stderr");
    assert_string_equal(take(), "");
    log_close();
    log_msg(LOG_INFO, "back on stderr");
    assert_non_null(strstr(take(), "back on stderr"));
    assert_int_equal(log_open("stderr", LOG_INFO, "nfprobe-test"), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_format_and_levels),
        cmocka_unit_test(long_message_is_cut),
        cmocka_unit_test(rate_limit_counts_suppressed),
        cmocka_unit_test(threads_never_interleave),
        cmocka_unit_test(syslog_target_leaves_stderr_alone),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
