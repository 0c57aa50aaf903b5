/*
 * export_ipfix.h - the IPFIX record layout and information model, for the encoder and the tools.
 *
 * Internal header: included by export_ipfix.c (the only probe file that sees libfixbuf), by
 * tools/ipfix2csv.c (the decoder, which reads records into the same struct) and by
 * the unit test. Everything here is expanded from templates/ie.def, the one list of elements.
 */
#ifndef NFPROBE_EXPORT_IPFIX_H
#define NFPROBE_EXPORT_IPFIX_H

#include <fixbuf/public.h>
#include <stddef.h>
#include <stdint.h>

#include "export_enc.h"

/* Field groups (ie.def): a field is exported only when all of its groups are enabled. */
enum {
    NFP_G_V4 = 1u << 0,       /* IPv4 template */
    NFP_G_V6 = 1u << 1,       /* IPv6 template */
    NFP_G_TUNNEL = 1u << 2,   /* decode_tunnels: the tunnel_id column exists */
    NFP_G_STATS = 1u << 3,    /* --statistical-analysis */
    NFP_G_SPLT = 1u << 4,     /* --splt-analysis N > 0 */
    NFP_G_L7 = 1u << 5,       /* DPI on */
    NFP_G_NTOP = 1u << 6,     /* --ntop-compat */
    NFP_G_INTERNAL = 1u << 7, /* never exported (padding) */
};

#define NFP_PEN_OURS 0u      /* ie.def: the configurable --pen */
#define NFP_PEN_NTOP 35632u
#define NFP_PEN_DEFAULT 32473u /* RFC 5612 documentation PEN */
#define NFP_PEN_REVERSE 29305u /* RFC 5103 */
#define NFP_REVERSE_BIT 0x4000u

/* Template ids, the same in every session. */
enum {
    IPFIX_TID_REC = 256,      /* internal: struct ipfix_rec */
    IPFIX_TID_V4 = 256,       /* external: IPv4 flows */
    IPFIX_TID_V6 = 257,       /* external: IPv6 flows */
    IPFIX_TID_MSTATS = 258,   /* options: metering process statistics (RFC 7011 4.1) */
    IPFIX_TID_MREL = 259,     /* options: metering process reliability (4.2) */
    IPFIX_TID_EREL = 260,     /* options: exporting process reliability (4.3) */
    IPFIX_TID_APPMAP = 261,   /* options: application id -> name (RFC 6759, nfdump layout) */
    IPFIX_TID_TYPEINFO = 262, /* options: RFC 5610 element type records */
    IPFIX_TID_APPMAP2 = 263,  /* the same as 261: alternating them puts one record per Set */
    IPFIX_TID_REC_EXTRA = 264, /* internal: struct ipfix_rec + plugin elements (plugin) */
};

/*
 * applicationId (95) value: 20 (PANA-L7-PEN) | PEN | selector, the selector being the nDPI
 * application protocol id, or the master protocol id when there is no application (16 bits,
 * big endian), as the NetFlow v9 encoder does.
 */
#define IPFIX_APP_ID_LEN 7
#define IPFIX_APP_ENGINE_PANA_L7_PEN 20
#define IPFIX_APP_NAME_LEN 40 /* fixed lengths in the application map (nfdump wants fixed) */
#define IPFIX_APP_DESC_LEN 64

/* C types of the record members (ie.def's ctype column). */
#define NFP_DECL_LIST(m, l) fbBasicList_t m
#define NFP_DECL_VAR(m, l) fbVarfield_t m
#define NFP_DECL_U64(m, l) uint64_t m
#define NFP_DECL_F64(m, l) double m
#define NFP_DECL_IP6(m, l) uint8_t m[16]
#define NFP_DECL_U32(m, l) uint32_t m
#define NFP_DECL_U16(m, l) uint16_t m
#define NFP_DECL_MAC(m, l) uint8_t m[6]
#define NFP_DECL_U8(m, l) uint8_t m
#define NFP_DECL_I8(m, l) int8_t m
#define NFP_DECL_PAD(m, l) uint8_t m[l]

/* In-memory sizes, for the no-padding check. */
#define NFP_SIZE_LIST(l) sizeof(fbBasicList_t)
#define NFP_SIZE_VAR(l) sizeof(fbVarfield_t)
#define NFP_SIZE_U64(l) 8
#define NFP_SIZE_F64(l) 8
#define NFP_SIZE_IP6(l) 16
#define NFP_SIZE_U32(l) 4
#define NFP_SIZE_U16(l) 2
#define NFP_SIZE_MAC(l) 6
#define NFP_SIZE_U8(l) 1
#define NFP_SIZE_I8(l) 1
#define NFP_SIZE_PAD(l) (l)

/* One flow as libfixbuf reads it (internal template IPFIX_TID_REC). */
struct ipfix_rec {
#define NFP_FIELD(m, t, e, l, g) NFP_DECL_##t(m, l);
#include "../templates/ie.def"
#undef NFP_FIELD
};

/* No member may be preceded by padding: libfixbuf computes offsets by adding lengths. */
enum {
    IPFIX_REC_SIZE = 0
#define NFP_FIELD(m, t, e, l, g) +NFP_SIZE_##t(l)
#include "../templates/ie.def"
#undef NFP_FIELD
};
_Static_assert(sizeof(struct ipfix_rec) == IPFIX_REC_SIZE,
               "ie.def: reorder the fields (widest first) or fix the final padding");

/* What kind of value a field holds, for code that walks the fields. */
enum ipfix_kind {
    IPFIX_K_LIST,
    IPFIX_K_VAR,
    IPFIX_K_U64,
    IPFIX_K_F64,
    IPFIX_K_IP6,
    IPFIX_K_U32,
    IPFIX_K_U16,
    IPFIX_K_MAC,
    IPFIX_K_U8,
    IPFIX_K_I8,
    IPFIX_K_PAD
};

/* One record field: ie.def's NFP_FIELD line, with its offset in struct ipfix_rec. */
struct ipfix_field {
    const char *element; /* IPFIX name, as in libfixbuf's model */
    size_t offset;
    uint16_t len;        /* encoded length; FB_IE_VARLEN for lists and strings */
    uint16_t mem_len;    /* length in struct ipfix_rec */
    uint32_t groups;
    enum ipfix_kind kind;
};

extern const struct ipfix_field ipfix_fields[];
extern const size_t ipfix_n_fields;

/* One enterprise element of ie.def (NFP_IE). */
struct ipfix_ie_def {
    const char *name;
    int ntop;             /* PEN 35632 instead of ours */
    uint16_t id;
    const char *type;     /* IANA abstract data type name */
    int reversible;
    const char *semantics;
    const char *units;
    const char *description;
};

extern const struct ipfix_ie_def ipfix_ie_defs[];
extern const size_t ipfix_n_ie_defs;

/*
 * libfixbuf's information model (IANA, RFC 5103 reverse) plus our elements under `pen` and
 * ntop's. Returns NULL with err on failure. Free with fbInfoModelFree().
 */
fbInfoModel_t *ipfix_model_new(uint32_t pen, char *err, size_t errlen);

/*
 * The internal template of struct ipfix_rec (every field, padding included), checked against
 * sizeof(struct ipfix_rec). Returns NULL with err on failure.
 */
fbTemplate_t *ipfix_rec_template(fbInfoModel_t *model, char *err, size_t errlen);

/*
 * The default template: every exported field (indices into ipfix_fields), fixed-length ones
 * first, then strings, then lists, each in ie.def order. order holds ipfix_n_fields entries.
 * Returns the count.
 */
size_t ipfix_default_order(uint16_t *order);

/* The field whose element name is `element`, or NULL. */
const struct ipfix_field *ipfix_field_by_element(const char *element);

#endif
