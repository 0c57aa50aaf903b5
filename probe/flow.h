/*
 * flow.h - the flow key and the flow record every module shares.
 *
 * A flow lives in a fixed-size slot of the flow table's pool. The slot is a struct flow followed
 * by optional extensions whose offsets the meter computes once at start (statistics, SPLT
 * arrays, L7 state, plugin state): no per-flow allocation, and a flow can be copied as one block of
 * ft_flow_size() bytes (what the exporter's rings carry).
 */
#ifndef NFPROBE_FLOW_H
#define NFPROBE_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Canonical, memcmp-able key: the lower (address, port) endpoint first. Addresses are 16 bytes,
 * IPv4 in the first 4. Zero-padded, so a key can be hashed and compared as raw bytes.
 */
struct flow_key {
    uint8_t lo_ip[16];
    uint8_t hi_ip[16];
    uint16_t lo_port;
    uint16_t hi_port;
    uint16_t vlan_id;
    uint8_t protocol;
    uint8_t ip_version;
    uint8_t tunnel_id;
    uint8_t pad[3];
};
_Static_assert(sizeof(struct flow_key) == 44, "flow_key must stay packed and memcmp-able");

/* NFStream's expiration_id values. */
enum flow_expiration {
    FLOW_EXPIRY_IDLE = 0,    /* idle timeout, or end of input (NFStream cannot tell them apart) */
    FLOW_EXPIRY_ACTIVE = 1,  /* active timeout */
    FLOW_EXPIRY_CUSTOM = -1, /* a plugin ended the flow */
};

/* Why a flow ended, IPFIX flowEndReason (IE 136) values. */
enum flow_end_reason {
    FLOW_END_IDLE = 1,
    FLOW_END_ACTIVE = 2,
    FLOW_END_EOF = 3,       /* end of flow detected (used for end of input) */
    FLOW_END_FORCED = 4,    /* forced end: plugin, shutdown */
    FLOW_END_RESOURCES = 5, /* lack of resources: evicted from a full table */
};

/* Counters of one direction (bidirectional, src2dst, dst2src). */
struct flow_dir {
    uint64_t first_seen_ms;
    uint64_t last_seen_ms;
    uint64_t packets;
    uint64_t bytes;
};

/* NFStream's per-direction statistics (--statistical-analysis), Welford running state. */
struct flow_stats {
    double mean_ps;
    double m2_ps;
    double mean_piat;
    double m2_piat;
    uint64_t min_piat;
    uint64_t max_piat;
    uint16_t min_ps;
    uint16_t max_ps;
    /* packets with syn, cwr, ece, urg, ack, psh, rst, fin set (NFStream's column order) */
    uint32_t flag_count[8];
};

enum { FLOW_BIDI = 0, FLOW_S2D = 1, FLOW_D2S = 2 };

/*
 * Layer-7 labels of a flow (nDPI), NFStream's columns. Lives in the flow's ext[] when DPI is on;
 * strings are NUL-terminated and truncated to fit, sizes as NFStream's.
 */
struct flow_l7 {
    uint16_t master_id;   /* nDPI master protocol id */
    uint16_t app_id;      /* nDPI app protocol id */
    uint16_t category_id; /* nDPI category id */
    uint8_t guessed;      /* application_is_guessed */
    uint8_t confidence;   /* application_confidence (nDPI enum) */
    char application_name[40];
    char category_name[40];
    char requested_server_name[80];
    char client_fingerprint[48];
    char server_fingerprint[48];
    char user_agent[256];
    char content_type[64];
};

/*
 * What the output thread adds to a finished flow from tables and the kernel (probe/enrich.c:
 * --networks-file / --asn-database, --route-lookup, --local-networks), just before the sinks
 * see it. An extension of the flow slot, present only when one of those is configured (so a
 * run without them pays no memory for it), read through flow_enrich(); a member is valid only
 * when its FLD_G_* group is on in flow_layout.enrich. Addresses in network byte order, IPv4 in
 * the first 4 octets.
 */
struct flow_enrich {
    uint32_t src_as;        /* bgpSourceAsNumber (16): the source's origin AS, 0 = unknown */
    uint32_t dst_as;        /* bgpDestinationAsNumber (17) */
    uint8_t src_plen;       /* source/destination prefix length (9/13, 29/30) */
    uint8_t dst_plen;
    uint8_t direction;      /* flowDirection (61): 0 ingress, 1 egress (--local-networks) */
    uint8_t pad;
    /* --route-lookup only: without it the extension ends here (FLOW_ENRICH_BASE_SIZE) */
    uint32_t egress_if;     /* egressInterface (14): the route to the destination */
    uint32_t rev_egress_if; /* reverseEgressInterface: the route back to the source */
    uint8_t next_hop[16];     /* ipNextHopIPv4/IPv6Address (15/62) towards the destination */
    uint8_t rev_next_hop[16]; /* reverseIpNextHop...: towards the source */
};
#define FLOW_ENRICH_BASE_SIZE offsetof(struct flow_enrich, egress_if)
/* MPLS label stack entries a flow keeps (pkt.h's PKT_MPLS_MAX). */
#define FLOW_MPLS_MAX 3

/*
 * What a router exports (issue 13); [0] src2dst, [1] dst2src. Export-only: the CSV/JSON
 * (NFStream's columns) never read them, so the slot has them (an extension, flow_router()) only
 * when the run exports (mtr_config.router): a CSV run's flows are 64 bytes smaller and its
 * packets skip their upkeep.
 */
struct flow_router {
    uint64_t ip_octets[2];   /* IP header + payload (RFC 7012 octetDeltaCount), any mode */
    uint64_t l2_octets[2];   /* link-layer octets (layer2OctetDeltaCount) */
    uint32_t in_ifindex;     /* ingressInterface: the input's ifIndex, 0 = unknown */
    uint16_t vlan_outer;     /* dot1qVlanId: the first packet's first 802.1Q tag */
    uint16_t vlan_inner;     /* dot1qCustomerVlanId: its second (QinQ) tag */
    uint8_t mpls[FLOW_MPLS_MAX][3]; /* the first packet's label stack top: label<<4|exp<<1|bos */
    uint8_t tos[2];          /* ToS / traffic class of the direction's first packet */
    uint8_t ttl_min[2];      /* TTL / hop limit range of the direction's packets */
    uint8_t ttl_max[2];
    uint8_t frag_flags[2];   /* union of fragmentFlags (DF 0x40, MF 0x20) */
    uint16_t icmp_type_code[2]; /* ICMP type << 8 | code of the direction's first packet */
};

struct flow {
    struct flow_key key;
    uint32_t hash;
    uint32_t order_prev; /* creation-order list links (pool indices), owned by the table */
    uint32_t order_next;
    uint32_t lru_prev;   /* the meter's recency list (timely expiry): older, newer flow */
    uint32_t lru_next;
    struct flow_dir dir[3];
    uint16_t splt_len;   /* SPLT entries recorded so far (<= configured N) */
    uint8_t src_is_hi;   /* the first packet's source is key.hi_* */
    int8_t expiration_id;
    uint8_t end_reason;  /* enum flow_end_reason, set when the flow leaves the table */
    uint8_t tcp_flags_or[3]; /* cumulative TCP flags: bidirectional, src2dst, dst2src */
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    uint64_t id;         /* emission id, assigned when the flow leaves the meter */
    unsigned char ext[]; /* optional extensions, see mtr_layout */
};

/*
 * The statistics (--statistical-analysis) are the first extension of a flow slot: one
 * struct flow_stats per direction (FLOW_BIDI, FLOW_S2D, FLOW_D2S) at ext[0]. A table without
 * statistics has no room for them, so its flows are 192 bytes instead of 456 (less memory,
 * fewer cache lines and page faults per flow). Valid only when statistics are on.
 */
#define FLOW_STATS_SIZE (3 * sizeof(struct flow_stats))
#define flow_stats(f)                                                                       \
    _Generic((f), const struct flow *: (const struct flow_stats *)(const void *)(f)->ext, \
             struct flow *: (struct flow_stats *)(void *)(f)->ext)

/* The first packet's source and destination, as NFStream reports them. */
static inline const uint8_t *
flow_src_ip(const struct flow *f)
{
    return f->src_is_hi ? f->key.hi_ip : f->key.lo_ip;
}

static inline const uint8_t *
flow_dst_ip(const struct flow *f)
{
    return f->src_is_hi ? f->key.lo_ip : f->key.hi_ip;
}

static inline uint16_t
flow_src_port(const struct flow *f)
{
    return f->src_is_hi ? f->key.hi_port : f->key.lo_port;
}

static inline uint16_t
flow_dst_port(const struct flow *f)
{
    return f->src_is_hi ? f->key.lo_port : f->key.hi_port;
}

/* Label stack entry i (0 = top) of the first packet, label<<4|exp<<1|bos; 0 if none. */
static inline uint32_t
flow_mpls(const struct flow_router *r, unsigned i)
{
    return (uint32_t)r->mpls[i][0] << 16 | (uint32_t)r->mpls[i][1] << 8 | r->mpls[i][2];
}

static inline uint64_t
flow_duration(const struct flow_dir *d)
{
    return d->last_seen_ms - d->first_seen_ms;
}

/*
 * Where the optional extensions sit in a flow slot, computed once from the configuration (by
 * the meter, mtr_layout()) and read by every module through the accessors below: no module
 * computes an offset into ext[] itself. A field is valid only when its switch is on.
 */
struct flow_layout {
    bool tunnel_id;    /* decode_tunnels: tunnel_id is reported */
    bool statistics;   /* struct flow_stats[3] at ext[0] (flow_stats()) */
    uint16_t splt_n;   /* SPLT arrays of splt_n entries at splt_off, when > 0 */
    bool l7;           /* struct flow_l7 at l7_off (DPI on) */
    bool plugins;      /* the plugins' block at plugin_off */
    uint32_t enrich;   /* FLD_G_AS/PREFIX/ROUTE/DIRECTION: what enrich.c fills; when not 0,
                        * struct flow_enrich at enrich_off (flow_enrich()) */
    bool router;       /* struct flow_router at router_off (flow_router()): the run exports */
    size_t router_off;
    size_t enrich_off;
    size_t splt_off;
    size_t l7_off;
    size_t plugin_off;
};

/* The L7 labels of f; valid only when L->l7. */
static inline const struct flow_l7 *
flow_l7(const struct flow_layout *L, const struct flow *f)
{
    return (const struct flow_l7 *)(const void *)(f->ext + L->l7_off);
}

/* The output thread's additions to f; valid only when L->enrich != 0. */
#define flow_enrich(L, f)                                                                   \
    _Generic((f), const struct flow *: (const struct flow_enrich *)(const void *)((f)->ext + \
                                                                       (L)->enrich_off),     \
             struct flow *: (struct flow_enrich *)(void *)((f)->ext + (L)->enrich_off))

/* The router fields of f; valid only when L->router. */
#define flow_router(L, f)                                                                   \
    _Generic((f), const struct flow *: (const struct flow_router *)(const void *)((f)->ext + \
                                                                       (L)->router_off),     \
             struct flow *: (struct flow_router *)(void *)((f)->ext + (L)->router_off))

/* The plugins' per-flow block of f (plugin.c lays it out); valid only when L->plugins. */
static inline unsigned char *
flow_plugin_block(const struct flow_layout *L, struct flow *f)
{
    return f->ext + L->plugin_off;
}

/* The SPLT arrays of f (L->splt_n entries each, f->splt_len of them recorded). */
static inline const uint32_t *
flow_splt_piat(const struct flow_layout *L, const struct flow *f)
{
    return (const uint32_t *)(const void *)(f->ext + L->splt_off);
}

static inline const uint16_t *
flow_splt_ps(const struct flow_layout *L, const struct flow *f)
{
    return (const uint16_t *)(const void *)(f->ext + L->splt_off +
                                            (size_t)L->splt_n * sizeof(uint32_t));
}

static inline const uint8_t *
flow_splt_dir(const struct flow_layout *L, const struct flow *f)
{
    return f->ext + L->splt_off + (size_t)L->splt_n * (sizeof(uint32_t) + sizeof(uint16_t));
}

#endif
