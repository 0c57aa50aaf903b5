/*
 * fields.h - the flow field catalogue (probe/fields.def): one row per field, read by every sink.
 *
 * A field is what NFStream calls a column (id, src_ip, ..., content_type) or a value only the
 * exporters carry (flowEndReason, applicationId, ntop's elements). Each row says where the value
 * lives (fld_get), which configuration enables it (groups), how CSV/JSON write it (type), and
 * what it is called in IPFIX, NetFlow v9, nProbe/ntopng and the plugin API. The writers and
 * encoders precompute the rows they emit once per configuration (fld_select) and read values
 * with fld_get(), an inline switch: a row walk costs what the former hand-written code did.
 */
#ifndef NFPROBE_FIELDS_H
#define NFPROBE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "features.h"
#include "flow.h"

/* What enables a field: all of its groups must be on (fld_groups()). */
enum {
    FLD_G_V4 = 1u << 0,     /* IPv4 export templates (the CSV ignores V4/V6) */
    FLD_G_V6 = 1u << 1,     /* IPv6 export templates */
    FLD_G_TUNNEL = 1u << 2, /* decode_tunnels: tunnel_id */
    FLD_G_STATS = 1u << 3,  /* --statistical-analysis */
    FLD_G_SPLT = 1u << 4,   /* --splt-analysis N > 0 */
    FLD_G_L7 = 1u << 5,     /* DPI on (--n-dissections > 0) */
    FLD_G_NTOP = 1u << 6,   /* --ntop-compat: ntop's IPFIX elements (v9 always has them) */
    /* enrichment by the output thread (enrich.h): a run without a source exports none */
    FLD_G_AS = 1u << 7,        /* --networks-file / --asn-database: AS numbers */
    FLD_G_PREFIX = 1u << 8,    /* those or --route-lookup: prefix lengths */
    FLD_G_ROUTE = 1u << 9,     /* --route-lookup: next hop, egress interface */
    FLD_G_DIRECTION = 1u << 10, /* --local-networks: flowDirection */
    FLD_G_ROUTER = 1u << 11,    /* the run exports: struct flow_router's fields (flow.h) */
};

/*
 * Value types; each is also the CSV/JSON rule: numbers unquoted (Python str() of an int or a
 * float), STR/IP/MAC/OUI quoted strings (IP as inet_ntop, MAC as aa:bb:..., OUI its first 8
 * characters), lists as Python's str() of the list padded to N entries with -1 (CSV quoted,
 * JSON an array). APPID is the nDPI selector the encoders wrap as RFC 6759 applicationId.
 */
enum fld_type {
    FLD_T_U64,
    FLD_T_I64,
    FLD_T_F64,
    FLD_T_STR,
    FLD_T_IP,     /* 16 octets, the first 4 for IPv4 (f->key.ip_version says which) */
    FLD_T_MAC,
    FLD_T_OUI,
    FLD_T_LIST8,  /* SPLT arrays: uint8_t / uint16_t / uint32_t [splt_n] */
    FLD_T_LIST16,
    FLD_T_LIST32,
    FLD_T_APPID,
};

#define FLD_NONE_S NULL
#define FLD_NO_PLUGIN_ID 0u
#define FLD_VARLEN 65535u            /* IPFIX variable length (RFC 7011 section 7) */
#define FLD_V9_CUSTOM_BASE 53248u    /* our v9 ids: above Cisco's, below ntop's 57472+ */
#define FLD_V9_CUSTOM(n) (FLD_V9_CUSTOM_BASE + (n))
#define FLD_V9_STRLEN 0xfffeu        /* v9 string: the configured length (export_v9.h) */
#define FLD_APPID_LEN 7u             /* applicationId: 20 (PANA-L7-PEN) | PEN | selector */
#define FLD_BIFLOW_INITIATOR 1u      /* RFC 5103 biflowDirection: the source sent first */
#define FLD_NTOP_BASE 57472u         /* ntop's v9/ZMQ ids: 57472 + IPFIX id under PEN 35632 */

enum fld_id {
#define FLD(name, col, type, groups, get, ie, ilen, irank, v9, v9len, v9rank, ntop, plg)      \
    FLD_##name,
#include "fields.def"
#undef FLD
    FLD_COUNT
};

/* One catalogue row (fields.def explains the columns). */
struct fld_def {
    const char *name;
    const char *column;  /* NULL: export-only */
    enum fld_type type;
    uint32_t groups;
    const char *ipfix;   /* NULL: not in IPFIX */
    uint16_t ipfix_len;
    int16_t ipfix_rank;
    uint16_t v9_id;      /* 0: not in v9 */
    uint16_t v9_len;
    int16_t v9_rank;
    uint32_t ntop_id;    /* 0: none */
    uint32_t plugin_id;  /* 0: none */
};

extern const struct fld_def fld_defs[FLD_COUNT];

/* A field's value: which member is set follows the row's type. */
union fld_value {
    uint64_t u;          /* U64, APPID */
    int64_t i;           /* I64 */
    double d;            /* F64 */
    const char *s;       /* STR: NUL-terminated */
    const uint8_t *b;    /* IP (16 octets), MAC and OUI (6) */
    const void *list;    /* LIST*: layout.splt_n entries */
};

/* The nDPI id the exporters announce: the application, or the master when there is none. */
static inline uint16_t
fld_l7_selector(const struct flow_l7 *l7)
{
    return l7->app_id != 0 ? l7->app_id : l7->master_id;
}

#define FLD_SET_U64(v, e) (v)->u = (uint64_t)(e)
#define FLD_SET_APPID(v, e) (v)->u = (uint64_t)(e)
#define FLD_SET_I64(v, e) (v)->i = (int64_t)(e)
#define FLD_SET_F64(v, e) (v)->d = (double)(e)
#define FLD_SET_STR(v, e) (v)->s = (e)
#define FLD_SET_IP(v, e) (v)->b = (e)
#define FLD_SET_MAC(v, e) (v)->b = (e)
#define FLD_SET_OUI(v, e) (v)->b = (e)
#define FLD_SET_LIST8(v, e) (v)->list = (e)
#define FLD_SET_LIST16(v, e) (v)->list = (e)
#define FLD_SET_LIST32(v, e) (v)->list = (e)

/*
 * The value of field id of flow f. The caller emits only fields whose groups are on for L
 * (fld_groups): an L7 field of a run without DPI reads memory that is not there.
 */
static inline void
fld_get(enum fld_id id, const struct flow_layout *L, const struct flow *f, union fld_value *v)
{
    (void)L;
    switch (id) {
#define FLD(name, col, type, groups, get, ie, ilen, irank, v9, v9len, v9rank, ntop, plg)      \
    case FLD_##name:                                                                           \
        FLD_SET_##type(v, get);                                                                \
        break;
#include "fields.def"
#undef FLD
    default:
        v->u = 0;
        break;
    }
}

/* The FLD_G_* groups a layout enables (V4, V6 and NTOP are the encoders' to add). */
uint32_t fld_groups(const struct flow_layout *L);

/* True when every group of field id is in groups. */
static inline bool
fld_enabled(enum fld_id id, uint32_t groups)
{
    return (fld_defs[id].groups & ~groups) == 0;
}

/*
 * The NFStream columns enabled by groups, in column order (the CSV header's), into out
 * (FLD_COUNT entries). Returns the count.
 */
size_t fld_columns(uint32_t groups, uint16_t *out);

/* The field whose NFStream column, or else whose name, is `name` (length n); -1 if none. */
int fld_by_column(const char *name, size_t n);

/* The field whose IPFIX element is `element`, or -1. */
int fld_by_ipfix(const char *element);

/*
 * One direction of a biflow as a unidirectional record (NetFlow v5, --uniflow): for each row
 * id, the row whose value the record of direction dir (FLOW_S2D: the forward, FLOW_D2S: the
 * reverse) carries in id's element. Found by name, so rows added later are picked up: the
 * direction's own times and TCP flags for the biflow ones (flowStartMilliseconds ...), then
 * for the reverse direction the RFC 5103 row "reverseX", else the source/destination or
 * ingress/egress partner ("sourceIPv4Address" <-> "destinationIPv4Address"), else id itself.
 * A candidate of another value type, or one a run with `groups` does not carry, is ignored:
 * without --route-lookup the reverse record's ingressInterface is the capture interface (both
 * directions came in there), not the absent egressInterface. Computed at open, not per flow.
 */
void fld_direction_map(int dir, uint32_t groups, uint16_t map[FLD_COUNT]);

/* True for rows a uniflow template leaves out: those of the reverse direction only (RFC 5103
 * "reverse" elements, the dst2src rows without an element) and biflowDirection. */
bool fld_uniflow_skip(enum fld_id id);

/* Plugin API ids are below FLD_PLUGIN_ID_MAX (include/nfprobe/plugin.h). */
#define FLD_PLUGIN_ID_MAX 128u
/* FLD_<id> + 1 by plugin id (0: none); rows without a plugin id fill the slots after the ids. */
extern const uint16_t fld_plugin_index[FLD_PLUGIN_ID_MAX + FLD_COUNT];

/* The field whose plugin API id is `plugin_id`, or -1: one table read (per plugin call). */
static inline int
fld_by_plugin_id(uint32_t plugin_id)
{
    if (plugin_id == FLD_NO_PLUGIN_ID || plugin_id >= FLD_PLUGIN_ID_MAX)
        return -1;
    return (int)fld_plugin_index[plugin_id] - 1;
}

/*
 * Writes the catalogue as the table users read to write --ipfix-template files: name, NFStream
 * column, IPFIX element with its PEN and id, v9 id, ntop id, what enables it. ipfix_pens/ids
 * are per row (FLD_COUNT entries, ipfix_element_ids() of the rows' elements), or NULL.
 */
void fld_list(FILE *out, const uint32_t *ipfix_pens, const uint16_t *ipfix_ids);

/* A group set as text ("stats+l7", "always"), for --list-fields; buf >= 64 octets. */
const char *fld_groups_text(uint32_t groups, char *buf, size_t len);

#endif
