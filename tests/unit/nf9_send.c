/*
 * nf9_send.c - test driver: reads a capture with the probe's own pipeline (capture, decode,
 * meter, DPI: a worker as nfprobe -r builds it), encodes the flows with the NetFlow v9 encoder
 * and sends the packets over UDP to 127.0.0.1:PORT (a real collector: nfcapd). Optionally
 * writes the same UDP datagrams into a pcap (Ethernet/IPv4/UDP framing) for tshark.
 *
 * usage: nf9_send -r CAPTURE --port N [--pcap FILE] [--mtu N] [--source-id N] [--batch N]
 *                 [--sampling N] [--KEY[=VALUE] ...]   (any nfprobe option, e.g.
 *                 --n-dissections=0; --sampling only announces an interval in options records)
 *
 * Offline timing as the probe does it: "now" is the packet clock (here the latest last-seen
 * time of the flows emitted so far), and the boot time is the first packet's time minus
 * NF9_BOOT_MARGIN_MS. Loopback only, by construction.
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

#include "capture.h"
#include "config.h"
#include "dpi.h"
#include "export_v9.h"
#include "worker.h"

struct sender {
    struct nf9_ctx *nf9;
    int fd;
    uint16_t port;
    struct sockaddr_in to; /* 127.0.0.1:port; unconnected, so no listener is needed */
    pcap_t *dead;
    pcap_dumper_t *dump;
    size_t flow_size;
    size_t batch;
    unsigned char *pending; /* copies of finished flows, flow_size each */
    const struct flow **ptrs;
    size_t n_pending;
    uint64_t now;
    uint64_t packets, flows, octets;
    int error;
};

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

/* The datagram as it went over lo, for tshark. */
static void
dump_datagram(struct sender *s, const uint8_t *msg, size_t len)
{
    static uint8_t frame[14 + 20 + 8 + 65536];
    size_t ip_len = 20 + 8 + len;

    memset(frame, 0, 14 + 28);
    frame[12] = 0x08; /* IPv4 */
    uint8_t *ip = frame + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(ip_len >> 8);
    ip[3] = (uint8_t)ip_len;
    ip[6] = 0x40; /* don't fragment */
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
    udp[0] = 0x9c; /* source port 40000 */
    udp[1] = 0x40;
    udp[2] = (uint8_t)(s->port >> 8);
    udp[3] = (uint8_t)s->port;
    udp[4] = (uint8_t)((8 + len) >> 8);
    udp[5] = (uint8_t)(8 + len);
    memcpy(udp + 8, msg, len);
    struct pcap_pkthdr h = {.caplen = (bpf_u_int32)(14 + ip_len),
                            .len = (bpf_u_int32)(14 + ip_len)};
    h.ts.tv_sec = (time_t)(s->now / 1000);
    h.ts.tv_usec = (suseconds_t)(s->now % 1000 * 1000);
    pcap_dump((u_char *)s->dump, &h, frame);
}

static void
send_packet(struct sender *s, const uint8_t *msg, size_t len)
{
    if (sendto(s->fd, msg, len, 0, (const struct sockaddr *)&s->to, sizeof(s->to)) !=
            (ssize_t)len &&
        s->error == 0) {
        s->error = errno;
        fprintf(stderr, "nf9_send: send to 127.0.0.1:%u: %s\n", s->port, strerror(errno));
    }
    if (s->dump != NULL)
        dump_datagram(s, msg, len);
    s->packets++;
    s->octets += len;
    /* a collector on loopback keeps up with bursts of a few dozen packets */
    if (s->packets % 32 == 0) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

/* Encodes and sends the pending flows (and whatever the encoder has due). */
static void
flush(struct sender *s)
{
    static uint8_t buf[65536];
    size_t off = 0, done, len;

    for (size_t i = 0; i < s->n_pending; i++)
        s->ptrs[i] = (const struct flow *)(const void *)(s->pending + i * s->flow_size);
    while (off < s->n_pending) {
        len = nf9_encode(s->nf9, s->ptrs + off, s->n_pending - off, s->now, buf,
                         nf9_config(s->nf9)->mtu, &done);
        if (len == 0) {
            fprintf(stderr, "nf9_send: encoder made no progress\n");
            s->error = EMSGSIZE;
            break;
        }
        send_packet(s, buf, len);
        off += done;
        s->flows += done;
    }
    s->n_pending = 0;
    while ((len = nf9_encode(s->nf9, NULL, 0, s->now, buf, nf9_config(s->nf9)->mtu, &done)) > 0)
        send_packet(s, buf, len);
}

static void
emit(void *ctx, const struct flow *f)
{
    struct sender *s = ctx;

    memcpy(s->pending + s->n_pending * s->flow_size, f, s->flow_size);
    s->n_pending++;
    if (f->dir[FLOW_BIDI].last_seen_ms > s->now)
        s->now = f->dir[FLOW_BIDI].last_seen_ms;
    if (s->n_pending == s->batch)
        flush(s);
}

/* The application map's names: nDPI's, as export.c hands them to the encoders. */
static const char *
app_name(void *ctx, uint16_t id)
{
    return dpi_proto_name(ctx, id);
}

static int
first_packet_ms(const struct prb_config *c, uint64_t *t)
{
    char err[512];
    struct cap_packet p;
    struct cap_source *src = cap_open_files(c->files, c->n_files, c->bpf_filter, err, sizeof(err));

    if (src == NULL) {
        fprintf(stderr, "nf9_send: %s\n", err);
        return -1;
    }
    enum cap_result r;
    while ((r = cap_next(src, &p)) != CAP_END && r != CAP_PACKET)
        ;
    *t = r == CAP_PACKET ? p.time_ms : 0;
    cap_close(src);
    return 0;
}

int
main(int argc, char **argv)
{
    static struct sender s;
    static struct prb_config cfg;
    const char *pcap_path = NULL;
    uint32_t mtu = 1400, source_id = 1, sampling = 0;
    char err[512];
    int status = 1;

    cfg_defaults(&cfg);
    s.batch = 64;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-r") == 0 && v != NULL) {
            if (cfg_set(&cfg, "read", v, err, sizeof(err)) != 0)
                goto usage_err;
            i++;
        } else if (strcmp(a, "--port") == 0 && v != NULL) {
            s.port = (uint16_t)atoi(v);
            i++;
        } else if (strcmp(a, "--pcap") == 0 && v != NULL) {
            pcap_path = v;
            i++;
        } else if (strcmp(a, "--mtu") == 0 && v != NULL) {
            mtu = (uint32_t)atoi(v);
            i++;
        } else if (strcmp(a, "--source-id") == 0 && v != NULL) {
            source_id = (uint32_t)strtoul(v, NULL, 10);
            i++;
        } else if (strcmp(a, "--sampling") == 0 && v != NULL) {
            sampling = (uint32_t)atoi(v);
            i++;
        } else if (strcmp(a, "--batch") == 0 && v != NULL) {
            s.batch = (size_t)atoi(v);
            i++;
        } else if (strncmp(a, "--", 2) == 0) {
            char key[64];
            const char *eq = strchr(a, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            snprintf(key, sizeof(key), "%.*s", (int)n, a + 2);
            if (cfg_set(&cfg, key, eq ? eq + 1 : NULL, err, sizeof(err)) != 0)
                goto usage_err;
        } else {
            snprintf(err, sizeof(err), "unexpected argument '%s'", a);
            goto usage_err;
        }
    }
    if (cfg.n_files == 0 || s.port == 0 || s.batch == 0) {
        snprintf(err, sizeof(err), "need -r CAPTURE and --port N");
        goto usage_err;
    }
    if (cfg_validate(&cfg, err, sizeof(err)) != 0)
        goto usage_err;

    uint64_t t_first;
    if (first_packet_ms(&cfg, &t_first) != 0)
        return 1;

    struct wrk_config wc = {
        .files = cfg.files,
        .n_files = cfg.n_files,
        .bpf = cfg.bpf_filter,
        .decode_tunnels = cfg.decode_tunnels,
        .mc = {
            .idle_ms = cfg.idle_timeout * 1000,
            .active_ms = cfg.active_timeout * 1000,
            .accounting_mode = cfg.accounting_mode,
            .statistics = cfg.statistical_analysis,
            .splt_n = cfg.splt_analysis,
            .max_flows = cfg.max_flows,
            .max_nflows = cfg.max_nflows,
            .seed = 1,
            .router = true, /* it exports */
        },
        .n_dissections = cfg.n_dissections,
        .ndpi_protos = cfg.ndpi_protos,
        .ndpi_categories = cfg.ndpi_categories,
        .dpi_max_concurrent = cfg.max_flows < 65536 ? cfg.max_flows : 65536,
        .emit = emit,
        .emit_ctx = &s,
    };
    struct worker *w = wrk_new(&wc, err, sizeof(err));
    if (w == NULL) {
        fprintf(stderr, "nf9_send: %s\n", err);
        return 1;
    }

    struct nf9_config nc;
    nf9_config_defaults(&nc);
    nc.source_id = source_id;
    nc.mtu = mtu;
    nc.boot_ms = t_first > NF9_BOOT_MARGIN_MS ? t_first - NF9_BOOT_MARGIN_MS : 1;
    nc.refresh_ms = cfg.template_refresh * 1000;
    nc.refresh_packets = cfg.template_refresh_packets;
    nc.pen = cfg.pen;
    nc.sampling_interval = sampling; /* announced only: the probe itself does not sample */
    nc.layout = *wrk_layout(w);
    if (nc.layout.l7) {
        nc.app_name = app_name;
        nc.app_ctx = wrk_dpi(w);
        nc.n_apps = dpi_num_protocols(wrk_dpi(w));
    }
    if ((s.nf9 = nf9_new(&nc, err, sizeof(err))) == NULL) {
        fprintf(stderr, "nf9_send: %s\n", err);
        goto out;
    }

    s.flow_size = wrk_flow_size(w);
    s.pending = calloc(s.batch, s.flow_size);
    s.ptrs = calloc(s.batch, sizeof(*s.ptrs));
    if (s.pending == NULL || s.ptrs == NULL) {
        fprintf(stderr, "nf9_send: out of memory\n");
        goto out;
    }
    s.fd = socket(AF_INET, SOCK_DGRAM, 0);
    s.to = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(s.port)};
    s.to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s.fd < 0) {
        fprintf(stderr, "nf9_send: udp 127.0.0.1:%u: %s\n", s.port, strerror(errno));
        goto out;
    }
    if (pcap_path != NULL) {
        s.dead = pcap_open_dead(DLT_EN10MB, 65535);
        s.dump = s.dead != NULL ? pcap_dump_open(s.dead, pcap_path) : NULL;
        if (s.dump == NULL) {
            fprintf(stderr, "nf9_send: %s: cannot write\n", pcap_path);
            goto out;
        }
    }

    s.now = t_first;
    wrk_run(w);
    flush(&s);
    const char *rerr;
    while ((rerr = wrk_take_error(w)) != NULL)
        fprintf(stderr, "nf9_send: %s\n", rerr);
    fprintf(stderr, "nf9_send: %" PRIu64 " flows in %" PRIu64 " packets (%" PRIu64 " octets)\n",
            s.flows, s.packets, s.octets);
    status = s.error != 0;
out:
    if (s.dump != NULL)
        pcap_dump_close(s.dump);
    if (s.dead != NULL)
        pcap_close(s.dead);
    if (s.fd > 0)
        close(s.fd);
    free(s.pending);
    free(s.ptrs);
    nf9_free(s.nf9);
    wrk_free(w);
    return status;
usage_err:
    fprintf(stderr,
            "nf9_send: %s\nusage: nf9_send -r CAPTURE --port N [--pcap FILE] [--mtu N] "
            "[--source-id N] [--batch N] [--sampling N] [--nfprobe-option[=VALUE] ...]\n",
            err);
    return 2;
}
