/*
 * gen.h - mkpcap's toolkit: the PRNG, byte and checksum helpers, the pcap writer, header
 * writers and conversations, shared by the sample (sample.c), the edge-case corpus (edge.c)
 * and the benchmark capture (bench.c). Application payloads are in apps.h.
 *
 * Everything is deterministic (fixed seeds, no clock), so one command always writes the same
 * bytes. Single-threaded: frames are built in the one g_frame buffer, so packet loops never
 * allocate.
 */
#ifndef MKPCAP_GEN_H
#define MKPCAP_GEN_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define US_PER_S 1000000ULL
#define SNAPLEN_MAX 262144
#define FRAME_MAX 65600

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

#define ET_IPV4 0x0800
#define ET_IPV6 0x86dd
#define ET_VLAN 0x8100
#define ET_MPLS 0x8847
#define ET_ARP 0x0806
#define ET_LLDP 0x88cc

enum { CLI = 0, SRV = 1 };

/* The frame under construction: every writer builds its packets here (see gen.c). */
extern uint8_t g_frame[FRAME_MAX];

/* The gateway every server is reached through, and a workstation: all three captures use
 * them. */
extern const uint8_t g_gw_mac[6];
extern const uint8_t g_mac_intel[6];

/* ------------------------------------------------------------------------------ PRNG, bytes */

/* splitmix64 (Steele, Lea, Flood): tiny, fast, and the same sequence on every platform. */
struct rng {
    uint64_t s;
};

/* The next 64 random bits. */
uint64_t
rng_next(struct rng *r);

/* Uniform in [0, n), n > 0. */
uint32_t
rng_below(struct rng *r, uint32_t n);

/* Uniform in [lo, hi]. */
uint32_t
rng_range(struct rng *r, uint32_t lo, uint32_t hi);

/* Uniform in [0, 1). */
double
rng_unit(struct rng *r);

/* n random bytes at p. */
void
rng_fill(struct rng *r, uint8_t *p, size_t n);

/* Big-endian stores and load. */
void
put_be16(uint8_t *p, uint16_t v);
void
put_be32(uint8_t *p, uint32_t v);
uint16_t
get_be16(const uint8_t *p);

/* Ones'-complement sum of big-endian 16-bit words; an odd trailing byte is the high half. Chained
 * calls must pass even lengths except the last. */
uint64_t
csum_add(uint64_t sum, const uint8_t *p, size_t n);

/* Folds a csum_add() sum into the 16-bit Internet checksum (complemented). */
uint16_t
csum_fold(uint64_t sum);

/* A bounded byte builder for protocol messages; lengths are patched in once known. */
struct bb {
    uint8_t *p;
    size_t len, cap;
    bool over;
};

/* Starts an empty builder over the cap bytes at p. A write that does not fit sets over and
 * is dropped, so callers check over (or b.len) once at the end. */
void
bb_init(struct bb *b, uint8_t *p, size_t cap);

/* Appends a byte, a big-endian 16/32-bit value, n bytes, a string without its NUL, or n
 * random bytes. */
void
bb_u8(struct bb *b, uint8_t v);
void
bb_u16(struct bb *b, uint16_t v);
void
bb_u32(struct bb *b, uint32_t v);
void
bb_mem(struct bb *b, const void *p, size_t n);
void
bb_str(struct bb *b, const char *s);
void
bb_rand(struct bb *b, struct rng *r, size_t n);

/* Reserves an n-byte big-endian length field; bb_len() later fills it with what followed. */
size_t
bb_hole(struct bb *b, size_t n);
void
bb_len(struct bb *b, size_t hole, size_t n);

/* --------------------------------------------------------------------------- capture output */

/* A pcap file written through libpcap (pcap_open_dead + pcap_dump). */
struct pw {
    pcap_t *dead;
    pcap_dumper_t *d;
    FILE *f;
    uint32_t snaplen;
    uint64_t packets;
};

/* Creates path as a pcap of link type dlt and the given snaplen; 0 or a negative errno with
 * one line in err. */
int
pw_open(struct pw *w, const char *path, int dlt, uint32_t snaplen, char *err, size_t errlen);

/* Writes one record; caplen is cut to the file's snaplen as a capturing kernel would. */
void
pw_packet(struct pw *w, uint64_t ts_us, const uint8_t *p, uint32_t caplen, uint32_t len);

/* Flushes and closes (always); 0 or -EIO with one line in err. */
int
pw_close(struct pw *w, const char *path, char *err, size_t errlen);

/* One collected record (the sample is built flow by flow, then written in time order). */
struct rec {
    uint64_t ts;
    uint32_t off, caplen, len, seq;
};

/* Where packets go: straight to a pcap file, or into memory to be sorted or hand-written. */
struct sink {
    struct pw *w;
    struct rec *recs;
    size_t n, max;
    uint8_t *arena;
    size_t used, cap;
    bool overflow;
};

/* Writes the packet to s->w, or copies it into s->recs/s->arena (setting overflow, and
 * dropping it, when they are full). */
void
sink_packet(struct sink *s, uint64_t ts, const uint8_t *p, uint32_t caplen, uint32_t len);

/* qsort() order of collected records: by time, then in the order they were made. */
int
rec_cmp(const void *a, const void *b);

/* --------------------------------------------------------------------------- header writers */

struct ep {
    uint8_t mac[6];
    uint8_t ip[16]; /* IPv4 in the first 4 bytes */
    uint16_t port;
};

/* Ethernet II with an optional 802.1Q tag; returns the L3 offset. */
size_t
put_eth(uint8_t *b, const uint8_t *dst, const uint8_t *src, uint16_t vlan, uint16_t type);

/* A 20-byte IPv4 header with its checksum. frag holds the flags and the offset field. */
void
put_ip4(uint8_t *b, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint16_t tot_len,
        uint16_t id, uint8_t ttl, uint16_t frag);

/* Recomputes an IPv4 header checksum over ihl*4 bytes (after a field was changed). */
void
fix_ip4_csum(uint8_t *b, size_t hlen);

/* A 40-byte IPv6 header. */
void
put_ip6(uint8_t *b, const uint8_t *src, const uint8_t *dst, uint8_t nxt, uint16_t plen,
        uint8_t hlim, uint32_t flow_label);

/* Sum of the TCP/UDP/ICMPv6 pseudo-header. */
uint64_t
pseudo_sum(bool v6, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t l4len);

/* Fills the checksum at l4 + csum_off; UDP's zero result is sent as 0xffff (RFC 768). */
void
put_l4_csum(uint8_t *l4, size_t l4len, size_t csum_off, bool v6, const uint8_t *src,
            const uint8_t *dst, uint8_t proto);

/* A TCP header with optlen option bytes and a zero checksum; returns its length. */
size_t
put_tcp(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
        uint16_t win, const uint8_t *opt, size_t optlen);

/* A UDP header with a zero checksum. */
void
put_udp(uint8_t *b, uint16_t sport, uint16_t dport, uint16_t len);

/* An IPv4 or IPv6 literal into 16 bytes (IPv4 in the first 4, the rest zero). */
void
parse_ip(uint8_t *out, const char *s);

/* ---------------------------------------------------------------------------- conversations */

/* A conversation as seen at the capture point (the clients' side): client packets leave at
 * c->t, the server's answers arrive one round trip later. */
struct conn {
    struct sink *out;
    struct rng *rng;
    struct ep ep[2]; /* CLI, SRV; ep[SRV].mac is the gateway's: servers are remote */
    bool v6;
    bool pad;        /* pad frames to Ethernet's 60-byte minimum (a switch port sees them so) */
    uint16_t vlan;   /* 802.1Q VID, 0 = untagged */
    uint8_t proto;
    uint8_t ttl[2];
    uint16_t ip_id[2];
    uint32_t seq[2]; /* next TCP sequence number per direction */
    uint16_t win[2];
    uint16_t mss;
    uint64_t t;      /* time of the next packet, us since the epoch */
    uint32_t rtt;    /* us */
};

/* A fresh conversation of proto (1, 6 or 17) from cip:cport to sip:sport starting at t;
 * TTLs, IP ids and sequence numbers are drawn from r. */
void
conn_init(struct conn *c, struct sink *out, struct rng *r, uint8_t proto, const uint8_t *cmac,
          const char *cip, uint16_t cport, const uint8_t *gwmac, const char *sip, uint16_t sport,
          uint64_t t, uint32_t rtt);

/* SYN, SYN/ACK, ACK with Linux's options (MSS, window scale, SACK permitted). */
void
tcp_open(struct conn *c);

/* Sends len bytes from dir in MSS-sized segments, acked as a Linux client would. */
void
tcp_send(struct conn *c, int dir, const uint8_t *data, size_t len);

/* FIN from `first`, FIN from the other side, last ACK. */
void
tcp_close(struct conn *c, int first);

/* One UDP datagram of len bytes from dir at c->t. */
void
udp_send(struct conn *c, int dir, const uint8_t *data, size_t len);

/* An ICMP echo request (CLI) or reply (SRV) with len data bytes at c->t. */
void
icmp_echo(struct conn *c, int dir, uint16_t id, uint16_t seq, const uint8_t *data, size_t len);

#endif
