/*
 * export.c - collectors, flow queues, timers and loss accounting around the encoders.
 *
 * Per collector: an encoder (export_enc.h: protocol state, the message being filled), a
 * transport peer (transport.h: sockets, TLS, reconnects) and a ring of whole flow copies. A
 * flow is encoded at once when the collector can take a message, else it waits in the ring,
 * oldest dropped (and counted) when the ring is full. Messages handed to the transport are
 * remembered in a FIFO of (flows, packets, octets) until the transport's counters say they were
 * sent or lost, so that notSentPacket/OctetTotalCount count the flows' content exactly.
 *
 * Timers run on the caller's monotonic clock: a partly filled message leaves after flush_ms;
 * every template_refresh seconds a UDP collector gets the templates again (RFC 7011 section
 * 8.4) and every collector the options records. UDP output is paced (token bucket), so that a
 * capture file read at full speed does not overrun the collector's socket buffer.
 */
#include "export.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "evloop.h"
#include "export_enc.h"
#include "log.h"
#include "transport.h"

#define EXP_DEFAULT_PEN 32473u
#define EXP_DEFAULT_MTU 1400u
#define EXP_DEFAULT_REFRESH_S 60u
#define EXP_DEFAULT_QUEUE (16u << 20)
#define EXP_DEFAULT_FLUSH_MS 1000u
#define EXP_DEFAULT_UDP_RATE 20000u
/* TCP/TLS messages are not bound by a path MTU; this keeps one message's loss small. */
#define EXP_STREAM_MSG 16384u
/* Messages in the transport's queue that are not yet known sent or lost. */
#define EXP_FIFO 65536u
#define EXP_LOG_INTERVAL_S 10u
/* exp_flow() drives the timers itself every this many flows (offline has no other tick). */
#define EXP_POLL_EVERY 32u
#define EXP_CLOSE_GRACE_MS 200
#define EXP_URL_MAX 256

static const struct exp_encoder_ops *const encoders[] = {&ipfix_encoder_ops, &nf9_encoder_ops,
                                                         &nf5_encoder_ops};

struct msg_desc {
    uint32_t flows;
    uint64_t packets;
    uint64_t octets;
};

struct collector {
    const char *url;
    const struct exp_encoder_ops *ops;
    void *enc;
    struct tx_peer *tx;
    enum tx_proto proto;
    uint32_t max_msg;
    bool up;   /* a transport session is up and the encoder sent its preamble */
    bool done; /* finishing: everything and the final options records handed over */
    struct exporter *owner;
    int reg_fd; /* the descriptor watched in the event loop, -1 = none */
    int reg_mask;
    uint64_t reg_gen;
    /* flows waiting, whole copies of flow_size bytes */
    unsigned char *ring;
    size_t cap;
    size_t head;
    size_t count;
    /* messages handed to the transport, oldest first */
    struct msg_desc *fifo;
    size_t fhead;
    size_t fcount;
    uint64_t tx_sent_seen; /* the transport's message counters already accounted */
    uint64_t tx_lost_seen;
    uint64_t msg_first_ms; /* when the message being filled got its first record */
    uint64_t next_refresh_ms;
    bool paced;    /* UDP pacing on (--export-rate > 0) */
    double tokens; /* UDP pacing */
    uint64_t tokens_ms;
    struct log_ratelimit rl;
    struct tx_stats txs; /* the transport's counters, final after close */
    struct exp_stats st;
};

struct exporter {
    struct exp_config cfg;
    struct collector *c;
    size_t n;
    size_t rr;
    size_t stride; /* flow_size rounded up to 8: ring entries stay aligned */
    bool round_robin;
    bool closed;
    bool finishing; /* exp_finish(): no more flows, final options records when queues empty */
    struct ev_loop *loop; /* exp_watch() */
    uint64_t timer;
    unsigned since_poll;
    uint64_t now_ms;
    uint64_t start_wall_ms;
    uint64_t flows_first_ms; /* observation times from the flows, when ps has none */
    uint64_t flows_last_ms;
    struct exp_process_stats ps;
};

static uint64_t
wall_ms(const struct exporter *x)
{
    if (x->cfg.export_time_s != 0)
        return (uint64_t)x->cfg.export_time_s * 1000u;
    return clk_wall_ms();
}

/* Rate-limited one-line report of a runtime fault (collector down, send error). */
static void
note(struct collector *c, uint64_t now, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
note(struct collector *c, uint64_t now, const char *fmt, ...)
{
    char msg[LOG_MAX_LINE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_ratelimited(&c->rl, now, EXP_LOG_INTERVAL_S, LOG_WARNING, "export %s: %s", c->url, msg);
}

/* ------------------------------------------------------------------ URL */

static int
url_error(char *err, size_t errlen, const char *url, const char *why)
{
    snprintf(err, errlen,
             "collector '%s': %s (expected ipfix|v9+udp|tcp|tls://HOST[:PORT][?OPTIONS] or "
             "v5+udp://HOST[:PORT][?OPTIONS])",
             url, why);
    return -EINVAL;
}

static int
opt_error(char *err, size_t errlen, const char *url, const char *what, const char *why)
{
    snprintf(err, errlen, "collector '%s': ?%s: %s", url, what, why);
    return -EINVAL;
}

/* A decimal number in [0, max] spanning [s, end). */
static bool
opt_number(const char *s, const char *end, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s == end)
        return false;
    for (; s < end; s++) {
        if (!isdigit((unsigned char)*s) || v > (max - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

int
exp_parse_options(const char *url, struct exp_collector_options *o, char *err, size_t errlen)
{
    const char *q = strchr(url, '?');

    memset(o, 0, sizeof(*o));
    o->engine_type = -1;
    o->engine_id = -1;
    if (q == NULL)
        return 0;
    for (q++; *q != '\0';) {
        const char *end = q + strcspn(q, "&");
        const char *eq = memchr(q, '=', (size_t)(end - q));
        const char *kend = eq != NULL ? eq : end;
        const char *v = eq != NULL ? eq + 1 : end;
        size_t klen = (size_t)(kend - q);
        char key[32];
        uint64_t n;

        snprintf(key, sizeof(key), "%.*s", (int)(klen < sizeof(key) ? klen : sizeof(key) - 1), q);
#define KEY(k) (klen == strlen(k) && memcmp(q, k, klen) == 0)
        if (KEY("uniflow")) {
            if (eq != NULL && !(end - v == 1 && (*v == '1' || *v == '0')) &&
                !(end - v == 3 && memcmp(v, "yes", 3) == 0) &&
                !(end - v == 2 && memcmp(v, "no", 2) == 0))
                return opt_error(err, errlen, url, key, "expected no value, yes/no or 1/0");
            o->uniflow = eq == NULL || *v == '1' || *v == 'y';
        } else if (KEY("domain")) {
            if (!opt_number(v, end, UINT32_MAX, &n))
                return opt_error(err, errlen, url, key, "expected a number 0-4294967295");
            o->has_domain = true;
            o->domain = (uint32_t)n;
        } else if (KEY("engine-type") || KEY("engine-id")) {
            if (!opt_number(v, end, 255, &n))
                return opt_error(err, errlen, url, key, "expected a number 0-255");
            *(KEY("engine-id") ? &o->engine_id : &o->engine_type) = (int)n;
        } else if (KEY("exporter")) {
            unsigned char a[16];
            if ((size_t)(end - v) >= sizeof(o->exporter))
                return opt_error(err, errlen, url, key, "address too long");
            snprintf(o->exporter, sizeof(o->exporter), "%.*s", (int)(end - v), v);
            if (inet_pton(AF_INET, o->exporter, a) != 1 && inet_pton(AF_INET6, o->exporter, a) != 1)
                return opt_error(err, errlen, url, key, "expected an IPv4 or IPv6 address literal");
        } else {
            return opt_error(err, errlen, url, key,
                             "unknown option (uniflow, domain=N, engine-type=N, engine-id=N, "
                             "exporter=ADDR)");
        }
#undef KEY
        q = *end == '&' ? end + 1 : end;
    }
    bool v5 = strncmp(url, "v5+", 3) == 0;
    if (!v5 && (o->engine_type >= 0 || o->engine_id >= 0))
        return opt_error(err, errlen, url, o->engine_id >= 0 ? "engine-id" : "engine-type",
                         "only NetFlow v5 has an engine (v9: ?domain= sets the source id)");
    return 0;
}

int
exp_parse_collector(const char *full, char *scheme, size_t scheme_len, char *transport,
                    size_t transport_len, char *host, size_t host_len, char *port,
                    size_t port_len, char *err, size_t errlen)
{
    char url[EXP_URL_MAX + 64];
    struct exp_collector_options o;
    size_t ulen = strcspn(full, "?");

    /* the query is checked whole, the rest parsed without it */
    if (ulen >= sizeof(url))
        return url_error(err, errlen, full, "too long");
    memcpy(url, full, ulen);
    url[ulen] = '\0';
    if (exp_parse_options(full, &o, err, errlen) != 0)
        return -EINVAL;
    const char *sep = strstr(url, "://");
    const char *plus = strchr(url, '+');
    const char *h, *hend, *p;

    if (sep == NULL || plus == NULL || plus > sep)
        return url_error(err, errlen, full, "no SCHEME+TRANSPORT://");
    if ((size_t)(plus - url) >= scheme_len || (size_t)(sep - plus - 1) >= transport_len)
        return url_error(err, errlen, full, "scheme too long");
    memcpy(scheme, url, (size_t)(plus - url));
    scheme[plus - url] = '\0';
    memcpy(transport, plus + 1, (size_t)(sep - plus - 1));
    transport[sep - plus - 1] = '\0';
    if (strcmp(transport, "udp") != 0 && strcmp(transport, "tcp") != 0 &&
        strcmp(transport, "tls") != 0)
        return url_error(err, errlen, full, "transport must be udp, tcp or tls");
    const struct exp_encoder_ops *ops = NULL;
    for (size_t i = 0; i < sizeof(encoders) / sizeof(encoders[0]); i++)
        if (strcmp(encoders[i]->scheme, scheme) == 0)
            ops = encoders[i];
    if (ops == NULL)
        return url_error(err, errlen, full, "unknown export protocol");
    if (ops->udp_only && strcmp(transport, "udp") != 0)
        return url_error(err, errlen, full, "NetFlow v5 is sent over UDP only (v5+udp://)");

    h = sep + 3;
    if (*h == '[') {
        hend = strchr(h, ']');
        if (hend == NULL)
            return url_error(err, errlen, full, "unterminated '[' in the host");
        h++;
        p = hend + 1;
    } else {
        hend = h + strcspn(h, ":/");
        p = hend;
        if (*p == ':' && strchr(p + 1, ':') != NULL)
            return url_error(err, errlen, full, "IPv6 addresses go in brackets, [::1]:4739");
    }
    if (hend == h)
        return url_error(err, errlen, full, "no host");
    if ((size_t)(hend - h) >= host_len)
        return url_error(err, errlen, full, "host too long");
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    if (strchr(host, '@') != NULL) /* RFC 3986 user information: meaningless for export */
        return url_error(err, errlen, full, "no user@ before the host");

    /* IANA: ipfix 4739, ipfix over TLS 4740; NetFlow v9 has no port, 2055 is the custom. */
    const char *def = strcmp(scheme, "v9") == 0 || strcmp(scheme, "v5") == 0 ? "2055"
                      : strcmp(transport, "tls") == 0 ? "4740"
                                                        : "4739";
    if (*p == ':') {
        char *end;
        p++;
        errno = 0;
        unsigned long n = strtoul(p, &end, 10);
        if (!isdigit((unsigned char)*p) || end == p || errno != 0 || n == 0 || n > 65535)
            return url_error(err, errlen, full, "bad port");
        if ((*end != '\0' && *end != '/') || (*end == '/' && end[1] != '\0'))
            return url_error(err, errlen, full, "unexpected text after the port (no path or query)");
        snprintf(port, port_len, "%lu", n);
    } else if (*p == '\0' || (*p == '/' && p[1] == '\0')) {
        snprintf(port, port_len, "%s", def);
    } else {
        return url_error(err, errlen, full, "unexpected text after the host");
    }
    return 0;
}

/* ------------------------------------------------------------------ accounting */

static void
add_not_sent(struct collector *c, uint32_t flows, uint64_t packets, uint64_t octets)
{
    c->st.not_sent_flows += flows;
    c->st.not_sent_packets += packets;
    c->st.not_sent_octets += octets;
}

static void
flow_not_sent(struct collector *c, const struct flow *f)
{
    add_not_sent(c, 1, f->dir[FLOW_BIDI].packets, f->dir[FLOW_BIDI].bytes);
}

/* Moves the transport's newly sent and lost messages from the FIFO to the counters. */
static void
settle(struct collector *c, const struct tx_stats *ts)
{
    uint64_t sent = ts->messages_sent - c->tx_sent_seen;
    uint64_t lost = ts->messages_lost - c->tx_lost_seen;

    c->txs = *ts;
    c->st.messages_sent = ts->messages_sent;
    c->st.octets_sent = ts->octets_sent;
    /* The queue drains in order: sent messages leave from the head, then a dead session loses
     * everything behind them. */
    for (; sent > 0 && c->fcount > 0; sent--) {
        c->st.flows_sent += c->fifo[c->fhead].flows;
        c->fhead = (c->fhead + 1) % EXP_FIFO;
        c->fcount--;
    }
    for (; lost > 0 && c->fcount > 0; lost--) {
        const struct msg_desc *d = &c->fifo[c->fhead];
        add_not_sent(c, d->flows, d->packets, d->octets);
        c->fhead = (c->fhead + 1) % EXP_FIFO;
        c->fcount--;
    }
    c->tx_sent_seen = ts->messages_sent;
    c->tx_lost_seen = ts->messages_lost;
}

static void
settle_now(struct collector *c)
{
    struct tx_stats ts;

    tx_stats(c->tx, &ts);
    settle(c, &ts);
}

/* The encoder's sink: one finished message to the transport. */
static void
collector_sink(void *ctx, const uint8_t *msg, size_t len, const struct exp_msg_info *info)
{
    struct collector *c = ctx;
    int rc = tx_send(c->tx, msg, len, info->records);

    if (c->proto == TX_UDP)
        c->tokens -= 1.0;
    if (rc != 0) {
        /* The transport counted it lost (all but an empty message, which cannot happen); it
         * has no place in the FIFO. */
        if (rc != -EINVAL)
            c->tx_lost_seen++;
        add_not_sent(c, info->flows, info->packets, info->octets);
        /* A message without records carries templates or options: say so, not "0 records". */
        if (info->records > 0)
            note(c, clk_mono_ms(), "message of %u records not sent: %s", info->records,
                 tx_last_error(c->tx)[0] ? tx_last_error(c->tx) : strerror(-rc));
        else
            note(c, clk_mono_ms(), "template/options message not sent: %s",
                 tx_last_error(c->tx)[0] ? tx_last_error(c->tx) : strerror(-rc));
        settle_now(c);
        return;
    }
    if (c->fcount == EXP_FIFO) {
        /* Bounded memory: the oldest message's fate is assumed to be "sent". */
        c->st.flows_sent += c->fifo[c->fhead].flows;
        c->fhead = (c->fhead + 1) % EXP_FIFO;
        c->fcount--;
        c->tx_sent_seen++;
    }
    struct msg_desc *d = &c->fifo[(c->fhead + c->fcount) % EXP_FIFO];
    d->flows = info->flows;
    d->packets = info->packets;
    d->octets = info->octets;
    c->fcount++;
    if (c->proto == TX_UDP)
        settle_now(c);
}

/* ------------------------------------------------------------------ queue */

static struct flow *
ring_at(const struct exporter *x, const struct collector *c, size_t i)
{
    return (struct flow *)(void *)(c->ring + ((c->head + i) % c->cap) * x->stride);
}

static void
ring_push(struct exporter *x, struct collector *c, const struct flow *f)
{
    if (c->count == c->cap) {
        /* Full: the oldest flow gives way, counted as not sent. */
        flow_not_sent(c, ring_at(x, c, 0));
        c->head = (c->head + 1) % c->cap;
        c->count--;
    }
    memcpy(ring_at(x, c, c->count), f, x->cfg.flow_size);
    c->count++;
}

static void
ring_pop(struct collector *c)
{
    c->head = (c->head + 1) % c->cap;
    c->count--;
}

/* Can the collector take a whole message now? */
static bool
ready(const struct collector *c)
{
    if (!c->up || c->fcount >= EXP_FIFO || !tx_can_send(c->tx, c->max_msg))
        return false;
    return c->proto != TX_UDP || !c->paced || c->tokens >= 1.0;
}

static void
encode_one(struct exporter *x, struct collector *c, const struct flow *f)
{
    bool was_partial = c->ops->partial(c->enc);
    int rc = c->ops->flow(c->enc, f);

    if (rc != 0) {
        flow_not_sent(c, f);
        note(c, x->now_ms, "flow %" PRIu64 " not exported: %s", f->id,
             rc == -EMSGSIZE ? "its record is larger than a message (--mtu)" : strerror(-rc));
    }
    if (!was_partial && c->ops->partial(c->enc))
        c->msg_first_ms = x->now_ms;
}

static void
drain(struct exporter *x, struct collector *c)
{
    while (c->count > 0 && ready(c)) {
        encode_one(x, c, ring_at(x, c, 0));
        ring_pop(c);
    }
}

static void
give(struct exporter *x, struct collector *c, const struct flow *f)
{
    c->st.flows++;
    if (c->count > 0)
        drain(x, c);
    if (c->count == 0 && ready(c))
        encode_one(x, c, f);
    else
        ring_push(x, c, f);
}

void
exp_flow(struct exporter *x, const struct flow *f)
{
    if (x->closed)
        return;
    if (x->flows_first_ms == 0 || f->dir[FLOW_BIDI].first_seen_ms < x->flows_first_ms)
        x->flows_first_ms = f->dir[FLOW_BIDI].first_seen_ms;
    if (f->dir[FLOW_BIDI].last_seen_ms > x->flows_last_ms)
        x->flows_last_ms = f->dir[FLOW_BIDI].last_seen_ms;
    if (++x->since_poll >= EXP_POLL_EVERY) {
        x->since_poll = 0;
        exp_poll(x, clk_mono_ms(), NULL);
    }
    if (!x->round_robin) {
        for (size_t i = 0; i < x->n; i++)
            give(x, &x->c[i], f);
        return;
    }
    /* Load sharing: the next collector that can take it, else the next one in turn. */
    size_t pick = x->rr % x->n;
    for (size_t k = 0; k < x->n; k++) {
        size_t i = (x->rr + k) % x->n;
        if (x->c[i].count == 0 && ready(&x->c[i])) {
            pick = i;
            break;
        }
    }
    x->rr = pick + 1;
    give(x, &x->c[pick], f);
}

/* ------------------------------------------------------------------ sessions and timers */

/* The address the collector sees this exporter at: the connected socket's own (exporterIPv4/
 * IPv6Address); an IPv4-mapped IPv6 address counts as IPv4. Unknown (0) before a connection. */
static void
local_address(const struct collector *c, struct exp_opt_data *od)
{
    struct sockaddr_storage ss;

    if (c->tx == NULL || tx_local_address(c->tx, &ss) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        od->exporter_family = 4;
        memcpy(od->exporter_addr, &((const struct sockaddr_in *)&ss)->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        const uint8_t *a = ((const struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
        bool v4 = memcmp(a, mapped, 12) == 0;
        od->exporter_family = v4 ? 4 : 6;
        memcpy(od->exporter_addr, v4 ? a + 12 : a, v4 ? 4 : 16);
    }
}

static void
opt_data(const struct exporter *x, const struct collector *c, struct exp_opt_data *od)
{
    memset(od, 0, sizeof(*od));
    od->now_ms = wall_ms(x);
    od->start_ms = x->start_wall_ms;
    od->messages = c->st.messages_sent;
    od->flow_records = c->st.flows_sent;
    if (c->proto != TX_UDP) {
        /* A TCP/TLS stream delivers in order: the flows already handed to the transport
         * (acknowledged or not) arrive before this record, so it counts them as exported. */
        for (size_t k = 0; k < c->fcount; k++)
            od->flow_records += c->fifo[(c->fhead + k) % EXP_FIFO].flows;
    }
    od->octets = c->st.octets_sent;
    od->not_sent_flows = c->st.not_sent_flows;
    od->not_sent_packets = c->st.not_sent_packets;
    od->not_sent_octets = c->st.not_sent_octets;
    od->ignored_packets = x->ps.packets_ignored + x->ps.capture_drops;
    od->ignored_octets = x->ps.octets_ignored;
    od->first_obs_ms = x->ps.first_ms ? x->ps.first_ms : x->flows_first_ms;
    od->last_obs_ms = x->ps.last_ms ? x->ps.last_ms : x->flows_last_ms;
    od->smp_observed = x->ps.sampling_observed;
    od->smp_selected = x->ps.sampling_selected;
    local_address(c, od);
}

static void
start_session(struct exporter *x, struct collector *c, uint64_t now)
{
    struct exp_opt_data od;
    int rc;

    opt_data(x, c, &od);
    c->up = true; /* the sink needs it while the preamble goes out */
    if ((rc = c->ops->session(c->enc, &od)) != 0) {
        struct exp_msg_info lost;
        c->ops->discard(c->enc, &lost);
        c->up = false;
        note(c, now, "cannot start the session: %s", strerror(-rc));
        return;
    }
    c->st.sessions++;
    c->next_refresh_ms = now + (uint64_t)x->cfg.template_refresh_s * 1000u;
    c->tokens_ms = now;
}

static void
refill(const struct exporter *x, struct collector *c, uint64_t now)
{
    double rate = x->cfg.udp_rate;
    double burst = rate / 20.0 > 64.0 ? rate / 20.0 : 64.0;

    if (now > c->tokens_ms) {
        c->tokens += rate * (double)(now - c->tokens_ms) / 1000.0;
        if (c->tokens > burst)
            c->tokens = burst;
    }
    c->tokens_ms = now;
}

static void
collector_poll(struct exporter *x, struct collector *c, uint64_t now)
{
    int ev = tx_poll(c->tx, now);

    if (ev & TX_EV_FAIL)
        note(c, now, "%s", tx_last_error(c->tx));
    if (ev & TX_EV_DOWN) {
        if (c->up) {
            struct exp_msg_info lost;
            c->ops->discard(c->enc, &lost);
            add_not_sent(c, lost.flows, lost.packets, lost.octets);
            c->up = false;
        }
        note(c, now, "session lost: %s", tx_last_error(c->tx));
    }
    settle_now(c);
    if (ev & TX_EV_UP)
        start_session(x, c, now);
    if (!c->up)
        return;
    if (c->proto == TX_UDP)
        refill(x, c, now);
    if (now >= c->next_refresh_ms) {
        struct exp_opt_data od;
        bool was_partial = c->ops->partial(c->enc);
        opt_data(x, c, &od);
        /* UDP collectors may have restarted and forgotten the templates (RFC 7011 8.4). */
        int rc = c->proto == TX_UDP ? c->ops->refresh(c->enc, &od) : c->ops->options(c->enc, &od);
        if (rc != 0)
            note(c, now, "template refresh failed: %s", strerror(-rc));
        c->next_refresh_ms = now + (uint64_t)x->cfg.template_refresh_s * 1000u;
        if (!was_partial && c->ops->partial(c->enc))
            c->msg_first_ms = now;
    }
    drain(x, c);
    if (x->finishing && !c->done && c->count == 0) {
        struct exp_opt_data od;
        c->ops->flush(c->enc);
        settle_now(c);
        opt_data(x, c, &od);
        c->ops->options(c->enc, &od);
        c->ops->flush(c->enc);
        c->done = true;
        return;
    }
    if (c->ops->partial(c->enc) && now - c->msg_first_ms >= x->cfg.flush_ms)
        c->ops->flush(c->enc);
}

/* ------------------------------------------------------------------ event loop */

static void rearm(struct exporter *x);

static void
on_collector_fd(struct ev_loop *l, int fd, int mask, void *ctx)
{
    struct collector *c = ctx;
    struct exporter *x = NULL;

    (void)l;
    (void)fd;
    (void)mask;
    /* The collector array's owner: c points into x->c. */
    x = c->owner;
    x->now_ms = clk_mono_ms();
    collector_poll(x, c, x->now_ms);
    rearm(x);
}

static int64_t
on_timer(struct ev_loop *l, uint64_t id, void *ctx)
{
    struct exporter *x = ctx;

    (void)l;
    (void)id;
    exp_poll(x, clk_mono_ms(), NULL);
    rearm(x);
    return 0; /* rearm() has set the next time */
}

/* When a collector needs exp_poll() next (0 = only on descriptor events). */
static uint64_t
collector_next_ms(const struct exporter *x, const struct collector *c, uint64_t now)
{
    uint64_t next = c->tx != NULL ? tx_next_ms(c->tx, now) : 0;
#define EARLIER(t) do { uint64_t t_ = (t); if (next == 0 || t_ < next) next = t_; } while (0)

    if (c->up && !c->done) {
        EARLIER(c->next_refresh_ms);
        if (x->finishing && c->count == 0)
            EARLIER(now); /* the final options records go out at the next poll */
        if (c->ops->partial(c->enc))
            EARLIER(c->msg_first_ms + x->cfg.flush_ms);
        if (c->count > 0) {
            if (c->proto == TX_UDP && c->paced && c->tokens < 1.0)
                EARLIER(now + 1 + (uint64_t)((1.0 - c->tokens) * 1000.0 / x->cfg.udp_rate));
            else if (ready(c))
                EARLIER(now); /* else the socket's writability or an ACK check wakes us */
        }
    }
#undef EARLIER
    return next;
}

/* Brings the loop's watches in line with the collectors' sockets and sets the timer to the
 * earliest deadline. Cheap: called after every event the exporter handled. */
static void
rearm(struct exporter *x)
{
    uint64_t now = clk_mono_ms(), next = 0;

    if (x->loop == NULL || x->closed)
        return;
    for (size_t i = 0; i < x->n; i++) {
        struct collector *c = &x->c[i];
        int fd = c->tx != NULL ? tx_fd(c->tx) : -1;
        int mask = c->tx != NULL && fd >= 0 ? tx_interest(c->tx) : 0;
        uint64_t gen = c->tx != NULL ? tx_fd_generation(c->tx) : 0;

        if (c->reg_fd >= 0 && (c->reg_fd != fd || c->reg_gen != gen || mask == 0)) {
            ev_set_file(x->loop, c->reg_fd, 0, NULL, NULL);
            c->reg_fd = -1;
            c->reg_mask = 0;
        }
        if (fd >= 0 && mask != 0 && mask != c->reg_mask) {
            if (ev_set_file(x->loop, fd, mask, on_collector_fd, c) == 0) {
                c->reg_fd = fd;
                c->reg_gen = gen;
                c->reg_mask = mask;
            }
        }
        uint64_t t = collector_next_ms(x, c, now);
        if (t != 0 && (next == 0 || t < next))
            next = t;
    }
    uint64_t delay = next == 0 ? 3600u * 1000u : next > now ? next - now : 0;
    if (x->timer == 0 || ev_reset_timer(x->loop, x->timer, delay) != 0)
        x->timer = ev_add_timer(x->loop, delay, on_timer, x);
}

static void
unwatch(struct exporter *x)
{
    if (x->loop == NULL)
        return;
    for (size_t i = 0; i < x->n; i++) {
        struct collector *c = &x->c[i];
        if (c->reg_fd >= 0)
            ev_set_file(x->loop, c->reg_fd, 0, NULL, NULL);
        c->reg_fd = -1;
        c->reg_mask = 0;
    }
    if (x->timer != 0)
        ev_del_timer(x->loop, x->timer);
    x->timer = 0;
    x->loop = NULL;
}

void
exp_watch(struct exporter *x, struct ev_loop *l)
{
    unwatch(x);
    x->loop = l;
    if (l != NULL)
        rearm(x);
}

void
exp_rearm(struct exporter *x)
{
    rearm(x);
}

void
exp_finish(struct exporter *x, const struct exp_process_stats *ps)
{
    if (x->closed)
        return;
    if (ps != NULL)
        x->ps = *ps;
    x->finishing = true;
    exp_poll(x, clk_mono_ms(), NULL);
    rearm(x);
}

bool
exp_drained(const struct exporter *x)
{
    for (size_t i = 0; i < x->n; i++) {
        const struct collector *c = &x->c[i];
        if (!c->done || (c->tx != NULL && tx_unacked(c->tx)))
            return false;
    }
    return true;
}

void
exp_poll(struct exporter *x, uint64_t mono_ms, const struct exp_process_stats *ps)
{
    if (x->closed)
        return;
    x->now_ms = mono_ms;
    if (ps != NULL)
        x->ps = *ps;
    for (size_t i = 0; i < x->n; i++)
        collector_poll(x, &x->c[i], mono_ms);
}

/* ------------------------------------------------------------------ lifecycle */

struct exporter *
exp_new(const struct exp_config *cfg, char *err, size_t errlen)
{
    struct exporter *x = calloc(1, sizeof(*x));

    if (x == NULL) {
        snprintf(err, errlen, "export: out of memory");
        return NULL;
    }
    x->cfg = *cfg;
    struct exp_config *c = &x->cfg;
    if (c->pen == 0)
        c->pen = EXP_DEFAULT_PEN;
    if (c->mtu == 0)
        c->mtu = EXP_DEFAULT_MTU;
    if (c->template_refresh_s == 0)
        c->template_refresh_s = EXP_DEFAULT_REFRESH_S;
    if (c->queue_bytes == 0)
        c->queue_bytes = EXP_DEFAULT_QUEUE;
    if (c->flush_ms == 0)
        c->flush_ms = EXP_DEFAULT_FLUSH_MS;
    if (c->udp_rate == 0)
        c->udp_rate = EXP_DEFAULT_UDP_RATE;
    if (c->flow_size < sizeof(struct flow)) {
        snprintf(err, errlen, "export: flow size %zu is below sizeof(struct flow)", c->flow_size);
        goto fail;
    }
    if (c->collector_mode == NULL || strcmp(c->collector_mode, "all") == 0) {
        x->round_robin = false;
    } else if (strcmp(c->collector_mode, "round-robin") == 0) {
        x->round_robin = true;
    } else {
        snprintf(err, errlen, "--collector-mode: expected 'all' or 'round-robin', got '%s'",
                 c->collector_mode);
        goto fail;
    }
    if (c->n_collectors == 0) {
        snprintf(err, errlen, "export: no collector");
        goto fail;
    }
    x->c = calloc(c->n_collectors, sizeof(*x->c));
    if (x->c == NULL) {
        snprintf(err, errlen, "export: out of memory");
        goto fail;
    }
    x->n = c->n_collectors;
    x->stride = (c->flow_size + 7) & ~(size_t)7;
    x->now_ms = clk_mono_ms();
    x->start_wall_ms = wall_ms(x);
    for (size_t i = 0; i < x->n; i++) {
        struct collector *col = &x->c[i];
        char scheme[16], transport[8], host[EXP_URL_MAX], port[8], e2[384];

        col->url = c->collectors[i];
        col->owner = x;
        col->reg_fd = -1;
        if (exp_parse_collector(col->url, scheme, sizeof(scheme), transport, sizeof(transport),
                                host, sizeof(host), port, sizeof(port), err, errlen) != 0)
            goto fail;
        struct exp_collector_options co;
        if (exp_parse_options(col->url, &co, err, errlen) != 0)
            goto fail;
        for (size_t k = 0; k < sizeof(encoders) / sizeof(encoders[0]); k++)
            if (strcmp(encoders[k]->scheme, scheme) == 0)
                col->ops = encoders[k];
        col->proto = strcmp(transport, "udp") == 0   ? TX_UDP
                     : strcmp(transport, "tcp") == 0 ? TX_TCP
                                                     : TX_TLS;
        col->max_msg = col->proto == TX_UDP ? c->mtu : EXP_STREAM_MSG;
        if (col->max_msg < c->mtu)
            col->max_msg = c->mtu;
        if (col->ops->msg_len != 0)
            col->max_msg = col->ops->msg_len;
        col->cap = c->queue_bytes / x->stride;
        if (col->cap < 16)
            col->cap = 16;
        col->ring = malloc(col->cap * x->stride);
        col->fifo = malloc(EXP_FIFO * sizeof(*col->fifo));
        if (col->ring == NULL || col->fifo == NULL) {
            snprintf(err, errlen, "collector '%s': out of memory for its queue", col->url);
            goto fail;
        }
        uint32_t domain = co.has_domain ? co.domain : c->observation_domain;
        struct exp_enc_params ep = {
            .observation_domain = domain,
            .uniflow = c->uniflow || co.uniflow,
            .engine_type = (uint8_t)(co.engine_type >= 0 ? co.engine_type : 0),
            .engine_id = (uint8_t)(co.engine_id >= 0 ? co.engine_id : (int)(domain & 0xff)),
            .pen = c->pen,
            .max_msg = col->max_msg,
            .refresh_packets = c->template_refresh_packets,
            .template_file = c->template_file,
            .ntop_compat = c->ntop_compat,
            .layout = c->layout,
            .app_name = c->app_name,
            .app_ctx = c->app_ctx,
            .n_apps = c->n_apps,
            .export_time_s = c->export_time_s,
            .extras = c->extras, /* plugin */
            .n_extras = c->n_extras,
            .sampling = c->sampling,
            .sink = collector_sink,
            .sink_ctx = col,
        };
        if ((col->enc = col->ops->open(&ep, e2, sizeof(e2))) == NULL) {
            snprintf(err, errlen, "collector '%s': %s", col->url, e2);
            goto fail;
        }
        struct tx_config tc = {
            .proto = col->proto,
            .host = host,
            .port = port,
            .tls_ca = c->tls_ca,
            .tls_cert = c->tls_cert,
            .tls_key = c->tls_key,
            .source = co.exporter[0] != '\0' ? co.exporter : NULL,
        };
        if ((col->tx = tx_open(&tc, e2, sizeof(e2))) == NULL) {
            snprintf(err, errlen, "collector '%s': %s", col->url, e2);
            goto fail;
        }
        col->paced = c->udp_rate != EXP_UDP_UNPACED;
        col->tokens = 64.0;
        col->tokens_ms = x->now_ms;
    }
    return x;
fail:
    exp_free(x);
    return NULL;
}

void
exp_close(struct exporter *x, const struct exp_process_stats *ps, int timeout_ms)
{
    uint64_t now = clk_mono_ms();
    uint64_t deadline = now + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

    if (x == NULL || x->closed)
        return;
    if (!x->finishing)
        exp_finish(x, ps);
    else if (ps != NULL)
        x->ps = *ps;
    if (timeout_ms > 0 && !exp_drained(x)) {
        /* Called outside the owner's loop (a reload): wait in a loop of our own, on the
         * collectors' sockets and timers only, until drained or the deadline. */
        char err[128];
        struct ev_loop *l = ev_new(65536, err, sizeof(err));
        if (l != NULL) {
            exp_watch(x, l);
            while (!exp_drained(x) && (now = clk_mono_ms()) < deadline)
                if (ev_run_once(l, (int)(deadline - now)) < 0)
                    break;
            exp_watch(x, NULL);
            ev_free(l);
        }
    }
    unwatch(x);
    now = clk_mono_ms();
    x->now_ms = now;
    for (size_t i = 0; i < x->n; i++)
        if (!x->c[i].done)
            collector_poll(x, &x->c[i], now);
    int left = now >= deadline ? 0 : (int)(deadline - now);
    if (left < EXP_CLOSE_GRACE_MS)
        left = EXP_CLOSE_GRACE_MS;
    for (size_t i = 0; i < x->n; i++) {
        struct collector *c = &x->c[i];
        struct tx_stats final;
        if (!c->done) {
            struct exp_msg_info lost;
            c->ops->discard(c->enc, &lost);
            /* Only when something is lost: no "0 flows not sent" noise. */
            if (c->count > 0 || lost.flows > 0)
                log_msg(LOG_WARNING, "export %s: %zu flows not sent at exit%s%s", c->url,
                        c->count + lost.flows, tx_last_error(c->tx)[0] ? ": " : "",
                        tx_last_error(c->tx));
            for (; c->count > 0; ring_pop(c))
                flow_not_sent(c, ring_at(x, c, 0));
            add_not_sent(c, lost.flows, lost.packets, lost.octets);
        }
        tx_close(c->tx, left, &final);
        c->tx = NULL;
        settle(c, &final);
        /* Whatever the transport neither sent nor reported lost is lost now. */
        for (; c->fcount > 0; c->fcount--, c->fhead = (c->fhead + 1) % EXP_FIFO)
            add_not_sent(c, c->fifo[c->fhead].flows, c->fifo[c->fhead].packets,
                         c->fifo[c->fhead].octets);
        c->up = false;
    }
    x->closed = true;
}

void
exp_free(struct exporter *x)
{
    if (x == NULL)
        return;
    for (size_t i = 0; i < x->n; i++) {
        struct collector *c = &x->c[i];
        if (c->tx != NULL)
            tx_close(c->tx, 0, NULL);
        if (c->enc != NULL)
            c->ops->free(c->enc);
        free(c->ring);
        free(c->fifo);
    }
    free(x->c);
    free(x);
}

bool
exp_backlogged(const struct exporter *x)
{
    /* A collector that is not up yet (connecting) counts too: reading a file, its flows wait. */
    for (size_t i = 0; i < x->n; i++)
        if (x->c[i].count > x->c[i].cap / 2)
            return true;
    return false;
}

size_t
exp_n_collectors(const struct exporter *x)
{
    return x->n;
}

const char *
exp_collector_name(const struct exporter *x, size_t i)
{
    return i < x->n ? x->c[i].url : "";
}

void
exp_stats(const struct exporter *x, size_t i, struct exp_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t k = 0; k < x->n; k++) {
        const struct collector *c = &x->c[k];
        if (i != SIZE_MAX && i != k)
            continue;
        out->flows += c->st.flows;
        out->flows_sent += c->st.flows_sent;
        out->messages_sent += c->st.messages_sent;
        out->octets_sent += c->st.octets_sent;
        out->not_sent_flows += c->st.not_sent_flows;
        out->not_sent_packets += c->st.not_sent_packets;
        out->not_sent_octets += c->st.not_sent_octets;
        out->queued += c->count;
        out->sessions += c->st.sessions;
        out->connect_failures += c->txs.connect_failures;
        if (c->ops != NULL && c->ops->not_exportable != NULL && c->enc != NULL)
            out->not_exportable += c->ops->not_exportable(c->enc);
    }
}

void
exp_summary(const struct exporter *x, FILE *out)
{
    for (size_t i = 0; i < x->n; i++) {
        struct exp_stats s;
        exp_stats(x, i, &s);
        fprintf(out,
                "nfprobe: export %s: %" PRIu64 " flows sent in %" PRIu64 " messages (%" PRIu64
                " octets), %" PRIu64 " not sent (%" PRIu64 " packets, %" PRIu64
                " octets), %" PRIu64 " sessions, %" PRIu64 " connect failures\n",
                x->c[i].url, s.flows_sent, s.messages_sent, s.octets_sent, s.not_sent_flows,
                s.not_sent_packets, s.not_sent_octets, s.sessions, s.connect_failures);
        if (s.not_exportable > 0)
            fprintf(out, "nfprobe: export %s: %" PRIu64 " flows not exportable (IPv6 flows have "
                    "no NetFlow v5 record)\n", x->c[i].url, s.not_exportable);
    }
}
