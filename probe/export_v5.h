/*
 * export_v5.h - NetFlow v5 encoder: one direction of a flow -> 48-byte records in 24-byte-header
 * export packets, in a caller's buffer. No I/O, no clock (time is an argument), no allocation
 * after nf5_new(). Independent of the flow layout: the caller fills struct nf5_flow.
 *
 * Wire format (Cisco NetFlow v5, as nfdump and Wireshark decode it):
 *   header  version 5 | count (1-30) | sysUptime ms | unix_secs | unix_nsecs | flow_sequence |
 *           engine_type | engine_id | sampling (2 bits mode, 14 bits interval)
 *   record  srcaddr dstaddr nexthop | input output (16 bits) | dPkts dOctets (32 bits) |
 *           First Last (sysUptime ms of the first/last packet) | srcport dstport | pad |
 *           tcp_flags prot tos | src_as dst_as (16 bits) | src_mask dst_mask | pad (2)
 *
 * What v5 cannot carry and what the encoder does instead (each counted in struct nf5_stats):
 *  - IPv6: nothing (v5 is IPv4 only): the flow is consumed and counted in not_exportable_v6;
 *  - a direction that saw no packet: no record (empty_directions);
 *  - more than 2^32-1 packets or octets: k records whose counters sum to the flow's, each
 *    below 2^32 (split_records counts the extra records);
 *  - a 4-octet AS number: AS_TRANS 23456 (RFC 6793) (as_trans);
 *  - an ifIndex above 65535: 0, unknown (ifindex_clamped);
 *  - a packet time before boot_ms: First/Last 0 (time_clamped).
 * flow_sequence counts the records of all earlier packets (mod 2^32). ICMP goes as routers
 * send it: srcport 0, dstport type << 8 | code: the caller fills the ports so.
 *
 * nf5_encoder_ops (export_enc.h, scheme "v5") makes this encoder a collector kind of the
 * exporter: each flow's directions are read from the field catalogue by IPFIX element name
 * (fld_direction_map), queued up to 30 records and sent as one datagram.
 */
#ifndef NFPROBE_EXPORT_V5_H
#define NFPROBE_EXPORT_V5_H

#include <stddef.h>
#include <stdint.h>

#define NF5_HEADER_LEN 24
#define NF5_RECORD_LEN 48
#define NF5_MAX_RECORDS 30
#define NF5_MAX_PACKET (NF5_HEADER_LEN + NF5_MAX_RECORDS * NF5_RECORD_LEN) /* 1464 */
#define NF5_AS_TRANS 23456
#define NF5_SAMPLING_MAX_INTERVAL 16383

/* Sampling mode, the header's top two bits (Cisco: 1 = deterministic, 2 = random). */
enum nf5_sampling_mode {
    NF5_SAMPLING_NONE = 0,
    NF5_SAMPLING_DETERMINISTIC = 1, /* RFC 7014 systematic count-based */
    NF5_SAMPLING_RANDOM = 2,        /* RFC 7014 random n-out-of-N */
};

/* One direction of a flow, as the caller sees it. Addresses in host byte order. */
struct nf5_flow {
    uint8_t family; /* 4; 6 is counted and skipped */
    uint8_t proto;
    uint8_t tcp_flags; /* union of the direction's TCP flags */
    uint8_t tos;       /* ToS byte of the direction's first packet */
    uint8_t src_mask, dst_mask;
    uint16_t sport, dport;
    uint32_t src, dst, nexthop;
    uint32_t input, output; /* ifIndex; 0 unknown */
    uint32_t src_as, dst_as;
    uint64_t packets, octets; /* octets: IP header + payload (RFC 7012) */
    uint64_t first_ms, last_ms; /* Unix ms of the direction's first and last packet */
};

struct nf5_config {
    uint8_t engine_type, engine_id;
    enum nf5_sampling_mode sampling_mode;
    uint16_t sampling_interval; /* 0-16383 */
    uint64_t boot_ms; /* Unix ms the sysUptime counts from; <= every flow's first_ms */
};

struct nf5_stats {
    uint64_t packets; /* export packets made */
    uint64_t records;
    uint64_t not_exportable_v6;
    uint64_t empty_directions;
    uint64_t split_records;
    uint64_t as_trans;
    uint64_t ifindex_clamped;
    uint64_t time_clamped;
};

struct nf5_ctx;

/* NULL with err set (bad sampling interval/mode, out of memory). */
struct nf5_ctx *nf5_new(const struct nf5_config *cfg, char *err, size_t errlen);
void nf5_free(struct nf5_ctx *c);

/*
 * Encodes flows[0, n) from the start into one export packet in buf (cap >= NF5_HEADER_LEN +
 * NF5_RECORD_LEN, at most NF5_MAX_PACKET used) at time now_ms. *consumed = how many flows are
 * done (records made, or counted as not exportable). A flow split into more records than fit
 * stays unconsumed with its progress kept in c: pass it again first in the next call.
 * Returns the packet length, or 0 when nothing was encoded (no exportable flow; *consumed may
 * still be > 0).
 */
size_t nf5_encode(struct nf5_ctx *c, const struct nf5_flow *flows, size_t n, uint64_t now_ms,
                  uint8_t *buf, size_t cap, size_t *consumed);

const struct nf5_stats *nf5_stats(const struct nf5_ctx *c);

/* Moves the sysUptime origin (Unix ms) for the packets encoded from now on: a v5 packet is
 * self-contained, so the exporter may rebase before sysUptime's 32 bits wrap. */
void nf5_set_boot(struct nf5_ctx *c, uint64_t boot_ms);

/* The flow_sequence the next packet will carry. */
uint32_t nf5_sequence(const struct nf5_ctx *c);

#endif
