/*
 * lpm_gen.h - a BGP-table-like random prefix set for the LPM test and benchmark: about 85% IPv4
 * (mostly /24, then /22-/23, /16-/21, a few /8-/15 and /25-/32) and 15% IPv6 (mostly /48, /32,
 * /40-/44, a few /29-/64) with random, seeded addresses (so overlaps occur as in a real table).
 */
#ifndef NFPROBE_LPM_GEN_H
#define NFPROBE_LPM_GEN_H

#include <stddef.h>
#include <stdint.h>

struct lpm_gen_prefix {
    uint8_t family; /* 4 or 6 */
    uint8_t plen;
    uint8_t addr[16]; /* masked to plen */
    uint32_t asn;
};

/* splitmix64: the seeded generator of the test and the benchmark. */
uint64_t lpm_gen_rand(uint64_t *state);

/* Fills p[0, n) from seed. */
void lpm_gen_table(struct lpm_gen_prefix *p, size_t n, uint64_t seed);

/* A random address of family (4: 4 bytes): inside a random prefix of p half the time, else
 * uniform (IPv6: in 2000::/3). */
void lpm_gen_addr(const struct lpm_gen_prefix *p, size_t n, int family, uint64_t *state,
                  uint8_t out[16]);

#endif
