/*
 * test_transport.c - the UDP/TCP/TLS transport against real sockets on 127.0.0.1 (and ::1).
 *
 * The collector side is a socket this test creates (bound to port 0, port read back with
 * getsockname). Backoff and timeouts run on a fake clock passed to tx_poll(); real waiting is
 * only for the kernel to deliver loopback packets, always polled against a deadline.
 * SIGPIPE keeps its default action: a write that raised it would kill the test.
 * The TLS handshake with real certificates is covered by collectors-test/transport.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"

#define REAL_DEADLINE_MS 3000

/* A self-signed CA certificate whose key was thrown away: enough to load as tls_ca. */
static const char unit_ca_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBtjCCAVugAwIBAgIUDaYQVgCNB4sNTAtJJ1HugQWm4rcwCgYIKoZIzj0EAwIw\n"
    "LzEtMCsGA1UEAwwkbmZwcm9iZSB1bml0LXRlc3QgQ0EgKGtleSBkaXNjYXJkZWQp\n"
    "MCAXDTI2MTEyNzA4MDYzNFoYDzIxMjYxMTAzMDgwNjM0WjAvMS0wKwYDVQQDDCRu\n"
    "ZnByb2JlIHVuaXQtdGVzdCBDQSAoa2V5IGRpc2NhcmRlZCkwWTATBgcqhkjOPQIB\n"
    "BggqhkjOPQMBBwNCAAQaMfo9SlcjZckwVLkHmMofT7B4wk3B+lNxHg3O/+bznabZ\n"
    "LTXLW5yQwAx0w30m5eM47HTggWNj7TxBgwebU13ro1MwUTAdBgNVHQ4EFgQUetG+\n"
    "iAeCZZhR/kvROkRzFC0sjD8wHwYDVR0jBBgwFoAUetG+iAeCZZhR/kvROkRzFC0s\n"
    "jD8wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA1vR4BARBaWz4\n"
    "EO3U4jf3nX3oPfYmvj6NoBMZCe0z9poCIQDLLTI4EnBBSgCuNLCjQLvUCscklr7C\n"
    "xsS5lAXnCowdhQ==\n"
    "-----END CERTIFICATE-----\n";

static uint64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
pattern(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t j = 0; j < len; j++)
        buf[j] = (uint8_t)(seed * 131u + j * 7u + (j >> 8));
}

/* A socket bound to addr:0 (listening for TCP); *port gets the port the kernel chose. */
static int
listener(int family, int type, unsigned *port)
{
    struct sockaddr_storage ss = {0};
    socklen_t sl;
    int one = 1;
    int fd = socket(family, type | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;

        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sl = sizeof(*a);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        sl = sizeof(*a);
    }
    if (*port != 0)
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)*port); /* same offset in v6 */
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || (type == SOCK_STREAM && listen(fd, 8) < 0)) {
        close(fd);
        return -1;
    }
    sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static struct tx_config
make_cfg(enum tx_proto proto, const char *host, const char *port)
{
    struct tx_config c = {0};

    c.proto = proto;
    c.host = host;
    c.port = port;
    c.backoff_min_ms = 100;
    c.backoff_max_ms = 400;
    return c;
}

static struct tx_peer *
open_ok(const struct tx_config *c)
{
    char err[256] = "";
    struct tx_peer *p = tx_open(c, err, sizeof(err));

    if (p == NULL)
        fail_msg("tx_open: %s", err);
    return p;
}

/* Polls (fake time fixed at now) until an event of mask shows up or the real deadline passes. */
static int
poll_until(struct tx_peer *p, uint64_t now, int mask)
{
    uint64_t deadline = mono_ms() + REAL_DEADLINE_MS;
    int ev = 0;

    do {
        ev |= tx_poll(p, now);
        if (ev & mask)
            break;
        poll(NULL, 0, 1);
    } while (mono_ms() < deadline);
    return ev;
}

/* Polls until connect_failures reaches want or the real deadline passes; returns the count. */
static uint64_t
poll_failures(struct tx_peer *p, uint64_t now, uint64_t want, int real_ms)
{
    uint64_t deadline = mono_ms() + (uint64_t)real_ms;
    struct tx_stats st;

    for (;;) {
        tx_poll(p, now);
        tx_stats(p, &st);
        if (st.connect_failures >= want || mono_ms() >= deadline)
            return st.connect_failures;
        poll(NULL, 0, 2);
    }
}

static int
accept_deadline(int lfd)
{
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};

    if (poll(&pfd, 1, REAL_DEADLINE_MS) != 1)
        return -1;
    return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/* Reads len bytes from fd while letting the transport flush; fails the test on timeout. */
static void
read_exact(int fd, struct tx_peer *p, uint64_t now, uint8_t *buf, size_t len)
{
    uint64_t deadline = mono_ms() + REAL_DEADLINE_MS;
    size_t got = 0;

    while (got < len) {
        int ev = p ? tx_poll(p, now) : 0;

        assert_false(ev & TX_EV_DOWN);
        ssize_t n = recv(fd, buf + got, len - got, MSG_DONTWAIT);

        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        assert_true(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
        if (mono_ms() >= deadline)
            fail_msg("read %zu of %zu bytes before the deadline", got, len);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        poll(&pfd, 1, 1);
    }
}

static void
assert_no_loss(const struct tx_stats *st)
{
    assert_int_equal(st->messages_lost, 0);
    assert_int_equal(st->octets_lost, 0);
    assert_int_equal(st->records_lost, 0);
    assert_int_equal(st->send_errors, 0);
}

/*
 * The collector ends its side first (as at the end of a stream it fully read): tx_close must
 * then return at once, not at its deadline, and the collector must see our FIN (EOF).
 */
static void
close_with_collector(struct tx_peer *p, int cfd)
{
    uint8_t b;

    shutdown(cfd, SHUT_WR);
    uint64_t t0 = mono_ms();
    tx_close(p, 2000, NULL);
    assert_true(mono_ms() - t0 < 1000);
    struct pollfd pfd = {.fd = cfd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, REAL_DEADLINE_MS), 1);
    assert_int_equal(recv(cfd, &b, 1, 0), 0);
}

/* ------------------------------------------------------------------ UDP */

static void
udp_roundtrip(int family, const char *host, const char *want_fmt)
{
    static const size_t sizes[] = {1, 17, 512, 1400, 9000};
    uint8_t msg[9000], got[9100];
    unsigned port = 0;
    char portstr[16], want_name[64];
    int lfd = listener(family, SOCK_DGRAM, &port);

    if (lfd < 0 && family == AF_INET6) {
        skip();
        return;
    }
    assert_true(lfd >= 0);
    snprintf(portstr, sizeof(portstr), "%u", port);
    struct tx_config c = make_cfg(TX_UDP, host, portstr);
    struct tx_peer *p = open_ok(&c);

    snprintf(want_name, sizeof(want_name), want_fmt, port);
    assert_string_equal(tx_name(p), want_name);
    assert_string_equal(tx_last_error(p), "");
    assert_int_equal(tx_poll(p, 0), TX_EV_UP);
    assert_int_equal(tx_poll(p, 1), 0);

    uint64_t octets = 0, records = 0;
    unsigned src_port = 0;

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        struct pollfd pfd = {.fd = lfd, .events = POLLIN};

        pattern(msg, sizes[i], (unsigned)i);
        assert_true(tx_can_send(p, sizes[i]));
        assert_int_equal(tx_send(p, msg, sizes[i], (uint32_t)i + 1), 0);
        octets += sizes[i];
        records += i + 1;
        assert_int_equal(poll(&pfd, 1, REAL_DEADLINE_MS), 1);
        ssize_t n = recvfrom(lfd, got, sizeof(got), 0, (struct sockaddr *)&from, &fl);
        assert_int_equal(n, (ssize_t)sizes[i]);
        assert_memory_equal(got, msg, sizes[i]);
        /* A fixed source port: collectors key UDP template state by it. */
        unsigned sp = ntohs(((struct sockaddr_in *)&from)->sin_port);
        if (i == 0)
            src_port = sp;
        assert_int_equal(sp, src_port);
    }
    struct tx_stats st, fin;

    tx_stats(p, &st);
    assert_int_equal(st.messages_sent, 5);
    assert_int_equal(st.octets_sent, octets);
    assert_int_equal(st.records_sent, records);
    assert_int_equal(st.connects, 1);
    assert_no_loss(&st);
    assert_int_equal(tx_send(p, msg, 0, 1), -EINVAL); /* not a message: not counted */
    tx_close(p, 1000, &fin);
    assert_memory_equal(&fin, &st, sizeof(st));
    close(lfd);
}

static void
test_udp_v4_bytes_exact(void **state)
{
    (void)state;
    udp_roundtrip(AF_INET, "127.0.0.1", "udp://127.0.0.1:%u");
}

static void
test_udp_v6_bytes_exact(void **state)
{
    (void)state;
    udp_roundtrip(AF_INET6, "::1", "udp://[::1]:%u");
}

/* ICMP port unreachable comes back as ECONNREFUSED on a later send: counted, never fatal, and
 * the same socket works again once the collector is back. */
static void
test_udp_refused_counted_not_fatal(void **state)
{
    uint8_t msg[300], got[400];
    unsigned port = 0;
    char portstr[16];
    int lfd = listener(AF_INET, SOCK_DGRAM, &port);

    (void)state;
    assert_true(lfd >= 0);
    close(lfd); /* nobody listens on port now */
    snprintf(portstr, sizeof(portstr), "%u", port);
    struct tx_config c = make_cfg(TX_UDP, "127.0.0.1", portstr);
    struct tx_peer *p = open_ok(&c);

    assert_int_equal(tx_poll(p, 0), TX_EV_UP);
    pattern(msg, sizeof(msg), 9);
    uint64_t ok = 0, refused = 0, other = 0, deadline = mono_ms() + REAL_DEADLINE_MS;

    while (refused < 3 && mono_ms() < deadline) {
        int rc = tx_send(p, msg, sizeof(msg), 4);

        if (rc == 0)
            ok++;
        else if (rc == -ECONNREFUSED)
            refused++;
        else
            other++;
        poll(NULL, 0, 1);
    }
    assert_true(refused >= 3);
    struct tx_stats st;

    tx_stats(p, &st);
    assert_int_equal(st.messages_sent, ok);
    assert_int_equal(st.messages_lost, refused + other);
    assert_int_equal(st.send_errors, refused + other);
    assert_int_equal(st.octets_lost, (refused + other) * sizeof(msg));
    assert_int_equal(st.records_lost, (refused + other) * 4);
    assert_int_equal(st.octets_sent, ok * sizeof(msg));
    assert_non_null(strstr(tx_last_error(p), portstr));
    assert_non_null(strstr(tx_last_error(p), strerror(ECONNREFUSED)));

    /* The collector comes back on the same port: the same peer delivers again. */
    lfd = listener(AF_INET, SOCK_DGRAM, &port);
    assert_true(lfd >= 0);
    deadline = mono_ms() + REAL_DEADLINE_MS;
    ssize_t n = -1;
    while (n < 0 && mono_ms() < deadline) {
        struct pollfd pfd = {.fd = lfd, .events = POLLIN};

        tx_send(p, msg, sizeof(msg), 4);
        if (poll(&pfd, 1, 20) == 1)
            n = recv(lfd, got, sizeof(got), 0);
    }
    assert_int_equal(n, (ssize_t)sizeof(msg));
    assert_memory_equal(got, msg, sizeof(msg));
    tx_close(p, 0, NULL);
    close(lfd);
}

/* ------------------------------------------------------------------ TCP */

struct tcp_fixture {
    int lfd;
    unsigned port;
    char portstr[16];
};

static struct tcp_fixture
tcp_listener(int rcvbuf)
{
    struct tcp_fixture f = {0};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(a);

    f.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f.lfd >= 0);
    /* Set before listen so that accepted sockets inherit a small window. */
    if (rcvbuf > 0)
        setsockopt(f.lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    assert_int_equal(bind(f.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f.lfd, 8), 0);
    getsockname(f.lfd, (struct sockaddr *)&a, &sl);
    f.port = ntohs(a.sin_port);
    snprintf(f.portstr, sizeof(f.portstr), "%u", f.port);
    return f;
}

/* Opens a TCP peer, brings the session up at fake time now and accepts it. */
static struct tx_peer *
tcp_up(const struct tx_config *c, int lfd, uint64_t now, int *cfd)
{
    struct tx_peer *p = open_ok(c);

    assert_int_equal(poll_until(p, now, TX_EV_UP) & (TX_EV_UP | TX_EV_DOWN), TX_EV_UP);
    *cfd = accept_deadline(lfd);
    assert_true(*cfd >= 0);
    return p;
}

static void
test_tcp_session_in_order(void **state)
{
    struct tcp_fixture f = tcp_listener(0);
    struct tx_config c = make_cfg(TX_TCP, "127.0.0.1", f.portstr);
    uint8_t msg[600];
    int cfd;

    (void)state;
    c.queue_bytes = 64 * 1024;
    struct tx_peer *p = open_ok(&c);

    char want[64];
    snprintf(want, sizeof(want), "tcp://127.0.0.1:%u", f.port);
    assert_string_equal(tx_name(p), want);

    /* Before the session is up nothing is accepted, and the refusal is counted. */
    pattern(msg, 100, 1);
    assert_false(tx_can_send(p, 100));
    assert_int_equal(tx_send(p, msg, 100, 3), -ENOTCONN);
    struct tx_stats st;
    tx_stats(p, &st);
    assert_int_equal(st.messages_lost, 1);
    assert_int_equal(st.octets_lost, 100);
    assert_int_equal(st.records_lost, 3);
    assert_int_equal(st.connects, 0);

    assert_int_equal(poll_until(p, 1000, TX_EV_UP) & (TX_EV_UP | TX_EV_DOWN), TX_EV_UP);
    cfd = accept_deadline(f.lfd);
    assert_true(cfd >= 0);
    tx_stats(p, &st);
    assert_int_equal(st.connects, 1);
    assert_int_equal(tx_poll(p, 1000), 0); /* UP is reported once */

    /* 200 messages of varied sizes; the stream must be their exact concatenation. */
    size_t total = 0;
    uint64_t records = 0;
    uint8_t *expect = malloc(200 * sizeof(msg));
    uint8_t *got = malloc(200 * sizeof(msg));
    assert_non_null(expect);
    assert_non_null(got);
    for (unsigned i = 0; i < 200; i++) {
        size_t len = 1 + (i * 37u) % sizeof(msg);

        pattern(msg, len, i);
        while (!tx_can_send(p, len))
            assert_false(tx_poll(p, 1000) & TX_EV_DOWN);
        assert_int_equal(tx_send(p, msg, len, i % 5), 0);
        memcpy(expect + total, msg, len);
        total += len;
        records += i % 5;
        if (i % 16 == 0)
            assert_int_equal(tx_poll(p, 1000), 0);
    }
    read_exact(cfd, p, 1000, got, total);
    assert_memory_equal(got, expect, total);
    assert_int_equal(tx_pending(p), 0);
    tx_stats(p, &st);
    assert_int_equal(st.messages_sent, 200);
    assert_int_equal(st.octets_sent, total);
    assert_int_equal(st.records_sent, records);
    assert_int_equal(st.messages_lost, 1); /* the one refused before the session */
    assert_int_equal(st.send_errors, 0);
    close_with_collector(p, cfd);
    free(expect);
    free(got);
    close(cfd);
    close(f.lfd);
}

static void
test_tcp_queue_bound(void **state)
{
    struct tcp_fixture f = tcp_listener(0);
    struct tx_config c = make_cfg(TX_TCP, "127.0.0.1", f.portstr);
    uint8_t msg[1001], got[4096], expect[4096];
    struct tx_stats st;
    int cfd;

    (void)state;
    c.queue_bytes = 1000;
    struct tx_peer *p = tcp_up(&c, f.lfd, 1000, &cfd);

    /* Ten 100-byte messages fill the 1000-byte queue exactly (no tx_poll: nothing leaves). */
    for (unsigned i = 0; i < 10; i++) {
        pattern(msg, 100, i);
        memcpy(expect + i * 100, msg, 100);
        assert_true(tx_can_send(p, 100));
        assert_int_equal(tx_send(p, msg, 100, 2), 0);
    }
    assert_int_equal(tx_pending(p), 1000);
    assert_false(tx_can_send(p, 1));
    assert_int_equal(tx_send(p, msg, 1, 5), -ENOBUFS);
    assert_int_equal(tx_send(p, msg, 1001, 6), -EMSGSIZE);
    tx_stats(p, &st);
    assert_int_equal(st.messages_lost, 2);
    assert_int_equal(st.octets_lost, 1 + 1001);
    assert_int_equal(st.records_lost, 5 + 6);
    assert_int_equal(st.messages_sent, 0);

    /* The queue wraps: after a flush it takes messages again, across the ring's end. */
    read_exact(cfd, p, 1000, got, 1000);
    assert_memory_equal(got, expect, 1000);
    assert_int_equal(tx_pending(p), 0);
    pattern(msg, 700, 77);
    assert_int_equal(tx_send(p, msg, 700, 1), 0);
    read_exact(cfd, p, 1000, got, 700);
    assert_memory_equal(got, msg, 700);
    pattern(msg, 900, 78); /* starts at offset 700 of 1000: wraps */
    assert_int_equal(tx_send(p, msg, 900, 1), 0);
    read_exact(cfd, p, 1000, got, 900);
    assert_memory_equal(got, msg, 900);

    /* The message count is bounded too: many 1-byte messages are refused, cleanly, before the
     * bytes run out, and every accepted one arrives. */
    unsigned accepted = 0;
    tx_stats(p, &st);
    uint64_t lost_before = st.messages_lost;
    while (tx_can_send(p, 1)) {
        uint8_t b = (uint8_t)accepted;
        assert_int_equal(tx_send(p, &b, 1, 1), 0);
        expect[accepted++] = b;
        assert_true(accepted <= 1000);
    }
    assert_true(tx_pending(p) < 1000);
    assert_int_equal(tx_send(p, msg, 1, 1), -ENOBUFS);
    read_exact(cfd, p, 1000, got, accepted);
    assert_memory_equal(got, expect, accepted);
    tx_stats(p, &st);
    assert_int_equal(st.messages_lost, lost_before + 1);
    assert_int_equal(st.messages_sent, 10 + 2 + accepted);
    close_with_collector(p, cfd);
    close(cfd);
    close(f.lfd);
}

/*
 * The collector resets the connection while messages are queued: TX_EV_DOWN, exactly the
 * unsent messages counted as lost, no SIGPIPE, no reconnect before the backoff, TX_EV_UP again
 * after it and a new session that starts with a whole message.
 */
static void
test_tcp_peer_reset_lost_and_reconnect(void **state)
{
    struct tcp_fixture f = tcp_listener(4096);
    struct tx_config c = make_cfg(TX_TCP, "127.0.0.1", f.portstr);
    uint8_t msg[1000];
    struct tx_stats st;
    int cfd;
    enum { MAX_MSGS = 100000 };
    uint32_t *recs = calloc(MAX_MSGS, sizeof(*recs));
    unsigned n = 0;

    (void)state;
    assert_non_null(recs);
    c.queue_bytes = 256 * 1024;
    struct tx_peer *p = tcp_up(&c, f.lfd, 1000, &cfd);

    /* Fill the kernel's buffers (the collector reads nothing) until bytes stay queued here. */
    pattern(msg, sizeof(msg), 3);
    uint64_t deadline = mono_ms() + REAL_DEADLINE_MS;
    while (tx_pending(p) < 8 * sizeof(msg)) {
        assert_true(n < MAX_MSGS - 10 && mono_ms() < deadline);
        if (tx_can_send(p, sizeof(msg))) {
            recs[n] = 1 + n % 7;
            assert_int_equal(tx_send(p, msg, sizeof(msg), recs[n]), 0);
            n++;
        }
        assert_false(tx_poll(p, 1000) & TX_EV_DOWN);
    }
    for (unsigned i = 0; i < 3; i++) {
        recs[n] = 100 + i;
        assert_int_equal(tx_send(p, msg, sizeof(msg), recs[n]), 0);
        n++;
    }

    /* Close with unread data: the kernel answers with a RST. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(cfd);
    assert_true(poll_until(p, 1000, TX_EV_DOWN) & TX_EV_DOWN);

    tx_stats(p, &st);
    assert_int_equal(st.messages_sent + st.messages_lost, n);
    assert_true(st.messages_lost >= 11);
    uint64_t want_records = 0;
    for (unsigned i = n - (unsigned)st.messages_lost; i < n; i++)
        want_records += recs[i];
    uint64_t sent_records = 0;
    for (unsigned i = 0; i < n - (unsigned)st.messages_lost; i++)
        sent_records += recs[i];
    assert_int_equal(st.records_lost, want_records);
    assert_int_equal(st.records_sent, sent_records);
    assert_int_equal(st.octets_lost, st.messages_lost * sizeof(msg));
    assert_int_equal(st.octets_sent, st.messages_sent * sizeof(msg));
    assert_int_equal(tx_pending(p), 0);
    assert_non_null(strstr(tx_last_error(p), f.portstr));

    /* Down: nothing is accepted, and the refusal is counted. */
    assert_false(tx_can_send(p, 10));
    assert_int_equal(tx_send(p, msg, 10, 1), -ENOTCONN);
    struct tx_stats st2;
    tx_stats(p, &st2);
    assert_int_equal(st2.messages_lost, st.messages_lost + 1);

    /* Backoff: the first retry comes 75..100 ms (fake) after the loss, not before. */
    struct pollfd lp = {.fd = f.lfd, .events = POLLIN};
    assert_int_equal(tx_poll(p, 1000 + 74), 0);
    assert_int_equal(poll(&lp, 1, 50), 0);
    assert_int_equal(poll_until(p, 1100, TX_EV_UP) & (TX_EV_UP | TX_EV_DOWN), TX_EV_UP);
    cfd = accept_deadline(f.lfd);
    assert_true(cfd >= 0);
    tx_stats(p, &st2);
    assert_int_equal(st2.connects, 2);

    uint8_t got[100];
    pattern(msg, 100, 42);
    assert_int_equal(tx_send(p, msg, 100, 1), 0);
    read_exact(cfd, p, 1100, got, 100);
    assert_memory_equal(got, msg, 100);
    close_with_collector(p, cfd);
    close(cfd);
    close(f.lfd);
    free(recs);
}

/* Peer closes cleanly (FIN) with nothing queued: down, nothing lost. */
static void
test_tcp_peer_fin_down(void **state)
{
    struct tcp_fixture f = tcp_listener(0);
    struct tx_config c = make_cfg(TX_TCP, "127.0.0.1", f.portstr);
    struct tx_stats st;
    int cfd;

    (void)state;
    struct tx_peer *p = tcp_up(&c, f.lfd, 5000, &cfd);

    close(cfd);
    assert_true(poll_until(p, 5000, TX_EV_DOWN) & TX_EV_DOWN);
    tx_stats(p, &st);
    assert_no_loss(&st);
    assert_non_null(strstr(tx_last_error(p), "closed"));
    tx_close(p, 0, NULL);
    close(f.lfd);
}

/* Nobody listens: every attempt fails and is counted; delays double from min to max. */
static void
test_tcp_backoff_doubles_to_max(void **state)
{
    unsigned port = 0;
    char portstr[16];
    int lfd = listener(AF_INET, SOCK_STREAM, &port);

    (void)state;
    assert_true(lfd >= 0);
    close(lfd);
    snprintf(portstr, sizeof(portstr), "%u", port);
    struct tx_config c = make_cfg(TX_TCP, "127.0.0.1", portstr);
    struct tx_peer *p = open_ok(&c);

    /* Attempt k fails at fake time t; attempt k+1 must not start before t + 3/4 of the delay
     * and must have started by t + delay. Delays: 100, 200, 400, 400 (capped). */
    static const uint64_t delays[] = {100, 200, 400, 400};
    uint64_t t = 1000;

    assert_int_equal(poll_failures(p, t, 1, REAL_DEADLINE_MS), 1);
    for (size_t k = 0; k < sizeof(delays) / sizeof(delays[0]); k++) {
        uint64_t early = t + delays[k] - delays[k] / 4 - 1;

        assert_int_equal(poll_failures(p, early, k + 2, 30), k + 1);
        t += delays[k];
        assert_int_equal(poll_failures(p, t, k + 2, REAL_DEADLINE_MS), k + 2);
    }
    assert_non_null(strstr(tx_last_error(p), strerror(ECONNREFUSED)));
    struct tx_stats st;
    tx_stats(p, &st);
    assert_int_equal(st.connects, 0);
    tx_close(p, 0, NULL);
}

struct reader {
    int fd;
    uint8_t *buf;
    size_t cap;
    size_t got;
    int end; /* 0: EOF seen; otherwise the errno that ended the read */
};

static void *
reader_main(void *arg)
{
    struct reader *r = arg;

    for (;;) {
        ssize_t n = recv(r->fd, r->buf + r->got, r->cap - r->got, 0);

        if (n > 0) {
            r->got += (size_t)n;
            if (r->got == r->cap) {
                r->end = ENOSPC;
                return NULL;
            }
            continue;
        }
        r->end = n == 0 ? 0 : errno;
        /* A collector closes its side at the end of the stream: tx_close waits for that. */
        shutdown(r->fd, SHUT_WR);
        return NULL;
    }
}

/* tx_close delivers a large queue completely and ends with a FIN, not a RST. */
static void
test_tcp_close_delivers_everything(void **state)
{
    struct tcp_fixture f = tcp_listener(0);
    struct tx_config c = make_cfg(TX_TCP, "127.0.0.1", f.portstr);
    enum { N = 3000, LEN = 1000 };
    uint8_t msg[LEN];
    struct tx_stats fin;
    struct reader r = {0};
    pthread_t th;

    (void)state;
    c.queue_bytes = 4u << 20;
    struct tx_peer *p = tcp_up(&c, f.lfd, 1000, &r.fd);
    uint8_t *expect = malloc((size_t)N * LEN);

    r.cap = (size_t)N * LEN + 1;
    r.buf = malloc(r.cap);
    assert_non_null(expect);
    assert_non_null(r.buf);
    for (unsigned i = 0; i < N; i++) {
        pattern(msg, LEN, i);
        memcpy(expect + (size_t)i * LEN, msg, LEN);
        assert_int_equal(tx_send(p, msg, LEN, 2), 0);
    }
    assert_int_equal(tx_pending(p), (size_t)N * LEN);
    assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);
    uint64_t t0 = mono_ms();
    tx_close(p, 10000, &fin);
    assert_true(mono_ms() - t0 < 10000);
    pthread_join(th, NULL);
    assert_int_equal(r.end, 0);
    assert_int_equal(r.got, (size_t)N * LEN);
    assert_memory_equal(r.buf, expect, (size_t)N * LEN);
    assert_int_equal(fin.messages_sent, N);
    assert_int_equal(fin.octets_sent, (uint64_t)N * LEN);
    assert_int_equal(fin.records_sent, 2 * N);
    assert_no_loss(&fin);
    free(expect);
    free(r.buf);
    close(r.fd);
    close(f.lfd);
}

/* A collector that reads nothing: tx_close gives up at its deadline and counts the rest. */
static void
test_tcp_close_deadline_counts_rest(void **state)
{
    struct tcp_fixture f = tcp_listener(4096);
    struct tx_config c = make_cfg(TX_TCP, "127.0.0.1", f.portstr);
    /* 16 MB: more than the kernel's send buffer (tcp_wmem max, 4 MB by default) can take. */
    enum { N = 16000, LEN = 1000 };
    uint8_t msg[LEN];
    struct tx_stats fin;
    int cfd;

    (void)state;
    c.queue_bytes = 16u << 20;
    struct tx_peer *p = tcp_up(&c, f.lfd, 1000, &cfd);

    pattern(msg, LEN, 5);
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(tx_send(p, msg, LEN, 3), 0);
    uint64_t t0 = mono_ms();
    tx_close(p, 200, &fin);
    uint64_t took = mono_ms() - t0;
    assert_true(took >= 150 && took < 2000);
    assert_int_equal(fin.messages_sent + fin.messages_lost, N);
    assert_true(fin.messages_lost > 0);
    assert_int_equal(fin.records_lost, 3 * fin.messages_lost);
    assert_int_equal(fin.octets_lost, LEN * fin.messages_lost);
    close(cfd);
    close(f.lfd);
}

/* ------------------------------------------------------------------ TLS */

static void
write_file(char *path, const char *text)
{
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/*
 * A "collector" that accepts TCP but never answers: the handshake times out on the fake clock,
 * the attempt counts as a connect failure, and the only bytes it got are a TLS ClientHello,
 * never plaintext.
 */
static void
test_tls_silent_peer_times_out_no_plaintext(void **state)
{
    struct tcp_fixture f = tcp_listener(0);
    char ca[] = "/tmp/test_transport_ca.XXXXXX";
    uint8_t buf[4096];

    (void)state;
    write_file(ca, unit_ca_pem);
    struct tx_config c = make_cfg(TX_TLS, "127.0.0.1", f.portstr);
    c.tls_ca = ca;
    struct tx_peer *p = open_ok(&c);
    char want[64];

    snprintf(want, sizeof(want), "tls://127.0.0.1:%u", f.port);
    assert_string_equal(tx_name(p), want);
    assert_int_equal(tx_poll(p, 1000) & TX_EV_UP, 0);
    int cfd = accept_deadline(f.lfd);
    assert_true(cfd >= 0);
    struct pollfd pfd = {.fd = cfd, .events = POLLIN};
    uint64_t deadline = mono_ms() + REAL_DEADLINE_MS;
    while (poll(&pfd, 1, 1) == 0 && mono_ms() < deadline)
        assert_int_equal(tx_poll(p, 1000), 0);
    ssize_t n = recv(cfd, buf, sizeof(buf), MSG_DONTWAIT);
    assert_true(n >= 5);
    assert_int_equal(buf[0], 0x16); /* handshake record */
    assert_int_equal(buf[1], 0x03);
    assert_false(tx_can_send(p, 10));
    assert_int_equal(tx_send(p, buf, 10, 1), -ENOTCONN);

    assert_int_equal(tx_poll(p, 1000 + 9999), 0);
    assert_int_equal(tx_poll(p, 1000 + 10000), TX_EV_FAIL);
    struct tx_stats st;
    tx_stats(p, &st);
    assert_int_equal(st.connect_failures, 1);
    assert_int_equal(st.connects, 0);
    assert_int_equal(st.tls_verify_failures, 0);
    assert_non_null(strstr(tx_last_error(p), "timed out"));
    assert_non_null(strstr(tx_last_error(p), want));
    tx_close(p, 0, NULL);
    close(cfd);
    close(f.lfd);
    unlink(ca);
}

/* A "collector" that answers plaintext garbage and closes: refused, never up. */
static void
test_tls_garbage_peer_refused(void **state)
{
    struct tcp_fixture f = tcp_listener(0);
    char ca[] = "/tmp/test_transport_ca.XXXXXX";
    static const char http[] = "HTTP/1.0 400 Bad Request\r\n\r\n";

    (void)state;
    write_file(ca, unit_ca_pem);
    struct tx_config c = make_cfg(TX_TLS, "localhost", f.portstr);
    c.tls_ca = ca;
    struct tx_peer *p = open_ok(&c);
    struct tx_stats st;

    /* localhost may resolve to ::1 first, where nobody listens: that attempt fails first. */
    int ev = 0, cfd = -1;
    uint64_t deadline = mono_ms() + REAL_DEADLINE_MS;
    while (cfd < 0 && mono_ms() < deadline) {
        struct pollfd lp = {.fd = f.lfd, .events = POLLIN};

        ev |= tx_poll(p, 1000);
        if (poll(&lp, 1, 1) == 1)
            cfd = accept4(f.lfd, NULL, NULL, SOCK_CLOEXEC);
    }
    assert_true(cfd >= 0);
    assert_int_equal(send(cfd, http, sizeof(http) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(http) - 1);
    shutdown(cfd, SHUT_WR);
    tx_stats(p, &st);
    uint64_t before = st.connect_failures;
    ev |= poll_until(p, 1000, TX_EV_FAIL);
    assert_true(ev & TX_EV_FAIL);
    assert_false(ev & TX_EV_UP);
    tx_stats(p, &st);
    assert_int_equal(st.connect_failures, before + 1);
    assert_int_equal(st.connects, 0);
    assert_true(tx_last_error(p)[0] != '\0');
    tx_close(p, 0, NULL);
    close(cfd);
    close(f.lfd);
    unlink(ca);
}

/* ------------------------------------------------------------------ tx_open errors */

static void
expect_open_error(const struct tx_config *c, const char *needle1, const char *needle2)
{
    char err[512] = "";
    struct tx_peer *p = tx_open(c, err, sizeof(err));

    assert_null(p);
    if (strstr(err, needle1) == NULL || (needle2 && strstr(err, needle2) == NULL))
        fail_msg("error '%s' lacks '%s' / '%s'", err, needle1, needle2 ? needle2 : "");
}

static void
test_open_errors_name_peer_and_file(void **state)
{
    char ca[] = "/tmp/test_transport_ca.XXXXXX";
    char junk[] = "/tmp/test_transport_junk.XXXXXX";
    struct tx_config c;
    struct tx_stats st;

    (void)state;
    write_file(ca, unit_ca_pem);
    write_file(junk, "not a certificate\n");

    c = make_cfg(TX_TCP, "127.0.0.1", "no-such-service-name");
    expect_open_error(&c, "tcp://127.0.0.1:no-such-service-name", "resolve");
    c = make_cfg(TX_UDP, "", "4739");
    expect_open_error(&c, "host", NULL);

    c = make_cfg(TX_TLS, "127.0.0.1", "4740");
    expect_open_error(&c, "tls://127.0.0.1:4740", "--tls-ca");
    c.tls_ca = "/nonexistent/ca.pem";
    expect_open_error(&c, "tls://127.0.0.1:4740", "/nonexistent/ca.pem");
    c.tls_ca = junk;
    expect_open_error(&c, junk, NULL);
    c.tls_ca = ca;
    c.tls_cert = ca;
    expect_open_error(&c, "--tls-key", NULL);
    c.tls_cert = junk;
    c.tls_key = junk;
    expect_open_error(&c, "--tls-cert", junk);
    c.tls_cert = ca; /* a certificate without its key */
    c.tls_key = junk;
    expect_open_error(&c, "--tls-key", junk);

    /* The CA alone is enough to open (no client certificate). */
    c.tls_cert = c.tls_key = NULL;
    struct tx_peer *p = open_ok(&c);
    tx_close(p, 0, &st);
    assert_int_equal(st.connects, 0);

    memset(&st, 0xff, sizeof(st));
    tx_close(NULL, 0, &st);
    assert_int_equal(st.messages_sent, 0);
    assert_int_equal(st.connect_failures, 0);
    unlink(ca);
    unlink(junk);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_v4_bytes_exact),
        cmocka_unit_test(test_udp_v6_bytes_exact),
        cmocka_unit_test(test_udp_refused_counted_not_fatal),
        cmocka_unit_test(test_tcp_session_in_order),
        cmocka_unit_test(test_tcp_queue_bound),
        cmocka_unit_test(test_tcp_peer_reset_lost_and_reconnect),
        cmocka_unit_test(test_tcp_peer_fin_down),
        cmocka_unit_test(test_tcp_backoff_doubles_to_max),
        cmocka_unit_test(test_tcp_close_delivers_everything),
        cmocka_unit_test(test_tcp_close_deadline_counts_rest),
        cmocka_unit_test(test_tls_silent_peer_times_out_no_plaintext),
        cmocka_unit_test(test_tls_garbage_peer_refused),
        cmocka_unit_test(test_open_errors_name_peer_and_file),
    };

    /* Default SIGPIPE: a write into a reset connection that raised it would kill the test. */
    signal(SIGPIPE, SIG_DFL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
