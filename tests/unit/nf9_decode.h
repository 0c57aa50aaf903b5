/*
 * nf9_decode.h - a small, strict NetFlow v9 (RFC 3954) decoder for the tests.
 *
 * Written from the RFC, independently of probe/export_v9.c (it shares no code or table with
 * it), so that round-trip tests check the encoder against the format rather than against
 * itself. Strict: every length, padding octet, record count and template reference is
 * checked, and the first violation is reported as an error.
 */
#ifndef NFPROBE_NF9_DECODE_H
#define NFPROBE_NF9_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NF9D_MAX_FIELDS 256
#define NF9D_MAX_TEMPLATES 64

struct nf9d_field {
    uint16_t type;
    uint16_t len;
    uint16_t offset; /* in the record */
};

struct nf9d_template {
    uint16_t id;
    bool options;
    uint16_t n_fields;
    uint16_t n_scope;    /* options: the first n_scope fields are scope fields */
    uint16_t record_len;
    struct nf9d_field f[NF9D_MAX_FIELDS];
};

/* Templates learnt so far from one exporter (source id). */
struct nf9d_session {
    struct nf9d_template t[NF9D_MAX_TEMPLATES];
    size_t n;
};

struct nf9d_header {
    uint16_t version;
    uint16_t count;
    uint32_t sys_uptime;
    uint32_t unix_secs;
    uint32_t sequence;
    uint32_t source_id;
};

/* What one packet held. */
struct nf9d_packet {
    struct nf9d_header h;
    size_t n_flowsets;
    size_t n_templates;         /* template records */
    size_t n_options_templates; /* options template records */
    size_t n_data;              /* data records of (non-options) templates */
    size_t n_options_data;      /* data records of options templates */
};

/* Called for every data record, in packet order. */
typedef void (*nf9d_record_fn)(void *ctx, const struct nf9d_header *h,
                               const struct nf9d_template *t, const uint8_t *rec);

/*
 * Decodes one export packet: learns its templates, calls fn (may be NULL) for each data record.
 * Returns 0, or -1 with a one-line err describing the first violation.
 */
int nf9d_packet(struct nf9d_session *s, const uint8_t *buf, size_t len, struct nf9d_packet *out,
                nf9d_record_fn fn, void *ctx, char *err, size_t errlen);

/* The template with this id, or NULL. */
const struct nf9d_template *nf9d_template(const struct nf9d_session *s, uint16_t id);

/* A field of a record by type (the first one of that type), or NULL; *len gets its length. */
const uint8_t *nf9d_get(const struct nf9d_template *t, const uint8_t *rec, uint16_t type,
                        uint16_t *len);

/* A big-endian unsigned integer of 1..8 octets. */
uint64_t nf9d_uint(const uint8_t *p, uint16_t len);

/* Writes a human-readable dump of one packet (for golden review) to out; returns 0 or -1. */
int nf9d_dump(struct nf9d_session *s, const uint8_t *buf, size_t len, FILE *out, char *err,
              size_t errlen);

#endif
