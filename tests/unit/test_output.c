/*
 * test_output.c - NFStream to_csv() text and JSON lines: header order, quoting, floats,
 * IPv6 text, lists, anonymisation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "output.h"

static char path[64];

static int
setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/nfprobe-test-output.%d", (int)getpid());
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static char *
slurp(void)
{
    static char buf[65536];
    FILE *fp = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

/* A flow slot with room for the statistics, the first extension (flow.h). */
struct slot {
    _Alignas(struct flow) unsigned char raw[sizeof(struct flow) + FLOW_STATS_SIZE];
};

static void
sample_flow(struct flow *f)
{
    memset(f, 0, sizeof(struct slot));
    f->key.lo_ip[0] = 0x20, f->key.lo_ip[1] = 0x01, f->key.lo_ip[2] = 0x0d, f->key.lo_ip[3] = 0xb8;
    f->key.lo_ip[15] = 1;
    f->key.hi_ip[0] = 0x20, f->key.hi_ip[1] = 0x01, f->key.hi_ip[2] = 0x0d, f->key.hi_ip[3] = 0xb8;
    f->key.hi_ip[15] = 2;
    f->key.lo_port = 443;
    f->key.hi_port = 51000;
    f->key.protocol = 6;
    f->key.ip_version = 6;
    f->src_is_hi = 1;
    f->src_mac[0] = 0xaa;
    f->id = 7;
    f->dir[FLOW_BIDI] = (struct flow_dir){1000, 1100, 3, 300};
    f->dir[FLOW_S2D] = (struct flow_dir){1000, 1100, 2, 200};
    f->dir[FLOW_D2S] = (struct flow_dir){1050, 1050, 1, 100};
    flow_stats(f)[FLOW_BIDI].mean_ps = 100.0;
    flow_stats(f)[FLOW_BIDI].mean_piat = 1.0 / 3.0;
}

static void
csv_header_and_row(void **state)
{
    (void)state;
    char err[256];
    struct slot sl;
    struct flow *f = (struct flow *)(void *)sl.raw;
    struct out_config c = {.layout.tunnel_id = true};
    struct out_writer *w = out_open(path, OUT_CSV, &c, NULL, err, sizeof(err));
    assert_non_null(w);
    sample_flow(f);
    assert_int_equal(out_flow(w, f), 0);
    assert_int_equal(out_close(w), 0);
    const char *want =
        "id,expiration_id,src_ip,src_mac,src_oui,src_port,dst_ip,dst_mac,dst_oui,dst_port,"
        "protocol,ip_version,vlan_id,tunnel_id,bidirectional_first_seen_ms,"
        "bidirectional_last_seen_ms,bidirectional_duration_ms,bidirectional_packets,"
        "bidirectional_bytes,src2dst_first_seen_ms,src2dst_last_seen_ms,src2dst_duration_ms,"
        "src2dst_packets,src2dst_bytes,dst2src_first_seen_ms,dst2src_last_seen_ms,"
        "dst2src_duration_ms,dst2src_packets,dst2src_bytes\n"
        "7,0,\"2001:db8::2\",\"aa:00:00:00:00:00\",\"aa:00:00\",51000,\"2001:db8::1\","
        "\"00:00:00:00:00:00\",\"00:00:00\",443,6,6,0,0,1000,1100,100,3,300,1000,1100,100,2,200,"
        "1050,1050,0,1,100\n";
    assert_string_equal(slurp(), want);
}

static void
csv_statistics_floats(void **state)
{
    (void)state;
    char err[256];
    struct slot sl;
    struct flow *f = (struct flow *)(void *)sl.raw;
    struct out_config c = {.layout.statistics = true};
    struct out_writer *w = out_open(path, OUT_CSV, &c, NULL, err, sizeof(err));
    sample_flow(f);
    out_flow(w, f);
    out_close(w);
    const char *text = slurp();
    /* header: the ps block of all directions before the piat block, then the flags */
    assert_non_null(strstr(text, "dst2src_max_ps,bidirectional_min_piat_ms,"));
    assert_non_null(strstr(text, "dst2src_max_piat_ms,bidirectional_syn_packets,"));
    assert_non_null(strstr(text, ",dst2src_fin_packets\n"));
    /* mean 100.0, stddev of 3 packets with M2 0 is 0.0, mean piat 1/3 as Python repr */
    assert_non_null(strstr(text, ",0,100.0,0.0,0,"));
    assert_non_null(strstr(text, ",0.3333333333333333,"));
}

static int
fmt_quote(void *ctx, const struct flow *f, char *buf, size_t len)
{
    (void)ctx, (void)f;
    snprintf(buf, len, "say \"hi\"");
    return OUT_KIND_STRING;
}

static void
csv_quotes_are_backslash_escaped(void **state)
{
    (void)state;
    char err[256];
    struct slot sl;
    struct flow *f = (struct flow *)(void *)sl.raw;
    struct out_extra x = {.name = "udps.q", .format = fmt_quote};
    struct out_config c = {.extra = &x, .n_extra = 1};
    struct out_writer *w = out_open(path, OUT_CSV, &c, NULL, err, sizeof(err));
    sample_flow(f);
    out_flow(w, f);
    out_close(w);
    assert_non_null(strstr(slurp(), ",\"say \\\"hi\\\"\"\n"));
}

static void
json_line(void **state)
{
    (void)state;
    char err[256];
    struct slot sl;
    struct flow *f = (struct flow *)(void *)sl.raw;
    struct out_extra x = {.name = "udps.q", .format = fmt_quote};
    struct out_config c = {.extra = &x, .n_extra = 1};
    struct out_writer *w = out_open(path, OUT_JSON, &c, NULL, err, sizeof(err));
    sample_flow(f);
    out_flow(w, f);
    out_close(w);
    const char *text = slurp();
    const char *head = "{\"id\": 7, \"expiration_id\": 0, \"src_ip\": \"2001:db8::2\", ";
    assert_memory_equal(text, head, strlen(head));
    assert_non_null(strstr(text, "\"dst2src_bytes\": 100, \"udps.q\": \"say \\\"hi\\\"\"}\n"));
}

static void
anonymize_columns(void **state)
{
    (void)state;
    char err[256];
    struct slot sl;
    struct flow *f = (struct flow *)(void *)sl.raw;
    struct out_config c = {0};
    struct out_writer *w = out_open(path, OUT_CSV, &c, "src_ip,dst_port", err, sizeof(err));
    assert_non_null(w);
    sample_flow(f);
    out_flow(w, f);
    f->id = 8;
    out_flow(w, f);
    out_close(w);
    char *text = slurp();
    char *row1 = strchr(text, '\n') + 1;
    char *row2 = strchr(row1, '\n') + 1;
    /* "7,0,"<128 hex>"," ... the same value gives the same digest within a run */
    assert_int_equal(row1[4], '"');
    assert_int_equal(strspn(row1 + 5, "0123456789abcdef"), 128);
    assert_memory_equal(row1 + 4, row2 + 4, 130);
    assert_null(strstr(row1, "2001:db8::2"));
    assert_null(out_open(path, OUT_CSV, &c, "src_ip,nope", err, sizeof(err)));
    assert_non_null(strstr(err, "nope"));
}

/* The first data row's src_ip digest of one writer ("run") with key file key (NULL: random). */
static void
one_run_digest(const char *key, char *digest)
{
    char err[256];
    struct slot sl;
    struct flow *f = (struct flow *)(void *)sl.raw;
    struct out_config c = {.anonymize_key = key};
    struct out_writer *w = out_open(path, OUT_CSV, &c, "src_ip", err, sizeof(err));

    if (w == NULL)
        fail_msg("%s", err);
    sample_flow(f);
    out_flow(w, f);
    assert_int_equal(out_close(w), 0);
    char *row = strchr(slurp(), '\n') + 1;
    assert_int_equal(strspn(row + 5, "0123456789abcdef"), 128);
    memcpy(digest, row + 5, 128);
    digest[128] = '\0';
}

static void
write_file(const char *p, const char *bytes, size_t n)
{
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, n, fp), n);
    fclose(fp);
}

/* --anonymize-key: two runs with the key give the same digests, two without it do not. */
static void
anonymize_key_is_stable(void **state)
{
    (void)state;
    char key[80], a[129], b[129], err[256];
    struct out_config c = {0};

    snprintf(key, sizeof(key), "%s.key", path);
    write_file(key, "0123456789abcdef0123456789abcdef0123456789abcdef", 48);
    one_run_digest(key, a);
    one_run_digest(key, b);
    assert_string_equal(a, b);
    one_run_digest(NULL, a);
    one_run_digest(NULL, b);
    assert_string_not_equal(a, b);
    /* another key, other digests */
    one_run_digest(key, a);
    write_file(key, "fedcba9876543210fedcba9876543210", 32);
    one_run_digest(key, b);
    assert_string_not_equal(a, b);
    /* too short, too long, unreadable: one line naming the file */
    c.anonymize_key = key;
    write_file(key, "short", 5);
    assert_null(out_open(path, OUT_CSV, &c, "src_ip", err, sizeof(err)));
    assert_non_null(strstr(err, key));
    assert_non_null(strstr(err, "5 octets"));
    char big[65];
    memset(big, 'k', sizeof(big));
    write_file(key, big, sizeof(big));
    assert_null(out_open(path, OUT_CSV, &c, "src_ip", err, sizeof(err)));
    assert_non_null(strstr(err, "more than 64"));
    unlink(key);
    assert_null(out_open(path, OUT_CSV, &c, "src_ip", err, sizeof(err)));
    assert_non_null(strstr(err, key));
    assert_non_null(strstr(err, "No such file"));
}

static void
ip_text_like_inet_ntop(void **state)
{
    (void)state;
    char buf[64];
    uint8_t v4[16] = {192, 0, 2, 33};
    uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, [12] = 1, [13] = 2, [14] = 3, [15] = 4};
    out_format_ip(v4, 4, buf);
    assert_string_equal(buf, "192.0.2.33");
    /* IPv4 is formatted by hand: compare with inet_ntop over every digit-count edge. */
    static const uint8_t octets[] = {0, 1, 9, 10, 99, 100, 199, 200, 255};
    for (size_t i = 0; i < sizeof(octets) * sizeof(octets); i++) {
        uint8_t a[16] = {octets[i % 9], octets[i / 9], octets[(i + 3) % 9], octets[(i / 3) % 9]};
        char want[INET_ADDRSTRLEN];
        assert_non_null(inet_ntop(AF_INET, a, want, sizeof(want)));
        out_format_ip(a, 4, buf);
        assert_string_equal(buf, want);
    }
    out_format_ip(mapped, 6, buf);
    assert_string_equal(buf, "::ffff:1.2.3.4");
}

static void
unwritable_path_is_an_error(void **state)
{
    (void)state;
    char err[256];
    struct out_config c = {0};
    assert_null(out_open("/nonexistent-dir/x.csv", OUT_CSV, &c, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent-dir/x.csv"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(csv_header_and_row, setup, teardown),
        cmocka_unit_test_setup_teardown(csv_statistics_floats, setup, teardown),
        cmocka_unit_test_setup_teardown(csv_quotes_are_backslash_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(json_line, setup, teardown),
        cmocka_unit_test_setup_teardown(anonymize_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(anonymize_key_is_stable, setup, teardown),
        cmocka_unit_test(ip_text_like_inet_ntop),
        cmocka_unit_test(unwritable_path_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
