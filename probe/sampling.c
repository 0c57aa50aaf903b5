/*
 * sampling.c - RFC 7014 packet selection. See sampling.h.
 */
#include "sampling.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint64_t
splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t
smp_next_pick(struct smp *s)
{
    /* Lemire's multiply-shift: uniform enough for N < 2^31 (bias < 2^-32 per position). */
    return (uint32_t)(((splitmix64(&s->rng) >> 32) * (uint64_t)s->interval) >> 32);
}

int
smp_init(struct smp *s, enum smp_mode mode, uint32_t interval, uint64_t seed, char *err,
         size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (mode != SMP_NONE && mode != SMP_COUNT && mode != SMP_RANDOM) {
        snprintf(err, errlen, "--sampling-mode: unknown mode %d", (int)mode);
        return -EINVAL;
    }
    if (interval == 0 || interval > (1u << 31)) {
        snprintf(err, errlen, "--sampling %u: want 1 to %u", interval, 1u << 31);
        return -EINVAL;
    }
    s->mode = mode == SMP_NONE ? SMP_NONE : mode;
    s->interval = mode == SMP_NONE ? 1 : interval;
    s->rng = seed;
    if (s->mode == SMP_RANDOM)
        s->pick = smp_next_pick(s);
    return 0;
}

int
smp_mode_parse(const char *name)
{
    if (strcmp(name, "count") == 0)
        return SMP_COUNT;
    if (strcmp(name, "random") == 0)
        return SMP_RANDOM;
    return -1;
}

const char *
smp_mode_name(enum smp_mode mode)
{
    switch (mode) {
    case SMP_COUNT:
        return "count";
    case SMP_RANDOM:
        return "random";
    default:
        return "none";
    }
}

uint8_t
smp_algorithm(enum smp_mode mode)
{
    switch (mode) {
    case SMP_COUNT:
        return SMP_ALGO_SYSTEMATIC_COUNT;
    case SMP_RANDOM:
        return SMP_ALGO_RANDOM_N_OUT_OF_N;
    default:
        return 0;
    }
}

void
smp_announce_init(struct smp_announce *a, enum smp_mode mode, uint32_t interval, bool upscale)
{
    memset(a, 0, sizeof(*a));
    a->upscale = 1;
    if (interval == 0 || (mode != SMP_COUNT && mode != SMP_RANDOM))
        return;
    a->mode = (uint8_t)mode;
    a->algorithm = smp_algorithm(mode);
    a->v9_mode = mode == SMP_RANDOM ? 2 : 1;
    a->interval = interval;
    a->upscale = upscale ? interval : 1;
}

uint16_t
smp_v5_sampling(const struct smp_announce *a)
{
    if (a->interval == 0 || a->interval > 0x3fff)
        return 0;
    return (uint16_t)((unsigned)a->v9_mode << 14 | a->interval);
}

bool
smp_scaled_element(const char *element)
{
    static const char *const names[] = {
        "octetDeltaCount",       "packetDeltaCount",       "layer2OctetDeltaCount",
        "octetTotalCount",       "packetTotalCount",       "layer2OctetTotalCount",
        "reverseOctetDeltaCount", "reversePacketDeltaCount", "reverseLayer2OctetDeltaCount",
        "reverseOctetTotalCount", "reversePacketTotalCount", "reverseLayer2OctetTotalCount",
        "nfsAccountingOctetDeltaCount", "reverseNfsAccountingOctetDeltaCount",
    };

    if (element == NULL)
        return false;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(element, names[i]) == 0)
            return true;
    return false;
}
