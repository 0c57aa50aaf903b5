/*
 * fuzz_decode.c - the decoder and the meter on arbitrary bytes.
 *
 * libFuzzer entry point: the first input byte picks the link type, the rest is one captured
 * frame; it is decoded and, when metered, fed to a small meter (expiry, eviction, statistics,
 * SPLT all reachable). Built with -DFUZZ_STANDALONE it is a plain program for make check: it
 * mutates a few seed frames deterministically for a fixed number of rounds, so the sanitizer
 * build exercises the same paths without libFuzzer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "meter.h"

static const int dlts[] = {1 /* EN10MB */, 0 /* NULL */, 9, 12 /* RAW */, 50, 104, 113, 127, 228,
                           229};

static struct meter *mt;

static void
sink(void *ctx, const struct flow *f)
{
    (void)ctx;
    /* Touch what an output reads. */
    volatile uint64_t x = f->dir[FLOW_BIDI].bytes + flow_stats(f)[FLOW_BIDI].min_ps;
    (void)x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint64_t t;
    if (mt == NULL) {
        struct mtr_config c = {.idle_ms = 2000, .active_ms = 5000, .statistics = true,
                               .splt_n = 8, .max_flows = 64, .seed = 1};
        char err[256];
        mt = mtr_new(&c, NULL, 0, sink, NULL, err, sizeof(err));
        if (mt == NULL)
            abort();
    }
    if (size < 1)
        return 0;
    int dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
    /* An exact-size copy: ASan catches any read past the captured bytes. */
    uint8_t *frame = malloc(size - 1 ? size - 1 : 1);
    memcpy(frame, data + 1, size - 1);
    struct pkt_meta m;
    uint32_t wire = (uint32_t)(size - 1) + (data[0] & 0x80 ? 100 : 0);
    if (dec_packet(dlt, frame, (uint32_t)(size - 1), wire, (data[0] & 0x40) == 0, &m) == DEC_OK) {
        t += data[0] & 0x0f ? 7 : 900; /* sometimes jump past the idle timeout */
        m.time_ms = (data[0] & 0x20) ? t - 3 : t;
        mtr_packet(mt, &m);
    }
    free(frame);
    return 0;
}

#ifdef FUZZ_STANDALONE
/* Seeds: Ethernet/IPv4/UDP, Ethernet/VLAN/IPv6/TCP, GTP-U, IPv6 with extension headers. */
static const uint8_t seed_udp[] = {
    0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x24, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02,
    0x01, 0xc6, 0x33, 0x64, 0x02, 0x30, 0x39, 0x00, 0x35, 0x00, 0x10, 0x00, 0x00, 0x01, 0x02,
    0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
static const uint8_t seed_gtp[] = {
    0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x48, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02,
    0x01, 0xc6, 0x33, 0x64, 0x02, 0x08, 0x68, 0x08, 0x68, 0x00, 0x34, 0x00, 0x00, 0x34, 0xff,
    0x00, 0x24, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x85, 0x01, 0x00, 0x01, 0x00,
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00, 0x00,
    0x01, 0x0a, 0x00, 0x00, 0x02, 0x13, 0x88, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00};
static const uint8_t seed_v6[] = {
    0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x81, 0x00,
    0x00, 0x64, 0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x24, 0x3c, 0x40, 0x20, 0x01, 0x0d,
    0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 2, 0x06, 0x00, 0, 0, 0, 0, 0, 0, 0x01, 0xbb, 0xc3, 0x50, 0, 0, 0, 1, 0, 0, 0, 0,
    0x50, 0x18, 0x01, 0x00, 0, 0, 0, 0};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int
main(int argc, char **argv)
{
    const struct {
        const uint8_t *p;
        size_t n;
    } seeds[] = {{seed_udp, sizeof(seed_udp)}, {seed_gtp, sizeof(seed_gtp)},
                 {seed_v6, sizeof(seed_v6)}};
    long rounds = argc > 1 ? atol(argv[1]) : 300000;
    uint8_t buf[512];

    for (long r = 0; r < rounds; r++) {
        size_t s = next() % 3;
        size_t n = seeds[s].n;
        memcpy(buf, seeds[s].p, n);
        /* a few byte flips, a truncation or an extension with random bytes */
        for (int k = (int)(next() % 6); k > 0; k--)
            buf[next() % n] ^= (uint8_t)next();
        if (next() % 4 == 0)
            n = 1 + next() % n;
        else if (next() % 8 == 0) {
            size_t extra = next() % (sizeof(buf) - n);
            for (size_t i = 0; i < extra; i++)
                buf[n + i] = (uint8_t)next();
            n += extra;
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    if (mt != NULL) {
        mtr_flush(mt);
        mtr_free(mt);
    }
    printf("fuzz_decode: %ld mutated frames decoded and metered\n", rounds);
    return 0;
}
#endif
