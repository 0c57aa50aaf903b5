/*
 * export_ipfix.c - IPFIX encoder: flows -> IPFIX messages, with libfixbuf 2.4.
 *
 * The only probe file that includes libfixbuf or sees a GError. libfixbuf encodes into a buffer
 * we own (fbExporterAllocBuffer, manual mode): every append that does not fit returns
 * FB_ERROR_EOM, we emit the message (fBufEmit copies it into our buffer, fbExporterGetMsgLen
 * says how long it is), hand it to the sink, and append again. libfixbuf also ends a message
 * between templates and data records on its own (FB_ERROR_EOM with nothing to emit); the same
 * retry covers it. Messages therefore come in this order at the start of a session and at each
 * refresh: the options templates (one per message: nfdump 1.7.1 reads only the first options
 * template of a Set), the RFC 5610 type records, the data templates, the application map (one
 * record per Set: nfdump decodes only the first of a Set), the options data, then flows.
 *
 * A transport session is one libfixbuf session: on every new session the old fBuf (session,
 * templates, sequence numbers) is freed and a fresh one is built, so sequence numbers start at 0
 * and the collector gets every template first. Data records are transcoded from struct
 * ipfix_rec (export_ipfix.h, from the field catalogue) by element identity into the IPv4 or the IPv6 template.
 */
#include "export_ipfix.h"

#include "export.h" /* plugin: struct exp_extra */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ tables */

/* A record field's entry, by the catalogue row's type and IPFIX length (as IPFIX_MEMBER_*). */
#define IPFIX_ENTRY(m, e, r, g, enclen, memlen, kind)                                              \
    [r] = {e, offsetof(struct ipfix_rec, m), enclen, memlen, g, kind, FLD_##m},
#define IPFIX_ENTRY_U64_0(m, e, r, g)
#define IPFIX_ENTRY_U64_1(m, e, r, g) IPFIX_ENTRY(m, e, r, g, 1, 1, IPFIX_K_U8)
#define IPFIX_ENTRY_U64_2(m, e, r, g) IPFIX_ENTRY(m, e, r, g, 2, 2, IPFIX_K_U16)
#define IPFIX_ENTRY_U64_3(m, e, r, g) IPFIX_ENTRY(m, e, r, g, 3, 3, IPFIX_K_BE24)
#define IPFIX_ENTRY_U64_4(m, e, r, g) IPFIX_ENTRY(m, e, r, g, 4, 4, IPFIX_K_U32)
#define IPFIX_ENTRY_U64_8(m, e, r, g) IPFIX_ENTRY(m, e, r, g, 8, 8, IPFIX_K_U64)
#define IPFIX_ENTRY_I64_1(m, e, r, g) IPFIX_ENTRY(m, e, r, g, 1, 1, IPFIX_K_I8)
#define IPFIX_ENTRY_F64_0(m, e, r, g)
#define IPFIX_ENTRY_F64_8(m, e, r, g) IPFIX_ENTRY(m, e, r, g, 8, 8, IPFIX_K_F64)
#define IPFIX_ENTRY_IP_4(m, e, r, g) IPFIX_ENTRY(m, e, r, g, 4, 4, IPFIX_K_U32)
#define IPFIX_ENTRY_IP_16(m, e, r, g) IPFIX_ENTRY(m, e, r, g, 16, 16, IPFIX_K_IP6)
#define IPFIX_ENTRY_MAC_0(m, e, r, g)
#define IPFIX_ENTRY_MAC_6(m, e, r, g) IPFIX_ENTRY(m, e, r, g, 6, 6, IPFIX_K_MAC)
#define IPFIX_ENTRY_OUI_0(m, e, r, g)
#define IPFIX_ENTRY_VAR(m, e, r, g)                                                                \
    IPFIX_ENTRY(m, e, r, g, FB_IE_VARLEN, sizeof(fbVarfield_t), IPFIX_K_VAR)
#define IPFIX_ENTRY_LIST(m, e, r, g)                                                               \
    IPFIX_ENTRY(m, e, r, g, FB_IE_VARLEN, sizeof(fbBasicList_t), IPFIX_K_LIST)
#define IPFIX_ENTRY_STR_FLD_VARLEN IPFIX_ENTRY_VAR
#define IPFIX_ENTRY_APPID_FLD_VARLEN IPFIX_ENTRY_VAR
#define IPFIX_ENTRY_LIST8_FLD_VARLEN IPFIX_ENTRY_LIST
#define IPFIX_ENTRY_LIST16_FLD_VARLEN IPFIX_ENTRY_LIST
#define IPFIX_ENTRY_LIST32_FLD_VARLEN IPFIX_ENTRY_LIST

const struct ipfix_field ipfix_fields[IPFIX_N_RANKS] = {
#define FLD(name, col, type, groups, get, ie, ilen, irank, v9, v9len, v9rank, ntop, plg)      \
    IPFIX_ENTRY_##type##_##ilen(name, ie, irank, groups)
#include "fields.def"
#undef FLD
};
const size_t ipfix_n_fields = IPFIX_N_RANKS;

const struct ipfix_ie_def ipfix_ie_defs[] = {
#define NFP_IE(n, pen, id, type, rev, sem, units, desc)                                            \
    {#n, (pen) == NFP_PEN_NTOP, id, #type, rev, #sem, #units, desc},
#include "ie.def"
#undef NFP_IE
};
const size_t ipfix_n_ie_defs = sizeof(ipfix_ie_defs) / sizeof(ipfix_ie_defs[0]);

const struct ipfix_field *
ipfix_field_by_element(const char *element)
{
    for (size_t i = 0; i < ipfix_n_fields; i++)
        if (strcmp(ipfix_fields[i].element, element) == 0)
            return &ipfix_fields[i];
    return NULL;
}

size_t
ipfix_default_order(uint16_t *order)
{
    size_t n = 0;

    /* Fixed-length fields first (decoders such as python3-ipfix 0.9.7 loop forever on a
     * template that starts with a variable-length field), then strings, then lists. */
    for (int pass = 0; pass < 3; pass++) {
        for (size_t i = 0; i < ipfix_n_fields; i++) {
            const struct ipfix_field *f = &ipfix_fields[i];
            int cls = f->kind == IPFIX_K_LIST ? 2 : f->kind == IPFIX_K_VAR ? 1 : 0;
            if (cls == pass)
                order[n++] = (uint16_t)i;
        }
    }
    return n;
}

/* ------------------------------------------------------------------ information model */

static int
fb_type(const char *t)
{
    static const struct {
        const char *name;
        int type;
    } map[] = {
        {"octetArray", FB_OCTET_ARRAY},   {"unsigned8", FB_UINT_8},
        {"unsigned16", FB_UINT_16},       {"unsigned32", FB_UINT_32},
        {"unsigned64", FB_UINT_64},       {"signed8", FB_INT_8},
        {"float64", FB_FLOAT_64},         {"string", FB_STRING},
        {"dateTimeMilliseconds", FB_DT_MILSEC}, {"basicList", FB_BASIC_LIST},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].name, t) == 0)
            return map[i].type;
    return -1;
}

static int
fb_type_len(int type)
{
    switch (type) {
    case FB_UINT_8:
    case FB_INT_8:
        return 1;
    case FB_UINT_16:
        return 2;
    case FB_UINT_32:
        return 4;
    case FB_UINT_64:
    case FB_FLOAT_64:
    case FB_DT_MILSEC:
        return 8;
    default:
        return FB_IE_VARLEN;
    }
}

static uint32_t
fb_semantic(const char *s)
{
    static const char *const names[] = {"default", "quantity", "totalCounter", "deltaCounter",
                                        "identifier", "flags", "list"};
    for (uint32_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i], s) == 0)
            return i << 8;
    return 0;
}

static uint32_t
fb_units(const char *u)
{
    static const char *const names[] = {"none", "bits", "octets", "packets", "flows", "seconds",
                                        "milliseconds"};
    for (uint32_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i], u) == 0)
            return i << 16;
    return 0;
}

fbInfoModel_t *
ipfix_model_new(uint32_t pen, char *err, size_t errlen)
{
    fbInfoElement_t ies[sizeof(ipfix_ie_defs) / sizeof(ipfix_ie_defs[0]) + 1];
    fbInfoModel_t *model;

    if (pen == 0 || pen == NFP_PEN_REVERSE || pen == NFP_PEN_NTOP) {
        snprintf(err, errlen, "--pen %u: reserved by RFC 5103 or ntop, choose another", pen);
        return NULL;
    }
    memset(ies, 0, sizeof(ies));
    for (size_t i = 0; i < ipfix_n_ie_defs; i++) {
        const struct ipfix_ie_def *d = &ipfix_ie_defs[i];
        int type = fb_type(d->type);
        if (type < 0) {
            snprintf(err, errlen, "probe/ie.def: %s: unknown type %s", d->name, d->type);
            return NULL;
        }
        uint32_t flags = fb_semantic(d->semantics) | fb_units(d->units);
        if (type != FB_STRING && type != FB_OCTET_ARRAY && type != FB_BASIC_LIST)
            flags |= FB_IE_F_ENDIAN;
        if (d->reversible)
            flags |= FB_IE_F_REVERSIBLE;
        fbInfoElement_t ie = FB_IE_INIT_FULL(d->name, d->ntop ? NFP_PEN_NTOP : pen, d->id,
                                             fb_type_len(type), flags, 0, 0, (uint8_t)type,
                                             (char *)d->description);
        ies[i] = ie;
    }
    model = fbInfoModelAlloc();
    fbInfoModelAddElementArray(model, ies);
    return model;
}

/* A spec array for fbTemplateAppendSpecArray from element names and lengths. */
static fbInfoElementSpec_t
spec_of(const char *name, uint16_t len)
{
    fbInfoElementSpec_t s = {(char *)name, len, 0};
    return s;
}

static fbTemplate_t *
template_from(fbInfoModel_t *model, const fbInfoElementSpec_t *spec, size_t n, uint16_t scope,
              char *err, size_t errlen)
{
    fbTemplate_t *t = fbTemplateAlloc(model);
    GError *gerr = NULL;

    for (size_t i = 0; i < n; i++) {
        if (!fbTemplateAppendSpec(t, (fbInfoElementSpec_t *)&spec[i], 0, &gerr)) {
            snprintf(err, errlen, "template element %s: %s", spec[i].name, gerr->message);
            g_clear_error(&gerr);
            fbTemplateFreeUnused(t);
            return NULL;
        }
    }
    if (scope > 0)
        fbTemplateSetOptionsScope(t, scope);
    return t;
}

/* struct ipfix_rec's internal spec into spec (2 * IPFIX_N_RANKS + 1): every field in memory
 * order, the compiler's padding as paddingOctets (libfixbuf adds lengths to find offsets). */
static size_t
rec_spec(fbInfoElementSpec_t *spec)
{
    uint16_t by_off[IPFIX_N_RANKS];
    size_t n = 0, at = 0;

    for (size_t i = 0; i < ipfix_n_fields; i++)
        by_off[i] = (uint16_t)i;
    for (size_t i = 1; i < ipfix_n_fields; i++) /* insertion sort by offset, once per session */
        for (size_t j = i;
             j > 0 && ipfix_fields[by_off[j - 1]].offset > ipfix_fields[by_off[j]].offset; j--) {
            uint16_t x = by_off[j];
            by_off[j] = by_off[j - 1];
            by_off[j - 1] = x;
        }
    for (size_t i = 0; i <= ipfix_n_fields; i++) {
        size_t off = i < ipfix_n_fields ? ipfix_fields[by_off[i]].offset : sizeof(struct ipfix_rec);
        if (off > at)
            spec[n++] = spec_of("paddingOctets", (uint16_t)(off - at));
        if (i == ipfix_n_fields)
            break;
        const struct ipfix_field *f = &ipfix_fields[by_off[i]];
        spec[n++] = spec_of(f->element, f->len);
        at = off + f->mem_len;
    }
    return n;
}

int
ipfix_element_ids(const char *const *names, size_t n, uint32_t pen, uint32_t *pens,
                  uint16_t *ids)
{
    char err[256];
    fbInfoModel_t *model = ipfix_model_new(pen, err, sizeof(err));

    if (model == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const fbInfoElement_t *ie =
            names[i] != NULL ? fbInfoModelGetElementByName(model, names[i]) : NULL;
        pens[i] = ie != NULL ? ie->ent : 0;
        ids[i] = ie != NULL ? ie->num : 0;
    }
    fbInfoModelFree(model);
    return 0;
}

fbTemplate_t *
ipfix_rec_template(fbInfoModel_t *model, char *err, size_t errlen)
{
    fbInfoElementSpec_t spec[2 * IPFIX_N_RANKS + 1];
    size_t n = rec_spec(spec);
    fbTemplate_t *t;

    t = template_from(model, spec, n, 0, err, errlen);
    if (t != NULL && fbTemplateGetIELenOfMemBuffer(t) != sizeof(struct ipfix_rec)) {
        snprintf(err, errlen, "ipfix: libfixbuf lays struct ipfix_rec out in %u octets, not %zu",
                 fbTemplateGetIELenOfMemBuffer(t), sizeof(struct ipfix_rec));
        fbTemplateFreeUnused(t);
        return NULL;
    }
    return t;
}

/* ------------------------------------------------------------------ options records */

struct opt_mstats {
    uint64_t messages;
    uint64_t flows;
    uint64_t octets;
    uint32_t domain;
    uint8_t pad[4];
};

struct opt_mrel {
    uint64_t ignored_packets;
    uint64_t ignored_octets;
    uint64_t first_ms;
    uint64_t last_ms;
    uint32_t domain;
    uint8_t pad[4];
};

struct opt_erel {
    uint64_t flows;
    uint64_t packets;
    uint64_t octets;
    uint64_t first_ms;
    uint64_t last_ms;
    uint32_t process;
    uint8_t pad[4];
};

/* exporterIPv4Address: libfixbuf keeps an ipv4Address as a host-order uint32 */
struct opt_exporter4 {
    uint32_t process;
    uint32_t addr;
};

struct opt_exporter6 {
    uint8_t addr[16];
    uint32_t process;
    uint8_t pad[4];
};

struct opt_appmap {
    uint32_t domain;
    uint8_t id[IPFIX_APP_ID_LEN];
    char name[IPFIX_APP_NAME_LEN];
    char desc[IPFIX_APP_DESC_LEN];
    uint8_t pad[1];
};
_Static_assert(sizeof(struct opt_appmap) == 4 + IPFIX_APP_ID_LEN + IPFIX_APP_NAME_LEN +
                                                IPFIX_APP_DESC_LEN + 1,
               "opt_appmap must have no hidden padding");

/* Internal (memory order) and external (scope first) layouts of the options templates. */
static const fbInfoElementSpec_t mstats_int[] = {
    {"exportedMessageTotalCount", 8, 0}, {"exportedFlowRecordTotalCount", 8, 0},
    {"exportedOctetTotalCount", 8, 0},   {"observationDomainId", 4, 0},
    {"paddingOctets", 4, 0}};
static const fbInfoElementSpec_t mstats_ext[] = {
    {"observationDomainId", 4, 0}, {"exportedMessageTotalCount", 8, 0},
    {"exportedFlowRecordTotalCount", 8, 0}, {"exportedOctetTotalCount", 8, 0}};
static const fbInfoElementSpec_t mrel_int[] = {
    {"ignoredPacketTotalCount", 8, 0},     {"ignoredOctetTotalCount", 8, 0},
    {"observationTimeMilliseconds", 8, 0}, {"observationTimeMilliseconds", 8, 0},
    {"observationDomainId", 4, 0},         {"paddingOctets", 4, 0}};
static const fbInfoElementSpec_t mrel_ext[] = {
    {"observationDomainId", 4, 0},         {"ignoredPacketTotalCount", 8, 0},
    {"ignoredOctetTotalCount", 8, 0},      {"observationTimeMilliseconds", 8, 0},
    {"observationTimeMilliseconds", 8, 0}};
static const fbInfoElementSpec_t erel_int[] = {
    {"notSentFlowTotalCount", 8, 0},       {"notSentPacketTotalCount", 8, 0},
    {"notSentOctetTotalCount", 8, 0},      {"observationTimeMilliseconds", 8, 0},
    {"observationTimeMilliseconds", 8, 0}, {"exportingProcessId", 4, 0},
    {"paddingOctets", 4, 0}};
static const fbInfoElementSpec_t erel_ext[] = {
    {"exportingProcessId", 4, 0},          {"notSentFlowTotalCount", 8, 0},
    {"notSentPacketTotalCount", 8, 0},     {"notSentOctetTotalCount", 8, 0},
    {"observationTimeMilliseconds", 8, 0}, {"observationTimeMilliseconds", 8, 0}};
/* The exporter's address (130/131), scoped like the reliability record by exportingProcessId:
 * what routers announce; nfdump 1.7.1 keys exporters by the packets' source address instead
 * (?exporter= binds it). */
static const fbInfoElementSpec_t exp4_int[] = {
    {"exportingProcessId", 4, 0}, {"exporterIPv4Address", 4, 0}};
static const fbInfoElementSpec_t exp6_int[] = {
    {"exporterIPv6Address", 16, 0}, {"exportingProcessId", 4, 0}, {"paddingOctets", 4, 0}};
static const fbInfoElementSpec_t exp6_ext[] = {
    {"exportingProcessId", 4, 0}, {"exporterIPv6Address", 16, 0}};
static const fbInfoElementSpec_t appmap_int[] = {
    {"observationDomainId", 4, 0},
    {"applicationId", IPFIX_APP_ID_LEN, 0},
    {"applicationName", IPFIX_APP_NAME_LEN, 0},
    {"applicationDescription", IPFIX_APP_DESC_LEN, 0},
    {"paddingOctets", 1, 0}};
static const fbInfoElementSpec_t appmap_ext[] = {
    {"observationDomainId", 4, 0},
    {"applicationId", IPFIX_APP_ID_LEN, 0},
    {"applicationName", IPFIX_APP_NAME_LEN, 0},
    {"applicationDescription", IPFIX_APP_DESC_LEN, 0}};

/*
 * --sampling (docs/sampling.md): the RFC 7014 selector report, scope selectorId, with 305/306
 * (count) or 309/310 (random) as p1/p2; and, as a template of its own, the one nfdump 1.7.1
 * reads (it ignores a sampler template carrying 302 or 304). probe/sampling_export.c writes
 * the same layouts by hand (test_export_ipfix compares the two).
 */
struct opt_smp {
    uint64_t selector_id;
    uint64_t observed;
    uint64_t selected;
    uint32_t p1; /* samplingPacketInterval (1) or samplingSize (1) */
    uint32_t p2; /* samplingPacketSpace (N - 1) or samplingPopulation (N) */
    uint16_t algorithm;
    uint8_t pad[6];
};
_Static_assert(sizeof(struct opt_smp) == 40, "opt_smp must have no hidden padding");

struct opt_smp_nfdump {
    uint32_t domain;
    uint32_t interval; /* 1 */
    uint32_t space;    /* N - 1 */
};

/* The report's specs; P1/P2 are the mode's parameter elements. */
#define SMP_INT(p1, p2)                                                                            \
    {{"selectorId", 8, 0},     {"selectorIdTotalPktsObserved", 8, 0},                            \
     {"selectorIdTotalPktsSelected", 8, 0}, {p1, 4, 0}, {p2, 4, 0},                              \
     {"selectorAlgorithm", 2, 0}, {"paddingOctets", 6, 0}}
#define SMP_EXT(p1, p2)                                                                            \
    {{"selectorId", 8, 0}, {"selectorAlgorithm", 2, 0}, {p1, 4, 0}, {p2, 4, 0},                  \
     {"selectorIdTotalPktsObserved", 8, 0}, {"selectorIdTotalPktsSelected", 8, 0}}
static const fbInfoElementSpec_t smp_count_int[] =
    SMP_INT("samplingPacketInterval", "samplingPacketSpace");
static const fbInfoElementSpec_t smp_count_ext[] =
    SMP_EXT("samplingPacketInterval", "samplingPacketSpace");
static const fbInfoElementSpec_t smp_random_int[] = SMP_INT("samplingSize", "samplingPopulation");
static const fbInfoElementSpec_t smp_random_ext[] = SMP_EXT("samplingSize", "samplingPopulation");
#undef SMP_INT
#undef SMP_EXT
static const fbInfoElementSpec_t smp_nfdump[] = {{"observationDomainId", 4, 0},
                                                  {"samplingPacketInterval", 4, 0},
                                                  {"samplingPacketSpace", 4, 0}};

/* The selectorId of the report: one selector per observation domain. */
#define IPFIX_SELECTOR_ID 1

/* RFC 5610 type records as libfixbuf writes them, without the padding of its internal layout. */
static const fbInfoElementSpec_t typeinfo_ext[] = {
    {"privateEnterpriseNumber", 4, 0},      {"informationElementId", 2, 0},
    {"informationElementDataType", 1, 0},   {"informationElementSemantics", 1, 0},
    {"informationElementUnits", 2, 0},      {"informationElementRangeBegin", 8, 0},
    {"informationElementRangeEnd", 8, 0},   {"informationElementName", FB_IE_VARLEN, 0},
    {"informationElementDescription", FB_IE_VARLEN, 0}};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ encoder state */

/* One entry of the application map (nfdump 1.7.1 wants fixed-length names). */
struct app_entry {
    uint16_t id;
    char name[IPFIX_APP_NAME_LEN];
    char desc[IPFIX_APP_DESC_LEN];
};

struct ipfix_enc {
    struct exp_enc_params p;
    fbInfoModel_t *model;
    fBuf_t *fbuf; /* owns the session and the exporter; NULL between sessions */
    fbExporter_t *exporter;
    uint8_t *buf; /* max_msg octets: where fBufEmit copies each message */
    uint32_t groups;
    uint16_t order[sizeof(ipfix_fields) / sizeof(ipfix_fields[0])]; /* exported fields */
    size_t n_order;
    uint64_t fill_bits[(FLD_COUNT + 63) / 64]; /* by fld_id: exported, and this run has it */
    struct flow_layout layout;
    bool partial;
    struct exp_msg_info cur; /* what the message being filled carries */
    const fbInfoElement_t *ie_dir, *ie_ps, *ie_piat; /* basicList members */
    const fbInfoElement_t *type_ies[2 * sizeof(ipfix_ie_defs) / sizeof(ipfix_ie_defs[0]) +
                                    EXP_MAX_EXTRA];
    size_t n_type_ies;
    /* plugin: with plugin elements, records are struct ipfix_rec followed by their values
     * (template IPFIX_TID_REC_EXTRA): variable-length ones as fbVarfield_t pointing into
     * xvals, then the fixed-length ones, packed as libfixbuf lays internal records out */
    unsigned char *xrec;
    size_t xrec_len;
    uint8_t *xvals;
    uint8_t app_id[IPFIX_APP_ID_LEN];
    /* --uniflow: the row each element takes its value from, per direction (fields.h) */
    uint16_t (*dir_map)[FLD_COUNT];
    int pk_row; /* packetDeltaCount: a direction without packets has no record */
    struct app_entry *apps; /* the application map, built at open */
    size_t n_apps;
    /* --sampling-upscale: the exported counter fields (ipfix_fields indices) times scale */
    uint16_t scaled[16];
    size_t n_scaled;
    struct ipfix_rec rec;
};

static uint32_t
export_time(const struct ipfix_enc *e)
{
    return e->p.export_time_s ? e->p.export_time_s : (uint32_t)time(NULL);
}

/*
 * libfixbuf 2.4.1 can leave a Set with no record (its header only) when a record did not fit;
 * RFC 7011 section 3.3.1 requires one or more records per Set and some collectors reject it.
 */
static size_t
strip_empty_sets(uint8_t *m, size_t len)
{
    size_t off = 16;

    while (off + 4 <= len) {
        uint16_t slen = (uint16_t)(m[off + 2] << 8 | m[off + 3]);
        if (slen < 4 || slen > len - off)
            break;
        if (slen == 4) {
            memmove(m + off, m + off + 4, len - off - 4);
            len -= 4;
            continue;
        }
        off += slen;
    }
    m[2] = (uint8_t)(len >> 8);
    m[3] = (uint8_t)len;
    return len;
}

static int
emit(struct ipfix_enc *e)
{
    GError *gerr = NULL;

    if (e->fbuf == NULL)
        return 0;
    if (!fBufEmit(e->fbuf, &gerr)) {
        g_clear_error(&gerr);
        return -EIO;
    }
    if (e->partial) {
        size_t len = strip_empty_sets(e->buf, fbExporterGetMsgLen(e->exporter));
        struct exp_msg_info info = e->cur;
        memset(&e->cur, 0, sizeof(e->cur));
        e->partial = false;
        e->p.sink(e->p.sink_ctx, e->buf, len, &info);
    }
    return 0;
}

enum app_kind { APP_TEMPLATE, APP_DATA, APP_TYPEINFO };

struct append_op {
    enum app_kind kind;
    uint16_t itid; /* internal template, data */
    uint16_t etid; /* external template (data) or the template to export */
    void *rec;
    size_t len;
    const fbInfoElement_t *ie;
};

static gboolean
append_once(struct ipfix_enc *e, const struct append_op *op, GError **gerr)
{
    fBufSetExportTime(e->fbuf, export_time(e));
    switch (op->kind) {
    case APP_TEMPLATE:
        return fbSessionExportTemplate(fBufGetSession(e->fbuf), op->etid, gerr);
    case APP_TYPEINFO:
        return fbInfoElementWriteOptionsRecord(e->fbuf, op->ie, op->itid, op->etid, gerr);
    case APP_DATA:
    default:
        if (!fBufSetInternalTemplate(e->fbuf, op->itid, gerr) ||
            !fBufSetExportTemplate(e->fbuf, op->etid, gerr))
            return FALSE;
        return fBufAppend(e->fbuf, op->rec, op->len, gerr);
    }
}

/*
 * Appends, emitting the current message first when libfixbuf says it ended (full, or a switch
 * between templates and records). Returns -EMSGSIZE when it does not fit an empty message.
 */
static int
append(struct ipfix_enc *e, const struct append_op *op)
{
    GError *gerr = NULL;

    for (int attempt = 0; attempt < 2; attempt++) {
        if (append_once(e, op, &gerr)) {
            e->partial = true;
            if (op->kind != APP_TEMPLATE)
                e->cur.records++;
            return 0;
        }
        bool eom = g_error_matches(gerr, FB_ERROR_DOMAIN, FB_ERROR_EOM);
        g_clear_error(&gerr);
        if (!eom)
            return -EINVAL;
        if (attempt == 0) {
            int rc = emit(e);
            if (rc != 0)
                return rc;
        }
    }
    return -EMSGSIZE;
}

/* ------------------------------------------------------------------ template file */

static bool
in_order(const struct ipfix_enc *e, size_t idx)
{
    for (size_t i = 0; i < e->n_order; i++)
        if (e->order[i] == idx)
            return true;
    return false;
}

/* One element name per line, '#' comments; order = order in the templates (README.md). */
static int
load_template_file(struct ipfix_enc *e, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char line[256];
    unsigned lineno = 0;

    if (fp == NULL) {
        snprintf(err, errlen, "--ipfix-template %s: %s", path, strerror(errno));
        return -errno;
    }
    e->n_order = 0;
    while (fgets(line, sizeof(line), fp) != NULL) {
        char *p = line, *end;
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(fp)) {
            snprintf(err, errlen, "%s:%u: line too long", path, lineno);
            goto fail;
        }
        line[strcspn(line, "#\r\n")] = '\0';
        while (isspace((unsigned char)*p))
            p++;
        end = p + strlen(p);
        while (end > p && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (*p == '\0')
            continue;
        if (strpbrk(p, " \t") != NULL) {
            snprintf(err, errlen, "%s:%u: one element name per line, got '%s'", path, lineno, p);
            goto fail;
        }
        const struct ipfix_field *f = ipfix_field_by_element(p);
        if (f == NULL) {
            snprintf(err, errlen,
                     "%s:%u: '%s' is not an element nfprobe exports (see templates/README.md)",
                     path, lineno, p);
            goto fail;
        }
        size_t idx = (size_t)(f - ipfix_fields);
        if (in_order(e, idx)) {
            snprintf(err, errlen, "%s:%u: '%s' is listed twice", path, lineno, p);
            goto fail;
        }
        e->order[e->n_order++] = (uint16_t)idx;
    }
    if (ferror(fp)) {
        snprintf(err, errlen, "--ipfix-template %s: read error", path);
        goto fail;
    }
    fclose(fp);
    if (e->n_order == 0) {
        snprintf(err, errlen, "%s: no element listed", path);
        return -EINVAL;
    }
    return 0;
fail:
    fclose(fp);
    return -EINVAL;
}

/* -n: parse a template file as the exporter will, without an exporter. */
int
ipfix_check_template(const char *path, char *err, size_t errlen)
{
    struct ipfix_enc *e = calloc(1, sizeof(*e));

    if (e == NULL) {
        snprintf(err, errlen, "--ipfix-template %s: out of memory", path);
        return -ENOMEM;
    }
    int rc = load_template_file(e, path, err, errlen);
    free(e);
    return rc;
}

/* The external spec of one address family: the chosen fields whose groups are all enabled. */
static size_t
external_spec(const struct ipfix_enc *e, uint32_t family, fbInfoElementSpec_t *spec)
{
    uint32_t enabled = e->groups | family;
    size_t n = 0;

    for (size_t i = 0; i < e->n_order; i++) {
        const struct ipfix_field *f = &ipfix_fields[e->order[i]];
        if ((f->groups & enabled) == f->groups)
            spec[n++] = spec_of(f->element, f->len);
    }
    /* plugin: their elements close every data template, in plugin and field order */
    for (size_t i = 0; i < e->p.n_extras; i++) {
        const struct exp_extra *x = &e->p.extras[i];
        spec[n++] = spec_of(x->name, x->varlen ? FB_IE_VARLEN : x->length);
    }
    return n;
}

/* Our and ntop's elements in the data templates, for RFC 5610 type records. */
static void
collect_type_ies(struct ipfix_enc *e)
{
    fbInfoElementSpec_t spec[NELEM(ipfix_fields) + EXP_MAX_EXTRA];
    const uint32_t fams[2] = {NFP_G_V4, NFP_G_V6};

    e->n_type_ies = 0;
    for (int fam = 0; fam < 2; fam++) {
        size_t n = external_spec(e, fams[fam], spec);
        for (size_t i = 0; i < n; i++) {
            const fbInfoElement_t *ie = fbInfoModelGetElementByName(e->model, spec[i].name);
            if (ie == NULL || ie->ent == 0 || ie->ent == NFP_PEN_REVERSE)
                continue;
            bool seen = false;
            for (size_t k = 0; k < e->n_type_ies; k++)
                seen |= e->type_ies[k] == ie;
            if (!seen)
                e->type_ies[e->n_type_ies++] = ie;
            /* A list's member elements need describing too. */
            const fbInfoElement_t *member = NULL;
            if (strcmp(spec[i].name, "nfsSpltDirection") == 0)
                member = e->ie_dir;
            else if (strcmp(spec[i].name, "nfsSpltPacketSize") == 0)
                member = e->ie_ps;
            else if (strcmp(spec[i].name, "nfsSpltPiatMilliseconds") == 0)
                member = e->ie_piat;
            seen = member == NULL;
            for (size_t k = 0; k < e->n_type_ies && !seen; k++)
                seen = e->type_ies[k] == member;
            if (!seen)
                e->type_ies[e->n_type_ies++] = member;
        }
    }
}

/* ------------------------------------------------------------------ session */

static void
session_free(struct ipfix_enc *e)
{
    if (e->fbuf != NULL)
        fBufFree(e->fbuf); /* frees the session, its templates and the exporter */
    e->fbuf = NULL;
    e->exporter = NULL;
    e->partial = false;
    memset(&e->cur, 0, sizeof(e->cur));
}

static int
add_template(fbSession_t *s, gboolean internal, uint16_t tid, fbTemplate_t *t)
{
    GError *gerr = NULL;

    if (t == NULL)
        return -EINVAL;
    if (!fbSessionAddTemplate(s, internal, tid, t, &gerr)) {
        g_clear_error(&gerr);
        fbTemplateFreeUnused(t);
        return -EINVAL;
    }
    return 0;
}

static fbTemplate_t *extra_rec_template(struct ipfix_enc *e); /* plugin */

/* A new libfixbuf session with every template: sequence numbers from 0. */
static int
session_build(struct ipfix_enc *e)
{
    fbInfoElementSpec_t spec[NELEM(ipfix_fields) + EXP_MAX_EXTRA];
    char err[256];
    fbSession_t *s;
    int rc = 0;
    GError *gerr = NULL;

    session_free(e);
    s = fbSessionAlloc(e->model);
    fbSessionSetDomain(s, e->p.observation_domain);
    rc |= add_template(s, TRUE, IPFIX_TID_REC, ipfix_rec_template(e->model, err, sizeof(err)));
    if (e->xrec != NULL)
        rc |= add_template(s, TRUE, IPFIX_TID_REC_EXTRA, extra_rec_template(e));
    size_t n = external_spec(e, NFP_G_V4, spec);
    rc |= add_template(s, FALSE, IPFIX_TID_V4,
                       template_from(e->model, spec, n, 0, err, sizeof(err)));
    n = external_spec(e, NFP_G_V6, spec);
    rc |= add_template(s, FALSE, IPFIX_TID_V6,
                       template_from(e->model, spec, n, 0, err, sizeof(err)));
#define OPT_PAIR(tid, in, ex)                                                                      \
    do {                                                                                           \
        rc |= add_template(s, TRUE, tid,                                                           \
                           template_from(e->model, in, NELEM(in), 0, err, sizeof(err)));       \
        rc |= add_template(s, FALSE, tid,                                                          \
                           template_from(e->model, ex, NELEM(ex), 1, err, sizeof(err)));       \
    } while (0)
    OPT_PAIR(IPFIX_TID_MSTATS, mstats_int, mstats_ext);
    OPT_PAIR(IPFIX_TID_MREL, mrel_int, mrel_ext);
    OPT_PAIR(IPFIX_TID_EREL, erel_int, erel_ext);
    OPT_PAIR(IPFIX_TID_EXPORTER4, exp4_int, exp4_int);
    OPT_PAIR(IPFIX_TID_EXPORTER6, exp6_int, exp6_ext);
    if (e->groups & NFP_G_L7) {
        OPT_PAIR(IPFIX_TID_APPMAP, appmap_int, appmap_ext);
        rc |= add_template(s, FALSE, IPFIX_TID_APPMAP2,
                           template_from(e->model, appmap_ext, NELEM(appmap_ext), 1, err,
                                         sizeof(err)));
    }
    if (e->p.sampling.interval > 0) {
        if (e->p.sampling.mode == SMP_RANDOM)
            OPT_PAIR(IPFIX_TID_SAMPLING, smp_random_int, smp_random_ext);
        else
            OPT_PAIR(IPFIX_TID_SAMPLING, smp_count_int, smp_count_ext);
        OPT_PAIR(IPFIX_TID_SAMPLING_NFDUMP, smp_nfdump, smp_nfdump);
    }
#undef OPT_PAIR
    if (e->n_type_ies > 0) {
        rc |= add_template(s, TRUE, IPFIX_TID_TYPEINFO,
                           fbInfoElementAllocTypeTemplate(e->model, &gerr));
        g_clear_error(&gerr);
        rc |= add_template(s, FALSE, IPFIX_TID_TYPEINFO,
                           template_from(e->model, typeinfo_ext, NELEM(typeinfo_ext), 2, err,
                                         sizeof(err)));
    }
    e->exporter = fbExporterAllocBuffer(e->buf, (uint16_t)e->p.max_msg);
    e->fbuf = fBufAllocForExport(s, e->exporter);
    fBufSetAutomaticMode(e->fbuf, FALSE);
    if (rc != 0) {
        session_free(e);
        return -EINVAL;
    }
    return 0;
}

static int
export_template(struct ipfix_enc *e, uint16_t tid)
{
    struct append_op op = {.kind = APP_TEMPLATE, .etid = tid};

    return append(e, &op);
}

/*
 * The options templates and the type records come before the data templates, so that a
 * collector learning names from RFC 5610 records (ipfixDump --rfc5610) knows our elements when
 * it reads the data templates. libfixbuf puts templates and records in separate messages.
 */
static int
send_templates(struct ipfix_enc *e)
{
    const uint16_t opt_tids[] = {IPFIX_TID_MSTATS,    IPFIX_TID_MREL,     IPFIX_TID_EREL,
                                 IPFIX_TID_EXPORTER4, IPFIX_TID_EXPORTER6, IPFIX_TID_SAMPLING,
                                 IPFIX_TID_SAMPLING_NFDUMP, IPFIX_TID_APPMAP, IPFIX_TID_APPMAP2,
                                 IPFIX_TID_TYPEINFO};
    int rc;

    for (size_t i = 0; i < NELEM(opt_tids); i++) {
        if ((opt_tids[i] == IPFIX_TID_APPMAP || opt_tids[i] == IPFIX_TID_APPMAP2) &&
            !(e->groups & NFP_G_L7))
            continue;
        if ((opt_tids[i] == IPFIX_TID_SAMPLING || opt_tids[i] == IPFIX_TID_SAMPLING_NFDUMP) &&
            e->p.sampling.interval == 0)
            continue;
        if (opt_tids[i] == IPFIX_TID_TYPEINFO && e->n_type_ies == 0)
            continue;
        /* nfdump 1.7.1 reads only the first options template of a Set: one per message. */
        if ((rc = export_template(e, opt_tids[i])) != 0 || (rc = emit(e)) != 0)
            return rc;
    }
    for (size_t i = 0; i < e->n_type_ies; i++) {
        struct append_op op = {.kind = APP_TYPEINFO, .itid = IPFIX_TID_TYPEINFO,
                               .etid = IPFIX_TID_TYPEINFO, .ie = e->type_ies[i]};
        if ((rc = append(e, &op)) != 0)
            return rc;
    }
    if ((rc = export_template(e, IPFIX_TID_V4)) != 0 ||
        (rc = export_template(e, IPFIX_TID_V6)) != 0)
        return rc;
    return emit(e);
}

/*
 * The application map. nfdump 1.7.1 decodes only the first map record of a Set (it never
 * learns the options scope size, so its record stride is wrong): each record gets a Set of its
 * own by alternating two identical templates, and no record comes after the first flow, since
 * nfdump counts only flow records in its sequence check (the table is sent whole up front).
 */
static int
send_apps(struct ipfix_enc *e)
{
    struct opt_appmap r;
    int rc;

    for (size_t i = 0; i < e->n_apps; i++) {
        const struct app_entry *a = &e->apps[i];
        memset(&r, 0, sizeof(r));
        r.domain = e->p.observation_domain;
        r.id[0] = IPFIX_APP_ENGINE_PANA_L7_PEN;
        r.id[1] = (uint8_t)(e->p.pen >> 24);
        r.id[2] = (uint8_t)(e->p.pen >> 16);
        r.id[3] = (uint8_t)(e->p.pen >> 8);
        r.id[4] = (uint8_t)e->p.pen;
        r.id[5] = (uint8_t)(a->id >> 8);
        r.id[6] = (uint8_t)a->id;
        memcpy(r.name, a->name, sizeof(r.name));
        memcpy(r.desc, a->desc, sizeof(r.desc));
        uint16_t tid = i % 2 ? IPFIX_TID_APPMAP2 : IPFIX_TID_APPMAP;
        struct append_op op = {.kind = APP_DATA, .itid = IPFIX_TID_APPMAP, .etid = tid,
                               .rec = &r, .len = sizeof(r)};
        if ((rc = append(e, &op)) != 0)
            return rc;
    }
    return emit(e);
}

/* The sampling options records: the selector report with the counters, then nfdump's. */
static int
send_sampling(struct ipfix_enc *e, const struct exp_opt_data *od)
{
    const struct smp_announce *sa = &e->p.sampling;
    bool rnd = sa->mode == SMP_RANDOM;
    struct opt_smp r = {.selector_id = IPFIX_SELECTOR_ID, .observed = od->smp_observed,
                        .selected = od->smp_selected, .p1 = 1,
                        .p2 = rnd ? sa->interval : sa->interval - 1, .algorithm = sa->algorithm};
    struct opt_smp_nfdump n = {.domain = e->p.observation_domain, .interval = 1,
                               .space = sa->interval - 1};
    struct append_op ops[] = {
        {.kind = APP_DATA, .itid = IPFIX_TID_SAMPLING, .etid = IPFIX_TID_SAMPLING, .rec = &r,
         .len = sizeof(r)},
        {.kind = APP_DATA, .itid = IPFIX_TID_SAMPLING_NFDUMP, .etid = IPFIX_TID_SAMPLING_NFDUMP,
         .rec = &n, .len = sizeof(n)},
    };
    int rc;

    for (size_t i = 0; i < NELEM(ops); i++)
        if ((rc = append(e, &ops[i])) != 0)
            return rc;
    return 0;
}

static int
send_options(struct ipfix_enc *e, const struct exp_opt_data *od)
{
    struct opt_mstats ms = {.messages = od->messages, .flows = od->flow_records,
                            .octets = od->octets, .domain = e->p.observation_domain};
    struct opt_mrel mr = {.ignored_packets = od->ignored_packets,
                          .ignored_octets = od->ignored_octets, .first_ms = od->first_obs_ms,
                          .last_ms = od->last_obs_ms, .domain = e->p.observation_domain};
    struct opt_erel er = {.flows = od->not_sent_flows, .packets = od->not_sent_packets,
                          .octets = od->not_sent_octets, .first_ms = od->start_ms,
                          .last_ms = od->now_ms, .process = e->p.observation_domain};
    struct append_op ops[] = {
        {.kind = APP_DATA, .itid = IPFIX_TID_MSTATS, .etid = IPFIX_TID_MSTATS, .rec = &ms,
         .len = sizeof(ms)},
        {.kind = APP_DATA, .itid = IPFIX_TID_MREL, .etid = IPFIX_TID_MREL, .rec = &mr,
         .len = sizeof(mr)},
        {.kind = APP_DATA, .itid = IPFIX_TID_EREL, .etid = IPFIX_TID_EREL, .rec = &er,
         .len = sizeof(er)},
    };
    int rc;

    for (size_t i = 0; i < NELEM(ops); i++)
        if ((rc = append(e, &ops[i])) != 0)
            return rc;
    if (od->exporter_family == 4) {
        struct opt_exporter4 x4 = {.process = e->p.observation_domain,
                                   .addr = (uint32_t)od->exporter_addr[0] << 24 |
                                           (uint32_t)od->exporter_addr[1] << 16 |
                                           (uint32_t)od->exporter_addr[2] << 8 |
                                           od->exporter_addr[3]};
        struct append_op op = {.kind = APP_DATA, .itid = IPFIX_TID_EXPORTER4,
                               .etid = IPFIX_TID_EXPORTER4, .rec = &x4, .len = sizeof(x4)};
        if ((rc = append(e, &op)) != 0)
            return rc;
    } else if (od->exporter_family == 6) {
        struct opt_exporter6 x6 = {.process = e->p.observation_domain};
        memcpy(x6.addr, od->exporter_addr, 16);
        struct append_op op = {.kind = APP_DATA, .itid = IPFIX_TID_EXPORTER6,
                               .etid = IPFIX_TID_EXPORTER6, .rec = &x6, .len = sizeof(x6)};
        if ((rc = append(e, &op)) != 0)
            return rc;
    }
    return e->p.sampling.interval > 0 ? send_sampling(e, od) : 0;
}

/* Everything a collector needs before flows: templates, type records, map, options data. */
static int
send_preamble(struct ipfix_enc *e, const struct exp_opt_data *od)
{
    int rc;

    if ((rc = emit(e)) != 0 || (rc = send_templates(e)) != 0 || (rc = send_apps(e)) != 0 ||
        (rc = send_options(e, od)) != 0)
        return rc;
    /* nfdump 1.7.1 counts only flow records in its sequence check: options records sharing a
     * message with flows would show as a sequence error there. */
    return emit(e);
}

/* ------------------------------------------------------------------ flows */

static void
set_list(fbBasicList_t *bl, const fbInfoElement_t *ie, const void *data, uint16_t n,
         size_t elem)
{
    fbBasicListInitWithOwnBuffer(bl, FB_LIST_SEM_ORDERED, ie, n, (uint16_t)(n * elem),
                                 (uint8_t *)(uintptr_t)data);
}

static inline uint64_t
saturate(uint64_t v, uint64_t max)
{
    return v > max ? max : v;
}

/* Stores catalogue row src's value of f into field fd's record member at m (src is fd's own
 * row, or in a uniflow record the row of the same type its direction reads). */
static void
fill_field(struct ipfix_enc *e, const struct ipfix_field *fd, enum fld_id src,
           const struct flow *f, unsigned char *m)
{
    union fld_value v;

    fld_get(src, &e->layout, f, &v);
    switch (fld_defs[src].type) {
    case FLD_T_U64:
        switch (fd->kind) {
        case IPFIX_K_U8: {
            uint8_t x = (uint8_t)saturate(v.u, UINT8_MAX);
            memcpy(m, &x, 1);
            break;
        }
        case IPFIX_K_U16: {
            uint16_t x = (uint16_t)saturate(v.u, UINT16_MAX);
            memcpy(m, &x, 2);
            break;
        }
        case IPFIX_K_U32: {
            uint32_t x = (uint32_t)saturate(v.u, UINT32_MAX);
            memcpy(m, &x, 4);
            break;
        }
        case IPFIX_K_BE24:
            m[0] = (unsigned char)(v.u >> 16);
            m[1] = (unsigned char)(v.u >> 8);
            m[2] = (unsigned char)v.u;
            break;
        default:
            memcpy(m, &v.u, 8);
            break;
        }
        break;
    case FLD_T_I64: {
        int8_t x = (int8_t)v.i; /* the only signed element is 1 octet (nfsExpirationId) */
        memcpy(m, &x, 1);
        break;
    }
    case FLD_T_F64:
        memcpy(m, &v.d, 8);
        break;
    case FLD_T_IP:
        if (fd->kind == IPFIX_K_U32) { /* libfixbuf wants IPv4 addresses in host order */
            uint32_t a;
            memcpy(&a, v.b, 4);
            a = ntohl(a);
            memcpy(m, &a, 4);
        } else {
            memcpy(m, v.b, 16);
        }
        break;
    case FLD_T_MAC:
        memcpy(m, v.b, 6);
        break;
    case FLD_T_STR: {
        fbVarfield_t *vf = (fbVarfield_t *)(void *)m;
        vf->buf = (uint8_t *)(uintptr_t)v.s;
        vf->len = strlen(v.s);
        break;
    }
    case FLD_T_APPID: {
        fbVarfield_t *vf = (fbVarfield_t *)(void *)m;
        e->app_id[0] = IPFIX_APP_ENGINE_PANA_L7_PEN;
        e->app_id[1] = (uint8_t)(e->p.pen >> 24);
        e->app_id[2] = (uint8_t)(e->p.pen >> 16);
        e->app_id[3] = (uint8_t)(e->p.pen >> 8);
        e->app_id[4] = (uint8_t)e->p.pen;
        e->app_id[5] = (uint8_t)(v.u >> 8);
        e->app_id[6] = (uint8_t)v.u;
        vf->buf = e->app_id;
        vf->len = IPFIX_APP_ID_LEN;
        break;
    }
    case FLD_T_LIST8:
        set_list((fbBasicList_t *)(void *)m, e->ie_dir, v.list, f->splt_len, sizeof(uint8_t));
        break;
    case FLD_T_LIST16:
        set_list((fbBasicList_t *)(void *)m, e->ie_ps, v.list, f->splt_len, sizeof(uint16_t));
        break;
    case FLD_T_LIST32:
        set_list((fbBasicList_t *)(void *)m, e->ie_piat, v.list, f->splt_len, sizeof(uint32_t));
        break;
    case FLD_T_OUI: /* no element */
        break;
    }
}

/* Setting a member from a row's value, by the row's type and IPFIX length (IPFIX_MEMBER_*). */
#define IPFIX_FILL_U64_0(e, r, m, v, f)
#define IPFIX_FILL_U64_1(e, r, m, v, f) (r)->m = (uint8_t)saturate((v), UINT8_MAX)
#define IPFIX_FILL_U64_2(e, r, m, v, f) (r)->m = (uint16_t)saturate((v), UINT16_MAX)
#define IPFIX_FILL_U64_3 IPFIX_FILL_GENERIC
#define IPFIX_FILL_U64_4(e, r, m, v, f) (r)->m = (uint32_t)saturate((v), UINT32_MAX)
#define IPFIX_FILL_U64_8(e, r, m, v, f) (r)->m = (uint64_t)(v)
#define IPFIX_FILL_I64_1(e, r, m, v, f) (r)->m = (int8_t)(v)
#define IPFIX_FILL_F64_0(e, r, m, v, f)
#define IPFIX_FILL_F64_8(e, r, m, v, f) (r)->m = (v)
#define IPFIX_FILL_OUI_0(e, r, m, v, f)
#define IPFIX_FILL_GENERIC(e, r, m, v, f)                                                          \
    fill_field(e, &ipfix_fields[fld_defs[FLD_##m].ipfix_rank], FLD_##m, f,                    \
               (unsigned char *)&(r)->m)
#define IPFIX_FILL_IP_4 IPFIX_FILL_GENERIC
#define IPFIX_FILL_IP_16 IPFIX_FILL_GENERIC
#define IPFIX_FILL_MAC_0(e, r, m, v, f)
#define IPFIX_FILL_MAC_6 IPFIX_FILL_GENERIC
#define IPFIX_FILL_STR_FLD_VARLEN IPFIX_FILL_GENERIC
#define IPFIX_FILL_APPID_FLD_VARLEN IPFIX_FILL_GENERIC
#define IPFIX_FILL_LIST8_FLD_VARLEN IPFIX_FILL_GENERIC
#define IPFIX_FILL_LIST16_FLD_VARLEN IPFIX_FILL_GENERIC
#define IPFIX_FILL_LIST32_FLD_VARLEN IPFIX_FILL_GENERIC

/*
 * The record of f: the exported fields (e->fill_bits, computed at open) from the catalogue. The
 * rows expand into straight-line code (a bit test that is the same for every flow, then a
 * direct store of numbers; addresses, strings and lists go through fill_field()).
 */
static void
fill_rec(struct ipfix_enc *e, const struct flow *f, struct ipfix_rec *r)
{
    const struct flow_layout *L = &e->layout;

    (void)L;
    memset(r, 0, sizeof(*r));
#define FLD(name, col, type, groups, get, ie, ilen, irank, v9, v9len, v9rank, ntop, plg)      \
    if ((irank) >= 0 && (e->fill_bits[FLD_##name / 64] >> (FLD_##name % 64) & 1)) {          \
        IPFIX_FILL_##type##_##ilen(e, r, name, get, f);                                        \
    }
#include "fields.def"
#undef FLD
}

/* --sampling-upscale: the counter fields of the record times N, saturated at their width. */
static void
upscale_rec(const struct ipfix_enc *e, struct ipfix_rec *r)
{
    uint32_t n = e->p.sampling.upscale;

    for (size_t i = 0; i < e->n_scaled; i++) {
        const struct ipfix_field *fd = &ipfix_fields[e->scaled[i]];
        unsigned char *m = (unsigned char *)r + fd->offset;
        if (fd->kind == IPFIX_K_U64) {
            uint64_t v;
            memcpy(&v, m, 8);
            v = smp_scale(v, n);
            memcpy(m, &v, 8);
        } else if (fd->kind == IPFIX_K_U32) {
            uint32_t v;
            memcpy(&v, m, 4);
            v = (uint32_t)saturate(smp_scale(v, n), UINT32_MAX);
            memcpy(m, &v, 4);
        }
    }
}

/* The record of direction dir (0 forward, 1 reverse) of f, forward elements only (--uniflow):
 * each exported element gets the value of the row dir_map names. */
static void
fill_rec_dir(struct ipfix_enc *e, const struct flow *f, int dir, struct ipfix_rec *r)
{
    memset(r, 0, sizeof(*r));
    for (size_t i = 0; i < e->n_order; i++) {
        const struct ipfix_field *fd = &ipfix_fields[e->order[i]];
        if (e->fill_bits[fd->fld / 64] >> (fd->fld % 64) & 1)
            fill_field(e, fd, (enum fld_id)e->dir_map[dir][fd->fld], f,
                       (unsigned char *)r + fd->offset);
    }
}

/* ------------------------------------------------------------------ plugin elements */

/*
 * The plugins' elements join the model under our PEN. They carry no FB_IE_F_ENDIAN: their
 * values are already in network order (exp_extra.encode), which libfixbuf then copies as is.
 */
static int
open_extras(struct ipfix_enc *e, char *err, size_t errlen)
{
    const struct exp_enc_params *p = &e->p;
    size_t mem = sizeof(struct ipfix_rec), vals = 0;

    if (p->n_extras > EXP_MAX_EXTRA) {
        snprintf(err, errlen, "ipfix: %zu plugin elements, at most %d", p->n_extras,
                 EXP_MAX_EXTRA);
        return -EINVAL;
    }
    for (size_t i = 0; i < p->n_extras; i++) {
        const struct exp_extra *x = &p->extras[i];
        if (fbInfoModelGetElementByName(e->model, x->name) != NULL ||
            fbInfoModelGetElementByID(e->model, x->id, p->pen) != NULL) {
            snprintf(err, errlen, "ipfix: plugin element %s (%u/%u) clashes with an element of "
                     "nfprobe's", x->name, p->pen, x->id);
            return -EINVAL;
        }
        fbInfoElement_t ie = FB_IE_INIT_FULL(x->name, p->pen, x->id,
                                             x->varlen ? FB_IE_VARLEN : x->length, 0, 0, 0,
                                             x->type, (char *)x->description);
        fbInfoModelAddElement(e->model, &ie);
        mem += x->varlen ? sizeof(fbVarfield_t) : x->length;
        vals += x->length;
    }
    e->xrec_len = mem;
    e->xrec = calloc(1, mem);
    e->xvals = malloc(vals > 0 ? vals : 1);
    if (e->xrec == NULL || e->xvals == NULL) {
        snprintf(err, errlen, "ipfix: out of memory");
        return -ENOMEM;
    }
    return 0;
}

/* struct ipfix_rec's fields, then the variable-length extras, then the fixed-length ones. */
static fbTemplate_t *
extra_rec_template(struct ipfix_enc *e)
{
    fbInfoElementSpec_t spec[2 * IPFIX_N_RANKS + 1 + EXP_MAX_EXTRA];
    char err[256];
    size_t n = rec_spec(spec);

    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < e->p.n_extras; i++) {
            const struct exp_extra *x = &e->p.extras[i];
            if (x->varlen == (pass == 0))
                spec[n++] = spec_of(x->name, x->varlen ? FB_IE_VARLEN : x->length);
        }
    }
    fbTemplate_t *t = template_from(e->model, spec, n, 0, err, sizeof(err));
    if (t != NULL && fbTemplateGetIELenOfMemBuffer(t) != e->xrec_len) {
        fbTemplateFreeUnused(t);
        return NULL;
    }
    return t;
}

/* The record in xrec: e->rec, then each plugin value in extra_rec_template()'s order. */
static void
fill_extras(struct ipfix_enc *e, const struct flow *f)
{
    unsigned char *p = e->xrec + sizeof(struct ipfix_rec);
    uint8_t *v = e->xvals;

    memcpy(e->xrec, &e->rec, sizeof(e->rec));
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < e->p.n_extras; i++) {
            const struct exp_extra *x = &e->p.extras[i];
            if (x->varlen != (pass == 0))
                continue;
            if (x->varlen) {
                fbVarfield_t vf = {.len = x->encode(x->ctx, f, v, x->length), .buf = v};
                memcpy(p, &vf, sizeof(vf));
                p += sizeof(vf);
                v += x->length;
            } else {
                if (x->encode(x->ctx, f, p, x->length) != x->length)
                    memset(p, 0, x->length);
                p += x->length;
            }
        }
    }
}

/* ------------------------------------------------------------------ ops */

static void ipfix_free(void *enc);

static void
dry_sink(void *ctx, const uint8_t *msg, size_t len, const struct exp_msg_info *info)
{
    (void)ctx;
    (void)msg;
    (void)len;
    (void)info;
}

static void *
ipfix_open(const struct exp_enc_params *p, char *err, size_t errlen)
{
    struct ipfix_enc *e = calloc(1, sizeof(*e));
    fbTemplate_t *t;

    if (e == NULL) {
        snprintf(err, errlen, "ipfix: out of memory");
        return NULL;
    }
    e->p = *p;
    if (p->max_msg < 256 || p->max_msg > UINT16_MAX) {
        snprintf(err, errlen, "ipfix: message size %u out of range 256..65535", p->max_msg);
        goto fail;
    }
    if ((e->model = ipfix_model_new(p->pen, err, errlen)) == NULL)
        goto fail;
    if (p->n_extras > 0 && open_extras(e, err, errlen) != 0) /* plugin */
        goto fail;
    /* The record layout must be libfixbuf's: checked once, here. */
    if ((t = ipfix_rec_template(e->model, err, errlen)) == NULL)
        goto fail;
    fbTemplateFreeUnused(t);
    if ((e->buf = malloc(p->max_msg)) == NULL) {
        snprintf(err, errlen, "ipfix: out of memory");
        goto fail;
    }
    e->layout = p->layout;
    e->groups = fld_groups(&e->layout) | (p->ntop_compat ? NFP_G_NTOP : 0);
    if (p->template_file != NULL) {
        if (load_template_file(e, p->template_file, err, errlen) != 0)
            goto fail;
    } else {
        e->n_order = ipfix_default_order(e->order);
    }
    if (p->uniflow) {
        /* Forward elements only: the reverse direction is a record of its own. */
        size_t n = 0;
        for (size_t i = 0; i < e->n_order; i++)
            if (!fld_uniflow_skip((enum fld_id)ipfix_fields[e->order[i]].fld))
                e->order[n++] = e->order[i];
        e->n_order = n;
        if ((e->dir_map = calloc(2, sizeof(*e->dir_map))) == NULL) {
            snprintf(err, errlen, "ipfix: out of memory");
            goto fail;
        }
        fld_direction_map(FLOW_S2D, e->groups | NFP_G_V4 | NFP_G_V6, e->dir_map[0]);
        fld_direction_map(FLOW_D2S, e->groups | NFP_G_V4 | NFP_G_V6, e->dir_map[1]);
        e->pk_row = fld_by_ipfix("packetDeltaCount");
    }
    memset(e->fill_bits, 0, sizeof(e->fill_bits));
    for (size_t i = 0; i < e->n_order; i++) { /* only what this run's flows have */
        uint16_t id = ipfix_fields[e->order[i]].fld;
        if (fld_enabled((enum fld_id)id, e->groups | NFP_G_V4 | NFP_G_V6) &&
            (e->dir_map == NULL ||
             (fld_enabled((enum fld_id)e->dir_map[0][id], e->groups | NFP_G_V4 | NFP_G_V6) &&
              fld_enabled((enum fld_id)e->dir_map[1][id], e->groups | NFP_G_V4 | NFP_G_V6))))
            e->fill_bits[id / 64] |= UINT64_C(1) << (id % 64);
    }
    if (p->sampling.upscale > 1) /* the counters this run exports */
        for (size_t i = 0; i < e->n_order && e->n_scaled < NELEM(e->scaled); i++) {
            const struct ipfix_field *fd = &ipfix_fields[e->order[i]];
            if (smp_scaled_element(fd->element) &&
                (e->fill_bits[fd->fld / 64] >> (fd->fld % 64) & 1))
                e->scaled[e->n_scaled++] = e->order[i];
        }
    e->ie_dir = fbInfoModelGetElementByName(e->model, "nfsPacketDirection");
    e->ie_ps = fbInfoModelGetElementByName(e->model, "nfsPacketSize");
    e->ie_piat = fbInfoModelGetElementByName(e->model, "nfsPacketPiatMilliseconds");
    collect_type_ies(e);
    if (p->layout.l7 && p->app_name != NULL && p->n_apps > 0) {
        if ((e->apps = calloc(p->n_apps, sizeof(*e->apps))) == NULL) {
            snprintf(err, errlen, "ipfix: out of memory");
            goto fail;
        }
        for (uint16_t id = 0; id < p->n_apps; id++) {
            const char *name = p->app_name(p->app_ctx, id);
            struct app_entry *a = &e->apps[e->n_apps++];
            a->id = id;
            /* nfdump overwrites the last octet with a NUL: names stay shorter. */
            snprintf(a->name, sizeof(a->name), "%s", name != NULL ? name : "");
            snprintf(a->desc, sizeof(a->desc), "nDPI %s", name != NULL ? name : "");
        }
    }
    /* A dry run of a session start, so that a template error, or templates and type records
     * larger than a message, show at start rather than at the first connection. */
    struct exp_opt_data od;
    int rc;
    memset(&od, 0, sizeof(od));
    e->p.sink = dry_sink;
    if ((rc = session_build(e)) != 0) {
        snprintf(err, errlen, "ipfix: cannot build the templates%s%s",
                 p->template_file ? " of " : "", p->template_file ? p->template_file : "");
        goto fail;
    }
    if ((rc = send_preamble(e, &od)) != 0) {
        if (rc == -EMSGSIZE)
            snprintf(err, errlen, "message size %u is too small for the templates (--mtu)",
                     p->max_msg);
        else
            snprintf(err, errlen, "ipfix: cannot encode the templates: %s", strerror(-rc));
        goto fail;
    }
    session_free(e);
    e->p.sink = p->sink;
    return e;
fail:
    ipfix_free(e);
    return NULL;
}

static void
ipfix_free(void *enc)
{
    struct ipfix_enc *e = enc;

    if (e == NULL)
        return;
    session_free(e);
    if (e->model != NULL)
        fbInfoModelFree(e->model);
    free(e->apps);
    free(e->dir_map);
    free(e->buf);
    free(e->xrec); /* plugin */
    free(e->xvals);
    free(e);
}

static int
ipfix_session(void *enc, const struct exp_opt_data *od)
{
    struct ipfix_enc *e = enc;
    int rc = session_build(e);

    return rc != 0 ? rc : send_preamble(e, od);
}

static int
ipfix_refresh(void *enc, const struct exp_opt_data *od)
{
    struct ipfix_enc *e = enc;

    if (e->fbuf == NULL)
        return ipfix_session(enc, od);
    return send_preamble(e, od);
}

static int
ipfix_options(void *enc, const struct exp_opt_data *od)
{
    struct ipfix_enc *e = enc;

    if (e->fbuf == NULL)
        return -ENOTCONN;
    return send_options(e, od);
}

/* Appends e->rec, filled for f: --sampling-upscale, then the plugins' elements. */
static int
append_rec(struct ipfix_enc *e, const struct flow *f)
{
    struct append_op op = {.kind = APP_DATA, .itid = IPFIX_TID_REC,
                           .etid = f->key.ip_version == 4 ? IPFIX_TID_V4 : IPFIX_TID_V6,
                           .rec = &e->rec, .len = sizeof(e->rec)};

    if (e->n_scaled > 0)
        upscale_rec(e, &e->rec);
    if (e->xrec != NULL) { /* plugin */
        fill_extras(e, f);
        op.itid = IPFIX_TID_REC_EXTRA;
        op.rec = e->xrec;
        op.len = e->xrec_len;
    }
    return append(e, &op);
}

/* --uniflow: a record per direction that saw packets; the flow counts once, with its last. */
static int
flow_uniflow(struct ipfix_enc *e, const struct flow *f)
{
    bool has[2];
    int rc;

    for (int d = 0; d < 2; d++) {
        union fld_value v = {.u = 1};
        if (e->pk_row >= 0)
            fld_get((enum fld_id)e->dir_map[d][e->pk_row], &e->layout, f, &v);
        has[d] = v.u > 0;
    }
    for (int d = 0; d < 2; d++) {
        if (!has[d])
            continue;
        fill_rec_dir(e, f, d, &e->rec);
        if ((rc = append_rec(e, f)) != 0)
            return rc;
    }
    e->cur.flows++;
    e->cur.packets += f->dir[FLOW_BIDI].packets;
    e->cur.octets += f->dir[FLOW_BIDI].bytes;
    return 0;
}

static int
ipfix_flow(void *enc, const struct flow *f)
{
    struct ipfix_enc *e = enc;
    int rc;

    if (e->fbuf == NULL)
        return -ENOTCONN;
    if (e->dir_map != NULL)
        return flow_uniflow(e, f);
    fill_rec(e, f, &e->rec);
    if ((rc = append_rec(e, f)) != 0)
        return rc;
    e->cur.flows++;
    e->cur.packets += f->dir[FLOW_BIDI].packets;
    e->cur.octets += f->dir[FLOW_BIDI].bytes;
    return 0;
}

static int
ipfix_flush(void *enc)
{
    return emit(enc);
}

static void
ipfix_discard(void *enc, struct exp_msg_info *lost)
{
    struct ipfix_enc *e = enc;

    *lost = e->cur;
    session_free(e);
}

static bool
ipfix_partial(const void *enc)
{
    const struct ipfix_enc *e = enc;

    return e->partial;
}

const struct exp_encoder_ops ipfix_encoder_ops = {
    .scheme = "ipfix",
    .open = ipfix_open,
    .free = ipfix_free,
    .session = ipfix_session,
    .refresh = ipfix_refresh,
    .options = ipfix_options,
    .flow = ipfix_flow,
    .flush = ipfix_flush,
    .discard = ipfix_discard,
    .partial = ipfix_partial,
};
