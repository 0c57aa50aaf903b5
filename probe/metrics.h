/*
 * metrics.h - a Prometheus text endpoint (libmicrohttpd) and the exposition-format writer.
 *
 * GET or HEAD /metrics gets 200 and the text of the render callback (Content-Type: text/plain;
 * version=0.0.4), any other path 404, other methods 405; libmicrohttpd answers malformed
 * requests (400) and request heads too large for a connection's memory (431) itself.
 * Under abuse the endpoint stays usable: at most PROM_MAX_CLIENTS connections at once (more
 * wait in the kernel's backlog), each idle one closed after PROM_TIMEOUT_S, each with at most
 * PROM_MAX_REQUEST bytes of memory, served by one epoll thread that never blocks on a client.
 *
 * The render callback runs on the server's thread, one call at a time, concurrently with the
 * packet path: it must read counters that other threads write with relaxed atomic loads (or
 * from a snapshot published under a lock), never take a lock the packet path holds.
 */
#ifndef NFPROBE_METRICS_H
#define NFPROBE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROM_MAX_REQUEST (32u << 10) /* memory per connection: request head and reply headers */
#define PROM_MAX_CLIENTS 512         /* connections at once; more wait in the backlog */
#define PROM_TIMEOUT_S 5             /* a connection idle this long is closed */
#define PROM_MAX_BODY (64u << 20)    /* largest rendered text */

/*
 * Writes the exposition text into buf[0..cap) and returns its whole length, even when that is
 * cap or more (snprintf's contract): the server then calls it again with a larger buffer. The
 * helpers below keep that contract.
 */
typedef size_t (*prom_render_fn)(void *ctx, char *buf, size_t cap);

struct prom_server;

/*
 * Splits "HOST:PORT" ("127.0.0.1:9108", "[::1]:9108", "localhost:9108"; port 0 = any free
 * port) into host (brackets removed) and port. Pure; used by cfg_validate() too. Returns 0 or
 * -EINVAL with err naming the address.
 */
int prom_parse_addr(const char *addr_port, char *host, size_t hostlen, uint16_t *port, char *err,
                   size_t errlen);

/*
 * Binds addr_port (SO_REUSEADDR), listens and starts the server's thread. Call it before dropping
 * privileges when the port is below 1024. Returns NULL with a one-line err naming the address.
 */
struct prom_server *prom_start(const char *addr_port, prom_render_fn render, void *ctx, char *err,
                             size_t errlen);

/* The bound port (the chosen one when addr_port said port 0). */
uint16_t prom_port(const struct prom_server *s);

/* Stops the server (closing any client it is serving) and frees s. Takes NULL. */
void prom_stop(struct prom_server *s);

/*
 * Exposition-format writer over the render callback's buffer. Start one per render with
 * prom_buf_init(), call the helpers, return prom_buf_len(). Lines of one metric family must be
 * written by consecutive calls: "# HELP" and "# TYPE" are written when the name differs from
 * the previous call's.
 */
struct prom_buf {
    char *buf;
    size_t cap;
    size_t len;         /* length of the whole text, even past cap */
    char family[128];   /* name of the family whose header was written last */
};

void prom_buf_init(struct prom_buf *b, char *buf, size_t cap);

/* The text's whole length: what the render callback returns. */
size_t prom_buf_len(const struct prom_buf *b);

/*
 * One sample of a counter (name should end in _total) or a gauge. labels is NULL or the
 * preformatted text between the braces, built with prom_label(); help is one line of text.
 * Names must match [a-zA-Z_:][a-zA-Z0-9_:]*; a sample with a bad name is skipped.
 */
void prom_counter(struct prom_buf *b, const char *name, const char *help, const char *labels,
                 uint64_t value);
void prom_gauge(struct prom_buf *b, const char *name, const char *help, const char *labels,
               double value);

/*
 * Appends `key="value"` to the label text in out[0..cap) (NUL-terminated; starts empty),
 * with a comma when out is not empty, escaping \, " and newline in value. Returns 0, or
 * -ENOSPC when it does not fit (out is then left as it was).
 */
int prom_label(char *out, size_t cap, const char *key, const char *value);

#endif
