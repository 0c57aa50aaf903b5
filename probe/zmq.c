/*
 * zmq.c - the ntopng sink: TLV flow messages and JSON events over ZMQ XPUB sockets.
 *
 * One XPUB socket per endpoint (XPUB rather than PUB: it publishes the same way, and it lets us
 * see subscriptions arrive, so that we know when a connected ntopng listens and count what is
 * sent while nobody does). XPUB_NODROP makes a full queue an EAGAIN we count per endpoint
 * instead of a silent drop; ZMQ_DONTWAIT keeps every send non-blocking.
 */
#include "zmq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>

#include <ndpi_api.h>
#include <zmq.h>

#include "clock.h"
#include "fields.h"
#include "output.h"
#include "worker.h"

#define ZS_RECORD_MAX 4096u /* the largest record we write (strings are bounded by flow_l7) */
#define ZS_SER_SIZE (ZSINK_MAX_PAYLOAD + 2 * ZS_RECORD_MAX) /* never grows on the packet path */
#define ZS_EVENT_MAX 2048
#define ZS_SPLIT (1ull << 31) /* report before a delta gets near ntopng's 32-bit counters */
#define ZS_VERSION_TLV 3
#define ZS_SETTLE_MS 3000 /* the wait for a new endpoint's first subscriber */

/* The v2 header ntopng recognises by its size (spec 3.1). */
struct zs_hdr {
    char url[16];
    uint8_t version;
    uint8_t pad;
    uint16_t size;
    uint32_t msg_id;    /* network order */
    uint32_t source_id; /* host order: ntopng reads it without swapping */
};
_Static_assert(sizeof(struct zs_hdr) == 28, "ntopng's zmq_msg_hdr_v2 is 28 bytes");
_Static_assert(offsetof(struct zs_hdr, version) == 16 && offsetof(struct zs_hdr, size) == 18 &&
                   offsetof(struct zs_hdr, msg_id) == 20 &&
                   offsetof(struct zs_hdr, source_id) == 24,
               "ntopng's zmq_msg_hdr_v2 layout");

/* The counters ntopng takes as deltas: IN/OUT_BYTES, IN/OUT_PKTS. */
enum { ZS_IN_BYTES, ZS_OUT_BYTES, ZS_IN_PKTS, ZS_OUT_PKTS, ZS_NCOUNT };
static const uint32_t zs_count_key[ZS_NCOUNT] = {1, 23, 2, 24};

/*
 * Per-flow report state, in the flow slot (the meter extension), kept small: every byte of it
 * is paid on every flow, reported or not. The counters reported so far are kept modulo 2^32: a
 * report is due before any delta reaches 2^31 (bound), so the difference of the low 32 bits is
 * the delta itself.
 */
struct zs_state {
    uint32_t rep[ZS_NCOUNT]; /* reported so far, low 32 bits (live updates) */
    uint64_t next_ms;        /* packet time of the next live update */
    uint32_t bound;          /* since the last report: a bound of every octet count's growth */
};

struct zs_ep {
    void *sock;
    char url[256];
    bool bound;
    char key[41];           /* the CURVE server key it was opened with, "" = none */
    uint32_t hwm;
    int64_t subs;           /* subscriptions seen minus unsubscriptions */
    struct zsink_stats st;
};

struct zsink {
    struct zsink_config cfg; /* its pointers are cleared: what is kept is copied below */
    void *ctx;
    struct zs_ep ep[ZSINK_MAX_ENDPOINTS];
    size_t n_ep;          /* open (zsink_start()) */
    size_t n_planned;     /* configured */
    char key[41];
    pthread_mutex_t lock; /* the endpoints' counters and list: the metrics thread reads them */
    struct zsink_stats retired; /* of the endpoints a reload closed: part of the totals */
    ndpi_serializer ser;
    bool ser_ok;
    unsigned n_flows;     /* records in the pending message */
    unsigned n_updates;
    uint64_t pending_since;
    uint64_t hold_until;  /* flow messages wait for new endpoints' subscribers until then */
    uint32_t msg_id;
    size_t ext_off;
    struct flow_layout layout;
    const struct nid_map *ids;
    char iface[64];
    char version[32];
    _Atomic uint64_t update_ms; /* read by the workers (zsink_due()); SIGHUP changes it */
    int count_row[2];         /* the octetDeltaCount / reverseOctetDeltaCount rows */
    uint16_t rows[FLD_COUNT]; /* catalogue rows with an ntop id, enabled in this run */
    size_t n_rows;
    uint32_t groups;
    _Atomic uint64_t first_pkt_ms; /* --zmq-rebase-time anchor: the run's first packet */
    uint64_t start_wall_ms;
    uint64_t start_mono_ms;
    uint64_t next_event;
    _Atomic uint64_t l7_untranslated;
    uint64_t total_flows;
    char hostname[64];
};

static void add_stats(struct zsink_stats *out, const struct zsink_stats *s);

int
zsink_check_key(const char *key)
{
    uint8_t bin[32];

    if (key == NULL || strlen(key) != 40 || zmq_z85_decode(bin, key) == NULL)
        return -EINVAL;
    return 0;
}

/* Reads the subscriptions that arrived (XPUB passes them up as messages). */
static void
drain_subs(struct zs_ep *e)
{
    uint8_t b[256];
    int n;

    while ((n = zmq_recv(e->sock, b, sizeof(b), ZMQ_DONTWAIT)) > 0) {
        if (b[0] == 1)
            e->subs++;
        else if (b[0] == 0 && e->subs > 0)
            e->subs--;
    }
}

/* Sends one message (header + payload) to every endpoint; msg_id counts it once. */
static void
send_msg(struct zsink *z, const char *topic, const void *payload, size_t len, unsigned n_flows,
         unsigned n_updates)
{
    struct zs_hdr h;

    memset(&h, 0, sizeof(h));
    strncpy(h.url, topic, sizeof(h.url) - 1);
    h.version = ZS_VERSION_TLV;
    h.size = (uint16_t)(len > UINT16_MAX ? UINT16_MAX : len);
    h.msg_id = htonl(++z->msg_id);
    h.source_id = z->cfg.source_id;
    pthread_mutex_lock(&z->lock);
    for (size_t i = 0; i < z->n_ep; i++) {
        struct zs_ep *e = &z->ep[i];
        if (zmq_send(e->sock, &h, sizeof(h), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            e->st.dropped++;
            continue;
        }
        /* The queue had room for the message: the second frame goes in with the first. */
        if (zmq_send(e->sock, payload, len, ZMQ_DONTWAIT) < 0) {
            e->st.dropped++;
            continue;
        }
        e->st.messages++;
        if (e->subs <= 0)
            e->st.no_subscriber++;
        e->st.flows += n_flows;
        e->st.updates += n_updates;
        if (topic[0] == 'e')
            e->st.events++;
    }
    pthread_mutex_unlock(&z->lock);
}

/* Sends the pending flow message, if any. */
static void
flush_flows(struct zsink *z)
{
    uint32_t len = 0;
    char *buf;

    if (z->n_flows == 0)
        return;
    buf = ndpi_serializer_get_buffer(&z->ser, &len);
    send_msg(z, "flow", buf, len, z->n_flows, z->n_updates);
    ndpi_reset_serializer(&z->ser);
    z->n_flows = 0;
    z->n_updates = 0;
}

static uint64_t
epoch_s(const struct zsink *z, uint64_t ms)
{
    uint64_t first = atomic_load_explicit(&z->first_pkt_ms, memory_order_relaxed);

    if (z->cfg.rebase_time && first != 0)
        ms = ms + z->start_wall_ms - first; /* unsigned wrap makes a negative shift work */
    return ms / 1000;
}

/* The key ntopng files the flow's server name under, by the (sender's) application. */
static uint32_t
server_name_key(const struct flow_l7 *l7)
{
    uint16_t p = l7->master_id != 0 ? l7->master_id : l7->app_id;

    switch (p) {
    case NDPI_PROTOCOL_TLS:
    case NDPI_PROTOCOL_QUIC:
    case NDPI_PROTOCOL_DTLS:
        return 57660; /* TLS_SERVER_NAME */
    case NDPI_PROTOCOL_HTTP:
    case NDPI_PROTOCOL_HTTP_CONNECT:
    case NDPI_PROTOCOL_HTTP_PROXY:
        return 57833; /* HTTP_SITE */
    case NDPI_PROTOCOL_DNS:
    case NDPI_PROTOCOL_MDNS:
    case NDPI_PROTOCOL_LLMNR:
        return 57677; /* DNS_QUERY */
    default:
        return 58011; /* L7_INFO */
    }
}

/* "master.app" in the receiver's numbering, or false when the receiver lacks one of them. */
static bool
l7_proto(struct zsink *z, const struct flow_l7 *l7, char *buf, size_t len)
{
    uint32_t m = l7->master_id, a = l7->app_id;

    if (m == 0 && a == 0)
        return false; /* unknown: ntopng guesses from addresses and ports */
    if (z->ids != NULL) {
        m = m != 0 ? nid_translate(z->ids, (uint16_t)m) : 0;
        a = a != 0 ? nid_translate(z->ids, (uint16_t)a) : 0;
        if (m == NID_NONE || a == NID_NONE) {
            atomic_fetch_add_explicit(&z->l7_untranslated, 1, memory_order_relaxed);
            return false;
        }
    }
    snprintf(buf, len, "%" PRIu32 ".%" PRIu32, m, a);
    return true;
}

/* The four counters of f as ntopng counts them (totals; the reports are their deltas). */
static inline void
counters(const struct zsink *z, const struct flow *f, uint64_t c[ZS_NCOUNT])
{
    union fld_value v = {0}, w = {0};

    if (z->count_row[0] >= 0 && z->count_row[1] >= 0) {
        fld_get((enum fld_id)z->count_row[0], &z->layout, f, &v);
        fld_get((enum fld_id)z->count_row[1], &z->layout, f, &w);
    }
    c[ZS_IN_BYTES] = v.u;
    c[ZS_OUT_BYTES] = w.u;
    c[ZS_IN_PKTS] = f->dir[FLOW_S2D].packets;
    c[ZS_OUT_PKTS] = f->dir[FLOW_D2S].packets;
}

/*
 * Appends one record: the counters' deltas, then the catalogue's rows with an ntop id. Sends
 * the message once it is full.
 */
static void
put_flow(struct zsink *z, const struct flow *f, const uint64_t delta[ZS_NCOUNT], bool update)
{
    ndpi_serializer *s = &z->ser;
    const struct flow_layout *L = &z->layout;
    uint32_t skip = f->key.ip_version == 4 ? FLD_G_V6 : FLD_G_V4;
    char str[64];

    for (int k = 0; k < ZS_NCOUNT; k++)
        ndpi_serialize_uint32_uint64(s, zs_count_key[k], delta[k]);
    for (size_t r = 0; r < z->n_rows; r++) {
        enum fld_id id = (enum fld_id)z->rows[r];
        const struct fld_def *d = &fld_defs[id];
        union fld_value v;

        if (d->groups & skip)
            continue;
        /* Where ntopng's semantics differ from the catalogue's value (spec 5 and 6). */
        switch (id) {
        case FLD_bidirectional_first_seen_ms:
        case FLD_bidirectional_last_seen_ms:
            fld_get(id, L, f, &v);
            ndpi_serialize_uint32_uint64(s, d->ntop_id, epoch_s(z, v.u));
            continue;
        case FLD_ntop_l7_proto:
            if (l7_proto(z, flow_l7(L, f), str, sizeof(str)))
                ndpi_serialize_uint32_string(s, d->ntop_id, str);
            continue;
        case FLD_ntop_tls_server_name:
            if (flow_l7(L, f)->requested_server_name[0] != '\0')
                ndpi_serialize_uint32_string(s, server_name_key(flow_l7(L, f)),
                                             flow_l7(L, f)->requested_server_name);
            continue;
        default:
            break;
        }
        fld_get(id, L, f, &v);
        switch (d->type) {
        case FLD_T_U64:
            ndpi_serialize_uint32_uint64(s, d->ntop_id, v.u);
            break;
        case FLD_T_I64:
            ndpi_serialize_uint32_int64(s, d->ntop_id, v.i);
            break;
        case FLD_T_STR:
            if (v.s[0] != '\0')
                ndpi_serialize_uint32_string(s, d->ntop_id, v.s);
            break;
        case FLD_T_IP:
            out_format_ip(v.b, f->key.ip_version, str);
            ndpi_serialize_uint32_string(s, d->ntop_id, str);
            break;
        case FLD_T_MAC:
            /* by hand: two per flow, and printf's machinery costs more than the rest */
            for (int k = 0; k < 6; k++) {
                str[3 * k] = "0123456789abcdef"[v.b[k] >> 4];
                str[3 * k + 1] = "0123456789abcdef"[v.b[k] & 15];
                str[3 * k + 2] = k < 5 ? ':' : '\0';
            }
            ndpi_serialize_uint32_string(s, d->ntop_id, str);
            break;
        default:
            break; /* no ntop id has another type */
        }
    }
    if (z->cfg.ifindex != 0)
        ndpi_serialize_uint32_uint32(s, 10 /* INPUT_SNMP */, z->cfg.ifindex);
    ndpi_serialize_end_of_record(s);
    if (z->n_flows++ == 0)
        z->pending_since = clk_mono_ms();
    z->n_updates += update;
    z->total_flows++;
    uint32_t len = 0;
    ndpi_serializer_get_buffer(s, &len);
    if (z->n_flows >= ZSINK_MAX_FLOWS || len > ZSINK_MAX_PAYLOAD - ZS_RECORD_MAX)
        flush_flows(z);
}

/* At least what the packet adds to any octet count of its flow: its wire length (the link-layer
 * accounting's, as the meter holds it), or its IP-layer octets with a whole IPv6 header (the IP
 * layer's; transport and payload counts are smaller). Counted per report, it keeps every delta
 * below 2^31 plus one packet. */
static inline uint64_t
octet_bound(const struct pkt_meta *m)
{
    uint32_t ip = (uint32_t)m->ip_size + 40;

    return m->raw_size > ip ? m->raw_size : ip;
}

static void
ext_init(void *ctx, struct flow *f, void *state, const struct pkt_meta *m)
{
    struct zsink *z = ctx;
    struct zs_state *st = state;
    uint64_t zero = 0;

    (void)f;
    memset(st, 0, sizeof(*st));
    st->bound = (uint32_t)octet_bound(m);
    st->next_ms = m->time_ms + atomic_load_explicit(&z->update_ms, memory_order_relaxed);
    if (z->cfg.rebase_time)
        atomic_compare_exchange_strong(&z->first_pkt_ms, &zero, m->time_ms ? m->time_ms : 1);
}

bool
zsink_due(void *ctx, struct flow *f, void *state, const struct pkt_meta *m)
{
    struct zsink *z = ctx;
    struct zs_state *st = state;

    (void)f;
    /* Per packet only adds and compares; the counters are read when the update has left. */
    st->bound += (uint32_t)octet_bound(m);
    if (m->time_ms < st->next_ms && st->bound < ZS_SPLIT)
        return false;
    /* A live update: the flow stays in the meter; the next one is an interval away. The copy
     * the worker hands over carries the counters reported before it, hence its deltas. */
    st->next_ms = m->time_ms + atomic_load_explicit(&z->update_ms, memory_order_relaxed);
    return true;
}

void
zsink_reported(void *ctx, struct flow *f, void *state)
{
    struct zsink *z = ctx;
    struct zs_state *st = state;
    uint64_t c[ZS_NCOUNT];

    counters(z, f, c);
    for (int k = 0; k < ZS_NCOUNT; k++)
        st->rep[k] = (uint32_t)c[k];
    st->bound = 0;
}

struct mtr_ext
zsink_meter_ext(struct zsink *z)
{
    return (struct mtr_ext){
        .ctx = z,
        .ext_size = sizeof(struct zs_state),
        .on_init = ext_init,
    };
}

void
zsink_bind(struct zsink *z, const struct flow_layout *L, size_t ext_off,
           const struct nid_map *ids)
{
    z->layout = *L;
    z->ext_off = ext_off;
    z->ids = ids;
    /* IN/OUT_BYTES: RFC 7012's counters, by their IPFIX names (IP-layer octets). */
    z->count_row[0] = fld_by_ipfix("octetDeltaCount");
    z->count_row[1] = fld_by_ipfix("reverseOctetDeltaCount");
    /* Catalogue rows with an ntop id that this run has (V4/V6 are chosen per flow), but the
     * counters, sent as deltas above. */
    z->groups = fld_groups(L) | FLD_G_NTOP | FLD_G_V4 | FLD_G_V6;
    z->n_rows = 0;
    for (size_t i = 0; i < FLD_COUNT; i++) {
        uint32_t k = fld_defs[i].ntop_id;
        if (k != 0 && k != 1 && k != 2 && k != 23 && k != 24 &&
            fld_enabled((enum fld_id)i, z->groups))
            z->rows[z->n_rows++] = (uint16_t)i;
    }
}

void
zsink_flow(struct zsink *z, const struct flow *f)
{
    const struct zs_state *st = (const struct zs_state *)(const void *)(f->ext + z->ext_off);
    uint64_t d[ZS_NCOUNT];

    if (z->n_ep == 0)
        return;
    /* A live update's copy and a finished flow alike: since the last report (modulo 2^32, and
     * every delta is below 2^32). */
    counters(z, f, d);
    for (int k = 0; k < ZS_NCOUNT; k++)
        d[k] = (uint32_t)(d[k] - st->rep[k]);
    put_flow(z, f, d, wrk_is_update(f));
}

/* Appends s to buf as a JSON string body (quotes and backslashes escaped, controls dropped). */
static size_t
json_str(char *buf, size_t cap, const char *s)
{
    size_t o = 0;

    for (; *s != '\0' && o + 2 < cap; s++) {
        if (*s == '"' || *s == '\\')
            buf[o++] = '\\';
        if ((unsigned char)*s >= 0x20)
            buf[o++] = *s;
    }
    buf[o] = '\0';
    return o;
}

static void
send_event(struct zsink *z, const struct zsink_probe_stats *ps)
{
    char buf[ZS_EVENT_MAX], name[128], host[128];
    struct zsink_probe_stats none = {0};
    uint64_t up = clk_mono_ms() - z->start_mono_ms, drops = 0;
    struct utsname u;

    if (ps == NULL)
        ps = &none;
    if (up == 0)
        up = 1;
    for (size_t i = 0; i < z->n_ep; i++)
        drops += z->ep[i].st.dropped;
    json_str(name, sizeof(name), z->cfg.iface != NULL ? z->cfg.iface : "");
    json_str(host, sizeof(host), z->hostname);
    if (uname(&u) != 0)
        strcpy(u.sysname, "Linux");
    /* timeout.idle, lifetime and collected_lifetime together: ntopng derives its flow idle
     * time from all three (spec 6.2). */
    int n = snprintf(
        buf, sizeof(buf),
        "{\"time\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"packets\":%" PRIu64
        ",\"packet_drops\":%" PRIu64 ",\"iface\":{\"name\":\"%s\",\"speed\":0,\"ip\":\"\"},"
        "\"probe\":{\"ip\":\"\",\"public_ip\":\"\",\"version\":\"nfprobe %s\",\"osname\":"
        "\"%s\",\"uuid\":\"%s\",\"unique_source_id\":%" PRIu32 ",\"uptime\":%" PRIu64 "},"
        "\"avg\":{\"bps\":%" PRIu64 ",\"pps\":%" PRIu64 "},"
        "\"timeout\":{\"lifetime\":%" PRIu64 ",\"idle\":%" PRIu64
        ",\"collected_lifetime\":%" PRIu64 "},"
        "\"drops\":{\"export_queue_full\":%" PRIu64 ",\"too_many_flows\":0,\"elk_flow_drops\":0,"
        "\"sflow_pkt_sample_drops\":0,\"flow_collection_drops\":0,"
        "\"flow_collection_udp_socket_drops\":0},"
        "\"zmq\":{\"num_flow_exports\":%" PRIu64 ",\"num_zmq_exporters\":%zu}}",
        (uint64_t)time(NULL), ps->bytes, ps->packets, ps->drops, name,
        z->cfg.version != NULL ? z->cfg.version : "", u.sysname, host, z->cfg.source_id,
        up / 1000, ps->bytes * 8000 / up, ps->packets * 1000 / up, z->cfg.active_s,
        z->cfg.idle_s, z->cfg.active_s, drops, z->total_flows, z->n_ep);
    if (n > 0 && (size_t)n < sizeof(buf))
        send_msg(z, "event", buf, (size_t)n, 0, 0);
}

void
zsink_tick(struct zsink *z, uint64_t now, const struct zsink_probe_stats *ps)
{
    bool all = true;

    pthread_mutex_lock(&z->lock); /* subs: zsink_stats() reads them */
    for (size_t i = 0; i < z->n_ep; i++) {
        drain_subs(&z->ep[i]);
        all &= z->ep[i].subs > 0;
    }
    pthread_mutex_unlock(&z->lock);
    if (all || now >= z->hold_until)
        z->hold_until = 0;
    if (z->n_flows > 0 && now - z->pending_since >= z->cfg.flush_ms && z->hold_until == 0)
        flush_flows(z);
    if (now >= z->next_event && z->n_ep > 0 && z->hold_until == 0) {
        send_event(z, ps);
        z->next_event = now + (uint64_t)z->cfg.event_s * 1000;
    }
}

uint32_t
zsink_tick_ms(const struct zsink *z)
{
    return z->cfg.flush_ms < 100 ? z->cfg.flush_ms : 100;
}

/* "tcp://HOST:PORT": a host and a port (1..65535, or * to bind on any). */
static bool
endpoint_ok(const char *url, bool bind)
{
    const char *host = url + 6, *colon = strrchr(url, ':');
    char *end;

    if (strncmp(url, "tcp://", 6) != 0 || colon == NULL || colon <= host ||
        strlen(url) >= sizeof(((struct zs_ep *)0)->url))
        return false;
    if (bind && strcmp(colon, ":*") == 0)
        return true;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    return errno == 0 && end != colon + 1 && *end == '\0' && port >= 1 && port <= 65535;
}

int
zsink_check(const struct zsink_config *c, char *err, size_t errlen)
{
    if (c->n_connect + c->n_bind > ZSINK_MAX_ENDPOINTS) {
        snprintf(err, errlen, "zmq: at most %d endpoints (-c zmq+tcp:// and --zmq-bind)",
                 ZSINK_MAX_ENDPOINTS);
        return -EINVAL;
    }
    for (size_t i = 0; i < c->n_connect + c->n_bind; i++) {
        bool bind = i >= c->n_connect;
        const char *url = bind ? c->bind[i - c->n_connect] : c->connect[i];
        if (!endpoint_ok(url, bind)) {
            snprintf(err, errlen, "%s%s: not an endpoint tcp://HOST:PORT%s",
                     bind ? "--zmq-bind " : "-c zmq+", url, bind ? " (PORT may be *)" : "");
            return -EINVAL;
        }
    }
    if (c->server_key != NULL && zsink_check_key(c->server_key) != 0) {
        snprintf(err, errlen, "--zmq-encryption-key: not a CURVE public key (40 Z85 characters, "
                              "as ntopng prints it)");
        return -EINVAL;
    }
    return 0;
}

/* What a configuration says of endpoint i (connect ones first), in eps[]; the sockets are not
 * opened. */
static size_t
plan_endpoints(const struct zsink_config *c, struct zs_ep *eps)
{
    size_t n = 0;

    for (size_t i = 0; i < c->n_connect + c->n_bind; i++, n++) {
        struct zs_ep *e = &eps[n];
        memset(e, 0, sizeof(*e));
        e->bound = i >= c->n_connect;
        snprintf(e->url, sizeof(e->url), "%s", e->bound ? c->bind[i - c->n_connect] : c->connect[i]);
        snprintf(e->key, sizeof(e->key), "%s", c->server_key != NULL ? c->server_key : "");
        e->hwm = c->hwm != 0 ? c->hwm : 1000;
    }
    return n;
}

static int
open_ep(void *ctx, struct zs_ep *e, char *err, size_t errlen)
{
    int one = 1, hwm = (int)e->hwm, linger = 0;
    const char *flag = e->bound ? "--zmq-bind " : "-c zmq+";

    e->sock = zmq_socket(ctx, ZMQ_XPUB);
    if (e->sock == NULL) {
        snprintf(err, errlen, "%s%s: %s", flag, e->url, zmq_strerror(zmq_errno()));
        return -EIO;
    }
    zmq_setsockopt(e->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(e->sock, ZMQ_XPUB_NODROP, &one, sizeof(one));
    zmq_setsockopt(e->sock, ZMQ_LINGER, &linger, sizeof(linger));
    if (e->key[0] != '\0') {
        char pub[41], sec[41];
        if (zmq_curve_keypair(pub, sec) != 0) {
            snprintf(err, errlen, "--zmq-encryption-key: CURVE unavailable: %s",
                     zmq_strerror(zmq_errno()));
            return -ENOTSUP;
        }
        if (zmq_setsockopt(e->sock, ZMQ_CURVE_SERVERKEY, e->key, 40) != 0 ||
            zmq_setsockopt(e->sock, ZMQ_CURVE_PUBLICKEY, pub, 40) != 0 ||
            zmq_setsockopt(e->sock, ZMQ_CURVE_SECRETKEY, sec, 40) != 0) {
            snprintf(err, errlen, "--zmq-encryption-key: %s", zmq_strerror(zmq_errno()));
            return -EINVAL;
        }
    }
    if ((e->bound ? zmq_bind(e->sock, e->url) : zmq_connect(e->sock, e->url)) != 0) {
        snprintf(err, errlen, "%s%s: %s", flag, e->url, zmq_strerror(zmq_errno()));
        return -EINVAL;
    }
    return 0;
}

/* Closes e's socket, waiting at most linger_ms for its queue to leave. */
static void
close_ep(struct zs_ep *e, unsigned linger_ms)
{
    int linger = (int)linger_ms;

    if (e->sock == NULL)
        return;
    zmq_setsockopt(e->sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_close(e->sock);
    e->sock = NULL;
    e->subs = 0;
}

/* The interval settings of c, with their defaults. */
static void
set_intervals(struct zsink *z, const struct zsink_config *c)
{
    z->cfg.update_s = c->update_s != 0 ? c->update_s : 30;
    z->cfg.event_s = c->event_s != 0 ? c->event_s : 10;
    z->cfg.flush_ms = c->flush_ms != 0 ? c->flush_ms : 1000;
    z->cfg.hwm = c->hwm != 0 ? c->hwm : 1000;
    z->cfg.source_id = c->source_id;
    z->cfg.idle_s = c->idle_s;
    z->cfg.active_s = c->active_s;
    atomic_store_explicit(&z->update_ms, (uint64_t)z->cfg.update_s * 1000, memory_order_relaxed);
}

struct zsink *
zsink_new(const struct zsink_config *c, char *err, size_t errlen)
{
    struct zsink *z;

    if (zsink_check(c, err, errlen) != 0)
        return NULL;
    if ((z = calloc(1, sizeof(*z))) == NULL) {
        snprintf(err, errlen, "zmq: %s", strerror(ENOMEM));
        return NULL;
    }
    pthread_mutex_init(&z->lock, NULL);
    z->cfg = *c;
    set_intervals(z, c);
    snprintf(z->iface, sizeof(z->iface), "%s", c->iface != NULL ? c->iface : "");
    snprintf(z->version, sizeof(z->version), "%s", c->version != NULL ? c->version : "");
    snprintf(z->key, sizeof(z->key), "%s", c->server_key != NULL ? c->server_key : "");
    /* What is kept is copied: the configuration may be freed by a reload. */
    z->cfg.connect = z->cfg.bind = NULL;
    z->cfg.iface = z->iface;
    z->cfg.version = z->version;
    z->cfg.server_key = NULL;
    z->n_ep = 0;
    z->count_row[0] = z->count_row[1] = -1;
    if (gethostname(z->hostname, sizeof(z->hostname)) != 0)
        z->hostname[0] = '\0';
    z->hostname[sizeof(z->hostname) - 1] = '\0';
    if (ndpi_init_serializer_ll(&z->ser, ndpi_serialization_format_tlv, ZS_SER_SIZE) != 0) {
        snprintf(err, errlen, "zmq: %s", strerror(ENOMEM));
        zsink_free(z);
        return NULL;
    }
    z->ser_ok = true;
    /* The endpoints are planned now and opened by zsink_start(). */
    struct zs_ep eps[ZSINK_MAX_ENDPOINTS];
    size_t n = plan_endpoints(c, eps);
    memcpy(z->ep, eps, n * sizeof(eps[0]));
    z->n_planned = n;
    return z;
}

/* Waits (bounded) until every endpoint saw a subscriber: PUB drops what it sends before. */
static void
wait_subscribers(struct zsink *z, uint64_t ms)
{
    uint64_t deadline = clk_mono_ms() + ms;
    struct timespec nap = {0, 5000000};

    for (;;) {
        bool all = true;
        for (size_t i = 0; i < z->n_ep; i++) {
            drain_subs(&z->ep[i]);
            all &= z->ep[i].subs > 0;
        }
        if (all || clk_mono_ms() >= deadline)
            break;
        nanosleep(&nap, NULL);
    }
}

int
zsink_start(struct zsink *z, char *err, size_t errlen)
{
    int rc;

    z->start_wall_ms = clk_wall_ms();
    z->start_mono_ms = clk_mono_ms();
    if ((z->ctx = zmq_ctx_new()) == NULL) {
        snprintf(err, errlen, "zmq: %s", zmq_strerror(zmq_errno()));
        return -EIO;
    }
    for (size_t i = 0; i < z->n_planned; i++) {
        pthread_mutex_lock(&z->lock);
        z->n_ep = i + 1;
        pthread_mutex_unlock(&z->lock);
        if ((rc = open_ep(z->ctx, &z->ep[i], err, errlen)) != 0)
            return rc;
    }
    if (z->cfg.offline)
        wait_subscribers(z, ZS_SETTLE_MS);
    return 0;
}

/* True when e and n would open the same socket. */
static bool
same_ep(const struct zs_ep *e, const struct zs_ep *n)
{
    return e->bound == n->bound && strcmp(e->url, n->url) == 0 && strcmp(e->key, n->key) == 0 &&
           e->hwm == n->hwm;
}

int
zsink_reload(struct zsink *z, const struct zsink_config *c, char *err, size_t errlen)
{
    struct zs_ep next[ZSINK_MAX_ENDPOINTS];
    bool kept[ZSINK_MAX_ENDPOINTS] = {false}, opened[ZSINK_MAX_ENDPOINTS] = {false};
    bool fresh = false;
    size_t n;
    int rc;

    if ((rc = zsink_check(c, err, errlen)) != 0)
        return rc;
    n = plan_endpoints(c, next);
    /* Open what is new first: a failure changes nothing. */
    for (size_t j = 0; j < n; j++) {
        for (size_t i = 0; i < z->n_ep && next[j].sock == NULL; i++) {
            if (!kept[i] && same_ep(&z->ep[i], &next[j])) {
                next[j] = z->ep[i]; /* socket, subscriptions and counters */
                kept[i] = true;
            }
        }
        if (next[j].sock != NULL)
            continue;
        opened[j] = fresh = true;
        if ((rc = open_ep(z->ctx, &next[j], err, errlen)) != 0) {
            for (size_t k = 0; k <= j; k++)
                if (opened[k])
                    close_ep(&next[k], 0);
            return rc;
        }
    }
    /* The pending records leave on the endpoints that were there when they were metered. */
    flush_flows(z);
    pthread_mutex_lock(&z->lock);
    for (size_t i = 0; i < z->n_ep; i++) {
        if (kept[i])
            continue;
        close_ep(&z->ep[i], 0);
        add_stats(&z->retired, &z->ep[i].st);
    }
    memcpy(z->ep, next, n * sizeof(next[0]));
    z->n_ep = n;
    z->n_planned = n;
    pthread_mutex_unlock(&z->lock);
    set_intervals(z, c);
    snprintf(z->key, sizeof(z->key), "%s", c->server_key != NULL ? c->server_key : "");
    /* A new endpoint's subscriber is not there yet (the slow joiner): messages wait for it,
     * bounded (a full flow message leaves anyway, counted as sent without subscriber), so that
     * the ids it sees go on from the old endpoint's without a gap. */
    if (fresh)
        z->hold_until = clk_mono_ms() + ZS_SETTLE_MS;
    return 0;
}

void
zsink_close(struct zsink *z, const struct zsink_probe_stats *ps, unsigned linger_ms)
{
    if (z == NULL)
        return;
    flush_flows(z);
    if (z->n_ep > 0)
        send_event(z, ps);
    /* Wait (bounded) for the queued messages to leave: the linger of each socket. */
    for (size_t i = 0; i < z->n_ep; i++) {
        drain_subs(&z->ep[i]);
        close_ep(&z->ep[i], linger_ms);
    }
}

void
zsink_free(struct zsink *z)
{
    if (z == NULL)
        return;
    for (size_t i = 0; i < z->n_ep; i++)
        close_ep(&z->ep[i], 0);
    if (z->ctx != NULL)
        zmq_ctx_term(z->ctx);
    if (z->ser_ok)
        ndpi_term_serializer(&z->ser);
    pthread_mutex_destroy(&z->lock);
    free(z);
}

size_t
zsink_n_endpoints(struct zsink *z)
{
    pthread_mutex_lock(&z->lock);
    size_t n = z->n_ep;
    pthread_mutex_unlock(&z->lock);
    return n;
}

static void
add_stats(struct zsink_stats *out, const struct zsink_stats *s)
{
    out->messages += s->messages;
    out->dropped += s->dropped;
    out->no_subscriber += s->no_subscriber;
    out->flows += s->flows;
    out->updates += s->updates;
    out->events += s->events;
}

void
zsink_stats(struct zsink *z, size_t i, struct zsink_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&z->lock);
    if (i == SIZE_MAX)
        add_stats(out, &z->retired);
    for (size_t k = 0; k < z->n_ep; k++) {
        if (i != SIZE_MAX && i != k)
            continue;
        add_stats(out, &z->ep[k].st);
        out->subscribers += z->ep[k].subs > 0 ? (uint64_t)z->ep[k].subs : 0;
        if (i == k)
            snprintf(out->endpoint, sizeof(out->endpoint), "%s", z->ep[k].url);
    }
    pthread_mutex_unlock(&z->lock);
    out->l7_untranslated = atomic_load_explicit(&z->l7_untranslated, memory_order_relaxed);
}

void
zsink_summary(struct zsink *z, FILE *out)
{
    for (size_t i = 0; i < z->n_ep; i++) {
        struct zsink_stats s;
        zsink_stats(z, i, &s);
        fprintf(out,
                "zmq %s %s: %" PRIu64 " messages, %" PRIu64 " flow records (%" PRIu64
                " updates), %" PRIu64 " events, %" PRIu64 " dropped (queue full), %" PRIu64
                " sent without subscriber, %" PRIu64 " without L7 id\n",
                z->ep[i].bound ? "bind" : "connect", s.endpoint, s.messages, s.flows, s.updates,
                s.events, s.dropped, s.no_subscriber, s.l7_untranslated);
    }
}
