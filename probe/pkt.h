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
};

#endif
