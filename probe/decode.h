/*
 * decode.h - pure packet parsing: captured bytes -> struct pkt_meta.
 *
 * The rules are NFStream 6.5.4's (spec/nfstream-semantics.md section 3), quirks included, so that
 * the same packets are metered with the same sizes. Unlike NFStream, nothing is ever read past
 * the captured bytes: a field NFStream would read beyond caplen reads as zero here.
 * No allocation, no I/O, no logging: one result per packet, which the caller counts.
 */
#ifndef NFPROBE_DECODE_H
#define NFPROBE_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"

/* Why a packet was not metered. DEC_OK is the only metered result. */
enum dec_result {
    DEC_OK = 0,
    DEC_L2_SHORT,        /* fewer than link header + 28 bytes captured */
    DEC_UNSUPPORTED_DLT, /* link type we do not parse */
    DEC_WIFI_SKIPPED,    /* radiotap: bad FCS, not a data frame, or too short */
    DEC_LLC_STP,         /* 802.3 frame carrying spanning tree */
    DEC_VLAN_SHORT,      /* 802.1Q tag cut by the capture */
    DEC_MPLS_SHORT,      /* MPLS label cut by the capture */
    DEC_IP_SHORT,        /* fewer than 20 bytes at the IP header */
    DEC_NON_IP,          /* version nibble is neither 4 nor 6 (ARP, ...) */
    DEC_IPV4_FRAGMENT,   /* non-first IPv4 fragment (no reassembly, as NFStream offline) */
    DEC_IPV4_BAD_HEADER, /* IHL*4 beyond the captured bytes */
    DEC_IPV4_BAD_LENGTH, /* total length shorter than the header */
    DEC_IPV6_SHORT,      /* fewer than 40 bytes at the IPv6 header */
    DEC_IPV6_TRUNCATED,  /* payload length beyond the captured bytes */
    DEC_IPV6_EXT_HDR,    /* bad extension chain, non-first fragment, or no-next-header with data */
    DEC_TUNNEL_SHORT,    /* UDP tunnel header cut by the capture */
    DEC_GTP_BAD_INNER,   /* GTP-U payload is not IPv4/IPv6 */
    DEC_TOO_DEEP,        /* more nested headers than DEC_MAX_DEPTH */
    DEC_NRESULTS
};

/* Nested encapsulations (IP-in-IP, TZSP, CAPWAP, label/tag loops) parsed before giving up. */
#define DEC_MAX_DEPTH 32

/* libpcap DLT values we need even where a system header lacks them. */
#define DEC_DLT_IPV4 228
#define DEC_DLT_IPV6 229

/*
 * Parses one captured frame of link type dlt. bytes holds caplen captured bytes of a frame that
 * was wirelen bytes on the wire. On DEC_OK, *m is filled (time_ms, delta_time, direction and hash
 * are left for the meter) and m->ip_pkt points into bytes. On any other result *m is undefined.
 */
enum dec_result dec_packet(int dlt, const uint8_t *bytes, uint32_t caplen, uint32_t wirelen,
                           bool decode_tunnels, struct pkt_meta *m);

/* True if dec_packet() knows the link type (used to refuse a capture at open time). */
bool dec_dlt_supported(int dlt);

/* Stable counter name of a result, e.g. "ipv4_fragment". */
const char *dec_result_name(enum dec_result r);

#endif
