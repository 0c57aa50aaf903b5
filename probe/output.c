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

#include "fields.h"
#include "fmt.h"

#define OUT_BUF_SIZE (1u << 20)
#define OUT_MAX_COLS 256
#define OUT_BLAKE2B_LEN 64
#define OUT_KEY_MIN 32 /* --anonymize-key: 256 bits at least */

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
    size_t key_len;
    EVP_MAC *mac;
    const struct flow *f;
    struct flow_layout layout;
    uint16_t cols[FLD_COUNT]; /* enabled catalogue columns, computed once at open */
    size_t n_cols;
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

    if (ctx == NULL || !EVP_MAC_init(ctx, w->key, w->key_len, params) ||
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
    size_t need = (size_t)w->layout.splt_n * 12 + 4;

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
    size_t n = format_list(lbuf, w->layout.splt_n, w->f->splt_len, arr, kind);
    put_value(w, name, lbuf, n, OUT_KIND_LIST);
}

/* One row: the enabled catalogue columns (w->cols, NFStream's order), then the plugins'. */
static void
write_row(struct out_writer *w, const struct flow *f)
{
    char s[INET6_ADDRSTRLEN + 2];
    union fld_value v;

    w->col = 0;
    w->f = f;
    for (size_t i = 0; i < w->n_cols; i++) {
        enum fld_id id = (enum fld_id)w->cols[i];
        const struct fld_def *d = &fld_defs[id];
        if (w->mode == ROW_HEADER) {
            begin_col(w, d->column);
            continue;
        }
        fld_get(id, &w->layout, f, &v);
        switch (d->type) {
        case FLD_T_U64:
        case FLD_T_APPID:
            put_u64(w, d->column, v.u);
            break;
        case FLD_T_I64:
            put_i64(w, d->column, v.i);
            break;
        case FLD_T_F64:
            put_f64(w, d->column, v.d);
            break;
        case FLD_T_STR:
            put_str(w, d->column, v.s);
            break;
        case FLD_T_IP:
            out_format_ip(v.b, f->key.ip_version, s);
            put_str(w, d->column, s);
            break;
        case FLD_T_MAC:
        case FLD_T_OUI:
            format_mac(v.b, s);
            if (d->type == FLD_T_OUI)
                s[8] = '\0';
            put_str(w, d->column, s);
            break;
        case FLD_T_LIST8:
            put_list(w, d->column, v.list, 0);
            break;
        case FLD_T_LIST16:
            put_list(w, d->column, v.list, 1);
            break;
        case FLD_T_LIST32:
            put_list(w, d->column, v.list, 2);
            break;
        }
    }
    for (size_t i = 0; i < w->cfg.n_extra; i++) {
        const struct out_extra *x = &w->cfg.extra[i];
        char val[512];
        if (w->mode == ROW_HEADER) {
            begin_col(w, x->name);
            continue;
        }
        int kind = x->format(x->ctx, f, val, sizeof(val));
        put_value(w, x->name, val, strlen(val), kind);
    }
}

/* The index of column `want` in a row (catalogue columns, then the plugins'), or -1. */
static int
column_index(const struct out_writer *w, const char *want, size_t wantlen)
{
    for (size_t i = 0; i < w->n_cols; i++) {
        const char *c = fld_defs[w->cols[i]].column;
        if (strlen(c) == wantlen && memcmp(c, want, wantlen) == 0)
            return (int)i;
    }
    for (size_t i = 0; i < w->cfg.n_extra; i++) {
        const char *c = w->cfg.extra[i].name;
        if (strlen(c) == wantlen && memcmp(c, want, wantlen) == 0)
            return (int)(w->n_cols + i);
    }
    return -1;
}

/*
 * The BLAKE2b key from path: all of its octets, OUT_KEY_MIN to OUT_BLAKE2B_LEN of them (the same
 * file gives the same digests in every run). A shorter key is refused: it would make the
 * digests guessable by trying keys.
 */
static int
read_key(struct out_writer *w, const char *path, char *err, size_t errlen)
{
    unsigned char buf[OUT_BLAKE2B_LEN + 1];
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, errlen, "--anonymize-key %s: %s", path, strerror(errno));
        return -1;
    }
    while (n < sizeof(buf)) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "--anonymize-key %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n < OUT_KEY_MIN || n > OUT_BLAKE2B_LEN) {
        snprintf(err, errlen, "--anonymize-key %s: %s%zu octets, the key must have %d to %d "
                 "(e.g. head -c 64 /dev/urandom >%s)", path, n > OUT_BLAKE2B_LEN ? "more than " : "",
                 n > OUT_BLAKE2B_LEN ? (size_t)OUT_BLAKE2B_LEN : n, OUT_KEY_MIN, OUT_BLAKE2B_LEN,
                 path);
        return -1;
    }
    memcpy(w->key, buf, n);
    w->key_len = n;
    return 0;
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
    w->layout = c->layout;
    w->n_cols = fld_columns(fld_groups(&w->layout), w->cols);
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
        if (w->mac == NULL) {
            snprintf(err, errlen, "--anonymize: OpenSSL has no BLAKE2BMAC");
            goto fail;
        }
        if (c->anonymize_key != NULL) {
            if (read_key(w, c->anonymize_key, err, errlen) != 0)
                goto fail;
        } else if (RAND_bytes(w->key, sizeof(w->key)) != 1) {
            snprintf(err, errlen, "--anonymize: OpenSSL has no randomness for the key");
            goto fail;
        } else {
            w->key_len = sizeof(w->key);
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
