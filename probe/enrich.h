/*
 * enrich.h - what tables and the kernel add to a finished flow, in the output thread, just
 * before the sinks see it (issue 13 items 3 and 4, flowDirection): AS numbers and prefix
 * lengths by longest-prefix match (--networks-file, --asn-database: probe/lpm.h), next hop,
 * egress interface and the FIB's prefix lengths (--route-lookup: probe/route.h), and
 * flowDirection from --local-networks. The packet path pays nothing: workers never see this.
 *
 * Per flow (source and destination as the first packet had them):
 *  - bgpSource/DestinationAsNumber: the origin AS of the longest table prefix holding the
 *    address, 0 when none does;
 *  - source/destination prefix length: that table prefix's length; where the table has no
 *    prefix (or no table is given) and --route-lookup is on, the FIB entry's length; else 0.
 *    The table wins because it is the operator's (BGP) view of the address, which is what AS
 *    accounting groups by; the FIB of a host or an edge router often has only a default route;
 *  - next hop and egressInterface: the route to the destination as the kernel would forward a
 *    packet (0.0.0.0 / :: next hop for a directly connected destination, as routers export);
 *    reverse next hop and reverseEgressInterface: the route back to the source (RFC 5103), so a
 *    uniflow record of the reverse direction carries its own route. No route: all 0;
 *  - flowDirection: 0 (ingress) when the destination is local, 1 (egress) when the source is
 *    local and the destination is not, 0 when neither is (transit traffic is counted as
 *    arriving, as an interface's ingress export does).
 *
 * Reload (SIGHUP): enr_reload() loads the networks file and the mmdb again in a thread of its
 * own; enr_poll(), on the output thread's tick, swaps the finished table in and frees the old
 * one (only the output thread reads it, so no reader can still hold it). A failed load keeps
 * the running table and logs one line. Flows go on being enriched with the old table meanwhile.
 */
#ifndef NFPROBE_ENRICH_H
#define NFPROBE_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flow.h"

struct ev_loop;

struct enr_config {
    const char *networks_file; /* may be NULL */
    const char *asn_database;  /* may be NULL */
    bool route_lookup;
    const char *local_networks; /* "PREFIX[,PREFIX...]" or a file of prefixes; may be NULL */
    size_t route_cache;         /* destinations cached (0: 65536) */
};

struct enr_stats {
    uint64_t flows;          /* flows enriched */
    uint64_t as_lookups;     /* table lookups (two per flow) */
    uint64_t as_found;       /* of which matched a prefix */
    uint64_t route_lookups;  /* FIB lookups (two per flow; most answered by the cache) */
    uint64_t route_missing;  /* of which no route, or a netlink failure */
    uint64_t reloads;        /* tables swapped in by SIGHUP */
    uint64_t reload_failures;
    size_t prefixes4, prefixes6; /* in the running table */
};

struct enricher;

/* The FLD_G_* groups a configuration fills (0: nothing configured, no enricher needed). */
uint32_t enr_groups(const struct enr_config *c);

/*
 * Loads the tables, parses the local networks, opens the route cache (in the caller's network
 * namespace). NULL with one line in err naming the file and line, or the option, on failure.
 * Strings of c must outlive the enricher.
 */
struct enricher *enr_new(const struct enr_config *c, char *err, size_t errlen);

/* Waits for a running reload and frees everything. Takes NULL. */
void enr_free(struct enricher *e);

/* Fills flow_enrich(L, f) (every member, zeros where nothing is known); L is the layout of
 * the meter that made f (L->enrich != 0). Output thread only. */
void enr_flow(struct enricher *e, const struct flow_layout *L, struct flow *f);

/* Watches the route cache's notification socket in l, so route changes are applied as they
 * come (no-op without --route-lookup). 0 or a negative errno. */
int enr_watch(struct enricher *e, struct ev_loop *l);

/* Stops watching (before the loop is freed). */
void enr_unwatch(struct enricher *e, struct ev_loop *l);

/* SIGHUP: starts reloading the networks file and mmdb in a thread. 0; -EBUSY when a reload
 * still runs; -ENOENT with no table configured; another negative errno if no thread starts. */
int enr_reload(struct enricher *e);

/* Output thread, on its tick: swaps in a finished reload (or logs why it failed). Returns
 * true when a table was swapped. */
bool enr_poll(struct enricher *e);

const struct enr_stats *enr_stats(const struct enricher *e);

/* One summary line of the counters ("nfprobe: enrichment: ..."), for SIGUSR1 and the exit. */
void enr_summary(const struct enricher *e, FILE *out);

#endif
