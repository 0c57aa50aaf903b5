/*
 * export.h - flow export to collectors: IPFIX (or NetFlow v9) over UDP, TCP or TLS.
 *
 * One exporter feeds every collector given with -c. Each collector has its own encoder state
 * (templates, sequence numbers: one IPFIX transport session per connection), its own transport
 * (transport.h) and a bounded queue of finished flows, used while it cannot take them: a
 * TCP/TLS collector that is down or slow, UDP output being paced. What cannot be queued or sent
 * is counted as not sent, in flows, packets and octets (RFC 7011 notSent*), and reported to
 * the collector in the exporting reliability options record.
 *
 * Single-threaded, owned by the output thread: exp_watch() puts the collectors' sockets and
 * timers (connects and backoff, pacing, flush, template refresh, ACK checks) into its event
 * loop (evloop.h), and exp_rearm() after a batch of exp_flow() calls updates them. Nothing here
 * sleeps. Reading files, the caller stops feeding flows while exp_backlogged() (its worker
 * then waits on its full ring) instead of letting the queues drop. At the end, exp_finish()
 * starts the drain in the loop, exp_drained() says when it is over, exp_close() ends it.
 */
#ifndef NFPROBE_EXPORT_H
#define NFPROBE_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "features.h"
#include "flow.h"
#include "sampling.h"

/*
 * plugin: a per-flow element a plugin adds (plugin.h plg_exp_extras()), kept small on purpose
 * like output.h's out_extra. The IPFIX encoder appends it to the data templates after the
 * chosen fields, as an enterprise element under --pen described by an RFC 5610 type record; the
 * NetFlow v9 encoder appends the ones with a v9 id (fixed length) to its templates.
 */
#define EXP_MAX_EXTRA 64
#define EXP_V9_EXTRA_FIRST 53376u /* v9 ids of plugin elements: after nfprobe's own custom */
#define EXP_V9_EXTRA_LAST 57471u  /* ids (53248 + 0..127), before ntop's (57472 on) */

struct exp_extra {
    const char *name;        /* IPFIX element name */
    const char *description; /* for the RFC 5610 type record */
    uint16_t id;             /* element id under our PEN, below the reverse bit (0x4000) */
    uint16_t v9_id;          /* NetFlow v9 field type, 0 = not in v9 */
    uint8_t type;            /* IANA abstract data type: 0 octetArray, 1-8 unsigned8..signed64,
                              * 10 float64, 13 string */
    bool varlen;             /* IPFIX variable length (v9: `length` octets, zero-padded) */
    uint16_t length;         /* the fixed length, or the most a variable-length value has */
    /* Writes the value in f, in network order, into buf (cap octets); returns its length. */
    size_t (*encode)(const void *ctx, const struct flow *f, uint8_t *buf, size_t cap);
    const void *ctx;
};

struct exp_config {
    const char *const *collectors; /* "ipfix+udp://HOST:PORT", "ipfix+tcp://", "ipfix+tls://",
                                    * "v9+udp://", "v5+udp://" (the scheme picks the encoder),
                                    * each with an optional ?query (exp_parse_options) */
    size_t n_collectors;
    const char *collector_mode;    /* "all" (NULL = all) or "round-robin" */
    uint32_t observation_domain;   /* every collector's but those with ?domain= */
    bool uniflow;                  /* --uniflow: every IPFIX/v9 collector sends uniflows */
    uint32_t pen;                  /* our private enterprise number (0 = 32473) */
    uint32_t mtu;                  /* largest UDP message, octets (0 = 1400) */
    uint32_t template_refresh_s;   /* UDP template / all options refresh, seconds (0 = 60) */
    uint32_t template_refresh_packets; /* NetFlow v9: also every N export packets (0 = 20) */
    const char *template_file;     /* --ipfix-template, NULL = every field */
    bool ntop_compat;
    const char *tls_ca;
    const char *tls_cert;
    const char *tls_key;
    struct flow_layout layout;     /* what the flows carry and where: wrk_layout() */
    /* nDPI's protocol names (dpi_proto_name, dpi_num_protocols), for the application map
     * that nfdump resolves applicationId with; called in exp_new() only. NULL = no map. */
    const char *(*app_name)(void *ctx, uint16_t id);
    void *app_ctx;
    uint16_t n_apps;
    size_t flow_size;              /* bytes of a flow with its extensions: mtr_flow_size() */
    bool offline;                  /* reading files: exp_flow() waits for a slow collector */
    const struct exp_extra *extras; /* plugin: elements appended to the templates (or NULL) */
    size_t n_extras;
    struct smp_announce sampling;  /* --sampling: options records, upscale (interval 0: off) */
    /* Tuning (0 = default): */
    size_t queue_bytes;            /* per collector, flows waiting to be sent (16 MiB) */
    uint32_t flush_ms;             /* a partly filled message leaves after this long (1000) */
    uint32_t udp_rate;             /* UDP messages per second per collector at most (20000);
                                    * EXP_UDP_UNPACED: as fast as the socket takes them */
    uint32_t export_time_s;        /* tests: fixed export time in the headers (wall clock) */
};

/* exp_config.udp_rate: no pacing (--export-rate 0). */
#define EXP_UDP_UNPACED UINT32_MAX

/* What the metering process reports in the options records (RFC 7011 4.2). */
struct exp_process_stats {
    uint64_t packets_ignored; /* packets the decoder rejected */
    uint64_t octets_ignored;  /* their octets */
    uint64_t capture_drops;   /* packets the capture dropped (pcap ps_drop + ps_ifdrop) */
    uint64_t first_ms;        /* Unix ms of the first and the last packet observed, 0 = take */
    uint64_t last_ms;         /* the earliest start and latest end of the flows exported */
    uint64_t sampling_observed; /* --sampling: packets the selectors saw and kept (318/319) */
    uint64_t sampling_selected;
};

/* Counters of one collector (or of all, summed). */
struct exp_stats {
    uint64_t flows;            /* flows given to the collector */
    uint64_t flows_sent;       /* flows in messages the transport sent (UDP) or wrote (TCP/TLS) */
    uint64_t messages_sent;    /* messages and octets sent, templates and options included */
    uint64_t octets_sent;
    uint64_t not_sent_flows;   /* flows (and their packets, octets) that were not sent */
    uint64_t not_sent_packets;
    uint64_t not_sent_octets;
    uint64_t queued;           /* flows waiting in the queue now (not yet encoded) */
    uint64_t sessions;         /* transport sessions started */
    uint64_t connect_failures; /* failed connects and TLS handshakes */
    uint64_t not_exportable;   /* flows the protocol cannot carry (NetFlow v5: IPv6) */
};

struct exporter;

/*
 * Parses one collector URL: SCHEME+TRANSPORT://HOST[:PORT][?OPTIONS] with SCHEME "ipfix", "v9"
 * or "v5", TRANSPORT "udp", "tcp" or "tls" (v5: udp only), HOST a name, an IPv4 literal or a
 * bracketed IPv6 literal; PORT defaults to 4739 (4740 for ipfix+tls, 2055 for v9 and v5).
 * OPTIONS are checked as exp_parse_options() does. Writes host and port (NUL-terminated) into
 * the caller's buffers.
 * Returns 0 or -EINVAL with a one-line err naming the URL.
 */
int exp_parse_collector(const char *url, char *scheme, size_t scheme_len, char *transport,
                        size_t transport_len, char *host, size_t host_len, char *port,
                        size_t port_len, char *err, size_t errlen);

/* A collector's own settings, from its URL's query (&-separated). */
struct exp_collector_options {
    bool uniflow;          /* ?uniflow: IPFIX/v9 records one per direction */
    bool has_domain;       /* ?domain=N: observation domain / v9 source id / v5 engine id */
    uint32_t domain;
    int engine_type;       /* ?engine-type=N (v5, 0-255); -1 = default 0 */
    int engine_id;         /* ?engine-id=N (v5, 0-255); -1 = default: the domain's low octet */
    char exporter[64];     /* ?exporter=ADDR: the source address to send from, "" = any */
};

/* Parses url's query into o. Returns 0 or -EINVAL with a one-line err naming the URL. */
int exp_parse_options(const char *url, struct exp_collector_options *o, char *err,
                      size_t errlen);

/*
 * Opens every collector (resolves names, loads TLS material, opens UDP sockets; TCP/TLS
 * connect in the background) and builds the encoders. Allocates all queues now. Returns NULL
 * with a one-line err naming the collector, flag or file.
 */
struct exporter *exp_new(const struct exp_config *c, char *err, size_t errlen);

/*
 * Exports one finished flow (to every collector, or to the next one in round-robin mode).
 * Copies what it keeps: f may be reused after the call. Never blocks.
 */
void exp_flow(struct exporter *x, const struct flow *f);

/*
 * Drives the collectors: connects, template refresh, flushes messages older than flush_ms,
 * sends queued flows. Call it often (every few hundred packets and when idle). mono_ms is a
 * monotonic clock; ps (may be NULL) the metering counters for the options records.
 */
void exp_poll(struct exporter *x, uint64_t mono_ms, const struct exp_process_stats *ps);

/*
 * Ends the export: sends what is queued and the final options records, waiting at most
 * timeout_ms in all (in an event loop of its own, when not drained yet) for collectors to
 * connect and take them, then closes every transport gracefully (a short grace for the
 * close). What is still unsent is counted as not sent. exp_stats() stays valid.
 */
void exp_close(struct exporter *x, const struct exp_process_stats *ps, int timeout_ms);

void exp_free(struct exporter *x);

struct ev_loop;
/* Registers the collectors' sockets and the exporter's timer with l (NULL: unregisters). */
void exp_watch(struct exporter *x, struct ev_loop *l);
/* After exp_flow() calls: updates the watched sockets and the timer. */
void exp_rearm(struct exporter *x);
/* No more flows: each collector gets its final options records once its queue is empty. */
void exp_finish(struct exporter *x, const struct exp_process_stats *ps);
/* True when every collector sent (and its peer acknowledged) everything, final records too. */
bool exp_drained(const struct exporter *x);

/*
 * True when a collector's queue is more than half full: it takes flows more slowly than they
 * come (UDP pacing, a slow or not yet connected TCP collector). Reading a capture file, the
 * caller then stops feeding flows until the loop's events have drained it, rather than let the
 * queue drop flows. Live capture never waits: the queue absorbs bursts, drops (counted) when full.
 */
bool exp_backlogged(const struct exporter *x);

size_t exp_n_collectors(const struct exporter *x);
/* The URL of collector i, as given. */
const char *exp_collector_name(const struct exporter *x, size_t i);
/* Counters of collector i, or of all collectors summed when i == SIZE_MAX. */
void exp_stats(const struct exporter *x, size_t i, struct exp_stats *out);

/* Writes one line per collector: flows sent, not sent, sessions ("nfprobe: export ..."). */
void exp_summary(const struct exporter *x, FILE *out);

#endif
