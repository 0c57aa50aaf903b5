/*
 * zmq.h - the ntopng sink: flows over ZMQ as nProbe sends them (spec ntopng-zmq.md).
 *
 * Every message is two frames: a 28-byte header (topic "flow" or "event", version 3, msg_id
 * in network order, +1 per message across topics, source id) and a payload: nDPI TLV (libndpi's
 * serializer, numeric keys) of at most ZSINK_MAX_FLOWS records and ZSINK_MAX_PAYLOAD octets for
 * flows, JSON for events. The fields are the field catalogue's rows with an ntop id
 * (fields.def), with the semantics ntopng expects: counters are deltas of IP-layer octets and
 * packets since the flow's last update, times are epoch seconds, L7_PROTO is "master.app" in the
 * receiver's nDPI numbering (ndpi_ids.h).
 *
 * Live updates: the sink's meter extension (zsink_meter_ext()) keeps per flow the counters last
 * reported; zsink_due(), on the packet path, decides when a flow that is still active is reported
 * again (every update interval of packet time, and before a delta could reach 2^31) and notes
 * that update's deltas in the flow's state. The worker then hands a copy of the flow to the output
 * thread through its ring (worker.h, wrk_is_update()), in order with the finished flows: only the
 * output thread serializes and touches the ZMQ sockets; the packet path allocates nothing and
 * does no I/O. Sending never blocks (ZMQ_DONTWAIT, bounded high-water mark, XPUB_NODROP so that
 * a full queue is a counted drop per endpoint, not a silent one). The final report carries the
 * rest. IN_BYTES / OUT_BYTES are the catalogue rows whose IPFIX elements are octetDeltaCount /
 * reverseOctetDeltaCount (found by name): RFC 7012's IP-layer octets, as ntopng counts them.
 *
 * Start-up in two steps: zsink_new() checks the configuration and builds what the workers need
 * (before the capability drop, so that a bad key or endpoint fails early); zsink_start() creates
 * libzmq's context (its I/O threads) and the sockets, after the drop and --user. SIGHUP:
 * zsink_reload() opens the new endpoints, keeps the unchanged ones and closes the others; the
 * message ids go on (ntopng counts a gap as drops).
 *
 * The only module that includes <zmq.h>. Prefix zsink_ (libzmq owns zmq_).
 */
#ifndef NFPROBE_ZMQ_H
#define NFPROBE_ZMQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flow.h"
#include "meter.h"
#include "ndpi_ids.h"

#define ZSINK_MAX_FLOWS 255          /* ntopng counts the flows of a message in a u8 */
#define ZSINK_MAX_PAYLOAD 131072u    /* ntopng drops a larger payload whole */
#define ZSINK_MAX_ENDPOINTS 16
#define ZSINK_SCHEME "zmq+"          /* -c zmq+tcp://HOST:PORT */

struct zsink_config {
    const char *const *connect;  /* "tcp://HOST:PORT": ntopng -i tcp://HOST:PORTc binds */
    size_t n_connect;
    const char *const *bind;     /* "tcp://ADDR:PORT": ntopng -i tcp://ADDR:PORT connects */
    size_t n_bind;
    uint32_t source_id;          /* header source_id */
    const char *server_key;      /* CURVE: ntopng's public key (Z85, 40 chars), or NULL */
    uint32_t update_s;           /* live updates of active flows, seconds (0 = 30) */
    uint32_t event_s;            /* event messages, seconds (0 = 10) */
    uint32_t flush_ms;           /* a partly filled flow message leaves after this (0 = 1000) */
    uint32_t hwm;                /* messages queued per endpoint at most (0 = 1000) */
    bool rebase_time;            /* shift capture times so the first packet is "now" */
    uint32_t ifindex;            /* INPUT_SNMP, 0 = not sent */
    const char *iface;           /* for events: interface or file name (copied) */
    uint64_t idle_s;             /* the probe's timeouts, for events */
    uint64_t active_s;
    bool offline;                /* reading files: wait (bounded) for subscribers at start */
    const char *version;         /* probe version for events */
};

/* Counters of one endpoint (i < n) or of them all (SIZE_MAX, with those a reload closed). */
struct zsink_stats {
    uint64_t messages;           /* messages accepted by the endpoint's queue */
    uint64_t dropped;            /* messages not sent: queue full (high-water mark) */
    uint64_t no_subscriber;      /* messages sent while nobody subscribed (PUB drops them) */
    uint64_t flows;              /* flow records in accepted messages (updates included) */
    uint64_t updates;            /* of which live updates of still active flows */
    uint64_t events;
    uint64_t subscribers;        /* current subscriptions seen */
    uint64_t l7_untranslated;    /* records whose L7 id the receiver lacks (no L7_PROTO) */
    char endpoint[256];          /* the endpoint's URL (one endpoint), copied under the lock */
};

/* Counters of the probe the events report. */
struct zsink_probe_stats {
    uint64_t packets;
    uint64_t bytes;
    uint64_t drops;
    uint64_t flows;
};

struct zsink;

/* Checks a configuration without opening anything (-n, SIGHUP): endpoints "tcp://HOST:PORT"
 * (PORT may be * to bind), at most ZSINK_MAX_ENDPOINTS, the CURVE key. 0 or -EINVAL with a
 * one-line err naming the flag. */
int zsink_check(const struct zsink_config *c, char *err, size_t errlen);

/*
 * Checks the configuration (zsink_check()) and builds the sink without any socket or thread:
 * the workers carry its meter extension. Copies what it keeps of c. NULL with a one-line err.
 */
struct zsink *zsink_new(const struct zsink_config *c, char *err, size_t errlen);

/*
 * Creates libzmq's context and one XPUB socket per endpoint, connects and binds: after the
 * capability drop. Offline, waits up to 3 s for every endpoint's first subscriber (the slow
 * joiner: PUB drops what it sends before). 0 or -errno with a one-line err naming the endpoint.
 */
int zsink_start(struct zsink *z, char *err, size_t errlen);

/*
 * SIGHUP: the new endpoints (c's), intervals, high-water mark, key and source id. Endpoints
 * whose URL, mode, key and high-water mark are unchanged keep their socket (and queue); the
 * others are opened first (on failure nothing changes: -errno, err), then the pending message
 * leaves on the old set and the removed endpoints close. Flow messages wait (up to 3 s, at most
 * one message) for a new endpoint's first subscriber. Output thread.
 */
int zsink_reload(struct zsink *z, const struct zsink_config *c, char *err, size_t errlen);

/*
 * The meter extension that keeps each flow's report state (sink_ext of wrk_config, with
 * zsink_due() and zsink_reported() as its sink_due and sink_reported). Then zsink_bind()
 * before the first packet.
 */
struct mtr_ext zsink_meter_ext(struct zsink *z);

/*
 * Packet path (worker thread): true when f, still active, must be reported now (a live update:
 * the worker hands a copy to the output thread, then calls zsink_reported()).
 */
bool zsink_due(void *ctx, struct flow *f, void *state, const struct pkt_meta *m);
/* Worker thread, after the update's copy was taken: its counters are now reported. */
void zsink_reported(void *ctx, struct flow *f, void *state);

/*
 * What the flows look like once the meters exist: where their extensions are (L: the L7
 * labels; ext_off: this sink's state, mtr_ext_offset()), and the nDPI id translation (ids, or
 * NULL: ids are sent as the probe's nDPI numbers them). ids must outlive the sink.
 */
void zsink_bind(struct zsink *z, const struct flow_layout *L, size_t ext_off,
                const struct nid_map *ids);

/* Reports a flow from the workers' rings: a finished flow (the rest since its last update) or
 * a live update's copy (wrk_is_update()). Output thread. */
void zsink_flow(struct zsink *z, const struct flow *f);

/* Timers: flush a partly filled message, events, subscriptions. ps may be NULL. Output thread. */
void zsink_tick(struct zsink *z, uint64_t now_mono_ms, const struct zsink_probe_stats *ps);

/* How often zsink_tick() wants to run, ms (for the output loop's timer). */
uint32_t zsink_tick_ms(const struct zsink *z);

/* Sends what is pending, a last event, then closes (waits at most linger_ms for the queues). */
void zsink_close(struct zsink *z, const struct zsink_probe_stats *ps, unsigned linger_ms);
void zsink_free(struct zsink *z);

/* Thread-safe (the metrics thread): endpoints change on SIGHUP. */
size_t zsink_n_endpoints(struct zsink *z);
void zsink_stats(struct zsink *z, size_t i, struct zsink_stats *out);

/* One line per endpoint: messages, flows, drops. */
void zsink_summary(struct zsink *z, FILE *out);

/* 0 when key is a well-formed Z85 CURVE public key (40 characters), else -EINVAL. */
int zsink_check_key(const char *key);

#endif
