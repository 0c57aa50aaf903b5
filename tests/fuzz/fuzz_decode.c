/*
 * fuzz_decode.c - the decoder and the meter on arbitrary bytes.
 *
 * libFuzzer entry point: the first input byte picks the link type (every one dec_packet()
 * knows, plus one it does not), the rest is one captured frame; it is decoded and, when
 * metered, fed to a small meter (expiry, eviction, statistics, SPLT all reachable). Built with
 * -DFUZZ_STANDALONE it replays tests/fuzz/corpus/decode (frames of the generated captures,
 * tests/fuzz/mkseeds.sh) with mutations, for make check.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "fuzz.h"
#include "meter.h"

/* The order is the corpus's first byte: append, never reorder. 147 (USER0) is refused. */
static const int dlts[] = {1 /* EN10MB */, 0 /* NULL */, 9, 12 /* RAW */, 50, 104, 113, 127, 228,
                           229, 147};

/* A link type dec_packet() learns must be added above, or it is never fuzzed. */
static void
check_dlts(void)
{
    for (int d = 0; d < 1024; d++) {
        bool listed = false;
        for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++)
            listed |= dlts[i] == d;
        if (dec_dlt_supported(d) && !listed) {
            fprintf(stderr, "fuzz_decode: link type %d is decoded but not fuzzed\n", d);
            abort();
        }
    }
}

static struct meter *mt;

static void
sink(void *ctx, const struct flow *f)
{
    (void)ctx;
    /* Touch what an output reads. */
    volatile uint64_t x = f->dir[FLOW_BIDI].bytes + flow_stats(f)[FLOW_BIDI].min_ps;
    (void)x;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint64_t t;
    if (mt == NULL) {
        check_dlts();
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
const char fuzz_target_name[] = "decode";
const char *const fuzz_seed_paths[] = {"tests/fuzz/corpus/decode", NULL};
const long fuzz_mutations = 2000;
const unsigned fuzz_prefixes = 0;
int (*const fuzz_init)(void) = NULL;
#endif
