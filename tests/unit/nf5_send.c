/*
 * nf5_send.c - test driver of the NetFlow v5 encoder: makes a seeded set of flow directions
 * (TCP, UDP, ICMP; 2- and 4-octet AS numbers; ifIndexes, ToS, masks, next hops; one direction
 * over 2^32 packets; IPv6 and empty directions that v5 cannot carry), encodes them and sends
 * the packets over UDP to 127.0.0.1:PORT (a real collector: nfcapd), optionally also into a
 * pcap (Ethernet/IPv4/UDP) for tshark. Writes the directions it made as CSV (the test's
 * expectation: the collector must show these, not what the encoder made of them).
 *
 * usage: nf5_send --port N --csv FILE [--pcap FILE] [--flows N] [--seed N]
 *                 [--engine-type N] [--engine-id N] [--sampling MODE:INTERVAL]
 * Loopback only, by construction.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "export_v5.h"

static uint64_t
rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint16_t
ip_checksum(const uint8_t *h, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void
dump_datagram(pcap_dumper_t *d, uint16_t port, uint64_t now, const uint8_t *msg, size_t len)
{
    static uint8_t frame[14 + 28 + 2048];
    size_t ip_len = 28 + len;
    memset(frame, 0, 42);
    frame[12] = 0x08;
    uint8_t *ip = frame + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(ip_len >> 8);
    ip[3] = (uint8_t)ip_len;
    ip[6] = 0x40;
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = 127;
    ip[15] = 1;
    ip[16] = 127;
    ip[19] = 1;
    uint16_t ck = ip_checksum(ip, 20);
    ip[10] = (uint8_t)(ck >> 8);
    ip[11] = (uint8_t)ck;
    uint8_t *udp = ip + 20;
    udp[0] = 0x9c;
    udp[1] = 0x40;
    udp[2] = (uint8_t)(port >> 8);
    udp[3] = (uint8_t)port;
    udp[4] = (uint8_t)((8 + len) >> 8);
    udp[5] = (uint8_t)(8 + len);
    memcpy(udp + 8, msg, len);
    struct pcap_pkthdr h = {.caplen = (bpf_u_int32)(14 + ip_len), .len = (bpf_u_int32)(14 + ip_len)};
    h.ts.tv_sec = (time_t)(now / 1000);
    h.ts.tv_usec = (suseconds_t)(now % 1000 * 1000);
    pcap_dump((u_char *)d, &h, frame);
}

int
main(int argc, char **argv)
{
    uint16_t port = 0;
    const char *csv = NULL, *pcap_path = NULL;
    size_t n = 500;
    uint64_t seed = 1;
    struct nf5_config cfg = {.engine_type = 0, .engine_id = 0};
    char err[256];

    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            goto usage;
        if (strcmp(a, "--port") == 0)
            port = (uint16_t)atoi(v);
        else if (strcmp(a, "--csv") == 0)
            csv = v;
        else if (strcmp(a, "--pcap") == 0)
            pcap_path = v;
        else if (strcmp(a, "--flows") == 0)
            n = strtoul(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--engine-type") == 0)
            cfg.engine_type = (uint8_t)atoi(v);
        else if (strcmp(a, "--engine-id") == 0)
            cfg.engine_id = (uint8_t)atoi(v);
        else if (strcmp(a, "--sampling") == 0) {
            unsigned m, iv;
            if (sscanf(v, "%u:%u", &m, &iv) != 2)
                goto usage;
            cfg.sampling_mode = (enum nf5_sampling_mode)m;
            cfg.sampling_interval = (uint16_t)iv;
        } else
            goto usage;
    }
    if (port == 0 || csv == NULL || n < 4)
        goto usage;

    /* Times: flows of the last hour before "now" (nfcapd files them by arrival anyway). */
    uint64_t now = (uint64_t)time(NULL) * 1000;
    cfg.boot_ms = now - 7200000;
    struct nf5_ctx *c = nf5_new(&cfg, err, sizeof(err));
    if (c == NULL) {
        fprintf(stderr, "nf5_send: %s\n", err);
        return 1;
    }
    struct nf5_flow *f = calloc(n, sizeof(*f));
    FILE *out = fopen(csv, "w");
    if (f == NULL || out == NULL) {
        fprintf(stderr, "nf5_send: %s: %s\n", csv, strerror(errno));
        return 1;
    }
    fprintf(out, "src,dst,sport,dport,proto,packets,octets,first_ms,last_ms,tcp_flags,tos,"
                 "input,output,src_as,dst_as,src_mask,dst_mask,nexthop\n");
    uint64_t s = seed;
    size_t v6 = 0, empty = 0;
    for (size_t i = 0; i < n; i++) {
        struct nf5_flow *x = &f[i];
        static const uint8_t protos[] = {6, 17, 1, 6, 17, 6};
        x->family = 4;
        x->proto = protos[i % sizeof(protos)];
        x->src = 0x0a000000u | (uint32_t)(rnd(&s) & 0xffffff);
        x->dst = 0xc6120000u | (uint32_t)(rnd(&s) & 0xffff); /* 198.18.0.0/15 */
        x->nexthop = 0x0a0000fe + (uint32_t)(i % 3);
        x->input = 1 + (uint32_t)(rnd(&s) % 300);
        x->output = 1 + (uint32_t)(rnd(&s) % 300);
        x->tos = (uint8_t)(rnd(&s) & 0xfc);
        x->src_mask = (uint8_t)(8 + rnd(&s) % 25);
        x->dst_mask = (uint8_t)(8 + rnd(&s) % 25);
        x->src_as = i % 5 == 0 ? 4200000000u + (uint32_t)i : (uint32_t)(rnd(&s) % 65536);
        x->dst_as = (uint32_t)(rnd(&s) % 65536);
        if (x->proto == 1) {
            x->dport = (uint16_t)((rnd(&s) % 16) << 8 | (rnd(&s) % 4)); /* type << 8 | code */
        } else {
            x->sport = (uint16_t)(1024 + rnd(&s) % 60000);
            x->dport = (uint16_t)(1 + rnd(&s) % 1024);
        }
        x->tcp_flags = x->proto == 6 ? (uint8_t)(rnd(&s) & 0x3f) : 0;
        x->packets = 1 + rnd(&s) % 1000;
        x->octets = x->packets * (40 + rnd(&s) % 1460);
        x->first_ms = now - 3600000 + (uint64_t)i * 997 % 3000000;
        x->last_ms = x->first_ms + rnd(&s) % 600000;
        if (i == 1) { /* over 2^32: several records */
            x->packets = 5000000000ULL;
            x->octets = x->packets * 1000;
        } else if (i == 2 || i % 97 == 50) {
            x->family = 6;
            v6++;
            continue;
        } else if (i == 3) {
            x->packets = x->octets = 0;
            empty++;
            continue;
        }
        char sa[16], da[16], nh[16];
        uint32_t a;
        a = htonl(x->src);
        inet_ntop(AF_INET, &a, sa, sizeof(sa));
        a = htonl(x->dst);
        inet_ntop(AF_INET, &a, da, sizeof(da));
        a = htonl(x->nexthop);
        inet_ntop(AF_INET, &a, nh, sizeof(nh));
        fprintf(out,
                "%s,%s,%u,%u,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%u,%u,%u,%u,%u,%u,%u,%u,%s\n",
                sa, da, x->sport, x->dport, x->proto, x->packets, x->octets, x->first_ms,
                x->last_ms, x->tcp_flags, x->tos, x->input, x->output, x->src_as, x->dst_as,
                x->src_mask, x->dst_mask, nh);
    }
    fclose(out);

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    pcap_t *dead = NULL;
    pcap_dumper_t *dump = NULL;
    if (pcap_path != NULL) {
        dead = pcap_open_dead(DLT_EN10MB, 65535);
        dump = dead ? pcap_dump_open(dead, pcap_path) : NULL;
        if (dump == NULL) {
            fprintf(stderr, "nf5_send: %s: cannot write\n", pcap_path);
            return 1;
        }
    }
    uint8_t buf[NF5_MAX_PACKET];
    size_t off = 0, used, packets = 0;
    int status = 0;
    while (off < n) {
        size_t len = nf5_encode(c, f + off, n - off, now, buf, sizeof(buf), &used);
        off += used;
        if (len == 0)
            continue;
        if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len) {
            fprintf(stderr, "nf5_send: send to 127.0.0.1:%u: %s\n", port, strerror(errno));
            status = 1;
        }
        if (dump != NULL)
            dump_datagram(dump, port, now, buf, len);
        if (++packets % 16 == 0) {
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
    }
    const struct nf5_stats *st = nf5_stats(c);
    fprintf(stderr,
            "nf5_send: %" PRIu64 " records in %" PRIu64 " packets; not exportable IPv6 %" PRIu64
            " (made %zu), empty directions %" PRIu64 " (made %zu), split records %" PRIu64
            ", AS_TRANS %" PRIu64 "\n",
            st->records, st->packets, st->not_exportable_v6, v6, st->empty_directions, empty,
            st->split_records, st->as_trans);
    if (st->not_exportable_v6 != v6 || st->empty_directions != empty)
        status = 1;
    if (dump != NULL)
        pcap_dump_close(dump);
    if (dead != NULL)
        pcap_close(dead);
    close(fd);
    free(f);
    nf5_free(c);
    return status;
usage:
    fprintf(stderr, "usage: nf5_send --port N --csv FILE [--pcap FILE] [--flows N] [--seed N] "
                    "[--engine-type N] [--engine-id N] [--sampling MODE:INTERVAL]\n");
    return 2;
}
