/*
 * lpm.h - longest-prefix match of IPv4 and IPv6 addresses to AS numbers and prefix lengths
 * (bgpSource/DestinationAsNumber 16/17, source/destination prefix length 9/13 and 29/30,
 * bgpNextHop 18/63 when the networks file gives one).
 *
 * Structure: one poptrie (Asai and Ohara, SIGCOMM 2015) per address family: a direct-pointing
 * array on the top LPM_DIRECT4_BITS / LPM_DIRECT6_BITS bits, then nodes of 64 slots (6 key
 * bits each) whose children and leaves are stored contiguously and indexed by popcount of two
 * 64-bit bitmaps; runs of equal leaves are stored once. A BGP-like /24 is found in the direct
 * array plus one node, a /48 in six nodes. The table is built once, from a sorted prefix list
 * (no per-prefix node allocation), and is immutable afterwards: lookups take no lock.
 *
 * Sources, both loaded into a builder (a later definition of the same prefix replaces an
 * earlier one, so a networks file loaded after an mmdb overrides it):
 *  - a networks file in pmacct's networks_file format, one entry per line:
 *        [<next hop>,][[<peer as>_]<origin as>,]<network>[/<mask>]
 *    and, as issue 13 writes it, <peer as>,<origin as>,<network>/<mask>. "!" and "#" start a
 *    comment line; blank lines are skipped; host bits below the mask are cleared (pmacct too).
 *    A bad line is an error naming FILE:LINE.
 *  - a MaxMind DB (.mmdb, e.g. GeoLite2-ASN) with an "autonomous_system_number" per network.
 *    The database's search tree is walked once at load (MMDB_read_node) and converted into the
 *    poptrie, instead of an MMDB_lookup_sockaddr per flow: that lookup is a bit-by-bit walk of
 *    up to 128 dependent reads plus decoding of the data section, about ten times the cost of
 *    a poptrie lookup, and would need a per-flow cache and a second reload path. Converted, the
 *    mmdb costs what a networks file costs, shares its reload, and can be closed after load.
 *    IPv4 comes from the ::/96 subtree of an IPv6 database; its aliases (::ffff:0:0/96,
 *    2002::/16) are skipped.
 *
 * Reload: build a new table while the workers use the old one, lpm_rcu_publish() it, and free
 * the old one once every reader passed a quiescent point (QSBR: no reader-side atomics beyond
 * one store per batch). No flow is lost or delayed by a reload.
 */
#ifndef NFPROBE_LPM_H
#define NFPROBE_LPM_H

#include <stddef.h>
#include <stdint.h>

#define LPM_DIRECT4_BITS 18
#define LPM_DIRECT6_BITS 16

/* What a prefix maps to. plen is the matched prefix's length (the IPFIX mask fields). */
struct lpm_entry {
    uint32_t asn;     /* origin AS, 0 = unknown */
    uint32_t peer_as; /* 0 = not given */
    uint8_t plen;
    uint8_t family;    /* 4 or 6: of the prefix */
    uint8_t nh_family; /* 0 = no next hop given, 4 or 6 */
    uint8_t nexthop[16];
};

struct lpm;
struct lpm_builder;

/* An empty builder, or NULL on out of memory. */
struct lpm_builder *lpm_builder_new(void);

/* Frees a builder not passed to lpm_builder_finish(); takes NULL. */
void lpm_builder_free(struct lpm_builder *b);

/* Adds addr/plen (family 4: 4 bytes, 6: 16 bytes, network byte order) mapping to *e (its plen
 * and family are set from the arguments). Bits below plen are ignored. 0, -EINVAL (bad family
 * or plen), -ENOMEM. */
int lpm_builder_add(struct lpm_builder *b, int family, const uint8_t *addr, unsigned plen,
                    const struct lpm_entry *e);

/* Parses a networks file into the builder. 0, or a negative errno with one line in err naming
 * FILE:LINE and what is wrong. */
int lpm_load_networks(struct lpm_builder *b, const char *path, char *err, size_t errlen);

/* The same over a buffer; name is used in errors (FILE in "FILE:LINE: ..."). Pure: fuzzable. */
int lpm_parse_networks(struct lpm_builder *b, const char *name, const char *buf, size_t len,
                       char *err, size_t errlen);

/* Adds every network of a MaxMind DB with an autonomous_system_number. 0 or a negative errno
 * with one line in err naming the file. */
int lpm_load_mmdb(struct lpm_builder *b, const char *path, char *err, size_t errlen);

/* Builds the lookup table and frees the builder (also on failure). NULL on out of memory,
 * with err set. */
struct lpm *lpm_builder_finish(struct lpm_builder *b, char *err, size_t errlen);

/* Convenience for startup and SIGHUP: the mmdb (may be NULL), then the networks file (may be
 * NULL) into one table. NULL with err set on any error. */
struct lpm *lpm_load(const char *networks_file, const char *mmdb_file, char *err, size_t errlen);

void lpm_free(struct lpm *t);

/* The longest prefix containing addr, or NULL. addr: host byte order (v4), network byte
 * order (v6). The entry lives as long as the table. No allocation, no lock. */
const struct lpm_entry *lpm_lookup4(const struct lpm *t, uint32_t addr);
const struct lpm_entry *lpm_lookup6(const struct lpm *t, const uint8_t addr[16]);

/* Distinct prefixes of a family (4 or 6) and bytes of lookup structure (for logs and bench). */
size_t lpm_count(const struct lpm *t, int family);
size_t lpm_memory(const struct lpm *t);

/*
 * Table replacement without locks (quiescent-state-based reclamation). Each worker is one
 * reader slot. A reader calls lpm_rcu_get() to use the table and lpm_rcu_quiescent() between
 * batches, when it holds no entry pointer; a reader about to block indefinitely calls
 * lpm_rcu_offline() first (lpm_rcu_quiescent() brings it back). The writer (one thread: the
 * one that handles SIGHUP) publishes a new table and calls lpm_rcu_reclaim() on its timer;
 * a table is freed once every online reader passed a quiescent point after it was replaced.
 */
struct lpm_rcu;

/* n_readers slots, initial table (may be NULL; owned from now on). NULL on out of memory. */
struct lpm_rcu *lpm_rcu_new(unsigned n_readers, struct lpm *initial);

/* Frees the current table and every retired one. Call when no reader runs. Takes NULL. */
void lpm_rcu_free(struct lpm_rcu *r);

/* The current table (may be NULL); valid for the reader until its next quiescent point. */
const struct lpm *lpm_rcu_get(const struct lpm_rcu *r);

void lpm_rcu_quiescent(struct lpm_rcu *r, unsigned reader);
void lpm_rcu_offline(struct lpm_rcu *r, unsigned reader);

/* Makes t current (owned from now on) and retires the previous table. 0, or -EBUSY when
 * LPM_RCU_MAX_RETIRED tables still wait for readers (t is not taken: try later). */
#define LPM_RCU_MAX_RETIRED 4
int lpm_rcu_publish(struct lpm_rcu *r, struct lpm *t);

/* Frees the retired tables no reader can still see; returns how many are still waiting. */
unsigned lpm_rcu_reclaim(struct lpm_rcu *r);

#endif
