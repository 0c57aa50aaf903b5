/*
 * capture.c - offline capture files through libpcap, read in order as one stream.
 */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"

struct cap_source {
    const char *const *files;
    size_t n_files;
    size_t cur;
    const char *bpf;
    pcap_t *p;
    int dlt;
    struct cap_stats st;
    char error[PCAP_ERRBUF_SIZE + 512];
    int has_error;
    int live;
    int timeout_ms;
    atomic_int stop;
    uint64_t drain_until; /* after a stop: read what the kernel holds until then */
    char *iobuf;          /* files: stdio buffer of the file being read (CAP_IOBUF bytes) */
    uint64_t done_bytes;  /* files: bytes of the files already read to their end */
};

/*
 * libpcap reads a file with fread() through stdio's default buffer (st_blksize, 4 KiB):
 * one read(2) per 4 KiB is over half the cost of reading a capture. A 1 MiB buffer cuts
 * that to one system call per MiB.
 */
#define CAP_IOBUF (1u << 20)

/*
 * Opens a capture file and installs the filter (NFStream: optimize=1, netmask
 * 255.255.255.0). With iobuf (CAP_IOBUF bytes, alive until pcap_close), the file is read
 * through it; "-" is standard input, as for pcap_open_offline().
 */
static pcap_t *
open_one(const char *file, const char *bpf, char *iobuf, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *p;

    if (iobuf == NULL || strcmp(file, "-") == 0) {
        p = pcap_open_offline(file, ebuf);
    } else {
        FILE *fp = fopen(file, "rb");
        if (fp == NULL) {
            snprintf(err, errlen, "%s: %s", file, strerror(errno));
            return NULL;
        }
        setvbuf(fp, iobuf, _IOFBF, CAP_IOBUF);
        (void)posix_fadvise(fileno(fp), 0, 0, POSIX_FADV_SEQUENTIAL);
        p = pcap_fopen_offline(fp, ebuf);
        if (p == NULL)
            fclose(fp); /* pcap_close() owns it only on success */
    }
    if (p == NULL) {
        /* libpcap's text may already start with the path: say it once. */
        size_t fl = strlen(file);
        int named = strncmp(ebuf, file, fl) == 0 && ebuf[fl] == ':' && ebuf[fl + 1] == ' ';
        snprintf(err, errlen, "%s: %s", file, named ? ebuf + fl + 2 : ebuf);
        return NULL;
    }
    if (bpf != NULL) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, bpf, 1, 0xffffff00) != 0) {
            snprintf(err, errlen, "--bpf-filter '%s' on %s: %s", bpf, file, pcap_geterr(p));
            pcap_close(p);
            return NULL;
        }
        int rc = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (rc != 0) {
            snprintf(err, errlen, "--bpf-filter '%s' on %s: %s", bpf, file, pcap_geterr(p));
            pcap_close(p);
            return NULL;
        }
    }
    return p;
}

struct cap_source *
cap_open_files(const char *const *files, size_t n, const char *bpf, char *err, size_t errlen)
{
    struct cap_source *s;

    /* Fail before reading anything if any file is unusable: no half-done runs. Only regular
     * files can be opened twice: standard input ("-") or a FIFO would lose its header to the
     * check (and a FIFO's writer would be gone); those are checked when reached. */
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (strcmp(files[i], "-") == 0 ||
            (stat(files[i], &sb) == 0 && (S_ISFIFO(sb.st_mode) || S_ISCHR(sb.st_mode))))
            continue;
        pcap_t *p = open_one(files[i], bpf, NULL, err, errlen);
        if (p == NULL)
            return NULL;
        pcap_close(p);
    }
    s = calloc(1, sizeof(*s));
    if (s != NULL)
        s->iobuf = malloc(CAP_IOBUF);
    if (s != NULL) {
        /* For progress reports: the size of all files, unknown (0) if one is not regular. */
        for (size_t i = 0; i < n; i++) {
            struct stat sb;
            if (strcmp(files[i], "-") == 0 || stat(files[i], &sb) != 0 || !S_ISREG(sb.st_mode)) {
                s->st.file_bytes_total = 0;
                break;
            }
            s->st.file_bytes_total += (uint64_t)sb.st_size;
        }
    }
    if (s == NULL || s->iobuf == NULL) {
        free(s);
        snprintf(err, errlen, "capture: %s", strerror(ENOMEM));
        return NULL;
    }
    s->files = files;
    s->n_files = n;
    s->bpf = bpf;
    return s;
}

void
cap_close(struct cap_source *s)
{
    if (s == NULL)
        return;
    if (s->p != NULL)
        pcap_close(s->p);
    free(s->iobuf); /* after pcap_close(): the file's stdio buffer */
    free(s);
}

struct cap_source *
cap_open_live(const struct cap_live_config *c, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    struct cap_source *s = NULL;
    pcap_t *p = pcap_create(c->iface, ebuf);
    int rc;

    if (p == NULL) {
        snprintf(err, errlen, "-i %s: %s", c->iface, ebuf);
        return NULL;
    }
    if ((rc = pcap_set_snaplen(p, (int)c->snaplen)) != 0 ||
        (rc = pcap_set_promisc(p, c->promisc)) != 0 ||
        (rc = pcap_set_timeout(p, c->timeout_ms)) != 0 ||
        (c->buffer_size > 0 && (rc = pcap_set_buffer_size(p, (int)c->buffer_size)) != 0)) {
        snprintf(err, errlen, "-i %s: %s", c->iface, pcap_statustostr(rc));
        goto fail;
    }
    rc = pcap_activate(p);
    if (rc < 0) {
        /* pcap_geterr() often repeats the status ("No such device exists"): say it once. */
        const char *st = pcap_statustostr(rc), *why = pcap_geterr(p);
        if (why[0] == '\0' || strcmp(why, st) == 0)
            snprintf(err, errlen, "-i %s: %s", c->iface, st);
        else
            snprintf(err, errlen, "-i %s: %s: %s", c->iface, st, why);
        goto fail;
    }
    if (c->fanout_group != 0) {
        /* libpcap 1.10 has no fanout API: join the group on its socket. */
        uint32_t arg = (uint32_t)c->fanout_group |
                       (uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16;
        if (setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0) {
            snprintf(err, errlen, "-i %s: PACKET_FANOUT: %s", c->iface, strerror(errno));
            goto fail;
        }
    }
    if (c->bpf != NULL) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, c->bpf, 1, 0xffffff00) != 0) {
            snprintf(err, errlen, "--bpf-filter '%s' on %s: %s", c->bpf, c->iface,
                     pcap_geterr(p));
            goto fail;
        }
        rc = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (rc != 0) {
            snprintf(err, errlen, "--bpf-filter '%s' on %s: %s", c->bpf, c->iface,
                     pcap_geterr(p));
            goto fail;
        }
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "-i %s: %s", c->iface, strerror(ENOMEM));
        goto fail;
    }
    /* Non-blocking reads plus our own poll(): with TPACKET_V3 a blocking read can wait
     * forever on an idle interface, and timely expiry needs the loop to wake up. */
    if (pcap_setnonblock(p, 1, ebuf) != 0) {
        snprintf(err, errlen, "-i %s: %s", c->iface, ebuf);
        free(s);
        goto fail;
    }
    s->p = p;
    s->dlt = pcap_datalink(p);
    s->live = 1;
    s->timeout_ms = c->timeout_ms;
    return s;
fail:
    pcap_close(p);
    return NULL;
}

void
cap_break(struct cap_source *s)
{
    atomic_store(&s->stop, 1);
}

int
cap_is_live(const struct cap_source *s)
{
    return s->live;
}

/* Fills pkt from a libpcap record. */
static void
take(struct cap_source *s, const struct pcap_pkthdr *h, const u_char *bytes,
     struct cap_packet *pkt)
{
    pkt->bytes = bytes;
    pkt->caplen = h->caplen;
    pkt->wirelen = h->len;
    pkt->dlt = s->dlt;
    /* NFStream's TICK: tv_usec is signed (libpcap reads it as a signed 32-bit field), so a
     * garbage negative value subtracts; the sum wraps as uint64 like NFStream's. */
    pkt->time_ms = (uint64_t)h->ts.tv_sec * 1000u + (uint64_t)(int64_t)(h->ts.tv_usec / 1000);
    s->st.packets++;
    s->st.bytes += h->len;
    if (h->caplen > h->len)
        s->st.caplen_gt_len++;
}

/* Non-blocking capture: waits for the next block (or timeout_ms) with our own poll(). */
static enum cap_result
wait_readable(struct cap_source *s, int timeout_ms)
{
    struct pollfd pfd = {.fd = pcap_get_selectable_fd(s->p), .events = POLLIN};

    poll(&pfd, 1, timeout_ms);
    return CAP_TIMEOUT;
}

static enum cap_result
next_live(struct cap_source *s, struct cap_packet *pkt)
{
    struct pcap_pkthdr *h;
    const u_char *bytes;

    if (atomic_load(&s->stop)) {
        /* Stopping: what the kernel already captured is still read (so a SIGTERM loses no
         * packet that arrived before it), for a bounded time. TPACKET_V3 hands packets over a
         * block at a time, and a block that is not full is retired only after the read
         * timeout: an empty read does not mean nothing is left, so the drain lasts two read
         * timeouts (the last packets may sit in a block the kernel has not retired yet). */
        uint64_t now = clk_mono_ms();
        if (s->drain_until == 0)
            s->drain_until = now + 2 * (uint64_t)(s->timeout_ms > 0 ? s->timeout_ms : 100);
        if (now >= s->drain_until)
            return CAP_END;
        int rc = pcap_next_ex(s->p, &h, &bytes);
        if (rc == 1) {
            take(s, h, bytes, pkt);
            return CAP_PACKET;
        }
        if (rc != 0)
            return CAP_END;
        return wait_readable(s, (int)(s->drain_until - now));
    }
    int rc = pcap_next_ex(s->p, &h, &bytes);
    if (rc == 1) {
        take(s, h, bytes, pkt);
        return CAP_PACKET;
    }
    if (rc == 0) {
        return wait_readable(s, s->timeout_ms);
    }
    snprintf(s->error, sizeof(s->error), "capture: %s", pcap_geterr(s->p));
    s->has_error = 1;
    return CAP_END;
}

enum cap_result
cap_next(struct cap_source *s, struct cap_packet *pkt)
{
    if (s->live)
        return next_live(s, pkt);
    for (;;) {
        if (s->p == NULL) {
            if (s->cur >= s->n_files)
                return CAP_END;
            char err[PCAP_ERRBUF_SIZE + 256];
            s->p = open_one(s->files[s->cur], s->bpf, s->iobuf, err, sizeof(err));
            if (s->p == NULL) {
                /* The file changed since cap_open_files(); report and go on. */
                snprintf(s->error, sizeof(s->error), "%s", err);
                s->has_error = 1;
                s->st.files_truncated++;
                s->cur++;
                continue;
            }
            s->dlt = pcap_datalink(s->p);
        }
        struct pcap_pkthdr *h;
        const u_char *bytes;
        int rc = pcap_next_ex(s->p, &h, &bytes);
        if (rc == 1) {
            take(s, h, bytes, pkt);
            return CAP_PACKET;
        }
        if (rc == PCAP_ERROR) {
            snprintf(s->error, sizeof(s->error), "%s: %s", s->files[s->cur], pcap_geterr(s->p));
            s->has_error = 1;
            s->st.files_truncated++;
        }
        /* End of this file (or an error in it): on to the next one. */
        s->st.files_read++;
        FILE *fp = pcap_file(s->p);
        long pos = fp != NULL ? ftell(fp) : -1;
        if (pos > 0)
            s->done_bytes += (uint64_t)pos;
        pcap_close(s->p);
        s->p = NULL;
        s->cur++;
    }
}

const char *
cap_take_error(struct cap_source *s)
{
    if (!s->has_error)
        return NULL;
    s->has_error = 0;
    return s->error;
}

void
cap_stats(const struct cap_source *s, struct cap_stats *out)
{
    *out = s->st;
    if (!s->live) {
        /* Same thread as cap_next(): the FILE is ours to ask. */
        FILE *fp = s->p != NULL ? pcap_file(s->p) : NULL;
        long pos = fp != NULL ? ftell(fp) : -1;
        out->file_bytes_read = s->done_bytes + (pos > 0 ? (uint64_t)pos : 0);
        out->file_index = s->cur;
    }
    if (s->live && s->p != NULL) {
        struct pcap_stat ps;
        if (pcap_stats(s->p, &ps) == 0) {
            out->kernel_drops = ps.ps_drop;
            out->if_drops = ps.ps_ifdrop;
        }
    }
}

const char *
cap_lib_version(void)
{
    return pcap_lib_version();
}

int
cap_check_filter(const char *expr, const char *file, char *err, size_t errlen)
{
    struct bpf_program prog;
    struct stat st;
    char ebuf[PCAP_ERRBUF_SIZE];
    int dlt = DLT_EN10MB, rc = 0;

    if (file != NULL && stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
        pcap_t *f = pcap_open_offline(file, ebuf);
        if (f != NULL) {
            dlt = pcap_datalink(f);
            pcap_close(f);
        }
    }
    pcap_t *p = pcap_open_dead(dlt, 262144);

    if (p == NULL) {
        snprintf(err, errlen, "libpcap: out of memory");
        return -ENOMEM;
    }
    if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "%s", pcap_geterr(p));
        rc = -EINVAL;
    } else {
        pcap_freecode(&prog);
    }
    pcap_close(p);
    return rc;
}
