/*
 * metrics.h - a Prometheus text endpoint: a small thread answering GET /metrics.
 *
 * The server owns one listening TCP socket and one thread. It serves several clients at once
 * from a poll() loop (non-blocking sockets), so a client that connects and sends nothing holds
 * one slot until MET_REQUEST_TIMEOUT_MS, never the endpoint. HTTP/1.0 only: one request per
 * connection, "Connection: close". GET or HEAD /metrics gets 200 and the text of the render
 * callback (Content-Type: text/plain; version=0.0.4), any other path 404, other methods 405, a
 * request head over MET_MAX_REQUEST bytes 431, anything unparsable 400.
 *
 * The render callback runs on the metrics thread, concurrently with the packet path: it must
 * read counters that other threads write with relaxed atomic loads (or from a snapshot the
 * exporter publishes), never take a lock the packet path holds.
 */
#ifndef NFPROBE_METRICS_H
#define NFPROBE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MET_MAX_REQUEST 4096          /* request line and headers */
#define MET_MAX_CLIENTS 16            /* connections served at once; more wait in the backlog */
#define MET_REQUEST_TIMEOUT_MS 2000   /* from accept to the end of the request head */
#define MET_RESPONSE_TIMEOUT_MS 10000 /* to write the whole response */
#define MET_MAX_BODY (64u << 20)      /* largest rendered text */

/*
 * Writes the exposition text into buf[0..cap) and returns its whole length, even when that is
 * cap or more (snprintf's contract): the server then calls it again with a larger buffer. The
 * helpers below keep that contract.
 */
typedef size_t (*met_render_fn)(void *ctx, char *buf, size_t cap);

struct met_server;

/*
 * Splits "HOST:PORT" ("127.0.0.1:9108", "[::1]:9108", "localhost:9108"; port 0 = any free
 * port) into host (brackets removed) and port. Pure; used by cfg_validate() too. Returns 0 or
 * -EINVAL with err naming the address.
 */
int met_parse_addr(const char *addr_port, char *host, size_t hostlen, uint16_t *port, char *err,
                   size_t errlen);

/*
 * Binds addr_port (SO_REUSEADDR), listens and starts the thread. Call it before dropping
 * privileges when the port is below 1024. Returns NULL with a one-line err naming the address.
 */
struct met_server *met_start(const char *addr_port, met_render_fn render, void *ctx, char *err,
                             size_t errlen);

/* The bound port (the chosen one when addr_port said port 0). */
uint16_t met_port(const struct met_server *s);

/* Stops the thread (closing any client it is serving), joins it, frees s. Takes NULL. */
void met_stop(struct met_server *s);

/*
 * Exposition-format writer over the render callback's buffer. Start one per render with
 * met_buf_init(), call the helpers, return met_buf_len(). Lines of one metric family must be
 * written by consecutive calls: "# HELP" and "# TYPE" are written when the name differs from
 * the previous call's.
 */
struct met_buf {
    char *buf;
    size_t cap;
    size_t len;         /* length of the whole text, even past cap */
    char family[128];   /* name of the family whose header was written last */
};

void met_buf_init(struct met_buf *b, char *buf, size_t cap);

/* The text's whole length: what the render callback returns. */
size_t met_buf_len(const struct met_buf *b);

/*
 * One sample of a counter (name should end in _total) or a gauge. labels is NULL or the
 * preformatted text between the braces, built with met_label(); help is one line of text.
 * Names must match [a-zA-Z_:][a-zA-Z0-9_:]*; a sample with a bad name is skipped.
 */
void met_counter(struct met_buf *b, const char *name, const char *help, const char *labels,
                 uint64_t value);
void met_gauge(struct met_buf *b, const char *name, const char *help, const char *labels,
               double value);

/*
 * Appends `key="value"` to the label text in out[0..cap) (NUL-terminated; starts empty),
 * with a comma when out is not empty, escaping \, " and newline in value. Returns 0, or
 * -ENOSPC when it does not fit (out is then left as it was).
 */
int met_label(char *out, size_t cap, const char *key, const char *value);

#endif
