/*
 * test_config.c - the option table through cfg_set, the configuration-file syntax, printing
 * and reading back, cross-option validation and the reload rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char err[1024];

/* Parses text (NUL-terminated) as "nfprobe.conf" on top of defaults. */
static int
parse(struct prb_config *c, const char *text)
{
    cfg_defaults(c);
    err[0] = '\0';
    return cfg_parse_buf(text, strlen(text), "nfprobe.conf", c, err, sizeof(err));
}

/* cfg_print into a malloc'ed string. */
static char *
print(const struct prb_config *c, size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&text, &n);
    assert_non_null(fp);
    cfg_print(fp, c);
    assert_int_equal(fclose(fp), 0);
    if (len != NULL)
        *len = n;
    return text;
}

static void
expect_error(const char *text, const char *message)
{
    struct prb_config c;
    assert_int_not_equal(parse(&c, text), 0);
    if (strstr(err, message) == NULL)
        fail_msg("error '%s' does not contain '%s'", err, message);
    assert_null(strchr(err, '\n'));
    cfg_free(&c);
}

/* Every key, set through cfg_set to a value other than its default. */
static const struct {
    const char *key, *value;
} every_key[] = {
    {"read", "/captures/one.pcap"},
    {"read", "/captures/two words.pcap"},
    {"interface", "eth0"},
    {"interface", "eth1"},
    {"bpf-filter", "tcp port 443 # not a comment"},
    {"no-decode-tunnels", NULL},
    {"snapshot-length", "9000"},
    {"no-promiscuous-mode", NULL},
    {"socket-buffer-size", "67108864"},
    {"input-ifindex", "12"},
    {"idle-timeout", "300"},
    {"active-timeout", "7200"},
    {"accounting-mode", "3"},
    {"n-dissections", "7"},
    {"statistical-analysis", NULL},
    {"splt-analysis", "20"},
    {"max-nflows", "123456789012"},
    {"max-flows", "4096"},
    {"max-memory", "2G"},
    {"sampling", "100"},
    {"sampling-mode", "random"},
    {"sampling-upscale", NULL},
    {"ndpi-protos", "/etc/ndpi/protos.txt"},
    {"ndpi-categories", "/etc/ndpi/categories.txt"},
    {"csv", " leading blank.csv"},
    {"json", "quote\"and\\backslash\nnewline\ttab\x01.json"},
    {"anonymize", "src_ip,dst_ip"},
    {"collector", "ipfix+udp://192.0.2.10:4739"},
    {"collector", "ipfix+tls://[2001:db8::1]:4740"},
    {"collector-mode", "round-robin"},
    {"observation-domain", "4294967295"},
    {"pen", "12345"},
    {"mtu", "9000"},
    {"template-refresh", "300"},
    {"template-refresh-packets", "100"},
    {"export-rate", "0"},
    {"ipfix-template", "/usr/share/nfprobe/full.tmpl"},
    {"ntop-compat", NULL},
    {"networks-file", "/etc/nfprobe/networks.lst"},
    {"asn-database", "/usr/share/GeoIP/GeoLite2-ASN.mmdb"},
    {"route-lookup", NULL},
    {"local-networks", "192.0.2.0/24,2001:db8::/32"},
    {"tls-ca", "/etc/nfprobe/ca.pem"},
    {"tls-cert", "/etc/nfprobe/probe.pem"},
    {"tls-key", "/etc/nfprobe/probe.key"},
    {"collector", "kafka://k1:9092,[2001:db8::2]:9092/flows?compression=zstd"},
    {"kafka-option", "linger.ms=100"},
    {"kafka-option", "sasl.password=a b#c"},
    {"zmq-bind", "tcp://127.0.0.1:5557"},
    {"zmq-source-id", "7"},
    {"zmq-update-interval", "20s"},
    {"zmq-event-interval", "5"},
    {"zmq-hwm", "100"},
    {"zmq-encryption-key", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"},
    {"zmq-ndpi-ids", "/usr/share/nfprobe/ndpi-4.10.ids"},
    {"zmq-rebase-time", NULL},
    {"workers", "4"},
    {"stats-interval", "60"},
    {"drain-timeout", "10"},
    {"progress", NULL},
    {"no-progress", NULL},
    {"metrics", "127.0.0.1:9108"},
    {"pid-file", "/run/nfprobe/nfprobe.pid"},
    {"user", "nobody"},
    {"log", "syslog"},
    {"log-level", "debug"},
    {"daemon", NULL},
    {"seccomp", NULL},
    {"plugin", "/usr/lib/nfprobe/a.so:k=v"},
    {"plugin", "/usr/lib/nfprobe/b.so"},
    {"verbose", NULL},
};

static void
set_every_key(struct prb_config *c)
{
    cfg_defaults(c);
    for (size_t i = 0; i < sizeof(every_key) / sizeof(every_key[0]); i++) {
        if (cfg_set(c, every_key[i].key, every_key[i].value, err, sizeof(err)) != 0)
            fail_msg("cfg_set %s: %s", every_key[i].key, err);
    }
}

/* Number of distinct keys in a printed configuration. */
static size_t
count_keys(const char *text)
{
    char seen[128][64];
    size_t n = 0;
    for (const char *line = text; *line != '\0';) {
        const char *eol = strchr(line, '\n');
        size_t klen = strcspn(line, " =");
        if (line[0] != '#' && klen < 64) {
            char key[64];
            memcpy(key, line, klen);
            key[klen] = '\0';
            size_t j;
            for (j = 0; j < n; j++)
                if (strcmp(seen[j], key) == 0)
                    break;
            if (j == n && n < 128)
                memcpy(seen[n++], key, klen + 1);
        }
        line = eol ? eol + 1 : line + strlen(line);
    }
    return n;
}

static void
every_key_round_trips(void **state)
{
    (void)state;
    struct prb_config a, b;
    set_every_key(&a);
    char *t1 = print(&a, NULL);

    /* 47 option names, of which the two "no-" forms print as their positive key. */
    assert_int_equal(count_keys(t1), 66);

    cfg_defaults(&b);
    if (cfg_parse_buf(t1, strlen(t1), "printed", &b, err, sizeof(err)) != 0)
        fail_msg("reparse: %s\n%s", err, t1);
    char *t2 = print(&b, NULL);
    assert_string_equal(t1, t2);

    /* Spot checks on the values that needed quoting or units or lists. */
    assert_int_equal(b.n_files, 2);
    assert_string_equal(b.files[1], "/captures/two words.pcap");
    assert_string_equal(b.bpf_filter, "tcp port 443 # not a comment");
    assert_string_equal(b.csv_path, " leading blank.csv");
    assert_string_equal(b.json_path, "quote\"and\\backslash\nnewline\ttab\x01.json");
    assert_false(b.decode_tunnels);
    assert_false(b.promiscuous_mode);
    assert_true(b.statistical_analysis);
    assert_true(b.ntop_compat);
    assert_true(b.daemon);
    assert_true(b.verbose);
    assert_int_equal(b.max_nflows, 123456789012ull);
    assert_int_equal(b.observation_domain, 4294967295u);
    assert_int_equal(b.n_collectors, 3);
    assert_string_equal(b.collectors[1], "ipfix+tls://[2001:db8::1]:4740");
    assert_string_equal(b.collectors[2],
                        "kafka://k1:9092,[2001:db8::2]:9092/flows?compression=zstd");
    assert_int_equal(b.n_kafka_options, 2);
    assert_string_equal(b.kafka_options[1], "sasl.password=a b#c");
    assert_string_equal(b.collector_mode, "round-robin");
    assert_string_equal(b.log, "syslog");
    assert_int_equal(b.log_level, LOG_DEBUG);
    assert_int_equal(b.n_plugins, 2);
    assert_int_equal(cfg_reload_check(&a, &b, err, sizeof(err)), 0);

    free(t1);
    free(t2);
    cfg_free(&b);
}

static void
defaults_round_trip(void **state)
{
    (void)state;
    struct prb_config a, b;
    cfg_defaults(&a);
    char *t1 = print(&a, NULL);
    assert_non_null(strstr(t1, "idle-timeout = 120\n"));
    assert_non_null(strstr(t1, "decode-tunnels = yes\n"));
    assert_non_null(strstr(t1, "statistical-analysis = no\n"));
    assert_non_null(strstr(t1, "log-level = info\n"));
    assert_null(strstr(t1, "no-decode-tunnels"));
    assert_null(strstr(t1, "bpf-filter")); /* unset strings are not printed */
    assert_int_equal(parse(&b, t1), 0);
    char *t2 = print(&b, NULL);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    cfg_free(&b);
}

static void
units(void **state)
{
    (void)state;
    struct prb_config c;
    assert_int_equal(parse(&c, "idle-timeout = 5m\n"
                               "active-timeout = 1h\n"
                               "template-refresh = 30s\n"
                               "stats-interval = 1d\n"
                               "socket-buffer-size = 64MiB\n"
                               "snapshot-length = 4K\n"
                               "mtu = 1KiB\n"),
                     0);
    assert_int_equal(c.idle_timeout, 300);
    assert_int_equal(c.active_timeout, 3600);
    assert_int_equal(c.template_refresh, 30);
    assert_int_equal(c.stats_interval, 86400);
    assert_int_equal(c.socket_buffer_size, 64u << 20);
    assert_int_equal(c.snapshot_length, 4096);
    assert_int_equal(c.mtu, 1024);
    cfg_free(&c);

    /* The command line takes the same units. */
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "idle-timeout", "2h", err, sizeof(err)), 0);
    assert_int_equal(c.idle_timeout, 7200);
    assert_int_equal(cfg_set(&c, "socket-buffer-size", "1G", err, sizeof(err)), 0);
    assert_int_equal(c.socket_buffer_size, 1u << 30);

    expect_error("idle-timeout = 5x\n", "nfprobe.conf:1: --idle-timeout: '5x' is not a number");
    expect_error("idle-timeout = 5 m\n", "'5 m' is not a number");
    expect_error("idle-timeout = 5MiB\n", "(or with a unit: s, m, h, d)");
    expect_error("socket-buffer-size = 5m\n", "(or with a unit: K/KiB, M/MiB, G/GiB)");
    expect_error("socket-buffer-size = 2GiB\n", "from 0 to 2147483647"); /* above INT32_MAX */
    expect_error("accounting-mode = 1s\n", "'1s' is not a number from 0 to 3");
    /* 2^64 and values whose product with the unit overflows 64 bits */
    expect_error("max-nflows = 18446744073709551616\n", "max-nflows");
    expect_error("idle-timeout = 213503982334602d\n", "idle-timeout");
    expect_error("idle-timeout = -1\n", "'-1' is not a number");
    expect_error("idle-timeout = +1\n", "'+1' is not a number");
    expect_error("idle-timeout = 0x10\n", "'0x10' is not a number");
    expect_error("idle-timeout =\n", "'' is not a number");
    expect_error("max-flows = 0\n", "from 1 to");
}

static void
lists_repeat_and_command_line_replaces(void **state)
{
    (void)state;
    struct prb_config c;
    assert_int_equal(parse(&c, "read = a.pcap\nread = b.pcap\n"
                               "collector = ipfix+udp://127.0.0.1:4739\n"
                               "collector = v9+udp://127.0.0.1:2055\n"
                               "collector = ipfix+tcp://127.0.0.1:4739\n"),
                     0);
    assert_int_equal(c.n_files, 2);
    assert_string_equal(c.files[0], "a.pcap");
    assert_string_equal(c.files[1], "b.pcap");
    assert_int_equal(c.n_collectors, 3);

    /* -r on the command line replaces the file's list, and further -r append to it. */
    assert_int_equal(cfg_set(&c, "read", "c.pcap", err, sizeof(err)), 0);
    assert_int_equal(cfg_set(&c, "read", "d.pcap", err, sizeof(err)), 0);
    assert_int_equal(c.n_files, 2);
    assert_string_equal(c.files[0], "c.pcap");
    assert_string_equal(c.files[1], "d.pcap");
    assert_null(c.files[2]);
    /* A list the command line did not touch keeps the file's entries. */
    assert_int_equal(c.n_collectors, 3);
    cfg_free(&c);

    /* Without a file, cfg_set appends as it always did. */
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "read", "x", err, sizeof(err)), 0);
    assert_int_equal(cfg_set(&c, "read", "y", err, sizeof(err)), 0);
    assert_int_equal(c.n_files, 2);

    /* Capacity: the 17th collector is refused and the line is named. */
    char text[2048] = "";
    for (int i = 0; i < 17; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "collector = ipfix+udp://127.0.0.1:%d\n", 4000 + i);
    expect_error(text, "nfprobe.conf:17: --collector: at most 16 may be given");
    expect_error("interface =\n", "nfprobe.conf:1: --interface: needs a value");
}

static void
flags_take_yes_no(void **state)
{
    (void)state;
    struct prb_config c;
    assert_int_equal(parse(&c, "statistical-analysis = yes\ndecode-tunnels = no\n"
                               "promiscuous-mode = false\nntop-compat = 1\nverbose = On\n"
                               "daemon = TRUE\n"),
                     0);
    assert_true(c.statistical_analysis);
    assert_false(c.decode_tunnels);
    assert_false(c.promiscuous_mode);
    assert_true(c.ntop_compat);
    assert_true(c.verbose);
    assert_true(c.daemon);
    cfg_free(&c);

    assert_int_equal(parse(&c, "no-decode-tunnels = yes\nno-promiscuous-mode = 0\n"), 0);
    assert_false(c.decode_tunnels);
    assert_true(c.promiscuous_mode);
    cfg_free(&c);
    assert_int_equal(parse(&c, "no-decode-tunnels = no\n"), 0);
    assert_true(c.decode_tunnels);
    cfg_free(&c);

    expect_error("statistical-analysis = maybe\n",
                 "nfprobe.conf:1: --statistical-analysis: 'maybe' is not yes or no");
    expect_error("statistical-analysis =\n", "'' is not yes or no");
    /* decode-tunnels and no-decode-tunnels set one thing: twice is a mistake. */
    expect_error("decode-tunnels = yes\nno-decode-tunnels = yes\n",
                 "nfprobe.conf:2: no-decode-tunnels: already set on line 1");

    /* On the command line a flag takes no value. */
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "statistical-analysis", NULL, err, sizeof(err)), 0);
    assert_true(c.statistical_analysis);
    assert_int_equal(cfg_set(&c, "no-decode-tunnels", NULL, err, sizeof(err)), 0);
    assert_false(c.decode_tunnels);
    assert_int_equal(cfg_set(&c, "decode-tunnels", NULL, err, sizeof(err)), 0);
    assert_true(c.decode_tunnels);
    /* With a value (--statistical-analysis=no) it is a yes/no like in a file. */
    assert_int_equal(cfg_set(&c, "statistical-analysis", "no", err, sizeof(err)), 0);
    assert_false(c.statistical_analysis);
    assert_int_equal(cfg_set(&c, "no-decode-tunnels", "yes", err, sizeof(err)), 0);
    assert_false(c.decode_tunnels);
    assert_int_equal(cfg_set(&c, "verbose", "maybe", err, sizeof(err)), -22);
    assert_string_equal(err, "--verbose: 'maybe' is not yes or no (or true, false, on, off, 1, 0)");
}

static void
choices_and_levels(void **state)
{
    (void)state;
    struct prb_config c;
    assert_int_equal(parse(&c, "collector-mode = round-robin\nlog = syslog\nlog-level = warn\n"),
                     0);
    assert_string_equal(c.collector_mode, "round-robin");
    assert_string_equal(c.log, "syslog");
    assert_int_equal(c.log_level, LOG_WARNING);
    cfg_free(&c);
    assert_int_equal(parse(&c, "log-level = error\n"), 0);
    assert_int_equal(c.log_level, LOG_ERR);
    cfg_free(&c);
    expect_error("collector-mode = random\n",
                 "--collector-mode: 'random' is not one of all, round-robin");
    expect_error("log = /var/log/nfprobe.log\n", "--log: '/var/log/nfprobe.log' is not one of");
    expect_error("log-level = loud\n", "--log-level: 'loud' is not a level");

    /* The choice is the table's string, not the caller's buffer. */
    char mode[] = "all";
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "collector-mode", mode, err, sizeof(err)), 0);
    mode[0] = 'X';
    assert_string_equal(c.collector_mode, "all");
}

static void
syntax_errors_name_file_and_line(void **state)
{
    (void)state;
    /* The brief's own example: the 12th line. */
    expect_error("# 1\n\n# 3\nread = a.pcap\n\n\n\n\n\n\n\nidle-timeout = x\n",
                 "nfprobe.conf:12: --idle-timeout: 'x' is not a number from 0 to "
                 "31622400 seconds (or with a unit: s, m, h, d)");
    expect_error("idle-timeout 5\n", "nfprobe.conf:1: expected 'key = value'");
    expect_error("\n= 5\n", "nfprobe.conf:2: expected 'key = value'");
    expect_error("frobnicate = 1\n", "nfprobe.conf:1: unknown key 'frobnicate'");
    expect_error("read = a\nidle_timeout = 5\n",
                 "nfprobe.conf:2: unknown key 'idle_timeout' (did you mean 'idle-timeout'?)");
    expect_error("idle-timeout = 5\nidle-timeout = 6\n",
                 "nfprobe.conf:2: idle-timeout: already set on line 1");
    expect_error("bpf-filter = \"tcp\n", "nfprobe.conf:1: missing closing quote");
    expect_error("bpf-filter = \"tcp\" port\n", "text after the closing quote");
    expect_error("bpf-filter = \"a\\qb\"\n", "unknown escape '\\q'");
    expect_error("bpf-filter = \"a\\x0\"\n", "\\x needs two hex digits");
    expect_error("bpf-filter = \"a\\x00\"\n", "\\x needs two hex digits");
    expect_error("bpf-filter = \"a\\", "missing closing quote");
    expect_error("csv =\n", "nfprobe.conf:1: --csv: needs a value");
    expect_error("csv = # nothing\n", "--csv: needs a value");

    struct prb_config c;
    static const char nul[] = "read = a\nread = b\0c\n";
    cfg_defaults(&c);
    assert_int_not_equal(cfg_parse_buf(nul, sizeof(nul) - 1, "x.conf", &c, err, sizeof(err)), 0);
    assert_string_equal(err, "x.conf:2: NUL byte in line");
    cfg_free(&c);

    /* A value with a control character is reported on one line. */
    expect_error("accounting-mode = \"1\\n2\"\n", "'1?2' is not a number");
}

static void
overlong_line(void **state)
{
    (void)state;
    struct prb_config c;
    size_t n = CFG_MAX_LINE;
    char *text = malloc(n + 16);
    assert_non_null(text);

    /* Exactly CFG_MAX_LINE characters (a CR before the LF does not count) is fine. */
    memset(text, '#', n);
    memcpy(text + n, "\r\n", 3);
    assert_int_equal(parse(&c, text), 0);
    cfg_free(&c);
    /* One more is refused, naming the line. */
    memcpy(text, "read = a\n", 9);
    memset(text + 9, 'x', n + 1);
    text[9 + n + 1] = '\0';
    char want[64];
    snprintf(want, sizeof(want), "nfprobe.conf:2: line longer than %d characters", CFG_MAX_LINE);
    expect_error(text, want);
    free(text);

    /* Values are bounded so that any of them prints back on one line: the longest value of
     * control characters (escaped to 4 bytes each) round-trips. */
    char *v = malloc(CFG_MAX_VALUE + 2);
    memset(v, 0x1c, CFG_MAX_VALUE);
    v[CFG_MAX_VALUE] = '\0';
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "bpf-filter", v, err, sizeof(err)), 0);
    char *t1 = print(&c, NULL);
    struct prb_config d;
    cfg_defaults(&d);
    if (cfg_parse_buf(t1, strlen(t1), "printed", &d, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_string_equal(d.bpf_filter, v);
    free(t1);
    cfg_free(&d);
    /* One more byte is refused, on the command line and in a file. */
    v[CFG_MAX_VALUE] = 'x';
    v[CFG_MAX_VALUE + 1] = '\0';
    assert_int_equal(cfg_set(&c, "interface", v, err, sizeof(err)), -22);
    snprintf(want, sizeof(want), "--interface: value longer than %d bytes", CFG_MAX_VALUE);
    assert_string_equal(err, want);
    text = malloc(CFG_MAX_VALUE + 32);
    snprintf(text, CFG_MAX_VALUE + 32, "csv = %s\n", v);
    memset(text + 6, 'a', CFG_MAX_VALUE + 1);
    snprintf(want, sizeof(want), "nfprobe.conf:1: --csv: value longer than %d bytes",
             CFG_MAX_VALUE);
    expect_error(text, want);
    free(text);
    free(v);
}

static void
empty_and_odd_layouts(void **state)
{
    (void)state;
    struct prb_config c, d;
    cfg_defaults(&d);

    cfg_defaults(&c);
    assert_int_equal(cfg_parse_buf("", 0, "empty.conf", &c, err, sizeof(err)), 0);
    char *t1 = print(&c, NULL), *t2 = print(&d, NULL);
    assert_string_equal(t1, t2); /* nothing changed */
    free(t1);
    free(t2);
    cfg_free(&c);

    /* Blank lines, comments, CRLF, tabs, no final newline, NULL name. */
    static const char text[] = "  # comment\r\n\t\r\n\tidle-timeout\t=\t7 # seven\r\n"
                               "csv = /tmp/a#b\ncsv2 = x";
    cfg_defaults(&c);
    assert_int_not_equal(cfg_parse_buf(text, sizeof(text) - 1, NULL, &c, err, sizeof(err)), 0);
    assert_string_equal(err, "configuration:5: unknown key 'csv2'");
    assert_int_equal(c.idle_timeout, 7);
    assert_string_equal(c.csv_path, "/tmp/a#b"); /* '#' not after a blank is text */
    cfg_free(&c);

    assert_int_equal(parse(&c, "\xef\xbb\xbfidle-timeout = 9\n"), 0); /* UTF-8 BOM */
    assert_int_equal(c.idle_timeout, 9);
    cfg_free(&c);
    expect_error("read = a\n\xef\xbb\xbfidle-timeout = 9\n", "nfprobe.conf:2: expected");

    assert_int_equal(parse(&c, "json = out.json   # trailing comment and blanks   "), 0);
    assert_string_equal(c.json_path, "out.json");
    cfg_free(&c);
    assert_int_equal(parse(&c, "bpf-filter = \"host 10.0.0.1 # x\"   # real comment\n"
                               "anonymize = \"\\\"\\\\\\x41\\t\"\n"),
                     0);
    assert_string_equal(c.bpf_filter, "host 10.0.0.1 # x");
    assert_string_equal(c.anonymize, "\"\\A\t");
    cfg_free(&c);
}

static void
load_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/nfprobe-test-config.XXXXXX", path[128];
    struct prb_config c;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/nfprobe.conf", dir);

    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("# test\ninterface = eth0\nworkers = 2\ncollector = ipfix+udp://127.0.0.1:4739\n", fp);
    fputs("bpf-filter = not arp\n", fp);
    fclose(fp);
    cfg_defaults(&c);
    assert_int_equal(cfg_load_file(path, &c, err, sizeof(err)), 0);
    /* The strings live in the config's own copy of the text. */
    unlink(path);
    assert_string_equal(c.ifaces[0], "eth0");
    assert_string_equal(c.bpf_filter, "not arp");
    assert_int_equal(c.workers, 2);
    assert_int_equal(cfg_validate(&c, err, sizeof(err)), 0);

    /* A second file adds to the same config; cfg_free releases both texts. */
    fp = fopen(path, "w");
    fputs("json = /tmp/x.json\nidle-timeout = x\n", fp);
    fclose(fp);
    assert_int_not_equal(cfg_load_file(path, &c, err, sizeof(err)), 0);
    char want[256];
    snprintf(want, sizeof(want), "%s:2: --idle-timeout: 'x' is not a number", path);
    assert_non_null(strstr(err, want));
    assert_string_equal(c.json_path, "/tmp/x.json");
    cfg_free(&c);
    assert_null(c.text);
    cfg_free(&c); /* twice is harmless */
    cfg_free(NULL);

    unlink(path);
    assert_int_equal(cfg_load_file(path, &c, err, sizeof(err)), -2 /* -ENOENT */);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file"));
    assert_int_not_equal(cfg_load_file(dir, &c, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "is a directory"));

    /* Larger than CFG_MAX_FILE */
    fp = fopen(path, "w");
    for (unsigned i = 0; i < CFG_MAX_FILE / 16 + 1; i++)
        fputs("# padding line.\n", fp);
    fclose(fp);
    cfg_defaults(&c);
    assert_int_not_equal(cfg_load_file(path, &c, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "larger than"));
    cfg_free(&c);
    unlink(path);
    rmdir(dir);
}

static void
validate_cross_option_rules(void **state)
{
    (void)state;
    struct prb_config c;
#define VALID(text) do { assert_int_equal(parse(&c, text), 0);                                    \
        if (cfg_validate(&c, err, sizeof(err)) != 0) fail_msg("%s: %s", text, err);               \
        cfg_free(&c); } while (0)
#define INVALID(text, msg) do { assert_int_equal(parse(&c, text), 0);                             \
        assert_int_not_equal(cfg_validate(&c, err, sizeof(err)), 0);                              \
        if (strstr(err, msg) == NULL) fail_msg("'%s' lacks '%s'", err, msg);                     \
        cfg_free(&c); } while (0)

    INVALID("", "no input");
    INVALID("read = a\ninterface = eth0\n", "-r and -i cannot be mixed");
    VALID("read = a\n");
    INVALID("read = a\nworkers = 2\n", "--workers 2: several workers need -i");
    VALID("interface = eth0\nworkers = 2\n");
    VALID("read = a\nuser = nobody\n");
    INVALID("read = a\nuser = no-such-user-nfprobe\n", "--user no-such-user-nfprobe: no such user");
    INVALID("read = a\nuser = root\n", "--user root: is uid or gid 0");
    INVALID("read = a\ntls-cert = c.pem\n", "--tls-cert: needs --tls-key too");
    INVALID("read = a\ntls-key = c.key\n", "--tls-key: needs --tls-cert too");
    VALID("read = a\ntls-cert = c.pem\ntls-key = c.key\n");
    INVALID("read = a\nntop-compat = yes\n", "--ntop-compat: applies to export (-c URL), and no");
    INVALID("read = a\nipfix-template = t.tmpl\n", "--ipfix-template: applies to export");
    VALID("read = a\nntop-compat = yes\nipfix-template = t.tmpl\n"
          "collector = ipfix+udp://127.0.0.1:4739\n");
    INVALID("read = a\ncollector-mode = round-robin\ncollector = ipfix+udp://127.0.0.1:1\n",
            "--collector-mode round-robin: needs at least two collectors (1 given)");
    VALID("read = a\ncollector-mode = round-robin\ncollector = ipfix+udp://127.0.0.1:1\n"
          "collector = ipfix+udp://127.0.0.1:2\n");
    VALID("read = a\nmetrics = 127.0.0.1:9108\n");
    VALID("read = a\nmetrics = [::1]:9108\n");
    INVALID("read = a\nmetrics = 9108\n", "--metrics: '9108': expected HOST:PORT");
    INVALID("read = a\nmetrics = ::1:9108\n", "needs brackets");
    INVALID("read = a\nmetrics = 127.0.0.1:70000\n", "port '70000'");
    INVALID("read = a\nanonymize = src_ip\n", "--anonymize");
    INVALID("read = a\ncsv = -\njson = -\n", "both write to stdout");
    INVALID("read = a\ndaemon = yes\n", "--daemon: logging to stderr would be lost");
    VALID("read = a\ndaemon = yes\nlog = syslog\npid-file = /run/nfprobe.pid\ncsv = /tmp/x\n");
    INVALID("read = a\ndaemon = yes\nlog = syslog\ncsv = -\n", "stdout");
    INVALID("read = a\ndaemon = yes\nlog = syslog\npid-file = run/x.pid\n",
            "--pid-file run/x.pid: must be an absolute path");
    VALID("read = a\nsampling = 1\n");
    VALID("read = a\nsampling = 1000000\nsampling-mode = random\nsampling-upscale = yes\n");
    INVALID("read = a\nsampling-upscale = yes\n",
            "--sampling-upscale: applies to --sampling N, and none is given");
    INVALID("read = a\nsampling-mode = random\n", "--sampling-mode: applies to --sampling N");
    VALID("read = a\nsampling = 16383\ncollector = v5+udp://127.0.0.1:2055\n");
    INVALID("read = a\nsampling = 16384\ncollector = v5+udp://127.0.0.1:2055\n",
            "--sampling 16384: NetFlow v5 (v5+udp://127.0.0.1:2055) announces at most 1:16383");
    assert_int_not_equal(cfg_set(&c, "sampling", "1000001", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "--sampling: '1000001' is not a number from 0 to 1000000"));
    assert_int_not_equal(cfg_set(&c, "sampling-mode", "systematic", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "--sampling-mode"));
#undef VALID
#undef INVALID
}

static void
reload_rules(void **state)
{
    (void)state;
    struct prb_config a, b;
    assert_int_equal(parse(&a, "interface = eth0\nidle-timeout = 60\n"
                               "collector = ipfix+udp://127.0.0.1:4739\n"),
                     0);
    cfg_defaults(&b);
    const char *next = "interface = eth0\nidle-timeout = 30\nactive-timeout = 600\n"
                       "collector = ipfix+tcp://127.0.0.1:4739\n"
                       "collector = v9+udp://127.0.0.1:2055\nlog-level = debug\n"
                       "stats-interval = 10\ntls-ca = /etc/ca.pem\n";
    assert_int_equal(cfg_parse_buf(next, strlen(next), "next", &b, err, sizeof(err)), 0);
    assert_int_equal(cfg_reload_check(&a, &b, err, sizeof(err)), 0);
    cfg_free(&b);

    cfg_defaults(&b);
    next = "interface = eth0\nworkers = 2\n";
    assert_int_equal(cfg_parse_buf(next, strlen(next), "next", &b, err, sizeof(err)), 0);
    assert_int_not_equal(cfg_reload_check(&a, &b, err, sizeof(err)), 0);
    assert_string_equal(err, "--workers: changing it needs a restart");
    cfg_free(&b);

    cfg_defaults(&b);
    next = "interface = eth1\nidle-timeout = 60\n";
    assert_int_equal(cfg_parse_buf(next, strlen(next), "next", &b, err, sizeof(err)), 0);
    assert_int_not_equal(cfg_reload_check(&a, &b, err, sizeof(err)), 0);
    assert_string_equal(err, "--interface: changing it needs a restart");
    cfg_free(&b);

    cfg_defaults(&b);
    next = "interface = eth0\nno-decode-tunnels = yes\n";
    assert_int_equal(cfg_parse_buf(next, strlen(next), "next", &b, err, sizeof(err)), 0);
    assert_int_not_equal(cfg_reload_check(&a, &b, err, sizeof(err)), 0);
    assert_string_equal(err, "--decode-tunnels: changing it needs a restart");
    cfg_free(&b);
    cfg_free(&a);
}

/* What the command line has always done still holds. */
static void
cfg_set_as_before(void **state)
{
    (void)state;
    struct prb_config c;
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "accounting-mode", "7", err, sizeof(err)), -22);
    assert_string_equal(err, "--accounting-mode: '7' is not a number from 0 to 3");
    assert_int_equal(cfg_set(&c, "idle-timeout", "-1", err, sizeof(err)), -22);
    assert_non_null(strstr(err, "--idle-timeout: '-1'"));
    assert_int_equal(cfg_set(&c, "idle-timeout", NULL, err, sizeof(err)), -22);
    assert_string_equal(err, "--idle-timeout: needs a value");
    assert_int_equal(cfg_set(&c, "frobnicate", "1", err, sizeof(err)), -22);
    assert_string_equal(err, "unknown option 'frobnicate'");
    assert_int_equal(cfg_set(&c, "csv", "", err, sizeof(err)), -22);
    assert_string_equal(err, "--csv: needs a value");
    assert_int_equal(cfg_set(&c, "max-nflows", "18446744073709551615", err, sizeof(err)), 0);
    assert_int_equal(c.max_nflows, UINT64_MAX);
    assert_int_equal(cfg_set(&c, "splt-analysis", "65535", err, sizeof(err)), 0);
    assert_int_equal(c.splt_analysis, 65535);
    assert_int_equal(cfg_set(&c, "splt-analysis", "65536", err, sizeof(err)), -22);
    assert_int_equal(c.splt_analysis, 65535);
}

/*
 * etc/nfprobe.conf: parses, changes nothing as shipped, names every key, and each "#key = v"
 * line of a key that has a default shows exactly that default.
 */
static void
example_file_documents_every_key(void **state)
{
    (void)state;
    const char *src = getenv("SRCDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/etc/nfprobe.conf", src ? src : ".");
    struct prb_config c, d;
    cfg_defaults(&c);
    if (cfg_load_file(path, &c, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    cfg_defaults(&d);
    char *defaults = print(&d, NULL), *shipped = print(&c, NULL);
    assert_string_equal(shipped, defaults);
    cfg_free(&c);

    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[n] = '\0';

    /* Every printed key appears as "#key = " or "key = " at the start of a line. */
    struct prb_config all;
    set_every_key(&all);
    char *keys = print(&all, NULL);
    for (char *line = keys; *line != '\0';) {
        char *eol = strchr(line, '\n');
        char key[64], pat[80];
        size_t klen = strcspn(line, " ");
        snprintf(key, sizeof(key), "%.*s", (int)klen, line);
        snprintf(pat, sizeof(pat), "\n#%s = ", key);
        if (strstr(text, pat) == NULL)
            fail_msg("etc/nfprobe.conf does not show key '%s'", key);
        line = eol + 1;
    }
    free(keys);

    /* Commented defaults are the defaults. */
    int checked = 0;
    for (char *line = text; *line != '\0';) {
        char *eol = strchr(line, '\n');
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        char one[512], key[64], pat[80], pat2[80];
        if (line[0] == '#' && ll < sizeof(one) && line[1] >= 'a' && line[1] <= 'z') {
            snprintf(one, sizeof(one), "%.*s\n", (int)ll - 1, line + 1);
            snprintf(key, sizeof(key), "%.*s", (int)strcspn(one, " "), one);
            snprintf(pat, sizeof(pat), "%s = ", key);
            snprintf(pat2, sizeof(pat2), "\n%s = ", key);
            bool has_default = strncmp(defaults, pat, strlen(pat)) == 0 ||
                               strstr(defaults, pat2) != NULL;
            if (has_default) {
                cfg_defaults(&c);
                if (cfg_parse_buf(one, strlen(one), "line", &c, err, sizeof(err)) != 0)
                    fail_msg("'%s': %s", one, err);
                char *t = print(&c, NULL);
                if (strcmp(t, defaults) != 0)
                    fail_msg("etc/nfprobe.conf: '%.*s' is not the default", (int)ll, line);
                free(t);
                cfg_free(&c);
                checked++;
            }
        }
        line = eol ? eol + 1 : line + ll;
    }
    assert_int_equal(checked, 41); /* every numeric, flag and choice key */
    free(defaults);
    free(shipped);
}

/* etc/nfprobe.8 documents every key as a flag (groff writes '-' as "\-"). */
static void
man_page_documents_every_key(void **state)
{
    (void)state;
    const char *src = getenv("SRCDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/etc/nfprobe.8", src ? src : ".");
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    static char text[1 << 17];
    size_t n = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[n] = '\0';

    struct prb_config all;
    set_every_key(&all);
    char *keys = print(&all, NULL);
    /* The printed keys plus the two negative flags. */
    size_t klen = strlen(keys);
    keys = realloc(keys, klen + 64);
    strcat(keys, "no-decode-tunnels =\nno-promiscuous-mode =\n");
    for (char *line = keys; *line != '\0';) {
        char *eol = strchr(line, '\n');
        char pat[128] = "\\-\\-";
        size_t w = strlen(pat);
        for (char *k = line; *k != ' ' && w + 2 < sizeof(pat); k++) {
            if (*k == '-')
                pat[w++] = '\\';
            pat[w++] = *k;
        }
        pat[w] = '\0';
        if (strstr(text, pat) == NULL)
            fail_msg("etc/nfprobe.8 does not document '%s'", pat);
        line = eol + 1;
    }
    free(keys);
}

/*
 * Options are defined once (config.c's table): the man page's OPTIONS section names exactly
 * the table's options, both ways, and --help lists every row that has a help text. Fails when
 * an option is added, renamed or removed in one place only.
 */
static void
man_page_and_help_match_the_table(void **state)
{
    (void)state;
    const char *src = getenv("SRCDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/etc/nfprobe.8", src ? src : ".");
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    static char text[1 << 17];
    size_t n = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[n] = '\0';
    char *sec = strstr(text, "\n.SH OPTIONS\n");
    assert_non_null(sec);
    char *end = strstr(sec + 1, "\n.SH ");
    assert_non_null(end);
    *end = '\0';

    /* Man page -> table: every "\-\-name" of the section is an option. */
    for (char *p = strstr(sec, "\\-\\-"); p != NULL; p = strstr(p + 1, "\\-\\-")) {
        char name[64];
        size_t w = 0;
        const char *q = p + 4;
        while (w + 1 < sizeof(name)) {
            if (q[0] == '\\' && q[1] == '-' && ((q[2] >= 'a' && q[2] <= 'z'))) {
                name[w++] = '-';
                q += 2;
            } else if ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9')) {
                name[w++] = *q++;
            } else {
                break;
            }
        }
        name[w] = '\0';
        bool found = false;
        const char *o;
        for (int i = 0; (o = cfg_option_name(i, false, NULL)) != NULL; i++)
            found |= strcmp(o, name) == 0;
        if (!found)
            fail_msg("etc/nfprobe.8 documents --%s, which is not in the option table", name);
    }

    /* Table -> man page and --help. */
    char *help = NULL;
    size_t hlen = 0;
    FILE *hp = open_memstream(&help, &hlen);
    cfg_usage(hp);
    fclose(hp);
    const char *o;
    bool cli;
    int rows = 0;
    for (int i = 0; (o = cfg_option_name(i, false, &cli)) != NULL; i++, rows++) {
        char pat[128] = "\\-\\-", hpat[80];
        size_t w = strlen(pat);
        for (const char *k = o; *k != '\0' && w + 2 < sizeof(pat); k++) {
            if (*k == '-')
                pat[w++] = '\\';
            pat[w++] = *k;
        }
        pat[w] = '\0';
        if (strstr(sec, pat) == NULL)
            fail_msg("etc/nfprobe.8's OPTIONS do not document --%s", o);
        snprintf(hpat, sizeof(hpat), "--%s", o);
        bool hidden = strcmp(o, "decode-tunnels") == 0 || strcmp(o, "promiscuous-mode") == 0;
        if (!hidden && strstr(help, hpat) == NULL)
            fail_msg("--help does not list --%s", o);
    }
    assert_true(rows > 40);
    free(help);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_key_round_trips),
        cmocka_unit_test(defaults_round_trip),
        cmocka_unit_test(units),
        cmocka_unit_test(lists_repeat_and_command_line_replaces),
        cmocka_unit_test(flags_take_yes_no),
        cmocka_unit_test(choices_and_levels),
        cmocka_unit_test(syntax_errors_name_file_and_line),
        cmocka_unit_test(overlong_line),
        cmocka_unit_test(empty_and_odd_layouts),
        cmocka_unit_test(load_file),
        cmocka_unit_test(validate_cross_option_rules),
        cmocka_unit_test(reload_rules),
        cmocka_unit_test(cfg_set_as_before),
        cmocka_unit_test(example_file_documents_every_key),
        cmocka_unit_test(man_page_documents_every_key),
        cmocka_unit_test(man_page_and_help_match_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
