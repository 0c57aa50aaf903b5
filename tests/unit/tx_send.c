/*
 * tx_send.c - test driver for collectors-test/transport.sh: sends numbered messages through
 * the real transport (tx_*) to a collector and prints the transport's counters.
 *
 *   tx_send [options] udp|tcp|tls://HOST:PORT       (HOST may be [v6-literal])
 *     -n COUNT     data messages (default 100)
 *     -s SIZE      bytes per data message, >= 16 (default 1000)
 *     -r RECORDS   records each data message claims (default 10)
 *     -i MS        stream mode: one message every MS ms whatever the session state (refused
 *                  ones count as lost); default 0: wait for room and a session for each message
 *     -u MS        deadline for the first session to come up, and in wait mode for any message
 *                  to find a session and room (default 5000; then the run stops, "unsent=")
 *     -w MS        tx_close timeout (default 5000)
 *     -q BYTES     queue size; -b MIN:MAX backoff in ms (default 100:1000)
 *     -A CA -C CERT -K KEY   TLS files
 *     -o FILE      writes the bytes of every message the transport accepted, in order
 *     -e FILE      event log: "MS up N", "MS down: ERROR", "MS fail: ERROR" lines as they
 *                  happen (MS since start)
 *
 * Message layout (all sizes): "NFTX", kind ('U' = first message of session N, as templates
 * would be; 'D' = data), 3 zero bytes, sequence (u32 BE), length (u32 BE), then payload bytes
 * derived from the sequence. Prints key=value lines (the tx_stats, ever_up, last_error) and
 * exits 0 if a session came up, 2 if none did before the -u deadline, 1 on usage/open errors.
 * SIGPIPE keeps its default action on purpose: the transport must never raise it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"

#define HDR_LEN 16

struct driver {
    struct tx_peer *p;
    int out_fd;
    int ev_fd;
    uint64_t t_start;
    unsigned sessions;
    bool ever_up;
    uint8_t *buf;
};

static uint64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static size_t
build(uint8_t *b, char kind, uint32_t seq, size_t len)
{
    memcpy(b, "NFTX", 4);
    b[4] = (uint8_t)kind;
    b[5] = b[6] = b[7] = 0;
    put_be32(b + 8, seq);
    put_be32(b + 12, (uint32_t)len);
    for (size_t j = HDR_LEN; j < len; j++)
        b[j] = (uint8_t)(seq * 131u + j * 7u);
    return len;
}

static void
event(struct driver *d, const char *fmt, ...)
{
    char line[700];
    va_list ap;
    int n, m;

    if (d->ev_fd < 0)
        return;
    n = snprintf(line, sizeof(line), "%6" PRIu64 " ", mono_ms() - d->t_start);
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
    va_end(ap);
    n += m > 0 ? m : 0;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (write(d->ev_fd, line, (size_t)n) < 0)
        return;
}

static int
send_one(struct driver *d, const uint8_t *msg, size_t len, uint32_t records)
{
    int rc = tx_send(d->p, msg, len, records);

    if (rc == 0 && d->out_fd >= 0 && write(d->out_fd, msg, len) != (ssize_t)len) {
        perror("tx_send: -o");
        exit(1);
    }
    return rc;
}

/* Polls once and reacts like the exporter: a new session gets its first ('U') message first. */
static int
poll_once(struct driver *d)
{
    int ev = tx_poll(d->p, mono_ms());
    uint8_t marker[32];

    if (ev & TX_EV_FAIL)
        event(d, "fail: %s", tx_last_error(d->p));
    if (ev & TX_EV_DOWN)
        event(d, "down: %s", tx_last_error(d->p));
    if (ev & TX_EV_UP) {
        d->ever_up = true;
        d->sessions++;
        event(d, "up %u", d->sessions);
        if (send_one(d, marker, build(marker, 'U', d->sessions, sizeof(marker)), 0) != 0)
            event(d, "marker refused");
    }
    return ev;
}

static void
print_stats(struct driver *d, const struct tx_stats *st, const char *last_error)
{
    printf("messages_sent=%" PRIu64 "\noctets_sent=%" PRIu64 "\nrecords_sent=%" PRIu64 "\n",
           st->messages_sent, st->octets_sent, st->records_sent);
    printf("messages_lost=%" PRIu64 "\noctets_lost=%" PRIu64 "\nrecords_lost=%" PRIu64 "\n",
           st->messages_lost, st->octets_lost, st->records_lost);
    printf("send_errors=%" PRIu64 "\nconnects=%" PRIu64 "\nconnect_failures=%" PRIu64 "\n",
           st->send_errors, st->connects, st->connect_failures);
    printf("tls_verify_failures=%" PRIu64 "\nsessions=%u\never_up=%d\nlast_error=%s\n",
           st->tls_verify_failures, d->sessions, d->ever_up, last_error);
}

static int
parse_url(char *url, struct tx_config *c)
{
    char *rest, *colon;

    if (strncmp(url, "udp://", 6) == 0)
        c->proto = TX_UDP;
    else if (strncmp(url, "tcp://", 6) == 0)
        c->proto = TX_TCP;
    else if (strncmp(url, "tls://", 6) == 0)
        c->proto = TX_TLS;
    else
        return -1;
    rest = url + 6;
    if (rest[0] == '[') {
        char *end = strchr(rest, ']');

        if (end == NULL || end[1] != ':')
            return -1;
        *end = '\0';
        c->host = rest + 1;
        c->port = end + 2;
        return 0;
    }
    colon = strrchr(rest, ':');
    if (colon == NULL)
        return -1;
    *colon = '\0';
    c->host = rest;
    c->port = colon + 1;
    return 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: tx_send [-n COUNT] [-s SIZE] [-r RECORDS] [-i MS] [-u MS] [-w MS] "
                    "[-q BYTES] [-b MIN:MAX] [-A CA] [-C CERT] [-K KEY] [-o FILE] [-e FILE] "
                    "udp|tcp|tls://HOST:PORT\n");
    exit(1);
}

int
main(int argc, char **argv)
{
    struct tx_config c = {0};
    struct driver d = {.out_fd = -1, .ev_fd = -1};
    unsigned long count = 100, size = 1000, records = 10, interval = 0, up_ms = 5000, unsent = 0;
    int close_ms = 5000, opt;
    char err[512], last_error[512];
    struct tx_stats st;

    c.backoff_min_ms = 100;
    c.backoff_max_ms = 1000;
    while ((opt = getopt(argc, argv, "n:s:r:i:u:w:q:b:A:C:K:o:e:")) != -1) {
        switch (opt) {
        case 'n': count = strtoul(optarg, NULL, 10); break;
        case 's': size = strtoul(optarg, NULL, 10); break;
        case 'r': records = strtoul(optarg, NULL, 10); break;
        case 'i': interval = strtoul(optarg, NULL, 10); break;
        case 'u': up_ms = strtoul(optarg, NULL, 10); break;
        case 'w': close_ms = atoi(optarg); break;
        case 'q': c.queue_bytes = strtoul(optarg, NULL, 10); break;
        case 'b':
            if (sscanf(optarg, "%u:%u", &c.backoff_min_ms, &c.backoff_max_ms) != 2)
                usage();
            break;
        case 'A': c.tls_ca = optarg; break;
        case 'C': c.tls_cert = optarg; break;
        case 'K': c.tls_key = optarg; break;
        case 'o':
            d.out_fd = open(optarg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (d.out_fd < 0) {
                perror(optarg);
                return 1;
            }
            break;
        case 'e':
            d.ev_fd = open(optarg, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
            if (d.ev_fd < 0) {
                perror(optarg);
                return 1;
            }
            break;
        default: usage();
        }
    }
    if (optind + 1 != argc || size < HDR_LEN || parse_url(argv[optind], &c) != 0)
        usage();
    d.t_start = mono_ms();
    d.buf = malloc(size);
    if (d.buf == NULL)
        return 1;
    d.p = tx_open(&c, err, sizeof(err));
    if (d.p == NULL) {
        fprintf(stderr, "tx_send: %s\n", err);
        return 1;
    }

    uint64_t up_deadline = mono_ms() + up_ms;
    while (!d.ever_up && mono_ms() < up_deadline) {
        poll_once(&d);
        if (!d.ever_up)
            poll(NULL, 0, 1);
    }
    if (d.ever_up) {
        uint64_t t0 = mono_ms();

        for (unsigned long i = 0; i < count; i++) {
            size_t len = build(d.buf, 'D', (uint32_t)i, size);

            if (interval > 0) {
                /* Stream mode: the schedule goes on whether or not a session is up. */
                while (mono_ms() < t0 + i * interval) {
                    poll_once(&d);
                    poll(NULL, 0, 1);
                }
                send_one(&d, d.buf, len, (uint32_t)records);
                poll_once(&d);
                continue;
            }
            /* Wait mode: every message waits for a session and room; the run is abandoned
             * when that takes longer than -u (the rest is reported as unsent). */
            uint64_t give_up = mono_ms() + up_ms;
            while (!tx_can_send(d.p, len) && mono_ms() < give_up) {
                if (poll_once(&d) == 0 && !tx_can_send(d.p, len))
                    poll(NULL, 0, 1);
            }
            if (!tx_can_send(d.p, len)) {
                unsent = count - i;
                break;
            }
            send_one(&d, d.buf, len, (uint32_t)records);
            poll_once(&d);
        }
    }
    snprintf(last_error, sizeof(last_error), "%s", tx_last_error(d.p));
    tx_close(d.p, close_ms, &st);
    print_stats(&d, &st, last_error);
    printf("unsent=%lu\n", unsent);
    free(d.buf);
    if (d.out_fd >= 0)
        close(d.out_fd);
    if (d.ev_fd >= 0)
        close(d.ev_fd);
    return d.ever_up ? 0 : 2;
}
