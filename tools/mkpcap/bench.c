/*
 * bench.c - the benchmark capture (see bench.h). Flow sizes, kinds and spans are drawn first,
 * every packet becomes an event (position, flow) radix-sorted into capture order, and the
 * write loop builds each packet in g_frame from payload templates made once: nothing is
 * allocated per packet.
 */
#include "bench.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps.h"
#include "gen.h"

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

int
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
