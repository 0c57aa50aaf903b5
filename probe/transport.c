/*
 * transport.c - one collector over UDP, TCP or TLS, without ever blocking the caller.
 *
 * UDP: one socket, connect()ed at open so the source port stays fixed for the life of the
 * peer; every message is sent at once with MSG_DONTWAIT and any failure (ICMP unreachable
 * reported as ECONNREFUSED, a full socket buffer, ...) is counted and forgotten.
 *
 * TCP/TLS: a state machine driven by tx_poll(now):
 *
 *   IDLE --(now >= next_try)--> CONNECTING --> [TLS: HANDSHAKE --> CONFIRM] --> UP
 *     ^                              |                |             |          |
 *     +------ backoff <-- failure ---+----------------+-------------+   down --+
 *
 * Output goes through a ring of bytes (queue_bytes) plus a ring of per-message records (end
 * offset, length, records), so that what is lost when a session dies is counted exactly in
 * messages, octets and records. A message counts as sent once the collector's TCP has
 * acknowledged its last byte: the kernel says how much of what we wrote is still unacknowledged
 * (SIOCOUTQ), and for TLS our socket BIO counts the bytes on the wire, so each message's last
 * record is located in the byte stream. Bytes the kernel merely accepted are not "sent".
 *
 * The caller's event loop waits for the descriptor tx_fd() with the mask tx_interest(), and
 * calls tx_poll() when it is ready or at tx_next_ms(); nothing here waits, except tx_close().
 *
 * Nothing here raises SIGPIPE: plain sockets use send(MSG_NOSIGNAL) and TLS goes through a
 * socket BIO of our own that does the same (OpenSSL's socket BIO uses write(2)).
 */
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "clock.h"

#define TX_DEFAULT_QUEUE (4u << 20)
#define TX_DEFAULT_BACKOFF_MIN 1000u
#define TX_DEFAULT_BACKOFF_MAX 60000u
/* A SYN into a black hole would otherwise wait for the kernel's ~2 min of retries. */
#define TX_CONNECT_TIMEOUT_MS 10000u
/* A peer that accepts but never speaks TLS. */
#define TX_HANDSHAKE_TIMEOUT_MS 10000u
/*
 * TLS 1.3 clients finish the handshake before the server has checked the client certificate;
 * a refusal arrives as an alert one round trip later. A session is declared up when the
 * server's first post-handshake message (a session ticket) arrives, or after this long without
 * an alert, for servers that send no tickets.
 */
#define TX_CONFIRM_MS 1000u
/* A session that stayed up this long resets the backoff to its minimum. */
#define TX_STABLE_MS 10000u
/* Bounds the reads per poll, so that a chatty collector cannot keep us in tx_poll. */
#define TX_READ_ROUNDS 16
/* State transitions tx_poll may make in one call (connect fails, next address, ...). */
#define TX_POLL_STEPS 16
/* How often written but unacknowledged messages are checked for the peer's ACK. */
#define TX_ACK_CHECK_MS 20u
#define TX_NAME_LEN 320
#define TX_ERR_LEN 512

enum tx_state { ST_IDLE, ST_CONNECTING, ST_HANDSHAKE, ST_CONFIRM, ST_UP };

struct tx_msg {
    uint64_t end;      /* stream offset just past the message's last byte */
    uint64_t wire_end; /* TCP byte offset just past it once written (0 = not yet) */
    uint32_t len;
    uint32_t records;
};

struct tx_peer {
    enum tx_proto proto;
    enum tx_state state;
    int fd;
    char *host; /* for SNI and certificate name checks */
    bool host_is_ip;
    char source[64]; /* tx_config.source, "" = any */
    char name[TX_NAME_LEN];
    char last_err[TX_ERR_LEN];
    struct addrinfo *ai_list;
    struct addrinfo *ai_cur; /* address of the current or next attempt */
    bool udp_up_pending;     /* UDP reports TX_EV_UP once, at the first poll */

    /* queued bytes live in q[off % qcap] for off in [q_head, q_tail) */
    uint8_t *q;
    size_t qcap;
    uint64_t q_head;
    uint64_t q_tail;
    struct tx_msg *m; /* ring of the queued messages, oldest at m_first */
    size_t mcap;
    size_t m_first;
    size_t m_count;
    size_t m_written; /* the oldest m_written messages are written, awaiting the peer's ACK */
    uint64_t wire_out; /* bytes handed to the kernel on this connection (TLS records included) */

    uint64_t next_try_ms;
    uint64_t deadline_ms; /* of the connect, handshake or confirmation in progress */
    uint64_t up_since_ms;
    uint32_t backoff_min;
    uint32_t backoff_max;
    uint32_t backoff_cur;
    uint64_t rng;

    SSL_CTX *ctx;
    SSL *ssl;
    BIO_METHOD *bio_meth;
    int keylog_fd;
    size_t tls_wlen; /* length of an SSL_write that must be repeated after WANT_*, or 0 */
    int hs_want;     /* TX_WANT_* the handshake waits for */
    uint64_t fd_gen; /* sockets created so far: a new socket may reuse the old number */
    bool tls_ticket; /* the server sent a session ticket: it accepted our certificate */

    struct tx_stats st;
};

static void
set_err(struct tx_peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_err(struct tx_peer *p, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(p->last_err, sizeof(p->last_err), "%s: ", p->name);

    if (n < 0 || (size_t)n >= sizeof(p->last_err))
        return;
    va_start(ap, fmt);
    vsnprintf(p->last_err + n, sizeof(p->last_err) - (size_t)n, fmt, ap);
    va_end(ap);
}

/* The reason of the most recent OpenSSL error, for one-line messages. */
static const char *
ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;

    return r ? r : "unknown TLS error";
}

/* xorshift64*: only for backoff jitter, which needs no quality, only spread. */
static uint64_t
rng_next(struct tx_peer *p)
{
    p->rng ^= p->rng >> 12;
    p->rng ^= p->rng << 25;
    p->rng ^= p->rng >> 27;
    return p->rng * 0x2545F4914F6CDD1Dull;
}

/* ------------------------------------------------------------------ queue */

static struct tx_msg *
msg_at(struct tx_peer *p, size_t i)
{
    return &p->m[(p->m_first + i) % p->mcap];
}

/*
 * Bytes written on this connection that the peer acknowledged: TCP_INFO's bytes_acked, which
 * stays valid after a reset (SIOCOUTQ reads 0 once the reset purged the queue, as if all had
 * been acknowledged), else what SIOCOUTQ says is still unacknowledged.
 */
static uint64_t
wire_acked(const struct tx_peer *p)
{
    struct tcp_info ti;
    socklen_t tl = sizeof(ti);
    int outq = 0;

    if (p->fd < 0)
        return 0;
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(p->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
        tl >= offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked))
        return ti.tcpi_bytes_acked < p->wire_out ? ti.tcpi_bytes_acked : p->wire_out;
    if (ioctl(p->fd, SIOCOUTQ, &outq) != 0 || outq < 0)
        return p->wire_out; /* no kernel answer: what was written is all we know */
    return (uint64_t)outq > p->wire_out ? 0 : p->wire_out - (uint64_t)outq;
}

/* Stamps the messages whose last byte has left the queue with their place on the wire, then
 * moves those the peer acknowledged to the sent counters. */
static void
account_sent(struct tx_peer *p)
{
    for (; p->m_written < p->m_count; p->m_written++) {
        struct tx_msg *m = msg_at(p, p->m_written);
        if (m->end > p->q_head)
            break;
        m->wire_end = p->proto == TX_TLS ? p->wire_out : p->wire_out - (p->q_head - m->end);
    }
    if (p->m_written == 0)
        return;
    uint64_t acked = wire_acked(p);
    while (p->m_written > 0) {
        struct tx_msg *m = msg_at(p, 0);

        if (m->wire_end > acked)
            break;
        p->m_written--;
        p->st.messages_sent++;
        p->st.octets_sent += m->len;
        p->st.records_sent += m->records;
        p->m_first = (p->m_first + 1) % p->mcap;
        p->m_count--;
    }
}

/* Counts every queued message as lost (a partly written one too: its tail never went) and
 * empties the queue. */
static void
lose_queue(struct tx_peer *p)
{
    for (size_t i = 0; i < p->m_count; i++) {
        const struct tx_msg *m = msg_at(p, i);

        p->st.messages_lost++;
        p->st.octets_lost += m->len;
        p->st.records_lost += m->records;
    }
    p->m_first = 0;
    p->m_count = 0;
    p->m_written = 0;
    p->q_head = p->q_tail;
    p->tls_wlen = 0;
}

static void
count_lost(struct tx_peer *p, size_t len, uint32_t records)
{
    p->st.messages_lost++;
    p->st.octets_lost += len;
    p->st.records_lost += records;
}

/* --------------------------------------------------------- socket BIO for TLS */

/*
 * OpenSSL's socket BIO writes with write(2), which raises SIGPIPE on a reset connection. This
 * one sends with MSG_NOSIGNAL, so the transport is safe whatever the process does with SIGPIPE.
 * The peer is kept in the BIO's data pointer (its descriptor, and the count of bytes on the
 * wire); the BIO never closes the descriptor.
 */
static int
bio_sock_write(BIO *b, const char *buf, int len)
{
    struct tx_peer *p = BIO_get_data(b);
    ssize_t n;

    BIO_clear_retry_flags(b);
    do
        n = send(p->fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        p->wire_out += (uint64_t)n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_write(b);
    return (int)n;
}

static int
bio_sock_read(BIO *b, char *buf, int len)
{
    const struct tx_peer *p = BIO_get_data(b);
    ssize_t n;

    BIO_clear_retry_flags(b);
    do
        n = recv(p->fd, buf, (size_t)len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_read(b);
    else if (n == 0)
        BIO_set_flags(b, BIO_FLAGS_IN_EOF);
    return (int)n;
}

static long
bio_sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:
        return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
    default:
        return 0;
    }
}

static BIO_METHOD *
bio_sock_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "nfprobe socket");

    if (m == NULL)
        return NULL;
    if (BIO_meth_set_write(m, bio_sock_write) != 1 || BIO_meth_set_read(m, bio_sock_read) != 1 ||
        BIO_meth_set_ctrl(m, bio_sock_ctrl) != 1) {
        BIO_meth_free(m);
        return NULL;
    }
    return m;
}

/* --------------------------------------------------------------- TLS setup */

static void
keylog_cb(const SSL *ssl, const char *line)
{
    const struct tx_peer *p = SSL_get_app_data(ssl);
    char buf[1024];
    size_t n = strlen(line);

    if (p == NULL || p->keylog_fd < 0)
        return;
    /* One write per line, so O_APPEND keeps lines of several processes whole. */
    if (n + 1 <= sizeof(buf)) {
        memcpy(buf, line, n);
        buf[n] = '\n';
        if (write(p->keylog_fd, buf, n + 1) < 0)
            return;
    } else if (write(p->keylog_fd, line, n) < 0 || write(p->keylog_fd, "\n", 1) < 0) {
        return;
    }
}

/* Called when the server sends a session ticket: we do not resume, only take it as proof that
 * the server accepted the handshake, client certificate included. */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    struct tx_peer *p = SSL_get_app_data(ssl);

    (void)sess;
    if (p != NULL)
        p->tls_ticket = true;
    return 0; /* we keep no reference: OpenSSL frees the session */
}

static int
tls_setup(struct tx_peer *p, const struct tx_config *c, char *err, size_t errlen)
{
    const char *keylog = getenv("SSLKEYLOGFILE");

    if (c->tls_ca == NULL || c->tls_ca[0] == '\0') {
        snprintf(err, errlen, "%s: TLS needs a CA file (--tls-ca) to verify the collector",
                 p->name);
        return -EINVAL;
    }
    if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
        snprintf(err, errlen, "%s: --tls-cert and --tls-key go together (got only %s)", p->name,
                 c->tls_cert ? "--tls-cert" : "--tls-key");
        return -EINVAL;
    }
    ERR_clear_error();
    p->ctx = SSL_CTX_new(TLS_client_method());
    p->bio_meth = bio_sock_method();
    if (p->ctx == NULL || p->bio_meth == NULL) {
        snprintf(err, errlen, "%s: TLS context: %s", p->name, ssl_reason());
        return -ENOMEM;
    }
    if (SSL_CTX_set_min_proto_version(p->ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(p->ctx, "HIGH:!aNULL:!eNULL:!PSK:!SRP") != 1) {
        snprintf(err, errlen, "%s: TLS context: %s", p->name, ssl_reason());
        return -EINVAL;
    }
    SSL_CTX_set_options(p->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* Only the configured CA: the system's default verify paths are deliberately not loaded. */
    if (SSL_CTX_load_verify_locations(p->ctx, c->tls_ca, NULL) != 1) {
        snprintf(err, errlen, "%s: --tls-ca %s: %s", p->name, c->tls_ca, ssl_reason());
        return -EINVAL;
    }
    SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER, NULL);
    if (c->tls_cert != NULL) {
        if (SSL_CTX_use_certificate_chain_file(p->ctx, c->tls_cert) != 1) {
            snprintf(err, errlen, "%s: --tls-cert %s: %s", p->name, c->tls_cert, ssl_reason());
            return -EINVAL;
        }
        if (SSL_CTX_use_PrivateKey_file(p->ctx, c->tls_key, SSL_FILETYPE_PEM) != 1) {
            snprintf(err, errlen, "%s: --tls-key %s (for --tls-cert %s): %s", p->name, c->tls_key,
                     c->tls_cert, ssl_reason());
            return -EINVAL;
        }
        if (SSL_CTX_check_private_key(p->ctx) != 1) {
            snprintf(err, errlen, "%s: --tls-key %s does not match --tls-cert %s: %s", p->name,
                     c->tls_key, c->tls_cert, ssl_reason());
            return -EINVAL;
        }
    }
    /* A client cache that stores nothing: only for new_session_cb to see tickets arrive. */
    SSL_CTX_set_session_cache_mode(p->ctx,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(p->ctx, new_session_cb);
    if (keylog != NULL && keylog[0] != '\0') {
        /* O_NONBLOCK: a FIFO without a reader must fail here, not block the exporter. */
        p->keylog_fd = open(keylog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600);
        if (p->keylog_fd < 0) {
            int e = errno;

            snprintf(err, errlen, "%s: SSLKEYLOGFILE %s: %s", p->name, keylog, strerror(e));
            return -e;
        }
        SSL_CTX_set_keylog_callback(p->ctx, keylog_cb);
    }
    ERR_clear_error();
    return 0;
}

/* Puts a failed TLS operation into last_err and counts certificate verification failures. */
static void
tls_failed(struct tx_peer *p, const char *what, int ssl_err, int sys_errno)
{
    long vr = p->ssl ? SSL_get_verify_result(p->ssl) : X509_V_OK;

    if (vr != X509_V_OK) {
        p->st.tls_verify_failures++;
        set_err(p, "%s: certificate verify failed: %s", what,
                X509_verify_cert_error_string(vr));
    } else if (ssl_err == SSL_ERROR_ZERO_RETURN) {
        set_err(p, "%s: the collector closed the TLS session", what);
    } else if (ssl_err == SSL_ERROR_SYSCALL && ERR_peek_last_error() == 0) {
        set_err(p, "%s: %s", what,
                sys_errno ? strerror(sys_errno) : "connection closed by the collector");
    } else {
        set_err(p, "%s: %s", what, ssl_reason());
    }
    ERR_clear_error();
}

/* ------------------------------------------------------------ sessions */

static void
close_session(struct tx_peer *p)
{
    if (p->ssl != NULL) {
        SSL_free(p->ssl); /* frees the BIO too; the descriptor is ours */
        p->ssl = NULL;
    }
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
    p->tls_wlen = 0;
    p->tls_ticket = false;
    p->wire_out = 0;
}

/* Waits the current backoff, jittered down by up to a quarter, then doubles it. */
static void
schedule_retry(struct tx_peer *p, uint64_t now)
{
    uint32_t cur = p->backoff_cur;
    uint32_t delay = cur - (uint32_t)(rng_next(p) % (cur / 4u + 1u));

    p->next_try_ms = now + (delay ? delay : 1u);
    p->backoff_cur = cur > p->backoff_max / 2u ? p->backoff_max : cur * 2u;
    p->state = ST_IDLE;
}

/* A connect or handshake failed (last_err already says why): next address or back off. */
static void
attempt_failed(struct tx_peer *p, uint64_t now)
{
    close_session(p);
    p->st.connect_failures++;
    if (p->ai_cur->ai_next != NULL) {
        /* Try the other addresses of the name at once; back off when all failed. */
        p->ai_cur = p->ai_cur->ai_next;
        p->next_try_ms = now;
        p->state = ST_IDLE;
        return;
    }
    p->ai_cur = p->ai_list;
    schedule_retry(p, now);
}

/* An established session died: what it still had queued is lost. */
static void
session_down(struct tx_peer *p, uint64_t now)
{
    account_sent(p); /* what the peer acknowledged before the end was sent */
    lose_queue(p);
    close_session(p);
    if (now - p->up_since_ms >= TX_STABLE_MS)
        p->backoff_cur = p->backoff_min;
    schedule_retry(p, now);
}

static void
session_up(struct tx_peer *p, uint64_t now)
{
    p->state = ST_UP;
    p->up_since_ms = now;
    p->st.connects++;
}

static int
tls_start(struct tx_peer *p, uint64_t now)
{
    BIO *b;

    ERR_clear_error();
    p->ssl = SSL_new(p->ctx);
    b = BIO_new(p->bio_meth);
    if (p->ssl == NULL || b == NULL) {
        BIO_free(b);
        set_err(p, "TLS session: %s", ssl_reason());
        return -ENOMEM;
    }
    BIO_set_data(b, p);
    BIO_set_init(b, 1);
    SSL_set_bio(p->ssl, b, b);
    SSL_set_app_data(p->ssl, p);
    SSL_set_mode(p->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_clear_mode(p->ssl, SSL_MODE_AUTO_RETRY);
    if (p->host_is_ip) {
        /* An address literal is matched against IP SANs; SNI carries names only (RFC 6066). */
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(p->ssl), p->host) != 1) {
            set_err(p, "TLS session: bad address %s", p->host);
            return -EINVAL;
        }
    } else {
        SSL_set_hostflags(p->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(p->ssl, p->host) != 1 ||
            SSL_set_tlsext_host_name(p->ssl, p->host) != 1) {
            set_err(p, "TLS session: host name %s: %s", p->host, ssl_reason());
            return -EINVAL;
        }
    }
    SSL_set_connect_state(p->ssl);
    p->state = ST_HANDSHAKE;
    p->deadline_ms = now + TX_HANDSHAKE_TIMEOUT_MS;
    return 0;
}

/* Binds fd to the configured source address (port 0) when there is one of ai's family:
 * collectors see that address as the exporter's. 0, or -errno (-EAFNOSUPPORT: other family). */
static int
bind_source(const struct tx_peer *p, int fd, const struct addrinfo *ai)
{
    struct sockaddr_storage ss;
    socklen_t len;

    if (p->source[0] == '\0')
        return 0;
    memset(&ss, 0, sizeof(ss));
    if (ai->ai_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;
        if (inet_pton(AF_INET, p->source, &s4->sin_addr) != 1)
            return -EAFNOSUPPORT;
        s4->sin_family = AF_INET;
        len = sizeof(*s4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;
        if (inet_pton(AF_INET6, p->source, &s6->sin6_addr) != 1)
            return -EAFNOSUPPORT;
        s6->sin6_family = AF_INET6;
        len = sizeof(*s6);
    }
    return bind(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : -errno;
}

static void
start_connect(struct tx_peer *p, uint64_t now)
{
    const struct addrinfo *ai = p->ai_cur;

    p->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                   ai->ai_protocol);
    p->fd_gen++;
    if (p->fd < 0) {
        set_err(p, "socket: %s", strerror(errno));
        attempt_failed(p, now);
        return;
    }
    int brc = bind_source(p, p->fd, ai);
    if (brc != 0) {
        set_err(p, "bind to the source address %s: %s", p->source, strerror(-brc));
        attempt_failed(p, now);
        return;
    }
    if (connect(p->fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
        /* Completion (even an immediate one) is checked by the CONNECTING step. */
        p->state = ST_CONNECTING;
        p->deadline_ms = now + TX_CONNECT_TIMEOUT_MS;
        return;
    }
    set_err(p, "connect: %s", strerror(errno));
    attempt_failed(p, now);
}

/* 1 when connected, 0 while in progress, -1 on failure (last_err set). Asks the socket (a
 * pending error, or a peer address once connected): no waiting. */
static int
check_connect(struct tx_peer *p, uint64_t now)
{
    struct sockaddr_storage ss;
    socklen_t al = sizeof(ss);
    int soerr = 0;
    socklen_t sl = sizeof(soerr);

    if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        soerr = errno;
    if (soerr != 0) {
        set_err(p, "connect: %s", strerror(soerr));
        return -1;
    }
    if (getpeername(p->fd, (struct sockaddr *)&ss, &al) == 0)
        return 1;
    if (errno != ENOTCONN) {
        set_err(p, "connect: %s", strerror(errno));
        return -1;
    }
    if (now >= p->deadline_ms) {
        set_err(p, "connect: timed out after %u ms", TX_CONNECT_TIMEOUT_MS);
        return -1;
    }
    return 0;
}

/* 1 when the handshake completed, 0 while in progress, -1 on failure. */
static int
tls_handshake(struct tx_peer *p, uint64_t now)
{
    int r, e, se;

    ERR_clear_error();
    errno = 0;
    r = SSL_connect(p->ssl);
    if (r == 1)
        return 1;
    se = errno;
    e = SSL_get_error(p->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        p->hs_want = e == SSL_ERROR_WANT_WRITE ? TX_WANT_WRITE : TX_WANT_READ;
        if (now >= p->deadline_ms) {
            set_err(p, "TLS handshake: timed out after %u ms", TX_HANDSHAKE_TIMEOUT_MS);
            return -1;
        }
        return 0;
    }
    tls_failed(p, "TLS handshake", e, se);
    return -1;
}

/*
 * Reads and discards what the collector sends (nothing, normally; TLS tickets and alerts).
 * Returns 0, or -1 when the session is over (last_err set).
 */
static int
read_peer(struct tx_peer *p, const char *what)
{
    uint8_t buf[4096];

    for (int i = 0; i < TX_READ_ROUNDS; i++) {
        if (p->ssl != NULL) {
            int r, e, se;

            ERR_clear_error();
            errno = 0;
            r = SSL_read(p->ssl, buf, (int)sizeof(buf));
            if (r > 0)
                continue;
            se = errno;
            e = SSL_get_error(p->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return 0;
            tls_failed(p, what, e, se);
            return -1;
        }
        ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n > 0)
            continue;
        if (n == 0) {
            set_err(p, "%s: connection closed by the collector", what);
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        set_err(p, "%s: %s", what, strerror(errno));
        return -1;
    }
    return 0;
}

/* Writes queued bytes until the socket takes no more. Returns 0, or -1 when the session broke. */
static int
flush_queue(struct tx_peer *p)
{
    while (p->q_head < p->q_tail) {
        size_t off = (size_t)(p->q_head % p->qcap);
        size_t n = (size_t)(p->q_tail - p->q_head);
        size_t w;

        if (n > p->qcap - off)
            n = p->qcap - off;
        if (p->ssl != NULL) {
            /* After WANT_*, OpenSSL wants the same write again: same offset, same length. */
            size_t len = p->tls_wlen ? p->tls_wlen : (n > INT_MAX ? INT_MAX : n);
            int r, e, se;

            ERR_clear_error();
            errno = 0;
            r = SSL_write(p->ssl, p->q + off, (int)len);
            if (r <= 0) {
                se = errno;
                e = SSL_get_error(p->ssl, r);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                    p->tls_wlen = len;
                    return 0;
                }
                p->st.send_errors++;
                tls_failed(p, "TLS write", e, se);
                return -1;
            }
            p->tls_wlen = 0;
            w = (size_t)r;
        } else {
            ssize_t r = send(p->fd, p->q + off, n, MSG_DONTWAIT | MSG_NOSIGNAL);

            if (r < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    return 0;
                p->st.send_errors++;
                set_err(p, "send: %s", strerror(errno));
                return -1;
            }
            w = (size_t)r;
            p->wire_out += w;
        }
        p->q_head += w;
        account_sent(p);
    }
    return 0;
}

/* ------------------------------------------------------------------ API */

struct tx_peer *
tx_open(const struct tx_config *c, char *err, size_t errlen)
{
    static const char *const scheme[] = {[TX_UDP] = "udp", [TX_TCP] = "tcp", [TX_TLS] = "tls"};
    struct addrinfo hints = {0};
    struct tx_peer *p;
    struct in6_addr a6;
    int rc;

    if (c == NULL || c->host == NULL || c->host[0] == '\0' || c->port == NULL ||
        c->port[0] == '\0' || (unsigned)c->proto > TX_TLS) {
        snprintf(err, errlen, "collector: host, port and protocol are required");
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(err, errlen, "collector %s: out of memory", c->host);
        return NULL;
    }
    p->fd = -1;
    p->keylog_fd = -1;
    p->proto = c->proto;
    snprintf(p->name, sizeof(p->name), strchr(c->host, ':') ? "%s://[%s]:%s" : "%s://%s:%s",
             scheme[c->proto], c->host, c->port);
    if (c->source != NULL && strlen(c->source) >= sizeof(p->source)) {
        snprintf(err, errlen, "%s: source address too long", p->name);
        goto fail;
    }
    snprintf(p->source, sizeof(p->source), "%s", c->source != NULL ? c->source : "");
    p->host = strdup(c->host);
    if (p->host == NULL) {
        snprintf(err, errlen, "%s: out of memory", p->name);
        goto fail;
    }
    p->host_is_ip = inet_pton(AF_INET, c->host, &a6) == 1 || inet_pton(AF_INET6, c->host, &a6) == 1;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = c->proto == TX_UDP ? SOCK_DGRAM : SOCK_STREAM;
    rc = getaddrinfo(c->host, c->port, &hints, &p->ai_list);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot resolve: %s", p->name,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        p->ai_list = NULL;
        goto fail;
    }
    p->ai_cur = p->ai_list;

    if (c->proto == TX_UDP) {
        int e = 0;

        /* The first address that takes a connect() wins; the source port is fixed from now on. */
        for (const struct addrinfo *ai = p->ai_list; ai != NULL; ai = ai->ai_next) {
            p->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                           ai->ai_protocol);
            int brc = p->fd >= 0 ? bind_source(p, p->fd, ai) : 0;
            if (p->fd >= 0 && brc == 0 && connect(p->fd, ai->ai_addr, ai->ai_addrlen) == 0)
                break;
            e = brc != 0 ? -brc : errno;
            if (p->fd >= 0)
                close(p->fd);
            p->fd = -1;
        }
        if (p->fd < 0) {
            snprintf(err, errlen, "%s: %s", p->name, strerror(e));
            goto fail;
        }
        p->udp_up_pending = true;
        p->st.connects = 1;
        p->state = ST_UP;
        return p;
    }

    p->qcap = c->queue_bytes ? c->queue_bytes : TX_DEFAULT_QUEUE;
    /* Room for a message record per 64 queued bytes on average, and some for tiny queues. */
    p->mcap = p->qcap / 64u + 64u;
    p->q = malloc(p->qcap);
    p->m = calloc(p->mcap, sizeof(*p->m));
    if (p->q == NULL || p->m == NULL) {
        snprintf(err, errlen, "%s: cannot allocate a %zu-byte queue", p->name, p->qcap);
        goto fail;
    }
    p->backoff_min = c->backoff_min_ms ? c->backoff_min_ms : TX_DEFAULT_BACKOFF_MIN;
    p->backoff_max = c->backoff_max_ms ? c->backoff_max_ms : TX_DEFAULT_BACKOFF_MAX;
    if (p->backoff_max < p->backoff_min)
        p->backoff_max = p->backoff_min;
    p->backoff_cur = p->backoff_min;
    if (getrandom(&p->rng, sizeof(p->rng), GRND_NONBLOCK) != (ssize_t)sizeof(p->rng))
        p->rng = clk_mono_ms() ^ (uint64_t)(uintptr_t)p;
    p->rng |= 1u; /* xorshift must not start at zero */
    p->state = ST_IDLE;
    p->next_try_ms = 0; /* the first tx_poll connects */

    if (c->proto == TX_TLS && tls_setup(p, c, err, errlen) != 0)
        goto fail;
    return p;

fail:
    tx_close(p, 0, NULL);
    return NULL;
}

const char *
tx_name(const struct tx_peer *p)
{
    return p->name;
}

const char *
tx_last_error(const struct tx_peer *p)
{
    return p->last_err;
}

bool
tx_can_send(const struct tx_peer *p, size_t len)
{
    if (len == 0)
        return false;
    if (p->proto == TX_UDP)
        return true;
    return p->state == ST_UP && p->m_count < p->mcap && len <= p->qcap - (p->q_tail - p->q_head);
}

int
tx_send(struct tx_peer *p, const uint8_t *msg, size_t len, uint32_t records)
{
    if (msg == NULL || len == 0)
        return -EINVAL;

    if (p->proto == TX_UDP) {
        ssize_t n;
        int e;

        do
            n = send(p->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n >= 0 && (size_t)n == len) {
            p->st.messages_sent++;
            p->st.octets_sent += len;
            p->st.records_sent += records;
            return 0;
        }
        e = n < 0 ? errno : EMSGSIZE;
        p->st.send_errors++;
        count_lost(p, len, records);
        set_err(p, "send: %s", strerror(e));
        return -e;
    }

    if (p->state != ST_UP) {
        count_lost(p, len, records);
        return -ENOTCONN;
    }
    if (len > p->qcap) {
        count_lost(p, len, records);
        return -EMSGSIZE;
    }
    if (!tx_can_send(p, len)) {
        count_lost(p, len, records);
        return -ENOBUFS;
    }
    size_t off = (size_t)(p->q_tail % p->qcap);
    size_t first = len < p->qcap - off ? len : p->qcap - off;

    memcpy(p->q + off, msg, first);
    memcpy(p->q, msg + first, len - first);
    p->q_tail += len;
    struct tx_msg *m = msg_at(p, p->m_count);
    m->end = p->q_tail;
    m->len = (uint32_t)len;
    m->records = records;
    p->m_count++;
    return 0;
}

int
tx_poll(struct tx_peer *p, uint64_t now_ms)
{
    int ev = 0;

    if (p->proto == TX_UDP) {
        if (p->udp_up_pending) {
            p->udp_up_pending = false;
            return TX_EV_UP;
        }
        return 0;
    }
    for (int step = 0; step < TX_POLL_STEPS; step++) {
        int r;

        switch (p->state) {
        case ST_IDLE:
            if (now_ms < p->next_try_ms)
                return ev;
            start_connect(p, now_ms);
            if (p->state == ST_IDLE)
                ev |= TX_EV_FAIL;
            break;
        case ST_CONNECTING:
            r = check_connect(p, now_ms);
            if (r == 0)
                return ev;
            if (r < 0) {
                attempt_failed(p, now_ms);
                ev |= TX_EV_FAIL;
            } else if (p->proto == TX_TCP) {
                session_up(p, now_ms);
                return ev | TX_EV_UP;
            } else if (tls_start(p, now_ms) != 0) {
                attempt_failed(p, now_ms);
                ev |= TX_EV_FAIL;
            }
            break;
        case ST_HANDSHAKE:
            r = tls_handshake(p, now_ms);
            if (r == 0)
                return ev;
            if (r < 0) {
                attempt_failed(p, now_ms);
                ev |= TX_EV_FAIL;
            } else if (SSL_version(p->ssl) >= TLS1_3_VERSION) {
                p->state = ST_CONFIRM;
                p->deadline_ms = now_ms + TX_CONFIRM_MS;
            } else {
                /* TLS 1.2: the server checked our certificate before its Finished. */
                session_up(p, now_ms);
                return ev | TX_EV_UP;
            }
            break;
        case ST_CONFIRM:
            if (read_peer(p, "TLS handshake") != 0) {
                attempt_failed(p, now_ms);
                ev |= TX_EV_FAIL;
                break;
            }
            if (!p->tls_ticket && now_ms < p->deadline_ms)
                return ev;
            session_up(p, now_ms);
            return ev | TX_EV_UP;
        case ST_UP:
            /* Read first: a collector that has gone should not get more bytes into the void. */
            if (read_peer(p, "session") != 0 || flush_queue(p) != 0) {
                session_down(p, now_ms);
                return ev | TX_EV_DOWN;
            }
            account_sent(p);
            return ev;
        }
    }
    return ev;
}

size_t
tx_pending(const struct tx_peer *p)
{
    return (size_t)(p->q_tail - p->q_head);
}

bool
tx_unacked(const struct tx_peer *p)
{
    return p->m_count > 0;
}

int
tx_fd(const struct tx_peer *p)
{
    return p->proto == TX_UDP ? -1 : p->fd;
}

int
tx_local_address(const struct tx_peer *p, struct sockaddr_storage *ss)
{
    socklen_t len = sizeof(*ss);

    if (p->fd < 0)
        return -ENOTCONN;
    return getsockname(p->fd, (struct sockaddr *)ss, &len) == 0 ? 0 : -errno;
}

uint64_t
tx_fd_generation(const struct tx_peer *p)
{
    return p->fd_gen;
}

int
tx_interest(const struct tx_peer *p)
{
    if (p->proto == TX_UDP || p->fd < 0)
        return 0;
    switch (p->state) {
    case ST_CONNECTING:
        return TX_WANT_WRITE;
    case ST_HANDSHAKE:
        return p->hs_want ? p->hs_want : TX_WANT_READ | TX_WANT_WRITE;
    case ST_CONFIRM:
        return TX_WANT_READ;
    case ST_UP:
        return TX_WANT_READ | (p->q_head < p->q_tail ? TX_WANT_WRITE : 0);
    case ST_IDLE:
        break;
    }
    return 0;
}

uint64_t
tx_next_ms(const struct tx_peer *p, uint64_t now_ms)
{
    if (p->proto == TX_UDP)
        return p->udp_up_pending ? now_ms : 0;
    switch (p->state) {
    case ST_IDLE:
        return p->next_try_ms > now_ms ? p->next_try_ms : now_ms;
    case ST_CONNECTING:
    case ST_HANDSHAKE:
    case ST_CONFIRM:
        return p->deadline_ms;
    case ST_UP:
        /* The kernel does not announce ACKs: while written bytes await one, look again soon. */
        return p->m_written > 0 ? now_ms + TX_ACK_CHECK_MS : 0;
    }
    return 0;
}

/* Waits up to the deadline for the socket to become ready; false when the time is up. */
static bool
wait_fd(int fd, short events, uint64_t deadline)
{
    uint64_t now = clk_mono_ms();
    struct pollfd pfd = {.fd = fd, .events = events};

    if (now >= deadline)
        return false;
    uint64_t left = deadline - now;
    int rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);

    return rc > 0 || (rc < 0 && errno == EINTR);
}

/* Reads until the collector closes (EOF) or the deadline, so that our close() finds no unread
 * data, which would make the kernel send a RST that can destroy the tail of what we sent. */
static void
drain_until_eof(int fd, uint64_t deadline)
{
    uint8_t buf[4096];

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n > 0)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return;
        if (!wait_fd(fd, POLLIN, deadline))
            return;
    }
}

static void
close_gracefully(struct tx_peer *p, int timeout_ms)
{
    uint64_t deadline = clk_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

    while (p->q_head < p->q_tail) {
        if (read_peer(p, "close") != 0 || flush_queue(p) != 0) {
            session_down(p, clk_mono_ms());
            return;
        }
        if (p->q_head == p->q_tail)
            break;
        if (!wait_fd(p->fd, POLLOUT | POLLIN, deadline))
            break;
    }
    if (p->ssl != NULL) {
        /* close_notify, so the collector can tell our end of stream from a truncation. */
        for (;;) {
            int r, e;

            ERR_clear_error();
            r = SSL_shutdown(p->ssl);
            if (r >= 0)
                break;
            e = SSL_get_error(p->ssl, r);
            if ((e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) ||
                !wait_fd(p->fd, e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, deadline))
                break;
        }
        ERR_clear_error();
    }
    shutdown(p->fd, SHUT_WR);
    drain_until_eof(p->fd, deadline);
    /* What the collector acknowledged was sent; the rest (bytes never written, or written but
     * not acknowledged by the deadline) is lost, a partly written message arriving truncated. */
    account_sent(p);
    lose_queue(p);
    close_session(p);
    p->state = ST_IDLE;
}

void
tx_close(struct tx_peer *p, int timeout_ms, struct tx_stats *final)
{
    if (p == NULL) {
        if (final != NULL)
            memset(final, 0, sizeof(*final));
        return;
    }
    if (p->proto != TX_UDP && p->state == ST_UP && p->fd >= 0)
        close_gracefully(p, timeout_ms);
    lose_queue(p);
    close_session(p);
    if (final != NULL)
        *final = p->st;
    if (p->ctx != NULL)
        SSL_CTX_free(p->ctx);
    if (p->bio_meth != NULL)
        BIO_meth_free(p->bio_meth);
    if (p->keylog_fd >= 0)
        close(p->keylog_fd);
    if (p->ai_list != NULL)
        freeaddrinfo(p->ai_list);
    free(p->q);
    free(p->m);
    free(p->host);
    free(p);
}

void
tx_stats(const struct tx_peer *p, struct tx_stats *out)
{
    *out = p->st;
}
