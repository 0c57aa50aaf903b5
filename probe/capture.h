/*
 * capture.h - packet sources: capture files read in order as one stream (NFStream's
 * multi-file source), through libpcap (pcap and pcapng, every byte order and time precision).
 *
 * The only module that talks to libpcap. Packet bytes returned by cap_next() are borrowed
 * from libpcap and valid only until the next call.
 */
#ifndef NFPROBE_CAPTURE_H
#define NFPROBE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct cap_source;

/* One captured packet, as libpcap hands it over. */
struct cap_packet {
    const uint8_t *bytes; /* BORROWED until the next cap_next() */
    uint32_t caplen;
    uint32_t wirelen;
    int dlt;
    uint64_t time_ms; /* NFStream's ms: tv_sec * 1000 + tv_usec / 1000 (signed usec) */
};

/* Capture-level counters (what the decoder never sees). */
struct cap_stats {
    uint64_t packets;      /* records read */
    uint64_t bytes;        /* their wire length */
    uint64_t caplen_gt_len; /* records claiming more captured than wire bytes */
    uint64_t files_read;
    uint64_t files_truncated; /* files that ended in a read error (cut or corrupt record) */
    uint64_t kernel_drops;  /* live: pcap_stats ps_drop */
    uint64_t if_drops;      /* live: pcap_stats ps_ifdrop */
    uint64_t file_bytes_read;  /* files: bytes of the files consumed so far */
    uint64_t file_bytes_total; /* files: their total size, 0 = unknown (stdin, a FIFO) */
    size_t file_index;         /* files: the one being read (n when all are read) */
};

enum cap_result {
    CAP_PACKET = 1,
    CAP_TIMEOUT = 0, /* live only: no packet within the read timeout */
    CAP_END = -2,    /* every file read */
};

/*
 * Checks that every file opens as a capture and that the filter compiles for it, then
 * returns a source positioned before the first packet. Returns NULL with err naming the file.
 */
struct cap_source *cap_open_files(const char *const *files, size_t n, const char *bpf,
                                  char *err, size_t errlen);

/* Live capture settings (NFStream's names). */
struct cap_live_config {
    const char *iface;
    uint32_t snaplen;       /* --snapshot-length */
    int promisc;            /* --promiscuous-mode */
    uint32_t buffer_size;   /* --socket-buffer-size, 0 = libpcap's default */
    int timeout_ms;         /* read timeout: how often an idle capture wakes up */
    const char *bpf;
    uint16_t fanout_group;  /* PACKET_FANOUT group id; 0 = no fanout (one worker) */
};

/*
 * Opens and activates a live capture on an interface. With a fanout group, joins it with
 * PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG (flow-symmetric hash, fragments joined first),
 * so each worker of the group sees whole flows. Returns NULL with err naming the interface.
 */
struct cap_source *cap_open_live(const struct cap_live_config *c, char *err, size_t errlen);

/* Makes a blocked cap_next() of another thread return soon (CAP_END). Async-signal-safe use
 * is not required: call from a thread. */
void cap_break(struct cap_source *s);

/* True for a live source. */
int cap_is_live(const struct cap_source *s);
void cap_close(struct cap_source *s);

/*
 * Next packet. A file that ends in a read error is reported through cap_last_error() and
 * counted, and reading goes on with the next file: flows already built are never lost.
 */
enum cap_result cap_next(struct cap_source *s, struct cap_packet *p);

/* The last non-fatal read error ("FILE: truncated dump file ..."), or NULL; cleared on read. */
const char *cap_take_error(struct cap_source *s);

void cap_stats(const struct cap_source *s, struct cap_stats *out);

/* libpcap's version string ("libpcap version 1.10.3 (...)"). */
const char *cap_lib_version(void);

/*
 * Compiles the BPF expression without capturing, as -n's check: for the link type of the
 * capture file `file` (its header is read; a FIFO, "-" or NULL: Ethernet, as for a live
 * interface, whose type is known only once it opens). Returns 0, or -EINVAL with libpcap's
 * message in err.
 */
int cap_check_filter(const char *expr, const char *file, char *err, size_t errlen);

#endif
