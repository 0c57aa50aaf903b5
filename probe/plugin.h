/*
 * plugin.h - loads plugins (nfprobe/plugin.h ABI) and runs them as one meter extension.
 *
 * Plugins are loaded once at start, before any worker exists (plg_load()): every plugin of
 * the run is checked (ABI version, descriptor, arguments, fields, names unique across plugins)
 * and either all are loaded or none is. Each worker then gets its own plg_worker, a single
 * struct mtr_ext that runs every plugin, in --plugin order, after DPI. The per-flow memory of
 * all plugins is one block of the flow's ext[]; its offset is the same in every worker, so the
 * outputs and the exporter read plugin fields from any worker's flows with one description.
 */
#ifndef NFPROBE_PLUGIN_H
#define NFPROBE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "meter.h"
#include "export.h"
#include "output.h"

#define PLG_MAX_PLUGINS 16
#define PLG_MAX_FIELDS 64     /* in all plugins (output.h OUT_MAX_EXTRA) */
#define PLG_MAX_FLOW_BYTES 65536 /* per-flow memory of one plugin, fields and state */
#define PLG_MAX_TEXT 511      /* longest value text of a column (output.c's buffer) */
#define PLG_IPFIX_ID_MIN 1024 /* explicit element ids; ids derived from names are above */
#define PLG_IPFIX_ID_HASHED 8192
#define PLG_IPFIX_ID_MAX 16383 /* below the RFC 5103 reverse bit (0x4000) */

struct plg_set;
struct plg_worker;

/*
 * Loads the plugins given as "PATH[:KEY=VALUE,...]" (the --plugin values, in order). Returns
 * the set (an empty set for n == 0), or NULL with a one-line err naming the file: cannot be
 * opened, no descriptor, ABI version mismatch, bad arguments, load() failed, bad or duplicate
 * fields. On failure nothing stays loaded.
 */
struct plg_set *plg_load(const char *const *specs, size_t n, char *err, size_t errlen);

/* Unloads every plugin (unload(), dlclose()). Takes NULL. Workers must be freed before. */
void plg_free(struct plg_set *s);

size_t plg_count(const struct plg_set *s);
/* True when a plugin reads packet bytes: the worker must keep a copy of each packet. */
bool plg_wants_packets(const struct plg_set *s);
/* Per-flow bytes of all plugins (fields and state). */
size_t plg_flow_bytes(const struct plg_set *s);

/* A worker's instance: its extension and the views it hands to plugins. NULL with err. */
struct plg_worker *plg_worker_new(struct plg_set *s, char *err, size_t errlen);
void plg_worker_free(struct plg_worker *pw);

/* The meter extension running every plugin (to be passed to mtr_new() after DPI's). */
struct mtr_ext plg_worker_ext(struct plg_worker *pw);

/*
 * After mtr_new(): the meter (for custom expiration, and its flow layout: where the plugins'
 * block, the statistics, SPLT and L7 are). The first bind fixes the layout the outputs use; a
 * later worker with another layout is an error (-EINVAL with err).
 */
int plg_worker_bind(struct plg_worker *pw, struct meter *mt, char *err, size_t errlen);

/*
 * The CSV/JSON columns "udps.<name>", in plugin then field order, into out (room for max).
 * Valid once a worker was bound; the set must outlive the writers. Returns the count.
 */
size_t plg_out_extras(const struct plg_set *s, struct out_extra *out, size_t max);

/* ------------------------------------------------------------------ export (IPFIX, v9) */

/*
 * The plugin fields as export elements (export.h struct exp_extra), in the columns' order, into
 * out (room for max), valid while the set lives (encode() once a worker was bound). Each is an
 * enterprise element "udps" + the field name in lowerCamelCase ("model_class" ->
 * udpsModelClass), with the plugin's id or one derived from the name (PLG_IPFIX_ID_*). Numbers
 * are unsignedN, signedN or float64; arrays an octetArray of the elements in network order;
 * strings a variable-length string (at most count - 1 octets); bytes a variable-length
 * octetArray. NetFlow v9 carries all but bytes, strings NUL-padded to their capacity, under
 * EXP_V9_EXTRA_FIRST + id % 4096 (a clash is refused at load). Returns the count.
 */
size_t plg_exp_extras(const struct plg_set *s, struct exp_extra *out, size_t max);

/*
 * Writes the registry of the plugin elements under pen: xml = an IANA-style XML registry as
 * templates/nfprobe-ie.xml (for `ipfixDump -e FILE`), else python3-ipfix iespec lines. What a
 * collector needs when it does not read RFC 5610 type records. Returns 0 or -EIO.
 */
int plg_write_registry(const struct plg_set *s, FILE *out, uint32_t pen, bool xml);

#endif
