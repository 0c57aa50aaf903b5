/*
 * test_metrics.c - the exposition-format writer and the HTTP endpoint, over real loopback
 * sockets: 200/404/405/400/431, HEAD, a large body, a silent client that times out without
 * blocking others, more clients than slots, abuse (idle crowds, a huge head, a trickle)
 * while scrapes go on, stop with clients connected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------------ format */

static void
parse_addresses(void **state)
{
    (void)state;
    char host[64], err[256];
    uint16_t port;
    assert_int_equal(prom_parse_addr("127.0.0.1:9108", host, sizeof(host), &port, err, 256), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9108);
    assert_int_equal(prom_parse_addr("[::1]:0", host, sizeof(host), &port, err, 256), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(prom_parse_addr("localhost:65535", host, sizeof(host), &port, err, 256), 0);
    assert_string_equal(host, "localhost");
    assert_int_equal(port, 65535);

    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"", "empty address"},
        {"9108", "'9108': expected HOST:PORT"},
        {":9108", "no host"},
        {"[]:9108", "no host"},
        {"::1:9108", "needs brackets"},
        {"[::1]9108", "expected [IPV6]:PORT"},
        {"[::1", "expected [IPV6]:PORT"},
        {"127.0.0.1:", "port '' is not a number"},
        {"127.0.0.1:65536", "port '65536'"},
        {"127.0.0.1:-1", "port '-1'"},
        {"127.0.0.1:80x", "port '80x'"},
        {"a-very-long-host-name-that-does-not-fit-in-sixty-four-bytes-at-all.example:1",
         "host name too long"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(prom_parse_addr(bad[i].in, host, sizeof(host), &port, err, 256), -EINVAL);
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("'%s': '%s' lacks '%s'", bad[i].in, err, bad[i].msg);
    }
    assert_int_equal(prom_parse_addr(NULL, host, sizeof(host), &port, err, 256), -EINVAL);
}

static void
exposition_text(void **state)
{
    (void)state;
    char buf[2048], labels[128] = "";
    struct prom_buf b;
    prom_buf_init(&b, buf, sizeof(buf));
    prom_counter(&b, "nfprobe_packets_total", "Packets read.", NULL, 42);
    assert_int_equal(prom_label(labels, sizeof(labels), "reason", "ip_short"), 0);
    prom_counter(&b, "nfprobe_ignored_total", "Packets not metered, by reason.", labels, 3);
    labels[0] = '\0';
    assert_int_equal(prom_label(labels, sizeof(labels), "reason", "non_ip"), 0);
    prom_counter(&b, "nfprobe_ignored_total", "Packets not metered, by reason.", labels,
                18446744073709551615ull);
    prom_gauge(&b, "nfprobe_flows_active", "Flows in the tables.", NULL, 1234);
    prom_gauge(&b, "nfprobe_ratio", "back\\slash\nnewline", NULL, 0.1);
    prom_gauge(&b, "nfprobe_nan", "h", NULL, NAN);
    prom_gauge(&b, "nfprobe_inf", "h", NULL, -INFINITY);
    prom_gauge(&b, "bad-name", "skipped", NULL, 1);
    prom_gauge(&b, "9bad", "skipped", NULL, 1);
    prom_gauge(&b, "", "skipped", NULL, 1);
    labels[0] = '\0';
    assert_int_equal(prom_label(labels, sizeof(labels), "collector", "ipfix+udp://127.0.0.1:4739"),
                     0);
    assert_int_equal(prom_label(labels, sizeof(labels), "odd", "a\"b\\c\nd"), 0);
    prom_counter(&b, "nfprobe_export_messages_total", "Messages sent.", labels, 7);

    static const char want[] =
        "# HELP nfprobe_packets_total Packets read.\n"
        "# TYPE nfprobe_packets_total counter\n"
        "nfprobe_packets_total 42\n"
        "# HELP nfprobe_ignored_total Packets not metered, by reason.\n"
        "# TYPE nfprobe_ignored_total counter\n"
        "nfprobe_ignored_total{reason=\"ip_short\"} 3\n"
        "nfprobe_ignored_total{reason=\"non_ip\"} 18446744073709551615\n"
        "# HELP nfprobe_flows_active Flows in the tables.\n"
        "# TYPE nfprobe_flows_active gauge\n"
        "nfprobe_flows_active 1234\n"
        "# HELP nfprobe_ratio back\\\\slash\\nnewline\n"
        "# TYPE nfprobe_ratio gauge\n"
        "nfprobe_ratio 0.1\n"
        "# HELP nfprobe_nan h\n"
        "# TYPE nfprobe_nan gauge\n"
        "nfprobe_nan NaN\n"
        "# HELP nfprobe_inf h\n"
        "# TYPE nfprobe_inf gauge\n"
        "nfprobe_inf -Inf\n"
        "# HELP nfprobe_export_messages_total Messages sent.\n"
        "# TYPE nfprobe_export_messages_total counter\n"
        "nfprobe_export_messages_total{collector=\"ipfix+udp://127.0.0.1:4739\","
        "odd=\"a\\\"b\\\\c\\nd\"} 7\n";
    assert_string_equal(buf, want);
    assert_int_equal(prom_buf_len(&b), strlen(want));

    /* Too small a buffer: the length is still the whole text's, the buffer stays a string. */
    char small[40];
    prom_buf_init(&b, small, sizeof(small));
    prom_counter(&b, "nfprobe_packets_total", "Packets read.", NULL, 42);
    prom_gauge(&b, "nfprobe_flows_active", "Flows in the tables.", NULL, 1234);
    size_t first = strlen(want) - strlen(strstr(want, "# HELP nfprobe_ignored"));
    size_t flows = strlen(strstr(want, "# HELP nfprobe_flows_active")) -
                   strlen(strstr(want, "# HELP nfprobe_ratio"));
    assert_int_equal(prom_buf_len(&b), first + flows);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, want, sizeof(small) - 1);
    prom_buf_init(&b, NULL, 0);
    prom_counter(&b, "nfprobe_packets_total", "Packets read.", NULL, 42);
    assert_int_equal(prom_buf_len(&b), first);

    /* Labels: ENOSPC leaves the text as it was; bad keys are refused. */
    char tiny[16] = "";
    assert_int_equal(prom_label(tiny, sizeof(tiny), "k", "12345678"), 0);
    assert_string_equal(tiny, "k=\"12345678\"");
    assert_int_equal(prom_label(tiny, sizeof(tiny), "k", "1"), -ENOSPC);
    assert_string_equal(tiny, "k=\"12345678\"");
    assert_int_equal(prom_label(tiny, sizeof(tiny), "bad-key", "1"), -EINVAL);
    assert_int_equal(prom_label(tiny, sizeof(tiny), "a:b", "1"), -EINVAL);
}

/* ------------------------------------------------------------------ server */

struct ctx {
    _Atomic unsigned calls;
    size_t big; /* when > 0: render this many bytes of filler */
};

static size_t
render(void *arg, char *buf, size_t cap)
{
    struct ctx *c = arg;
    struct prom_buf b;
    unsigned n = atomic_fetch_add(&c->calls, 1) + 1;
    prom_buf_init(&b, buf, cap);
    prom_counter(&b, "nfprobe_renders_total", "Times the text was rendered.", NULL, n);
    for (size_t i = 0; i < c->big / 64; i++) {
        char labels[64] = "";
        char v[24];
        snprintf(v, sizeof(v), "%zu", i);
        prom_label(labels, sizeof(labels), "i", v);
        prom_gauge(&b, "nfprobe_filler", "Filler.", labels, (double)i);
    }
    return prom_buf_len(&b);
}

static int
connect_to(uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Reads until EOF (or the deadline); returns a malloc'ed NUL-terminated buffer. */
static char *
read_all(int fd, size_t *len, int timeout_ms)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= end)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(end - now)) <= 0)
            break;
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

static char *
request(uint16_t port, const char *req, size_t *len)
{
    int fd = connect_to(port);
    assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    char *out = read_all(fd, len, 5000);
    close(fd);
    return out;
}

/* "HTTP/1.x CODE ...": the status line's code. */
static bool
status_is(const char *r, int code)
{
    char want[8];
    snprintf(want, sizeof(want), " %d ", code);
    return strncmp(r, "HTTP/1.", 7) == 0 && strncmp(r + 8, want, 5) == 0;
}

static const char *
body_of(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    return b != NULL ? b + 4 : NULL;
}

static void
serves_metrics(void **state)
{
    (void)state;
    struct ctx c = {0};
    char err[256];
    struct prom_server *s = prom_start("127.0.0.1:0", render, &c, err, sizeof(err));
    if (s == NULL)
        fail_msg("%s", err);
    uint16_t port = prom_port(s);
    assert_int_not_equal(port, 0);

    size_t len;
    char *r = request(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\nConnection: close\r\n\r\n", &len);
    assert_true(status_is(r, 200));
    assert_non_null(strstr(r, "\r\nContent-Type: text/plain; version=0.0.4"));
    const char *body = body_of(r);
    assert_non_null(body);
    static const char want[] = "# HELP nfprobe_renders_total Times the text was rendered.\n"
                               "# TYPE nfprobe_renders_total counter\n"
                               "nfprobe_renders_total 1\n";
    assert_string_equal(body, want);
    char cl[64];
    snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", strlen(want)); /* and for HEAD */
    assert_non_null(strstr(r, cl));
    free(r);

    /* A query string is fine; bare LF line ends too. */
    r = request(port, "GET /metrics?name[]=x HTTP/1.0\n\n", NULL);
    assert_true(status_is(r, 200));
    assert_non_null(strstr(r, "nfprobe_renders_total 2\n"));
    free(r);

    /* HEAD: headers with the length, no body. */
    r = request(port, "HEAD /metrics HTTP/1.0\r\n\r\n", NULL);
    assert_true(status_is(r, 200));
    assert_string_equal(body_of(r), "");
    assert_non_null(strstr(r, cl));
    free(r);

    static const struct {
        const char *req;
        int status;
    } others[] = {
        {"GET / HTTP/1.0\r\n\r\n", 404},
        {"GET /metricsx HTTP/1.0\r\n\r\n", 404},
        {"GET /metrics/ HTTP/1.0\r\n\r\n", 404},
        {"POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
         405},
        {"hello\r\n\r\n", 400},
        {"GET /metrics\r\n\r\n", 400},
        {"GET metrics HTTP/1.0\r\n\r\n", 404},
        {"GET /metrics HTTP/2.0\r\n\r\n", 505},
        {"GET /metrics HTTP/1.0 x\r\n\r\n", 400},
    };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        r = request(port, others[i].req, NULL);
        /* Malformed requests: libmicrohttpd answers 400 or closes without an answer. */
        bool ok = others[i].status == 400 ? (status_is(r, 400) || r[0] == '\0')
                                          : status_is(r, others[i].status);
        if (!ok)
            fail_msg("'%s' got '%.40s'", others[i].req, r);
        free(r);
    }
    r = request(port, "POST /metrics HTTP/1.0\r\n\r\n", NULL);
    assert_non_null(strstr(r, "\r\nAllow: GET, HEAD\r\n"));
    free(r);

    /* Rendering only happens for /metrics: 3 renders so far. */
    assert_int_equal(atomic_load(&c.calls), 3);
    prom_stop(s);
}

static void
bounded_request(void **state)
{
    (void)state;
    struct ctx c = {0};
    char err[256];
    struct prom_server *s = prom_start("127.0.0.1:0", render, &c, err, sizeof(err));
    assert_non_null(s);

    /* A head that never ends within PROM_MAX_REQUEST bytes: 431, then closed. */
    int fd = connect_to(prom_port(s));
    char junk[PROM_MAX_REQUEST + 512];
    memcpy(junk, "GET /metrics HTTP/1.0\r\nX-Pad: ", 30);
    memset(junk + 30, 'a', sizeof(junk) - 30);
    ssize_t sent = send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
    assert_true(sent > 0);
    char *r = read_all(fd, NULL, 5000);
    assert_true(status_is(r, 431));
    free(r);
    close(fd);

    /* A NUL byte in the head: never the metrics. */
    fd = connect_to(prom_port(s));
    assert_int_equal(send(fd, "GET /met\0rics HTTP/1.0\r\n\r\n", 26, MSG_NOSIGNAL), 26);
    r = read_all(fd, NULL, 5000);
    assert_false(status_is(r, 200));
    free(r);
    close(fd);

    /* A request sent a byte at a time still works. */
    fd = connect_to(prom_port(s));
    const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
    for (const char *p = req; *p != '\0'; p++)
        assert_int_equal(send(fd, p, 1, MSG_NOSIGNAL), 1);
    r = read_all(fd, NULL, 5000);
    assert_true(status_is(r, 200));
    free(r);
    close(fd);
    assert_int_equal(atomic_load(&c.calls), 1);
    prom_stop(s);
}

static void
large_body(void **state)
{
    (void)state;
    struct ctx c = {.big = 2u << 20}; /* 2 MiB: well past the first 64 KiB render buffer */
    char err[256];
    struct prom_server *s = prom_start("127.0.0.1:0", render, &c, err, sizeof(err));
    assert_non_null(s);
    size_t len;
    char *r = request(prom_port(s), "GET /metrics HTTP/1.0\r\n\r\n", &len);
    const char *body = body_of(r);
    assert_non_null(body);
    size_t blen = len - (size_t)(body - r);
    char cl[64];
    snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", blen);
    assert_non_null(strstr(r, cl));
    assert_true(blen > (512u << 10));
    /* The last sample is complete. */
    char last[64];
    snprintf(last, sizeof(last), "nfprobe_filler{i=\"%zu\"} %zu\n", c.big / 64 - 1, c.big / 64 - 1);
    assert_int_equal(memcmp(body + blen - strlen(last), last, strlen(last)), 0);
    free(r);
    prom_stop(s);
}

static void
silent_client_times_out_without_blocking_others(void **state)
{
    (void)state;
    struct ctx c = {0};
    char err[256];
    struct prom_server *s = prom_start("127.0.0.1:0", render, &c, err, sizeof(err));
    assert_non_null(s);
    uint16_t port = prom_port(s);

    uint64_t t0 = now_ms();
    int silent = connect_to(port);
    int partial = connect_to(port);
    assert_int_equal(send(partial, "GET /metr", 9, MSG_NOSIGNAL), 9);

    /* Meanwhile another client is served at once. */
    char *r = request(port, "GET /metrics HTTP/1.0\r\n\r\n", NULL);
    assert_true(status_is(r, 200));
    free(r);
    assert_true(now_ms() - t0 < (PROM_TIMEOUT_S * 1000) / 2);

    /* The silent ones are closed after (PROM_TIMEOUT_S * 1000), without a response. */
    size_t len;
    r = read_all(silent, &len, (PROM_TIMEOUT_S * 1000) + 3000);
    uint64_t waited = now_ms() - t0;
    assert_int_equal(len, 0);
    free(r);
    assert_true(waited >= (PROM_TIMEOUT_S * 1000) - 100);
    assert_true(waited < (PROM_TIMEOUT_S * 1000) + 2000);
    r = read_all(partial, &len, 2000);
    assert_int_equal(len, 0);
    free(r);
    close(silent);
    close(partial);
    prom_stop(s);
}

static void
more_clients_than_slots(void **state)
{
    (void)state;
    struct ctx c = {0};
    char err[256];
    struct prom_server *s = prom_start("127.0.0.1:0", render, &c, err, sizeof(err));
    assert_non_null(s);
    int fds[PROM_MAX_CLIENTS + 8];
    size_t n = sizeof(fds) / sizeof(fds[0]);
    for (size_t i = 0; i < n; i++)
        fds[i] = connect_to(prom_port(s));
    /* Requests in reverse order: the last ones wait in the backlog until slots free up. */
    for (size_t i = n; i-- > 0;)
        assert_int_equal(send(fds[i], "GET /metrics HTTP/1.0\r\n\r\n", 25, MSG_NOSIGNAL), 25);
    for (size_t i = 0; i < n; i++) {
        char *r = read_all(fds[i], NULL, 5000);
        if (!status_is(r, 200))
            fail_msg("client %zu got '%.30s'", i, r);
        free(r);
        close(fds[i]);
    }
    assert_int_equal(atomic_load(&c.calls), n);
    prom_stop(s);
}

/*
 * Abuse (issue 17.8): 100 idle connections, one sending a 1 MiB request head and one trickling
 * a request a byte at a time; scrapes meanwhile each answer within a second.
 */
static void
scrapes_survive_abuse(void **state)
{
    (void)state;
    struct ctx c = {0};
    char err[256];
    struct prom_server *s = prom_start("127.0.0.1:0", render, &c, err, sizeof(err));
    assert_non_null(s);
    uint16_t port = prom_port(s);
    int idle[100];
    for (size_t i = 0; i < 100; i++)
        idle[i] = connect_to(port);
    int slow = connect_to(port);
    assert_int_equal(send(slow, "GET /metr", 9, MSG_NOSIGNAL), 9);

    int huge = connect_to(port);
    size_t big = 1u << 20, off = 0;
    char *junk = malloc(big);
    memcpy(junk, "GET /metrics HTTP/1.1\r\nX-Pad: ", 31);
    memset(junk + 31, 'a', big - 31);
    /* Send as much as the server takes, without blocking: it must stop reading or close. */
    while (off < big) {
        ssize_t n = send(huge, junk + off, big - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    free(junk);
    for (int k = 0; k < 5; k++) {
        uint64_t t0 = now_ms();
        char *r = request(port, "GET /metrics HTTP/1.0\r\n\r\n", NULL);
        if (!status_is(r, 200))
            fail_msg("scrape %d under abuse got '%.30s'", k, r);
        free(r);
        assert_true(now_ms() - t0 < 1000);
        assert_int_equal(send(slow, "r", 1, MSG_NOSIGNAL), 1);
    }
    /* The huge head got an error or was closed, never the metrics. */
    char *r = read_all(huge, NULL, 2000);
    assert_false(status_is(r, 200));
    free(r);
    close(huge);
    close(slow);
    for (size_t i = 0; i < 100; i++)
        close(idle[i]);
    prom_stop(s);
}

static void
stop_with_clients_connected(void **state)
{
    (void)state;
    struct ctx c = {0};
    char err[256];
    struct prom_server *s = prom_start("127.0.0.1:0", render, &c, err, sizeof(err));
    assert_non_null(s);
    int a = connect_to(prom_port(s)), b = connect_to(prom_port(s));
    assert_int_equal(send(b, "GET /", 5, MSG_NOSIGNAL), 5);
    /* Let the server accept them before stopping. */
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    uint64_t t0 = now_ms();
    prom_stop(s);
    assert_true(now_ms() - t0 < 500);
    size_t len;
    char *r = read_all(a, &len, 1000);
    assert_int_equal(len, 0); /* closed by the server */
    free(r);
    close(a);
    close(b);
    prom_stop(NULL);
}

static void
start_errors(void **state)
{
    (void)state;
    struct ctx c = {0};
    char err[256];
    struct prom_server *s = prom_start("127.0.0.1:0", render, &c, err, sizeof(err));
    assert_non_null(s);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", prom_port(s));
    assert_null(prom_start(addr, render, &c, err, sizeof(err)));
    char want[96];
    snprintf(want, sizeof(want), "--metrics %s: Address already in use", addr);
    assert_string_equal(err, want);
    prom_stop(s);

    assert_null(prom_start("127.0.0.1", render, &c, err, sizeof(err)));
    assert_non_null(strstr(err, "--metrics: '127.0.0.1': expected HOST:PORT"));
    assert_null(prom_start("[::1", render, &c, err, sizeof(err)));
    assert_non_null(strstr(err, "--metrics: '[::1': expected [IPV6]:PORT"));
}

static void
serves_ipv6_loopback(void **state)
{
    (void)state;
    struct ctx c = {0};
    char err[256];
    struct prom_server *s = prom_start("[::1]:0", render, &c, err, sizeof(err));
    if (s == NULL)
        skip(); /* no IPv6 on this host */
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(prom_port(s))};
    sa.sin6_addr = in6addr_loopback;
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(send(fd, "GET /metrics HTTP/1.0\r\n\r\n", 25, MSG_NOSIGNAL), 25);
    char *r = read_all(fd, NULL, 5000);
    assert_true(status_is(r, 200));
    free(r);
    close(fd);
    prom_stop(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_addresses),
        cmocka_unit_test(exposition_text),
        cmocka_unit_test(serves_metrics),
        cmocka_unit_test(bounded_request),
        cmocka_unit_test(large_body),
        cmocka_unit_test(silent_client_times_out_without_blocking_others),
        cmocka_unit_test(more_clients_than_slots),
        cmocka_unit_test(scrapes_survive_abuse),
        cmocka_unit_test(stop_with_clients_connected),
        cmocka_unit_test(start_errors),
        cmocka_unit_test(serves_ipv6_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
