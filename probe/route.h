/*
 * route.h - next hop, egress interface and matched prefix length of a destination from the
 * kernel's FIB (rtnetlink), for `--route-lookup` when nfprobe runs on the router itself
 * (ipNextHopIPv4Address/ipNextHopIPv6Address 15/62, egressInterface 14, destination prefix
 * length 13/30).
 *
 * Per destination, a miss costs two RTM_GETROUTE round trips to the kernel (about 10-30 us):
 * one as the kernel would forward a packet to it (the next hop and interface actually chosen,
 * multipath resolved), one with RTM_F_FIB_MATCH (the FIB entry that matched: its prefix
 * length; Linux >= 4.13, else plen 0). Results, "no route" included, are kept in a bounded
 * direct-mapped cache. A second netlink socket subscribed to RTNLGRP_IPV4_ROUTE and
 * RTNLGRP_IPV6_ROUTE reports every route added, changed or removed; rt_process_events()
 * drops the cached destinations inside that route's prefix (all of them if notifications were
 * lost: ENOBUFS). So lookups follow the FIB without polling it.
 *
 * Not for the packet path (a miss blocks on the kernel): one struct rt_cache belongs to one
 * thread, e.g. the exporter, which looks up finished flows and polls rt_fd() in its loop.
 */
#ifndef NFPROBE_ROUTE_H
#define NFPROBE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

struct rt_result {
    uint8_t family;   /* 4 or 6 */
    uint8_t plen;     /* prefix length of the FIB entry; 0 also when unknown */
    uint8_t has_gw;   /* 0: directly connected (next hop = the destination itself) */
    uint8_t gw[16];   /* next hop, network byte order (4 bytes for IPv4) */
    uint32_t oif;     /* egress ifIndex */
    uint32_t table;   /* routing table of the match */
};

struct rt_stats {
    uint64_t lookups, hits, misses;
    uint64_t no_route;      /* lookups answered "unreachable" */
    uint64_t notifications; /* route changes seen */
    uint64_t invalidated;   /* cache entries dropped by them */
    uint64_t resyncs;       /* whole cache dropped: notifications lost (ENOBUFS) */
    uint64_t errors;        /* netlink failures */
};

struct rt_cache;

/* Opens the query and notification sockets in the caller's network namespace; cache of
 * `entries` destinations (rounded up to a power of two, at least 64). NULL with err set. */
struct rt_cache *rt_new(size_t entries, char *err, size_t errlen);
void rt_free(struct rt_cache *c);

/* The route to dst (family 4: 4 bytes, 6: 16 bytes, network byte order). 0 and *out filled;
 * -ENETUNREACH (no route, blackhole, unreachable, prohibit; cached too), or another negative
 * errno on a netlink failure (not cached). Call rt_process_events() first when rt_fd() is
 * readable, so that no stale entry answers. */
int rt_lookup(struct rt_cache *c, int family, const uint8_t *dst, struct rt_result *out);

/* The notification socket, non-blocking, for poll/epoll. */
int rt_fd(const struct rt_cache *c);

/* Reads every pending route notification and invalidates what they cover. Returns the
 * number of notifications, or a negative errno. Never blocks. */
int rt_process_events(struct rt_cache *c);

const struct rt_stats *rt_stats(const struct rt_cache *c);

#endif
