/*
 * bench.h - the benchmark capture: millions of packets over hundreds of thousands of
 * concurrent flows with a realistic size and protocol mix, written without allocating per
 * packet.
 */
#ifndef MKPCAP_BENCH_H
#define MKPCAP_BENCH_H

#include <stddef.h>
#include <stdint.h>

struct bench_opts {
    uint64_t packets;
    uint64_t flows;
    uint64_t seed;
};

/* Writes the benchmark capture to path and a summary line to stderr; 0 or a negative errno
 * with one line in err (-EINVAL for options out of range). */
int
gen_bench(const char *path, const struct bench_opts *o, char *err, size_t errlen);

#endif
