/*
 * ipfix2csv.c - decodes IPFIX files written by nfprobe's exporter back into NFStream CSV.
 *
 *   ipfix2csv [--pen N] [--statistical-analysis] [--splt-analysis N] [--no-decode-tunnels]
 *             [--l7] [--options FILE] FILE...
 *
 * A collector built on libfixbuf's collecting API (fbCollectorAllocFile, fBufNext): every data
 * record is transcoded into struct ipfix_rec (the exporter's own layout, from the field catalogue) and
 * printed as one row of NFStream's to_csv() columns, with the same column set as
 * `nfprobe --csv` under the same flags, so the two can be compared column by column. Columns
 * IPFIX does not carry are derived exactly: bidirectional packets/bytes are sums, durations are
 * differences, the bidirectional min/max sizes and flag counts come from the two directions,
 * the OUI is the MAC's first half and the SPLT lists are padded with -1 to N.
 *
 * Each FILE is one IPFIX stream (a TCP/TLS session, or UDP datagrams as received). On stderr:
 * messages with a sequence number libfixbuf did not expect, flow and options records read.
 * --options FILE writes the last options records' values as key=value lines.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_ipfix.h"
#include "fmt.h"
#include "output.h"

/* Every options record is read into this superset layout; absent fields stay 0. */
struct opt_rec {
    uint64_t messages;
    uint64_t flows;
    uint64_t octets;
    uint64_t ignored_packets;
    uint64_t ignored_octets;
    uint64_t not_sent_flows;
    uint64_t not_sent_packets;
    uint64_t not_sent_octets;
    uint64_t first_ms;
    uint64_t last_ms;
    uint32_t domain;
    uint32_t process;
};

static fbInfoElementSpec_t opt_spec[] = {
    {"exportedMessageTotalCount", 8, 0},   {"exportedFlowRecordTotalCount", 8, 0},
    {"exportedOctetTotalCount", 8, 0},     {"ignoredPacketTotalCount", 8, 0},
    {"ignoredOctetTotalCount", 8, 0},      {"notSentFlowTotalCount", 8, 0},
    {"notSentPacketTotalCount", 8, 0},     {"notSentOctetTotalCount", 8, 0},
    {"observationTimeMilliseconds", 8, 0}, {"observationTimeMilliseconds", 8, 0},
    {"observationDomainId", 4, 0},         {"exportingProcessId", 4, 0},
    FB_IESPEC_NULL};
#define OPT_TID 0x9000

struct opts {
    bool statistics;
    uint16_t splt_n;
    bool tunnel_id;
    bool l7;
};

struct last_opts {
    bool have_mstats, have_mrel, have_erel;
    struct opt_rec mstats, mrel, erel;
};

static unsigned long seq_errors;

/* libfixbuf reports sequence gaps as GLib warnings: count them, print the rest. */
static void
on_glib_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
    (void)domain;
    (void)level;
    (void)data;
    if (strstr(msg, "out of sequence") != NULL)
        seq_errors++;
    fprintf(stderr, "ipfix2csv: libfixbuf: %s\n", msg);
}

/* ------------------------------------------------------------------ CSV row */

static unsigned col;

static void
sep(void)
{
    if (col++ > 0)
        putchar(',');
}

static void
put_u(uint64_t v)
{
    char b[FMT_INT_MAX];
    sep();
    fmt_u64(b, v);
    fputs(b, stdout);
}

static void
put_i(int64_t v)
{
    char b[FMT_INT_MAX];
    sep();
    fmt_i64(b, v);
    fputs(b, stdout);
}

static void
put_f(double v)
{
    char b[FMT_DOUBLE_MAX];
    sep();
    fmt_double(b, v);
    fputs(b, stdout);
}

/* NFStream's csv_converter: the string in double quotes, '"' escaped as '\"'. */
static void
put_s(const char *s, size_t n)
{
    sep();
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            putchar('\\');
        putchar(s[i]);
    }
    putchar('"');
}

static void
put_var(const fbVarfield_t *v)
{
    put_s((const char *)v->buf, v->buf != NULL ? v->len : 0);
}

static void
put_list(const fbBasicList_t *bl, uint16_t n, size_t elem)
{
    uint16_t have = bl->dataPtr != NULL ? bl->numElements : 0;
    char b[FMT_INT_MAX];

    sep();
    fputs("\"[", stdout);
    for (uint16_t i = 0; i < n; i++) {
        if (i > 0)
            fputs(", ", stdout);
        if (i >= have) {
            fputs("-1", stdout);
            continue;
        }
        const uint8_t *p = bl->dataPtr + (size_t)i * elem;
        uint64_t v = elem == 1 ? *p : elem == 2 ? *(const uint16_t *)(const void *)p
                                                : *(const uint32_t *)(const void *)p;
        fmt_u64(b, v);
        fputs(b, stdout);
    }
    fputs("]\"", stdout);
}

static void
put_mac(const uint8_t *mac, bool oui)
{
    char s[18];
    snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
             mac[4], mac[5]);
    put_s(s, oui ? 8 : strlen(s));
}

static void
put_ip(const struct ipfix_rec *r, bool v6, bool src)
{
    uint8_t ip[16] = {0};
    char s[64];

    if (v6) {
        memcpy(ip, src ? r->src_ip6 : r->dst_ip6, 16);
    } else {
        uint32_t a = src ? r->src_ip : r->dst_ip;
        ip[0] = (uint8_t)(a >> 24);
        ip[1] = (uint8_t)(a >> 16);
        ip[2] = (uint8_t)(a >> 8);
        ip[3] = (uint8_t)a;
    }
    out_format_ip(ip, v6 ? 6 : 4, s);
    put_s(s, strlen(s));
}

static const char *const dirs[3] = {"bidirectional", "src2dst", "dst2src"};

static void
header(const struct opts *o)
{
    static const char *const flags[8] = {"syn", "cwr", "ece", "urg", "ack", "psh", "rst", "fin"};

    printf("id,expiration_id,src_ip,src_mac,src_oui,src_port,dst_ip,dst_mac,dst_oui,dst_port,"
           "protocol,ip_version,vlan_id");
    if (o->tunnel_id)
        printf(",tunnel_id");
    for (int d = 0; d < 3; d++)
        printf(",%s_first_seen_ms,%s_last_seen_ms,%s_duration_ms,%s_packets,%s_bytes", dirs[d],
               dirs[d], dirs[d], dirs[d], dirs[d]);
    if (o->statistics) {
        for (int d = 0; d < 3; d++)
            printf(",%s_min_ps,%s_mean_ps,%s_stddev_ps,%s_max_ps", dirs[d], dirs[d], dirs[d],
                   dirs[d]);
        for (int d = 0; d < 3; d++)
            printf(",%s_min_piat_ms,%s_mean_piat_ms,%s_stddev_piat_ms,%s_max_piat_ms", dirs[d],
                   dirs[d], dirs[d], dirs[d]);
        for (int d = 0; d < 3; d++)
            for (int k = 0; k < 8; k++)
                printf(",%s_%s_packets", dirs[d], flags[k]);
    }
    if (o->splt_n > 0)
        printf(",splt_direction,splt_ps,splt_piat_ms");
    if (o->l7)
        printf(",application_name,application_category_name,application_is_guessed,"
               "application_confidence,requested_server_name,client_fingerprint,"
               "server_fingerprint,user_agent,content_type");
    putchar('\n');
}

static void
row(const struct opts *o, const struct ipfix_rec *r, bool v6)
{
    uint64_t first[3] = {r->bidirectional_first_seen_ms, r->bidirectional_first_seen_ms, r->dst2src_first_seen_ms};
    uint64_t last[3] = {r->bidirectional_last_seen_ms, r->src2dst_last_seen_ms, r->dst2src_last_seen_ms};
    uint64_t pk[3] = {r->src2dst_packets + r->dst2src_packets, r->src2dst_packets, r->dst2src_packets};
    uint64_t by[3] = {r->src2dst_bytes + r->dst2src_bytes, r->src2dst_bytes, r->dst2src_bytes};

    col = 0;
    put_u(r->id);
    put_i(r->expiration_id);
    put_ip(r, v6, true);
    put_mac(r->src_mac, false);
    put_mac(r->src_mac, true);
    put_u(r->src_port);
    put_ip(r, v6, false);
    put_mac(r->dst_mac, false);
    put_mac(r->dst_mac, true);
    put_u(r->dst_port);
    put_u(r->protocol);
    put_u(v6 ? 6 : 4);
    put_u(r->vlan_id);
    if (o->tunnel_id)
        put_u(r->tunnel_id);
    for (int d = 0; d < 3; d++) {
        put_u(first[d]);
        put_u(last[d]);
        put_u(last[d] - first[d]);
        put_u(pk[d]);
        put_u(by[d]);
    }
    if (o->statistics) {
        bool d2s = r->dst2src_packets > 0;
        uint64_t bmin = d2s && r->dst2src_min_ps < r->src2dst_min_ps ? r->dst2src_min_ps : r->src2dst_min_ps;
        uint64_t bmax = d2s && r->dst2src_max_ps > r->src2dst_max_ps ? r->dst2src_max_ps : r->src2dst_max_ps;
        uint64_t mn[3] = {bmin, r->src2dst_min_ps, r->dst2src_min_ps};
        uint64_t mx[3] = {bmax, r->src2dst_max_ps, r->dst2src_max_ps};
        double mean[3] = {r->bidirectional_mean_ps, r->src2dst_mean_ps, r->dst2src_mean_ps};
        double sd[3] = {r->bidirectional_stddev_ps, r->src2dst_stddev_ps, r->dst2src_stddev_ps};
        for (int d = 0; d < 3; d++) {
            put_u(mn[d]);
            put_f(mean[d]);
            put_f(sd[d]);
            put_u(mx[d]);
        }
        uint64_t pmin[3] = {r->bidirectional_min_piat_ms, r->src2dst_min_piat_ms, r->dst2src_min_piat_ms};
        uint64_t pmax[3] = {r->bidirectional_max_piat_ms, r->src2dst_max_piat_ms, r->dst2src_max_piat_ms};
        double pmean[3] = {r->bidirectional_mean_piat_ms, r->src2dst_mean_piat_ms, r->dst2src_mean_piat_ms};
        double psd[3] = {r->bidirectional_stddev_piat_ms, r->src2dst_stddev_piat_ms, r->dst2src_stddev_piat_ms};
        for (int d = 0; d < 3; d++) {
            put_u(pmin[d]);
            put_f(pmean[d]);
            put_f(psd[d]);
            put_u(pmax[d]);
        }
        /* NFStream's order: syn cwr ece urg ack psh rst fin */
        uint64_t s2d[8] = {r->src2dst_syn_packets, r->src2dst_cwr_packets, r->src2dst_ece_packets, r->src2dst_urg_packets, r->src2dst_ack_packets, r->src2dst_psh_packets, r->src2dst_rst_packets, r->src2dst_fin_packets};
        uint64_t d2sf[8] = {r->dst2src_syn_packets, r->dst2src_cwr_packets, r->dst2src_ece_packets, r->dst2src_urg_packets,
                            r->dst2src_ack_packets, r->dst2src_psh_packets, r->dst2src_rst_packets, r->dst2src_fin_packets};
        for (int k = 0; k < 8; k++)
            put_u(s2d[k] + d2sf[k]);
        for (int k = 0; k < 8; k++)
            put_u(s2d[k]);
        for (int k = 0; k < 8; k++)
            put_u(d2sf[k]);
    }
    if (o->splt_n > 0) {
        put_list(&r->splt_direction, o->splt_n, 1);
        put_list(&r->splt_ps, o->splt_n, 2);
        put_list(&r->splt_piat_ms, o->splt_n, 4);
    }
    if (o->l7) {
        put_var(&r->application_name);
        put_var(&r->application_category_name);
        put_u(r->application_is_guessed);
        put_u(r->application_confidence);
        put_var(&r->requested_server_name);
        put_var(&r->client_fingerprint);
        put_var(&r->server_fingerprint);
        put_var(&r->user_agent);
        put_var(&r->content_type);
    }
    putchar('\n');
}

/* ------------------------------------------------------------------ reading */

static bool
has(fbTemplate_t *t, const char *name)
{
    fbInfoElementSpec_t s = {(char *)name, 0, 0};
    return fbTemplateContainsElementByName(t, &s);
}

static int
read_file(const char *path, fbInfoModel_t *model, const struct opts *o, struct last_opts *lo,
          uint64_t *n_flows, uint64_t *n_opts)
{
    GError *gerr = NULL;
    char err[256];
    fbSession_t *s = fbSessionAlloc(model);
    fbTemplate_t *rt = ipfix_rec_template(model, err, sizeof(err));
    fbTemplate_t *ot = fbTemplateAlloc(model);
    struct ipfix_rec rec;
    struct opt_rec orec;
    int rc = 0;

    if (rt == NULL) {
        fprintf(stderr, "ipfix2csv: %s\n", err);
        fbTemplateFreeUnused(ot);
        fbSessionFree(s);
        return -1;
    }
    if (!fbSessionAddTemplate(s, TRUE, IPFIX_TID_REC, rt, &gerr) ||
        !fbTemplateAppendSpecArray(ot, opt_spec, 0, &gerr) ||
        !fbSessionAddTemplate(s, TRUE, OPT_TID, ot, &gerr)) {
        fprintf(stderr, "ipfix2csv: internal templates: %s\n", gerr->message);
        g_clear_error(&gerr);
        fbSessionFree(s);
        return -1;
    }
    fbCollector_t *c = fbCollectorAllocFile(NULL, path, &gerr);
    if (c == NULL) {
        fprintf(stderr, "ipfix2csv: %s: %s\n", path, gerr->message);
        g_clear_error(&gerr);
        fbSessionFree(s);
        return -1;
    }
    fBuf_t *fb = fBufAllocForCollection(s, c);
    memset(&rec, 0, sizeof(rec));
    for (;;) {
        uint16_t tid;
        fbTemplate_t *t = fBufNextCollectionTemplate(fb, &tid, &gerr);
        if (t == NULL) {
            if (!g_error_matches(gerr, FB_ERROR_DOMAIN, FB_ERROR_EOF)) {
                fprintf(stderr, "ipfix2csv: %s: %s\n", path, gerr->message);
                rc = -1;
            }
            g_clear_error(&gerr);
            break;
        }
        if (fbTemplateGetOptionsScope(t) == 0) {
            size_t len = sizeof(rec);
            bool v6 = has(t, "sourceIPv6Address") || has(t, "destinationIPv6Address");
            if (!fBufSetInternalTemplate(fb, IPFIX_TID_REC, &gerr) ||
                !fBufNext(fb, (uint8_t *)&rec, &len, &gerr)) {
                fprintf(stderr, "ipfix2csv: %s: flow record: %s\n", path, gerr->message);
                g_clear_error(&gerr);
                rc = -1;
                break;
            }
            row(o, &rec, v6);
            fbBasicListClear(&rec.splt_direction);
            fbBasicListClear(&rec.splt_ps);
            fbBasicListClear(&rec.splt_piat_ms);
            (*n_flows)++;
            continue;
        }
        size_t len = sizeof(orec);
        memset(&orec, 0, sizeof(orec));
        if (!fBufSetInternalTemplate(fb, OPT_TID, &gerr) ||
            !fBufNext(fb, (uint8_t *)&orec, &len, &gerr)) {
            fprintf(stderr, "ipfix2csv: %s: options record: %s\n", path, gerr->message);
            g_clear_error(&gerr);
            rc = -1;
            break;
        }
        (*n_opts)++;
        if (has(t, "notSentFlowTotalCount")) {
            lo->erel = orec;
            lo->have_erel = true;
        } else if (has(t, "ignoredPacketTotalCount")) {
            lo->mrel = orec;
            lo->have_mrel = true;
        } else if (has(t, "exportedFlowRecordTotalCount")) {
            lo->mstats = orec;
            lo->have_mstats = true;
        }
    }
    fBufFree(fb); /* and the session and the collector */
    return rc;
}

static void
write_options(FILE *out, const struct last_opts *lo)
{
    if (lo->have_mstats)
        fprintf(out,
                "exportedMessageTotalCount=%" PRIu64 "\nexportedFlowRecordTotalCount=%" PRIu64
                "\nexportedOctetTotalCount=%" PRIu64 "\n",
                lo->mstats.messages, lo->mstats.flows, lo->mstats.octets);
    if (lo->have_mrel)
        fprintf(out,
                "ignoredPacketTotalCount=%" PRIu64 "\nignoredOctetTotalCount=%" PRIu64
                "\nmeteringFirstObservationMilliseconds=%" PRIu64
                "\nmeteringLastObservationMilliseconds=%" PRIu64 "\n",
                lo->mrel.ignored_packets, lo->mrel.ignored_octets, lo->mrel.first_ms,
                lo->mrel.last_ms);
    if (lo->have_erel)
        fprintf(out,
                "notSentFlowTotalCount=%" PRIu64 "\nnotSentPacketTotalCount=%" PRIu64
                "\nnotSentOctetTotalCount=%" PRIu64 "\nexportingProcessId=%" PRIu32 "\n",
                lo->erel.not_sent_flows, lo->erel.not_sent_packets, lo->erel.not_sent_octets,
                lo->erel.process);
}

static int
usage(void)
{
    fprintf(stderr, "usage: ipfix2csv [--pen N] [--statistical-analysis] [--splt-analysis N] "
                    "[--no-decode-tunnels] [--l7] [--options FILE] FILE...\n");
    return 2;
}

int
main(int argc, char **argv)
{
    struct opts o = {.tunnel_id = true};
    struct last_opts lo;
    uint32_t pen = NFP_PEN_DEFAULT;
    const char *options_path = NULL;
    uint64_t n_flows = 0, n_opts = 0;
    char err[256];
    int i, status = 0;

    memset(&lo, 0, sizeof(lo));
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--statistical-analysis") == 0)
            o.statistics = true;
        else if (strcmp(argv[i], "--no-decode-tunnels") == 0)
            o.tunnel_id = false;
        else if (strcmp(argv[i], "--l7") == 0)
            o.l7 = true;
        else if (strcmp(argv[i], "--splt-analysis") == 0 && i + 1 < argc)
            o.splt_n = (uint16_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--pen") == 0 && i + 1 < argc)
            pen = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--options") == 0 && i + 1 < argc)
            options_path = argv[++i];
        else
            return usage();
    }
    if (i >= argc)
        return usage();
    g_log_set_default_handler(on_glib_log, NULL);
    fbInfoModel_t *model = ipfix_model_new(pen, err, sizeof(err));
    if (model == NULL) {
        fprintf(stderr, "ipfix2csv: %s\n", err);
        return 1;
    }
    header(&o);
    for (; i < argc; i++)
        if (read_file(argv[i], model, &o, &lo, &n_flows, &n_opts) != 0)
            status = 1;
    if (fflush(stdout) != 0)
        status = 1;
    fprintf(stderr, "ipfix2csv: %" PRIu64 " flow records, %" PRIu64
                    " options records, %lu sequence errors\n",
            n_flows, n_opts, seq_errors);
    if (options_path != NULL) {
        FILE *f = fopen(options_path, "w");
        if (f == NULL) {
            fprintf(stderr, "ipfix2csv: %s: %s\n", options_path, strerror(errno));
            status = 1;
        } else {
            write_options(f, &lo);
            if (fclose(f) != 0)
                status = 1;
        }
    }
    fbInfoModelFree(model);
    return status;
}
