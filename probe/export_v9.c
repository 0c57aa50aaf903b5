/*
 * export_v9.c - NetFlow v9 (RFC 3954) encoder.
 *
 * Templates are tables of (field id, length, value source) built once in nf9_new(); records
 * are written by walking them. Everything is big endian and fixed length. A packet is built in
 * place: the header is reserved first and written when the packet is finished, so its count
 * and sequence number are known.
 */
#include "export_v9.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h" /* plugin: struct exp_extra */
#include "clock.h"
#include "features.h"
#include "fields.h"
#include "sampling.h"

/* RFC 3954 field types of the options records (the data records' come from fields.def). */
enum {
    F_SAMPLING_INTERVAL = 34,
    F_SAMPLING_ALGORITHM = 35,
    F_TOTAL_BYTES_EXP = 40,
    F_TOTAL_PKTS_EXP = 41,
    F_TOTAL_FLOWS_EXP = 42,
    F_APPLICATION_DESCRIPTION = 94,
    F_APPLICATION_TAG = 95, /* applicationId */
    F_APPLICATION_NAME = 96,
    F_SYSTEM_INIT_MS = 160,
    F_IGNORED_PACKETS = 164,
    F_SELECTOR_OBSERVED = 318, /* IPFIX selectorIdTotalPktsObserved: v9 shares IANA's ids */
    F_SELECTOR_SELECTED = 319,
};

/* RFC 3954 options scope type System. */
#define SCOPE_SYSTEM 1

/* Fields of one template, at most (plugin elements included). */
#define NF9_MAX_FIELDS (128 + EXP_MAX_EXTRA)

/* One template field: what its value comes from. */
struct nf9_field {
    uint16_t id;
    uint16_t len;
    uint16_t src;
    uint16_t arg;
};

struct nf9_template {
    uint16_t id;
    uint16_t n_fields;
    uint16_t n_scope; /* options templates: the first n_scope fields are scope fields */
    uint16_t record_len;
    struct nf9_field f[NF9_MAX_FIELDS];
};

/* An application map entry: an nDPI protocol id and its names. */
struct nf9_app {
    uint16_t id;
    char name[NF9_APP_NAME_MAX];
    char desc[NF9_APP_DESC_MAX];
};

struct nf9_ctx {
    struct nf9_config cfg;
    struct nf9_template tmpl_v4, tmpl_v6, opt_stats, opt_sampling, opt_sampling_full, opt_apps;
    uint64_t boot_ms;
    bool boot_set;
    uint64_t last_refresh_ms;
    uint32_t sequence;
    uint32_t pkts_since_templates;
    uint64_t ignored_packets;
    uint64_t smp_observed, smp_selected; /* --sampling: the selectors' counters */
    uint64_t scaled[(FLD_COUNT + 63) / 64]; /* --sampling-upscale: counter rows times N */
    bool templates_due;
    bool options_due;
    /* application map: entries [app_next, n_apps) are still to be sent */
    struct nf9_app *apps;
    size_t n_apps;
    size_t app_next;
    /* the packet being built */
    uint8_t *buf, *end, *p;
    uint8_t *set;                    /* open data FlowSet, or NULL */
    const struct nf9_template *cur;  /* its template */
    uint64_t now_ms;
    bool open;
    bool pkt_templates;
    struct nf9_pkt_info pkt;
    struct nf9_stats st;
    uint16_t (*dir_map)[FLD_COUNT]; /* cfg.uniflow: fld_direction_map() of both directions */
    int pk_row;                     /* packetDeltaCount */
};

/* Where a field's value comes from. */
enum src {
    S_FIELD,       /* a catalogue field: arg = enum fld_id */
    S_EXTRA,       /* plugin: arg = index in cfg.extras */
    /* options records */
    S_SCOPE_SYSTEM,
    S_OPT_OCTETS,
    S_OPT_PACKETS,
    S_OPT_FLOWS,
    S_OPT_IGNORED,
    S_OPT_BOOT,
    S_OPT_SAMPLING_INTERVAL,
    S_OPT_SAMPLING_ALGORITHM,
    S_OPT_SMP_OBSERVED,
    S_OPT_SMP_SELECTED,
    S_TBL_ID,
    S_TBL_NAME,
    S_TBL_DESC,
};

static inline void
put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The low len octets of v, big endian; a value too large for len saturates (never wraps). */
static void
put_uint(uint8_t *p, uint64_t v, unsigned len)
{
    if (len < 8 && v > (UINT64_C(1) << (8 * len)) - 1)
        v = (UINT64_C(1) << (8 * len)) - 1;
    for (unsigned i = len; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

static void
put_double(uint8_t *p, double d)
{
    uint64_t u;

    memcpy(&u, &d, sizeof(u));
    put_uint(p, u, 8);
}

/* A fixed-length string field: the first min(len, cap) bytes up to the NUL, zero-padded. */
static void
put_str(uint8_t *p, const char *s, size_t cap, unsigned len)
{
    size_t n = s != NULL ? strnlen(s, cap < len ? cap : len) : 0;

    if (n > 0)
        memcpy(p, s, n);
    memset(p + n, 0, len - n);
}

static inline size_t
pad4(size_t n)
{
    return (4 - (n & 3)) & 3;
}

static void
add(struct nf9_template *t, uint16_t id, uint16_t len, enum src src, uint16_t arg)
{
    /* nf9_new() checks the count against NF9_MAX_FIELDS */
    if (t->n_fields < NF9_MAX_FIELDS)
        t->f[t->n_fields] = (struct nf9_field){.id = id, .len = len, .src = src, .arg = arg};
    t->n_fields++;
    t->record_len = (uint16_t)(t->record_len + len);
}

/* The configured length of a v9 string field (fields.def's FLD_V9_STRLEN rows). */
static uint16_t
str_len(const struct nf9_str_lengths *l, enum fld_id id)
{
    switch (id) {
    case FLD_ntop_l7_proto_name:
        return l->app_name;
    case FLD_application_category_name:
        return l->category;
    case FLD_ntop_tls_server_name:
        return l->server_name;
    case FLD_ntop_ja3c_hash:
        return l->ja3c;
    case FLD_ntop_ja3s_hash:
        return l->ja3s;
    case FLD_ntop_http_ua:
        return l->user_agent;
    case FLD_ntop_http_mime:
        return l->content_type;
    default:
        return 0; /* a new string row needs its length here: test_fields checks */
    }
}

/* The catalogue's v9 fields in template order (v9_rank), computed once. */
static size_t
v9_order(uint16_t *order)
{
    size_t n = 0;

    for (size_t i = 0; i < FLD_COUNT; i++)
        if (fld_defs[i].v9_id != 0)
            order[n++] = (uint16_t)i;
    /* insertion sort: a hundred rows, once per encoder; equal ranks (v4/v6 rows) keep order */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && fld_defs[order[j - 1]].v9_rank > fld_defs[order[j]].v9_rank;
             j--) {
            uint16_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    return n;
}

static void
build_data_template(struct nf9_template *t, uint16_t id, int ipv, const struct nf9_config *c,
                    const struct flow_layout *layout)
{
    uint16_t order[FLD_COUNT];
    size_t n = v9_order(order);
    /* v9 carries ntop's fields whatever --ntop-compat says (nProbe's ids are v9 ids) */
    uint32_t groups = fld_groups(layout) | FLD_G_NTOP | (ipv == 4 ? FLD_G_V4 : FLD_G_V6);

    memset(t, 0, sizeof(*t));
    t->id = id;
    for (size_t i = 0; i < n; i++) {
        const struct fld_def *d = &fld_defs[order[i]];
        if (!fld_enabled((enum fld_id)order[i], groups))
            continue;
        if (c->uniflow && fld_uniflow_skip((enum fld_id)order[i]))
            continue; /* a uniflow record carries its direction in the forward elements */
        uint16_t len = d->v9_len == FLD_V9_STRLEN ? str_len(&c->len, (enum fld_id)order[i])
                                                  : d->v9_len;
        add(t, d->v9_id, len, S_FIELD, order[i]);
    }
    for (size_t i = 0; i < c->n_extras; i++) /* plugin: the fixed-length ones */
        if (c->extras[i].v9_id != 0)
            add(t, c->extras[i].v9_id, c->extras[i].length, S_EXTRA, (uint16_t)i);
}

static void
build_options_templates(struct nf9_ctx *x, uint16_t base)
{
    const struct nf9_config *c = &x->cfg;
    struct nf9_template *t;

    t = &x->opt_stats;
    memset(t, 0, sizeof(*t));
    t->id = (uint16_t)(base + 2);
    add(t, SCOPE_SYSTEM, 4, S_SCOPE_SYSTEM, 0);
    t->n_scope = 1;
    add(t, F_TOTAL_BYTES_EXP, 8, S_OPT_OCTETS, 0);
    add(t, F_TOTAL_PKTS_EXP, 8, S_OPT_PACKETS, 0);
    add(t, F_TOTAL_FLOWS_EXP, 8, S_OPT_FLOWS, 0);
    add(t, F_IGNORED_PACKETS, 8, S_OPT_IGNORED, 0);
    add(t, F_SYSTEM_INIT_MS, 8, S_OPT_BOOT, 0);

    t = &x->opt_apps;
    memset(t, 0, sizeof(*t));
    if (c->layout.l7 && x->n_apps > 0) {
        t->id = (uint16_t)(base + 3);
        /* nfdump 1.7.1 ignores the scope and matches 95 as an ordinary field: any scope does */
        add(t, SCOPE_SYSTEM, 4, S_SCOPE_SYSTEM, 0);
        t->n_scope = 1;
        add(t, F_APPLICATION_TAG, NF9_APP_ID_LEN, S_TBL_ID, 0);
        add(t, F_APPLICATION_NAME, c->len.table_name, S_TBL_NAME, 0);
        add(t, F_APPLICATION_DESCRIPTION, c->len.table_desc, S_TBL_DESC, 0);
    }

    /* nfdump 1.7.1 ignores 34 when 35 is beside it: 34 alone in a template of its own, and
     * 34 with 35 and the selector's counters in another (tshark, Cisco-style collectors) */
    t = &x->opt_sampling;
    memset(t, 0, sizeof(*t));
    if (c->sampling_interval > 0) {
        t->id = (uint16_t)(base + 4);
        add(t, SCOPE_SYSTEM, 4, S_SCOPE_SYSTEM, 0);
        t->n_scope = 1;
        add(t, F_SAMPLING_INTERVAL, 4, S_OPT_SAMPLING_INTERVAL, 0);
    }
    t = &x->opt_sampling_full;
    memset(t, 0, sizeof(*t));
    if (c->sampling_interval > 0) {
        t->id = (uint16_t)(base + 5);
        add(t, SCOPE_SYSTEM, 4, S_SCOPE_SYSTEM, 0);
        t->n_scope = 1;
        add(t, F_SAMPLING_INTERVAL, 4, S_OPT_SAMPLING_INTERVAL, 0);
        add(t, F_SAMPLING_ALGORITHM, 1, S_OPT_SAMPLING_ALGORITHM, 0);
        add(t, F_SELECTOR_OBSERVED, 8, S_OPT_SMP_OBSERVED, 0);
        add(t, F_SELECTOR_SELECTED, 8, S_OPT_SMP_SELECTED, 0);
    }
}

void
nf9_config_defaults(struct nf9_config *c)
{
    memset(c, 0, sizeof(*c));
    c->source_id = 1;
    c->mtu = 1400;
    c->refresh_ms = 60000;
    c->refresh_packets = 20;
    c->template_id_base = NF9_MIN_DATA_SET_ID;
    c->pen = 32473;
    c->sampling_algorithm = 1;
    /* struct flow_l7's buffer sizes, so nothing NFStream reports is cut; JA3 is 32 hex */
    c->len = (struct nf9_str_lengths){
        .app_name = sizeof(((struct flow_l7 *)0)->application_name),
        .category = sizeof(((struct flow_l7 *)0)->category_name),
        .server_name = sizeof(((struct flow_l7 *)0)->requested_server_name),
        .ja3c = 32,
        .ja3s = 32,
        .user_agent = sizeof(((struct flow_l7 *)0)->user_agent),
        .content_type = sizeof(((struct flow_l7 *)0)->content_type),
        .table_name = NF9_APP_NAME_MAX,
        .table_desc = NF9_APP_DESC_MAX,
    };
}

/* Octets of a template record (id, count, fields), an options template set, an options set. */
static size_t
template_record_len(const struct nf9_template *t)
{
    return 4 + 4 * (size_t)t->n_fields;
}

static size_t
options_template_set_len(const struct nf9_template *t)
{
    size_t n = 4 + 6 + 4 * (size_t)t->n_fields;
    return n + pad4(n);
}

static size_t
set_len(const struct nf9_template *t, size_t records)
{
    size_t n = 4 + t->record_len * records;
    return n + pad4(n);
}

/* Octets of what a refresh writes: template set, options template sets, options data. */
static size_t
templates_len(const struct nf9_ctx *x)
{
    size_t n = 4 + template_record_len(&x->tmpl_v4) + template_record_len(&x->tmpl_v6);

    n += options_template_set_len(&x->opt_stats) + set_len(&x->opt_stats, 1);
    if (x->opt_sampling.id != 0)
        n += options_template_set_len(&x->opt_sampling) + set_len(&x->opt_sampling, 1) +
             options_template_set_len(&x->opt_sampling_full) +
             set_len(&x->opt_sampling_full, 1);
    if (x->opt_apps.id != 0)
        n += options_template_set_len(&x->opt_apps);
    return n;
}

struct nf9_ctx *
nf9_new(const struct nf9_config *c, char *err, size_t errlen)
{
    struct nf9_config d;
    struct nf9_ctx *x = calloc(1, sizeof(*x));

    if (x == NULL) {
        snprintf(err, errlen, "netflow v9: out of memory");
        return NULL;
    }
    nf9_config_defaults(&d);
    x->cfg = *c;
    struct nf9_str_lengths *l = &x->cfg.len;
#define DEFAULT_LEN(m)                                                                             \
    if (l->m == 0)                                                                                 \
        l->m = d.len.m;
    DEFAULT_LEN(app_name)
    DEFAULT_LEN(category)
    DEFAULT_LEN(server_name)
    DEFAULT_LEN(ja3c)
    DEFAULT_LEN(ja3s)
    DEFAULT_LEN(user_agent)
    DEFAULT_LEN(content_type)
    DEFAULT_LEN(table_name)
    DEFAULT_LEN(table_desc)
#undef DEFAULT_LEN
    if (x->cfg.mtu == 0)
        x->cfg.mtu = d.mtu;
    if (x->cfg.template_id_base == 0)
        x->cfg.template_id_base = NF9_MIN_DATA_SET_ID;
    if (x->cfg.sampling_algorithm == 0)
        x->cfg.sampling_algorithm = 1;

    if (x->cfg.template_id_base < NF9_MIN_DATA_SET_ID ||
        x->cfg.template_id_base > NF9_MAX_TEMPLATE_ID_BASE) {
        snprintf(err, errlen, "netflow v9: template id base %u out of range 256..%u",
                 (unsigned)x->cfg.template_id_base, NF9_MAX_TEMPLATE_ID_BASE);
        goto fail;
    }
    if (x->cfg.sampling_interval > 0 && x->cfg.sampling_algorithm > 2) {
        snprintf(err, errlen, "netflow v9: sampling algorithm %u is not 1 or 2",
                 (unsigned)x->cfg.sampling_algorithm);
        goto fail;
    }
    if (l->table_name > NF9_APP_NAME_MAX || l->table_desc > NF9_APP_DESC_MAX) {
        snprintf(err, errlen, "netflow v9: application map lengths %u/%u above %u/%u",
                 (unsigned)l->table_name, (unsigned)l->table_desc, NF9_APP_NAME_MAX,
                 NF9_APP_DESC_MAX);
        goto fail;
    }

    /* The configuration picks the ids, so a restart with other fields never reuses an id
     * that a collector still holds with the old layout. */
    const struct flow_layout *L = &x->cfg.layout;
    unsigned variant = (L->statistics ? 1u : 0u) | (L->tunnel_id ? 2u : 0u) | (L->l7 ? 4u : 0u);
    uint16_t base = (uint16_t)(x->cfg.template_id_base + 8 * variant);
    if (L->l7 && x->cfg.app_name != NULL && x->cfg.n_apps > 0) {
        if ((x->apps = calloc(x->cfg.n_apps, sizeof(*x->apps))) == NULL) {
            snprintf(err, errlen, "netflow v9: out of memory");
            goto fail;
        }
        for (uint16_t id = 0; id < x->cfg.n_apps; id++) {
            const char *name = x->cfg.app_name(x->cfg.app_ctx, id);
            struct nf9_app *a = &x->apps[x->n_apps++];
            a->id = id;
            snprintf(a->name, sizeof(a->name), "%s", name != NULL ? name : "");
            snprintf(a->desc, sizeof(a->desc), "nDPI %s", name != NULL ? name : "");
        }
    }
    x->cfg.app_name = NULL; /* read once: the map is ours now */
    x->cfg.app_ctx = NULL;
    x->cfg.layout.splt_n = 0; /* v9 has no lists: SPLT is not read */
    if (x->cfg.uniflow) {
        if ((x->dir_map = calloc(2, sizeof(*x->dir_map))) == NULL) {
            snprintf(err, errlen, "netflow v9: out of memory");
            goto fail;
        }
        /* never read a row this run's flows do not carry */
        uint32_t g = fld_groups(&x->cfg.layout) | FLD_G_NTOP | FLD_G_V4 | FLD_G_V6;
        fld_direction_map(FLOW_S2D, g, x->dir_map[0]);
        fld_direction_map(FLOW_D2S, g, x->dir_map[1]);
        x->pk_row = fld_by_ipfix("packetDeltaCount");
    }
    build_data_template(&x->tmpl_v4, base, 4, &x->cfg, &x->cfg.layout);
    build_data_template(&x->tmpl_v6, (uint16_t)(base + 1), 6, &x->cfg, &x->cfg.layout);
    build_options_templates(x, base);
    if (x->cfg.counter_scale > 1) /* by IPFIX element name: IN_BYTES is octetDeltaCount's row */
        for (unsigned id = 0; id < FLD_COUNT; id++)
            if (fld_defs[id].v9_id != 0 && smp_scaled_element(fld_defs[id].ipfix))
                x->scaled[id / 64] |= UINT64_C(1) << (id % 64);
    if (x->tmpl_v6.n_fields > NF9_MAX_FIELDS) {
        snprintf(err, errlen, "netflow v9: %u fields exceed the template limit %u",
                 (unsigned)x->tmpl_v6.n_fields, NF9_MAX_FIELDS);
        goto fail;
    }

    size_t rec = x->tmpl_v6.record_len > x->tmpl_v4.record_len ? x->tmpl_v6.record_len
                                                                  : x->tmpl_v4.record_len;
    size_t need_data = NF9_HEADER_LEN + set_len(&x->tmpl_v6, 1);
    size_t need_tmpl = NF9_HEADER_LEN + templates_len(x);
    size_t need_app = x->opt_apps.id != 0 ? NF9_HEADER_LEN + set_len(&x->opt_apps, 1) : 0;
    size_t need = need_data > need_tmpl ? need_data : need_tmpl;
    need = need > need_app ? need : need_app;
    if (x->cfg.mtu > 65535 || need > x->cfg.mtu) {
        snprintf(err, errlen,
                 "netflow v9: mtu %u out of range (a %zu-octet record needs %zu, the templates "
                 "%zu, at most 65535)",
                 (unsigned)x->cfg.mtu, rec, need_data, need_tmpl);
        goto fail;
    }

    x->boot_ms = x->cfg.boot_ms;
    x->boot_set = x->cfg.boot_ms != 0;
    nf9_force_templates(x);
    return x;
fail:
    nf9_free(x);
    return NULL;
}

void
nf9_free(struct nf9_ctx *x)
{
    if (x == NULL)
        return;
    free(x->apps);
    free(x->dir_map);
    free(x);
}

void
nf9_force_templates(struct nf9_ctx *x)
{
    x->templates_due = true;
    x->options_due = true;
    x->app_next = 0;
}

void
nf9_restart(struct nf9_ctx *x)
{
    x->sequence = 0;
    x->pkts_since_templates = 0;
    nf9_force_templates(x);
}

void
nf9_options_due(struct nf9_ctx *x)
{
    x->options_due = true;
}

void
nf9_set_ignored_packets(struct nf9_ctx *x, uint64_t packets)
{
    x->ignored_packets = packets;
}

void
nf9_set_sampling_counters(struct nf9_ctx *x, uint64_t observed, uint64_t selected)
{
    x->smp_observed = observed;
    x->smp_selected = selected;
}

static bool
time_refresh_due(const struct nf9_ctx *x, uint64_t now_ms)
{
    return x->cfg.refresh_ms != 0 &&
           (now_ms < x->last_refresh_ms || now_ms - x->last_refresh_ms >= x->cfg.refresh_ms);
}

static bool
packet_refresh_due(const struct nf9_ctx *x)
{
    return x->cfg.refresh_packets != 0 && x->pkts_since_templates >= x->cfg.refresh_packets;
}

static bool
apps_pending(const struct nf9_ctx *x)
{
    return x->opt_apps.id != 0 && x->app_next < x->n_apps;
}

bool
nf9_pending(const struct nf9_ctx *x, uint64_t now_ms)
{
    return x->templates_due || x->options_due || apps_pending(x) || time_refresh_due(x, now_ms);
}

void
nf9_stats(const struct nf9_ctx *x, struct nf9_stats *out)
{
    *out = x->st;
}

const struct nf9_config *
nf9_config(const struct nf9_ctx *x)
{
    return &x->cfg;
}

uint64_t
nf9_boot_ms(const struct nf9_ctx *x)
{
    return x->boot_set ? x->boot_ms : 0;
}

uint16_t
nf9_template_id(const struct nf9_ctx *x, int ip_version)
{
    return ip_version == 6 ? x->tmpl_v6.id : x->tmpl_v4.id;
}

/* Writes catalogue field id of f at p, len octets: numbers big endian (saturated, signed ones
 * two's complement), strings NUL-padded or cut. */
static void
put_field(const struct nf9_ctx *x, enum fld_id id, const struct flow *f, uint8_t *p, unsigned len)
{
    union fld_value v;

    fld_get(id, &x->cfg.layout, f, &v);
    switch (fld_defs[id].type) {
    case FLD_T_U64:
        if (x->scaled[id / 64] >> (id % 64) & 1)
            v.u = smp_scale(v.u, x->cfg.counter_scale);
        put_uint(p, v.u, len);
        break;
    case FLD_T_I64:
        put_uint(p, len < 8 ? (uint64_t)v.i & ((UINT64_C(1) << (8 * len)) - 1) : (uint64_t)v.i,
                 len);
        break;
    case FLD_T_F64:
        put_double(p, v.d);
        break;
    case FLD_T_STR:
        put_str(p, v.s, len, len);
        break;
    case FLD_T_IP:
    case FLD_T_MAC:
        memcpy(p, v.b, len);
        break;
    case FLD_T_APPID:
        p[0] = NF9_APP_ENGINE_PANA_L7_PEN;
        put_be32(p + 1, x->cfg.pen);
        put_be16(p + 5, (uint16_t)v.u);
        break;
    default: /* OUI, lists: not v9 fields */
        memset(p, 0, len);
        break;
    }
}

/* Writes one flow record of template t at p (t->record_len octets); map (uniflow: the row each
 * field reads, NULL = its own). */
static void
write_flow(const struct nf9_ctx *x, const struct nf9_template *t, const struct flow *f, uint8_t *p,
           const uint16_t *map)
{
    for (unsigned i = 0; i < t->n_fields; i++) {
        const struct nf9_field *fd = &t->f[i];
        unsigned len = fd->len;
        switch ((enum src)fd->src) {
        case S_FIELD:
            put_field(x, (enum fld_id)(map != NULL ? map[fd->arg] : fd->arg), f, p, len);
            break;
        case S_EXTRA: { /* plugin: network order; a shorter string is NUL-padded */
            const struct exp_extra *xe = &x->cfg.extras[fd->arg];
            size_t n = xe->encode(xe->ctx, f, p, len);
            memset(p + n, 0, len - n);
            break;
        }
        default:
            memset(p, 0, len);
            break;
        }
        p += len;
    }
}

/* Writes one options record of t at p; app is the map entry for the application map. */
static void
write_option(const struct nf9_ctx *x, const struct nf9_template *t, const struct nf9_app *app,
             uint8_t *p)
{
    for (unsigned i = 0; i < t->n_fields; i++) {
        const struct nf9_field *fd = &t->f[i];
        unsigned len = fd->len;
        switch ((enum src)fd->src) {
        case S_SCOPE_SYSTEM:
            put_uint(p, x->cfg.source_id, len);
            break;
        case S_OPT_OCTETS:
            put_uint(p, x->st.octets, len);
            break;
        case S_OPT_PACKETS:
            put_uint(p, x->st.packets, len);
            break;
        case S_OPT_FLOWS:
            put_uint(p, x->st.flow_records, len);
            break;
        case S_OPT_IGNORED:
            put_uint(p, x->ignored_packets, len);
            break;
        case S_OPT_BOOT:
            put_uint(p, x->boot_ms, len);
            break;
        case S_OPT_SAMPLING_INTERVAL:
            put_uint(p, x->cfg.sampling_interval, len);
            break;
        case S_OPT_SAMPLING_ALGORITHM:
            put_uint(p, x->cfg.sampling_algorithm, len);
            break;
        case S_OPT_SMP_OBSERVED:
            put_uint(p, x->smp_observed, len);
            break;
        case S_OPT_SMP_SELECTED:
            put_uint(p, x->smp_selected, len);
            break;
        case S_TBL_ID:
            p[0] = NF9_APP_ENGINE_PANA_L7_PEN;
            put_be32(p + 1, x->cfg.pen);
            put_be16(p + 5, app->id);
            break;
        /* nfdump overwrites the last octet with a NUL: keep it one */
        case S_TBL_NAME:
            put_str(p, app->name, len - 1u, len);
            break;
        case S_TBL_DESC:
            put_str(p, app->desc, len - 1u, len);
            break;
        default:
            memset(p, 0, len);
            break;
        }
        p += len;
    }
}

static uint8_t *
write_template_record(uint8_t *p, const struct nf9_template *t)
{
    put_be16(p, t->id);
    put_be16(p + 2, t->n_fields);
    p += 4;
    for (unsigned i = 0; i < t->n_fields; i++, p += 4) {
        put_be16(p, t->f[i].id);
        put_be16(p + 2, t->f[i].len);
    }
    return p;
}

/* Closes a FlowSet begun at set: zero padding to 4 octets, then its header. */
static uint8_t *
close_set(uint8_t *set, uint8_t *p, uint16_t set_id)
{
    size_t pad = pad4((size_t)(p - set));

    memset(p, 0, pad);
    p += pad;
    put_be16(set, set_id);
    put_be16(set + 2, (uint16_t)(p - set));
    return p;
}

/* Options template FlowSet holding one options template (scope fields first). */
static uint8_t *
write_options_template_set(uint8_t *p, const struct nf9_template *t)
{
    uint8_t *set = p;

    put_be16(p + 4, t->id);
    put_be16(p + 6, (uint16_t)(4 * t->n_scope));
    put_be16(p + 8, (uint16_t)(4 * (t->n_fields - t->n_scope)));
    p += 10;
    for (unsigned i = 0; i < t->n_fields; i++, p += 4) {
        put_be16(p, t->f[i].id);
        put_be16(p + 2, t->f[i].len);
    }
    return close_set(set, p, NF9_OPTIONS_TEMPLATE_SET_ID);
}

/* One options data set with one record of t. */
static void
write_option_set(struct nf9_ctx *x, const struct nf9_template *t)
{
    uint8_t *set = x->p;

    write_option(x, t, NULL, set + 4);
    x->p = close_set(set, set + 4 + t->record_len, t->id);
    x->pkt.records++;
    x->pkt.data_records++;
}

/* Closes the open data set, if any. */
static void
close_data_set(struct nf9_ctx *x)
{
    if (x->set != NULL)
        x->p = close_set(x->set, x->p, x->cur->id);
    x->set = NULL;
    x->cur = NULL;
}

/* Octets left once the open data set would be closed (its padding). */
static size_t
room(const struct nf9_ctx *x)
{
    size_t pad = x->set != NULL ? pad4((size_t)(x->p - x->set)) : 0;
    return (size_t)(x->end - x->p) - pad;
}

/*
 * Pending application map entries, as many as fit while keeping `keep` octets free: one
 * options set. Returns the number written.
 */
static size_t
write_apps(struct nf9_ctx *x, size_t keep)
{
    const struct nf9_template *t = &x->opt_apps;
    size_t r = 0;

    if (!apps_pending(x))
        return 0;
    close_data_set(x);
    size_t avail = (size_t)(x->end - x->p);
    while (x->app_next + r < x->n_apps && set_len(t, r + 1) + keep <= avail)
        r++;
    if (r == 0)
        return 0;
    uint8_t *set = x->p, *p = set + 4;
    for (size_t i = 0; i < r; i++, p += t->record_len)
        write_option(x, t, &x->apps[x->app_next + i], p);
    x->p = close_set(set, p, t->id);
    x->app_next += r;
    x->st.app_records += r;
    x->pkt.records += (uint32_t)r;
    x->pkt.data_records += (uint32_t)r;
    return r;
}

static void
choose_boot(struct nf9_ctx *x, uint64_t t)
{
    x->boot_ms = t > NF9_BOOT_MARGIN_MS ? t - NF9_BOOT_MARGIN_MS : 1;
    x->boot_set = true;
}

void
nf9_begin(struct nf9_ctx *x, uint64_t now_ms, uint8_t *buf, size_t cap)
{
    x->buf = buf;
    x->end = buf + cap;
    x->p = buf + NF9_HEADER_LEN;
    x->set = NULL;
    x->cur = NULL;
    x->now_ms = now_ms;
    x->open = true;
    x->pkt_templates = false;
    memset(&x->pkt, 0, sizeof(x->pkt));
    if (!x->boot_set)
        choose_boot(x, now_ms);
    if (time_refresh_due(x, now_ms))
        nf9_force_templates(x);
    if (packet_refresh_due(x)) {
        x->templates_due = true;
        x->options_due = true;
    }
    /* nf9_new() made sure all of this fits in mtu octets */
    if (x->templates_due && templates_len(x) <= (size_t)(x->end - x->p)) {
        uint8_t *set = x->p;
        uint8_t *p = write_template_record(set + 4, &x->tmpl_v4);
        p = write_template_record(p, &x->tmpl_v6);
        x->p = close_set(set, p, NF9_TEMPLATE_SET_ID);
        x->pkt.records += 2;
        x->p = write_options_template_set(x->p, &x->opt_stats);
        x->pkt.records++;
        if (x->opt_sampling.id != 0) {
            x->p = write_options_template_set(x->p, &x->opt_sampling);
            x->p = write_options_template_set(x->p, &x->opt_sampling_full);
            x->pkt.records += 2;
        }
        if (x->opt_apps.id != 0) {
            x->p = write_options_template_set(x->p, &x->opt_apps);
            x->pkt.records++;
        }
        x->templates_due = false;
        x->pkt_templates = true;
        x->last_refresh_ms = now_ms;
    }
    /* options data only with or after their templates */
    if (x->options_due && !x->templates_due) {
        size_t need = set_len(&x->opt_stats, 1) +
                      (x->opt_sampling.id != 0 ? set_len(&x->opt_sampling, 1) +
                                                     set_len(&x->opt_sampling_full, 1)
                                               : 0);
        if (need <= (size_t)(x->end - x->p)) {
            write_option_set(x, &x->opt_stats);
            if (x->opt_sampling.id != 0) {
                write_option_set(x, &x->opt_sampling);
                write_option_set(x, &x->opt_sampling_full);
            }
            x->options_due = false;
        }
    }
    if (!x->templates_due)
        write_apps(x, 0);
}

static int
add_rec(struct nf9_ctx *x, const struct flow *f, const uint16_t *map, bool count_flow)
{
    const struct nf9_template *t = f->key.ip_version == 6 ? &x->tmpl_v6 : &x->tmpl_v4;

    if (!x->open)
        return -EINVAL;
    if (x->templates_due)
        return -EMSGSIZE; /* the buffer was too small for the templates: no data before them */
    if (t != x->cur) {
        if (set_len(t, 1) > room(x))
            return -ENOSPC;
        close_data_set(x);
        x->set = x->p;
        x->p += 4;
        x->cur = t;
    } else {
        size_t used = (size_t)(x->p - x->set) + t->record_len;
        if (used + pad4(used) > (size_t)(x->end - x->set))
            return -ENOSPC;
    }
    write_flow(x, t, f, x->p, map);
    x->p += t->record_len;
    x->pkt.records++;
    x->pkt.data_records++;
    x->pkt.flows += count_flow;
    return 0;
}

int
nf9_add(struct nf9_ctx *x, const struct flow *f)
{
    return add_rec(x, f, NULL, true);
}

int
nf9_add_dir(struct nf9_ctx *x, const struct flow *f, int dir, bool last)
{
    if (x->dir_map == NULL)
        return -EINVAL;
    return add_rec(x, f, x->dir_map[dir != 0], last);
}

uint64_t
nf9_dir_packets(const struct nf9_ctx *x, const struct flow *f, int dir)
{
    union fld_value v = {.u = 1};

    if (x->dir_map != NULL && x->pk_row >= 0)
        fld_get((enum fld_id)x->dir_map[dir != 0][x->pk_row], &x->cfg.layout, f, &v);
    return v.u;
}

void
nf9_abort(struct nf9_ctx *x)
{
    x->open = false;
}

size_t
nf9_finish(struct nf9_ctx *x, struct nf9_pkt_info *info)
{
    if (!x->open)
        return 0;
    x->open = false;
    close_data_set(x);
    if (info != NULL)
        *info = x->pkt;
    if (x->pkt.records == 0)
        return 0;

    uint8_t *buf = x->buf;
    size_t len = (size_t)(x->p - buf);
    uint64_t up = x->now_ms > x->boot_ms ? x->now_ms - x->boot_ms : 0;
    put_be16(buf, NF9_VERSION);
    put_be16(buf + 2, (uint16_t)x->pkt.records);
    put_be32(buf + 4, (uint32_t)up);
    put_be32(buf + 8, (uint32_t)(x->now_ms / 1000));
    put_be32(buf + 12, x->sequence);
    put_be32(buf + 16, x->cfg.source_id);

    x->sequence++;
    x->st.packets++;
    x->st.octets += len;
    x->st.flow_records += x->pkt.flows;
    if (x->pkt_templates) {
        x->st.template_sends++;
        x->pkts_since_templates = 0;
    }
    x->pkts_since_templates++;
    return len;
}

size_t
nf9_encode(struct nf9_ctx *x, const struct flow *const *flows, size_t n, uint64_t now_ms,
           uint8_t *buf, size_t cap, size_t *n_done)
{
    size_t i = 0;

    *n_done = 0;
    if (cap < NF9_HEADER_LEN)
        return 0;
    if (!x->boot_set) {
        /* offline, the first flows tell the packet clock's start better than now */
        uint64_t t = now_ms;
        for (size_t k = 0; k < n; k++)
            if (flows[k]->dir[FLOW_BIDI].first_seen_ms < t)
                t = flows[k]->dir[FLOW_BIDI].first_seen_ms;
        choose_boot(x, t);
    }
    /* the packet-count refresh rides on packets sent anyway, it makes none by itself */
    if (n == 0 && !nf9_pending(x, now_ms))
        return 0;
    nf9_begin(x, now_ms, buf, cap);
    while (i < n && nf9_add(x, flows[i]) == 0)
        i++;
    *n_done = i;
    return nf9_finish(x, NULL);
}

/* ------------------------------------------------------------------ export.c's encoder */

/* One collector for export.c: the encoder, its message buffer, what the message carries. */
struct nf9_enc {
    struct exp_enc_params p;
    struct nf9_ctx *x;
    uint8_t *buf;
    struct exp_msg_info cur;
    uint64_t now_ms; /* header time: see enc_clock() */
};

/*
 * The packet header's time: export.c's clock (the wall clock, or its fixed export time), never
 * before a flow's end nor backwards, so sysUptime covers every exported flow.
 */
static void
enc_clock(struct nf9_enc *e, uint64_t t)
{
    uint64_t now;

    if (e->p.export_time_s != 0) {
        now = (uint64_t)e->p.export_time_s * 1000;
    } else {
        now = clk_wall_ms();
    }
    if (t > now)
        now = t;
    if (now > e->now_ms)
        e->now_ms = now;
}

/* Finishes the open packet and hands it to the sink; returns its length (0: none). */
static size_t
enc_emit(struct nf9_enc *e)
{
    struct nf9_pkt_info pi;
    size_t len = nf9_finish(e->x, &pi);

    if (len > 0) {
        e->cur.records = pi.data_records;
        e->cur.flows = pi.flows;
        e->p.sink(e->p.sink_ctx, e->buf, len, &e->cur);
    }
    memset(&e->cur, 0, sizeof(e->cur));
    return len;
}

static void
enc_free(void *enc)
{
    struct nf9_enc *e = enc;

    if (e == NULL)
        return;
    nf9_free(e->x);
    free(e->buf);
    free(e);
}

static void *
enc_open(const struct exp_enc_params *p, char *err, size_t errlen)
{
    struct nf9_enc *e = calloc(1, sizeof(*e));
    struct nf9_config c;

    if (e == NULL || (e->buf = malloc(p->max_msg > 0 ? p->max_msg : 1)) == NULL) {
        snprintf(err, errlen, "netflow v9: out of memory");
        enc_free(e);
        return NULL;
    }
    e->p = *p;
    nf9_config_defaults(&c);
    c.source_id = p->observation_domain;
    c.pen = p->pen;
    c.mtu = p->max_msg;
    c.refresh_ms = 0; /* export.c's timer calls refresh() */
    if (p->refresh_packets != 0)
        c.refresh_packets = p->refresh_packets;
    c.layout = p->layout;
    c.app_name = p->app_name;
    c.app_ctx = p->app_ctx;
    c.n_apps = p->n_apps;
    c.extras = p->extras; /* plugin */
    c.n_extras = p->n_extras;
    if (p->sampling.interval > 0) {
        c.sampling_interval = p->sampling.interval;
        c.sampling_algorithm = p->sampling.v9_mode;
        c.counter_scale = p->sampling.upscale;
    }
    c.uniflow = p->uniflow;
    if ((e->x = nf9_new(&c, err, errlen)) == NULL) {
        enc_free(e);
        return NULL;
    }
    return e;
}

/* Sends what is due now (templates, options, map) in packets of their own. */
static int
enc_send_due(struct nf9_enc *e)
{
    enc_emit(e);
    while (nf9_pending(e->x, e->now_ms)) {
        nf9_begin(e->x, e->now_ms, e->buf, e->p.max_msg);
        if (!e->x->pkt.records) {
            nf9_abort(e->x);
            return -EMSGSIZE;
        }
        enc_emit(e);
    }
    return 0;
}

static int
enc_session(void *enc, const struct exp_opt_data *od)
{
    struct nf9_enc *e = enc;

    enc_clock(e, od->now_ms);
    nf9_abort(e->x);
    memset(&e->cur, 0, sizeof(e->cur));
    nf9_restart(e->x);
    nf9_set_ignored_packets(e->x, od->ignored_packets);
    nf9_set_sampling_counters(e->x, od->smp_observed, od->smp_selected);
    return enc_send_due(e);
}

static int
enc_refresh(void *enc, const struct exp_opt_data *od)
{
    struct nf9_enc *e = enc;

    enc_clock(e, od->now_ms);
    nf9_set_ignored_packets(e->x, od->ignored_packets);
    nf9_set_sampling_counters(e->x, od->smp_observed, od->smp_selected);
    enc_emit(e);
    nf9_force_templates(e->x);
    return enc_send_due(e);
}

static int
enc_options(void *enc, const struct exp_opt_data *od)
{
    struct nf9_enc *e = enc;

    enc_clock(e, od->now_ms);
    nf9_set_ignored_packets(e->x, od->ignored_packets);
    nf9_set_sampling_counters(e->x, od->smp_observed, od->smp_selected);
    enc_emit(e);
    nf9_options_due(e->x);
    return enc_send_due(e);
}

static int
enc_flow(void *enc, const struct flow *f)
{
    struct nf9_enc *e = enc;

    enc_clock(e, f->dir[FLOW_BIDI].last_seen_ms);
    /* --uniflow: a record per direction that saw packets (dir 0, 1), else the biflow (-1) */
    int dirs[2], n = 0;
    if (e->p.uniflow) {
        for (int d = 0; d < 2; d++)
            if (nf9_dir_packets(e->x, f, d) > 0)
                dirs[n++] = d;
    } else {
        dirs[n++] = -1;
    }
    for (int k = 0; k < n; k++) {
        /* a full packet goes out and the flow starts the next one (after what is due there:
         * templates, options, map entries, which may take a packet of their own) */
        for (;;) {
            if (!e->x->open)
                nf9_begin(e->x, e->now_ms, e->buf, e->p.max_msg);
            int rc = dirs[k] < 0 ? nf9_add(e->x, f) : nf9_add_dir(e->x, f, dirs[k], k == n - 1);
            if (rc == 0)
                break;
            if (rc != -ENOSPC || enc_emit(e) == 0)
                return -EMSGSIZE; /* not reached: nf9_new() checked that a record fits */
        }
    }
    e->cur.packets += f->dir[FLOW_BIDI].packets;
    e->cur.octets += f->dir[FLOW_BIDI].bytes;
    return 0;
}

static int
enc_flush(void *enc)
{
    enc_emit(enc);
    return 0;
}

static void
enc_discard(void *enc, struct exp_msg_info *lost)
{
    struct nf9_enc *e = enc;

    if (lost != NULL) {
        *lost = e->cur;
        lost->records = e->x->open ? e->x->pkt.data_records : 0;
        lost->flows = e->x->open ? e->x->pkt.flows : 0;
    }
    nf9_abort(e->x);
    memset(&e->cur, 0, sizeof(e->cur));
}

static bool
enc_partial(const void *enc)
{
    const struct nf9_enc *e = enc;

    return e->x->open && e->x->pkt.records > 0;
}

const struct exp_encoder_ops nf9_encoder_ops = {
    .scheme = "v9",
    .open = enc_open,
    .free = enc_free,
    .session = enc_session,
    .refresh = enc_refresh,
    .options = enc_options,
    .flow = enc_flow,
    .flush = enc_flush,
    .discard = enc_discard,
    .partial = enc_partial,
};
