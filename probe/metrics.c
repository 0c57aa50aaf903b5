/*
 * metrics.c - the Prometheus text endpoint: one thread, one poll() loop, HTTP/1.0.
 *
 * Each connection is a small state machine (read the request head, write the response, drain
 * what the client still sends until it closes) with a deadline, so a slow or silent client
 * costs one slot for a bounded time and never stalls the others.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "clock.h"

#define MET_LINGER_MS 1000 /* after the response: wait this long for the client to close */

enum conn_state { C_FREE, C_READ, C_WRITE, C_LINGER };

struct conn {
    enum conn_state state;
    int fd;
    uint64_t deadline_ms;
    size_t in_len;
    char in[MET_MAX_REQUEST + 1];
    char *out; /* whole response, malloc'ed */
    size_t out_len, out_off;
};

struct met_server {
    int lfd;
    int wake[2]; /* met_stop() writes a byte: the thread leaves its loop */
    uint16_t port;
    met_render_fn render;
    void *ctx;
    pthread_t thread;
    char *body; /* render buffer, grown as the text grows */
    size_t body_cap;
    struct conn conns[MET_MAX_CLIENTS];
};

int
met_parse_addr(const char *addr_port, char *host, size_t hostlen, uint16_t *port, char *err,
               size_t errlen)
{
    const char *h, *he, *p;

    if (addr_port == NULL || addr_port[0] == '\0') {
        snprintf(err, errlen, "empty address: expected HOST:PORT, e.g. 127.0.0.1:9108");
        return -EINVAL;
    }
    if (addr_port[0] == '[') {
        h = addr_port + 1;
        he = strchr(h, ']');
        if (he == NULL || he[1] != ':') {
            snprintf(err, errlen, "'%s': expected [IPV6]:PORT", addr_port);
            return -EINVAL;
        }
        p = he + 2;
    } else {
        h = addr_port;
        he = strrchr(addr_port, ':');
        if (he == NULL) {
            snprintf(err, errlen, "'%s': expected HOST:PORT, e.g. 127.0.0.1:9108", addr_port);
            return -EINVAL;
        }
        if (memchr(h, ':', (size_t)(he - h)) != NULL) {
            snprintf(err, errlen, "'%s': an IPv6 address needs brackets, e.g. [::1]:9108",
                     addr_port);
            return -EINVAL;
        }
        p = he + 1;
    }
    if (he == h) {
        snprintf(err, errlen, "'%s': no host (0.0.0.0 or [::] listens on every address)",
                 addr_port);
        return -EINVAL;
    }
    if ((size_t)(he - h) >= hostlen) {
        snprintf(err, errlen, "'%s': host name too long", addr_port);
        return -EINVAL;
    }
    unsigned long n = 0;
    if (*p == '\0')
        goto bad_port;
    for (const char *q = p; *q != '\0'; q++) {
        if (*q < '0' || *q > '9')
            goto bad_port;
        n = n * 10 + (unsigned long)(*q - '0');
        if (n > 65535)
            goto bad_port;
    }
    memcpy(host, h, (size_t)(he - h));
    host[he - h] = '\0';
    *port = (uint16_t)n;
    return 0;
bad_port:
    snprintf(err, errlen, "'%s': port '%s' is not a number from 0 to 65535", addr_port, p);
    return -EINVAL;
}

/* ------------------------------------------------------------------ exposition format */

void
met_buf_init(struct met_buf *b, char *buf, size_t cap)
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    b->family[0] = '\0';
    if (cap > 0)
        buf[0] = '\0';
}

size_t
met_buf_len(const struct met_buf *b)
{
    return b->len;
}

__attribute__((format(printf, 2, 3))) static void
append(struct met_buf *b, const char *fmt, ...)
{
    va_list ap;
    size_t room = b->len < b->cap ? b->cap - b->len : 0;

    va_start(ap, fmt);
    int n = vsnprintf(room > 0 ? b->buf + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += (size_t)n;
}

static bool
valid_name(const char *name, bool colon_ok)
{
    size_t i = 0;

    if (name == NULL)
        return false;
    for (; name[i] != '\0'; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
                  (colon_ok && ch == ':') || (i > 0 && ch >= '0' && ch <= '9');
        if (!ok)
            return false;
    }
    return i > 0 && i < sizeof(((struct met_buf *)0)->family);
}

/* Writes "# HELP" and "# TYPE" when name starts a new family. */
static void
family(struct met_buf *b, const char *name, const char *help, const char *type)
{
    if (strcmp(b->family, name) == 0)
        return;
    snprintf(b->family, sizeof(b->family), "%s", name);
    append(b, "# HELP %s ", name);
    /* HELP text escapes backslash and newline (exposition format 0.0.4). */
    for (const char *s = help ? help : ""; *s != '\0'; s++) {
        if (*s == '\\')
            append(b, "\\\\");
        else if (*s == '\n')
            append(b, "\\n");
        else
            append(b, "%c", *s);
    }
    append(b, "\n# TYPE %s %s\n", name, type);
}

static void
sample_start(struct met_buf *b, const char *name, const char *labels)
{
    if (labels != NULL && labels[0] != '\0')
        append(b, "%s{%s} ", name, labels);
    else
        append(b, "%s ", name);
}

void
met_counter(struct met_buf *b, const char *name, const char *help, const char *labels,
            uint64_t value)
{
    if (!valid_name(name, true))
        return;
    family(b, name, help, "counter");
    sample_start(b, name, labels);
    append(b, "%" PRIu64 "\n", value);
}

void
met_gauge(struct met_buf *b, const char *name, const char *help, const char *labels, double value)
{
    if (!valid_name(name, true))
        return;
    family(b, name, help, "gauge");
    sample_start(b, name, labels);
    if (isnan(value)) {
        append(b, "NaN\n");
    } else if (isinf(value)) {
        append(b, "%sInf\n", value > 0 ? "+" : "-");
    } else {
        /* Shortest of 15 or 17 digits that reads back as the same double. */
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%.15g", value);
        if (strtod(tmp, NULL) != value)
            snprintf(tmp, sizeof(tmp), "%.17g", value);
        append(b, "%s\n", tmp);
    }
}

int
met_label(char *out, size_t cap, const char *key, const char *value)
{
    size_t len = strnlen(out, cap), need;

    if (!valid_name(key, false) || value == NULL)
        return -EINVAL;
    need = (len > 0 ? 1 : 0) + strlen(key) + 3; /* ,key="" */
    for (const char *s = value; *s != '\0'; s++)
        need += (*s == '\\' || *s == '"' || *s == '\n') ? 2 : 1;
    if (len >= cap || need + 1 > cap - len)
        return -ENOSPC;
    char *w = out + len;
    if (len > 0)
        *w++ = ',';
    w += sprintf(w, "%s=\"", key);
    for (const char *s = value; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"') {
            *w++ = '\\';
            *w++ = *s;
        } else if (*s == '\n') {
            *w++ = '\\';
            *w++ = 'n';
        } else {
            *w++ = *s;
        }
    }
    *w++ = '"';
    *w = '\0';
    return 0;
}

/* ------------------------------------------------------------------ HTTP */

static void
conn_close(struct conn *c)
{
    if (c->state == C_FREE)
        return;
    close(c->fd);
    free(c->out);
    c->out = NULL;
    c->state = C_FREE;
}

/* Renders the metrics text into s->body, growing it; returns its length or -1. */
static long
render(struct met_server *s)
{
    for (int tries = 0; tries < 4; tries++) {
        size_t n = s->render(s->ctx, s->body, s->body_cap);
        if (n < s->body_cap)
            return (long)n;
        if (n >= MET_MAX_BODY)
            return -1;
        /* The text may grow between two calls: leave room. */
        size_t cap = n + n / 4 + 4096;
        char *nb = realloc(s->body, cap);
        if (nb == NULL)
            return -1;
        s->body = nb;
        s->body_cap = cap;
    }
    return -1;
}

static void
respond(struct conn *c, const char *status, const char *extra, const char *body, size_t body_len,
        bool head_only, uint64_t now)
{
    char hdr[256];
    int hl = snprintf(hdr, sizeof(hdr),
                      "HTTP/1.0 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
                      extra, body_len);
    size_t total = (size_t)hl + (head_only ? 0 : body_len);

    c->out = malloc(total);
    if (c->out == NULL) {
        conn_close(c);
        return;
    }
    memcpy(c->out, hdr, (size_t)hl);
    if (!head_only && body_len > 0)
        memcpy(c->out + hl, body, body_len);
    c->out_len = total;
    c->out_off = 0;
    c->state = C_WRITE;
    c->deadline_ms = now + MET_RESPONSE_TIMEOUT_MS;
}

static void
respond_error(struct conn *c, const char *status, const char *extra, uint64_t now)
{
    char body[64];
    int n = snprintf(body, sizeof(body), "%s\n", status + 4); /* skip "NNN " */
    respond(c, status, extra, body, (size_t)n, false, now);
}

/* The request head is complete in c->in: answer it. */
static void
handle_request(struct met_server *s, struct conn *c, uint64_t now)
{
    /* Request line: METHOD SP TARGET SP HTTP/1.x */
    char *line = c->in, *eol = strpbrk(line, "\r\n");
    if (eol != NULL)
        *eol = '\0';
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL ||
        strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp1[1] != '/') {
        respond_error(c, "400 Bad Request", "Content-Type: text/plain\r\n", now);
        return;
    }
    *sp1 = '\0';
    *sp2 = '\0';
    const char *method = line, *target = sp1 + 1;
    bool head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        respond_error(c, "405 Method Not Allowed",
                      "Allow: GET, HEAD\r\nContent-Type: text/plain\r\n", now);
        return;
    }
    size_t plen = strcspn(target, "?");
    if (plen != 8 || strncmp(target, "/metrics", 8) != 0) {
        respond_error(c, "404 Not Found", "Content-Type: text/plain\r\n", now);
        return;
    }
    long n = render(s);
    if (n < 0) {
        respond_error(c, "500 Internal Server Error", "Content-Type: text/plain\r\n", now);
        return;
    }
    respond(c, "200 OK", "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n", s->body,
            (size_t)n, head, now);
}

static void
on_readable(struct met_server *s, struct conn *c, uint64_t now)
{
    if (c->state == C_LINGER) {
        char junk[512];
        ssize_t n = recv(c->fd, junk, sizeof(junk), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            conn_close(c);
        return;
    }
    ssize_t n = recv(c->fd, c->in + c->in_len, MET_MAX_REQUEST - c->in_len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_close(c);
        return;
    }
    size_t from = c->in_len > 3 ? c->in_len - 3 : 0;
    c->in_len += (size_t)n;
    c->in[c->in_len] = '\0';
    if (memchr(c->in + from, '\0', c->in_len - from) != NULL) {
        respond_error(c, "400 Bad Request", "Content-Type: text/plain\r\n", now);
        return;
    }
    if (strstr(c->in + from, "\r\n\r\n") != NULL || strstr(c->in + from, "\n\n") != NULL) {
        handle_request(s, c, now);
        return;
    }
    if (c->in_len >= MET_MAX_REQUEST)
        respond_error(c, "431 Request Header Fields Too Large", "Content-Type: text/plain\r\n",
                      now);
}

static void
on_writable(struct conn *c, uint64_t now)
{
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->out_off += (size_t)n;
    if (c->out_off < c->out_len)
        return;
    /*
     * Closing with unread request bytes would send an RST that can destroy the response in
     * the client's buffer: half-close and read until the client closes (or a short deadline).
     */
    free(c->out);
    c->out = NULL;
    shutdown(c->fd, SHUT_WR);
    c->state = C_LINGER;
    c->deadline_ms = now + MET_LINGER_MS;
}

static void
accept_clients(struct met_server *s, uint64_t now)
{
    for (;;) {
        struct conn *c = NULL;
        for (size_t i = 0; i < MET_MAX_CLIENTS; i++) {
            if (s->conns[i].state == C_FREE) {
                c = &s->conns[i];
                break;
            }
        }
        if (c == NULL)
            return; /* the rest wait in the backlog */
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a transient error (ECONNABORTED, EMFILE): poll again */
        c->fd = fd;
        c->state = C_READ;
        c->in_len = 0;
        c->in[0] = '\0';
        c->out = NULL;
        c->deadline_ms = now + MET_REQUEST_TIMEOUT_MS;
    }
}

static void *
serve(void *arg)
{
    struct met_server *s = arg;
    struct pollfd pfd[MET_MAX_CLIENTS + 2];
    struct conn *pc[MET_MAX_CLIENTS + 2];

    for (;;) {
        uint64_t now = clk_mono_ms();
        int timeout = -1;
        nfds_t n = 0;
        bool room = false;

        pfd[n++] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
        for (size_t i = 0; i < MET_MAX_CLIENTS; i++) {
            struct conn *c = &s->conns[i];
            if (c->state == C_FREE) {
                room = true;
                continue;
            }
            if (now >= c->deadline_ms) {
                conn_close(c);
                room = true;
                continue;
            }
            int left = (int)(c->deadline_ms - now);
            if (timeout < 0 || left < timeout)
                timeout = left;
            pc[n] = c;
            pfd[n++] = (struct pollfd){.fd = c->fd,
                                       .events = c->state == C_WRITE ? POLLOUT : POLLIN};
        }
        nfds_t listen_at = n;
        if (room)
            pfd[n++] = (struct pollfd){.fd = s->lfd, .events = POLLIN};

        int rc = poll(pfd, n, timeout);
        if (rc < 0 && errno != EINTR)
            break; /* cannot happen with valid descriptors; stop serving rather than spin */
        if (rc <= 0)
            continue;
        if (pfd[0].revents != 0)
            break;
        now = clk_mono_ms();
        for (nfds_t i = 1; i < listen_at; i++) {
            struct conn *c = pc[i];
            if (pfd[i].revents == 0 || c->state == C_FREE)
                continue;
            if (c->state == C_WRITE) {
                if (pfd[i].revents & (POLLERR | POLLNVAL))
                    conn_close(c);
                else
                    on_writable(c, now);
            } else {
                on_readable(s, c, now);
            }
        }
        if (room && pfd[listen_at].revents != 0)
            accept_clients(s, now);
    }
    for (size_t i = 0; i < MET_MAX_CLIENTS; i++)
        conn_close(&s->conns[i]);
    return NULL;
}

static void
server_free(struct met_server *s)
{
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    free(s->body);
    free(s);
}

struct met_server *
met_start(const char *addr_port, met_render_fn render_fn, void *ctx, char *err, size_t errlen)
{
    char host[256], why[256], portstr[8];
    uint16_t port;
    struct addrinfo hints = {0}, *res = NULL;
    struct met_server *s = NULL;
    int rc, saved = 0;

    if (met_parse_addr(addr_port, host, sizeof(host), &port, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "--metrics: %s", why);
        return NULL;
    }
    if ((s = calloc(1, sizeof(*s))) == NULL) {
        snprintf(err, errlen, "--metrics %s: out of memory", addr_port);
        return NULL;
    }
    s->lfd = s->wake[0] = s->wake[1] = -1;
    s->render = render_fn;
    s->ctx = ctx;
    s->body_cap = 64 * 1024;
    if ((s->body = malloc(s->body_cap)) == NULL) {
        snprintf(err, errlen, "--metrics %s: out of memory", addr_port);
        goto fail;
    }

    snprintf(portstr, sizeof(portstr), "%u", port);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0) {
        snprintf(err, errlen, "--metrics %s: %s", addr_port, gai_strerror(rc));
        goto fail;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0) {
            s->lfd = fd;
            break;
        }
        saved = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (s->lfd < 0) {
        snprintf(err, errlen, "--metrics %s: %s", addr_port, strerror(saved ? saved : EINVAL));
        goto fail;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(s->lfd, (struct sockaddr *)&ss, &sl) == 0)
        s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "--metrics %s: pipe: %s", addr_port, strerror(errno));
        goto fail;
    }

    /* Signals belong to the main thread: start the server with all of them blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&s->thread, NULL, serve, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "--metrics %s: thread: %s", addr_port, strerror(rc));
        goto fail;
    }
    return s;
fail:
    server_free(s);
    return NULL;
}

uint16_t
met_port(const struct met_server *s)
{
    return s->port;
}

void
met_stop(struct met_server *s)
{
    if (s == NULL)
        return;
    ssize_t w;
    do
        w = write(s->wake[1], "x", 1);
    while (w < 0 && errno == EINTR);
    pthread_join(s->thread, NULL);
    server_free(s);
}
