/*
 * metrics.c - the Prometheus text endpoint on libmicrohttpd, and the exposition-format writer.
 *
 * libmicrohttpd parses HTTP, bounds each connection's memory (a request head that does not fit
 * gets 431), closes idle connections after a timeout and caps connections; it runs one epoll
 * thread of its own. We bind the listening socket ourselves, so errors name the address as
 * the user wrote it and port 0 reports the port chosen.
 */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct prom_server {
    struct MHD_Daemon *mhd;
    int lfd;
    uint16_t port;
    prom_render_fn render;
    void *ctx;
    /* Render buffer, grown as the text grows. Only the server's one thread touches it. */
    char *body;
    size_t body_cap;
};

int
prom_parse_addr(const char *addr_port, char *host, size_t hostlen, uint16_t *port, char *err,
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
prom_buf_init(struct prom_buf *b, char *buf, size_t cap)
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    b->family[0] = '\0';
    if (cap > 0)
        buf[0] = '\0';
}

size_t
prom_buf_len(const struct prom_buf *b)
{
    return b->len;
}

__attribute__((format(printf, 2, 3))) static void
append(struct prom_buf *b, const char *fmt, ...)
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
    return i > 0 && i < sizeof(((struct prom_buf *)0)->family);
}

/* Writes "# HELP" and "# TYPE" when name starts a new family. */
static void
family(struct prom_buf *b, const char *name, const char *help, const char *type)
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
sample_start(struct prom_buf *b, const char *name, const char *labels)
{
    if (labels != NULL && labels[0] != '\0')
        append(b, "%s{%s} ", name, labels);
    else
        append(b, "%s ", name);
}

void
prom_counter(struct prom_buf *b, const char *name, const char *help, const char *labels,
            uint64_t value)
{
    if (!valid_name(name, true))
        return;
    family(b, name, help, "counter");
    sample_start(b, name, labels);
    append(b, "%" PRIu64 "\n", value);
}

void
prom_gauge(struct prom_buf *b, const char *name, const char *help, const char *labels, double value)
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
prom_label(char *out, size_t cap, const char *key, const char *value)
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

/* Renders into s->body, growing it until the text fits. NULL when it cannot. */
static const char *
render(struct prom_server *s, size_t *len)
{
    for (;;) {
        size_t n = s->render(s->ctx, s->body, s->body_cap);
        if (n < s->body_cap) {
            *len = n;
            return s->body;
        }
        if (n >= PROM_MAX_BODY)
            return NULL;
        size_t cap = s->body_cap;
        while (cap <= n)
            cap *= 2;
        char *nb = realloc(s->body, cap);
        if (nb == NULL)
            return NULL;
        s->body = nb;
        s->body_cap = cap;
    }
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *text, const char *type,
      size_t len, bool allow)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **state)
{
    struct prom_server *s = cls;
    static const char text_type[] = "text/plain; charset=utf-8";
    (void)version;
    (void)upload_data;

    /* A body (POST, PUT) is not read: answer at once and let the library close. */
    *upload_data_size = 0;
    *state = NULL;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n", text_type, 18,
                     true);
    if (strcmp(url, "/metrics") != 0)
        return reply(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n", text_type, 24,
                     false);
    size_t len;
    const char *body = render(s, &len);
    if (body == NULL)
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render\n", text_type, 14,
                     false);
    return reply(conn, MHD_HTTP_OK, body, "text/plain; version=0.0.4; charset=utf-8", len, false);
}

/* The library's own messages would go to stderr unasked: connections that misbehave are the
 * client's business, and a probe's log is not the place for them. */
static void
quiet(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)fmt;
    (void)ap;
}

static void
server_free(struct prom_server *s)
{
    if (s->mhd != NULL)
        MHD_stop_daemon(s->mhd);
    if (s->lfd >= 0)
        close(s->lfd);
    free(s->body);
    free(s);
}

struct prom_server *
prom_start(const char *addr_port, prom_render_fn render_fn, void *ctx, char *err, size_t errlen)
{
    char host[256], why[256], portstr[8];
    uint16_t port;
    struct addrinfo hints = {0}, *res = NULL;
    struct prom_server *s = NULL;
    int rc, saved = 0;

    if (prom_parse_addr(addr_port, host, sizeof(host), &port, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "--metrics: %s", why);
        return NULL;
    }
    if ((s = calloc(1, sizeof(*s))) == NULL) {
        snprintf(err, errlen, "--metrics %s: out of memory", addr_port);
        return NULL;
    }
    s->lfd = -1;
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
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0) {
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

    /* Signals belong to the main thread: the library's thread starts with all blocked. */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSYS); /* --seccomp's handler must run in the thread at fault */
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    s->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, s, MHD_OPTION_LISTEN_SOCKET, s->lfd, MHD_OPTION_EXTERNAL_LOGGER, quiet, NULL,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)PROM_MAX_CLIENTS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)PROM_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)PROM_MAX_REQUEST,
        MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (s->mhd == NULL) {
        snprintf(err, errlen, "--metrics %s: cannot start the HTTP server", addr_port);
        goto fail;
    }
    s->lfd = -1; /* the library's now: MHD_stop_daemon() closes it */
    return s;
fail:
    server_free(s);
    return NULL;
}

uint16_t
prom_port(const struct prom_server *s)
{
    return s->port;
}

void
prom_stop(struct prom_server *s)
{
    if (s == NULL)
        return;
    server_free(s);
}
