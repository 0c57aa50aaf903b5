/*
 * kafka.h - the Kafka sink: one message per flow onto a topic, through librdkafka.
 *
 * -c kafka://BROKER[,BROKER...]/TOPIC[?format=json|ipfix&compression=zstd&PROPERTY=VALUE...]
 *
 * format=json (the default), one message per flow. Value: the flow as one JSON object, the
 * same keys and values as --json (output.h out_render()). Key: 16 lowercase hex digits, XXH64
 * (seed 0) of the flow's source address (the first packet's sender, NFStream's src_ip): every
 * flow a host starts lands in one partition, in the order nfprobe exported them, and every probe
 * of a fleet keys a host the same way.
 *
 * format=ipfix, one message per batch of flows. Value: IPFIX messages back to back (an RFC 5655
 * file), encoded by the IPFIX exporter's own encoder (export_ipfix.c): first what a collector
 * gets at the start of a session (templates, type records, application map, options data), then
 * the batch's flows. Every value decodes alone. Key: the observation domain in decimal, so a
 * probe's batches stay in order in one partition and their sequence numbers run on.
 *
 * Headers (both formats): "observation_domain" (decimal, --observation-domain) and
 * "nfprobe_version". The counters count flows in both formats.
 *
 * Producer settings, in the order they apply (later wins): nfprobe's defaults (idempotent
 * producer, acks=all, lz4, linger 50 ms, a bounded local queue, Java-compatible murmur2
 * partitioner), then --kafka-option key=value (every collector), then the URL's query
 * (this collector). Any librdkafka property can be set; an unknown one is an error.
 *
 * Threading: one thread owns a struct kfk (the output thread): kfk_flow(), kfk_poll() and
 * kfk_close() are called from it; delivery reports are served inside kfk_poll() and
 * kfk_flow(). kfk_stats() may be called from any thread (counters are atomic).
 * librdkafka's own threads do the network I/O: nothing here waits on a broker, except
 * kfk_close() (bounded) and, reading files, kfk_flow() while deliveries still progress.
 */
#ifndef NFPROBE_KAFKA_H
#define NFPROBE_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "export_enc.h"
#include "flow.h"
#include "output.h"

/* kfk_poll() should run at least this often even when kfk_poll_fd() stays quiet (timers). */
#define KFK_POLL_INTERVAL_MS 100

/* The scheme prefix that routes a -c URL to this sink instead of the IPFIX/v9 exporter. */
#define KFK_SCHEME "kafka://"

struct kfk_config {
    const char *url;               /* -c kafka://... */
    const char *const *options;    /* --kafka-option "key=value" strings (may be NULL) */
    size_t n_options;
    uint32_t observation_domain;   /* the header's value */
    const char *version;           /* nfprobe's version, the other header */
    const struct out_config *out;  /* the JSON columns (same as --json) */
    const char *anonymize;         /* --anonymize, as for --json (NULL = none) */
    bool offline;                  /* reading files: wait while deliveries progress rather
                                    * than drop when the local queue is full */
    /* format=ipfix: the IPFIX encoder's parameters as for an IPFIX collector (template file,
     * PEN, layout, application names, plugin elements); max_msg, sink and sink_ctx are
     * kafka.c's. observation_domain is taken from above. */
    struct exp_enc_params ipfix;
};

/* Per-collector counters, in flows (format=json: one message per flow; format=ipfix: a message
 * counts as the flows it carries). */
struct kfk_stats {
    uint64_t produced;  /* handed to librdkafka */
    uint64_t delivered; /* acknowledged by the brokers (delivery report without error) */
    uint64_t failed;    /* delivery report with an error, purged at close, or refused by produce */
    uint64_t dropped;   /* not queued: the local queue was full (brokers down or slow) */
    uint64_t retried;   /* produce requests librdkafka sent again (statistics "txretries") */
    uint64_t queued;    /* in librdkafka's queue now: not yet delivery-reported */
};

struct kfk;

/* True when url is a Kafka collector URL (starts with "kafka://"). */
bool kfk_is_url(const char *url);
/* True when a kafka:// URL asks for ?format=ipfix (the sink then encodes the export fields). */
bool kfk_url_ipfix(const char *url);

/*
 * Parses and checks a kafka:// URL without opening anything: brokers (HOST[:PORT], IPv6 in
 * brackets), the topic (1..249 of [A-Za-z0-9._-]), the query (format=json|ipfix, compression=CODEC,
 * other keys are librdkafka properties). Writes the broker list and topic, NUL-terminated.
 * Returns 0 or -EINVAL with a one-line err naming the URL.
 */
int kfk_parse_url(const char *url, char *brokers, size_t brokers_len, char *topic,
                  size_t topic_len, char *err, size_t errlen);

/*
 * Everything kfk_new() checks before it starts a producer: the URL, each --kafka-option
 * ("key=value", a property librdkafka knows with a value it accepts). For -n. Returns 0 or
 * -EINVAL with a one-line err naming the flag and the property.
 */
int kfk_check(const struct kfk_config *c, char *err, size_t errlen);

/*
 * Starts a producer for c->url (brokers are contacted in the background: a broker that is
 * down is not an error here). Returns NULL with a one-line err naming the flag or URL.
 */
struct kfk *kfk_new(const struct kfk_config *c, char *err, size_t errlen);

/*
 * Queues one flow (copied: f may be reused after the call). Never blocks live; when the local
 * queue is full the flow is counted as dropped. Reading files (c->offline) it serves delivery
 * reports and waits while they keep coming, and drops only when deliveries have stalled
 * for a second (brokers down). Serves delivery reports every few hundred flows itself, so a
 * caller that never reaches kfk_poll() (the offline meter) still sees them.
 */
void kfk_flow(struct kfk *k, const struct flow *f);

/* Serves delivery reports, errors and statistics. Never blocks. */
void kfk_poll(struct kfk *k);

/*
 * A descriptor that becomes readable when kfk_poll() has work (librdkafka's queue event);
 * kfk_poll() drains it. For an event loop: watch it for reading, and call kfk_poll() also
 * every KFK_POLL_INTERVAL_MS.
 */
int kfk_poll_fd(const struct kfk *k);

/*
 * Ends the stream: flushes, waits at most timeout_ms for the delivery reports, then purges what
 * is left and counts it as failed (not delivered). kfk_stats() stays valid until kfk_free().
 */
void kfk_close(struct kfk *k, int timeout_ms);

void kfk_free(struct kfk *k);

/* Copies the counters. Any thread. */
void kfk_stats(const struct kfk *k, struct kfk_stats *st);

/* Flows not delivered: failed + dropped (meaningful after kfk_close()). */
uint64_t kfk_not_delivered(const struct kfk *k);

/* The URL as given. */
const char *kfk_name(const struct kfk *k);

/* One line: "nfprobe: kafka URL: N delivered, M not delivered (...)". */
void kfk_summary(const struct kfk *k, FILE *out);

#endif
