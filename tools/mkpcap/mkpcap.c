/*
 * mkpcap.c - the capture generator: the bundled sample, the malformed-input corpus and the
 * benchmark capture.
 *
 *   mkpcap sample OUT.pcap
 *   mkpcap edge DIR
 *   mkpcap bench OUT.pcap [--packets N] [--flows M] [--seed S]
 *
 * Everything comes from a fixed-seed PRNG (splitmix64), so one command always writes the same
 * bytes: captures can be regenerated instead of committed, and goldens stay valid. Only
 * documentation addresses are used (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
 * 2001:db8::/32). Only libpcap and libc; see tests/gen/README.md for what each capture holds.
 *
 * This file is the command line only. gen.[ch] is the shared toolkit (PRNG, bytes, pcap writer,
 * header writers, conversations), apps.[ch] the application payloads; sample.[ch], edge.[ch]
 * and bench.[ch] each write one kind of capture.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "edge.h"
#include "sample.h"

/* ------------------------------------------------------------------------------------- main */

static void
usage(FILE *out)
{
    fprintf(out, "usage: mkpcap sample OUT.pcap\n"
                 "       mkpcap edge DIR\n"
                 "       mkpcap bench OUT.pcap [--packets N] [--flows M] [--seed S]\n"
                 "Writes the bundled sample capture, the malformed-input corpus (DIR/*.pcap and\n"
                 "DIR/manifest.tsv) or the benchmark capture (defaults 3000000 packets, 280000\n"
                 "flows, seed 1). The same command always writes the same bytes.\n");
}

static int
parse_u64(const char *flag, const char *s, uint64_t *out)
{
    char *end;

    errno = 0;
    if (s == NULL || *s == '\0' || *s == '-') {
        fprintf(stderr, "mkpcap: %s needs a non-negative number\n", flag);
        return -EINVAL;
    }
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0') {
        fprintf(stderr, "mkpcap: %s: '%s' is not a number\n", flag, s);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int
main(int argc, char **argv)
{
    char err[4400];
    int rc;

    if (argc < 3) {
        usage(argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    if (strcmp(argv[1], "sample") == 0 && argc == 3) {
        rc = gen_sample(argv[2], err, sizeof(err));
    } else if (strcmp(argv[1], "edge") == 0 && argc == 3) {
        rc = gen_edge(argv[2], err, sizeof(err));
    } else if (strcmp(argv[1], "bench") == 0) {
        struct bench_opts o = {3000000, 280000, 1};
        for (int i = 3; i < argc; i += 2) {
            uint64_t *dst = strcmp(argv[i], "--packets") == 0 ? &o.packets
                            : strcmp(argv[i], "--flows") == 0 ? &o.flows
                            : strcmp(argv[i], "--seed") == 0  ? &o.seed
                                                              : NULL;
            if (dst == NULL) {
                fprintf(stderr, "mkpcap: bench: unknown option '%s'\n", argv[i]);
                usage(stderr);
                return 2;
            }
            if (parse_u64(argv[i], i + 1 < argc ? argv[i + 1] : NULL, dst) != 0)
                return 2;
        }
        rc = gen_bench(argv[2], &o, err, sizeof(err));
    } else {
        usage(stderr);
        return 2;
    }
    if (rc != 0) {
        fprintf(stderr, "mkpcap: %s\n", err);
        return 1;
    }
    return 0;
}
