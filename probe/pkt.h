/*
 * pkt.h - what the decoder learns about one packet (struct pkt_meta).
 *
 * A pkt_meta lives on the worker's stack for the duration of one packet. Its ip_pkt pointer
 * borrows the capture buffer and is valid only until the next capture call: never store it.
 */
#ifndef NFPROBE_PKT_H
#define NFPROBE_PKT_H

#include <stdint.h>

/* TCP flag bits, as in the TCP header's flags octet. */
enum {
    PKT_FIN = 0x01,
    PKT_SYN = 0x02,
    PKT_RST = 0x04,
    PKT_PSH = 0x08,
    PKT_ACK = 0x10,
    PKT_URG = 0x20,
    PKT_ECE = 0x40,
    PKT_CWR = 0x80,
};

/* Tunnel ids, NFStream's (nDPI's ndpi_packet_tunnel) numbering. */
enum {
    PKT_TUNNEL_NONE = 0,
    PKT_TUNNEL_GTP = 1,
    PKT_TUNNEL_CAPWAP = 2,
    PKT_TUNNEL_TZSP = 3,
};

/* MPLS label stack entries kept per packet and flow (mplsTopLabelStackSection and the next). */
#define PKT_MPLS_MAX 3

struct pkt_meta {
    uint64_t time_ms;       /* packet time in ms (clamped monotonic by the meter) */
    uint64_t delta_time;    /* bidirectional inter-arrival, set by the meter */
    const uint8_t *ip_pkt;  /* BORROWED: the (inner) IP header in the capture buffer */
    uint32_t ip_caplen;     /* captured bytes from ip_pkt on (what nDPI is fed) */
    uint32_t hash;          /* flow key hash, computed once by the meter */
    uint8_t hashed;         /* hash is valid (set by mtr_prefetch) */
    /* NFStream's four sizes; all uint16 and wrapping, as NFStream's are. */
    uint16_t raw_size;       /* wire length of the outer frame */
    uint16_t ip_size;        /* IPv4 total length; IPv6 payload length */
    uint16_t transport_size; /* L4 header + payload */
    uint16_t payload_size;   /* L4 payload */
    uint8_t src_ip[16];     /* IPv4 in the first 4 bytes, rest zero */
    uint8_t dst_ip[16];
    uint16_t src_port;      /* host order */
    uint16_t dst_port;
    uint16_t vlan_id;       /* innermost 802.1Q VID, 0 if none */
    uint8_t protocol;       /* final L4 protocol number */
    uint8_t ip_version;     /* 4 or 6 */
    uint8_t tunnel_id;      /* PKT_TUNNEL_* */
    uint8_t tcp_flags;      /* PKT_FIN..PKT_CWR, 0 for non-TCP and short TCP */
    uint8_t direction;      /* 0 src->dst, 1 dst->src; set by the meter */
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    /* What a router exports (issue 13), from the flow's (inner) IP header and the outer
     * link layer; none of it changes NFStream's keys or sizes. */
    uint32_t wire_len;      /* link-layer octets: the frame's wire length (not wrapped) */
    uint32_t ip_octets;     /* IP header + payload: IPv4 total length, IPv6 40 + payload */
    uint32_t mpls[PKT_MPLS_MAX]; /* label stack entries from the top: label<<4|exp<<1|bos */
    uint16_t vlan_outer;    /* first 802.1Q tag's VID (dot1qVlanId), 0 if none */
    uint16_t vlan_inner;    /* second tag's VID in a QinQ frame (dot1qCustomerVlanId) */
    uint16_t icmp_type_code; /* ICMP/ICMPv6 type << 8 | code, 0 otherwise */
    uint8_t tos;            /* IPv4 ToS / IPv6 traffic class (DSCP << 2 | ECN) */
    uint8_t ttl;            /* IPv4 TTL / IPv6 hop limit */
    uint8_t frag_flags;     /* fragmentFlags (IANA 197): 0x40 DF, 0x20 MF */
    uint8_t mpls_n;         /* entries in mpls[] */
};

#endif
