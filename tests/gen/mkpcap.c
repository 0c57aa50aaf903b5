/*
 * mkpcap.c - the capture generator: the bundled sample, the malformed-input corpus and the
 * benchmark capture.
 *
 *   mkpcap sample OUT.pcap
 *   mkpcap edge DIR
 *   mkpcap bench OUT.pcap [--packets N] [--flows M] [--seed S]
 *
 * Everything comes from a fixed-seed PRNG (splitmix64), so one command always writes the same
 * bytes: captures can be regenerated instead of committed, and goldens stay valid. Only
 * documentation addresses are used (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
 * 2001:db8::/32). Only libpcap and libc; see tests/gen/README.md for what each capture holds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

/* One frame under construction; static because the generator is single-threaded and the
 * packet loops must not allocate. */
static uint8_t g_frame[FRAME_MAX];

/* ------------------------------------------------------------------------------ PRNG, bytes */

/* splitmix64 (Steele, Lea, Flood): tiny, fast, and the same sequence on every platform. */
struct rng {
    uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; the tiny bias is irrelevant here). */
static uint32_t
rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* Uniform in [lo, hi]. */
static uint32_t
rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
    return lo + rng_below(r, hi - lo + 1);
}

/* Uniform in [0, 1). */
static double
rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static void
rng_fill(struct rng *r, uint8_t *p, size_t n)
{
    while (n >= 8) {
        uint64_t v = rng_next(r);
        memcpy(p, &v, 8);
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t v = rng_next(r);
        memcpy(p, &v, n);
    }
}

static void
put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, (uint16_t)(v >> 16));
    put_be16(p + 2, (uint16_t)v);
}

static uint16_t
get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Ones'-complement sum of big-endian 16-bit words; an odd trailing byte is the high half. Chained
 * calls must pass even lengths except the last. */
static uint64_t
csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (i < n)
        sum += (uint32_t)p[i] << 8;
    return sum;
}

static uint16_t
csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* A bounded byte builder for protocol messages; lengths are patched in once known. */
struct bb {
    uint8_t *p;
    size_t len, cap;
    bool over;
};

static void
bb_init(struct bb *b, uint8_t *p, size_t cap)
{
    b->p = p;
    b->len = 0;
    b->cap = cap;
    b->over = false;
}

static uint8_t *
bb_take(struct bb *b, size_t n)
{
    if (n > b->cap - b->len) {
        b->over = true;
        return NULL;
    }
    uint8_t *q = b->p + b->len;
    b->len += n;
    return q;
}

static void
bb_u8(struct bb *b, uint8_t v)
{
    uint8_t *q = bb_take(b, 1);
    if (q != NULL)
        *q = v;
}

static void
bb_u16(struct bb *b, uint16_t v)
{
    uint8_t *q = bb_take(b, 2);
    if (q != NULL)
        put_be16(q, v);
}

static void
bb_u32(struct bb *b, uint32_t v)
{
    uint8_t *q = bb_take(b, 4);
    if (q != NULL)
        put_be32(q, v);
}

static void
bb_mem(struct bb *b, const void *p, size_t n)
{
    uint8_t *q = bb_take(b, n);
    if (q != NULL && n > 0)
        memcpy(q, p, n);
}

static void
bb_str(struct bb *b, const char *s)
{
    bb_mem(b, s, strlen(s));
}

static void
bb_rand(struct bb *b, struct rng *r, size_t n)
{
    uint8_t *q = bb_take(b, n);
    if (q != NULL)
        rng_fill(r, q, n);
}

/* Reserves an n-byte big-endian length field; bb_len() later fills it with what followed. */
static size_t
bb_hole(struct bb *b, size_t n)
{
    size_t at = b->len;
    uint8_t *q = bb_take(b, n);
    if (q != NULL)
        memset(q, 0, n);
    return at;
}

static void
bb_len(struct bb *b, size_t hole, size_t n)
{
    if (b->over)
        return;
    size_t v = b->len - hole - n;
    for (size_t i = 0; i < n; i++)
        b->p[hole + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* --------------------------------------------------------------------------- capture output */

/* A pcap file written through libpcap (pcap_open_dead + pcap_dump). */
struct pw {
    pcap_t *dead;
    pcap_dumper_t *d;
    FILE *f;
    uint32_t snaplen;
    uint64_t packets;
};

static int
pw_open(struct pw *w, const char *path, int dlt, uint32_t snaplen, char *err, size_t errlen)
{
    memset(w, 0, sizeof(*w));
    w->snaplen = snaplen;
    w->dead = pcap_open_dead(dlt, (int)snaplen);
    if (w->dead == NULL) {
        snprintf(err, errlen, "%s: pcap_open_dead failed", path);
        return -ENOMEM;
    }
    w->f = fopen(path, "wb");
    if (w->f == NULL) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        pcap_close(w->dead);
        return -e;
    }
    /* A large stdio buffer: the benchmark capture is hundreds of MB of small records. */
    setvbuf(w->f, NULL, _IOFBF, 1 << 20);
    w->d = pcap_dump_fopen(w->dead, w->f);
    if (w->d == NULL) {
        snprintf(err, errlen, "%s: %s", path, pcap_geterr(w->dead));
        fclose(w->f);
        pcap_close(w->dead);
        return -EIO;
    }
    return 0;
}

/* Writes one record; caplen is cut to the file's snaplen as a capturing kernel would. */
static void
pw_packet(struct pw *w, uint64_t ts_us, const uint8_t *p, uint32_t caplen, uint32_t len)
{
    struct pcap_pkthdr h;

    h.ts.tv_sec = (time_t)(ts_us / US_PER_S);
    h.ts.tv_usec = (suseconds_t)(ts_us % US_PER_S);
    h.caplen = caplen < w->snaplen ? caplen : w->snaplen;
    h.len = len;
    pcap_dump((u_char *)w->d, &h, p);
    w->packets++;
}

static int
pw_close(struct pw *w, const char *path, char *err, size_t errlen)
{
    int rc = 0;

    if (pcap_dump_flush(w->d) != 0 || ferror(w->f)) {
        snprintf(err, errlen, "%s: write error: %s", path, strerror(errno));
        rc = -EIO;
    }
    pcap_dump_close(w->d); /* closes w->f */
    pcap_close(w->dead);
    return rc;
}

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

static void
sink_packet(struct sink *s, uint64_t ts, const uint8_t *p, uint32_t caplen, uint32_t len)
{
    if (s->w != NULL) {
        pw_packet(s->w, ts, p, caplen, len);
        return;
    }
    if (s->n >= s->max || caplen > s->cap - s->used) {
        s->overflow = true;
        return;
    }
    struct rec *r = &s->recs[s->n];
    r->ts = ts;
    r->off = (uint32_t)s->used;
    r->caplen = caplen;
    r->len = len;
    r->seq = (uint32_t)s->n;
    memcpy(s->arena + s->used, p, caplen);
    s->used += caplen;
    s->n++;
}

static int
rec_cmp(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;

    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* --------------------------------------------------------------------------- header writers */

struct ep {
    uint8_t mac[6];
    uint8_t ip[16]; /* IPv4 in the first 4 bytes */
    uint16_t port;
};

/* Ethernet II with an optional 802.1Q tag; returns the L3 offset. */
static size_t
put_eth(uint8_t *b, const uint8_t *dst, const uint8_t *src, uint16_t vlan, uint16_t type)
{
    memcpy(b, dst, 6);
    memcpy(b + 6, src, 6);
    if (vlan != 0) {
        put_be16(b + 12, ET_VLAN);
        put_be16(b + 14, vlan);
        put_be16(b + 16, type);
        return 18;
    }
    put_be16(b + 12, type);
    return 14;
}

/* A 20-byte IPv4 header with its checksum. frag holds the flags and the offset field. */
static void
put_ip4(uint8_t *b, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint16_t tot_len,
        uint16_t id, uint8_t ttl, uint16_t frag)
{
    b[0] = 0x45;
    b[1] = 0;
    put_be16(b + 2, tot_len);
    put_be16(b + 4, id);
    put_be16(b + 6, frag);
    b[8] = ttl;
    b[9] = proto;
    put_be16(b + 10, 0);
    memcpy(b + 12, src, 4);
    memcpy(b + 16, dst, 4);
    put_be16(b + 10, csum_fold(csum_add(0, b, 20)));
}

/* Recomputes an IPv4 header checksum over ihl*4 bytes (after a field was changed). */
static void
fix_ip4_csum(uint8_t *b, size_t hlen)
{
    put_be16(b + 10, 0);
    put_be16(b + 10, csum_fold(csum_add(0, b, hlen)));
}

static void
put_ip6(uint8_t *b, const uint8_t *src, const uint8_t *dst, uint8_t nxt, uint16_t plen,
        uint8_t hlim, uint32_t flow_label)
{
    put_be32(b, 0x60000000u | (flow_label & 0xfffff));
    put_be16(b + 4, plen);
    b[6] = nxt;
    b[7] = hlim;
    memcpy(b + 8, src, 16);
    memcpy(b + 24, dst, 16);
}

/* Sum of the TCP/UDP/ICMPv6 pseudo-header. */
static uint64_t
pseudo_sum(bool v6, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t l4len)
{
    uint64_t s = csum_add(0, src, v6 ? 16 : 4);
    s = csum_add(s, dst, v6 ? 16 : 4);
    return s + proto + (l4len >> 16) + (l4len & 0xffff);
}

/* Fills the checksum at l4 + csum_off; UDP's zero result is sent as 0xffff (RFC 768). */
static void
put_l4_csum(uint8_t *l4, size_t l4len, size_t csum_off, bool v6, const uint8_t *src,
            const uint8_t *dst, uint8_t proto)
{
    put_be16(l4 + csum_off, 0);
    uint16_t c = proto == 1 ? csum_fold(csum_add(0, l4, l4len))
                            : csum_fold(csum_add(pseudo_sum(v6, src, dst, proto, (uint32_t)l4len),
                                                 l4, l4len));
    if (c == 0 && proto == 17)
        c = 0xffff;
    put_be16(l4 + csum_off, c);
}

static size_t
put_tcp(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
        uint16_t win, const uint8_t *opt, size_t optlen)
{
    size_t hl = 20 + optlen;

    put_be16(b, sport);
    put_be16(b + 2, dport);
    put_be32(b + 4, seq);
    put_be32(b + 8, ack);
    b[12] = (uint8_t)((hl / 4) << 4);
    b[13] = flags;
    put_be16(b + 14, win);
    put_be16(b + 16, 0);
    put_be16(b + 18, 0);
    if (optlen > 0)
        memcpy(b + 20, opt, optlen);
    return hl;
}

static void
put_udp(uint8_t *b, uint16_t sport, uint16_t dport, uint16_t len)
{
    put_be16(b, sport);
    put_be16(b + 2, dport);
    put_be16(b + 4, len);
    put_be16(b + 6, 0);
}

static void
parse_ip(uint8_t *out, const char *s)
{
    memset(out, 0, 16);
    /* Literals only, so a failure is a bug in this file: leave the zero address. */
    if (inet_pton(strchr(s, ':') != NULL ? AF_INET6 : AF_INET, s, out) != 1)
        memset(out, 0, 16);
}

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

static void
conn_init(struct conn *c, struct sink *out, struct rng *r, uint8_t proto, const uint8_t *cmac,
          const char *cip, uint16_t cport, const uint8_t *gwmac, const char *sip, uint16_t sport,
          uint64_t t, uint32_t rtt)
{
    memset(c, 0, sizeof(*c));
    c->out = out;
    c->rng = r;
    c->proto = proto;
    memcpy(c->ep[CLI].mac, cmac, 6);
    memcpy(c->ep[SRV].mac, gwmac, 6);
    parse_ip(c->ep[CLI].ip, cip);
    parse_ip(c->ep[SRV].ip, sip);
    c->ep[CLI].port = cport;
    c->ep[SRV].port = sport;
    c->v6 = strchr(cip, ':') != NULL;
    c->pad = true;
    c->ttl[CLI] = 64;
    c->ttl[SRV] = (uint8_t)rng_range(r, 44, 58);
    c->ip_id[CLI] = (uint16_t)rng_next(r);
    c->ip_id[SRV] = (uint16_t)rng_next(r);
    c->seq[CLI] = (uint32_t)rng_next(r);
    c->seq[SRV] = (uint32_t)rng_next(r);
    c->win[CLI] = 64240;
    c->win[SRV] = 65160;
    c->mss = c->v6 ? 1440 : 1460;
    c->t = t;
    c->rtt = rtt;
}

/* Where the L4 header of the next frame goes in g_frame. */
static uint8_t *
conn_l4(const struct conn *c)
{
    return g_frame + 14 + (c->vlan != 0 ? 4 : 0) + (c->v6 ? 40 : 20);
}

/* Completes g_frame around the l4len bytes at conn_l4() and emits it at c->t. */
static void
conn_put(struct conn *c, int dir, size_t l4len, size_t csum_off)
{
    const struct ep *s = &c->ep[dir], *d = &c->ep[!dir];
    size_t off = put_eth(g_frame, d->mac, s->mac, c->vlan, c->v6 ? ET_IPV6 : ET_IPV4);
    uint8_t *l4 = g_frame + off + (c->v6 ? 40 : 20);
    size_t len;

    if (c->v6) {
        put_ip6(g_frame + off, s->ip, d->ip, c->proto, (uint16_t)l4len, c->ttl[dir],
                c->ip_id[CLI] & 0xfffff);
        len = off + 40 + l4len;
    } else {
        uint16_t df = c->proto == 17 ? 0 : 0x4000;
        put_ip4(g_frame + off, s->ip, d->ip, c->proto, (uint16_t)(20 + l4len), c->ip_id[dir]++,
                c->ttl[dir], df);
        len = off + 20 + l4len;
    }
    put_l4_csum(l4, l4len, csum_off, c->v6, s->ip, d->ip, c->proto);
    if (c->pad && len < 60) {
        memset(g_frame + len, 0, 60 - len);
        len = 60;
    }
    sink_packet(c->out, c->t, g_frame, (uint32_t)len, (uint32_t)len);
}

static void
tcp_seg(struct conn *c, int dir, uint8_t flags, const uint8_t *opt, size_t optlen,
        const uint8_t *data, size_t len)
{
    uint8_t *l4 = conn_l4(c);
    uint32_t ack = (flags & TH_ACK) ? c->seq[!dir] : 0;
    size_t hl = put_tcp(l4, c->ep[dir].port, c->ep[!dir].port, c->seq[dir], ack, flags,
                        c->win[dir], opt, optlen);

    if (len > 0)
        memcpy(l4 + hl, data, len);
    conn_put(c, dir, hl + len, 16);
    c->seq[dir] += (uint32_t)len + ((flags & (TH_SYN | TH_FIN)) ? 1u : 0u);
}

static void
tcp_ack(struct conn *c, int dir)
{
    tcp_seg(c, dir, TH_ACK, NULL, 0, NULL, 0);
}

/* SYN, SYN/ACK, ACK with Linux's options (MSS, window scale, SACK permitted). */
static void
tcp_open(struct conn *c)
{
    uint8_t opt[12] = {2, 4, 0, 0, 1, 3, 3, 7, 1, 1, 4, 2};

    put_be16(opt + 2, c->mss);
    tcp_seg(c, CLI, TH_SYN, opt, sizeof(opt), NULL, 0);
    c->t += c->rtt;
    tcp_seg(c, SRV, TH_SYN | TH_ACK, opt, sizeof(opt), NULL, 0);
    c->t += 60;
    /* After the handshake both sides advertise scaled windows (x128). */
    c->win[CLI] = 502;
    c->win[SRV] = 509;
    tcp_ack(c, CLI);
}

/* Sends len bytes from dir in MSS-sized segments, PSH on the last. Server data is acked by the
 * (local) client every second segment and at the end; client data is acked by whatever the
 * server sends next. */
static void
tcp_send(struct conn *c, int dir, const uint8_t *data, size_t len)
{
    size_t done = 0;
    unsigned nseg = 0;

    while (done < len) {
        size_t n = len - done < c->mss ? len - done : c->mss;
        uint8_t fl = TH_ACK | (done + n == len ? TH_PSH : 0);
        tcp_seg(c, dir, fl, NULL, 0, data + done, n);
        done += n;
        nseg++;
        c->t += dir == SRV ? rng_range(c->rng, 15, 60) : rng_range(c->rng, 5, 20);
        if (dir == SRV && (nseg % 2 == 0 || done == len)) {
            c->t += rng_range(c->rng, 30, 90);
            tcp_ack(c, CLI);
        }
    }
}

/* FIN from `first`, FIN from the other side, last ACK. */
static void
tcp_close(struct conn *c, int first)
{
    tcp_seg(c, first, TH_FIN | TH_ACK, NULL, 0, NULL, 0);
    c->t += first == CLI ? c->rtt : rng_range(c->rng, 100, 400);
    tcp_seg(c, !first, TH_FIN | TH_ACK, NULL, 0, NULL, 0);
    c->t += first == CLI ? rng_range(c->rng, 40, 120) : c->rtt;
    tcp_ack(c, first);
}

static void
udp_send(struct conn *c, int dir, const uint8_t *data, size_t len)
{
    uint8_t *l4 = conn_l4(c);

    put_udp(l4, c->ep[dir].port, c->ep[!dir].port, (uint16_t)(8 + len));
    memcpy(l4 + 8, data, len);
    conn_put(c, dir, 8 + len, 6);
}

static void
icmp_echo(struct conn *c, int dir, uint16_t id, uint16_t seq, const uint8_t *data, size_t len)
{
    uint8_t *l4 = conn_l4(c);

    l4[0] = dir == CLI ? 8 : 0;
    l4[1] = 0;
    put_be16(l4 + 4, id);
    put_be16(l4 + 6, seq);
    memcpy(l4 + 8, data, len);
    conn_put(c, dir, 8 + len, 2);
}

/* ------------------------------------------------------------------------ application bytes */

static const char *const g_user_agent =
    "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0";

/* A TLS 1.3 ClientHello as Firefox sends it: SNI, ALPN h2/http1.1, supported_versions. */
static size_t
tls_client_hello(uint8_t *out, size_t cap, struct rng *r, const char *sni)
{
    static const uint16_t suites[] = {0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8,
                                      0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013, 0xc014, 0x009c,
                                      0x009d, 0x002f, 0x0035};
    static const uint16_t groups[] = {0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101};
    static const uint16_t sigalgs[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805,
                                       0x0806, 0x0401, 0x0501, 0x0601, 0x0203};
    struct bb b;
    size_t rec, hs, exts, e, l;

    bb_init(&b, out, cap);
    bb_u8(&b, 0x16);
    bb_u16(&b, 0x0301);
    rec = bb_hole(&b, 2);
    bb_u8(&b, 1);
    hs = bb_hole(&b, 3);
    bb_u16(&b, 0x0303);
    bb_rand(&b, r, 32);
    bb_u8(&b, 32);
    bb_rand(&b, r, 32);
    bb_u16(&b, (uint16_t)sizeof(suites));
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
        bb_u16(&b, suites[i]);
    bb_u8(&b, 1);
    bb_u8(&b, 0);
    exts = bb_hole(&b, 2);
    /* server_name */
    bb_u16(&b, 0x0000);
    e = bb_hole(&b, 2);
    l = bb_hole(&b, 2);
    bb_u8(&b, 0);
    bb_u16(&b, (uint16_t)strlen(sni));
    bb_str(&b, sni);
    bb_len(&b, l, 2);
    bb_len(&b, e, 2);
    /* extended_master_secret, renegotiation_info */
    bb_u16(&b, 0x0017);
    bb_u16(&b, 0);
    bb_u16(&b, 0xff01);
    bb_u16(&b, 1);
    bb_u8(&b, 0);
    /* supported_groups */
    bb_u16(&b, 0x000a);
    bb_u16(&b, (uint16_t)(2 + sizeof(groups)));
    bb_u16(&b, (uint16_t)sizeof(groups));
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        bb_u16(&b, groups[i]);
    /* ec_point_formats: uncompressed */
    bb_u16(&b, 0x000b);
    bb_u16(&b, 2);
    bb_u8(&b, 1);
    bb_u8(&b, 0);
    /* session_ticket (empty) */
    bb_u16(&b, 0x0023);
    bb_u16(&b, 0);
    /* application_layer_protocol_negotiation */
    bb_u16(&b, 0x0010);
    e = bb_hole(&b, 2);
    l = bb_hole(&b, 2);
    bb_u8(&b, 2);
    bb_str(&b, "h2");
    bb_u8(&b, 8);
    bb_str(&b, "http/1.1");
    bb_len(&b, l, 2);
    bb_len(&b, e, 2);
    /* status_request (OCSP) */
    bb_u16(&b, 0x0005);
    bb_u16(&b, 5);
    bb_u8(&b, 1);
    bb_u16(&b, 0);
    bb_u16(&b, 0);
    /* key_share: x25519 */
    bb_u16(&b, 0x0033);
    bb_u16(&b, 2 + 4 + 32);
    bb_u16(&b, 4 + 32);
    bb_u16(&b, 0x001d);
    bb_u16(&b, 32);
    bb_rand(&b, r, 32);
    /* supported_versions: TLS 1.3, 1.2 */
    bb_u16(&b, 0x002b);
    bb_u16(&b, 5);
    bb_u8(&b, 4);
    bb_u16(&b, 0x0304);
    bb_u16(&b, 0x0303);
    /* signature_algorithms */
    bb_u16(&b, 0x000d);
    bb_u16(&b, (uint16_t)(2 + sizeof(sigalgs)));
    bb_u16(&b, (uint16_t)sizeof(sigalgs));
    for (size_t i = 0; i < sizeof(sigalgs) / sizeof(sigalgs[0]); i++)
        bb_u16(&b, sigalgs[i]);
    /* psk_key_exchange_modes: psk_dhe_ke */
    bb_u16(&b, 0x002d);
    bb_u16(&b, 2);
    bb_u8(&b, 1);
    bb_u8(&b, 1);
    /* record_size_limit */
    bb_u16(&b, 0x001c);
    bb_u16(&b, 2);
    bb_u16(&b, 0x4001);
    bb_len(&b, exts, 2);
    bb_len(&b, hs, 3);
    bb_len(&b, rec, 2);
    return b.over ? 0 : b.len;
}

/* An opaque TLS 1.3 record (ApplicationData) of n bytes of ciphertext. */
static void
tls_appdata(struct bb *b, struct rng *r, size_t n)
{
    bb_u8(b, 0x17);
    bb_u16(b, 0x0303);
    bb_u16(b, (uint16_t)n);
    bb_rand(b, r, n);
}

/* ServerHello (TLS 1.3, x25519, the client's session id echoed), ChangeCipherSpec, and the
 * encrypted rest of the server flight as ciphertext of enc bytes. */
static size_t
tls_server_flight(uint8_t *out, size_t cap, struct rng *r, const uint8_t *client_hello,
                  size_t enc)
{
    struct bb b;
    size_t rec, hs, exts;

    bb_init(&b, out, cap);
    bb_u8(&b, 0x16);
    bb_u16(&b, 0x0303);
    rec = bb_hole(&b, 2);
    bb_u8(&b, 2);
    hs = bb_hole(&b, 3);
    bb_u16(&b, 0x0303);
    bb_rand(&b, r, 32);
    bb_u8(&b, 32);
    bb_mem(&b, client_hello + 5 + 4 + 2 + 32 + 1, 32);
    bb_u16(&b, 0x1301);
    bb_u8(&b, 0);
    exts = bb_hole(&b, 2);
    bb_u16(&b, 0x002b);
    bb_u16(&b, 2);
    bb_u16(&b, 0x0304);
    bb_u16(&b, 0x0033);
    bb_u16(&b, 4 + 32);
    bb_u16(&b, 0x001d);
    bb_u16(&b, 32);
    bb_rand(&b, r, 32);
    bb_len(&b, exts, 2);
    bb_len(&b, hs, 3);
    bb_len(&b, rec, 2);
    bb_u8(&b, 0x14);
    bb_u16(&b, 0x0303);
    bb_u16(&b, 1);
    bb_u8(&b, 1);
    tls_appdata(&b, r, enc);
    return b.over ? 0 : b.len;
}

static void
dns_name(struct bb *b, const char *name)
{
    while (*name != '\0') {
        const char *dot = strchr(name, '.');
        size_t n = dot != NULL ? (size_t)(dot - name) : strlen(name);
        bb_u8(b, (uint8_t)n);
        bb_mem(b, name, n);
        name += n + (dot != NULL ? 1 : 0);
    }
    bb_u8(b, 0);
}

/* A recursive query, or (addr != NULL) its answer with one A/AAAA record. */
static size_t
dns_message(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t qtype,
            const uint8_t *addr)
{
    struct bb b;

    bb_init(&b, out, cap);
    bb_u16(&b, id);
    bb_u16(&b, addr != NULL ? 0x8180 : 0x0100);
    bb_u16(&b, 1);
    bb_u16(&b, addr != NULL ? 1 : 0);
    bb_u16(&b, 0);
    bb_u16(&b, 0);
    dns_name(&b, name);
    bb_u16(&b, qtype);
    bb_u16(&b, 1);
    if (addr != NULL) {
        bb_u16(&b, 0xc00c);
        bb_u16(&b, qtype);
        bb_u16(&b, 1);
        bb_u32(&b, 3600);
        bb_u16(&b, qtype == 28 ? 16 : 4);
        bb_mem(&b, addr, qtype == 28 ? 16 : 4);
    }
    return b.over ? 0 : b.len;
}

/* Wraps an SSH payload in the binary packet format (RFC 4253 section 6, before encryption). */
static void
ssh_packet(struct bb *b, struct rng *r, const uint8_t *payload, size_t n)
{
    size_t pad = 8 - (5 + n) % 8;

    if (pad < 4)
        pad += 8;
    bb_u32(b, (uint32_t)(1 + n + pad));
    bb_u8(b, (uint8_t)pad);
    bb_mem(b, payload, n);
    bb_rand(b, r, pad);
}

static void
ssh_string(struct bb *b, const char *s)
{
    bb_u32(b, (uint32_t)strlen(s));
    bb_str(b, s);
}

/* SSH_MSG_KEXINIT with OpenSSH 9.2's algorithm lists. */
static size_t
ssh_kexinit(uint8_t *out, size_t cap, struct rng *r, bool server)
{
    static const char *const cli_lists[10] = {
        "curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512@openssh.com,"
        "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
        "diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,"
        "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256,ext-info-c",
        "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,"
        "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256",
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
        "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
        "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
        "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
        "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,"
        "umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
        "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
        "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,"
        "umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
        "none,zlib@openssh.com,zlib",
        "none,zlib@openssh.com,zlib",
        "",
        "",
    };
    uint8_t pl[2048];
    struct bb p, b;

    bb_init(&p, pl, sizeof(pl));
    bb_u8(&p, 20);
    bb_rand(&p, r, 16);
    for (int i = 0; i < 10; i++) {
        if (server && i == 0)
            ssh_string(&p, "curve25519-sha256,curve25519-sha256@libssh.org,"
                           "sntrup761x25519-sha512@openssh.com,ecdh-sha2-nistp256,"
                           "ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
                           "diffie-hellman-group-exchange-sha256,"
                           "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,"
                           "diffie-hellman-group14-sha256");
        else if (server && i == 1)
            ssh_string(&p, "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519");
        else if (server && (i == 6 || i == 7))
            ssh_string(&p, "none,zlib@openssh.com");
        else
            ssh_string(&p, cli_lists[i]);
    }
    bb_u8(&p, 0);
    bb_u32(&p, 0);
    bb_init(&b, out, cap);
    ssh_packet(&b, r, pl, p.len);
    return b.over || p.over ? 0 : b.len;
}

/* SSH_MSG_KEX_ECDH_INIT (client) or SSH_MSG_KEX_ECDH_REPLY + SSH_MSG_NEWKEYS (server). */
static size_t
ssh_ecdh(uint8_t *out, size_t cap, struct rng *r, bool server)
{
    uint8_t pl[512];
    struct bb p, b;

    bb_init(&b, out, cap);
    bb_init(&p, pl, sizeof(pl));
    if (!server) {
        bb_u8(&p, 30);
        bb_u32(&p, 32);
        bb_rand(&p, r, 32);
        ssh_packet(&b, r, pl, p.len);
        return b.over ? 0 : b.len;
    }
    bb_u8(&p, 31);
    bb_u32(&p, 4 + 11 + 4 + 32);
    ssh_string(&p, "ssh-ed25519");
    bb_u32(&p, 32);
    bb_rand(&p, r, 32);
    bb_u32(&p, 32);
    bb_rand(&p, r, 32);
    bb_u32(&p, 4 + 11 + 4 + 64);
    ssh_string(&p, "ssh-ed25519");
    bb_u32(&p, 64);
    bb_rand(&p, r, 64);
    ssh_packet(&b, r, pl, p.len);
    pl[0] = 21;
    ssh_packet(&b, r, pl, 1);
    return b.over || p.over ? 0 : b.len;
}

/* NTP seconds since 1900 and 2^-32 fractions of a time in us since 1970. */
static void
ntp_ts(uint8_t *p, uint64_t t_us)
{
    put_be32(p, (uint32_t)(t_us / US_PER_S + 2208988800ULL));
    put_be32(p + 4, (uint32_t)(((t_us % US_PER_S) << 32) / US_PER_S));
}

/* ------------------------------------------------------------------------------ sample apps */

static void
app_dns(struct conn *c, const char *name, uint16_t qtype, const char *answer)
{
    uint8_t msg[512], addr[16];
    uint16_t id = (uint16_t)rng_next(c->rng);
    size_t n = dns_message(msg, sizeof(msg), id, name, qtype, NULL);

    udp_send(c, CLI, msg, n);
    c->t += c->rtt + rng_range(c->rng, 100, 2000);
    parse_ip(addr, answer);
    n = dns_message(msg, sizeof(msg), id, name, qtype, addr);
    udp_send(c, SRV, msg, n);
}

static void
app_ntp_poll(struct conn *c)
{
    uint8_t p[48];
    uint64_t sent = c->t;

    memset(p, 0, sizeof(p));
    p[0] = 0x23; /* LI 0, version 4, mode 3 (client) */
    p[2] = 6;
    p[3] = 0xe9;
    ntp_ts(p + 40, sent);
    udp_send(c, CLI, p, sizeof(p));
    c->t += c->rtt;
    p[0] = 0x24; /* mode 4 (server) */
    p[1] = 2;
    p[3] = 0xe7;
    put_be32(p + 4, 0x00000120);
    put_be32(p + 8, 0x00000310);
    memcpy(p + 12, "\xcb\x00\x71\x7b", 4); /* reference id: upstream 203.0.113.123 */
    ntp_ts(p + 16, sent - 300 * US_PER_S);
    ntp_ts(p + 24, sent);
    ntp_ts(p + 32, sent + c->rtt / 2);
    ntp_ts(p + 40, sent + c->rtt / 2 + 25);
    udp_send(c, SRV, p, sizeof(p));
}

static void
app_ping(struct conn *c, unsigned count)
{
    uint16_t id = (uint16_t)rng_next(c->rng);
    uint8_t data[56];

    for (unsigned i = 1; i <= count; i++) {
        /* Linux ping: a struct timeval, then the 0x10, 0x11, ... pattern. */
        uint64_t sec = c->t / US_PER_S, usec = c->t % US_PER_S;
        for (int k = 0; k < 8; k++) {
            data[k] = (uint8_t)(sec >> (8 * k)); /* little-endian, as on x86 */
            data[8 + k] = (uint8_t)(usec >> (8 * k));
        }
        for (int k = 16; k < 56; k++)
            data[k] = (uint8_t)k;
        icmp_echo(c, CLI, id, (uint16_t)i, data, sizeof(data));
        c->t += c->rtt + rng_range(c->rng, 0, 500);
        icmp_echo(c, SRV, id, (uint16_t)i, data, sizeof(data));
        c->t += US_PER_S - c->rtt;
    }
}

static void
http_date(char *out, size_t n, uint64_t t_us)
{
    time_t s = (time_t)(t_us / US_PER_S);
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* One HTTP/1.1 GET on a fresh connection and its 200 response; the client closes. */
static void
app_http(struct conn *c, const char *host, const char *path, unsigned paragraphs)
{
    static char req[1024], resp[16384], body[12288];
    static const char para[] = "<p>This domain is for use in illustrative examples in "
                               "documents. You may use this domain in literature without prior "
                               "coordination or asking for permission.</p>\n";
    char date[64];
    int n;
    size_t blen = 0;

    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                 "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                 "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n"
                 "Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\n\r\n",
                 path, host, g_user_agent);
    blen += (size_t)snprintf(body, sizeof(body),
                             "<!doctype html>\n<html>\n<head>\n<title>Example Domain</title>\n"
                             "<meta charset=\"utf-8\" />\n</head>\n<body>\n<div>\n"
                             "<h1>Example Domain</h1>\n");
    for (unsigned i = 0; i < paragraphs && blen + sizeof(para) + 64 < sizeof(body); i++) {
        memcpy(body + blen, para, sizeof(para) - 1);
        blen += sizeof(para) - 1;
    }
    blen += (size_t)snprintf(body + blen, sizeof(body) - blen, "</div>\n</body>\n</html>\n");

    tcp_open(c);
    c->t += rng_range(c->rng, 100, 400);
    tcp_send(c, CLI, (const uint8_t *)req, (size_t)n);
    c->t += c->rtt + rng_range(c->rng, 300, 3000);
    http_date(date, sizeof(date), c->t);
    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 200 OK\r\nDate: %s\r\nServer: nginx/1.22.1\r\n"
                 "Content-Type: text/html; charset=UTF-8\r\nContent-Length: %zu\r\n"
                 "Last-Modified: Thu, 17 Oct 2019 07:18:26 GMT\r\nConnection: keep-alive\r\n"
                 "Accept-Ranges: bytes\r\n\r\n",
                 date, blen);
    memcpy(resp + n, body, blen);
    tcp_send(c, SRV, (const uint8_t *)resp, (size_t)n + blen);
    c->t += rng_range(c->rng, 2, 6) * US_PER_S;
    tcp_close(c, CLI);
}

/* A TLS 1.3 session: ClientHello with SNI, the server flight, Finished + request, response,
 * close_notify, FIN. */
static void
app_tls(struct conn *c, const char *sni)
{
    static uint8_t hello[1024], buf[8192];
    struct bb b;
    size_t n;

    tcp_open(c);
    c->t += rng_range(c->rng, 200, 600);
    n = tls_client_hello(hello, sizeof(hello), c->rng, sni);
    tcp_send(c, CLI, hello, n);
    c->t += c->rtt + rng_range(c->rng, 500, 2500);
    n = tls_server_flight(buf, sizeof(buf), c->rng, hello, rng_range(c->rng, 2300, 3200));
    tcp_send(c, SRV, buf, n);
    c->t += rng_range(c->rng, 1000, 4000);
    bb_init(&b, buf, sizeof(buf));
    bb_u8(&b, 0x14);
    bb_u16(&b, 0x0303);
    bb_u16(&b, 1);
    bb_u8(&b, 1);
    tls_appdata(&b, c->rng, 53);
    tls_appdata(&b, c->rng, rng_range(c->rng, 90, 400));
    tcp_send(c, CLI, buf, b.len);
    c->t += c->rtt + rng_range(c->rng, 2000, 8000);
    bb_init(&b, buf, sizeof(buf));
    tls_appdata(&b, c->rng, 249);
    tls_appdata(&b, c->rng, 249);
    tls_appdata(&b, c->rng, rng_range(c->rng, 1200, 5000));
    tcp_send(c, SRV, buf, b.len);
    c->t += rng_range(c->rng, 1, 4) * US_PER_S;
    bb_init(&b, buf, sizeof(buf));
    tls_appdata(&b, c->rng, 19);
    tcp_send(c, CLI, buf, b.len);
    c->t += 200;
    tcp_close(c, CLI);
}

/* An interactive OpenSSH session: banners, KEXINIT, ECDH, NEWKEYS, then encrypted packets
 * (chacha20-poly1305 sizes) and a server-side close after "exit". */
static void
app_ssh(struct conn *c, unsigned keystrokes)
{
    static const char banner[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
    static uint8_t buf[4096];
    /* Sizes of the encrypted exchange: service request/accept, userauth, channel, shell. */
    static const uint16_t login[][2] = {{CLI, 44},  {SRV, 44},  {CLI, 60},  {SRV, 52},
                                        {CLI, 396}, {SRV, 356}, {CLI, 628}, {SRV, 28},
                                        {CLI, 112}, {SRV, 620}, {CLI, 396}, {SRV, 44},
                                        {SRV, 500}, {SRV, 100}};
    size_t n;

    tcp_open(c);
    c->t += 150;
    tcp_send(c, CLI, (const uint8_t *)banner, sizeof(banner) - 1);
    c->t += c->rtt + rng_range(c->rng, 1000, 4000);
    tcp_send(c, SRV, (const uint8_t *)banner, sizeof(banner) - 1);
    c->t += rng_range(c->rng, 200, 600);
    n = ssh_kexinit(buf, sizeof(buf), c->rng, false);
    tcp_send(c, CLI, buf, n);
    c->t += rng_range(c->rng, 100, 400);
    n = ssh_kexinit(buf, sizeof(buf), c->rng, true);
    tcp_send(c, SRV, buf, n);
    c->t += rng_range(c->rng, 300, 900);
    n = ssh_ecdh(buf, sizeof(buf), c->rng, false);
    tcp_send(c, CLI, buf, n);
    c->t += c->rtt + rng_range(c->rng, 1000, 3000);
    n = ssh_ecdh(buf, sizeof(buf), c->rng, true);
    tcp_send(c, SRV, buf, n);
    c->t += rng_range(c->rng, 500, 1500);
    /* NEWKEYS, then the first encrypted packet in the same segment. */
    {
        struct bb b;
        uint8_t nk = 21;
        bb_init(&b, buf, sizeof(buf));
        ssh_packet(&b, c->rng, &nk, 1);
        bb_rand(&b, c->rng, 44);
        tcp_send(c, CLI, buf, b.len);
    }
    for (size_t i = 0; i < sizeof(login) / sizeof(login[0]); i++) {
        int dir = login[i][0];
        c->t += dir == SRV ? c->rtt : rng_range(c->rng, 2000, 30000);
        rng_fill(c->rng, buf, login[i][1]);
        tcp_send(c, dir, buf, login[i][1]);
    }
    for (unsigned k = 0; k < keystrokes; k++) {
        c->t += rng_range(c->rng, 150000, 1500000);
        rng_fill(c->rng, buf, 36);
        tcp_send(c, CLI, buf, 36);
        c->t += c->rtt;
        n = k % 6 == 5 ? rng_range(c->rng, 100, 1800) : 36;
        rng_fill(c->rng, buf, n);
        tcp_send(c, SRV, buf, n);
    }
    c->t += rng_range(c->rng, 10000, 50000);
    rng_fill(c->rng, buf, 180);
    tcp_send(c, SRV, buf, 180);
    c->t += 3000;
    tcp_close(c, SRV);
}

/* ---------------------------------------------------------------------------- sample capture */

#define SAMPLE_T0 (1709294400ULL * US_PER_S) /* 2024-03-01 12:00:00 UTC */
#define SAMPLE_MAXREC 4096
#define SAMPLE_ARENA (2u << 20)

static const uint8_t g_gw_mac[6] = {0x00, 0x00, 0x0c, 0x9f, 0xf0, 0x01};    /* Cisco */
static const uint8_t g_mac_intel[6] = {0x3c, 0xfd, 0xfe, 0x1a, 0x2b, 0x3c}; /* Intel */
static const uint8_t g_mac_apple[6] = {0xf0, 0x18, 0x98, 0x4d, 0x5e, 0x6f}; /* Apple */
static const uint8_t g_mac_rpi[6] = {0xdc, 0xa6, 0x32, 0x07, 0x18, 0x29};   /* Raspberry Pi */
static const uint8_t g_mac_dell[6] = {0x00, 0x1a, 0xa0, 0x3a, 0x4b, 0x5c};  /* Dell */

static uint16_t
eph_port(struct rng *r)
{
    return (uint16_t)rng_range(r, 32768, 60999);
}

static uint64_t
at(double seconds)
{
    return SAMPLE_T0 + (uint64_t)(seconds * 1e6);
}

static int
gen_sample(const char *path, char *err, size_t errlen)
{
    static struct rec recs[SAMPLE_MAXREC];
    static uint8_t arena[SAMPLE_ARENA];
    struct sink s = {.recs = recs, .max = SAMPLE_MAXREC, .arena = arena, .cap = SAMPLE_ARENA};
    struct rng r = {0x73616d706c65ULL};
    struct conn c;
    struct pw w;
    int rc;

    /* A workstation resolves and fetches www.example.com over HTTP. */
    conn_init(&c, &s, &r, 17, g_mac_intel, "192.0.2.10", eph_port(&r), g_gw_mac,
              "198.51.100.53", 53, at(0.100), 11000);
    app_dns(&c, "www.example.com", 1, "203.0.113.10");
    conn_init(&c, &s, &r, 17, g_mac_intel, "192.0.2.10", eph_port(&r), g_gw_mac,
              "198.51.100.53", 53, at(0.101), 11000);
    app_dns(&c, "www.example.com", 28, "2001:db8:80::10");
    conn_init(&c, &s, &r, 6, g_mac_intel, "192.0.2.10", eph_port(&r), g_gw_mac, "203.0.113.10",
              80, at(0.140), 24000);
    app_http(&c, "www.example.com", "/", 12);

    /* ntpd polls with source port 123: the 128 s gap exceeds the 120 s idle timeout, so the
     * third poll starts a second flow. */
    conn_init(&c, &s, &r, 17, g_mac_rpi, "192.0.2.12", 123, g_gw_mac, "198.51.100.123", 123,
              at(2.0), 18000);
    app_ntp_poll(&c);
    c.t = at(66.0);
    app_ntp_poll(&c);
    c.t = at(194.0);
    app_ntp_poll(&c);

    conn_init(&c, &s, &r, 1, g_mac_intel, "192.0.2.10", 0, g_gw_mac, "203.0.113.10", 0,
              at(3.0), 23000);
    app_ping(&c, 4);

    /* A laptop: DNS, then HTTPS to www.example.com. */
    conn_init(&c, &s, &r, 17, g_mac_apple, "192.0.2.11", eph_port(&r), g_gw_mac,
              "198.51.100.53", 53, at(9.500), 9000);
    app_dns(&c, "www.example.com", 1, "203.0.113.10");
    conn_init(&c, &s, &r, 6, g_mac_apple, "192.0.2.11", eph_port(&r), g_gw_mac, "203.0.113.10",
              443, at(9.515), 24000);
    app_tls(&c, "www.example.com");

    /* An admin session over SSH. */
    conn_init(&c, &s, &r, 6, g_mac_rpi, "192.0.2.12", eph_port(&r), g_gw_mac, "203.0.113.22", 22,
              at(21.0), 31000);
    app_ssh(&c, 24);

    /* IPv6: AAAA lookup and HTTP over IPv6. */
    conn_init(&c, &s, &r, 17, g_mac_dell, "2001:db8:100::10", eph_port(&r), g_gw_mac,
              "2001:db8:53::53", 53, at(35.0), 8000);
    app_dns(&c, "www.example.com", 28, "2001:db8:80::10");
    conn_init(&c, &s, &r, 6, g_mac_dell, "2001:db8:100::10", eph_port(&r), g_gw_mac,
              "2001:db8:80::10", 80, at(35.012), 27000);
    app_http(&c, "www.example.com", "/index.html", 8);

    /* A host on VLAN 100 (tagged both ways on the trunk). */
    conn_init(&c, &s, &r, 6, g_mac_dell, "192.0.2.30", eph_port(&r), g_gw_mac, "198.51.100.80",
              80, at(52.0), 15000);
    c.vlan = 100;
    app_http(&c, "www.example.org", "/", 4);

    conn_init(&c, &s, &r, 17, g_mac_apple, "192.0.2.13", eph_port(&r), g_gw_mac,
              "198.51.100.53", 53, at(70.0), 9000);
    app_dns(&c, "www.example.net", 1, "203.0.113.30");
    conn_init(&c, &s, &r, 6, g_mac_apple, "192.0.2.13", eph_port(&r), g_gw_mac, "203.0.113.30",
              443, at(70.012), 35000);
    app_tls(&c, "www.example.net");

    conn_init(&c, &s, &r, 17, g_mac_intel, "192.0.2.10", eph_port(&r), g_gw_mac,
              "198.51.100.53", 53, at(110.0), 10000);
    app_dns(&c, "www.example.org", 1, "198.51.100.80");
    conn_init(&c, &s, &r, 6, g_mac_intel, "192.0.2.10", eph_port(&r), g_gw_mac, "198.51.100.80",
              80, at(110.013), 15000);
    app_http(&c, "www.example.org", "/about/", 6);

    conn_init(&c, &s, &r, 1, g_mac_apple, "192.0.2.11", 0, g_gw_mac, "198.51.100.1", 0,
              at(150.0), 2000);
    app_ping(&c, 3);

    conn_init(&c, &s, &r, 6, g_mac_apple, "192.0.2.11", eph_port(&r), g_gw_mac, "203.0.113.10",
              443, at(162.0), 24000);
    app_tls(&c, "www.example.com");

    conn_init(&c, &s, &r, 17, g_mac_dell, "2001:db8:100::10", eph_port(&r), g_gw_mac,
              "2001:db8:53::53", 53, at(185.0), 8000);
    app_dns(&c, "www.example.net", 28, "2001:db8:80::30");
    conn_init(&c, &s, &r, 17, g_mac_rpi, "192.0.2.12", eph_port(&r), g_gw_mac, "198.51.100.53",
              53, at(199.2), 12000);
    app_dns(&c, "example.com", 1, "203.0.113.10");

    if (s.overflow) {
        snprintf(err, errlen, "%s: sample outgrew its buffers", path);
        return -ENOBUFS;
    }
    qsort(recs, s.n, sizeof(recs[0]), rec_cmp);
    if ((rc = pw_open(&w, path, DLT_EN10MB, SNAPLEN_MAX, err, errlen)) != 0)
        return rc;
    for (size_t i = 0; i < s.n; i++)
        pw_packet(&w, recs[i].ts, arena + recs[i].off, recs[i].caplen, recs[i].len);
    return pw_close(&w, path, err, errlen);
}

/* ------------------------------------------------------------------------ edge-case captures */

#define EDGE_T0 (1717243200ULL * US_PER_S) /* 2024-06-01 12:00:00 UTC */

/* One capture being written: the good UDP flow plus the class's odd packets. */
struct edge {
    struct pw w;
    struct sink s;
    struct conn good;
    struct rng r;
    uint64_t t;
    unsigned nbad;
};

static const uint8_t g_bad_mac[6] = {0x3c, 0xfd, 0xfe, 0x00, 0x00, 0x02};
static const char *const g_bad_src = "192.0.2.2";
static const char *const g_bad_dst = "198.51.100.2";
static const char *const g_bad_src6 = "2001:db8::2";
static const char *const g_bad_dst6 = "2001:db8:1::2";

/* One datagram of the good flow (192.0.2.1:40000 <-> 198.51.100.1:5000). */
static void
edge_good(struct edge *e, int dir)
{
    uint8_t data[32];

    memset(data, 'a' + (int)(e->good.ip_id[dir] % 26), sizeof(data));
    e->good.t = e->t;
    udp_send(&e->good, dir, data, sizeof(data));
    e->t += 1000;
}

/* An odd packet: nbad counts the ones the manifest names; the others are context. */
static void
edge_raw(struct edge *e, const uint8_t *p, uint32_t caplen, uint32_t len, bool bad)
{
    sink_packet(&e->s, e->t, p, caplen, len);
    e->t += 1000;
    if (bad)
        e->nbad++;
}

static void
edge_bad(struct edge *e, const uint8_t *p, size_t len)
{
    edge_raw(e, p, (uint32_t)len, (uint32_t)len, true);
}

/* Ethernet + IPv4 (IHL 5) for the bad endpoints; returns the L4 offset. */
static size_t
mk_ip4(uint8_t *b, uint16_t vlan, uint8_t proto, uint16_t l4len, uint16_t frag)
{
    uint8_t src[16], dst[16];
    size_t off = put_eth(b, g_gw_mac, g_bad_mac, vlan, ET_IPV4);

    parse_ip(src, g_bad_src);
    parse_ip(dst, g_bad_dst);
    put_ip4(b + off, src, dst, proto, (uint16_t)(20 + l4len), 0x1234, 64, frag);
    return off + 20;
}

/* Ethernet + IPv6 for the bad endpoints; returns the offset after the fixed header. */
static size_t
mk_ip6(uint8_t *b, uint8_t nxt, uint16_t plen)
{
    uint8_t src[16], dst[16];
    size_t off = put_eth(b, g_gw_mac, g_bad_mac, 0, ET_IPV6);

    parse_ip(src, g_bad_src6);
    parse_ip(dst, g_bad_dst6);
    put_ip6(b + off, src, dst, nxt, plen, 64, 0x12345);
    return off + 40;
}

/* A complete, valid IPv4 UDP frame of the bad endpoints with n payload bytes ('x'). */
static size_t
mk_udp4(uint8_t *b, uint16_t sport, uint16_t dport, size_t n)
{
    size_t l4 = mk_ip4(b, 0, 17, (uint16_t)(8 + n), 0);
    uint8_t src[16], dst[16];

    parse_ip(src, g_bad_src);
    parse_ip(dst, g_bad_dst);
    put_udp(b + l4, sport, dport, (uint16_t)(8 + n));
    memset(b + l4 + 8, 'x', n);
    put_l4_csum(b + l4, 8 + n, 6, false, src, dst, 17);
    return l4 + 8 + n;
}

/* A complete, valid IPv4 TCP frame (ACK|PSH, n payload bytes) of the bad endpoints. */
static size_t
mk_tcp4(uint8_t *b, size_t n)
{
    size_t l4 = mk_ip4(b, 0, 6, (uint16_t)(20 + n), 0x4000);
    uint8_t src[16], dst[16];

    parse_ip(src, g_bad_src);
    parse_ip(dst, g_bad_dst);
    put_tcp(b + l4, 41000, 6000, 1000, 2000, TH_ACK | TH_PSH, 502, NULL, 0);
    memset(b + l4 + 20, 'y', n);
    put_l4_csum(b + l4, 20 + n, 16, false, src, dst, 6);
    return l4 + 20 + n;
}

/* IPv6 UDP with n payload bytes, checksummed, after ext bytes of extension headers. */
static size_t
mk_udp6_ext(uint8_t *b, uint8_t first_nxt, const uint8_t *ext, size_t extlen, size_t n)
{
    size_t off = mk_ip6(b, first_nxt, (uint16_t)(extlen + 8 + n));
    uint8_t src[16], dst[16];

    parse_ip(src, g_bad_src6);
    parse_ip(dst, g_bad_dst6);
    if (extlen > 0)
        memcpy(b + off, ext, extlen);
    off += extlen;
    put_udp(b + off, 41000, 6000, (uint16_t)(8 + n));
    memset(b + off + 8, 'A', n);
    put_l4_csum(b + off, 8 + n, 6, true, src, dst, 17);
    return off + 8 + n;
}

static void
ec_eth_short(struct edge *e)
{
    static const uint32_t lens[] = {0, 6, 13, 14, 20, 27};
    uint8_t *b = g_frame;

    mk_udp4(b, 41000, 6000, 20);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        edge_bad(e, b, lens[i]);
}

static void
ec_ip_short(struct edge *e)
{
    uint8_t *b = g_frame;

    mk_udp4(b, 41000, 6000, 20);
    for (uint32_t n = 28; n < 34; n += 2)
        edge_bad(e, b, n);
}

/* Frames made of 802.1Q tags whose inner type is 0x8100 again, to the end of the capture. */
static void
ec_vlan_short(struct edge *e)
{
    static const uint32_t lens[] = {30, 32, 45, 61};
    uint8_t *b = g_frame;

    put_eth(b, g_gw_mac, g_bad_mac, 0, ET_VLAN);
    for (size_t off = 14; off + 4 <= 64; off += 4) {
        put_be16(b + off, 100);
        put_be16(b + off + 2, ET_VLAN);
    }
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        edge_bad(e, b, lens[i]);
}

/* 20 stacked tags (VIDs 1..20) in front of a valid UDP datagram. */
static void
ec_vlan_stack_20(struct edge *e)
{
    uint8_t inner[128], *b = g_frame;
    size_t n = mk_udp4(inner, 41000, 6000, 24);

    memcpy(b, inner, 12);
    put_be16(b + 12, ET_VLAN);
    for (int i = 0; i < 20; i++) {
        put_be16(b + 14 + 4 * i, (uint16_t)(i + 1));
        put_be16(b + 16 + 4 * i, i < 19 ? ET_VLAN : ET_IPV4);
    }
    memcpy(b + 14 + 80, inner + 14, n - 14);
    for (int i = 0; i < 3; i++)
        edge_bad(e, b, n + 80);
}

/* MPLS labels without the bottom-of-stack bit up to the end of the frame. */
static void
ec_mpls_no_bos(struct edge *e)
{
    static const uint32_t lens[] = {60, 100, 200};
    uint8_t *b = g_frame;

    put_eth(b, g_gw_mac, g_bad_mac, 0, ET_MPLS);
    for (uint32_t off = 14, label = 16; off + 4 <= 200; off += 4, label++)
        put_be32(b + off, label << 12 | 64); /* TC 0, S 0, TTL 64 */
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        edge_bad(e, b, lens[i]);
}

/* Two VLAN tags, then an MPLS ethertype with fewer than five bytes left for the label. */
static void
ec_mpls_short(struct edge *e)
{
    uint8_t *b = g_frame;

    put_eth(b, g_gw_mac, g_bad_mac, 0, ET_VLAN);
    put_be16(b + 14, 10);
    put_be16(b + 16, ET_VLAN);
    put_be16(b + 18, 20);
    put_be16(b + 20, ET_VLAN);
    put_be16(b + 22, 30);
    put_be16(b + 24, ET_MPLS);
    put_be32(b + 26, 16u << 12 | 1u << 8 | 64);
    for (uint32_t n = 28; n <= 30; n++)
        edge_bad(e, b, n);
}

/* ARP request and reply (padded to 60 bytes) and an LLDP frame. */
static void
ec_non_ip(struct edge *e)
{
    uint8_t *b = g_frame;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t sip[16], tip[16];

    parse_ip(sip, g_bad_src);
    parse_ip(tip, "192.0.2.254");
    for (int reply = 0; reply < 2; reply++) {
        memset(b, 0, 60);
        put_eth(b, reply ? g_bad_mac : bcast, reply ? g_gw_mac : g_bad_mac, 0, ET_ARP);
        put_be16(b + 14, 1);
        put_be16(b + 16, ET_IPV4);
        b[18] = 6;
        b[19] = 4;
        put_be16(b + 20, reply ? 2 : 1);
        memcpy(b + 22, reply ? g_gw_mac : g_bad_mac, 6);
        memcpy(b + 28, reply ? tip : sip, 4);
        if (reply)
            memcpy(b + 32, g_bad_mac, 6);
        memcpy(b + 38, reply ? sip : tip, 4);
        edge_bad(e, b, 60);
    }
    static const uint8_t lldp_mc[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e};
    struct bb l;
    memset(b, 0, 64);
    put_eth(b, lldp_mc, g_gw_mac, 0, ET_LLDP);
    bb_init(&l, b + 14, 64);
    bb_u16(&l, 1 << 9 | 7); /* chassis id: MAC */
    bb_u8(&l, 4);
    bb_mem(&l, g_gw_mac, 6);
    bb_u16(&l, 2 << 9 | 4); /* port id: local "Gi1" */
    bb_u8(&l, 7);
    bb_str(&l, "Gi1");
    bb_u16(&l, 3 << 9 | 2); /* TTL 120 */
    bb_u16(&l, 120);
    bb_u16(&l, 0);
    edge_bad(e, b, 14 + l.len < 60 ? 60 : 14 + l.len);
}

/* An IEEE 802.3 frame with LLC DSAP/SSAP 0x42: a spanning-tree BPDU. */
static void
ec_llc_stp(struct edge *e)
{
    static const uint8_t stp_mc[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};
    uint8_t *b = g_frame;

    memset(b, 0, 60);
    memcpy(b, stp_mc, 6);
    memcpy(b + 6, g_gw_mac, 6);
    put_be16(b + 12, 3 + 35);
    b[14] = 0x42;
    b[15] = 0x42;
    b[16] = 0x03;
    /* Configuration BPDU: protocol 0, version 0, type 0, root and bridge ids, costs, timers. */
    b[21] = 0x80;
    memcpy(b + 23, g_gw_mac, 6);
    b[33] = 0x80;
    memcpy(b + 35, g_gw_mac, 6);
    put_be16(b + 41, 0x8001);
    put_be16(b + 45, 20 * 256);
    put_be16(b + 47, 2 * 256);
    put_be16(b + 49, 15 * 256);
    for (int i = 0; i < 3; i++)
        edge_bad(e, b, 60);
}

/* TCP segments whose IHL is 0..4: NFStream reads the L4 header inside the IP header. */
static void
ec_ipv4_ihl_small(struct edge *e)
{
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        uint8_t *b = g_frame;
        size_t n = mk_tcp4(b, 0);
        b[14] = (uint8_t)(0x40 | ihl);
        put_be16(b + 14 + 4, (uint16_t)(0x2000 + ihl));
        fix_ip4_csum(b + 14, 20);
        edge_bad(e, b, n < 60 ? 60 : n);
    }
}

/* IHL 11, 13, 15 with only 40 bytes of IPv4 captured. */
static void
ec_ipv4_ihl_past_caplen(struct edge *e)
{
    for (uint8_t ihl = 11; ihl <= 15; ihl += 2) {
        uint8_t *b = g_frame;
        size_t n = mk_tcp4(b, 0);
        b[14] = (uint8_t)(0x40 | ihl);
        edge_bad(e, b, n);
    }
}

static void
totlen_case(struct edge *e, const uint16_t *totlens, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint8_t *b = g_frame;
        size_t n = mk_tcp4(b, 6);
        put_be16(b + 16, totlens[i]);
        fix_ip4_csum(b + 14, 20);
        edge_bad(e, b, n < 60 ? 60 : n);
    }
}

static void
ec_ipv4_totlen_lt_hlen(struct edge *e)
{
    static const uint16_t t[] = {1, 10, 19};
    totlen_case(e, t, 3);
}

static void
ec_ipv4_totlen_zero(struct edge *e)
{
    static const uint16_t t[] = {0, 0, 0};
    totlen_case(e, t, 3);
}

/* Total length 1500 in 60-byte frames (caplen == len): NFStream meters the claimed size. */
static void
ec_ipv4_totlen_gt_frame(struct edge *e)
{
    static const uint16_t t[] = {1500, 1500, 1000};
    totlen_case(e, t, 3);
}

/* UDP datagrams of 1 byte in frames padded to 60 bytes. */
static void
ec_ipv4_padding(struct edge *e)
{
    for (int i = 0; i < 3; i++) {
        uint8_t *b = g_frame;
        size_t n = mk_udp4(b, 41000, 6000, 1);
        memset(b + n, 0, 60 - n);
        edge_bad(e, b, 60);
    }
}

static void
ec_ipv6_short(struct edge *e)
{
    static const uint32_t lens[] = {34, 40, 53};
    uint8_t *b = g_frame;

    mk_udp6_ext(b, 17, NULL, 0, 16);
    for (size_t i = 0; i < 3; i++)
        edge_bad(e, b, lens[i]);
}

static void
ec_ipv6_paylen_gt_captured(struct edge *e)
{
    uint8_t *b = g_frame;
    size_t n = mk_udp6_ext(b, 17, NULL, 0, 20);

    put_be16(b + 14 + 4, 1000);
    for (int i = 0; i < 3; i++)
        edge_bad(e, b, n);
}

/* count Destination Options headers (8 bytes each, PadN) in front of UDP. */
static void
ext_chain(struct edge *e, unsigned count)
{
    static uint8_t ext[8 * 128];

    for (unsigned i = 0; i < count; i++) {
        uint8_t *h = ext + 8 * i;
        h[0] = i + 1 < count ? 60 : 17;
        h[1] = 0;
        h[2] = 1; /* PadN */
        h[3] = 4;
        memset(h + 4, 0, 4);
    }
    for (int i = 0; i < 3; i++) {
        size_t n = mk_udp6_ext(g_frame, 60, ext, 8 * count, 16);
        edge_bad(e, g_frame, n);
    }
}

static void
ec_ipv6_ext_chain_50(struct edge *e)
{
    ext_chain(e, 50);
}

static void
ec_ipv6_ext_chain_100(struct edge *e)
{
    ext_chain(e, 100);
}

/* Hop-by-hop, and a destination-options header after it, claiming more than the packet. */
static void
ec_ipv6_ext_past_end(struct edge *e)
{
    uint8_t ext[16] = {17, 100, 1, 4, 0, 0, 0, 0};
    size_t n = mk_udp6_ext(g_frame, 0, ext, 8, 8);

    edge_bad(e, g_frame, n);
    edge_bad(e, g_frame, n);
    uint8_t ext2[16] = {60, 0, 1, 4, 0, 0, 0, 0, 17, 200, 1, 4, 0, 0, 0, 0};
    n = mk_udp6_ext(g_frame, 0, ext2, 16, 8);
    edge_bad(e, g_frame, n);
}

/* A UDP datagram sent as IPv6 fragments: the first is metered, the others are not. */
static void
ec_ipv6_frag_nonfirst(struct edge *e)
{
    uint8_t ext[8] = {17, 0, 0, 0, 0, 0, 0x4e, 0x21};
    size_t n;

    put_be16(ext + 2, 0 << 3 | 1); /* offset 0, M */
    n = mk_udp6_ext(g_frame, 44, ext, 8, 1232);
    put_be16(g_frame + 54 + 8 + 4, 8 + 3000); /* the UDP length of the whole datagram */
    edge_raw(e, g_frame, (uint32_t)n, (uint32_t)n, false);
    for (uint16_t off = 1240; off < 3008; off += 1240) {
        uint8_t *b = g_frame;
        size_t plen = off + 1240 < 3008 ? 1240 : 3008 - off;
        size_t o = mk_ip6(b, 44, (uint16_t)(8 + plen));
        b[o] = 17;
        b[o + 1] = 0;
        put_be16(b + o + 2, (uint16_t)(off | (off + 1240 < 3008 ? 1 : 0)));
        memcpy(b + o + 4, ext + 4, 4);
        memset(b + o + 8, 'A', plen);
        edge_bad(e, b, o + 8 + plen);
    }
}

/* No Next Header (59) followed by data, directly and after a hop-by-hop header. */
static void
ec_ipv6_nnh_data(struct edge *e)
{
    uint8_t *b = g_frame;
    size_t o = mk_ip6(b, 59, 20);

    memset(b + o, 'n', 20);
    edge_bad(e, b, o + 20);
    o = mk_ip6(b, 0, 28);
    uint8_t hbh[8] = {59, 0, 1, 4, 0, 0, 0, 0};
    memcpy(b + o, hbh, 8);
    memset(b + o + 8, 'n', 20);
    edge_bad(e, b, o + 28);
}

/* Data offsets 0, 2, 4 (below the 20-byte minimum) on a segment with 20 payload bytes. */
static void
ec_tcp_doff_small(struct edge *e)
{
    for (uint8_t doff = 0; doff < 5; doff += 2) {
        uint8_t *b = g_frame;
        size_t n = mk_tcp4(b, 20);
        b[34 + 12] = (uint8_t)(doff << 4);
        edge_bad(e, b, n);
    }
}

/* TCP with 8 and 12 bytes of header left (ports, sequence number, ...): port-0 flow. */
static void
ec_tcp_short(struct edge *e)
{
    static const uint16_t keep[] = {8, 12, 8};

    for (size_t i = 0; i < 3; i++) {
        uint8_t *b = g_frame;
        mk_tcp4(b, 0);
        put_be16(b + 16, (uint16_t)(20 + keep[i]));
        fix_ip4_csum(b + 14, 20);
        edge_bad(e, b, 34 + keep[i]);
    }
}

/* UDP with only its 4 port bytes, in frames padded to 60 (as a switch port sees them). */
static void
ec_udp_short(struct edge *e)
{
    for (int i = 0; i < 3; i++) {
        uint8_t *b = g_frame;
        mk_udp4(b, 41000, 6000, 0);
        put_be16(b + 16, 24);
        fix_ip4_csum(b + 14, 20);
        memset(b + 38, 0, 22);
        edge_bad(e, b, 60);
    }
}

/* The same datagrams unpadded: the frame ends inside the UDP header. */
static void
ec_udp_short_unpadded(struct edge *e)
{
    for (int i = 0; i < 3; i++) {
        uint8_t *b = g_frame;
        mk_udp4(b, 41000, 6000, 0);
        put_be16(b + 16, 24);
        fix_ip4_csum(b + 14, 20);
        edge_bad(e, b, 38);
    }
}

/* ICMP echo requests cut to 4 bytes (type, code, checksum). */
static void
ec_icmp_short(struct edge *e)
{
    for (int i = 0; i < 3; i++) {
        uint8_t *b = g_frame;
        size_t l4 = mk_ip4(b, 0, 1, 4, 0);
        b[l4] = 8;
        b[l4 + 1] = 0;
        put_be16(b + l4 + 2, 0);
        put_be16(b + l4 + 2, csum_fold(csum_add(0, b + l4, 4)));
        memset(b + l4 + 4, 0, 60 - (l4 + 4));
        edge_bad(e, b, 60);
    }
}

/* GTP-U T-PDU around an inner IPv4/UDP packet; flags and the bytes after the 8-byte GTP
 * header are the caller's. Returns the frame length. */
static size_t
mk_gtp(uint8_t *b, uint8_t flags, const uint8_t *opt, size_t optlen, const uint8_t *inner,
       size_t innerlen)
{
    size_t gl = 8 + optlen + innerlen;
    size_t l4 = mk_ip4(b, 0, 17, (uint16_t)(8 + gl), 0);
    uint8_t *g = b + l4 + 8;
    uint8_t src[16], dst[16];

    put_udp(b + l4, 2152, 2152, (uint16_t)(8 + gl));
    g[0] = flags;
    g[1] = 0xff;
    put_be16(g + 2, (uint16_t)(gl - 8));
    put_be32(g + 4, 0x0badcafe);
    if (optlen > 0)
        memcpy(g + 8, opt, optlen);
    memcpy(g + 8 + optlen, inner, innerlen);
    parse_ip(src, g_bad_src);
    parse_ip(dst, g_bad_dst);
    put_l4_csum(b + l4, 8 + gl, 6, false, src, dst, 17);
    return l4 + 8 + gl;
}

/* An extension header of length 0 (the chain cannot advance): metered as the outer UDP flow. */
static void
ec_gtp_ext_zero_len(struct edge *e)
{
    uint8_t inner[128], opt[8] = {0, 0, 0, 0x85, 0, 0, 0, 0};
    size_t n = mk_udp4(inner, 1234, 5678, 20);

    for (int i = 0; i < 3; i++) {
        size_t len = mk_gtp(g_frame, 0x34, opt, 8, inner + 14, n - 14);
        edge_bad(e, g_frame, len);
    }
}

/* Inner packets whose version nibble is 0, 5 or 7, and an inner IPv6 cut below 40 bytes. */
static void
ec_gtp_bad_inner(struct edge *e)
{
    uint8_t inner[128];
    static const uint8_t vers[] = {0x05, 0x55, 0x75};

    for (size_t i = 0; i < sizeof(vers); i++) {
        size_t n = mk_udp4(inner, 1234, 5678, 20);
        inner[14] = vers[i];
        size_t len = mk_gtp(g_frame, 0x30, NULL, 0, inner + 14, n - 14);
        edge_bad(e, g_frame, len);
    }
    memset(inner, 0, 30);
    inner[0] = 0x60;
    size_t len = mk_gtp(g_frame, 0x30, NULL, 0, inner, 30);
    edge_bad(e, g_frame, len);
}

/* 100 nested IPv4-in-IPv4 headers around a UDP datagram. */
static void
ec_ipip_nested_100(struct edge *e)
{
    uint8_t src[16], dst[16];
    uint8_t *b = g_frame;
    size_t depth = 100, off = put_eth(b, g_gw_mac, g_bad_mac, 0, ET_IPV4);
    size_t total = depth * 20 + 8 + 16;

    parse_ip(src, g_bad_src);
    parse_ip(dst, g_bad_dst);
    for (size_t i = 0; i < depth; i++) {
        put_ip4(b + off + 20 * i, src, dst, i + 1 < depth ? 4 : 17,
                (uint16_t)(total - 20 * i), (uint16_t)i, 64, 0);
    }
    size_t l4 = off + 20 * depth;
    put_udp(b + l4, 41000, 6000, 24);
    memset(b + l4 + 8, 'z', 16);
    put_l4_csum(b + l4, 24, 6, false, src, dst, 17);
    edge_bad(e, b, l4 + 24);
    edge_bad(e, b, l4 + 24);
}

/* Two 3000-byte UDP datagrams in three IPv4 fragments each. */
static void
ec_frag_v4(struct edge *e)
{
    for (int d = 0; d < 2; d++) {
        for (uint16_t off = 0; off < 3008; off += 1480) {
            uint8_t *b = g_frame;
            size_t n = off + 1480 < 3008 ? 1480 : 3008 - off;
            uint16_t frag = (uint16_t)((off + 1480 < 3008 ? 0x2000 : 0) | off / 8);
            size_t l4 = mk_ip4(b, 0, 17, (uint16_t)n, frag);
            put_be16(b + 18, (uint16_t)(0x3000 + d));
            fix_ip4_csum(b + 14, 20);
            memset(b + l4, 'f', n);
            if (off == 0)
                put_udp(b + l4, 41000, 6000, 3008);
            edge_raw(e, b, (uint32_t)(l4 + n), (uint32_t)(l4 + n), off != 0);
        }
    }
}

/* TCP sent as a tiny first fragment (8 bytes: ports and sequence number) and a second
 * fragment holding the rest of the header: the classic filter-evasion layout. */
static void
ec_tiny_first_frag(struct edge *e)
{
    for (int d = 0; d < 2; d++) {
        uint8_t seg[128], *b = g_frame;
        size_t n = mk_tcp4(seg, 12);
        const uint8_t *tcp = seg + 34;
        size_t l4 = mk_ip4(b, 0, 6, 8, 0x2000);
        put_be16(b + 18, (uint16_t)(0x4000 + d));
        fix_ip4_csum(b + 14, 20);
        memcpy(b + l4, tcp, 8);
        edge_raw(e, b, (uint32_t)(l4 + 8), (uint32_t)(l4 + 8), false);
        size_t rest = n - 34 - 8;
        l4 = mk_ip4(b, 0, 6, (uint16_t)rest, 1);
        put_be16(b + 18, (uint16_t)(0x4000 + d));
        fix_ip4_csum(b + 14, 20);
        memcpy(b + l4, tcp + 8, rest);
        edge_bad(e, b, l4 + rest);
    }
}

/* A UDP flow whose timestamps go back by 1 and 2 s, then forward again. */
static void
ec_ts_backwards(struct edge *e)
{
    static const int64_t dt_ms[] = {0, -1000, -2000, 5, -500};
    uint64_t base = e->t;

    for (size_t i = 0; i < sizeof(dt_ms) / sizeof(dt_ms[0]); i++) {
        size_t n = mk_udp4(g_frame, 41000, 6000, 10);
        e->t = (uint64_t)((int64_t)base + dt_ms[i] * 1000);
        edge_bad(e, g_frame, n);
    }
    e->t = base + 10000;
}

/* Timestamps 0 (1970) twice, then 2037-12-31 23:59:59 (the largest a classic pcap's signed
 * 32-bit seconds field holds), then 0 again. */
static void
ec_ts_zero_and_future(struct edge *e)
{
    static const uint64_t ts[] = {0, 0, 2145916799ULL * US_PER_S, 0};

    for (size_t i = 0; i < 4; i++) {
        size_t n = mk_udp4(g_frame, 41000, 6000, 10);
        sink_packet(&e->s, ts[i], g_frame, (uint32_t)n, (uint32_t)n);
        e->nbad++;
    }
}

/* Seconds 4102444800 (2100-01-01 if unsigned): libpcap reads the field as signed, so this is
 * 1963, and NFStream's (uint64)tv_sec * 1000 wraps to about 2^64 ms, far in the future. */
static void
ec_ts_sign_wrap(struct edge *e)
{
    for (int i = 0; i < 2; i++) {
        size_t n = mk_udp4(g_frame, 41000, 6000, 10);
        sink_packet(&e->s, 4102444800ULL * US_PER_S + (uint64_t)i * 1000, g_frame, (uint32_t)n,
                    (uint32_t)n);
        e->nbad++;
    }
}

/* Jumbo frames: 9000-byte IPv4 UDP datagrams. */
static void
ec_jumbo_9000(struct edge *e)
{
    for (int i = 0; i < 3; i++) {
        size_t n = mk_udp4(g_frame, 41000, 6000, 9000 - 28);
        edge_bad(e, g_frame, n);
    }
}

/* A TCP flow of full-size segments, captured with snaplen 64 (the file's snaplen cuts them). */
static void
ec_snaplen_64(struct edge *e)
{
    for (int i = 0; i < 4; i++) {
        size_t n = mk_tcp4(g_frame, 1460);
        edge_bad(e, g_frame, n);
    }
}

/* The same for IPv6: NFStream ignores any IPv6 packet whose payload was not fully captured. */
static void
ec_snaplen_64_v6(struct edge *e)
{
    for (int i = 0; i < 4; i++) {
        size_t n = mk_udp6_ext(g_frame, 17, NULL, 0, 1200);
        edge_bad(e, g_frame, n);
    }
}

/* Linux USB captures (DLT_USB_LINUX): 48-byte URB headers with 16 bytes of data. */
static void
ec_linktype_usb(struct edge *e)
{
    uint8_t *b = g_frame;

    for (int i = 0; i < 4; i++) {
        memset(b, 0, 64);
        uint64_t id = 0xffff8881c0a1b200ULL + (uint64_t)i;
        for (int k = 0; k < 8; k++)
            b[k] = (uint8_t)(id >> (8 * k)); /* little-endian, as the kernel writes it */
        b[8] = i % 2 == 0 ? 'S' : 'C';
        b[9] = 3;    /* interrupt transfer */
        b[10] = 0x81; /* endpoint 1 IN */
        b[11] = 2;   /* device */
        b[12] = 1;   /* bus */
        b[36] = 16;  /* urb length */
        b[40] = 16;  /* data length */
        memset(b + 48, 0x11 * i, 16);
        edge_bad(e, b, 64);
    }
}

/* --------------------------------------------------------------------- hand-written captures */

/* A pcap written byte by byte: any magic and byte order, and records libpcap would refuse. */
struct rawf {
    FILE *f;
    bool be;
};

static void
raw_u32(struct rawf *r, uint32_t v)
{
    uint8_t b[4];

    if (r->be) {
        put_be32(b, v);
    } else {
        for (int i = 0; i < 4; i++)
            b[i] = (uint8_t)(v >> (8 * i));
    }
    fwrite(b, 1, 4, r->f);
}

static void
raw_u16(struct rawf *r, uint16_t v)
{
    uint8_t b[2];

    if (r->be)
        put_be16(b, v);
    else
        b[0] = (uint8_t)v, b[1] = (uint8_t)(v >> 8);
    fwrite(b, 1, 2, r->f);
}

static void
raw_hdr(struct rawf *r, uint32_t magic, uint32_t linktype)
{
    raw_u32(r, magic);
    raw_u16(r, 2);
    raw_u16(r, 4);
    raw_u32(r, 0);
    raw_u32(r, 0);
    raw_u32(r, SNAPLEN_MAX);
    raw_u32(r, linktype);
}

/* A record header and n data bytes (n may differ from caplen on purpose). */
static void
raw_rec(struct rawf *r, uint64_t sec, uint32_t frac, uint32_t caplen, uint32_t len,
        const uint8_t *data, size_t n)
{
    raw_u32(r, (uint32_t)sec);
    raw_u32(r, frac);
    raw_u32(r, caplen);
    raw_u32(r, len);
    fwrite(data, 1, n, r->f);
}

/* The good flow collected in memory, for the hand-written files. */
static struct rec g_good_recs[8];
static uint8_t g_good_arena[1024];

static size_t
good_records(void)
{
    struct edge e;

    memset(&e, 0, sizeof(e));
    e.s.recs = g_good_recs;
    e.s.max = 8;
    e.s.arena = g_good_arena;
    e.s.cap = sizeof(g_good_arena);
    e.r.s = 0x676f6f64ULL;
    e.t = EDGE_T0;
    conn_init(&e.good, &e.s, &e.r, 17, g_mac_intel, "192.0.2.1", 40000, g_gw_mac, "198.51.100.1",
              5000, e.t, 2000);
    e.good.pad = false;
    edge_good(&e, CLI);
    edge_good(&e, SRV);
    edge_good(&e, CLI);
    edge_good(&e, SRV);
    return e.s.n;
}

enum rawkind {
    RAW_EMPTY,
    RAW_HEADER_ONLY,
    RAW_GARBAGE,
    RAW_CUT_LAST,
    RAW_CAPLEN_HUGE,
    RAW_CAPLEN_GT_LEN,
    RAW_NS,
    RAW_BIGENDIAN,
    RAW_PCAPNG,
};

static void
pcapng_block(FILE *f, uint32_t type, const uint8_t *body, size_t n)
{
    uint8_t h[8];
    uint32_t total = (uint32_t)(12 + ((n + 3) & ~(size_t)3));
    static const uint8_t zero[4];

    for (int i = 0; i < 4; i++) {
        h[i] = (uint8_t)(type >> (8 * i));
        h[4 + i] = (uint8_t)(total >> (8 * i));
    }
    fwrite(h, 1, 8, f);
    fwrite(body, 1, n, f);
    fwrite(zero, 1, ((n + 3) & ~(size_t)3) - n, f);
    fwrite(h + 4, 1, 4, f);
}

static void
le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void
le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* Section header, one Ethernet interface (microsecond resolution), enhanced packet blocks. */
static void
write_pcapng(FILE *f, size_t ngood)
{
    uint8_t body[2048];
    static const char appl[] = "mkpcap (nfprobe tests)";

    memset(body, 0, sizeof(body));
    le32(body, 0x1a2b3c4d);
    le16(body + 4, 1);
    le16(body + 6, 0);
    memset(body + 8, 0xff, 8); /* section length unknown */
    le16(body + 16, 4);        /* shb_userappl */
    le16(body + 18, sizeof(appl) - 1);
    memcpy(body + 20, appl, sizeof(appl) - 1);
    size_t n = 20 + ((sizeof(appl) - 1 + 3) & ~(size_t)3);
    le32(body + n, 0); /* opt_endofopt */
    pcapng_block(f, 0x0a0d0d0a, body, n + 4);

    memset(body, 0, 32);
    le16(body, DLT_EN10MB);
    le32(body + 4, SNAPLEN_MAX);
    le16(body + 8, 9); /* if_tsresol: 10^-6 */
    le16(body + 10, 1);
    body[12] = 6;
    le32(body + 16, 0);
    pcapng_block(f, 1, body, 20);

    for (size_t i = 0; i < ngood; i++) {
        const struct rec *r = &g_good_recs[i];
        memset(body, 0, 20);
        le32(body + 4, (uint32_t)(r->ts >> 32));
        le32(body + 8, (uint32_t)r->ts);
        le32(body + 12, r->caplen);
        le32(body + 16, r->len);
        memcpy(body + 20, g_good_arena + r->off, r->caplen);
        pcapng_block(f, 6, body, 20 + r->caplen);
    }
}

static int
write_raw(const char *path, enum rawkind kind, unsigned *nbad, char *err, size_t errlen)
{
    struct rawf r = {NULL, kind == RAW_BIGENDIAN};
    size_t ngood = good_records();
    int rc = 0;

    *nbad = 0;
    r.f = fopen(path, "wb");
    if (r.f == NULL) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    switch (kind) {
    case RAW_EMPTY:
        break;
    case RAW_HEADER_ONLY:
        raw_hdr(&r, 0xa1b2c3d4, DLT_EN10MB);
        break;
    case RAW_GARBAGE: {
        uint8_t junk[4096];
        struct rng g = {0x6761726261676521ULL};
        rng_fill(&g, junk, sizeof(junk));
        memcpy(junk, "GARB", 4); /* never a pcap or pcapng magic */
        fwrite(junk, 1, sizeof(junk), r.f);
        break;
    }
    case RAW_PCAPNG:
        write_pcapng(r.f, ngood);
        break;
    default: {
        bool ns = kind == RAW_NS;
        raw_hdr(&r, ns ? 0xa1b23c4d : 0xa1b2c3d4, DLT_EN10MB);
        for (size_t i = 0; i < ngood; i++) {
            const struct rec *g = &g_good_recs[i];
            uint32_t frac = (uint32_t)(g->ts % US_PER_S);
            raw_rec(&r, g->ts / US_PER_S, ns ? frac * 1000 + 789 : frac, g->caplen, g->len,
                    g_good_arena + g->off, g->caplen);
        }
        uint64_t t = g_good_recs[ngood - 1].ts + 1000;
        size_t n = mk_udp4(g_frame, 41000, 6000, 32);
        if (kind == RAW_CUT_LAST) {
            raw_rec(&r, t / US_PER_S, (uint32_t)(t % US_PER_S), (uint32_t)n, (uint32_t)n,
                    g_frame, n / 2);
            *nbad = 1;
        } else if (kind == RAW_CAPLEN_HUGE) {
            raw_rec(&r, t / US_PER_S, (uint32_t)(t % US_PER_S), 300000, 300000, g_frame, n);
            *nbad = 1;
        } else if (kind == RAW_CAPLEN_GT_LEN) {
            raw_rec(&r, t / US_PER_S, (uint32_t)(t % US_PER_S), (uint32_t)n, 60, g_frame, n);
            *nbad = 1;
        }
        break;
    }
    }
    if (fflush(r.f) != 0 || ferror(r.f)) {
        rc = -EIO;
        snprintf(err, errlen, "%s: write error", path);
    }
    fclose(r.f);
    return rc;
}

/* ------------------------------------------------------------------------------ edge driver */

/* One malformed-input class. good_flows is the number of flows nfprobe must report with its
 * default options (the good UDP flow plus any flow the metered odd packets form); counter is
 * the decoder counter that must count exactly the odd packets, or "metered" when NFStream's
 * rules meter them. */
struct edge_class {
    const char *name;
    int dlt;
    uint32_t snaplen;
    bool trailing_good; /* a good packet after the odd ones (not after a clock jump) */
    unsigned good_flows;
    const char *counter;
    const char *desc;
    void (*gen)(struct edge *e);
};

static const struct edge_class g_edge[] = {
    {"eth_short", DLT_EN10MB, SNAPLEN_MAX, true, 1, "l2_short",
     "frames of 0-27 bytes (below link header + 28)", ec_eth_short},
    {"ip_short", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ip_short",
     "IPv4 frames of 28-33 bytes: fewer than 20 bytes at the IP header", ec_ip_short},
    {"vlan_short", DLT_EN10MB, SNAPLEN_MAX, true, 1, "vlan_short",
     "802.1Q tags (inner type 0x8100) up to the end of the frame", ec_vlan_short},
    {"vlan_stack_20", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "20 stacked 802.1Q tags before IPv4/UDP: walked, innermost VID 20 kept", ec_vlan_stack_20},
    {"mpls_no_bos", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ip_short",
     "MPLS labels without bottom-of-stack to the end: the walk stops, no IP header left",
     ec_mpls_no_bos},
    {"mpls_short", DLT_EN10MB, SNAPLEN_MAX, true, 1, "mpls_short",
     "VLAN tags then ethertype MPLS with no room for a label", ec_mpls_short},
    {"non_ip", DLT_EN10MB, SNAPLEN_MAX, true, 1, "non_ip",
     "ARP request, ARP reply, LLDP (version nibble 0)", ec_non_ip},
    {"llc_stp", DLT_EN10MB, SNAPLEN_MAX, true, 1, "llc_stp",
     "IEEE 802.3 frames with LLC 0x42 (spanning-tree BPDUs)", ec_llc_stp},
    {"ipv4_ihl_small", DLT_EN10MB, SNAPLEN_MAX, true, 6, "metered",
     "IHL 0..4 on TCP: NFStream reads L4 inside the IP header, one flow per IHL",
     ec_ipv4_ihl_small},
    {"ipv4_ihl_past_caplen", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv4_bad_header",
     "IHL 11/13/15 with 40 bytes of IPv4 captured", ec_ipv4_ihl_past_caplen},
    {"ipv4_totlen_lt_hlen", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv4_bad_length",
     "total length 1/10/19 below the 20-byte header", ec_ipv4_totlen_lt_hlen},
    {"ipv4_totlen_gt_frame", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "total length 1000/1500 in 60-byte frames, caplen == len: sizes as claimed",
     ec_ipv4_totlen_gt_frame},
    {"ipv4_padding", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "1-byte UDP datagrams padded to 60-byte frames", ec_ipv4_padding},
    {"ipv4_totlen_zero", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv4_bad_length",
     "total length 0 (TSO-style): wraps below the header length", ec_ipv4_totlen_zero},
    {"ipv6_short", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv6_short",
     "IPv6 frames with 20-39 bytes of header", ec_ipv6_short},
    {"ipv6_paylen_gt_captured", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv6_truncated",
     "payload length 1000 with 28 bytes present, caplen == len", ec_ipv6_paylen_gt_captured},
    {"ipv6_ext_chain_50", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "50 consistent destination-options headers before UDP", ec_ipv6_ext_chain_50},
    {"ipv6_ext_chain_100", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "100 consistent destination-options headers before UDP (nDPI's walk has no count limit)",
     ec_ipv6_ext_chain_100},
    {"ipv6_ext_past_end", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv6_ext_header",
     "hop-by-hop / destination options longer than the packet", ec_ipv6_ext_past_end},
    {"ipv6_frag_nonfirst", DLT_EN10MB, SNAPLEN_MAX, true, 2, "ipv6_ext_header",
     "IPv6 fragments of one datagram: first metered, the 2 others counted",
     ec_ipv6_frag_nonfirst},
    {"ipv6_nnh_data", DLT_EN10MB, SNAPLEN_MAX, true, 1, "ipv6_ext_header",
     "No Next Header (59) followed by data, directly and after hop-by-hop", ec_ipv6_nnh_data},
    {"tcp_doff_small", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "TCP data offset 0/2/4: ports kept, payload = segment - doff*4", ec_tcp_doff_small},
    {"tcp_short", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "TCP with 8/12 header bytes: one port-0 TCP flow", ec_tcp_short},
    {"udp_short", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "UDP with 4 header bytes in 60-byte padded frames: one port-0 UDP flow", ec_udp_short},
    {"udp_short_unpadded", DLT_EN10MB, SNAPLEN_MAX, true, 1, "tunnel_short",
     "UDP with 4 header bytes, frame ends there: the tunnel check needs 8", ec_udp_short_unpadded},
    {"icmp_short", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "ICMP echo cut to 4 bytes", ec_icmp_short},
    {"gtp_ext_zero_len", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "GTP-U extension header of length 0: not decapsulated, metered as outer UDP 2152",
     ec_gtp_ext_zero_len},
    {"gtp_bad_inner", DLT_EN10MB, SNAPLEN_MAX, true, 1, "gtp_bad_inner",
     "GTP-U T-PDU with inner version 0/5/7 and a 30-byte inner IPv6", ec_gtp_bad_inner},
    {"ipip_nested_100", DLT_EN10MB, SNAPLEN_MAX, true, 1, "too_many_layers",
     "100 nested IPv4-in-IPv4 headers", ec_ipip_nested_100},
    {"frag_v4", DLT_EN10MB, SNAPLEN_MAX, true, 2, "ipv4_fragment",
     "two UDP datagrams in 3 fragments: first fragments metered, 4 others counted", ec_frag_v4},
    {"tiny_first_frag", DLT_EN10MB, SNAPLEN_MAX, true, 2, "ipv4_fragment",
     "TCP first fragments of 8 bytes (metered as a port-0 flow), 2 second fragments counted",
     ec_tiny_first_frag},
    {"ts_backwards", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "timestamps going back 1 and 2 s within a flow: clamped, all metered", ec_ts_backwards},
    {"ts_zero_and_future", DLT_EN10MB, SNAPLEN_MAX, false, 3, "metered",
     "timestamps 0, 0, 2037-12-31, 0: clamped; the jump idles the flow out, so it splits",
     ec_ts_zero_and_future},
    {"ts_sign_wrap", DLT_EN10MB, SNAPLEN_MAX, false, 2, "metered",
     "seconds field 4102444800: signed in libpcap, time_ms wraps to ~2^64 as in NFStream",
     ec_ts_sign_wrap},
    {"jumbo_9000", DLT_EN10MB, SNAPLEN_MAX, true, 2, "metered",
     "9000-byte IPv4 UDP datagrams", ec_jumbo_9000},
    {"snaplen_64", DLT_EN10MB, 64, true, 2, "metered",
     "file snaplen 64: 1514-byte TCP segments with caplen 64 < len", ec_snaplen_64},
    {"snaplen_64_v6", DLT_EN10MB, 64, true, 1, "ipv6_truncated",
     "file snaplen 64: IPv6 with its payload cut is not metered (NFStream)", ec_snaplen_64_v6},
    {"linktype_usb", DLT_USB_LINUX, SNAPLEN_MAX, false, 0, "unsupported_linktype",
     "DLT_USB_LINUX (189) URBs; no good flow possible in this link type", ec_linktype_usb},
};

/* Files libpcap must be made to read (or refuse) as they are, written by hand. */
struct raw_class {
    const char *file;
    enum rawkind kind;
    unsigned good_flows;
    const char *counter;
    const char *desc;
};

static const struct raw_class g_raw[] = {
    {"empty.pcap", RAW_EMPTY, 0, "error", "0-byte file: cannot be opened"},
    {"header_only.pcap", RAW_HEADER_ONLY, 0, "metered", "24-byte header, no records: 0 flows"},
    {"garbage.pcap", RAW_GARBAGE, 0, "error", "4 KiB of random bytes: not a capture"},
    {"cut_last_record.pcap", RAW_CUT_LAST, 1, "error",
     "last record cut in the middle: earlier flows kept, truncation reported"},
    {"caplen_huge.pcap", RAW_CAPLEN_HUGE, 1, "error",
     "record header claiming caplen 300000: libpcap error, earlier flows kept"},
    {"caplen_gt_len.pcap", RAW_CAPLEN_GT_LEN, 2, "metered",
     "a record with caplen 74 > len 60: read, metered with len as the wire size"},
    {"ns.pcap", RAW_NS, 1, "metered", "nanosecond magic a1b23c4d"},
    {"bigendian.pcap", RAW_BIGENDIAN, 1, "metered", "big-endian header and records"},
    {"pcapng.pcapng", RAW_PCAPNG, 1, "metered", "pcapng: SHB, IDB (us resolution), 4 EPBs"},
};

static int
gen_edge(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    FILE *man;
    int rc;

    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
        return rc;
    }
    snprintf(path, sizeof(path), "%s/manifest.tsv", dir);
    man = fopen(path, "w");
    if (man == NULL) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    fprintf(man, "file\tgood_flows\texpected_counter\tbad_packets\tdescription\n");
    for (size_t i = 0; i < sizeof(g_edge) / sizeof(g_edge[0]); i++) {
        const struct edge_class *ec = &g_edge[i];
        struct edge e;
        char name[128];

        memset(&e, 0, sizeof(e));
        snprintf(name, sizeof(name), "edge_%s.pcap", ec->name);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if ((rc = pw_open(&e.w, path, ec->dlt, ec->snaplen, err, errlen)) != 0)
            goto fail;
        e.s.w = &e.w;
        e.r.s = 0x65646765ULL + i;
        e.t = EDGE_T0;
        conn_init(&e.good, &e.s, &e.r, 17, g_mac_intel, "192.0.2.1", 40000, g_gw_mac,
                  "198.51.100.1", 5000, e.t, 2000);
        e.good.pad = false;
        if (ec->dlt == DLT_EN10MB) {
            edge_good(&e, CLI);
            edge_good(&e, SRV);
            edge_good(&e, CLI);
        }
        ec->gen(&e);
        if (ec->dlt == DLT_EN10MB && ec->trailing_good)
            edge_good(&e, SRV);
        if ((rc = pw_close(&e.w, path, err, errlen)) != 0)
            goto fail;
        fprintf(man, "%s\t%u\t%s\t%u\t%s\n", name, ec->good_flows, ec->counter, e.nbad,
                ec->desc);
    }
    for (size_t i = 0; i < sizeof(g_raw) / sizeof(g_raw[0]); i++) {
        unsigned nbad;
        snprintf(path, sizeof(path), "%s/%s", dir, g_raw[i].file);
        if ((rc = write_raw(path, g_raw[i].kind, &nbad, err, errlen)) != 0)
            goto fail;
        fprintf(man, "%s\t%u\t%s\t%u\t%s\n", g_raw[i].file, g_raw[i].good_flows,
                g_raw[i].counter, nbad, g_raw[i].desc);
    }
    if (fflush(man) != 0 || ferror(man)) {
        snprintf(err, errlen, "%s/manifest.tsv: write error", dir);
        rc = -EIO;
        goto fail;
    }
    rc = 0;
fail:
    fclose(man);
    return rc;
}

/* ---------------------------------------------------------------------------- bench capture */

#define BENCH_T0 (1704067200ULL * US_PER_S) /* 2024-01-01 00:00:00 UTC */
#define BENCH_SNAP 128
#define BENCH_MAX_FLOWS (1u << 24)
#define BENCH_SEG 1440 /* payload of a full segment, v4 and v6 alike */
#define FILLER_LEN 16384
#define NT 24         /* templates per kind */

enum bkind { BK_TLS, BK_HTTP, BK_DNS, BK_QUIC, BK_TCP, BK_UDP };

struct bflow {
    uint32_t npkts, sent;
    uint32_t seq[2];
    uint32_t u; /* client id, a bijection of the flow index: unique (address, port) */
    uint16_t sport;
    uint16_t ip_id;
    uint8_t kind, v6, tmpl, srv;
};

struct tmpl {
    uint16_t len;
    uint8_t data[BENCH_SEG];
};

struct bench {
    struct rng r;
    struct pw w;
    struct bflow *flows;
    uint64_t *ev, *tmp;
    uint64_t npk;
    uint32_t nfl;
    struct tmpl tls[NT], tls_srv, http[NT], http_resp, dns_q[2 * NT], dns_r[2 * NT], quic[4];
    uint8_t filler[FILLER_LEN];
    uint64_t fsum[FILLER_LEN / 2 + 1]; /* prefix sums of the filler's 16-bit words */
    /* statistics for the summary line */
    uint64_t small, large, v6pk, bytes_wire, caplen_sum;
    uint32_t alive, peak;
};

static const char *const g_hosts[NT] = {
    "www.example.com",    "api.example.com",    "cdn.example.com",     "static.example.com",
    "login.example.com",  "mail.example.com",   "img.example.com",     "video.example.com",
    "www.example.net",    "api.example.net",    "cdn.example.net",     "static.example.net",
    "auth.example.net",   "push.example.net",   "files.example.net",   "stream.example.net",
    "www.example.org",    "api.example.org",    "cdn.example.org",     "news.example.org",
    "shop.example.org",   "update.example.org", "metrics.example.org", "ws.example.org",
};

/* True for the UDP ports the decoder treats as tunnels (GTP-U, CAPWAP data, TZSP): a flow of
 * the benchmark must not turn into one by chance. */
static bool
tunnel_port(uint32_t port)
{
    return port == 2152 || port == 5247 || port == 37008;
}

/* NFStream's tunnel check reads an IPv6 UDP packet's "ports" at ip + payload length (see
 * decode.c), i.e. 40 bytes before its end. Random bytes there must not look like a tunnel port,
 * or a benchmark flow would split in two by chance. ip: the IPv6 header of a full packet. */
static bool
v6_quirk_hit(const uint8_t *ip)
{
    size_t plen6 = get_be16(ip + 4);

    return tunnel_port(get_be16(ip + plen6)) || tunnel_port(get_be16(ip + plen6 + 2));
}

static void
tmpl_set(struct tmpl *t, const uint8_t *p, size_t n)
{
    t->len = (uint16_t)(n < BENCH_SEG ? n : BENCH_SEG);
    memcpy(t->data, p, t->len);
}

/* Payload templates built once: DPI sees real first payloads, the loop only copies. */
static void
bench_templates(struct bench *B)
{
    static uint8_t buf[8192];
    static const char *const paths[4] = {"/", "/index.html", "/api/v1/status", "/img/logo.png"};
    size_t n;

    for (int i = 0; i < NT; i++) {
        n = tls_client_hello(buf, sizeof(buf), &B->r, g_hosts[i]);
        tmpl_set(&B->tls[i], buf, n);
        n = (size_t)snprintf((char *)buf, sizeof(buf),
                             "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                             "Accept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
                             "Connection: keep-alive\r\n\r\n",
                             paths[i % 4], g_hosts[i], g_user_agent);
        tmpl_set(&B->http[i], buf, n);
        for (int v6 = 0; v6 < 2; v6++) {
            uint8_t addr[16];
            parse_ip(addr, v6 ? "2001:db8:ffff::80" : "203.0.113.80");
            n = dns_message(buf, sizeof(buf), 0, g_hosts[i], v6 ? 28 : 1, NULL);
            tmpl_set(&B->dns_q[2 * i + v6], buf, n);
            n = dns_message(buf, sizeof(buf), 0, g_hosts[i], v6 ? 28 : 1, addr);
            tmpl_set(&B->dns_r[2 * i + v6], buf, n);
        }
    }
    /* The server flight fills exactly one segment, its last record ending with it. */
    n = tls_server_flight(buf, sizeof(buf), &B->r, B->tls[0].data, 0);
    n = tls_server_flight(buf, sizeof(buf), &B->r, B->tls[0].data, BENCH_SEG - n);
    tmpl_set(&B->tls_srv, buf, n);
    n = (size_t)snprintf((char *)buf, sizeof(buf),
                         "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
                         "Content-Type: text/html; charset=UTF-8\r\nContent-Length: 48213\r\n"
                         "Connection: keep-alive\r\n\r\n<!doctype html>\n<html>\n");
    memset(buf + n, ' ', BENCH_SEG - n);
    tmpl_set(&B->http_resp, buf, BENCH_SEG);
    /* QUIC v1 Initial-looking long headers padded to 1200 bytes (the cipher text is noise). */
    for (int i = 0; i < 4; i++) {
        struct bb b;
        bb_init(&b, buf, sizeof(buf));
        bb_u8(&b, 0xc3);
        bb_u32(&b, 0x00000001);
        bb_u8(&b, 8);
        bb_rand(&b, &B->r, 8);
        bb_u8(&b, 8);
        bb_rand(&b, &B->r, 8);
        bb_u8(&b, 0); /* token length */
        bb_u16(&b, (uint16_t)(0x4000 | (1200 - 26 - 2)));
        bb_rand(&b, &B->r, 1200 - b.len);
        /* The quirk's read lands at payload index len - 40 for a payload of len bytes. */
        while (tunnel_port(get_be16(buf + b.len - 40)))
            buf[b.len - 40]++;
        while (tunnel_port(get_be16(buf + b.len - 38)))
            buf[b.len - 37]++;
        tmpl_set(&B->quic[i], buf, b.len);
    }
    rng_fill(&B->r, B->filler, sizeof(B->filler));
    B->fsum[0] = 0;
    for (size_t i = 0; i < FILLER_LEN / 2; i++)
        B->fsum[i + 1] = B->fsum[i] + get_be16(B->filler + 2 * i);
}

/* Sum of filler[off .. off+n) as 16-bit words; off is even. */
static uint64_t
filler_sum(const struct bench *B, size_t off, size_t n)
{
    uint64_t s = B->fsum[(off + n) / 2] - B->fsum[off / 2];

    if (n & 1)
        s += (uint32_t)B->filler[off + n - 1] << 8;
    return s;
}

static void
bench_addr(const struct bflow *f, int dir, uint8_t *ip)
{
    static const uint8_t nets[3][3] = {{192, 0, 2}, {198, 51, 100}, {203, 0, 113}};

    memset(ip, 0, 16);
    if (dir == CLI) {
        uint32_t net = f->u % 3, host = 1 + f->u / 3 % 254;
        if (f->v6) {
            put_be32(ip, 0x20010db8);
            put_be16(ip + 4, (uint16_t)(0x100 + net));
            put_be16(ip + 14, (uint16_t)host);
        } else {
            memcpy(ip, nets[net], 3);
            ip[3] = (uint8_t)host;
        }
    } else if (f->v6) {
        put_be32(ip, 0x20010db8);
        put_be16(ip + 4, 0xffff);
        put_be16(ip + 14, (uint16_t)(1 + f->srv));
    } else {
        memcpy(ip, f->kind == BK_DNS ? nets[1] : nets[2], 3);
        ip[3] = (uint8_t)(1 + f->srv);
    }
}

/* The client port: unique per flow with the address (both from u), never a tunnel port. */
static uint16_t
bench_cport(const struct bflow *f)
{
    uint32_t q = 32768 + f->u / 762;
    return (uint16_t)(q >= 37008 ? q + 1 : q);
}

/* A random server port outside the well-known range and the tunnel ports. */
static uint16_t
bench_random_port(struct rng *r)
{
    uint32_t p;

    do
        p = rng_range(r, 1024, 32767);
    while (tunnel_port(p));
    return (uint16_t)p;
}

/* Wire size class of a data packet: the server mostly sends full segments, the client mostly
 * small requests and ACKs (45% <= 100 B and 35% >= 1400 B overall). */
static size_t
bench_data_payload(struct bench *B, int dir, size_t hdr, bool tcp)
{
    uint32_t u = rng_below(&B->r, 100);
    uint32_t small = dir == CLI ? 54 : 18, large = dir == CLI ? 78 : 36;

    if (u < small) {
        if (tcp && rng_below(&B->r, 10) < 7)
            return 0; /* a pure ACK */
        return rng_range(&B->r, 1, (uint32_t)(100 - hdr));
    }
    if (u >= large)
        return rng_range(&B->r, (uint32_t)(1400 - hdr), (uint32_t)(1514 - hdr));
    return rng_range(&B->r, (uint32_t)(101 - hdr), (uint32_t)(1399 - hdr));
}

/* Builds and writes flow f's next packet at time t. No allocation: g_frame and templates. */
static void
bench_packet(struct bench *B, struct bflow *f, uint32_t fi, uint64_t t)
{
    static const uint8_t synopt[12] = {2, 4, 0x05, 0xa0, 1, 3, 3, 7, 1, 1, 4, 2};
    const bool tcp = f->kind == BK_TLS || f->kind == BK_HTTP || f->kind == BK_TCP;
    const uint32_t k = f->sent++, last = f->npkts - 1;
    const size_t l3 = f->v6 ? 40 : 20;
    const struct tmpl *tp = NULL;
    uint8_t flags = TH_ACK, sip[16], dip[16], cmac[6];
    size_t optlen = 0, plen = 0, l4h = tcp ? 20 : 8;
    int dir = CLI;

    if (tcp && k <= 2) {
        dir = k == 1 ? SRV : CLI;
        flags = k == 0 ? TH_SYN : k == 1 ? TH_SYN | TH_ACK : TH_ACK;
        optlen = k < 2 ? sizeof(synopt) : 0;
    } else if (tcp && k == 3 && f->kind != BK_TCP) {
        tp = f->kind == BK_TLS ? &B->tls[f->tmpl] : &B->http[f->tmpl];
        flags = TH_ACK | TH_PSH;
    } else if (tcp && k == 4 && f->kind != BK_TCP) {
        dir = SRV;
        tp = f->kind == BK_TLS ? &B->tls_srv : &B->http_resp;
    } else if (tcp && f->npkts >= 6 && k + 1 >= last) {
        dir = k == last ? SRV : CLI;
        flags = TH_FIN | TH_ACK;
    } else if (!tcp && k <= 1 && f->kind == BK_DNS) {
        dir = k == 0 ? CLI : SRV;
        tp = k == 0 ? &B->dns_q[f->tmpl] : &B->dns_r[f->tmpl];
    } else if (!tcp && k == 0 && f->kind == BK_QUIC) {
        tp = &B->quic[f->tmpl % 4];
    } else if (!tcp && k <= 1) {
        dir = k == 0 ? CLI : SRV;
        plen = bench_data_payload(B, dir, 14 + l3 + l4h, tcp);
    } else {
        dir = rng_below(&B->r, 100) < 45 ? CLI : SRV;
        plen = bench_data_payload(B, dir, 14 + l3 + l4h, tcp);
        if (tcp && plen > 0)
            flags |= TH_PSH;
    }
    if (tp != NULL)
        plen = tp->len;
    l4h += optlen;

    const size_t hdr = 14 + l3 + l4h, len = hdr + plen;
    const bool full = k < 3 || tp != NULL;
    const size_t caplen = full || len < BENCH_SNAP ? len : BENCH_SNAP;
    uint8_t *b = g_frame, *l4 = g_frame + 14 + l3;

    bench_addr(f, dir, sip);
    bench_addr(f, !dir, dip);
    cmac[0] = 0x3c, cmac[1] = 0xfd, cmac[2] = 0xfe;
    cmac[3] = (uint8_t)(f->u >> 16), cmac[4] = (uint8_t)(f->u >> 8), cmac[5] = (uint8_t)f->u;
    put_eth(b, dir == CLI ? g_gw_mac : cmac, dir == CLI ? cmac : g_gw_mac, 0,
            f->v6 ? ET_IPV6 : ET_IPV4);
    if (f->v6)
        put_ip6(b + 14, sip, dip, tcp ? 6 : 17, (uint16_t)(l4h + plen), dir == CLI ? 64 : 50,
                f->u);
    else
        put_ip4(b + 14, sip, dip, tcp ? 6 : 17, (uint16_t)(20 + l4h + plen), f->ip_id++,
                dir == CLI ? 64 : 50, tcp ? 0x4000 : 0);
    uint16_t cport = bench_cport(f);
    uint16_t sp = dir == CLI ? cport : f->sport, dp = dir == CLI ? f->sport : cport;
    if (tcp) {
        uint32_t ack = (flags & TH_ACK) ? f->seq[!dir] : 0;
        put_tcp(l4, sp, dp, f->seq[dir], ack, flags, k < 2 ? 64240 : 502, synopt, optlen);
        f->seq[dir] += (uint32_t)plen + ((flags & (TH_SYN | TH_FIN)) ? 1u : 0u);
    } else {
        put_udp(l4, sp, dp, (uint16_t)(8 + plen));
    }

    /* Payload and checksum; redone (another filler offset or DNS id) in the rare case where
     * the IPv6 tunnel-check quirk would read a tunnel port from a fully captured packet. */
    size_t foff = (fi * 2u + k * 6u) % (FILLER_LEN / 2);
    for (uint16_t attempt = 0;; attempt++) {
        uint64_t sum = pseudo_sum(f->v6, sip, dip, tcp ? 6 : 17, (uint32_t)(l4h + plen));
        if (tp != NULL) {
            memcpy(l4 + l4h, tp->data, plen);
            if (f->kind == BK_DNS)
                put_be16(l4 + l4h, (uint16_t)((fi * 2654435761u >> 16) + attempt)); /* id */
            else if (f->kind == BK_TLS && k == 3)
                put_be32(l4 + l4h + 11, fi * 2654435761u); /* client random */
            else if (f->kind == BK_QUIC)
                put_be32(l4 + l4h + 6, fi * 2654435761u + attempt); /* destination cid */
            sum = csum_add(sum, l4 + l4h, plen);
        } else {
            size_t room = caplen - hdr;
            memcpy(l4 + l4h, B->filler + foff, plen < room ? plen : room);
            sum += filler_sum(B, foff, plen);
        }
        put_be16(l4 + (tcp ? 16 : 6), 0);
        sum = csum_add(sum, l4, l4h);
        uint16_t c = csum_fold(sum);
        put_be16(l4 + (tcp ? 16 : 6), !tcp && c == 0 ? 0xffff : c);
        if (!f->v6 || tcp || caplen != len || !v6_quirk_hit(b + 14) || attempt == 64)
            break;
        foff += 2;
    }

    pw_packet(&B->w, t, b, (uint32_t)caplen, (uint32_t)len);
    B->small += len <= 100;
    B->large += len >= 1400;
    B->v6pk += f->v6;
    B->bytes_wire += len;
    B->caplen_sum += caplen;
    if (k == 0 && ++B->alive > B->peak)
        B->peak = B->alive;
    if (k == last)
        B->alive--;
}

/* Stable LSD radix sort of the events on their upper 32 bits (the position in the capture). */
static void
radix_sort_hi32(uint64_t *a, uint64_t *tmp, size_t n)
{
    static size_t count[65536];

    for (int shift = 32; shift < 64; shift += 16) {
        memset(count, 0, sizeof(count));
        for (size_t i = 0; i < n; i++)
            count[(a[i] >> shift) & 0xffff]++;
        size_t pos = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(a[i] >> shift) & 0xffff]++] = a[i];
        memcpy(a, tmp, n * sizeof(*a));
    }
}

/* Flow sizes: weights 0.3 + two Lomax draws (P(x > a) = 1/(1+a)), capped, scaled so the
 * packet counts add up to exactly npk: a quarter of the flows are single packets, the median
 * is 3, the 99th percentile ~130 and the largest ~1,200. Kinds, addresses and spans follow. */
static void
bench_flows(struct bench *B)
{
    const uint64_t extra = B->npk - B->nfl;
    double wsum = 0;
    uint64_t total = 0;
    size_t e = 0;

    for (uint32_t i = 0; i < B->nfl; i++) {
        double w = 0.3 + 1.0 / (1.0 - rng_unit(&B->r)) + 1.0 / (1.0 - rng_unit(&B->r)) - 2.0;
        w = w > 2000.0 ? 2000.0 : w;
        memcpy(&B->tmp[i], &w, sizeof(w)); /* tmp is free until the sort */
        wsum += w;
    }
    for (uint32_t i = 0; i < B->nfl; i++) {
        double w;
        memcpy(&w, &B->tmp[i], sizeof(w));
        B->flows[i].npkts = 1 + (uint32_t)((double)extra * w / wsum);
        total += B->flows[i].npkts;
    }
    for (uint32_t i = 0; total < B->npk; i = (i + 1) % B->nfl, total++)
        B->flows[i].npkts++;

    for (uint32_t i = 0; i < B->nfl; i++) {
        struct bflow *f = &B->flows[i];
        uint32_t n = f->npkts;
        f->sent = 0;
        f->seq[0] = (uint32_t)rng_next(&B->r);
        f->seq[1] = (uint32_t)rng_next(&B->r);
        f->u = (uint32_t)((i * 0x9e3779b1u + 0x5bd1e995u) & (BENCH_MAX_FLOWS - 1));
        f->ip_id = (uint16_t)rng_next(&B->r);
        f->v6 = rng_below(&B->r, 10) == 0;
        f->tmpl = (uint8_t)rng_below(&B->r, NT);
        f->srv = (uint8_t)rng_below(&B->r, 254);
        uint32_t p = rng_below(&B->r, 100);
        if (rng_below(&B->r, 2) == 0) {
            if (n >= 4)
                f->kind = p < 60 ? BK_TLS : p < 80 ? BK_HTTP : p < 90 ? BK_DNS : BK_QUIC;
            else
                f->kind = p < 75 ? BK_DNS : BK_QUIC;
        } else {
            f->kind = p < 70 ? BK_TCP : BK_UDP;
        }
        static const uint16_t tcp_ports[] = {22, 25, 110, 143, 993, 1883, 3306, 5222, 5432, 8080};
        static const uint16_t udp_ports[] = {123, 514, 1194, 3478, 5060, 27015};
        switch (f->kind) {
        case BK_TLS:
        case BK_QUIC:
            f->sport = 443;
            break;
        case BK_HTTP:
            f->sport = 80;
            break;
        case BK_DNS:
            f->sport = 53;
            f->tmpl = (uint8_t)(2 * (f->tmpl % NT) + f->v6);
            break;
        case BK_TCP:
            f->sport = p % 2 ? tcp_ports[rng_below(&B->r, 10)] : bench_random_port(&B->r);
            break;
        default:
            f->sport = p % 2 ? udp_ports[rng_below(&B->r, 6)] : bench_random_port(&B->r);
            break;
        }
        /* Span in the capture: most flows last most of it (many alive at once), some are
         * short bursts. Positions are 32-bit fractions of the capture. */
        double s, t;
        if (rng_below(&B->r, 100) < 85) {
            s = rng_unit(&B->r) * 0.4;
            t = 1.0 - rng_unit(&B->r) * 0.4;
        } else {
            s = rng_unit(&B->r) * 0.98;
            t = s + rng_unit(&B->r) * 0.02;
        }
        uint64_t lo = (uint64_t)(s * 4294967295.0), hi = (uint64_t)(t * 4294967295.0);
        for (uint32_t k = 0; k < n; k++) {
            uint64_t pos = k == 0 ? lo : k + 1 == n ? hi : lo + rng_next(&B->r) % (hi - lo + 1);
            B->ev[e++] = pos << 32 | i;
        }
    }
}

struct bench_opts {
    uint64_t packets;
    uint64_t flows;
    uint64_t seed;
};

static int
gen_bench(const char *path, const struct bench_opts *o, char *err, size_t errlen)
{
    struct bench *B;
    struct timespec t0, t1;
    int rc = -ENOMEM;

    if (o->flows == 0 || o->flows > BENCH_MAX_FLOWS || o->packets < o->flows ||
        o->packets > UINT32_MAX) {
        snprintf(err, errlen, "bench: need 1 <= --flows <= %u and --flows <= --packets <= %u",
                 BENCH_MAX_FLOWS, UINT32_MAX);
        return -EINVAL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    B = calloc(1, sizeof(*B));
    if (B == NULL)
        goto nomem;
    B->r.s = o->seed;
    B->npk = o->packets;
    B->nfl = (uint32_t)o->flows;
    B->flows = calloc(B->nfl, sizeof(*B->flows));
    B->ev = malloc(B->npk * sizeof(*B->ev));
    B->tmp = malloc(B->npk * sizeof(*B->tmp));
    if (B->flows == NULL || B->ev == NULL || B->tmp == NULL)
        goto nomem;
    bench_templates(B);
    bench_flows(B);
    radix_sort_hi32(B->ev, B->tmp, B->npk);
    free(B->tmp);
    B->tmp = NULL;
    if ((rc = pw_open(&B->w, path, DLT_EN10MB, SNAPLEN_MAX, err, errlen)) != 0)
        goto out;
    uint64_t t = BENCH_T0;
    for (uint64_t i = 0; i < B->npk; i++) {
        uint32_t fi = (uint32_t)B->ev[i];
        t += 1 + rng_below(&B->r, 8);
        bench_packet(B, &B->flows[fi], fi, t);
    }
    rc = pw_close(&B->w, path, err, errlen);
    if (rc == 0) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        double n = (double)B->npk;
        fprintf(stderr,
                "mkpcap: %s: %" PRIu64 " packets, %u flows (peak %u alive), %.1f%% IPv6, "
                "%.1f%% <= 100 B, %.1f%% >= 1400 B, %.1f MB on the wire, %.1f MB file, "
                "%.1f s of packet time, written in %.2f s\n",
                path, B->npk, B->nfl, B->peak, 100.0 * (double)B->v6pk / n,
                100.0 * (double)B->small / n, 100.0 * (double)B->large / n,
                (double)B->bytes_wire / 1e6, (double)(B->caplen_sum + 16 * B->npk + 24) / 1e6,
                (double)(t - BENCH_T0) / 1e6, secs);
    }
    goto out;
nomem:
    snprintf(err, errlen, "bench: %s", strerror(ENOMEM));
    rc = -ENOMEM;
out:
    if (B != NULL) {
        free(B->flows);
        free(B->ev);
        free(B->tmp);
        free(B);
    }
    return rc;
}

/* ------------------------------------------------------------------------------------- main */

static void
usage(FILE *out)
{
    fprintf(out, "usage: mkpcap sample OUT.pcap\n"
                 "       mkpcap edge DIR\n"
                 "       mkpcap bench OUT.pcap [--packets N] [--flows M] [--seed S]\n"
                 "Writes the bundled sample capture, the malformed-input corpus (DIR/*.pcap and\n"
                 "DIR/manifest.tsv) or the benchmark capture (defaults 3000000 packets, 280000\n"
                 "flows, seed 1). The same command always writes the same bytes.\n");
}

static int
parse_u64(const char *flag, const char *s, uint64_t *out)
{
    char *end;

    errno = 0;
    if (s == NULL || *s == '\0' || *s == '-') {
        fprintf(stderr, "mkpcap: %s needs a non-negative number\n", flag);
        return -EINVAL;
    }
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0') {
        fprintf(stderr, "mkpcap: %s: '%s' is not a number\n", flag, s);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int
main(int argc, char **argv)
{
    char err[4400];
    int rc;

    if (argc < 3) {
        usage(argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    if (strcmp(argv[1], "sample") == 0 && argc == 3) {
        rc = gen_sample(argv[2], err, sizeof(err));
    } else if (strcmp(argv[1], "edge") == 0 && argc == 3) {
        rc = gen_edge(argv[2], err, sizeof(err));
    } else if (strcmp(argv[1], "bench") == 0) {
        struct bench_opts o = {3000000, 280000, 1};
        for (int i = 3; i < argc; i += 2) {
            uint64_t *dst = strcmp(argv[i], "--packets") == 0 ? &o.packets
                            : strcmp(argv[i], "--flows") == 0 ? &o.flows
                            : strcmp(argv[i], "--seed") == 0  ? &o.seed
                                                              : NULL;
            if (dst == NULL) {
                fprintf(stderr, "mkpcap: bench: unknown option '%s'\n", argv[i]);
                usage(stderr);
                return 2;
            }
            if (parse_u64(argv[i], i + 1 < argc ? argv[i + 1] : NULL, dst) != 0)
                return 2;
        }
        rc = gen_bench(argv[2], &o, err, sizeof(err));
    } else {
        usage(stderr);
        return 2;
    }
    if (rc != 0) {
        fprintf(stderr, "mkpcap: %s\n", err);
        return 1;
    }
    return 0;
}
