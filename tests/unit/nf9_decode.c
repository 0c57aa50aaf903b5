/*
 * nf9_decode.c - a small, strict NetFlow v9 decoder for the tests (see nf9_decode.h).
 */
#include "nf9_decode.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static uint16_t
be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t
nf9d_uint(const uint8_t *p, uint16_t len)
{
    uint64_t v = 0;

    for (uint16_t i = 0; i < len && i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

const struct nf9d_template *
nf9d_template(const struct nf9d_session *s, uint16_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->t[i].id == id)
            return &s->t[i];
    return NULL;
}

const uint8_t *
nf9d_get(const struct nf9d_template *t, const uint8_t *rec, uint16_t type, uint16_t *len)
{
    for (uint16_t i = 0; i < t->n_fields; i++)
        if (t->f[i].type == type) {
            if (len != NULL)
                *len = t->f[i].len;
            return rec + t->f[i].offset;
        }
    return NULL;
}

/* Adds or replaces a template (a collector replaces a template id it sees again). */
static int
learn(struct nf9d_session *s, const struct nf9d_template *t, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->t[i].id == t->id) {
            s->t[i] = *t;
            return 0;
        }
    if (s->n == NF9D_MAX_TEMPLATES)
        return fail(err, errlen, "too many templates");
    s->t[s->n++] = *t;
    return 0;
}

static int
check_zero(const uint8_t *p, size_t n, const char *what, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return fail(err, errlen, "%s: padding octet %zu is 0x%02x", what, i, p[i]);
    return 0;
}

/* Template FlowSet (id 0): template records back to back, then at most 3 padding octets. */
static int
template_set(struct nf9d_session *s, const uint8_t *p, size_t len, struct nf9d_packet *out,
             char *err, size_t errlen)
{
    size_t off = 0;

    while (len - off >= 4) {
        struct nf9d_template t = {.id = be16(p + off), .n_fields = be16(p + off + 2)};
        if (t.id < 256)
            return fail(err, errlen, "template id %u < 256", t.id);
        if (t.n_fields == 0 || t.n_fields > NF9D_MAX_FIELDS)
            return fail(err, errlen, "template %u: %u fields", t.id, t.n_fields);
        if ((size_t)t.n_fields * 4 > len - off - 4)
            return fail(err, errlen, "template %u: %u fields overrun the set", t.id, t.n_fields);
        const uint8_t *q = p + off + 4;
        for (uint16_t i = 0; i < t.n_fields; i++, q += 4) {
            t.f[i] = (struct nf9d_field){.type = be16(q), .len = be16(q + 2),
                                         .offset = t.record_len};
            if (t.f[i].len == 0 || t.f[i].len == 0xffff)
                return fail(err, errlen, "template %u field %u: length %u", t.id, t.f[i].type,
                            t.f[i].len);
            if ((size_t)t.record_len + t.f[i].len > 0xffff)
                return fail(err, errlen, "template %u: record too long", t.id);
            t.record_len = (uint16_t)(t.record_len + t.f[i].len);
        }
        if (learn(s, &t, err, errlen) != 0)
            return -1;
        out->n_templates++;
        off += 4 + 4 * (size_t)t.n_fields;
    }
    return check_zero(p + off, len - off, "template set", err, errlen);
}

/* Options template FlowSet (id 1): one options template, then padding. */
static int
options_template_set(struct nf9d_session *s, const uint8_t *p, size_t len,
                     struct nf9d_packet *out, char *err, size_t errlen)
{
    if (len < 6)
        return fail(err, errlen, "options template set of %zu octets", len);
    struct nf9d_template t = {.id = be16(p), .options = true};
    uint16_t scope_len = be16(p + 2), opt_len = be16(p + 4);
    if (t.id < 256)
        return fail(err, errlen, "options template id %u < 256", t.id);
    if (scope_len % 4 != 0 || opt_len % 4 != 0 || scope_len == 0)
        return fail(err, errlen, "options template %u: scope length %u, option length %u", t.id,
                    scope_len, opt_len);
    if ((size_t)6 + scope_len + opt_len > len)
        return fail(err, errlen, "options template %u overruns its set", t.id);
    t.n_scope = scope_len / 4;
    t.n_fields = (uint16_t)(t.n_scope + opt_len / 4);
    if (t.n_fields > NF9D_MAX_FIELDS)
        return fail(err, errlen, "options template %u: too many fields", t.id);
    const uint8_t *q = p + 6;
    for (uint16_t i = 0; i < t.n_fields; i++, q += 4) {
        t.f[i] = (struct nf9d_field){.type = be16(q), .len = be16(q + 2), .offset = t.record_len};
        if (i < t.n_scope && (t.f[i].type < 1 || t.f[i].type > 5))
            return fail(err, errlen, "options template %u: scope type %u", t.id, t.f[i].type);
        if (t.f[i].len == 0)
            return fail(err, errlen, "options template %u: zero-length field", t.id);
        t.record_len = (uint16_t)(t.record_len + t.f[i].len);
    }
    size_t used = 6 + (size_t)scope_len + opt_len;
    if (len - used >= 4)
        return fail(err, errlen, "options template set holds more than one template");
    if (check_zero(p + used, len - used, "options template set", err, errlen) != 0)
        return -1;
    out->n_options_templates++;
    return learn(s, &t, err, errlen);
}

static int
data_set(struct nf9d_session *s, uint16_t id, const uint8_t *p, size_t len,
         const struct nf9d_header *h, struct nf9d_packet *out, nf9d_record_fn fn, void *ctx,
         char *err, size_t errlen)
{
    const struct nf9d_template *t = nf9d_template(s, id);
    size_t off = 0, n = 0;

    if (t == NULL)
        return fail(err, errlen, "data set %u before its template", id);
    while (len - off >= t->record_len) {
        if (fn != NULL)
            fn(ctx, h, t, p + off);
        off += t->record_len;
        n++;
    }
    if (n == 0)
        return fail(err, errlen, "data set %u holds no record", id);
    if (len - off >= 4)
        return fail(err, errlen, "data set %u: %zu trailing octets", id, len - off);
    if (check_zero(p + off, len - off, "data set", err, errlen) != 0)
        return -1;
    if (t->options)
        out->n_options_data += n;
    else
        out->n_data += n;
    return 0;
}

int
nf9d_packet(struct nf9d_session *s, const uint8_t *buf, size_t len, struct nf9d_packet *out,
            nf9d_record_fn fn, void *ctx, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (len < 20)
        return fail(err, errlen, "packet of %zu octets has no header", len);
    struct nf9d_header *h = &out->h;
    h->version = be16(buf);
    h->count = be16(buf + 2);
    h->sys_uptime = be32(buf + 4);
    h->unix_secs = be32(buf + 8);
    h->sequence = be32(buf + 12);
    h->source_id = be32(buf + 16);
    if (h->version != 9)
        return fail(err, errlen, "version %u", h->version);

    size_t off = 20;
    while (off < len) {
        if (len - off < 4)
            return fail(err, errlen, "%zu stray octets after the last flowset", len - off);
        uint16_t id = be16(buf + off), flen = be16(buf + off + 2);
        if (flen < 4 || flen > len - off)
            return fail(err, errlen, "flowset %u: length %u, %zu left", id, flen, len - off);
        if (flen % 4 != 0)
            return fail(err, errlen, "flowset %u: length %u not padded to 4", id, flen);
        const uint8_t *p = buf + off + 4;
        int rc;
        if (id == 0)
            rc = template_set(s, p, flen - 4u, out, err, errlen);
        else if (id == 1)
            rc = options_template_set(s, p, flen - 4u, out, err, errlen);
        else if (id < 256)
            rc = fail(err, errlen, "reserved flowset id %u", id);
        else
            rc = data_set(s, id, p, flen - 4u, h, out, fn, ctx, err, errlen);
        if (rc != 0)
            return -1;
        out->n_flowsets++;
        off += flen;
    }
    size_t records = out->n_templates + out->n_options_templates + out->n_data +
                     out->n_options_data;
    if (records != h->count)
        return fail(err, errlen, "header count %u, %zu records", h->count, records);
    return 0;
}

struct dump_ctx {
    FILE *out;
};

static void
dump_record(void *ctx, const struct nf9d_header *h, const struct nf9d_template *t,
            const uint8_t *rec)
{
    FILE *out = ((struct dump_ctx *)ctx)->out;

    (void)h;
    fprintf(out, "  record of %s %u:\n", t->options ? "options template" : "template", t->id);
    for (uint16_t i = 0; i < t->n_fields; i++) {
        const struct nf9d_field *f = &t->f[i];
        const uint8_t *v = rec + f->offset;
        fprintf(out, "    %s%5u (%3u) ", i < t->n_scope ? "scope " : "", f->type, f->len);
        bool text = f->len > 8 && f->type != 27 && f->type != 28 && f->type != 95;
        for (uint16_t k = 0; k < f->len && text; k++)
            if (v[k] != 0 && (v[k] < 0x20 || v[k] > 0x7e))
                text = false;
        if (f->len == 4 && (f->type == 8 || f->type == 12))
            fprintf(out, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
        else if (f->len == 1 || f->len == 2 || f->len == 4 || f->len == 8)
            fprintf(out, "%llu", (unsigned long long)nf9d_uint(v, f->len));
        else if (text)
            fprintf(out, "\"%.*s\"", (int)strnlen((const char *)v, f->len), (const char *)v);
        else
            for (uint16_t k = 0; k < f->len; k++)
                fprintf(out, "%02x", v[k]);
        fputc('\n', out);
    }
}

int
nf9d_dump(struct nf9d_session *s, const uint8_t *buf, size_t len, FILE *out, char *err,
          size_t errlen)
{
    struct nf9d_packet pk;
    struct nf9d_session *after = malloc(sizeof(*after));
    struct dump_ctx dc = {.out = out};

    if (after == NULL)
        return fail(err, errlen, "out of memory");
    *after = *s;
    if (nf9d_packet(after, buf, len, &pk, NULL, NULL, err, errlen) != 0) {
        free(after);
        return -1;
    }
    fprintf(out,
            "packet: %zu octets, version %u, count %u, sysUptime %u, unix_secs %u, sequence %u, "
            "source id %u\n",
            len, pk.h.version, pk.h.count, pk.h.sys_uptime, pk.h.unix_secs, pk.h.sequence,
            pk.h.source_id);
    fprintf(out, "  %zu template, %zu options template, %zu data, %zu options data records\n",
            pk.n_templates, pk.n_options_templates, pk.n_data, pk.n_options_data);
    for (size_t i = 0; i < after->n && pk.n_templates + pk.n_options_templates > 0; i++) {
        const struct nf9d_template *t = &after->t[i];
        fprintf(out, "  %s %u: %u fields (%u scope), records of %u octets:\n   ",
                t->options ? "options template" : "template", t->id, t->n_fields, t->n_scope,
                t->record_len);
        for (uint16_t k = 0; k < t->n_fields; k++)
            fprintf(out, " %u/%u", t->f[k].type, t->f[k].len);
        fputc('\n', out);
    }
    free(after);
    return nf9d_packet(s, buf, len, &pk, dump_record, &dc, err, errlen);
}
