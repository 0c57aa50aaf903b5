/*
 * features.h - NFStream's per-flow features: counters, statistics (Welford), SPLT.
 *
 * The arithmetic is NFStream's, operation for operation (spec section 5), in IEEE double with no
 * FMA contraction, so the means and standard deviations equal NFStream's to the last bit.
 */
#ifndef NFPROBE_FEATURES_H
#define NFPROBE_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "pkt.h"

struct feat_config {
    uint8_t accounting_mode; /* 0 raw, 1 ip, 2 transport, 3 payload */
    bool statistics;         /* --statistical-analysis */
    uint16_t splt_n;         /* --splt-analysis N, 0 = off */
    size_t splt_off;         /* offset of the SPLT arrays in struct flow's ext[] */
};

/* Bytes the SPLT arrays of n packets take in a flow's extension area. */
size_t feat_splt_size(uint16_t n);

/* The packet's size under the accounting mode. */
uint16_t feat_pkt_size(const struct pkt_meta *m, uint8_t accounting_mode);

/* Initialises f from its first packet (NFStream flow_init_bidirectional + flow_init_src2dst). */
void feat_init(const struct feat_config *c, struct flow *f, const struct pkt_meta *m);

/*
 * Adds a later packet to f: sets m->direction and m->delta_time, then updates the
 * bidirectional and the directional counters, statistics and SPLT.
 */
void feat_update(const struct feat_config *c, struct flow *f, struct pkt_meta *m);

/* NFStream's exported sample standard deviations. */
double feat_stddev_ps(const struct flow_stats *s, uint64_t packets);
double feat_stddev_piat(const struct flow_stats *s, uint64_t packets);

/* SPLT arrays of f; entries at index >= f->splt_len are "missing" (-1 in NFStream). */
const uint32_t *feat_splt_piat(const struct feat_config *c, const struct flow *f);
const uint16_t *feat_splt_ps(const struct feat_config *c, const struct flow *f);
const uint8_t *feat_splt_dir(const struct feat_config *c, const struct flow *f);

#endif
