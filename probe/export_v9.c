/*
 * export_v9.c - NetFlow v9 (RFC 3954) encoder.
 *
 * Templates are tables of (field id, length, value source) built once in nf9_init(); records
 * are written by walking them. Everything is big endian and fixed length.
 */
#include "export_v9.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "features.h"

/* RFC 3954 field types used by name below. */
enum {
    F_IN_BYTES = 1,
    F_IN_PKTS = 2,
    F_PROTOCOL = 4,
    F_TCP_FLAGS = 6,
    F_L4_SRC_PORT = 7,
    F_IPV4_SRC_ADDR = 8,
    F_L4_DST_PORT = 11,
    F_IPV4_DST_ADDR = 12,
    F_OUT_BYTES = 23,
    F_OUT_PKTS = 24,
    F_MIN_LENGTH = 25, /* minimumIpTotalLength */
    F_MAX_LENGTH = 26, /* maximumIpTotalLength */
    F_IPV6_SRC_ADDR = 27,
    F_IPV6_DST_ADDR = 28,
    F_SAMPLING_INTERVAL = 34,
    F_SAMPLING_ALGORITHM = 35,
    F_TOTAL_BYTES_EXP = 40,
    F_TOTAL_PKTS_EXP = 41,
    F_TOTAL_FLOWS_EXP = 42,
    F_IN_SRC_MAC = 56,
    F_SRC_VLAN = 58,
    F_IP_PROTOCOL_VERSION = 60,
    F_IN_DST_MAC = 80,
    F_APPLICATION_DESCRIPTION = 94,
    F_APPLICATION_TAG = 95, /* applicationId */
    F_APPLICATION_NAME = 96,
    F_FLOW_END_REASON = 136,
    F_FLOW_START_MS = 152,
    F_FLOW_END_MS = 153,
    F_SYSTEM_INIT_MS = 160,
    F_FLOW_DURATION_MS = 161,
    F_IGNORED_PACKETS = 164,
    F_BIFLOW_DIRECTION = 239,
    F_APPLICATION_CATEGORY_NAME = 372,
    F_TCP_SYN_TOTAL = 218,
    F_TCP_FIN_TOTAL = 219,
    F_TCP_RST_TOTAL = 220,
    F_TCP_PSH_TOTAL = 221,
    F_TCP_ACK_TOTAL = 222,
    F_TCP_URG_TOTAL = 223,
    /* ntop (nProbe) v9 ids: 57472 + ntop's IPFIX id */
    F_NTOP_CLIENT_TCP_FLAGS = 57550,
    F_NTOP_SERVER_TCP_FLAGS = 57551,
    F_NTOP_L7_PROTO = 57590,
    F_NTOP_L7_PROTO_NAME = 57591,
    F_NTOP_HTTP_UA = 57655,
    F_NTOP_HTTP_MIME = 57656,
    F_NTOP_TLS_SERVER_NAME = 57660,
    F_NTOP_JA3C_HASH = 57961,
    F_NTOP_JA3S_HASH = 57962,
    F_NTOP_L7_CONFIDENCE = 58032,
    /* our own */
    F_C_DIR_FIRST = NF9_CUSTOM_BASE + 0, /* + 2 * (dir - 1) */
    F_C_DIR_LAST = NF9_CUSTOM_BASE + 1,
    F_C_EXPIRATION_ID = NF9_CUSTOM_BASE + 4,
    F_C_TUNNEL_ID = NF9_CUSTOM_BASE + 5,
    F_C_FLOW_ID = NF9_CUSTOM_BASE + 6, /* not 148: nfdump reads v9 148 as an ASA connection id */
    F_C_STATS = NF9_CUSTOM_BASE + 16, /* + 16 * dir + k */
    F_C_L7_MASTER = NF9_CUSTOM_BASE + 64,
    F_C_L7_CATEGORY_ID = NF9_CUSTOM_BASE + 65,
    F_C_L7_GUESSED = NF9_CUSTOM_BASE + 66,
};

/* RFC 3954 options scope type System. */
#define SCOPE_SYSTEM 1

/* Where a field's value comes from. */
enum src {
    S_FLOW_ID,
    S_FIRST,       /* arg = direction */
    S_LAST,        /* arg = direction */
    S_BYTES,       /* arg = direction */
    S_PACKETS,     /* arg = direction */
    S_SRC_ADDR4,
    S_DST_ADDR4,
    S_SRC_ADDR6,
    S_DST_ADDR6,
    S_SRC_PORT,
    S_DST_PORT,
    S_PROTOCOL,
    S_TCP_FLAGS,   /* arg = direction */
    S_IP_VERSION,
    S_END_REASON,
    S_BIFLOW_DIRECTION,
    S_SRC_MAC,
    S_DST_MAC,
    S_VLAN,
    S_DURATION,
    S_EXPIRATION_ID,
    S_TUNNEL_ID,
    S_STAT,        /* arg = 16 * direction + k */
    S_APP_TAG,
    S_L7_APP,
    S_L7_MASTER,
    S_L7_CATEGORY_ID,
    S_L7_APP_NAME,
    S_L7_CATEGORY_NAME,
    S_L7_GUESSED,
    S_L7_CONFIDENCE,
    S_L7_SERVER_NAME,
    S_L7_JA3C,
    S_L7_JA3S,
    S_L7_USER_AGENT,
    S_L7_CONTENT_TYPE,
    /* options records */
    S_SCOPE_SYSTEM,
    S_OPT_OCTETS,
    S_OPT_PACKETS,
    S_OPT_FLOWS,
    S_OPT_IGNORED,
    S_OPT_BOOT,
    S_OPT_SAMPLING_INTERVAL,
    S_OPT_SAMPLING_ALGORITHM,
    S_TBL_ID,
    S_TBL_NAME,
    S_TBL_DESC,
};

/* Statistics field k of a direction. */
enum {
    K_MIN_PS,
    K_MAX_PS,
    K_MEAN_PS,
    K_STDDEV_PS,
    K_MIN_PIAT,
    K_MAX_PIAT,
    K_MEAN_PIAT,
    K_STDDEV_PIAT,
    K_FLAGS, /* 8 counts in flow_stats.flag_count order: syn cwr ece urg ack psh rst fin */
    K_PER_DIR = K_FLAGS + 8,
};

/* Bidirectional statistics with an IANA id (0 = custom id). */
static const uint16_t bidi_iana[K_PER_DIR] = {
    [K_MIN_PS] = F_MIN_LENGTH,         [K_MAX_PS] = F_MAX_LENGTH,
    [K_FLAGS + 0] = F_TCP_SYN_TOTAL,   [K_FLAGS + 3] = F_TCP_URG_TOTAL,
    [K_FLAGS + 4] = F_TCP_ACK_TOTAL,   [K_FLAGS + 5] = F_TCP_PSH_TOTAL,
    [K_FLAGS + 6] = F_TCP_RST_TOTAL,   [K_FLAGS + 7] = F_TCP_FIN_TOTAL,
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
    /* nf9_init() sizes every template far below NF9_MAX_FIELDS; checked there anyway. */
    if (t->n_fields < NF9_MAX_FIELDS)
        t->f[t->n_fields] = (struct nf9_field){.id = id, .len = len, .src = src, .arg = arg};
    t->n_fields++;
    t->record_len += len;
}

static void
build_data_template(struct nf9_template *t, uint16_t id, int ipv, const struct nf9_config *c)
{
    memset(t, 0, sizeof(*t));
    t->id = id;
    add(t, F_C_FLOW_ID, 8, S_FLOW_ID, 0);
    add(t, F_FLOW_START_MS, 8, S_FIRST, FLOW_BIDI);
    add(t, F_FLOW_END_MS, 8, S_LAST, FLOW_BIDI);
    add(t, F_IN_BYTES, 8, S_BYTES, FLOW_S2D);
    add(t, F_IN_PKTS, 8, S_PACKETS, FLOW_S2D);
    add(t, F_OUT_BYTES, 8, S_BYTES, FLOW_D2S);
    add(t, F_OUT_PKTS, 8, S_PACKETS, FLOW_D2S);
    if (ipv == 4) {
        add(t, F_IPV4_SRC_ADDR, 4, S_SRC_ADDR4, 0);
        add(t, F_IPV4_DST_ADDR, 4, S_DST_ADDR4, 0);
    } else {
        add(t, F_IPV6_SRC_ADDR, 16, S_SRC_ADDR6, 0);
        add(t, F_IPV6_DST_ADDR, 16, S_DST_ADDR6, 0);
    }
    add(t, F_L4_SRC_PORT, 2, S_SRC_PORT, 0);
    add(t, F_L4_DST_PORT, 2, S_DST_PORT, 0);
    add(t, F_PROTOCOL, 1, S_PROTOCOL, 0);
    add(t, F_TCP_FLAGS, 1, S_TCP_FLAGS, FLOW_BIDI);
    add(t, F_IP_PROTOCOL_VERSION, 1, S_IP_VERSION, 0);
    add(t, F_FLOW_END_REASON, 1, S_END_REASON, 0);
    add(t, F_BIFLOW_DIRECTION, 1, S_BIFLOW_DIRECTION, 0);
    add(t, F_IN_SRC_MAC, 6, S_SRC_MAC, 0);
    add(t, F_IN_DST_MAC, 6, S_DST_MAC, 0);
    add(t, F_SRC_VLAN, 2, S_VLAN, 0);
    add(t, F_FLOW_DURATION_MS, 4, S_DURATION, 0);
    add(t, F_NTOP_CLIENT_TCP_FLAGS, 1, S_TCP_FLAGS, FLOW_S2D);
    add(t, F_NTOP_SERVER_TCP_FLAGS, 1, S_TCP_FLAGS, FLOW_D2S);
    for (uint16_t d = FLOW_S2D; d <= FLOW_D2S; d++) {
        add(t, (uint16_t)(F_C_DIR_FIRST + 2 * (d - 1)), 8, S_FIRST, d);
        add(t, (uint16_t)(F_C_DIR_LAST + 2 * (d - 1)), 8, S_LAST, d);
    }
    add(t, F_C_EXPIRATION_ID, 1, S_EXPIRATION_ID, 0);
    if (c->tunnel_id)
        add(t, F_C_TUNNEL_ID, 1, S_TUNNEL_ID, 0);
    if (c->statistics) {
        static const uint8_t klen[K_PER_DIR] = {2, 2, 8, 8, 8, 8, 8, 8, 4, 4, 4, 4, 4, 4, 4, 4};
        for (uint16_t d = 0; d < 3; d++)
            for (uint16_t k = 0; k < K_PER_DIR; k++) {
                uint16_t fid = (uint16_t)(F_C_STATS + K_PER_DIR * d + k);
                if (d == FLOW_BIDI && bidi_iana[k] != 0)
                    fid = bidi_iana[k];
                add(t, fid, klen[k], S_STAT, (uint16_t)(K_PER_DIR * d + k));
            }
    }
    if (c->l7) {
        add(t, F_APPLICATION_TAG, NF9_APP_ID_LEN, S_APP_TAG, 0);
        add(t, F_NTOP_L7_PROTO, 2, S_L7_APP, 0);
        add(t, F_C_L7_MASTER, 2, S_L7_MASTER, 0);
        add(t, F_C_L7_CATEGORY_ID, 2, S_L7_CATEGORY_ID, 0);
        add(t, F_NTOP_L7_PROTO_NAME, c->len.app_name, S_L7_APP_NAME, 0);
        add(t, F_APPLICATION_CATEGORY_NAME, c->len.category, S_L7_CATEGORY_NAME, 0);
        add(t, F_C_L7_GUESSED, 1, S_L7_GUESSED, 0);
        add(t, F_NTOP_L7_CONFIDENCE, 1, S_L7_CONFIDENCE, 0);
        add(t, F_NTOP_TLS_SERVER_NAME, c->len.server_name, S_L7_SERVER_NAME, 0);
        add(t, F_NTOP_JA3C_HASH, c->len.ja3c, S_L7_JA3C, 0);
        add(t, F_NTOP_JA3S_HASH, c->len.ja3s, S_L7_JA3S, 0);
        add(t, F_NTOP_HTTP_UA, c->len.user_agent, S_L7_USER_AGENT, 0);
        add(t, F_NTOP_HTTP_MIME, c->len.content_type, S_L7_CONTENT_TYPE, 0);
    }
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
    t->scope_len = 4;
    add(t, F_TOTAL_BYTES_EXP, 8, S_OPT_OCTETS, 0);
    add(t, F_TOTAL_PKTS_EXP, 8, S_OPT_PACKETS, 0);
    add(t, F_TOTAL_FLOWS_EXP, 8, S_OPT_FLOWS, 0);
    add(t, F_IGNORED_PACKETS, 8, S_OPT_IGNORED, 0);
    add(t, F_SYSTEM_INIT_MS, 8, S_OPT_BOOT, 0);

    t = &x->opt_apps;
    memset(t, 0, sizeof(*t));
    if (c->l7 && c->n_apps > 0) {
        t->id = (uint16_t)(base + 3);
        /* nfdump 1.7.1 ignores the scope and matches 95 as an ordinary field: any scope does. */
        add(t, SCOPE_SYSTEM, 4, S_SCOPE_SYSTEM, 0);
        t->scope_len = 4;
        add(t, F_APPLICATION_TAG, NF9_APP_ID_LEN, S_TBL_ID, 0);
        add(t, F_APPLICATION_NAME, c->len.table_name, S_TBL_NAME, 0);
        add(t, F_APPLICATION_DESCRIPTION, c->len.table_desc, S_TBL_DESC, 0);
    }

    t = &x->opt_sampling;
    memset(t, 0, sizeof(*t));
    if (c->sampling_interval > 0) {
        t->id = (uint16_t)(base + 4);
        add(t, SCOPE_SYSTEM, 4, S_SCOPE_SYSTEM, 0);
        t->scope_len = 4;
        add(t, F_SAMPLING_INTERVAL, 4, S_OPT_SAMPLING_INTERVAL, 0);
        add(t, F_SAMPLING_ALGORITHM, 1, S_OPT_SAMPLING_ALGORITHM, 0);
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
    /* struct flow_l7's buffer sizes, so nothing NFStream reports is cut; JA3 is 32 hex. */
    c->len = (struct nf9_str_lengths){
        .app_name = sizeof(((struct flow_l7 *)0)->application_name),
        .category = sizeof(((struct flow_l7 *)0)->category_name),
        .server_name = sizeof(((struct flow_l7 *)0)->requested_server_name),
        .ja3c = 32,
        .ja3s = 32,
        .user_agent = sizeof(((struct flow_l7 *)0)->user_agent),
        .content_type = sizeof(((struct flow_l7 *)0)->content_type),
        .table_name = 32,
        .table_desc = 32,
    };
}

/* Octets of a template record (id, count, fields) and of an options template record. */
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
options_data_set_len(const struct nf9_template *t, size_t records)
{
    size_t n = 4 + t->record_len * records;
    return n + pad4(n);
}

/* Octets the template part of a packet takes (template set, options template sets, data). */
static size_t
templates_len(const struct nf9_ctx *x)
{
    size_t n = 4 + template_record_len(&x->tmpl_v4) + template_record_len(&x->tmpl_v6);

    n += options_template_set_len(&x->opt_stats) + options_data_set_len(&x->opt_stats, 1);
    if (x->opt_sampling.id != 0)
        n += options_template_set_len(&x->opt_sampling) +
             options_data_set_len(&x->opt_sampling, 1);
    if (x->opt_apps.id != 0)
        n += options_template_set_len(&x->opt_apps);
    return n;
}

int
nf9_init(struct nf9_ctx *x, const struct nf9_config *c, char *err, size_t errlen)
{
    struct nf9_config d;

    memset(x, 0, sizeof(*x));
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

    /* The configuration picks the ids, so a restart with other fields never reuses an id
     * a collector still holds with the old layout. */
    unsigned variant = (x->cfg.statistics ? 1u : 0u) | (x->cfg.tunnel_id ? 2u : 0u) |
                       (x->cfg.l7 ? 4u : 0u);
    uint32_t base = (uint32_t)x->cfg.template_id_base + 8 * variant;
    if (x->cfg.template_id_base < NF9_MIN_DATA_SET_ID || base + 4 > UINT16_MAX) {
        snprintf(err, errlen, "netflow v9: template id base %u out of range 256..65471",
                 (unsigned)x->cfg.template_id_base);
        return -EINVAL;
    }
    if (x->cfg.sampling_interval > 0 && x->cfg.sampling_algorithm > 2) {
        snprintf(err, errlen, "netflow v9: sampling algorithm %u is not 1 or 2",
                 (unsigned)x->cfg.sampling_algorithm);
        return -EINVAL;
    }
    if (x->cfg.n_apps > 0 && x->cfg.apps == NULL) {
        snprintf(err, errlen, "netflow v9: application table of %zu entries has no entries",
                 x->cfg.n_apps);
        return -EINVAL;
    }
    if ((unsigned)l->table_name + l->table_desc > 253) {
        /* nfdump rejects longer application names (nbar.c) */
        snprintf(err, errlen, "netflow v9: application name + description lengths %u > 253",
                 (unsigned)l->table_name + l->table_desc);
        return -EINVAL;
    }

    build_data_template(&x->tmpl_v4, (uint16_t)base, 4, &x->cfg);
    build_data_template(&x->tmpl_v6, (uint16_t)(base + 1), 6, &x->cfg);
    build_options_templates(x, (uint16_t)base);
    if (x->tmpl_v6.n_fields > NF9_MAX_FIELDS) {
        snprintf(err, errlen, "netflow v9: %u fields exceed the template limit %u",
                 (unsigned)x->tmpl_v6.n_fields, NF9_MAX_FIELDS);
        return -EINVAL;
    }

    size_t rec = x->tmpl_v6.record_len > x->tmpl_v4.record_len ? x->tmpl_v6.record_len
                                                                  : x->tmpl_v4.record_len;
    size_t need_data = NF9_HEADER_LEN + 4 + rec + pad4(rec);
    size_t need_tmpl = NF9_HEADER_LEN + templates_len(x);
    size_t need_app = x->opt_apps.id != 0
                          ? NF9_HEADER_LEN + options_data_set_len(&x->opt_apps, 1)
                          : 0;
    size_t need = need_data > need_tmpl ? need_data : need_tmpl;
    need = need > need_app ? need : need_app;
    if (x->cfg.mtu > 65535 || need > x->cfg.mtu) {
        snprintf(err, errlen,
                 "netflow v9: mtu %u too small (a %zu-octet record needs %zu, the templates %zu)",
                 (unsigned)x->cfg.mtu, rec, need_data, need_tmpl);
        return -EMSGSIZE;
    }

    x->boot_ms = x->cfg.boot_ms;
    x->boot_set = x->cfg.boot_ms != 0;
    x->app_next = x->cfg.n_apps;
    nf9_force_templates(x);
    return 0;
}

void
nf9_force_templates(struct nf9_ctx *x)
{
    x->templates_due = true;
    x->options_due = true;
    x->app_next = 0;
}

void
nf9_set_ignored_packets(struct nf9_ctx *x, uint64_t packets)
{
    x->ignored_packets = packets;
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

bool
nf9_pending(const struct nf9_ctx *x, uint64_t now_ms)
{
    bool apps = x->opt_apps.id != 0 && x->app_next < x->cfg.n_apps;

    return x->templates_due || x->options_due || apps || time_refresh_due(x, now_ms) ||
           packet_refresh_due(x);
}

void
nf9_stats(const struct nf9_ctx *x, struct nf9_stats *out)
{
    *out = x->st;
}

uint64_t
nf9_boot_ms(const struct nf9_ctx *x)
{
    return x->boot_set ? x->boot_ms : 0;
}

static const struct flow_l7 *
flow_l7_of(const struct nf9_ctx *x, const struct flow *f)
{
    return (const struct flow_l7 *)(const void *)(f->ext + x->cfg.l7_off);
}

/* The nDPI protocol a flow is labelled with: its application, or its master when there is none
 * (as the IPFIX exporter's L7_PROTO). */
static uint16_t
l7_proto(const struct flow_l7 *l7)
{
    return l7->app_id != 0 ? l7->app_id : l7->master_id;
}

#define L7_STR(p, l7, m, len) put_str(p, (l7)->m, sizeof((l7)->m), len)

/* Writes one flow record of template t at p (t->record_len octets). */
static void
write_flow(const struct nf9_ctx *x, const struct nf9_template *t, const struct flow *f, uint8_t *p)
{
    const struct flow_l7 *l7 = x->cfg.l7 ? flow_l7_of(x, f) : NULL;

    for (unsigned i = 0; i < t->n_fields; i++) {
        const struct nf9_field *fd = &t->f[i];
        unsigned len = fd->len;
        switch ((enum src)fd->src) {
        case S_FLOW_ID:
            put_uint(p, f->id, len);
            break;
        case S_FIRST:
            put_uint(p, f->dir[fd->arg].first_seen_ms, len);
            break;
        case S_LAST:
            put_uint(p, f->dir[fd->arg].last_seen_ms, len);
            break;
        case S_BYTES:
            put_uint(p, f->dir[fd->arg].bytes, len);
            break;
        case S_PACKETS:
            put_uint(p, f->dir[fd->arg].packets, len);
            break;
        case S_SRC_ADDR4:
        case S_SRC_ADDR6:
            memcpy(p, flow_src_ip(f), len);
            break;
        case S_DST_ADDR4:
        case S_DST_ADDR6:
            memcpy(p, flow_dst_ip(f), len);
            break;
        case S_SRC_PORT:
            put_uint(p, flow_src_port(f), len);
            break;
        case S_DST_PORT:
            put_uint(p, flow_dst_port(f), len);
            break;
        case S_PROTOCOL:
            put_uint(p, f->key.protocol, len);
            break;
        case S_TCP_FLAGS:
            put_uint(p, f->tcp_flags_or[fd->arg], len);
            break;
        case S_IP_VERSION:
            put_uint(p, f->key.ip_version, len);
            break;
        case S_END_REASON:
            put_uint(p, f->end_reason, len);
            break;
        case S_BIFLOW_DIRECTION:
            put_uint(p, 1, len); /* RFC 5103: the source is the initiator (first packet) */
            break;
        case S_SRC_MAC:
            memcpy(p, f->src_mac, len);
            break;
        case S_DST_MAC:
            memcpy(p, f->dst_mac, len);
            break;
        case S_VLAN:
            put_uint(p, f->key.vlan_id, len);
            break;
        case S_DURATION:
            put_uint(p, flow_duration(&f->dir[FLOW_BIDI]), len);
            break;
        case S_EXPIRATION_ID:
            put_uint(p, (uint8_t)f->expiration_id, len);
            break;
        case S_TUNNEL_ID:
            put_uint(p, f->key.tunnel_id, len);
            break;
        case S_STAT: {
            const struct flow_stats *s = &f->st[fd->arg / K_PER_DIR];
            unsigned k = fd->arg % K_PER_DIR;
            switch (k) {
            case K_MIN_PS:
                put_uint(p, s->min_ps, len);
                break;
            case K_MAX_PS:
                put_uint(p, s->max_ps, len);
                break;
            case K_MEAN_PS:
                put_double(p, s->mean_ps);
                break;
            case K_STDDEV_PS:
                put_double(p, feat_stddev_ps(s, f->dir[fd->arg / K_PER_DIR].packets));
                break;
            case K_MIN_PIAT:
                put_uint(p, s->min_piat, len);
                break;
            case K_MAX_PIAT:
                put_uint(p, s->max_piat, len);
                break;
            case K_MEAN_PIAT:
                put_double(p, s->mean_piat);
                break;
            case K_STDDEV_PIAT:
                put_double(p, feat_stddev_piat(s, f->dir[fd->arg / K_PER_DIR].packets));
                break;
            default:
                put_uint(p, s->flag_count[k - K_FLAGS], len);
                break;
            }
            break;
        }
        case S_APP_TAG: {
            p[0] = NF9_APP_ENGINE_PANA_L7_PEN;
            put_be32(p + 1, x->cfg.pen);
            put_be16(p + 5, l7_proto(l7));
            break;
        }
        case S_L7_APP:
            put_uint(p, l7_proto(l7), len);
            break;
        case S_L7_MASTER:
            put_uint(p, l7->master_id, len);
            break;
        case S_L7_CATEGORY_ID:
            put_uint(p, l7->category_id, len);
            break;
        case S_L7_APP_NAME:
            L7_STR(p, l7, application_name, len);
            break;
        case S_L7_CATEGORY_NAME:
            L7_STR(p, l7, category_name, len);
            break;
        case S_L7_GUESSED:
            put_uint(p, l7->guessed, len);
            break;
        case S_L7_CONFIDENCE:
            put_uint(p, l7->confidence, len);
            break;
        case S_L7_SERVER_NAME:
            L7_STR(p, l7, requested_server_name, len);
            break;
        case S_L7_JA3C:
            L7_STR(p, l7, client_fingerprint, len);
            break;
        case S_L7_JA3S:
            L7_STR(p, l7, server_fingerprint, len);
            break;
        case S_L7_USER_AGENT:
            L7_STR(p, l7, user_agent, len);
            break;
        case S_L7_CONTENT_TYPE:
            L7_STR(p, l7, content_type, len);
            break;
        default:
            memset(p, 0, len);
            break;
        }
        p += len;
    }
}

/* Writes one options record of t at p; app is the table entry for the application table. */
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
        case S_TBL_ID:
            p[0] = NF9_APP_ENGINE_PANA_L7_PEN;
            put_be32(p + 1, x->cfg.pen);
            put_be16(p + 5, app->id);
            break;
        case S_TBL_NAME:
            put_str(p, app->name, len, len);
            break;
        case S_TBL_DESC:
            put_str(p, app->desc, len, len);
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

/* Options template FlowSet holding one options template (scope fields come first in f[]). */
static uint8_t *
write_options_template_set(uint8_t *p, const struct nf9_template *t)
{
    uint8_t *set = p;
    unsigned n_scope = 0;

    for (unsigned i = 0; i < t->n_fields && t->f[i].src == S_SCOPE_SYSTEM; i++)
        n_scope++;
    put_be16(p + 4, t->id);
    put_be16(p + 6, (uint16_t)(4 * n_scope));
    put_be16(p + 8, (uint16_t)(4 * (t->n_fields - n_scope)));
    p += 10;
    for (unsigned i = 0; i < t->n_fields; i++, p += 4) {
        put_be16(p, t->f[i].id);
        put_be16(p + 2, t->f[i].len);
    }
    size_t pad = pad4((size_t)(p - set));
    memset(p, 0, pad);
    p += pad;
    put_be16(set, NF9_OPTIONS_TEMPLATE_SET_ID);
    put_be16(set + 2, (uint16_t)(p - set));
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

static void
choose_boot(struct nf9_ctx *x, const struct flow *const *flows, size_t n, uint64_t now_ms)
{
    uint64_t t = now_ms;

    for (size_t i = 0; i < n; i++)
        if (flows[i]->dir[FLOW_BIDI].first_seen_ms < t)
            t = flows[i]->dir[FLOW_BIDI].first_seen_ms;
    x->boot_ms = t > NF9_BOOT_MARGIN_MS ? t - NF9_BOOT_MARGIN_MS : 0;
    x->boot_set = true;
}

size_t
nf9_encode(struct nf9_ctx *x, const struct flow *const *flows, size_t n, uint64_t now_ms,
           uint8_t *buf, size_t cap, size_t *n_done)
{
    uint8_t *p = buf + NF9_HEADER_LEN, *end = buf + cap;
    uint32_t count = 0;

    *n_done = 0;
    if (cap < NF9_HEADER_LEN)
        return 0;
    if (!x->boot_set)
        choose_boot(x, flows, n, now_ms);
    if (time_refresh_due(x, now_ms)) {
        nf9_force_templates(x);
    } else if (packet_refresh_due(x)) {
        x->templates_due = true;
        x->options_due = true;
    }

    bool sent_templates = false;
    if (x->templates_due) {
        if (templates_len(x) > (size_t)(end - p))
            return 0;
        uint8_t *set = p;
        p = write_template_record(p + 4, &x->tmpl_v4);
        p = write_template_record(p, &x->tmpl_v6);
        p = close_set(set, p, NF9_TEMPLATE_SET_ID);
        count += 2;
        p = write_options_template_set(p, &x->opt_stats);
        count++;
        if (x->opt_sampling.id != 0) {
            p = write_options_template_set(p, &x->opt_sampling);
            count++;
        }
        if (x->opt_apps.id != 0) {
            p = write_options_template_set(p, &x->opt_apps);
            count++;
        }
        x->templates_due = false;
        x->last_refresh_ms = now_ms;
        sent_templates = true;
    }
    if (x->options_due) {
        /* Templates precede their data: options data only goes out with or after them. */
        uint8_t *set = p;
        write_option(x, &x->opt_stats, NULL, p + 4);
        p = close_set(set, p + 4 + x->opt_stats.record_len, x->opt_stats.id);
        count++;
        if (x->opt_sampling.id != 0) {
            set = p;
            write_option(x, &x->opt_sampling, NULL, p + 4);
            p = close_set(set, p + 4 + x->opt_sampling.record_len, x->opt_sampling.id);
            count++;
        }
        x->options_due = false;
    }
    if (x->opt_apps.id != 0 && x->app_next < x->cfg.n_apps &&
        (size_t)(end - p) >= options_data_set_len(&x->opt_apps, 1)) {
        uint8_t *set = p;
        size_t r = 0;
        p += 4;
        while (x->app_next < x->cfg.n_apps &&
               options_data_set_len(&x->opt_apps, r + 1) <= (size_t)(end - set)) {
            write_option(x, &x->opt_apps, &x->cfg.apps[x->app_next], p);
            p += x->opt_apps.record_len;
            x->app_next++;
            x->st.app_records++;
            r++;
            count++;
        }
        p = close_set(set, p, x->opt_apps.id);
    }

    /* Data: one FlowSet per run of flows of the same IP version. */
    uint8_t *set = NULL;
    const struct nf9_template *cur = NULL;
    size_t i;
    for (i = 0; i < n; i++) {
        const struct nf9_template *t = flows[i]->key.ip_version == 6 ? &x->tmpl_v6 : &x->tmpl_v4;
        if (t != cur) {
            /* A new set needs its header, a record and at most 3 octets of padding. */
            size_t room = (size_t)(end - p) - (set != NULL ? pad4((size_t)(p - set)) : 0);
            if (room < 4 + t->record_len + pad4(4 + t->record_len))
                break;
            if (set != NULL)
                p = close_set(set, p, cur->id);
            set = p;
            p += 4;
            cur = t;
        } else {
            size_t used = (size_t)(p - set) + t->record_len;
            if (used + pad4(used) > (size_t)(end - set))
                break;
        }
        write_flow(x, t, flows[i], p);
        p += t->record_len;
        count++;
    }
    if (set != NULL)
        p = close_set(set, p, cur->id);
    *n_done = i;

    if (count == 0)
        return 0;

    size_t len = (size_t)(p - buf);
    uint64_t up = now_ms > x->boot_ms ? now_ms - x->boot_ms : 0;
    put_be16(buf, NF9_VERSION);
    put_be16(buf + 2, (uint16_t)count);
    put_be32(buf + 4, (uint32_t)up);
    put_be32(buf + 8, (uint32_t)(now_ms / 1000));
    put_be32(buf + 12, x->sequence);
    put_be32(buf + 16, x->cfg.source_id);

    x->sequence++;
    x->st.packets++;
    x->st.octets += len;
    x->st.flow_records += i;
    if (sent_templates) {
        x->st.template_sends++;
        x->pkts_since_templates = 0;
    }
    x->pkts_since_templates++;
    return len;
}
