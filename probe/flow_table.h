/*
 * flow_table.h - fixed-size flow table: open addressing over a preallocated flow pool.
 *
 * Everything is sized once by ft_new(); the packet path never allocates. Lookups are O(1):
 * an 8-byte slot {hash, pool index + 1} per bucket, linear probing, backward-shift deletion
 * (no tombstones). The table also keeps flows in creation order (an intrusive list), which is
 * what NFStream's cache order is and what the end-of-input flush walks.
 * One table per worker thread; no locking.
 */
#ifndef NFPROBE_FLOW_TABLE_H
#define NFPROBE_FLOW_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct ft_table;

/*
 * Creates a table for at most max_flows flows of flow_size bytes each (>= sizeof(struct flow),
 * the extensions included). seed keys the hash. Returns NULL and writes err on failure.
 */
struct ft_table *ft_new(uint32_t max_flows, size_t flow_size, uint64_t seed, char *err,
                        size_t errlen);
void ft_free(struct ft_table *t);

/* Hash of a key under this table's seed. */
uint32_t ft_hash(const struct ft_table *t, const struct flow_key *k);

/* The flow with this key, or NULL. hash must be ft_hash(t, k). */
struct flow *ft_lookup(struct ft_table *t, const struct flow_key *k, uint32_t hash);

/*
 * Inserts a new flow for k (which must not be present) at the end of the creation order and
 * returns it zeroed but for key and hash; NULL if the table is full.
 */
struct flow *ft_insert(struct ft_table *t, const struct flow_key *k, uint32_t hash);

/* Cache hints for a lookup to come: the bucket of hash, then the flow that bucket names. */
void ft_prefetch_bucket(const struct ft_table *t, uint32_t hash);
void ft_prefetch_flow(const struct ft_table *t, uint32_t hash);

/* Removes f from the table; f's memory returns to the pool and must not be used after. */
void ft_remove(struct ft_table *t, struct flow *f);

/* Oldest flow by creation, or NULL when empty; then the next one after f, or NULL. */
struct flow *ft_oldest(const struct ft_table *t);
struct flow *ft_next(const struct ft_table *t, const struct flow *f);

/* Pool index of f (stable while f lives) and the flow at an index. */
uint32_t ft_index(const struct ft_table *t, const struct flow *f);
struct flow *ft_at(const struct ft_table *t, uint32_t idx);

uint32_t ft_count(const struct ft_table *t);
uint32_t ft_max_flows(const struct ft_table *t);
size_t ft_flow_size(const struct ft_table *t);
/* Bytes allocated for the table and its pool. */
size_t ft_memory(const struct ft_table *t);
/*
 * What ft_new(max_flows, flow_size) allocates (slots and pool, as ft_memory() counts them),
 * without allocating: for sizing a table from a memory budget.
 */
uint64_t ft_table_bytes(uint32_t max_flows, size_t flow_size);

#define FT_NONE UINT32_MAX

#endif
