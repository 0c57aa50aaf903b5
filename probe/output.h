/*
 * output.h - flows as NFStream's to_csv() text, or as JSON lines with the same keys and values.
 *
 * CSV is byte-identical to NFStream 6.5.4's to_csv(): NFlow.__slots__ column order, Python
 * str() of ints and floats (repr, shortest round trip), strings and lists in double quotes with
 * '"' escaped as '\"', '\n' line ends (spec section 10). JSON lines are what
 * json.dumps(dict(zip(flow.keys(), flow.values()))) prints.
 */
#ifndef NFPROBE_OUTPUT_H
#define NFPROBE_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

enum out_format { OUT_CSV, OUT_JSON };

/* A per-flow extra column provider (plugins); kept small on purpose. */
struct out_extra {
    const char *name; /* column name, e.g. "udps.packet_with_666_size" */
    void *ctx;
    /* Writes the value's Python str() into buf (NUL-terminated); returns its kind. */
    int (*format)(void *ctx, const struct flow *f, char *buf, size_t len);
};

/* What out_extra.format returns: how the value is quoted. */
enum { OUT_KIND_NUMBER = 0, OUT_KIND_STRING = 1, OUT_KIND_LIST = 2 };

#define OUT_MAX_EXTRA 64

struct out_config {
    /* The flows' layout (mtr_layout): its switches pick the columns (tunnel_id, the 48
     * statistics, the 3 SPLT, the 9 L7 ones), its offsets say where the values are. */
    struct flow_layout layout;
    const struct out_extra *extra;
    size_t n_extra;
    /* --anonymize-key: file holding the BLAKE2b key (32 to 64 octets), so digests are the
     * same across runs; NULL = a random key per run (NFStream's behaviour) */
    const char *anonymize_key;
};

struct out_writer;

/*
 * Opens path ("-" = stdout) for writing flows in the given format. anonymize is a
 * comma-separated list of column names to replace with keyed BLAKE2b-512 hex digests (NFStream's
 * NFAnonymizer; the key is c->anonymize_key's content, else random per run), or NULL. Unknown
 * column names, an unreadable key file or a key of fewer than 32 octets are errors naming them.
 */
struct out_writer *out_open(const char *path, enum out_format fmt, const struct out_config *c,
                            const char *anonymize, char *err, size_t errlen);

/* Writes one flow (the CSV header first, before the first flow). Returns 0 or -errno. */
int out_flow(struct out_writer *w, const struct flow *f);

/* Flushes and closes; returns 0 or -errno (a write error anywhere is reported here). */
int out_close(struct out_writer *w);

/* Number of flows written. */
uint64_t out_count(const struct out_writer *w);

/* Formats an IPv4/IPv6 address as inet_ntop() does into buf (>= 46 bytes). */
void out_format_ip(const uint8_t *ip, uint8_t version, char *buf);

#endif
