/*
 * export_ipfix.h - the IPFIX record layout and information model, for the encoder and the tools.
 *
 * Internal header: included by export_ipfix.c (the only probe file that sees libfixbuf), by
 * tools/ipfix2csv.c (the decoder, which reads records into the same struct), tools/mkregistry.c
 * and the unit test. The record is expanded from the field catalogue (fields.def: the rows with
 * an IPFIX element), our elements from probe/ie.def.
 */
#ifndef NFPROBE_EXPORT_IPFIX_H
#define NFPROBE_EXPORT_IPFIX_H

#include <fixbuf/public.h>
#include <stddef.h>
#include <stdint.h>

#include "export_enc.h"
#include "fields.h"

/* Field groups: the catalogue's (fields.h). */
enum {
    NFP_G_V4 = FLD_G_V4,
    NFP_G_V6 = FLD_G_V6,
    NFP_G_TUNNEL = FLD_G_TUNNEL,
    NFP_G_STATS = FLD_G_STATS,
    NFP_G_SPLT = FLD_G_SPLT,
    NFP_G_L7 = FLD_G_L7,
    NFP_G_NTOP = FLD_G_NTOP,
    NFP_G_AS = FLD_G_AS,
    NFP_G_PREFIX = FLD_G_PREFIX,
    NFP_G_ROUTE = FLD_G_ROUTE,
    NFP_G_DIRECTION = FLD_G_DIRECTION,
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
    IPFIX_TID_SAMPLING = 265,  /* options: RFC 7014 selector report (--sampling) */
    IPFIX_TID_SAMPLING_NFDUMP = 266, /* options: 305/306 alone, the sampler nfdump 1.7.1 reads */
    IPFIX_TID_EXPORTER4 = 267, /* options: exporterIPv4Address (130) of the exporting process */
    IPFIX_TID_EXPORTER6 = 268, /* options: exporterIPv6Address (131) */
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

/*
 * The record's members, one per catalogue row with an IPFIX element, named as the row: the
 * C type follows the row's type and IPFIX length (IPFIX_MEMBER_<type>_<length>); rows without
 * an element (length 0) have no member. Members are in catalogue order, so the compiler pads
 * between them: ipfix_rec_template() describes the gaps with paddingOctets.
 */
#define IPFIX_MEMBER_U64_0(m)
#define IPFIX_MEMBER_U64_1(m) uint8_t m;
#define IPFIX_MEMBER_U64_2(m) uint16_t m;
#define IPFIX_MEMBER_U64_3(m) uint8_t m[3]; /* octetArray of 3 (MPLS label stack section) */
#define IPFIX_MEMBER_U64_4(m) uint32_t m;
#define IPFIX_MEMBER_U64_8(m) uint64_t m;
#define IPFIX_MEMBER_I64_1(m) int8_t m;
#define IPFIX_MEMBER_F64_0(m)
#define IPFIX_MEMBER_F64_8(m) double m;
#define IPFIX_MEMBER_IP_4(m) uint32_t m; /* host order */
#define IPFIX_MEMBER_IP_16(m) uint8_t m[16];
#define IPFIX_MEMBER_MAC_0(m)
#define IPFIX_MEMBER_MAC_6(m) uint8_t m[6];
#define IPFIX_MEMBER_OUI_0(m)
#define IPFIX_MEMBER_STR_FLD_VARLEN(m) fbVarfield_t m;
#define IPFIX_MEMBER_APPID_FLD_VARLEN(m) fbVarfield_t m;
#define IPFIX_MEMBER_LIST8_FLD_VARLEN(m) fbBasicList_t m;
#define IPFIX_MEMBER_LIST16_FLD_VARLEN(m) fbBasicList_t m;
#define IPFIX_MEMBER_LIST32_FLD_VARLEN(m) fbBasicList_t m;

/* One flow as libfixbuf reads it (internal template IPFIX_TID_REC). */
struct ipfix_rec {
#define FLD(name, col, type, groups, get, ie, ilen, irank, v9, v9len, v9rank, ntop, plg)      \
    IPFIX_MEMBER_##type##_##ilen(name)
#include "fields.def"
#undef FLD
};

/* Rows with an IPFIX element: their ranks are 0 .. IPFIX_N_RANKS - 1 (test_fields checks). */
enum {
    IPFIX_N_RANKS = 0
#define FLD(name, col, type, groups, get, ie, ilen, irank, v9, v9len, v9rank, ntop, plg)      \
    +((irank) >= 0)
#include "fields.def"
#undef FLD
};

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
    IPFIX_K_BE24, /* 3 octets, big endian (octetArray: libfixbuf copies it as is) */
};

/* One record field: a catalogue row with an IPFIX element, with its offset in struct ipfix_rec. */
struct ipfix_field {
    const char *element; /* IPFIX name, as in libfixbuf's model */
    size_t offset;
    uint16_t len;        /* encoded length; FB_IE_VARLEN for lists and strings */
    uint16_t mem_len;    /* length in struct ipfix_rec */
    uint32_t groups;
    enum ipfix_kind kind;
    uint16_t fld;        /* enum fld_id */
};

/* The record fields by rank (fields.def's ipfix_rank): ipfix_n_fields == IPFIX_N_RANKS. */

extern const struct ipfix_field ipfix_fields[];
extern const size_t ipfix_n_fields;

/* One enterprise element of probe/ie.def (NFP_IE). */
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
 * The internal template of struct ipfix_rec: every field in memory order, the gaps between
 * them as paddingOctets, checked against sizeof(struct ipfix_rec). Returns NULL with err.
 */
fbTemplate_t *ipfix_rec_template(fbInfoModel_t *model, char *err, size_t errlen);

/*
 * The default template: every exported field (indices into ipfix_fields), fixed-length ones
 * first, then strings, then lists, each by rank. order holds ipfix_n_fields entries.
 * Returns the count.
 */
size_t ipfix_default_order(uint16_t *order);

/* The field whose element name is `element`, or NULL. */
const struct ipfix_field *ipfix_field_by_element(const char *element);

/* Parses an --ipfix-template file as the exporter does (for -n). 0, or -errno with one line
 * naming the file and line. */
int ipfix_check_template(const char *path, char *err, size_t errlen);

#endif
