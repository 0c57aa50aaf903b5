/*
 * ndpi_ids.c - translation of nDPI protocol ids by name into a receiver's numbering.
 *
 * Built once at start (a few hundred names compared against a few hundred rows), then a
 * lookup is one array read.
 */
#include "ndpi_ids.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NID_MAX_FILE (1u << 20)
#define NID_NAME_MAX 64

struct nid_row {
    uint32_t id;
    char name[NID_NAME_MAX];
};

struct nid_map {
    uint32_t *to;     /* [n] receiver id of each sender id */
    uint16_t n;
    size_t missing;
    size_t moved;
};

/* Parses "ID\tSYMBOL\tNAME" lines into rows (grown as needed). 0 or -EINVAL with err. */
static int
parse_rows(const char *buf, size_t len, const char *what, struct nid_row **out, size_t *n_out,
           char *err, size_t errlen)
{
    struct nid_row *rows = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    const char *p = buf, *end = buf + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol != NULL ? eol : end;
        lineno++;
        if (le > p && le[-1] == '\r')
            le--;
        if (le == p || *p == '#') {
            p = eol != NULL ? eol + 1 : end;
            continue;
        }
        const char *t1 = memchr(p, '\t', (size_t)(le - p));
        const char *t2 = t1 != NULL ? memchr(t1 + 1, '\t', (size_t)(le - t1 - 1)) : NULL;
        char num[16];
        size_t nl = t1 != NULL ? (size_t)(t1 - p) : 0;
        size_t ml = t2 != NULL ? (size_t)(le - t2 - 1) : 0;
        char *e;
        unsigned long id = 0;
        if (t2 != NULL && nl > 0 && nl < sizeof(num)) {
            memcpy(num, p, nl);
            num[nl] = '\0';
            errno = 0;
            id = strtoul(num, &e, 10);
        }
        if (t2 == NULL || nl == 0 || nl >= sizeof(num) || *e != '\0' || errno != 0 ||
            id > 65535 || ml == 0 || ml >= NID_NAME_MAX || memchr(t2 + 1, '\t', ml) != NULL) {
            snprintf(err, errlen, "%s:%zu: expected ID<TAB>SYMBOL<TAB>NAME (id 0-65535, name "
                                  "1-%d characters)", what, lineno, NID_NAME_MAX - 1);
            free(rows);
            return -EINVAL;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 512;
            struct nid_row *r = realloc(rows, nc * sizeof(*r));
            if (r == NULL) {
                snprintf(err, errlen, "%s: %s", what, strerror(ENOMEM));
                free(rows);
                return -ENOMEM;
            }
            rows = r;
            cap = nc;
        }
        rows[n].id = (uint32_t)id;
        memcpy(rows[n].name, t2 + 1, ml);
        rows[n].name[ml] = '\0';
        n++;
        p = eol != NULL ? eol + 1 : end;
    }
    if (n == 0) {
        snprintf(err, errlen, "%s: no protocol in the table", what);
        free(rows);
        return -EINVAL;
    }
    *out = rows;
    *n_out = n;
    return 0;
}

struct nid_map *
nid_parse(const char *buf, size_t len, const char *what, nid_name_fn name, void *ctx,
          uint16_t n_sender, char *err, size_t errlen)
{
    struct nid_row *rows;
    size_t n_rows;
    struct nid_map *m;

    if (parse_rows(buf, len, what, &rows, &n_rows, err, errlen) != 0)
        return NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL || (m->to = calloc(n_sender ? n_sender : 1, sizeof(*m->to))) == NULL) {
        snprintf(err, errlen, "%s: %s", what, strerror(ENOMEM));
        free(m);
        free(rows);
        return NULL;
    }
    m->n = n_sender;
    for (uint16_t i = 0; i < n_sender; i++) {
        const char *s = name(ctx, i);
        m->to[i] = NID_NONE;
        /* The first row with the name: the receiver's own names come before old aliases. */
        for (size_t r = 0; s != NULL && r < n_rows; r++)
            if (strcmp(rows[r].name, s) == 0) {
                m->to[i] = rows[r].id;
                break;
            }
        if (m->to[i] == NID_NONE)
            m->missing++;
        else if (m->to[i] != i)
            m->moved++;
    }
    free(rows);
    return m;
}

struct nid_map *
nid_load(const char *path, nid_name_fn name, void *ctx, uint16_t n_sender, char *err,
         size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    size_t len;
    struct nid_map *m;

    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(NID_MAX_FILE);
    if (buf == NULL) {
        fclose(fp);
        snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
        return NULL;
    }
    len = fread(buf, 1, NID_MAX_FILE, fp);
    if (ferror(fp) || (len == NID_MAX_FILE && fgetc(fp) != EOF)) {
        snprintf(err, errlen, "%s: %s", path,
                 ferror(fp) ? "read error" : "larger than 1 MiB, not an id table");
        fclose(fp);
        free(buf);
        return NULL;
    }
    fclose(fp);
    m = nid_parse(buf, len, path, name, ctx, n_sender, err, errlen);
    free(buf);
    return m;
}

void
nid_free(struct nid_map *m)
{
    if (m == NULL)
        return;
    free(m->to);
    free(m);
}

uint32_t
nid_translate(const struct nid_map *m, uint16_t id)
{
    return id < m->n ? m->to[id] : NID_NONE;
}

size_t
nid_n_missing(const struct nid_map *m)
{
    return m->missing;
}

size_t
nid_n_moved(const struct nid_map *m)
{
    return m->moved;
}
