/*
 * sampling_export.h - the options records that announce packet sampling (docs/sampling.md),
 * as pure writers of IPFIX Sets and NetFlow v9 FlowSets into a caller's buffer. All integers
 * big endian; every Set is padded to 4 octets. Each function returns the octets written, or 0
 * when cap is too small.
 *
 * The layouts nfdump 1.7.1 was measured to read, written by hand: the reference the encoders
 * are checked against. The IPFIX encoder sends the same Sets through libfixbuf (it owns the
 * message and its sequence numbers; test_export_ipfix compares them Set for Set); the NetFlow
 * v9 encoder builds its own options templates (export_v9.c), its 34+35 one with the selectors'
 * counters 318/319 added.
 *
 * IPFIX, two options templates because no collector reads both (measured with nfdump 1.7.1):
 *  - the RFC 7014 / RFC 5477 selector report, scope selectorId (302): selectorAlgorithm (304),
 *    then count mode samplingPacketInterval/Space (305/306) or random mode samplingSize/
 *    Population (309/310), then selectorIdTotalPktsObserved/Selected (318/319);
 *  - the one nfdump reads, scope observationDomainId (149): 305 and 306 only (nfdump 1.7.1
 *    ignores a sampler template carrying 302 or 304). Random mode is announced there as the
 *    equivalent 1-in-N rate, which is all nfdump uses.
 * NetFlow v9, two options templates, scope System (1) = the source id:
 *  - SAMPLING_INTERVAL (34) alone: what nfdump 1.7.1 reads (it skips 34 beside 35);
 *  - 34 with SAMPLING_ALGORITHM (35, 1 deterministic / 2 random): for tshark and Cisco-style
 *    collectors.
 */
#ifndef NFPROBE_SAMPLING_EXPORT_H
#define NFPROBE_SAMPLING_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "sampling.h"

struct smpx_report {
    enum smp_mode mode;   /* SMP_COUNT or SMP_RANDOM */
    uint32_t interval;    /* N */
    uint64_t selector_id; /* IPFIX 302 */
    uint32_t domain;      /* IPFIX observation domain / v9 source id */
    uint64_t observed, selected;
};

/* IPFIX: two Options Template Sets (id 3), one template each (tid_report, tid_nfdump): nfdump
 * 1.7.1 reads only the first template of an options Set. */
size_t smpx_ipfix_templates(const struct smpx_report *r, uint16_t tid_report, uint16_t tid_nfdump,
                            uint8_t *buf, size_t cap);

/* IPFIX: the two Data Sets, one record each (2 data records for the message's sequence). */
size_t smpx_ipfix_data(const struct smpx_report *r, uint16_t tid_report, uint16_t tid_nfdump,
                       uint8_t *buf, size_t cap);

/* NetFlow v9: two Options Template FlowSets (id 1), one template each (nfdump 1.7.1 reads only
 * the first template of an options FlowSet): tid_nfdump carries 34, tid_full 34 and 35. */
size_t smpx_v9_templates(uint16_t tid_nfdump, uint16_t tid_full, uint8_t *buf, size_t cap);

/* NetFlow v9: the two data FlowSets (2 records for the header's count). */
size_t smpx_v9_data(const struct smpx_report *r, uint16_t tid_nfdump, uint16_t tid_full,
                    uint8_t *buf, size_t cap);

#endif
