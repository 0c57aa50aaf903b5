/*
 * fields.c - the catalogue's table (from fields.def) and the lookups over it.
 */
#include "fields.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "nfprobe/plugin.h" /* the plugin API ids of the rows */

const struct fld_def fld_defs[FLD_COUNT] = {
#define FLD(name, col, type, groups, get, ie, ilen, irank, v9, v9len, v9rank, ntop, plg)      \
    [FLD_##name] = {#name, col, FLD_T_##type, groups, ie, ilen, irank, v9, v9len, v9rank, ntop, \
                    plg},
#include "fields.def"
#undef FLD
};

uint32_t
fld_groups(const struct flow_layout *L)
{
    return (L->tunnel_id ? FLD_G_TUNNEL : 0u) | (L->statistics ? FLD_G_STATS : 0u) |
           (L->splt_n > 0 ? FLD_G_SPLT : 0u) | (L->l7 ? FLD_G_L7 : 0u) |
           (L->router ? FLD_G_ROUTER : 0u) | L->enrich;
}

size_t
fld_columns(uint32_t groups, uint16_t *out)
{
    size_t n = 0;

    groups |= FLD_G_V4 | FLD_G_V6; /* a column is one for both families */
    for (size_t i = 0; i < FLD_COUNT; i++)
        if (fld_defs[i].column != NULL && fld_enabled((enum fld_id)i, groups))
            out[n++] = (uint16_t)i;
    return n;
}

int
fld_by_column(const char *name, size_t n)
{
    for (size_t i = 0; i < FLD_COUNT; i++) {
        const char *c = fld_defs[i].column != NULL ? fld_defs[i].column : fld_defs[i].name;
        if (strlen(c) == n && memcmp(c, name, n) == 0)
            return (int)i;
    }
    return -1;
}

int
fld_by_ipfix(const char *element)
{
    for (size_t i = 0; i < FLD_COUNT; i++)
        if (fld_defs[i].ipfix != NULL && strcmp(fld_defs[i].ipfix, element) == 0)
            return (int)i;
    return -1;
}

const uint16_t fld_plugin_index[FLD_PLUGIN_ID_MAX + FLD_COUNT] = {
#define FLD(name, col, type, groups, get, ie, ilen, irank, v9, v9len, v9rank, ntop, plg)      \
    [(plg) != FLD_NO_PLUGIN_ID ? (plg) : FLD_PLUGIN_ID_MAX + FLD_##name] = FLD_##name + 1,
#include "fields.def"
#undef FLD
};

void
fld_list(FILE *out, const uint32_t *ipfix_pens, const uint16_t *ipfix_ids)
{
    char g[64];

    fprintf(out, "%-28s %-28s %-36s %6s %6s %6s %6s  %s\n", "field", "column", "ipfix element",
            "pen", "id", "v9", "ntop", "enabled by");
    for (size_t i = 0; i < FLD_COUNT; i++) {
        const struct fld_def *d = &fld_defs[i];
        char pen[16] = "-", id[16] = "-", v9[16] = "-", ntop[16] = "-";
        if (d->ipfix != NULL && ipfix_pens != NULL && ipfix_ids != NULL) {
            snprintf(pen, sizeof(pen), "%u", (unsigned)ipfix_pens[i]);
            snprintf(id, sizeof(id), "%u", (unsigned)ipfix_ids[i]);
        }
        if (d->v9_id != 0)
            snprintf(v9, sizeof(v9), "%u", (unsigned)d->v9_id);
        if (d->ntop_id != 0)
            snprintf(ntop, sizeof(ntop), "%u", (unsigned)d->ntop_id);
        fprintf(out, "%-28s %-28s %-36s %6s %6s %6s %6s  %s\n", d->name,
                d->column != NULL ? d->column : "-", d->ipfix != NULL ? d->ipfix : "-", pen, id,
                v9, ntop, fld_groups_text(d->groups, g, sizeof(g)));
    }
}

const char *
fld_groups_text(uint32_t groups, char *buf, size_t len)
{
    static const char *const names[] = {"ipv4", "ipv6", "tunnel", "stats", "splt", "l7", "ntop",
                                        "as",   "prefix", "route", "direction", "export"};
    size_t o = 0;

    buf[0] = '\0';
    for (size_t b = 0; b < sizeof(names) / sizeof(names[0]); b++)
        if (groups & (1u << b)) {
            int n = snprintf(buf + o, len - o, "%s%s", o > 0 ? "+" : "", names[b]);
            if (n < 0 || (size_t)n >= len - o)
                break;
            o += (size_t)n;
        }
    if (o == 0)
        snprintf(buf, len, "always");
    return buf;
}

/* ------------------------------------------------------------------ directions */

/* Biflow elements whose direction's value lives in a row of its own (by row name). */
static const struct {
    const char *element, *fwd, *rev;
} dir_rows[] = {
    {"flowStartMilliseconds", "src2dst_first_seen_ms", "dst2src_first_seen_ms"},
    {"flowEndMilliseconds", "src2dst_last_seen_ms", "dst2src_last_seen_ms"},
    {"flowDurationMilliseconds", "src2dst_duration_ms", "dst2src_duration_ms"},
    {"tcpControlBits", "src2dst_tcp_flags", "dst2src_tcp_flags"},
};

/* Pairs swapped by name for the reverse direction, both spellings of each word. */
static const char *const swap_words[][2] = {
    {"source", "destination"}, {"Source", "Destination"}, {"ingress", "egress"},
    {"Ingress", "Egress"},     {"src2dst", "dst2src"},     {"src_", "dst_"},
};

static int
row_by_name(const char *name)
{
    for (size_t i = 0; i < FLD_COUNT; i++)
        if (strcmp(fld_defs[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* s with its first swap word replaced by the partner, into out; false when none occurs. */
static bool
swapped(const char *s, char *out, size_t len)
{
    for (size_t w = 0; w < sizeof(swap_words) / sizeof(swap_words[0]); w++)
        for (int side = 0; side < 2; side++) {
            const char *from = swap_words[w][side], *to = swap_words[w][!side];
            const char *at = strstr(s, from);
            if (at == NULL)
                continue;
            int n = snprintf(out, len, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
            return n > 0 && (size_t)n < len;
        }
    return false;
}

/* Row b can stand for row a in a run with groups: it exists there and holds the same type. */
static bool
same_type(size_t a, int b, uint32_t groups)
{
    return b >= 0 && fld_defs[a].type == fld_defs[b].type && fld_enabled((enum fld_id)b, groups);
}

void
fld_direction_map(int dir, uint32_t groups, uint16_t map[FLD_COUNT])
{
    char name[128];

    for (size_t i = 0; i < FLD_COUNT; i++) {
        const struct fld_def *d = &fld_defs[i];
        int src = -1;
        map[i] = (uint16_t)i;
        for (size_t k = 0; k < sizeof(dir_rows) / sizeof(dir_rows[0]) && d->ipfix != NULL; k++)
            if (strcmp(d->ipfix, dir_rows[k].element) == 0)
                src = row_by_name(dir == FLOW_D2S ? dir_rows[k].rev : dir_rows[k].fwd);
        if (same_type(i, src, groups)) {
            map[i] = (uint16_t)src;
            continue;
        }
        if (dir != FLOW_D2S)
            continue;
        if (d->ipfix != NULL) {
            int n = snprintf(name, sizeof(name), "reverse%c%s", toupper((unsigned char)d->ipfix[0]),
                             d->ipfix + 1);
            if (n > 0 && (size_t)n < sizeof(name) &&
                same_type(i, src = fld_by_ipfix(name), groups)) {
                map[i] = (uint16_t)src;
                continue;
            }
            if (swapped(d->ipfix, name, sizeof(name)) &&
                same_type(i, src = fld_by_ipfix(name), groups)) {
                map[i] = (uint16_t)src;
                continue;
            }
        }
        if (swapped(d->name, name, sizeof(name)) && same_type(i, src = row_by_name(name), groups))
            map[i] = (uint16_t)src;
    }
}

bool
fld_uniflow_skip(enum fld_id id)
{
    const struct fld_def *d = &fld_defs[id];

    if (d->ipfix != NULL)
        return strncmp(d->ipfix, "reverse", 7) == 0 || strcmp(d->ipfix, "biflowDirection") == 0;
    return strncmp(d->name, "dst2src_", 8) == 0;
}
