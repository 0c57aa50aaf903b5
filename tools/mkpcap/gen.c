/*
 * gen.c - mkpcap's toolkit (see gen.h): splitmix64 and byte helpers, the pcap writer and the
 * in-memory sink, Ethernet/IP/TCP/UDP header writers, and conversations that play whole
 * TCP/UDP/ICMP exchanges with realistic timing.
 */
#include "gen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>

/* One frame under construction; a static buffer because the generator is single-threaded and
 * the packet loops must not allocate. */
uint8_t g_frame[FRAME_MAX];

/* The gateway every server is reached through, and a workstation (all captures use both). */
const uint8_t g_gw_mac[6] = {0x00, 0x00, 0x0c, 0x9f, 0xf0, 0x01};    /* Cisco */
const uint8_t g_mac_intel[6] = {0x3c, 0xfd, 0xfe, 0x1a, 0x2b, 0x3c}; /* Intel */

/* ------------------------------------------------------------------------------ PRNG, bytes */

uint64_t
rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; the tiny bias is irrelevant here). */
uint32_t
rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* Uniform in [lo, hi]. */
uint32_t
rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
    return lo + rng_below(r, hi - lo + 1);
}

/* Uniform in [0, 1). */
double
rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

void
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

void
put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void
put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, (uint16_t)(v >> 16));
    put_be16(p + 2, (uint16_t)v);
}

uint16_t
get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Ones'-complement sum of big-endian 16-bit words; an odd trailing byte is the high half. Chained
 * calls must pass even lengths except the last. */
uint64_t
csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (i < n)
        sum += (uint32_t)p[i] << 8;
    return sum;
}

uint16_t
csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

void
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

void
bb_u8(struct bb *b, uint8_t v)
{
    uint8_t *q = bb_take(b, 1);
    if (q != NULL)
        *q = v;
}

void
bb_u16(struct bb *b, uint16_t v)
{
    uint8_t *q = bb_take(b, 2);
    if (q != NULL)
        put_be16(q, v);
}

void
bb_u32(struct bb *b, uint32_t v)
{
    uint8_t *q = bb_take(b, 4);
    if (q != NULL)
        put_be32(q, v);
}

void
bb_mem(struct bb *b, const void *p, size_t n)
{
    uint8_t *q = bb_take(b, n);
    if (q != NULL && n > 0)
        memcpy(q, p, n);
}

void
bb_str(struct bb *b, const char *s)
{
    bb_mem(b, s, strlen(s));
}

void
bb_rand(struct bb *b, struct rng *r, size_t n)
{
    uint8_t *q = bb_take(b, n);
    if (q != NULL)
        rng_fill(r, q, n);
}

/* Reserves an n-byte big-endian length field; bb_len() later fills it with what followed. */
size_t
bb_hole(struct bb *b, size_t n)
{
    size_t at = b->len;
    uint8_t *q = bb_take(b, n);
    if (q != NULL)
        memset(q, 0, n);
    return at;
}

void
bb_len(struct bb *b, size_t hole, size_t n)
{
    if (b->over)
        return;
    size_t v = b->len - hole - n;
    for (size_t i = 0; i < n; i++)
        b->p[hole + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* --------------------------------------------------------------------------- capture output */

int
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
void
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

int
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

void
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

int
rec_cmp(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;

    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* --------------------------------------------------------------------------- header writers */

/* Ethernet II with an optional 802.1Q tag; returns the L3 offset. */
size_t
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
void
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
void
fix_ip4_csum(uint8_t *b, size_t hlen)
{
    put_be16(b + 10, 0);
    put_be16(b + 10, csum_fold(csum_add(0, b, hlen)));
}

void
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
uint64_t
pseudo_sum(bool v6, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t l4len)
{
    uint64_t s = csum_add(0, src, v6 ? 16 : 4);
    s = csum_add(s, dst, v6 ? 16 : 4);
    return s + proto + (l4len >> 16) + (l4len & 0xffff);
}

/* Fills the checksum at l4 + csum_off; UDP's zero result is sent as 0xffff (RFC 768). */
void
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

size_t
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

void
put_udp(uint8_t *b, uint16_t sport, uint16_t dport, uint16_t len)
{
    put_be16(b, sport);
    put_be16(b + 2, dport);
    put_be16(b + 4, len);
    put_be16(b + 6, 0);
}

void
parse_ip(uint8_t *out, const char *s)
{
    memset(out, 0, 16);
    /* Literals only, so a failure is a bug in this file: leave the zero address. */
    if (inet_pton(strchr(s, ':') != NULL ? AF_INET6 : AF_INET, s, out) != 1)
        memset(out, 0, 16);
}

/* ---------------------------------------------------------------------------- conversations */

void
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
void
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
void
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
void
tcp_close(struct conn *c, int first)
{
    tcp_seg(c, first, TH_FIN | TH_ACK, NULL, 0, NULL, 0);
    c->t += first == CLI ? c->rtt : rng_range(c->rng, 100, 400);
    tcp_seg(c, !first, TH_FIN | TH_ACK, NULL, 0, NULL, 0);
    c->t += first == CLI ? rng_range(c->rng, 40, 120) : c->rtt;
    tcp_ack(c, first);
}

void
udp_send(struct conn *c, int dir, const uint8_t *data, size_t len)
{
    uint8_t *l4 = conn_l4(c);

    put_udp(l4, c->ep[dir].port, c->ep[!dir].port, (uint16_t)(8 + len));
    memcpy(l4 + 8, data, len);
    conn_put(c, dir, 8 + len, 6);
}

void
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
