/*
 * kafka.c - the Kafka sink (kafka.h): the only file that includes librdkafka.
 *
 * format=json: each flow is rendered by the JSON writer (out_render) and handed to librdkafka
 * with RD_KAFKA_MSG_F_COPY, so nothing of the flow is kept. format=ipfix: flows go through the
 * IPFIX exporter's encoder (ipfix_encoder_ops, export_enc.h: no libfixbuf here), whose messages
 * are appended to one batch buffer; the batch is one Kafka message. librdkafka batches,
 * compresses, sends and retries in its own threads; its bounded local queue
 * (queue.buffering.max.messages/kbytes) is the only buffer: when it is full the flows are
 * counted as dropped. Each message's opaque is the number of flows it carries, so delivery
 * reports count flows in both formats. Reports come back through the main queue and are
 * counted in kfk_poll(); the queue's io-event fd lets an event loop wake up for them.
 */
#include "kafka.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "log.h"

#define KFK_MAX_BROKERS 1024
#define KFK_MAX_TOPIC 249   /* Kafka's own limit */
#define KFK_MAX_PROP 256    /* longest property name or value we copy out of a URL */
#define KFK_KEY_LEN 16      /* hex digits of a 64-bit hash */
/* out_render() keeps a row in its 1 MiB buffer only below half of it: 3 SPLT lists of N
 * entries take up to 36 N bytes, so N is capped well below (and below Kafka's 1 MB message). */
#define KFK_MAX_SPLT 10000
/* Freed heap the process keeps for the next messages (keep_heap()). */
#define KFK_HEAP_KEEP (128 * 1024 * 1024)
#define KFK_HEAP_PAD (16 * 1024 * 1024)
/* Reading files, a full queue waits this long for a delivery report before it drops. */
#define KFK_STALL_MS 1000
/* format=ipfix: IPFIX messages as large as IPFIX allows (fewer headers per flow). A batch ends
 * once it holds KFK_IPFIX_BATCH octets (less when message.max.bytes is lower), or when its first
 * flow is KFK_IPFIX_LINGER_MS old (the IPFIX exporter's flush interval), or at close. */
#define KFK_IPFIX_MSG 65535u
#define KFK_IPFIX_BATCH (512u * 1024u)
#define KFK_IPFIX_LINGER_MS 1000
/* A value can pass the batch size by two messages (the last flow's and the flush), plus the
 * record headers: message.max.bytes must leave room for a batch of at least 64 KiB. */
#define KFK_IPFIX_SLACK (2u * KFK_IPFIX_MSG + 4096u)
#define KFK_IPFIX_MIN_MAX_BYTES (KFK_IPFIX_SLACK + 65536u)

struct kfk {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    rd_kafka_queue_t *mainq;
    struct out_writer *json;
    char *url;
    char od[16];          /* observation domain, decimal: the header's value */
    size_t od_len;
    const char *version;
    bool offline;
    bool stalled;         /* offline: the last wait for room saw no delivery report */
    bool closed;
    int pipe_rd, pipe_wr; /* librdkafka writes to pipe_wr when its main queue gets events */
    unsigned since_poll;
    /* format=ipfix */
    void *enc;            /* ipfix_encoder_ops' state; NULL for format=json */
    bool session;         /* the encoder's session started (sequence numbers run on) */
    bool batch_open;      /* the batch holds the preamble: flows go after it */
    uint8_t *batch;       /* the Kafka message being filled: IPFIX messages back to back */
    size_t batch_len, batch_cap, batch_limit;
    bool batch_lost;      /* a message did not fit in memory: the batch is not sent */
    uint32_t batch_flows;
    uint64_t batch_t0;    /* monotonic ms of the batch's start */
    uint64_t start_ms;    /* Unix ms at kfk_new(), for the options records */
    uint64_t batches;     /* batches handed to librdkafka, and their octets */
    uint64_t batch_octets;
    /* Written by this sink's thread (delivery reports are served there), read by any. */
    _Atomic uint64_t produced;
    _Atomic uint64_t delivered;
    _Atomic uint64_t dr_failed; /* delivery reports with an error (purged ones included) */
    _Atomic uint64_t refused;   /* produce errors other than a full queue */
    _Atomic uint64_t dropped;
    _Atomic uint64_t lost;      /* still unreported when kfk_close() gave up */
    _Atomic uint64_t retried;
};

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
ld(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void
inc(_Atomic uint64_t *v, uint64_t n)
{
    atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

bool
kfk_is_url(const char *url)
{
    return url != NULL && strncmp(url, KFK_SCHEME, strlen(KFK_SCHEME)) == 0;
}

static int
url_error(char *err, size_t errlen, const char *url, const char *why)
{
    snprintf(err, errlen, "-c %s: %s (expected kafka://BROKER[:PORT][,BROKER...]/TOPIC[?KEY=VALUE"
                          "&...])", url, why);
    return -EINVAL;
}

/* One broker, HOST[:PORT] or [IPV6][:PORT], in s[0..n). */
static bool
valid_broker(const char *s, size_t n)
{
    const char *end = s + n, *p;

    if (n == 0)
        return false;
    if (*s == '[') {
        p = memchr(s, ']', n);
        if (p == NULL || p == s + 1)
            return false;
        p++;
    } else {
        p = s;
        while (p < end && *p != ':')
            p++;
        if (p == s)
            return false;
    }
    if (p == end)
        return true;
    if (*p != ':' || p + 1 == end || end - (p + 1) > 5)
        return false;
    unsigned long port = 0;
    for (const char *q = p + 1; q < end; q++) {
        if (!isdigit((unsigned char)*q))
            return false;
        port = port * 10 + (unsigned long)(*q - '0');
    }
    return port >= 1 && port <= 65535;
}

int
kfk_parse_url(const char *url, char *brokers, size_t brokers_len, char *topic, size_t topic_len,
              char *err, size_t errlen)
{
    const char *auth, *slash, *q, *t;

    if (!kfk_is_url(url))
        return url_error(err, errlen, url, "not a kafka:// URL");
    auth = url + strlen(KFK_SCHEME);
    slash = strchr(auth, '/');
    if (slash == NULL)
        return url_error(err, errlen, url, "no /TOPIC");
    if (slash == auth)
        return url_error(err, errlen, url, "no broker");
    if ((size_t)(slash - auth) >= brokers_len || slash - auth > KFK_MAX_BROKERS)
        return url_error(err, errlen, url, "broker list too long");
    for (const char *b = auth, *e = auth; e < slash; b = e + 1) {
        e = memchr(b, ',', (size_t)(slash - b));
        if (e == NULL)
            e = slash;
        if (!valid_broker(b, (size_t)(e - b))) {
            char why[300];
            snprintf(why, sizeof(why), "bad broker '%.*s' (HOST[:PORT], IPv6 as [ADDR]:PORT)",
                     (int)(e - b), b);
            return url_error(err, errlen, url, why);
        }
    }
    memcpy(brokers, auth, (size_t)(slash - auth));
    brokers[slash - auth] = '\0';

    t = slash + 1;
    q = strchr(t, '?');
    size_t tn = q != NULL ? (size_t)(q - t) : strlen(t);
    if (tn == 0)
        return url_error(err, errlen, url, "no topic");
    if (tn > KFK_MAX_TOPIC || tn >= topic_len)
        return url_error(err, errlen, url, "topic longer than 249 characters");
    for (size_t i = 0; i < tn; i++)
        if (!isalnum((unsigned char)t[i]) && t[i] != '.' && t[i] != '_' && t[i] != '-')
            return url_error(err, errlen, url, "a topic has only letters, digits, '.', '_', '-'");
    if ((tn == 1 && t[0] == '.') || (tn == 2 && t[0] == '.' && t[1] == '.'))
        return url_error(err, errlen, url, "'.' and '..' are not topic names");
    memcpy(topic, t, tn);
    topic[tn] = '\0';

    /* The query: KEY=VALUE pairs; what they mean is checked when they are applied. */
    for (const char *p = q != NULL ? q + 1 : NULL; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        if (n == 0 || eq == NULL || eq == p || eq + 1 == p + n) {
            char why[300];
            snprintf(why, sizeof(why), "'%.*s' in the query is not KEY=VALUE", (int)n, p);
            return url_error(err, errlen, url, why);
        }
        if ((size_t)(eq - p) >= KFK_MAX_PROP || (size_t)(p + n - eq - 1) >= KFK_MAX_PROP)
            return url_error(err, errlen, url, "query value too long");
        if ((size_t)(eq - p) == 6 && memcmp(p, "format", 6) == 0) {
            size_t vn = (size_t)(p + n - eq - 1);
            if (!(vn == 4 && memcmp(eq + 1, "json", 4) == 0) &&
                !(vn == 5 && memcmp(eq + 1, "ipfix", 5) == 0))
                return url_error(err, errlen, url, "format must be json or ipfix");
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return 0;
}

/* True when the URL's query has format=ipfix (kfk_parse_url() checked the query). */
bool
kfk_url_ipfix(const char *url)
{
    const char *q = strchr(url, '?');

    for (const char *p = q != NULL ? q + 1 : NULL; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, "&");
        if (n == 12 && memcmp(p, "format=ipfix", 12) == 0)
            return true;
        p += n;
        if (*p == '&')
            p++;
    }
    return false;
}

/* Sets one property; names what set it on failure (librdkafka's errstr says why). */
static int
set_prop(rd_kafka_conf_t *conf, const char *key, const char *val, const char *who, char *err,
         size_t errlen)
{
    char why[512];

    if (rd_kafka_conf_set(conf, key, val, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "%s: %s", who, why);
        return -EINVAL;
    }
    return 0;
}

/*
 * Why these defaults: flows must not be lost or doubled (idempotence implies acks=all, ordered
 * retries without duplicates); JSON compresses about 8:1 and lz4 costs the least CPU for it;
 * 50 ms of linger fills batches of thousands of flows at the rates a probe exports; the local
 * queue is bounded (100,000 flows or 64 MiB) so that a broker outage costs counted drops, not
 * memory; murmur2 is the Java client's partitioner, so a host's key maps to the partition any
 * other producer of the pipeline would choose; statistics every second give the retry count.
 */
static const char *const defaults[][2] = {
    {"client.id", "nfprobe"},
    {"enable.idempotence", "true"},
    {"acks", "all"},
    {"compression.codec", "lz4"},
    {"linger.ms", "50"},
    {"batch.num.messages", "10000"},
    {"queue.buffering.max.messages", "100000"},
    {"queue.buffering.max.kbytes", "65536"},
    {"partitioner", "murmur2_random"},
    {"statistics.interval.ms", "1000"},
};

/* defaults, then --kafka-option, then the URL's query (this collector's), then its brokers */
static int
build_conf(const struct kfk_config *c, rd_kafka_conf_t *conf, char *topic, size_t topic_len,
           char *err, size_t errlen)
{
    char brokers[KFK_MAX_BROKERS + 1], who[600], key[KFK_MAX_PROP], val[KFK_MAX_PROP];

    if (kfk_parse_url(c->url, brokers, sizeof(brokers), topic, topic_len, err, errlen) != 0)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (set_prop(conf, defaults[i][0], defaults[i][1], "kafka defaults", err, errlen) != 0)
            return -EINVAL;
    for (size_t i = 0; i < c->n_options; i++) {
        const char *o = c->options[i];
        const char *eq = strchr(o, '=');
        snprintf(who, sizeof(who), "--kafka-option %s", o);
        if (eq == NULL || eq == o || (size_t)(eq - o) >= sizeof(key)) {
            snprintf(err, errlen, "--kafka-option '%s': expected PROPERTY=VALUE (a librdkafka "
                                  "property)", o);
            return -EINVAL;
        }
        memcpy(key, o, (size_t)(eq - o));
        key[eq - o] = '\0';
        if (set_prop(conf, key, eq + 1, who, err, errlen) != 0)
            return -EINVAL;
    }
    const char *q = strchr(c->url + strlen(KFK_SCHEME), '?');
    for (const char *p = q != NULL ? q + 1 : NULL; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n); /* kfk_parse_url() checked the shape and sizes */
        memcpy(key, p, (size_t)(eq - p));
        key[eq - p] = '\0';
        memcpy(val, eq + 1, (size_t)(p + n - eq - 1));
        val[p + n - eq - 1] = '\0';
        p += n;
        if (*p == '&')
            p++;
        if (strcmp(key, "format") == 0)
            continue;
        snprintf(who, sizeof(who), "-c %s: %s=%s", c->url, key, val);
        if (set_prop(conf, strcmp(key, "compression") == 0 ? "compression.codec" : key, val,
                     who, err, errlen) != 0)
            return -EINVAL;
    }
    snprintf(who, sizeof(who), "-c %s", c->url);
    return set_prop(conf, "bootstrap.servers", brokers, who, err, errlen);
}

/* format=ipfix: the batch size message.max.bytes allows (a batch plus its slack must fit). */
static int
ipfix_batch_limit(const rd_kafka_conf_t *conf, const char *url, size_t *limit, char *err,
                  size_t errlen)
{
    char val[32];
    size_t vlen = sizeof(val);
    unsigned long max_bytes = 0;

    if (rd_kafka_conf_get(conf, "message.max.bytes", val, &vlen) == RD_KAFKA_CONF_OK)
        max_bytes = strtoul(val, NULL, 10);
    if (max_bytes < KFK_IPFIX_MIN_MAX_BYTES) {
        snprintf(err, errlen, "-c %s: format=ipfix needs message.max.bytes of %u at least "
                              "(it is %lu)", url, KFK_IPFIX_MIN_MAX_BYTES, max_bytes);
        return -EINVAL;
    }
    *limit = max_bytes - KFK_IPFIX_SLACK;
    if (*limit > KFK_IPFIX_BATCH)
        *limit = KFK_IPFIX_BATCH;
    return 0;
}

int
kfk_check(const struct kfk_config *c, char *err, size_t errlen)
{
    char topic[KFK_MAX_TOPIC + 1];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc;

    if (conf == NULL) {
        snprintf(err, errlen, "-c %s: out of memory", c->url);
        return -ENOMEM;
    }
    rc = build_conf(c, conf, topic, sizeof(topic), err, errlen);
    size_t limit;
    if (rc == 0 && kfk_url_ipfix(c->url))
        rc = ipfix_batch_limit(conf, c->url, &limit, err, errlen);
    rd_kafka_conf_destroy(conf);
    if (rc == 0 && c->out != NULL && c->out->layout.splt_n > KFK_MAX_SPLT) {
        snprintf(err, errlen, "-c %s: --splt-analysis above %d makes flows larger than a Kafka "
                              "message", c->url, KFK_MAX_SPLT);
        rc = -EINVAL;
    }
    return rc;
}

/* Delivery report: one per message, served by rd_kafka_poll() in the sink's thread. */
static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct kfk *k = opaque;
    uint64_t flows = (uintptr_t)m->_private; /* the message's opaque: the flows it carries */

    (void)rk;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        inc(&k->delivered, flows);
        return;
    }
    inc(&k->dr_failed, flows);
    /* Purged at close: kfk_close() reports the total; per message it is noise. */
    if (m->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE && m->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
        LOG_RATELIMITED(LOG_WARNING, 10, "kafka %s: flow not delivered: %s", k->url,
                        rd_kafka_err2str(m->err));
}

static void
on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    struct kfk *k = opaque;
    char fatal[512];

    if (code == RD_KAFKA_RESP_ERR__FATAL) {
        /* The idempotent producer cannot go on without risking duplicates or gaps: every
         * later flow is refused and counted (produce returns the fatal error). */
        rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        log_msg(LOG_ERR, "kafka %s: fatal: %s", k->url, fatal);
        return;
    }
    LOG_RATELIMITED(LOG_WARNING, 10, "kafka %s: %s", k->url, reason);
}

/* librdkafka's own messages (its threads): through our log, rate-limited, at info at most. */
static void
on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    struct kfk *k = rd_kafka_opaque(rk);
    /* What matters reaches on_error() and the delivery reports at warning; librdkafka's lines
     * (each broker's connection refused, idle disconnects) are detail. */
    LOG_RATELIMITED(level < LOG_INFO ? LOG_INFO : level, 10, "kafka %s: %s: %s",
                    k != NULL ? k->url : "", fac, buf);
}

/* Statistics JSON (every statistics.interval.ms): the brokers' request retries, summed. */
static int
on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    static const char tag[] = "\"txretries\":";
    struct kfk *k = opaque;
    uint64_t sum = 0;
    const char *p = json, *end = json + len;

    (void)rk;
    while ((p = memmem(p, (size_t)(end - p), tag, sizeof(tag) - 1)) != NULL) {
        p += sizeof(tag) - 1;
        sum += strtoull(p, NULL, 10);
    }
    atomic_store_explicit(&k->retried, sum, memory_order_relaxed);
    return 0; /* librdkafka frees json */
}

static void
batch_sink(void *ctx, const uint8_t *msg, size_t len, const struct exp_msg_info *info)
{
    struct kfk *k = ctx;

    (void)info;
    if (k->batch_lost)
        return;
    if (len > k->batch_cap - k->batch_len) {
        /* Only a preamble larger than a batch gets here (a large application map). */
        size_t cap = k->batch_len + len + KFK_IPFIX_SLACK;
        uint8_t *b = realloc(k->batch, cap);
        if (b == NULL) {
            k->batch_lost = true;
            return;
        }
        k->batch = b;
        k->batch_cap = cap;
    }
    memcpy(k->batch + k->batch_len, msg, len);
    k->batch_len += len;
}

/* format=ipfix: the encoder (checks the template file, the plugin elements) and the batch. */
static int
open_ipfix(struct kfk *k, const struct kfk_config *c, rd_kafka_conf_t *conf, char *err,
           size_t errlen)
{
    struct exp_enc_params ep = c->ipfix;
    char why[512];

    if (ipfix_batch_limit(conf, c->url, &k->batch_limit, err, errlen) != 0)
        return -EINVAL;
    k->batch_cap = k->batch_limit + KFK_IPFIX_SLACK;
    if ((k->batch = malloc(k->batch_cap)) == NULL) {
        snprintf(err, errlen, "-c %s: out of memory", c->url);
        return -ENOMEM;
    }
    ep.observation_domain = c->observation_domain;
    if (ep.pen == 0)
        ep.pen = 32473; /* the exporter's default (RFC 5612's documentation PEN) */
    ep.max_msg = KFK_IPFIX_MSG;
    ep.sink = batch_sink;
    ep.sink_ctx = k;
    if ((k->enc = ipfix_encoder_ops.open(&ep, why, sizeof(why))) == NULL) {
        snprintf(err, errlen, "-c %s: %s", c->url, why);
        return -EINVAL;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    k->start_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    return 0;
}

/*
 * librdkafka allocates each message (value, key, and each header apart) and frees it on its
 * delivery report, so up to queue.buffering.max.kbytes come and go on the heap all the time.
 * glibc's defaults give the heap's top back to the kernel whenever 128 KiB of it is free, and
 * fault fresh zeroed pages back in as the queue fills again: measured, a third of the sink's
 * system time and the heap's growth in _int_malloc. The process keeps up to KFK_HEAP_KEEP of
 * freed heap and grows it KFK_HEAP_PAD at a time instead. Process-wide (mallopt), set once.
 */
static void
keep_heap(void)
{
    static atomic_bool done;

    if (!atomic_exchange(&done, true)) {
        (void)mallopt(M_TRIM_THRESHOLD, KFK_HEAP_KEEP);
        (void)mallopt(M_TOP_PAD, KFK_HEAP_PAD);
    }
}

struct kfk *
kfk_new(const struct kfk_config *c, char *err, size_t errlen)
{
    char topic[KFK_MAX_TOPIC + 1], why[512];
    rd_kafka_conf_t *conf = NULL;
    struct kfk *k = calloc(1, sizeof(*k));

    if (k == NULL || (k->url = strdup(c->url)) == NULL) {
        snprintf(err, errlen, "-c %s: out of memory", c->url);
        goto fail;
    }
    k->pipe_rd = k->pipe_wr = -1;
    if (kfk_check(c, err, errlen) != 0)
        goto fail;
    k->od_len = (size_t)snprintf(k->od, sizeof(k->od), "%" PRIu32, c->observation_domain);
    k->version = c->version != NULL ? c->version : "";
    k->offline = c->offline;
    if ((conf = rd_kafka_conf_new()) == NULL ||
        build_conf(c, conf, topic, sizeof(topic), err, errlen) != 0)
        goto fail;
    if (kfk_url_ipfix(c->url)) {
        if (open_ipfix(k, c, conf, err, errlen) != 0)
            goto fail;
    } else {
        k->json = out_open("/dev/null", OUT_JSON, c->out, c->anonymize, why, sizeof(why));
        if (k->json == NULL) {
            snprintf(err, errlen, "-c %s: %s", c->url, why);
            goto fail;
        }
    }
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    keep_heap();
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (k->rk == NULL) {
        snprintf(err, errlen, "-c %s: %s", c->url, why);
        goto fail;
    }
    conf = NULL; /* owned by rk now */
    if ((k->rkt = rd_kafka_topic_new(k->rk, topic, NULL)) == NULL) {
        snprintf(err, errlen, "-c %s: topic %s: %s", c->url, topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(err, errlen, "-c %s: pipe: %s", c->url, strerror(errno));
        goto fail;
    }
    k->pipe_rd = fds[0];
    k->pipe_wr = fds[1];
    k->mainq = rd_kafka_queue_get_main(k->rk);
    rd_kafka_queue_io_event_enable(k->mainq, k->pipe_wr, "k", 1);
    return k;
fail:
    if (conf != NULL)
        rd_kafka_conf_destroy(conf);
    kfk_free(k);
    return NULL;
}

/* The message key: XXH64 of the source address, as 16 hex digits (readable in kcat, SQL). */
static void
flow_key(const struct flow *f, char *key)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t h = XXH64(flow_src_ip(f), sizeof(f->key.lo_ip), 0);

    for (int i = KFK_KEY_LEN - 1; i >= 0; i--, h >>= 4)
        key[i] = hex[h & 0xf];
}

static uint64_t
reported(const struct kfk *k)
{
    return ld(&k->delivered) + ld(&k->dr_failed);
}

/*
 * The local queue is full. Live: serve the reports once and try again once. Reading files:
 * wait while delivery reports keep coming (the brokers are slower than the disk), and once a
 * wait saw none for KFK_STALL_MS (brokers down), stop waiting until one comes again.
 */
static bool
make_room(struct kfk *k, int attempt)
{
    uint64_t before = reported(k);

    if (!k->offline || k->stalled) {
        rd_kafka_poll(k->rk, 0);
        if (reported(k) != before)
            k->stalled = false;
        return attempt == 0 || reported(k) != before;
    }
    for (uint64_t start = now_ms(); now_ms() - start < KFK_STALL_MS;) {
        rd_kafka_poll(k->rk, 50);
        if (reported(k) != before)
            return true;
    }
    k->stalled = true;
    return false;
}

/* Hands one message carrying `flows` flows to librdkafka (copied), or counts them lost. */
static void
produce(struct kfk *k, const void *v, size_t len, const char *key, size_t key_len,
        uint32_t flows)
{
    for (int attempt = 0;; attempt++) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            k->rk, RD_KAFKA_V_RKT(k->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)(uintptr_t)v, len), RD_KAFKA_V_KEY(key, key_len),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)flows),
            RD_KAFKA_V_HEADER("observation_domain", k->od, (ssize_t)k->od_len),
            RD_KAFKA_V_HEADER("nfprobe_version", k->version, -1), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            inc(&k->produced, flows);
            return;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            inc(&k->refused, flows);
            LOG_RATELIMITED(LOG_WARNING, 10, "kafka %s: %s refused: %s", k->url,
                            k->enc != NULL ? "batch" : "flow", rd_kafka_err2str(e));
            return;
        }
        if (!make_room(k, attempt)) {
            inc(&k->dropped, flows);
            return;
        }
    }
}

/* format=ipfix: what the options records of each batch's preamble say: this sink's counts. */
static void
opt_data(const struct kfk *k, struct exp_opt_data *od)
{
    struct timespec ts;

    memset(od, 0, sizeof(*od));
    clock_gettime(CLOCK_REALTIME, &ts);
    od->now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    od->start_ms = k->start_ms;
    od->messages = k->batches;
    od->flow_records = ld(&k->produced);
    od->octets = k->batch_octets;
    od->not_sent_flows = ld(&k->dropped) + ld(&k->refused) + ld(&k->dr_failed);
}

/* format=ipfix: ends the batch (the encoder's last message) and hands it to librdkafka. */
static void
batch_send(struct kfk *k)
{
    uint32_t flows = k->batch_flows;

    if (!k->batch_open)
        return;
    if (ipfix_encoder_ops.flush(k->enc) != 0)
        k->batch_lost = true;
    if (k->batch_lost) {
        inc(&k->refused, flows);
        LOG_RATELIMITED(LOG_WARNING, 10, "kafka %s: a batch of %" PRIu32 " flows could not be "
                        "encoded (out of memory)", k->url, flows);
    } else {
        /* A batch whose flows all failed to encode still goes: its options records count
         * in the sequence numbers, a consumer would see a gap without it. */
        produce(k, k->batch, k->batch_len, k->od, k->od_len, flows);
        k->batches++;
        k->batch_octets += k->batch_len;
    }
    k->batch_open = k->batch_lost = false;
    k->batch_len = 0;
    k->batch_flows = 0;
}

static void
ipfix_flow(struct kfk *k, const struct flow *f)
{
    int rc;

    if (!k->batch_open) {
        /* Every batch starts as a collector's session does, so that it decodes alone. */
        struct exp_opt_data od;
        opt_data(k, &od);
        rc = k->session ? ipfix_encoder_ops.refresh(k->enc, &od)
                        : ipfix_encoder_ops.session(k->enc, &od);
        if (rc != 0) {
            inc(&k->refused, 1);
            LOG_RATELIMITED(LOG_WARNING, 10, "kafka %s: cannot encode the IPFIX templates: %s",
                            k->url, strerror(-rc));
            return;
        }
        k->session = true;
        k->batch_open = true;
        k->batch_t0 = now_ms();
    }
    if ((rc = ipfix_encoder_ops.flow(k->enc, f)) != 0) {
        inc(&k->refused, 1);
        LOG_RATELIMITED(LOG_WARNING, 10, "kafka %s: flow not encoded: %s", k->url,
                        rc == -EMSGSIZE ? "larger than an IPFIX message" : strerror(-rc));
    } else {
        k->batch_flows++;
    }
    if (k->batch_len >= k->batch_limit)
        batch_send(k);
}

void
kfk_flow(struct kfk *k, const struct flow *f)
{
    char key[KFK_KEY_LEN];
    size_t len;
    const char *v;

    if (k->closed)
        return;
    if (++k->since_poll >= 256) {
        /* The offline meter calls nothing else: serve the reports here now and then. */
        k->since_poll = 0;
        rd_kafka_poll(k->rk, 0);
        if (k->batch_open && now_ms() - k->batch_t0 >= KFK_IPFIX_LINGER_MS)
            batch_send(k);
    }
    if (k->enc != NULL) {
        ipfix_flow(k, f);
        return;
    }
    v = out_render(k->json, f, &len);
    flow_key(f, key);
    produce(k, v, len, key, KFK_KEY_LEN, 1);
}

void
kfk_poll(struct kfk *k)
{
    char drain[256];

    if (k == NULL || k->rk == NULL)
        return;
    while (read(k->pipe_rd, drain, sizeof(drain)) > 0)
        ;
    rd_kafka_poll(k->rk, 0);
    if (k->batch_open && now_ms() - k->batch_t0 >= KFK_IPFIX_LINGER_MS)
        batch_send(k);
}

int
kfk_poll_fd(const struct kfk *k)
{
    return k->pipe_rd;
}

void
kfk_close(struct kfk *k, int timeout_ms)
{
    if (k == NULL || k->rk == NULL || k->closed)
        return;
    batch_send(k);
    k->closed = true;
    /* rd_kafka_flush() serves the reports while it waits; it returns at the deadline. */
    rd_kafka_flush(k->rk, timeout_ms);
    if (ld(&k->produced) > reported(k)) {
        /* Give up on the rest: purged messages get a report with a purge error (counted as
         * failed). In-flight ones may still land in Kafka: not delivered means not confirmed. */
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        uint64_t deadline = now_ms() + 1000;
        while (ld(&k->produced) > reported(k) && now_ms() < deadline)
            rd_kafka_poll(k->rk, 50);
    }
    uint64_t left = ld(&k->produced) - reported(k);
    if (left > 0)
        inc(&k->lost, left);
}

void
kfk_free(struct kfk *k)
{
    if (k == NULL)
        return;
    if (k->mainq != NULL) {
        rd_kafka_queue_io_event_enable(k->mainq, -1, NULL, 0);
        rd_kafka_queue_destroy(k->mainq);
    }
    if (k->rkt != NULL)
        rd_kafka_topic_destroy(k->rkt);
    if (k->rk != NULL)
        rd_kafka_destroy(k->rk);
    if (k->pipe_rd >= 0)
        close(k->pipe_rd);
    if (k->pipe_wr >= 0)
        close(k->pipe_wr);
    out_close(k->json);
    if (k->enc != NULL)
        ipfix_encoder_ops.free(k->enc);
    free(k->batch);
    free(k->url);
    free(k);
}

void
kfk_stats(const struct kfk *k, struct kfk_stats *st)
{
    uint64_t produced = ld(&k->produced), rep = reported(k), lost = ld(&k->lost);

    st->produced = produced;
    st->delivered = ld(&k->delivered);
    st->failed = ld(&k->dr_failed) + ld(&k->refused) + lost;
    st->dropped = ld(&k->dropped);
    st->retried = ld(&k->retried);
    st->queued = produced > rep + lost ? produced - rep - lost : 0;
}

uint64_t
kfk_not_delivered(const struct kfk *k)
{
    struct kfk_stats st;
    kfk_stats(k, &st);
    return st.failed + st.dropped;
}

const char *
kfk_name(const struct kfk *k)
{
    return k->url;
}

void
kfk_summary(const struct kfk *k, FILE *out)
{
    struct kfk_stats st;

    kfk_stats(k, &st);
    fprintf(out,
            "nfprobe: kafka %s: %" PRIu64 " delivered, %" PRIu64 " not delivered (%" PRIu64
            " failed, %" PRIu64 " dropped: local queue full), %" PRIu64 " queued, %" PRIu64
            " requests retried\n",
            k->url, st.delivered, st.failed + st.dropped, st.failed, st.dropped, st.queued,
            st.retried);
}
