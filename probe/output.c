/*
 * output.c - NFStream to_csv() / JSON-lines writer.
 *
 * One row is produced by walking the columns in NFStream's order (write_row). The same walk
 * writes the CSV header, a CSV row or a JSON object, so the column order is written once.
 * Text is built in a large private buffer and written with write(2) in big chunks.
 */
#include "output.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"

#define OUT_BUF_SIZE (1u << 20)
#define OUT_MAX_COLS 256
#define OUT_BLAKE2B_LEN 64

enum row_mode { ROW_HEADER, ROW_CSV, ROW_JSON };

struct out_writer {
    struct out_config cfg;
    enum out_format fmt;
    int fd;
    int close_fd;
    int error; /* first write error (positive errno) */
    uint64_t count;
    enum row_mode mode;
    unsigned col;
    bool anon[OUT_MAX_COLS];
    unsigned char key[OUT_BLAKE2B_LEN];
    EVP_MAC *mac;
    const struct flow *f;
    size_t len;
    char *buf;
};

static void
flush_buf(struct out_writer *w)
{
    size_t off = 0;

    while (off < w->len && w->error == 0) {
        ssize_t n = write(w->fd, w->buf + off, w->len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            w->error = errno;
            break;
        }
        off += (size_t)n;
    }
    w->len = 0;
}

/* Makes room for need bytes; rows are far smaller than the buffer. */
static inline char *
reserve(struct out_writer *w, size_t need)
{
    if (w->len + need > OUT_BUF_SIZE)
        flush_buf(w);
    return w->buf + w->len;
}

static inline void
put_raw(struct out_writer *w, const char *s, size_t n)
{
    if (n > OUT_BUF_SIZE / 2) {
        flush_buf(w);
        while (n > 0) {
            size_t chunk = n < OUT_BUF_SIZE / 2 ? n : OUT_BUF_SIZE / 2;
            memcpy(reserve(w, chunk), s, chunk);
            w->len += chunk;
            flush_buf(w);
            s += chunk;
            n -= chunk;
        }
        return;
    }
    memcpy(reserve(w, n), s, n);
    w->len += n;
}

static inline void
put_char(struct out_writer *w, char c)
{
    *reserve(w, 1) = c;
    w->len++;
}

/* Python str() of a string inside a CSV field: '"' becomes '\"' (NFStream's csv_converter). */
static void
put_csv_string(struct out_writer *w, const char *s, size_t n)
{
    put_char(w, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            put_char(w, '\\');
        put_char(w, s[i]);
    }
    put_char(w, '"');
}

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length, 0 if invalid. */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t c = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
        c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* A JSON string as json.dumps (ensure_ascii) writes it; invalid UTF-8 bytes are dropped. */
static void
put_json_string(struct out_writer *w, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;

    put_char(w, '"');
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_decode(s + i, n - i, &cp);
        if (l == 0) {
            i++;
            continue;
        }
        i += l;
        switch (cp) {
        case '"':
            put_raw(w, "\\\"", 2);
            continue;
        case '\\':
            put_raw(w, "\\\\", 2);
            continue;
        case '\n':
            put_raw(w, "\\n", 2);
            continue;
        case '\r':
            put_raw(w, "\\r", 2);
            continue;
        case '\t':
            put_raw(w, "\\t", 2);
            continue;
        case '\b':
            put_raw(w, "\\b", 2);
            continue;
        case '\f':
            put_raw(w, "\\f", 2);
            continue;
        default:
            break;
        }
        if (cp >= 0x20 && cp < 0x7f) {
            put_char(w, (char)cp);
            continue;
        }
        uint32_t units[2];
        int nu = 1;
        units[0] = cp;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            units[0] = 0xd800 | (cp >> 10);
            units[1] = 0xdc00 | (cp & 0x3ff);
            nu = 2;
        }
        for (int u = 0; u < nu; u++) {
            char e[6] = {'\\', 'u', hex[units[u] >> 12 & 0xf], hex[units[u] >> 8 & 0xf],
                         hex[units[u] >> 4 & 0xf], hex[units[u] & 0xf]};
            put_raw(w, e, 6);
        }
    }
    put_char(w, '"');
}

/* Starts column `name`: separator, JSON key, or the header name. Returns false in header mode. */
static bool
begin_col(struct out_writer *w, const char *name)
{
    if (w->col > 0)
        put_raw(w, w->mode == ROW_JSON ? ", " : ",", w->mode == ROW_JSON ? 2 : 1);
    if (w->mode == ROW_HEADER) {
        put_raw(w, name, strlen(name));
        w->col++;
        return false;
    }
    if (w->mode == ROW_JSON) {
        put_json_string(w, name, strlen(name));
        put_raw(w, ": ", 2);
    }
    return true;
}

/* Writes a string value (already Python str() text) in the row's syntax. */
static void
put_string_value(struct out_writer *w, const char *s, size_t n)
{
    if (w->mode == ROW_JSON)
        put_json_string(w, s, n);
    else
        put_csv_string(w, s, n);
}

/* Replaces a value's text by its keyed BLAKE2b-512 hex digest (NFStream NFAnonymizer). */
static void
put_anonymized(struct out_writer *w, const char *text, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[OUT_BLAKE2B_LEN];
    char out[2 * OUT_BLAKE2B_LEN];
    size_t mdlen = 0;
    size_t size = OUT_BLAKE2B_LEN;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(w->mac);

    if (ctx == NULL || !EVP_MAC_init(ctx, w->key, sizeof(w->key), params) ||
        !EVP_MAC_update(ctx, (const unsigned char *)text, n) ||
        !EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) || mdlen != sizeof(md)) {
        /* Never leak the clear value: write an empty digest and report the failure. */
        if (w->error == 0)
            w->error = EIO;
        mdlen = 0;
    }
    EVP_MAC_CTX_free(ctx);
    for (size_t i = 0; i < mdlen; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }
    put_string_value(w, out, 2 * mdlen);
}

/* A value whose text is `text`: a number (unquoted) or a string/list (quoted). */
static void
put_value(struct out_writer *w, const char *name, const char *text, size_t n, int kind)
{
    if (!begin_col(w, name))
        return;
    if (w->anon[w->col])
        put_anonymized(w, text, n);
    else if (kind == OUT_KIND_NUMBER)
        put_raw(w, text, n);
    else if (kind == OUT_KIND_LIST && w->mode == ROW_JSON)
        put_raw(w, text, n); /* a JSON array has the same text as Python's list str() */
    else
        put_string_value(w, text, n);
    w->col++;
}

static void
put_u64(struct out_writer *w, const char *name, uint64_t v)
{
    char b[FMT_INT_MAX];
    put_value(w, name, b, fmt_u64(b, v), OUT_KIND_NUMBER);
}

static void
put_i64(struct out_writer *w, const char *name, int64_t v)
{
    char b[FMT_INT_MAX];
    put_value(w, name, b, fmt_i64(b, v), OUT_KIND_NUMBER);
}

static void
put_f64(struct out_writer *w, const char *name, double v)
{
    char b[FMT_DOUBLE_MAX];
    put_value(w, name, b, fmt_double(b, v), OUT_KIND_NUMBER);
}

static void
put_str(struct out_writer *w, const char *name, const char *s)
{
    /* A header row walks a dummy flow: its strings are not read. */
    if (w->mode == ROW_HEADER) {
        begin_col(w, name);
        return;
    }
    put_value(w, name, s, strlen(s), OUT_KIND_STRING);
}

void
out_format_ip(const uint8_t *ip, uint8_t version, char *buf)
{
    if (version == 4) {
        /* Dotted quad by hand: glibc's inet_ntop() goes through sprintf, a tenth of the
         * CSV writer's time. */
        size_t o = 0;
        for (int i = 0; i < 4; i++) {
            o += fmt_u64(buf + o, ip[i]);
            buf[o++] = i < 3 ? '.' : '\0';
        }
        return;
    }
    /* glibc's inet_ntop is what NFStream uses: same "::" compression and v4-mapped forms. */
    if (inet_ntop(AF_INET6, ip, buf, INET6_ADDRSTRLEN) == NULL)
        buf[0] = '\0';
}

static void
format_mac(const uint8_t *mac, char *buf)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 6; i++) {
        buf[3 * i] = hex[mac[i] >> 4];
        buf[3 * i + 1] = hex[mac[i] & 0xf];
        buf[3 * i + 2] = i < 5 ? ':' : '\0';
    }
}

/* Python's str() of a list of ints: "[0, 1, -1]". Entries at index >= len print -1. */
static size_t
format_list(char *buf, uint16_t n, uint16_t len, const void *arr, int kind)
{
    size_t o = 0;
    buf[o++] = '[';
    for (uint16_t i = 0; i < n; i++) {
        if (i > 0) {
            buf[o++] = ',';
            buf[o++] = ' ';
        }
        if (i >= len) {
            buf[o++] = '-';
            buf[o++] = '1';
            continue;
        }
        uint64_t v = kind == 0 ? ((const uint8_t *)arr)[i]
                     : kind == 1 ? ((const uint16_t *)arr)[i]
                                 : ((const uint32_t *)arr)[i];
        o += fmt_u64(buf + o, v);
    }
    buf[o++] = ']';
    buf[o] = '\0';
    return o;
}

static void
put_list(struct out_writer *w, const char *name, const void *arr, int kind)
{
    /* 65535 entries of at most 10 digits + ", " each fit in 12 bytes per entry. */
    static __thread char *lbuf;
    static __thread size_t lcap;
    size_t need = (size_t)w->cfg.splt_n * 12 + 4;

    if (w->mode == ROW_HEADER) {
        begin_col(w, name);
        return;
    }
    if (need > lcap) {
        /* Grows once, to the configured SPLT size, on the first row. */
        char *nb = realloc(lbuf, need);
        if (nb == NULL) {
            w->error = ENOMEM;
            return;
        }
        lbuf = nb;
        lcap = need;
    }
    size_t n = format_list(lbuf, w->cfg.splt_n, w->f->splt_len, arr, kind);
    put_value(w, name, lbuf, n, OUT_KIND_LIST);
}

/* Column names, spelled out once so that a row costs no name formatting. */
#define DIR_COLS(d) {d "_first_seen_ms", d "_last_seen_ms", d "_duration_ms", d "_packets", d "_bytes"}
#define PS_COLS(d) {d "_min_ps", d "_mean_ps", d "_stddev_ps", d "_max_ps"}
#define PIAT_COLS(d) {d "_min_piat_ms", d "_mean_piat_ms", d "_stddev_piat_ms", d "_max_piat_ms"}
#define FLAG_COLS(d)                                                                               \
    {d "_syn_packets", d "_cwr_packets", d "_ece_packets", d "_urg_packets",                       \
     d "_ack_packets", d "_psh_packets", d "_rst_packets", d "_fin_packets"}
#define ALL_DIRS(m) {m("bidirectional"), m("src2dst"), m("dst2src")}
static const char *const dir_cols[3][5] = ALL_DIRS(DIR_COLS);
static const char *const ps_cols[3][4] = ALL_DIRS(PS_COLS);
static const char *const piat_cols[3][4] = ALL_DIRS(PIAT_COLS);
static const char *const flag_cols[3][8] = ALL_DIRS(FLAG_COLS);
static const char *const side_cols[2][4] = {{"src_ip", "src_mac", "src_oui", "src_port"},
                                            {"dst_ip", "dst_mac", "dst_oui", "dst_port"}};

/* Walks the columns of NFlow.__slots__ in order (spec section 7). */
static void
write_row(struct out_writer *w, const struct flow *f)
{
    char s[INET6_ADDRSTRLEN + 2] = "";
    const struct out_config *c = &w->cfg;
    const bool values = w->mode != ROW_HEADER;

    w->col = 0;
    w->f = f;
    put_u64(w, "id", f->id);
    put_i64(w, "expiration_id", f->expiration_id);
    for (int side = 0; side < 2; side++) {
        if (values)
            out_format_ip(side == 0 ? flow_src_ip(f) : flow_dst_ip(f), f->key.ip_version, s);
        put_str(w, side_cols[side][0], s);
        if (values)
            format_mac(side == 0 ? f->src_mac : f->dst_mac, s);
        put_str(w, side_cols[side][1], s);
        s[8] = '\0';
        put_str(w, side_cols[side][2], s);
        put_u64(w, side_cols[side][3], side == 0 ? flow_src_port(f) : flow_dst_port(f));
    }
    put_u64(w, "protocol", f->key.protocol);
    put_u64(w, "ip_version", f->key.ip_version);
    put_u64(w, "vlan_id", f->key.vlan_id);
    if (c->tunnel_id)
        put_u64(w, "tunnel_id", f->key.tunnel_id);
    for (int d = 0; d < 3; d++) {
        const struct flow_dir *fd = &f->dir[d];
        put_u64(w, dir_cols[d][0], fd->first_seen_ms);
        put_u64(w, dir_cols[d][1], fd->last_seen_ms);
        put_u64(w, dir_cols[d][2], flow_duration(fd));
        put_u64(w, dir_cols[d][3], fd->packets);
        put_u64(w, dir_cols[d][4], fd->bytes);
    }
    if (c->statistics) {
        /* A header row walks a dummy flow without extensions: read zeros instead. */
        static const struct flow_stats no_stats[3];
        const struct flow_stats *fst = values ? flow_stats(f) : no_stats;
        for (int d = 0; d < 3; d++) {
            const struct flow_stats *st = &fst[d];
            put_u64(w, ps_cols[d][0], st->min_ps);
            put_f64(w, ps_cols[d][1], st->mean_ps);
            put_f64(w, ps_cols[d][2], feat_stddev_ps(st, f->dir[d].packets));
            put_u64(w, ps_cols[d][3], st->max_ps);
        }
        for (int d = 0; d < 3; d++) {
            const struct flow_stats *st = &fst[d];
            put_u64(w, piat_cols[d][0], st->min_piat);
            put_f64(w, piat_cols[d][1], st->mean_piat);
            put_f64(w, piat_cols[d][2], feat_stddev_piat(st, f->dir[d].packets));
            put_u64(w, piat_cols[d][3], st->max_piat);
        }
        for (int d = 0; d < 3; d++)
            for (int k = 0; k < 8; k++)
                put_u64(w, flag_cols[d][k], fst[d].flag_count[k]);
    }
    if (c->splt_n > 0) {
        put_list(w, "splt_direction", feat_splt_dir(c->feat, f), 0);
        put_list(w, "splt_ps", feat_splt_ps(c->feat, f), 1);
        put_list(w, "splt_piat_ms", feat_splt_piat(c->feat, f), 2);
    }
    if (c->l7) {
        /* A header row walks a dummy flow without extensions: read zeros instead. */
        static const struct flow_l7 no_l7;
        const struct flow_l7 *l7 =
            values ? (const struct flow_l7 *)(const void *)(f->ext + c->l7_off) : &no_l7;
        put_str(w, "application_name", l7->application_name);
        put_str(w, "application_category_name", l7->category_name);
        put_u64(w, "application_is_guessed", l7->guessed);
        put_u64(w, "application_confidence", l7->confidence);
        put_str(w, "requested_server_name", l7->requested_server_name);
        put_str(w, "client_fingerprint", l7->client_fingerprint);
        put_str(w, "server_fingerprint", l7->server_fingerprint);
        put_str(w, "user_agent", l7->user_agent);
        put_str(w, "content_type", l7->content_type);
    }
    for (size_t i = 0; i < c->n_extra; i++) {
        const struct out_extra *x = &c->extra[i];
        char v[512];
        if (w->mode == ROW_HEADER) {
            begin_col(w, x->name);
            continue;
        }
        int kind = x->format(x->ctx, f, v, sizeof(v));
        put_value(w, x->name, v, strlen(v), kind);
    }
}

/* Looks a name up among the columns by walking a header row into a scratch buffer. */
static int
column_index(struct out_writer *w, const char *want, size_t wantlen)
{
    size_t save_len = w->len;
    enum row_mode save_mode = w->mode;
    int found = -1;

    w->mode = ROW_HEADER;
    w->len = 0;
    struct flow dummy;
    memset(&dummy, 0, sizeof(dummy));
    write_row(w, &dummy);
    /* The header is in buf[0..len): split on commas. */
    size_t start = 0;
    int idx = 0;
    for (size_t i = 0; i <= w->len; i++) {
        if (i == w->len || w->buf[i] == ',') {
            if (i - start == wantlen && memcmp(w->buf + start, want, wantlen) == 0)
                found = idx;
            idx++;
            start = i + 1;
        }
    }
    w->len = save_len;
    w->mode = save_mode;
    return found;
}

struct out_writer *
out_open(const char *path, enum out_format fmt, const struct out_config *c, const char *anonymize,
         char *err, size_t errlen)
{
    struct out_writer *w = calloc(1, sizeof(*w));

    if (w == NULL || (w->buf = malloc(OUT_BUF_SIZE)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    if (c->n_extra > OUT_MAX_EXTRA) {
        snprintf(err, errlen, "%s: too many extra columns", path);
        goto fail;
    }
    w->cfg = *c;
    w->fmt = fmt;
    w->fd = -1;
    if (anonymize != NULL && anonymize[0] != '\0') {
        const char *p = anonymize;
        while (*p != '\0') {
            size_t n = strcspn(p, ",");
            int idx = n > 0 ? column_index(w, p, n) : -1;
            if (idx < 0 || idx >= OUT_MAX_COLS) {
                snprintf(err, errlen, "--anonymize: no column named '%.*s'", (int)n, p);
                goto fail;
            }
            w->anon[idx] = true;
            p += n;
            if (*p == ',')
                p++;
        }
        w->mac = EVP_MAC_fetch(NULL, "BLAKE2BMAC", NULL);
        if (w->mac == NULL || RAND_bytes(w->key, sizeof(w->key)) != 1) {
            snprintf(err, errlen, "--anonymize: OpenSSL has no BLAKE2BMAC or no randomness");
            goto fail;
        }
    }
    if (strcmp(path, "-") == 0) {
        w->fd = STDOUT_FILENO;
    } else {
        w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (w->fd < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            goto fail;
        }
        w->close_fd = 1;
    }
    return w;
fail:
    if (w != NULL) {
        EVP_MAC_free(w->mac);
        free(w->buf);
        free(w);
    }
    return NULL;
}

int
out_flow(struct out_writer *w, const struct flow *f)
{
    if (w->fmt == OUT_CSV) {
        if (w->count == 0) {
            w->mode = ROW_HEADER;
            write_row(w, f);
            put_char(w, '\n');
        }
        w->mode = ROW_CSV;
        write_row(w, f);
        put_char(w, '\n');
    } else {
        w->mode = ROW_JSON;
        put_char(w, '{');
        write_row(w, f);
        put_raw(w, "}\n", 2);
    }
    w->count++;
    return w->error ? -w->error : 0;
}

int
out_close(struct out_writer *w)
{
    int rc;

    if (w == NULL)
        return 0;
    flush_buf(w);
    if (w->close_fd && close(w->fd) != 0 && w->error == 0)
        w->error = errno;
    rc = w->error ? -w->error : 0;
    EVP_MAC_free(w->mac);
    free(w->buf);
    free(w);
    return rc;
}

uint64_t
out_count(const struct out_writer *w)
{
    return w->count;
}

const char *
out_render(struct out_writer *w, const struct flow *f, size_t *len)
{
    /* A rendering writer never writes to its file: its buffer holds one row at a time. */
    w->len = 0;
    w->mode = ROW_JSON;
    put_char(w, '{');
    write_row(w, f);
    put_char(w, '}');
    w->count++;
    *len = w->len;
    w->len = 0;
    return w->buf;
}
