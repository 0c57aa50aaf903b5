/*
 * test_fields.c - the field catalogue (probe/fields.def) is whole and consistent: what every
 * sink relies on when it walks it. A new row that breaks a rule fails here, not in a collector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "export_enc.h"
#include "fields.h"
#include "nfprobe/plugin.h"

/* Every field has a name; a column or an explicit none; names and columns are unique. */
static void
test_names_and_columns(void **state)
{
    (void)state;
    for (size_t i = 0; i < FLD_COUNT; i++) {
        const struct fld_def *d = &fld_defs[i];
        assert_non_null(d->name);
        assert_true(strlen(d->name) > 0);
        for (size_t j = i + 1; j < FLD_COUNT; j++) {
            const struct fld_def *e = &fld_defs[j];
            if (strcmp(d->name, e->name) == 0)
                fail_msg("field name %s twice", d->name);
            if (d->column != NULL && e->column != NULL && strcmp(d->column, e->column) == 0)
                fail_msg("column %s twice (%s, %s)", d->column, d->name, e->name);
        }
    }
    /* the columns come first, in NFStream's order: no column after an export-only row */
    bool export_only = false;
    for (size_t i = 0; i < FLD_COUNT; i++) {
        if (fld_defs[i].column == NULL)
            export_only = true;
        else if (export_only)
            fail_msg("column row %s after an export-only row", fld_defs[i].name);
        if (fld_defs[i].column != NULL)
            assert_int_equal(fld_by_column(fld_defs[i].column, strlen(fld_defs[i].column)),
                             (int)i);
    }
}

/* NFStream's column counts: 29 base (tunnel_id included), 48 statistics, 3 SPLT, 9 L7. */
static void
test_column_sets(void **state)
{
    uint16_t cols[FLD_COUNT];

    (void)state;
    assert_int_equal(fld_columns(0, cols), 28);
    assert_int_equal(fld_columns(FLD_G_TUNNEL, cols), 29);
    assert_int_equal(fld_columns(FLD_G_TUNNEL | FLD_G_STATS, cols), 29 + 48);
    assert_int_equal(fld_columns(FLD_G_TUNNEL | FLD_G_STATS | FLD_G_SPLT | FLD_G_L7, cols),
                     29 + 48 + 3 + 9);
    assert_string_equal(fld_defs[cols[0]].column, "id");
    assert_string_equal(fld_defs[cols[29 + 48 + 3 + 9 - 1]].column, "content_type");
}

/* Every IPFIX element is in the encoder's information model; ranks are 0..N-1, once each. */
static void
test_ipfix(void **state)
{
    const char *names[FLD_COUNT];
    uint32_t pens[FLD_COUNT];
    uint16_t ids[FLD_COUNT];
    int rank_of[FLD_COUNT];
    int n_ranked = 0;

    (void)state;
    for (size_t i = 0; i < FLD_COUNT; i++)
        names[i] = fld_defs[i].ipfix;
    assert_int_equal(ipfix_element_ids(names, FLD_COUNT, 32473, pens, ids), 0);
    for (size_t i = 0; i < FLD_COUNT; i++)
        rank_of[i] = -1;
    for (size_t i = 0; i < FLD_COUNT; i++) {
        const struct fld_def *d = &fld_defs[i];
        if (d->ipfix == NULL) {
            assert_int_equal(d->ipfix_rank, -1);
            assert_int_equal(d->ipfix_len, 0);
            continue;
        }
        if (ids[i] == 0)
            fail_msg("%s: IPFIX element %s is not in the registry", d->name, d->ipfix);
        assert_true(d->ipfix_rank >= 0 && d->ipfix_rank < (int)FLD_COUNT);
        if (rank_of[d->ipfix_rank] >= 0)
            fail_msg("%s: IPFIX rank %d taken by %s", d->name, d->ipfix_rank,
                     fld_defs[rank_of[d->ipfix_rank]].name);
        rank_of[d->ipfix_rank] = (int)i;
        n_ranked++;
        assert_int_equal(fld_by_ipfix(d->ipfix), (int)i); /* one field per element */
        bool var = d->type == FLD_T_STR || d->type == FLD_T_APPID || d->type == FLD_T_LIST8 ||
                   d->type == FLD_T_LIST16 || d->type == FLD_T_LIST32;
        assert_int_equal(d->ipfix_len == FLD_VARLEN, var);
        /* ntop's elements are on PEN 35632 and carry the ntop id 57472 + their id */
        if (pens[i] == 35632)
            assert_int_equal(d->ntop_id, FLD_NTOP_BASE + ids[i]);
    }
    for (int r = 0; r < n_ranked; r++)
        if (rank_of[r] < 0)
            fail_msg("IPFIX rank %d unused: ranks must be 0..%d", r, n_ranked - 1);
}

/* v9 ids are unique but for IPv4/IPv6 twins (exclusive groups: ICMP_TYPE 32 is both
 * icmpTypeCodeIPv4 and icmpTypeCodeIPv6, as v9 exporters send it); the address pairs and such
 * twins share a rank; ranks are 0..N-1. */
static void
test_v9(void **state)
{
    int rank_used[FLD_COUNT] = {0};
    int n = 0, top = -1;

    (void)state;
    for (size_t i = 0; i < FLD_COUNT; i++) {
        const struct fld_def *d = &fld_defs[i];
        if (d->v9_id == 0) {
            assert_int_equal(d->v9_rank, -1);
            continue;
        }
        assert_true(d->v9_len > 0);
        if (d->v9_len == FLD_V9_STRLEN)
            assert_int_equal(d->type, FLD_T_STR);
        assert_true(d->type != FLD_T_LIST8 && d->type != FLD_T_LIST16 &&
                    d->type != FLD_T_LIST32 && d->type != FLD_T_OUI);
        for (size_t j = i + 1; j < FLD_COUNT; j++)
            if (fld_defs[j].v9_id == d->v9_id &&
                !((fld_defs[j].groups | d->groups) & FLD_G_V4 &&
                  (fld_defs[j].groups | d->groups) & FLD_G_V6 &&
                  (fld_defs[j].groups & d->groups & (FLD_G_V4 | FLD_G_V6)) == 0))
                fail_msg("v9 id %u twice (%s, %s)", d->v9_id, d->name, fld_defs[j].name);
        assert_true(d->v9_rank >= 0 && d->v9_rank < (int)FLD_COUNT);
        if (rank_used[d->v9_rank]++ > 0) {
            /* only an IPv4 row and its IPv6 twin may share */
            bool ok = false;
            for (size_t j = 0; j < i; j++)
                if (fld_defs[j].v9_rank == d->v9_rank)
                    ok = ((fld_defs[j].groups | d->groups) & (FLD_G_V4 | FLD_G_V6)) ==
                             (FLD_G_V4 | FLD_G_V6) &&
                         (fld_defs[j].groups & d->groups & (FLD_G_V4 | FLD_G_V6)) == 0;
            if (!ok)
                fail_msg("%s: v9 rank %d shared", d->name, d->v9_rank);
        } else {
            n++;
        }
        if (d->v9_rank > top)
            top = d->v9_rank;
    }
    assert_int_equal(top, n - 1);
}

/* ntop ids and plugin ids are unique; plugin ids are below FLD_PLUGIN_ID_MAX and map back. */
static void
test_ntop_and_plugin_ids(void **state)
{
    (void)state;
    for (size_t i = 0; i < FLD_COUNT; i++) {
        const struct fld_def *d = &fld_defs[i];
        for (size_t j = i + 1; j < FLD_COUNT; j++) {
            if (d->ntop_id != 0 && fld_defs[j].ntop_id == d->ntop_id)
                fail_msg("ntop id %u twice (%s, %s)", d->ntop_id, d->name, fld_defs[j].name);
            if (d->plugin_id != 0 && fld_defs[j].plugin_id == d->plugin_id)
                fail_msg("plugin id %u twice (%s, %s)", d->plugin_id, d->name,
                         fld_defs[j].name);
        }
        if (d->plugin_id != FLD_NO_PLUGIN_ID) {
            assert_true(d->plugin_id < FLD_PLUGIN_ID_MAX);
            assert_int_equal(fld_by_plugin_id(d->plugin_id), (int)i);
        }
    }
    /* the plugin API's ids keep their meaning (ABI): a few spot checks */
    assert_int_equal(fld_by_plugin_id(NFP_SRC_PORT), FLD_src_port);
    assert_int_equal(fld_by_plugin_id(NFP_DST2SRC_FIN_PACKETS), FLD_dst2src_fin_packets);
    assert_int_equal(fld_by_plugin_id(NFP_CATEGORY_ID), FLD_category_id);
    assert_int_equal(fld_by_plugin_id(NFP_SPLT_LENGTH), FLD_splt_length);
    assert_int_equal(fld_by_plugin_id(0), -1);
    assert_int_equal(fld_by_plugin_id(127), -1);
}

/* The getters read what the meter wrote, through the layout. */
static void
test_getters(void **state)
{
    const size_t l7_off = FLOW_STATS_SIZE;
    struct flow *f = calloc(1, sizeof(*f) + FLOW_STATS_SIZE + sizeof(struct flow_l7));
    struct flow_layout L = {.statistics = true, .l7 = true, .l7_off = l7_off};
    union fld_value v;

    (void)state;
    assert_non_null(f);
    f->id = 42;
    f->expiration_id = -1;
    f->key.lo_port = 1000;
    f->key.hi_port = 80;
    f->src_is_hi = 0;
    f->dir[FLOW_D2S].bytes = 1234;
    flow_stats(f)[FLOW_S2D].max_ps = 1500;
    struct flow_l7 *l7 = (struct flow_l7 *)(void *)(f->ext + l7_off);
    l7->master_id = 7;
    strcpy(l7->requested_server_name, "example.org");

    fld_get(FLD_id, &L, f, &v);
    assert_int_equal(v.u, 42);
    fld_get(FLD_expiration_id, &L, f, &v);
    assert_int_equal(v.i, -1);
    fld_get(FLD_src_port, &L, f, &v);
    assert_int_equal(v.u, 1000);
    fld_get(FLD_dst_port, &L, f, &v);
    assert_int_equal(v.u, 80);
    fld_get(FLD_dst2src_bytes, &L, f, &v);
    assert_int_equal(v.u, 1234);
    fld_get(FLD_src2dst_max_ps, &L, f, &v);
    assert_int_equal(v.u, 1500);
    fld_get(FLD_requested_server_name, &L, f, &v);
    assert_string_equal(v.s, "example.org");
    fld_get(FLD_ntop_l7_proto, &L, f, &v); /* no app id: the master */
    assert_int_equal(v.u, 7);
    assert_int_equal(fld_groups(&L), FLD_G_STATS | FLD_G_L7);
    free(f);
}

/* Uniflow / v5 records: each direction reads its own rows, found by name. */
static void
test_direction_map(void **state)
{
    uint16_t fwd[FLD_COUNT], rev[FLD_COUNT];
    (void)state;

    fld_direction_map(FLOW_S2D, ~0u, fwd);
    fld_direction_map(FLOW_D2S, ~0u, rev);
#define ROW(e) fld_by_ipfix(e)
    /* forward: the biflow times and flags become the forward direction's */
    assert_int_equal(fwd[ROW("sourceIPv4Address")], ROW("sourceIPv4Address"));
    assert_int_equal(fwd[ROW("octetDeltaCount")], ROW("octetDeltaCount"));
    assert_int_equal(fwd[ROW("flowStartMilliseconds")], FLD_src2dst_first_seen_ms);
    assert_int_equal(fwd[ROW("flowEndMilliseconds")], FLD_src2dst_last_seen_ms);
    assert_int_equal(fwd[ROW("flowDurationMilliseconds")], FLD_src2dst_duration_ms);
    /* reverse: RFC 5103 rows, then source <-> destination, then the same row */
    assert_int_equal(rev[ROW("octetDeltaCount")], ROW("reverseOctetDeltaCount"));
    assert_int_equal(rev[ROW("packetDeltaCount")], ROW("reversePacketDeltaCount"));
    assert_int_equal(rev[ROW("sourceIPv4Address")], ROW("destinationIPv4Address"));
    assert_int_equal(rev[ROW("destinationIPv4Address")], ROW("sourceIPv4Address"));
    assert_int_equal(rev[ROW("sourceIPv6Address")], ROW("destinationIPv6Address"));
    assert_int_equal(rev[ROW("sourceTransportPort")], ROW("destinationTransportPort"));
    assert_int_equal(rev[ROW("destinationMacAddress")], ROW("sourceMacAddress"));
    assert_int_equal(rev[ROW("flowStartMilliseconds")], FLD_dst2src_first_seen_ms);
    assert_int_equal(rev[ROW("flowEndMilliseconds")], FLD_dst2src_last_seen_ms);
    assert_int_equal(rev[ROW("nfsFlowEndMilliseconds")], ROW("reverseNfsFlowEndMilliseconds"));
    assert_int_equal(rev[FLD_src2dst_first_seen_ms], FLD_dst2src_first_seen_ms);
    assert_int_equal(rev[ROW("tcpControlBits")], FLD_dst2src_tcp_flags);
    assert_int_equal(rev[ROW("protocolIdentifier")], ROW("protocolIdentifier"));
    assert_int_equal(rev[ROW("flowId")], ROW("flowId"));
    /* never a value of another type */
    for (size_t i = 0; i < FLD_COUNT; i++) {
        assert_int_equal(fld_defs[fwd[i]].type, fld_defs[i].type);
        assert_int_equal(fld_defs[rev[i]].type, fld_defs[i].type);
    }
    /* what a uniflow template leaves out */
    assert_true(fld_uniflow_skip((enum fld_id)ROW("reverseOctetDeltaCount")));
    assert_true(fld_uniflow_skip((enum fld_id)ROW("biflowDirection")));
    assert_true(fld_uniflow_skip(FLD_dst2src_first_seen_ms));
    assert_false(fld_uniflow_skip((enum fld_id)ROW("octetDeltaCount")));
    assert_false(fld_uniflow_skip(FLD_src2dst_first_seen_ms));
#undef ROW
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_columns),
        cmocka_unit_test(test_column_sets),
        cmocka_unit_test(test_ipfix),
        cmocka_unit_test(test_v9),
        cmocka_unit_test(test_ntop_and_plugin_ids),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_direction_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
