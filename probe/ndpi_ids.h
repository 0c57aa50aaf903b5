/*
 * ndpi_ids.h - nDPI protocol ids translated into another nDPI release's numbering.
 *
 * ntopng reads the L7 ids a probe sends with its own nDPI, whose numbering differs from the
 * probe's (nDPI 4.2 here, 4.10 in ntopng 6.2: renames, moves, reused ids). The receiver's
 * table is a file in the ndpi-ids TSV format, one protocol per line:
 *
 *     # comment
 *     ID<TAB>SYMBOL<TAB>NAME        symbol without NDPI_PROTOCOL_, name as ndpi_get_proto_name()
 *
 * An id may appear on several lines: each extra line gives another name the receiver's
 * protocol was known by in older releases (tools/mkndpi-ids.sh writes them). A sender id is
 * translated by its name (as the sender's nDPI reports it) to the receiver id with that name;
 * a name the receiver lacks translates to nothing (NID_NONE).
 */
#ifndef NFPROBE_NDPI_IDS_H
#define NFPROBE_NDPI_IDS_H

#include <stddef.h>
#include <stdint.h>

#define NID_NONE UINT32_MAX

struct nid_map;

/* The sender's name of id (the probe's nDPI), or NULL when id is unknown. */
typedef const char *(*nid_name_fn)(void *ctx, uint16_t id);

/*
 * Builds the translation of sender ids 0 .. n_sender-1 (names from name(ctx, id)) into the
 * receiver table at path. Returns NULL with a one-line err naming the file (and line).
 */
struct nid_map *nid_load(const char *path, nid_name_fn name, void *ctx, uint16_t n_sender,
                         char *err, size_t errlen);

/* Same over a table already in memory (buf[0..len), not NUL-terminated); name prefixes errors. */
struct nid_map *nid_parse(const char *buf, size_t len, const char *name_of_buf, nid_name_fn name,
                          void *ctx, uint16_t n_sender, char *err, size_t errlen);

void nid_free(struct nid_map *m);

/* The receiver id of sender id, or NID_NONE (not in the receiver's nDPI, or out of range). */
uint32_t nid_translate(const struct nid_map *m, uint16_t id);

/* How many sender ids have no receiver id (NID_NONE), and how many map to another number. */
size_t nid_n_missing(const struct nid_map *m);
size_t nid_n_moved(const struct nid_map *m);

#endif
