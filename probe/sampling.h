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
