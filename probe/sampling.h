/*
 * sampling.h - packet selection before metering (RFC 7014 / RFC 5475):
 *  - SMP_COUNT: systematic count-based, 1 of every N (selectorAlgorithm 1; samplingPacketInterval
 *    305 = 1 packet selected, samplingPacketSpace 306 = N - 1 packets skipped). The first
 *    packet of each block of N is selected.
 *  - SMP_RANDOM: random n-out-of-N with n = 1 (selectorAlgorithm 3; samplingSize 309 = 1,
 *    samplingPopulation 310 = N): one packet at a random position in each block of N, so the
 *    rate is exact per block but no period exists for traffic to alias with.
 * One struct smp per worker (no sharing, no atomics); the packet path calls smp_select() and
 * meters the packet only when it returns true. Counters are what RFC 7014 reports:
 * packets observed (318 selectorIdTotalPktsObserved) and selected (319 ...Selected).
 * Deterministic for a given seed (tests); seed from getrandom() in the probe.
 */
#ifndef NFPROBE_SAMPLING_H
#define NFPROBE_SAMPLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum smp_mode {
    SMP_NONE = 0, /* every packet: interval 1 */
    SMP_COUNT,
    SMP_RANDOM,
};

/* IPFIX selectorAlgorithm (IANA "Packet Selection Methods"). */
#define SMP_ALGO_SYSTEMATIC_COUNT 1
#define SMP_ALGO_RANDOM_N_OUT_OF_N 3

struct smp {
    enum smp_mode mode;
    uint32_t interval; /* N */
    uint32_t pos;      /* position in the current block, 0..N-1 */
    uint32_t pick;     /* SMP_RANDOM: the block's selected position */
    uint64_t rng;
    uint64_t observed, selected;
};

/* mode, N (1..2^31; N = 1 selects everything), seed. 0, or -EINVAL with err naming the
 * option (--sampling / --sampling-mode). */
int smp_init(struct smp *s, enum smp_mode mode, uint32_t interval, uint64_t seed, char *err,
             size_t errlen);

/* "count" / "random" -> mode; -1 when unknown. */
int smp_mode_parse(const char *name);
const char *smp_mode_name(enum smp_mode mode);

/* The IPFIX selectorAlgorithm of mode (0 for SMP_NONE). */
uint8_t smp_algorithm(enum smp_mode mode);

/* Internal: draws the random position of the next block. */
uint32_t smp_next_pick(struct smp *s);

/*
 * What the exporters announce, filled from the configuration by smp_announce_init(): one small
 * value every encoder reads (IPFIX/v9 options records, the NetFlow v5 header, --sampling-upscale).
 * interval 0 = no sampling configured (nothing announced, nothing scaled).
 */
struct smp_announce {
    uint8_t mode;      /* enum smp_mode */
    uint8_t algorithm; /* IPFIX selectorAlgorithm (304): 1 count, 3 random; 0 none */
    uint8_t v9_mode;   /* NetFlow v9 SAMPLING_ALGORITHM (35) and the v5 header's top 2 bits:
                        * 1 deterministic, 2 random; 0 none */
    uint32_t interval; /* N: one packet of N metered; 0 = no sampling */
    uint32_t upscale;  /* --sampling-upscale: exported packet/octet counters times this (N),
                        * else 1 */
};

/* interval 0 (no --sampling) gives the "not sampled" announce (upscale 1). */
void smp_announce_init(struct smp_announce *a, enum smp_mode mode, uint32_t interval,
                       bool upscale);

/* The NetFlow v5 header's 16-bit sampling field: v9_mode in the top 2 bits, N in the low 14
 * (0 when not sampled; the configuration refuses N > 16383 with a v5 collector). */
uint16_t smp_v5_sampling(const struct smp_announce *a);

/*
 * --sampling-upscale: whether the catalogue row with IPFIX element `element` is one of the
 * flow's packet or octet totals an encoder multiplies (octetDeltaCount, packetDeltaCount,
 * layer2OctetDeltaCount, their reverse, the total counts). Features (sizes, times, TCP flag
 * counts) stay as metered. Encoders resolve the names to rows once, at open.
 */
bool smp_scaled_element(const char *element);

/* v * n, saturated at UINT64_MAX. */
static inline uint64_t
smp_scale(uint64_t v, uint32_t n)
{
    return n > 1 && v > UINT64_MAX / n ? UINT64_MAX : v * n;
}

/* Whether to meter this packet. Per packet: no call, no branch on the mode beyond one. */
static inline bool
smp_select(struct smp *s)
{
    bool take;

    s->observed++;
    if (s->interval <= 1) {
        take = true;
    } else {
        take = s->pos == s->pick;
        if (++s->pos == s->interval) {
            s->pos = 0;
            if (s->mode == SMP_RANDOM)
                s->pick = smp_next_pick(s);
        }
    }
    s->selected += take;
    return take;
}

#endif
