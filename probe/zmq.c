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

#define ZS_RECORD_MAX 4096u /* the largest record we write (strings are bounded by flow_l7) */
#define ZS_SER_SIZE (ZSINK_MAX_PAYLOAD + 2 * ZS_RECORD_MAX) /* never grows on the packet path */
#define ZS_EVENT_MAX 2048
#define ZS_SPLIT (1ull << 31) /* report before a delta gets near ntopng's 32-bit counters */
#define ZS_VERSION_TLV 3

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

/* Per-flow report state, in the flow slot (the meter extension). */
struct zs_state {
    uint64_t ip_octets[2];  /* IP-layer octets so far: src2dst, dst2src */
    uint64_t rep_octets[2]; /* what was reported in earlier updates */
    uint64_t rep_pkts[2];
    uint64_t next_ms;       /* packet time of the next live update */
};

struct zs_ep {
    void *sock;
    char url[256];
    bool bound;
    int64_t subs;           /* subscriptions seen minus unsubscriptions */
    struct zsink_stats st;
};

struct zsink {
    struct zsink_config cfg;
    void *ctx;
    struct zs_ep ep[ZSINK_MAX_ENDPOINTS];
    size_t n_ep;
    pthread_mutex_t lock; /* workers (updates) and the output thread share the sockets */
    ndpi_serializer ser;
    bool ser_ok;
    unsigned n_flows;     /* records in the pending message */
    unsigned n_updates;
    uint64_t pending_since;
    uint32_t msg_id;
    size_t ext_off;
    struct flow_layout layout;
    const struct nid_map *ids;
    char iface[64];
    uint64_t update_ms;
    uint16_t rows[FLD_COUNT]; /* catalogue rows with an ntop id, enabled in this run */
    size_t n_rows;
    uint32_t groups;
    _Atomic uint64_t first_pkt_ms; /* --zmq-rebase-time anchor: the run's first packet */
    uint64_t start_wall_ms;
    uint64_t start_mono_ms;
    uint64_t next_event;
    uint64_t l7_untranslated;
    uint64_t total_flows;
    unsigned since_tick;
    char hostname[64];
};

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
    for (size_t i = 0; i < z->n_ep; i++) {
        struct zs_ep *e = &z->ep[i];
        drain_subs(e);
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
}

/* Sends the pending flow message, if any. Called with the lock held. */
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
            z->l7_untranslated++;
            return false;
        }
    }
    snprintf(buf, len, "%" PRIu32 ".%" PRIu32, m, a);
    return true;
}

/*
 * Appends one record: the catalogue's rows with an ntop id, counters as deltas since st's last
 * report. Called with the lock held; sends the message once it is full.
 */
static void
put_flow(struct zsink *z, const struct flow *f, const struct zs_state *st, bool update)
{
    ndpi_serializer *s = &z->ser;
    const struct flow_layout *L = &z->layout;
    uint64_t pk[2] = {f->dir[FLOW_S2D].packets - st->rep_pkts[0],
                      f->dir[FLOW_D2S].packets - st->rep_pkts[1]};
    uint64_t oc[2] = {st->ip_octets[0] - st->rep_octets[0], st->ip_octets[1] - st->rep_octets[1]};
    uint32_t skip = f->key.ip_version == 4 ? FLD_G_V6 : FLD_G_V4;
    char str[64];

    for (size_t r = 0; r < z->n_rows; r++) {
        enum fld_id id = (enum fld_id)z->rows[r];
        const struct fld_def *d = &fld_defs[id];
        union fld_value v;

        if (d->groups & skip)
            continue;
        /* A live update comes from the packet path: the output thread has not enriched it yet. */
        if (update && (d->groups & (FLD_G_AS | FLD_G_PREFIX | FLD_G_ROUTE | FLD_G_DIRECTION)))
            continue;
        /* Where ntopng's semantics differ from the catalogue's value (spec 5 and 6). */
        switch (id) {
        case FLD_src2dst_bytes:
            ndpi_serialize_uint32_uint64(s, d->ntop_id, oc[0]);
            continue;
        case FLD_dst2src_bytes:
            ndpi_serialize_uint32_uint64(s, d->ntop_id, oc[1]);
            continue;
        case FLD_src2dst_packets:
            ndpi_serialize_uint32_uint64(s, d->ntop_id, pk[0]);
            continue;
        case FLD_dst2src_packets:
            ndpi_serialize_uint32_uint64(s, d->ntop_id, pk[1]);
            continue;
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

/* IP-layer octets of a packet: the IPv4 total length, or the IPv6 payload plus its header. */
static inline uint64_t
ip_octets(const struct pkt_meta *m)
{
    return m->ip_version == 6 ? (uint64_t)m->ip_size + 40 : m->ip_size;
}

static void
ext_init(void *ctx, struct flow *f, void *state, const struct pkt_meta *m)
{
    struct zsink *z = ctx;
    struct zs_state *st = state;
    uint64_t zero = 0;

    (void)f;
    memset(st, 0, sizeof(*st));
    st->ip_octets[0] = ip_octets(m);
    st->next_ms = m->time_ms + z->update_ms;
    if (z->cfg.rebase_time)
        atomic_compare_exchange_strong(&z->first_pkt_ms, &zero, m->time_ms ? m->time_ms : 1);
}

static void
ext_update(void *ctx, struct flow *f, void *state, const struct pkt_meta *m)
{
    struct zsink *z = ctx;
    struct zs_state *st = state;

    st->ip_octets[m->direction & 1] += ip_octets(m);
    if (m->time_ms < st->next_ms && st->ip_octets[0] - st->rep_octets[0] < ZS_SPLIT &&
        st->ip_octets[1] - st->rep_octets[1] < ZS_SPLIT)
        return;
    /* A live update: the flow stays in the meter; the next one is an interval away. */
    st->next_ms = m->time_ms + z->update_ms;
    pthread_mutex_lock(&z->lock);
    put_flow(z, f, st, true);
    pthread_mutex_unlock(&z->lock);
    st->rep_octets[0] = st->ip_octets[0];
    st->rep_octets[1] = st->ip_octets[1];
    st->rep_pkts[0] = f->dir[FLOW_S2D].packets;
    st->rep_pkts[1] = f->dir[FLOW_D2S].packets;
}

struct mtr_ext
zsink_meter_ext(struct zsink *z)
{
    return (struct mtr_ext){
        .ctx = z,
        .ext_size = sizeof(struct zs_state),
        .on_init = ext_init,
        .on_update = ext_update,
    };
}

void
zsink_bind(struct zsink *z, const struct flow_layout *L, size_t ext_off,
           const struct nid_map *ids)
{
    z->layout = *L;
    z->ext_off = ext_off;
    z->ids = ids;
    /* Catalogue rows with an ntop id that this run has (V4/V6 are chosen per flow). */
    z->groups = fld_groups(L) | FLD_G_NTOP | FLD_G_V4 | FLD_G_V6;
    z->n_rows = 0;
    for (size_t i = 0; i < FLD_COUNT; i++)
        if (fld_defs[i].ntop_id != 0 && fld_enabled((enum fld_id)i, z->groups))
            z->rows[z->n_rows++] = (uint16_t)i;
}

void
zsink_flow(struct zsink *z, const struct flow *f)
{
    const struct zs_state *st = (const struct zs_state *)(const void *)(f->ext + z->ext_off);

    pthread_mutex_lock(&z->lock);
    put_flow(z, f, st, false);
    pthread_mutex_unlock(&z->lock);
    /* Offline nothing else runs the timers: every few flows, here. */
    if (z->cfg.offline && ++z->since_tick >= 64) {
        z->since_tick = 0;
        zsink_tick(z, clk_mono_ms(), NULL);
    }
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
    pthread_mutex_lock(&z->lock);
    for (size_t i = 0; i < z->n_ep; i++)
        drain_subs(&z->ep[i]);
    if (z->n_flows > 0 && now - z->pending_since >= z->cfg.flush_ms)
        flush_flows(z);
    if (now >= z->next_event) {
        send_event(z, ps);
        z->next_event = now + (uint64_t)z->cfg.event_s * 1000;
    }
    pthread_mutex_unlock(&z->lock);
}

uint32_t
zsink_tick_ms(const struct zsink *z)
{
    return z->cfg.flush_ms < 100 ? z->cfg.flush_ms : 100;
}

static int
open_ep(struct zsink *z, const char *url, bool bind, char *err, size_t errlen)
{
    struct zs_ep *e = &z->ep[z->n_ep];
    int one = 1, hwm = (int)z->cfg.hwm, linger = 0;
    const char *flag = bind ? "--zmq-bind" : "-c zmq+";

    if (z->n_ep >= ZSINK_MAX_ENDPOINTS) {
        snprintf(err, errlen, "%s%s: at most %d ZMQ endpoints", flag, url, ZSINK_MAX_ENDPOINTS);
        return -EINVAL;
    }
    snprintf(e->url, sizeof(e->url), "%s", url);
    e->bound = bind;
    e->sock = zmq_socket(z->ctx, ZMQ_XPUB);
    if (e->sock == NULL) {
        snprintf(err, errlen, "%s%s: %s", flag, url, zmq_strerror(zmq_errno()));
        return -EIO;
    }
    z->n_ep++;
    zmq_setsockopt(e->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(e->sock, ZMQ_XPUB_NODROP, &one, sizeof(one));
    zmq_setsockopt(e->sock, ZMQ_LINGER, &linger, sizeof(linger));
    if (z->cfg.server_key != NULL) {
        char pub[41], sec[41];
        if (zmq_curve_keypair(pub, sec) != 0) {
            snprintf(err, errlen, "--zmq-encryption-key: CURVE unavailable: %s",
                     zmq_strerror(zmq_errno()));
            return -ENOTSUP;
        }
        if (zmq_setsockopt(e->sock, ZMQ_CURVE_SERVERKEY, z->cfg.server_key, 40) != 0 ||
            zmq_setsockopt(e->sock, ZMQ_CURVE_PUBLICKEY, pub, 40) != 0 ||
            zmq_setsockopt(e->sock, ZMQ_CURVE_SECRETKEY, sec, 40) != 0) {
            snprintf(err, errlen, "--zmq-encryption-key: %s", zmq_strerror(zmq_errno()));
            return -EINVAL;
        }
    }
    if ((bind ? zmq_bind(e->sock, url) : zmq_connect(e->sock, url)) != 0) {
        snprintf(err, errlen, "%s%s: %s", flag, url, zmq_strerror(zmq_errno()));
        return -EINVAL;
    }
    return 0;
}

struct zsink *
zsink_open(const struct zsink_config *c, char *err, size_t errlen)
{
    struct zsink *z = calloc(1, sizeof(*z));

    if (z == NULL) {
        snprintf(err, errlen, "zmq: %s", strerror(ENOMEM));
        return NULL;
    }
    z->cfg = *c;
    if (z->cfg.update_s == 0)
        z->cfg.update_s = 30;
    if (z->cfg.event_s == 0)
        z->cfg.event_s = 10;
    if (z->cfg.flush_ms == 0)
        z->cfg.flush_ms = 1000;
    if (z->cfg.hwm == 0)
        z->cfg.hwm = 1000;
    z->update_ms = (uint64_t)z->cfg.update_s * 1000;
    pthread_mutex_init(&z->lock, NULL);
    z->start_wall_ms = clk_wall_ms();
    z->start_mono_ms = clk_mono_ms();
    if (gethostname(z->hostname, sizeof(z->hostname)) != 0)
        z->hostname[0] = '\0';
    z->hostname[sizeof(z->hostname) - 1] = '\0';
    if (c->server_key != NULL && zsink_check_key(c->server_key) != 0) {
        snprintf(err, errlen, "--zmq-encryption-key: not a CURVE public key (40 Z85 characters, "
                              "as ntopng prints it)");
        goto fail;
    }
    snprintf(z->iface, sizeof(z->iface), "%s", c->iface != NULL ? c->iface : "");
    z->cfg.iface = z->iface;
    if (ndpi_init_serializer_ll(&z->ser, ndpi_serialization_format_tlv, ZS_SER_SIZE) != 0) {
        snprintf(err, errlen, "zmq: %s", strerror(ENOMEM));
        goto fail;
    }
    z->ser_ok = true;
    if ((z->ctx = zmq_ctx_new()) == NULL) {
        snprintf(err, errlen, "zmq: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    for (size_t i = 0; i < c->n_connect; i++)
        if (open_ep(z, c->connect[i], false, err, errlen) != 0)
            goto fail;
    for (size_t i = 0; i < c->n_bind; i++)
        if (open_ep(z, c->bind[i], true, err, errlen) != 0)
            goto fail;
    if (c->offline) {
        /* PUB drops what it sends before a subscription arrives (the slow joiner). */
        uint64_t deadline = clk_mono_ms() + 3000;
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
    return z;
fail:
    zsink_free(z);
    return NULL;
}

void
zsink_close(struct zsink *z, const struct zsink_probe_stats *ps, unsigned linger_ms)
{
    if (z == NULL)
        return;
    pthread_mutex_lock(&z->lock);
    flush_flows(z);
    send_event(z, ps);
    pthread_mutex_unlock(&z->lock);
    /* Wait (bounded) for the queued messages to leave: the linger of each socket. */
    int linger = (int)linger_ms;
    for (size_t i = 0; i < z->n_ep; i++) {
        zmq_setsockopt(z->ep[i].sock, ZMQ_LINGER, &linger, sizeof(linger));
        drain_subs(&z->ep[i]);
        zmq_close(z->ep[i].sock);
        z->ep[i].subs = 0;
        z->ep[i].sock = NULL;
    }
}

void
zsink_free(struct zsink *z)
{
    if (z == NULL)
        return;
    for (size_t i = 0; i < z->n_ep; i++)
        if (z->ep[i].sock != NULL)
            zmq_close(z->ep[i].sock);
    if (z->ctx != NULL)
        zmq_ctx_term(z->ctx);
    if (z->ser_ok)
        ndpi_term_serializer(&z->ser);
    pthread_mutex_destroy(&z->lock);
    free(z);
}

size_t
zsink_n_endpoints(const struct zsink *z)
{
    return z->n_ep;
}

const char *
zsink_endpoint(const struct zsink *z, size_t i)
{
    return z->ep[i].url;
}

void
zsink_stats(struct zsink *z, size_t i, struct zsink_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&z->lock);
    for (size_t k = 0; k < z->n_ep; k++) {
        const struct zsink_stats *s = &z->ep[k].st;
        if (i != SIZE_MAX && i != k)
            continue;
        out->messages += s->messages;
        out->dropped += s->dropped;
        out->no_subscriber += s->no_subscriber;
        out->flows += s->flows;
        out->updates += s->updates;
        out->events += s->events;
        out->subscribers += z->ep[k].subs > 0 ? (uint64_t)z->ep[k].subs : 0;
    }
    out->l7_untranslated = z->l7_untranslated;
    pthread_mutex_unlock(&z->lock);
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
                z->ep[i].bound ? "bind" : "connect", z->ep[i].url, s.messages, s.flows, s.updates,
                s.events, s.dropped, s.no_subscriber, s.l7_untranslated);
    }
}
