/*
 * nfprobe/plugin.h - the plugin ABI of nfprobe: new per-flow fields (NFStream's udps) in C.
 *
 * A plugin is a shared object exporting one descriptor, `nfprobe_plugin` (NFP_PLUGIN below),
 * loaded with `nfprobe --plugin PATH[:KEY=VALUE,...]`. It declares the fields it adds to every
 * flow (CSV/JSON columns "udps.<name>" after content_type, IPFIX enterprise elements), the
 * per-flow memory it needs, and NFStream's NFPlugin callbacks: on_init(flow, packet) at a
 * flow's first packet, on_update(flow, packet) for every later one, on_expire(flow) when the
 * flow leaves. Like NFStream, a plugin may end a flow early (nfp_flow_end(): expiration_id -1).
 *
 * The smallest plugin (NFStream's README example):
 *
 *     #include <nfprobe/plugin.h>
 *     struct udps { uint64_t packet_with_666_size; };
 *     static const struct nfp_field fields[] = {
 *         NFP_FIELD(struct udps, packet_with_666_size, NFP_U64, 0),
 *     };
 *     static void
 *     count(void *ctx, struct nfp_flow *flow, const struct nfp_packet *pkt)
 *     {
 *         struct udps *u = flow->udps;
 *         (void)ctx;
 *         u->packet_with_666_size += pkt->raw_size == 666;
 *     }
 *     NFP_PLUGIN("packet_with_666_size", struct udps, 0, fields, NULL, NULL, count, count, NULL);
 *
 *     cc -shared -fPIC -o p666.so p666.c && nfprobe -r x.pcap --plugin ./p666.so
 *
 * Memory: a flow's fields (the plugin's `udps` struct) and its private state (state_size bytes)
 * are carved from the flow's slot when the probe starts, zeroed when the flow starts, and copied
 * with the flow to the output: no allocation per flow or per packet. Both are 8-byte aligned.
 *
 * Threads: with several capture workers the callbacks run concurrently in each worker thread,
 * with the same ctx (what load() returned). A flow is only ever seen by one thread, so per-flow
 * memory needs no locking; ctx should be read-only after load(). Callbacks must not block, and
 * should not allocate or log per packet: they run in the packet path.
 *
 * ABI: NFP_ABI_VERSION changes whenever a struct here changes incompatibly; nfprobe refuses a
 * plugin built for another version with a one-line message. Structs carry their size so that
 * fields can be appended within a version. Plugins never see nfprobe's internal structs.
 */
#ifndef NFPROBE_PLUGIN_ABI_H
#define NFPROBE_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NFP_ABI_VERSION 1

/* The descriptor's symbol name: a `const struct nfp_plugin` the loader looks up. */
#define NFP_SYMBOL "nfprobe_plugin"

/* ------------------------------------------------------------------ fields a plugin adds */

/* Types of exported fields (and of values returned by the flow accessors). */
enum nfp_type {
    NFP_U8 = 1,
    NFP_U16 = 2,
    NFP_U32 = 3,
    NFP_U64 = 4,
    NFP_I8 = 5,
    NFP_I16 = 6,
    NFP_I32 = 7,
    NFP_I64 = 8,
    NFP_F64 = 9,
    NFP_STRING = 10, /* char member[count]: NUL-terminated, at most count - 1 characters */
    NFP_BYTES = 11,  /* NFP_BYTES_T(count) member: a length and up to count octets */
};

/* An NFP_BYTES member: declare it as `NFP_BYTES_T(32) digest;`. */
#define NFP_BYTES_T(n)                                                                             \
    struct {                                                                                       \
        uint16_t len;                                                                              \
        uint8_t data[n];                                                                           \
    }

/*
 * One exported field, a member of the plugin's udps struct. Exported as column "udps.<name>".
 * count: numbers: 0 = a scalar, N >= 1 = a fixed array of N (printed as a Python list,
 * "[1, 2]"); NFP_STRING and NFP_BYTES: their capacity in octets.
 * ipfix_id: the IPFIX element id under nfprobe's enterprise number, 1024..8191; 0 = derived from
 * the name (stable across runs and plugins' versions, in 8192..16383).
 */
struct nfp_field {
    const char *name; /* [A-Za-z_][A-Za-z0-9_]*, at most 48 characters, unique in the run */
    uint32_t type;    /* enum nfp_type */
    uint32_t count;
    uint32_t offset;  /* offsetof(udps struct, member) */
    uint16_t ipfix_id;
    uint16_t reserved; /* 0 */
};

/* A field that is member `m` of struct type `st`. */
#define NFP_FIELD(st, m, type, count) {#m, (type), (count), (uint32_t)offsetof(st, m), 0, 0}
/* The same with an explicit IPFIX element id. */
#define NFP_FIELD_ID(st, m, type, count, id)                                                       \
    {#m, (type), (count), (uint32_t)offsetof(st, m), (id), 0}

/* ------------------------------------------------------------------ the packet (NFPacket) */

/* TCP flag bits of nfp_packet.tcp_flags. */
enum {
    NFP_TCP_FIN = 0x01,
    NFP_TCP_SYN = 0x02,
    NFP_TCP_RST = 0x04,
    NFP_TCP_PSH = 0x08,
    NFP_TCP_ACK = 0x10,
    NFP_TCP_URG = 0x20,
    NFP_TCP_ECE = 0x40,
    NFP_TCP_CWR = 0x80,
};

/*
 * NFStream's NFPacket: valid during the callback only (copy what you keep). Addresses and MACs
 * are the flow's, swapped when direction == 1, as NFStream reports them.
 */
struct nfp_packet {
    uint32_t size;            /* sizeof(struct nfp_packet) as nfprobe built it */
    uint32_t ip_caplen;       /* captured bytes at ip_packet (caplen - ip offset) */
    uint64_t time;            /* ms since the epoch, made monotonic by the meter (NFStream) */
    uint64_t delta_time;      /* ms since the flow's previous packet, 0 for the first */
    const uint8_t *ip_packet; /* from the (inner) IP header; NULL unless NFP_WANT_PACKET */
    const uint8_t *src_ip;    /* 16 octets; IPv4 in the first 4, the rest 0 */
    const uint8_t *dst_ip;
    const uint8_t *src_mac;   /* 6 octets */
    const uint8_t *dst_mac;
    uint16_t raw_size;        /* NFStream's four sizes (uint16, as NFStream's) */
    uint16_t ip_size;
    uint16_t transport_size;
    uint16_t payload_size;
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t vlan_id;
    uint8_t protocol;
    uint8_t ip_version;       /* 4 or 6 */
    uint8_t tunnel_id;        /* 0 none, 1 GTP, 2 CAPWAP, 3 TZSP */
    uint8_t tcp_flags;        /* NFP_TCP_* bits; 0 for non-TCP */
    uint8_t direction;        /* 0 src->dst, 1 dst->src */
    uint8_t reserved;
};

/* ------------------------------------------------------------------ the flow (NFlow) */

/*
 * Flow fields readable through nfp_flow_get() (NFStream's NFlow attribute names). Values are
 * those after the current packet was counted. Statistics need --statistical-analysis, L7
 * fields --n-dissections > 0: without them nfp_flow_get() returns -1. L7 strings are collected
 * when detection ends (or at expiry); the three nDPI ids are current after every packet.
 */
enum nfp_flow_field {
    NFP_EXPIRATION_ID = 1, /* i64: 0, or -1 once a plugin ended the flow */
    NFP_SRC_IP = 2,        /* bytes: 4 (IPv4) or 16 octets */
    NFP_SRC_MAC = 3,       /* bytes: 6 */
    NFP_SRC_PORT = 4,
    NFP_DST_IP = 5,
    NFP_DST_MAC = 6,
    NFP_DST_PORT = 7,
    NFP_PROTOCOL = 8,
    NFP_IP_VERSION = 9,
    NFP_VLAN_ID = 10,
    NFP_TUNNEL_ID = 11,
    /* u64 counters; the three directions are 5 apart */
    NFP_BIDIRECTIONAL_FIRST_SEEN_MS = 16,
    NFP_BIDIRECTIONAL_LAST_SEEN_MS = 17,
    NFP_BIDIRECTIONAL_DURATION_MS = 18,
    NFP_BIDIRECTIONAL_PACKETS = 19,
    NFP_BIDIRECTIONAL_BYTES = 20,
    NFP_SRC2DST_FIRST_SEEN_MS = 21,
    NFP_SRC2DST_LAST_SEEN_MS = 22,
    NFP_SRC2DST_DURATION_MS = 23,
    NFP_SRC2DST_PACKETS = 24,
    NFP_SRC2DST_BYTES = 25,
    NFP_DST2SRC_FIRST_SEEN_MS = 26,
    NFP_DST2SRC_LAST_SEEN_MS = 27,
    NFP_DST2SRC_DURATION_MS = 28,
    NFP_DST2SRC_PACKETS = 29,
    NFP_DST2SRC_BYTES = 30,
    /* statistics: min/max u64, mean/stddev f64; directions 4 apart */
    NFP_BIDIRECTIONAL_MIN_PS = 32,
    NFP_BIDIRECTIONAL_MEAN_PS = 33,
    NFP_BIDIRECTIONAL_STDDEV_PS = 34,
    NFP_BIDIRECTIONAL_MAX_PS = 35,
    NFP_SRC2DST_MIN_PS = 36,
    NFP_SRC2DST_MEAN_PS = 37,
    NFP_SRC2DST_STDDEV_PS = 38,
    NFP_SRC2DST_MAX_PS = 39,
    NFP_DST2SRC_MIN_PS = 40,
    NFP_DST2SRC_MEAN_PS = 41,
    NFP_DST2SRC_STDDEV_PS = 42,
    NFP_DST2SRC_MAX_PS = 43,
    NFP_BIDIRECTIONAL_MIN_PIAT_MS = 48,
    NFP_BIDIRECTIONAL_MEAN_PIAT_MS = 49,
    NFP_BIDIRECTIONAL_STDDEV_PIAT_MS = 50,
    NFP_BIDIRECTIONAL_MAX_PIAT_MS = 51,
    NFP_SRC2DST_MIN_PIAT_MS = 52,
    NFP_SRC2DST_MEAN_PIAT_MS = 53,
    NFP_SRC2DST_STDDEV_PIAT_MS = 54,
    NFP_SRC2DST_MAX_PIAT_MS = 55,
    NFP_DST2SRC_MIN_PIAT_MS = 56,
    NFP_DST2SRC_MEAN_PIAT_MS = 57,
    NFP_DST2SRC_STDDEV_PIAT_MS = 58,
    NFP_DST2SRC_MAX_PIAT_MS = 59,
    /* packets with a TCP flag (u64); directions 8 apart */
    NFP_BIDIRECTIONAL_SYN_PACKETS = 64,
    NFP_BIDIRECTIONAL_CWR_PACKETS = 65,
    NFP_BIDIRECTIONAL_ECE_PACKETS = 66,
    NFP_BIDIRECTIONAL_URG_PACKETS = 67,
    NFP_BIDIRECTIONAL_ACK_PACKETS = 68,
    NFP_BIDIRECTIONAL_PSH_PACKETS = 69,
    NFP_BIDIRECTIONAL_RST_PACKETS = 70,
    NFP_BIDIRECTIONAL_FIN_PACKETS = 71,
    NFP_SRC2DST_SYN_PACKETS = 72,
    NFP_SRC2DST_CWR_PACKETS = 73,
    NFP_SRC2DST_ECE_PACKETS = 74,
    NFP_SRC2DST_URG_PACKETS = 75,
    NFP_SRC2DST_ACK_PACKETS = 76,
    NFP_SRC2DST_PSH_PACKETS = 77,
    NFP_SRC2DST_RST_PACKETS = 78,
    NFP_SRC2DST_FIN_PACKETS = 79,
    NFP_DST2SRC_SYN_PACKETS = 80,
    NFP_DST2SRC_CWR_PACKETS = 81,
    NFP_DST2SRC_ECE_PACKETS = 82,
    NFP_DST2SRC_URG_PACKETS = 83,
    NFP_DST2SRC_ACK_PACKETS = 84,
    NFP_DST2SRC_PSH_PACKETS = 85,
    NFP_DST2SRC_RST_PACKETS = 86,
    NFP_DST2SRC_FIN_PACKETS = 87,
    /* layer 7 (nDPI) */
    NFP_APPLICATION_NAME = 96,          /* string */
    NFP_APPLICATION_CATEGORY_NAME = 97, /* string */
    NFP_APPLICATION_IS_GUESSED = 98,    /* u64 */
    NFP_APPLICATION_CONFIDENCE = 99,    /* u64 */
    NFP_REQUESTED_SERVER_NAME = 100,    /* string */
    NFP_CLIENT_FINGERPRINT = 101,       /* string */
    NFP_SERVER_FINGERPRINT = 102,       /* string */
    NFP_USER_AGENT = 103,               /* string */
    NFP_CONTENT_TYPE = 104,             /* string */
    NFP_APPLICATION_ID = 105,           /* u64: nDPI app protocol id */
    NFP_MASTER_PROTOCOL_ID = 106,       /* u64: nDPI master protocol id */
    NFP_CATEGORY_ID = 107,              /* u64: nDPI category id */
    /* SPLT (--splt-analysis N): entries recorded so far (u64); entries via nfp_flow_splt() */
    NFP_SPLT_LENGTH = 112,
};

/* A value read from a flow. */
struct nfp_value {
    uint32_t type; /* NFP_U64, NFP_I64, NFP_F64, NFP_STRING (NUL-terminated) or NFP_BYTES */
    uint32_t len;  /* NFP_STRING, NFP_BYTES: length in octets */
    union {
        uint64_t u;
        int64_t i;
        double d;
        const void *p; /* valid during the callback only */
    } v;
};

/* One SPLT entry: NFStream's splt_direction, splt_ps, splt_piat_ms at an index. */
struct nfp_splt {
    uint8_t direction;
    uint8_t pad;
    uint16_t ps;
    uint32_t piat_ms;
};

struct nfp_flow;

/* What nfprobe offers a plugin. Every nfp_flow points to it; use the inline helpers below. */
struct nfp_api {
    uint32_t size;        /* sizeof(struct nfp_api) as nfprobe built it */
    uint32_t abi_version; /* NFP_ABI_VERSION */
    /* Reads a flow field (enum nfp_flow_field). 0, or -1 when this run has no such field. */
    int (*get)(const struct nfp_flow *flow, uint32_t field, struct nfp_value *out);
    /* SPLT entry i: 0, or -1 when not recorded (i >= NFP_SPLT_LENGTH or SPLT off). */
    int (*splt)(const struct nfp_flow *flow, uint32_t i, struct nfp_splt *out);
    /* NFStream's custom expiration (expiration_id = -1): the flow ends after this callback,
     * with this packet in it; the next packet starts a new flow. Ignored in on_expire. */
    void (*end)(struct nfp_flow *flow);
};

/*
 * The flow as a plugin sees it during a callback. udps and state are this plugin's memory in
 * this flow; the rest is read through api. Valid during the callback only.
 */
struct nfp_flow {
    uint32_t size;  /* sizeof(struct nfp_flow) as nfprobe built it */
    uint32_t reserved;
    void *udps;     /* the plugin's exported fields (its udps struct), zeroed at flow start */
    void *state;    /* state_size private bytes, zeroed at flow start */
    const struct nfp_api *api;
    void *internal; /* nfprobe's; do not touch */
};

static inline int
nfp_flow_get(const struct nfp_flow *f, uint32_t field, struct nfp_value *out)
{
    return f->api->get(f, field, out);
}

/* A numeric field as u64 (0 when absent). */
static inline uint64_t
nfp_flow_u64(const struct nfp_flow *f, uint32_t field)
{
    struct nfp_value v;
    if (f->api->get(f, field, &v) != 0)
        return 0;
    if (v.type == NFP_F64)
        return v.v.d > 0 ? (uint64_t)v.v.d : 0;
    return v.v.u;
}

/* A numeric field as a double (0.0 when absent). */
static inline double
nfp_flow_f64(const struct nfp_flow *f, uint32_t field)
{
    struct nfp_value v;
    if (f->api->get(f, field, &v) != 0)
        return 0.0;
    if (v.type == NFP_F64)
        return v.v.d;
    if (v.type == NFP_I64)
        return (double)v.v.i;
    return (double)v.v.u;
}

/* A string field ("" when absent). */
static inline const char *
nfp_flow_str(const struct nfp_flow *f, uint32_t field)
{
    struct nfp_value v;
    if (f->api->get(f, field, &v) != 0 || v.type != NFP_STRING)
        return "";
    return (const char *)v.v.p;
}

static inline int
nfp_flow_splt(const struct nfp_flow *f, uint32_t i, struct nfp_splt *out)
{
    return f->api->splt(f, i, out);
}

static inline void
nfp_flow_end(struct nfp_flow *f)
{
    f->api->end(f);
}

/* ------------------------------------------------------------------ load and arguments */

/* --plugin PATH:KEY=VALUE,...: the arguments, valid during load() only (copy what you keep). */
struct nfp_arg {
    const char *key;
    const char *value;
};

struct nfp_args {
    uint32_t n;
    const struct nfp_arg *v;
};

/* The value of argument key, or NULL. */
static inline const char *
nfp_arg(const struct nfp_args *a, const char *key)
{
    for (uint32_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].key, key) == 0)
            return a->v[i].value;
    return NULL;
}

/*
 * Checks that every argument given is one of known (a NULL-terminated list). Returns 0, or -1
 * with "unknown argument 'x' (takes a, b)" in err: load() returns that.
 */
static inline int
nfp_args_only(const struct nfp_args *a, const char *const *known, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < a->n; i++) {
        size_t k = 0;
        while (known[k] != NULL && strcmp(known[k], a->v[i].key) != 0)
            k++;
        if (known[k] != NULL)
            continue;
        size_t o = (size_t)snprintf(err, errlen, "unknown argument '%s' (takes", a->v[i].key);
        for (k = 0; known[k] != NULL && o < errlen; k++)
            o += (size_t)snprintf(err + o, errlen - o, "%s%s", k ? ", " : " ", known[k]);
        if (o < errlen)
            snprintf(err + o, errlen - o, "%s)", k ? "" : " none");
        return -1;
    }
    return 0;
}

/*
 * What load() may change. nfprobe fills it from the descriptor before calling load(); load()
 * may replace fields/n_fields/udps_size/state_size (e.g. an array length taken from an
 * argument; the field array must stay valid until unload()), add flags, and sets ctx, which
 * every callback receives.
 */
struct nfp_setup {
    uint32_t size; /* sizeof(struct nfp_setup) as nfprobe built it */
    uint32_t flags;
    uint32_t udps_size;
    uint32_t state_size;
    uint32_t n_fields;
    uint32_t reserved;
    const struct nfp_field *fields;
    void *ctx;
};

/* Flags. */
enum {
    NFP_WANT_PACKET = 1u << 0, /* nfp_packet.ip_packet is filled (costs a copy per packet) */
};

/* ------------------------------------------------------------------ the descriptor */

typedef int (*nfp_load_fn)(struct nfp_setup *setup, const struct nfp_args *args, char *err,
                           size_t errlen);
typedef void (*nfp_unload_fn)(void *ctx);
typedef void (*nfp_packet_fn)(void *ctx, struct nfp_flow *flow, const struct nfp_packet *pkt);
typedef void (*nfp_expire_fn)(void *ctx, struct nfp_flow *flow);

struct nfp_plugin {
    uint32_t abi_version; /* NFP_ABI_VERSION: checked first, before anything else is read */
    uint32_t size;        /* sizeof(struct nfp_plugin) */
    const char *name;
    uint32_t flags;       /* NFP_WANT_PACKET */
    uint32_t udps_size;   /* sizeof the udps struct the fields live in */
    uint32_t state_size;  /* private bytes per flow */
    uint32_t n_fields;
    const struct nfp_field *fields;
    /*
     * Called once at start, before any packet, with the --plugin arguments. Returns 0, or
     * nonzero with a one-line message in err (unknown or bad argument, unreadable file). NULL:
     * the plugin takes no arguments (any given is an error).
     */
    nfp_load_fn load;
    nfp_unload_fn unload; /* at exit, with load()'s ctx; may be NULL */
    nfp_packet_fn on_init;   /* first packet of a flow; may be NULL */
    nfp_packet_fn on_update; /* every later packet of the flow; may be NULL */
    nfp_expire_fn on_expire; /* the flow leaves (idle, active, custom, end of input) */
};

#if defined(__GNUC__)
#define NFP_EXPORT __attribute__((visibility("default")))
#else
#define NFP_EXPORT
#endif

/*
 * The descriptor's definition, visible from the shared object in C and C++:
 *     NFP_DESCRIPTOR = {.abi_version = NFP_ABI_VERSION, .size = sizeof(struct nfp_plugin), ...};
 */
#ifdef __cplusplus
#define NFP_DESCRIPTOR extern "C" NFP_EXPORT const struct nfp_plugin nfprobe_plugin
#else
#define NFP_DESCRIPTOR NFP_EXPORT const struct nfp_plugin nfprobe_plugin
#endif

/* Defines the descriptor. udps_type is the struct the fields live in. */
#define NFP_PLUGIN(name_, udps_type, state_size_, fields_, load_, unload_, on_init_, on_update_,   \
                   on_expire_)                                                                     \
    NFP_DESCRIPTOR = {                                                                             \
        NFP_ABI_VERSION,                                                                           \
        (uint32_t)sizeof(struct nfp_plugin),                                                       \
        (name_),                                                                                   \
        0,                                                                                         \
        (uint32_t)sizeof(udps_type),                                                               \
        (state_size_),                                                                             \
        (uint32_t)(sizeof(fields_) / sizeof((fields_)[0])),                                        \
        (fields_),                                                                                 \
        (load_),                                                                                   \
        (unload_),                                                                                 \
        (on_init_),                                                                                \
        (on_update_),                                                                              \
        (on_expire_),                                                                              \
    }

#ifdef __cplusplus
}
#endif

#endif
