/*
 * dpi.h - layer-7 labels with nDPI, fed as NFStream feeds it (spec section 8).
 *
 * The only module that includes nDPI's headers. One dpi_ctx per worker thread (an nDPI
 * detection module is not thread-safe). nDPI flow state comes from a pool sized at start and
 * goes back to it as soon as detection completes or gives up; the labels stay in the flow's
 * struct flow_l7 (flow.h).
 */
#ifndef NFPROBE_DPI_H
#define NFPROBE_DPI_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "meter.h"

struct dpi_ctx;

struct dpi_config {
    uint8_t n_dissections;       /* packets per flow fed at most (NFStream's n_dissections) */
    uint32_t max_concurrent;     /* nDPI flow states in the pool (flows still in detection) */
    const char *protos_file;     /* nDPI custom protocols file (--ndpi-protos), or NULL */
    const char *categories_file; /* nDPI custom categories file (--ndpi-categories), or NULL */
};

/* DPI counters. */
struct dpi_stats {
    uint64_t packets_fed;     /* packets given to nDPI */
    uint64_t flows_detected;  /* detection completed with a protocol */
    uint64_t flows_guessed;   /* gave up and guessed */
    uint64_t pool_exhausted;  /* flows that got no nDPI state (pool empty): labelled Unknown */
    uint64_t bytes_capped;    /* packets whose bytes fed were capped */
    /* Bytes nDPI holds through its allocator hooks, and their peak. The hooks are process-wide
     * (set_ndpi_malloc()): every worker's dpi_stats() reports the same sum over all modules. */
    uint64_t ndpi_mem_bytes;
    uint64_t ndpi_mem_peak;
};

/* Creates the nDPI module. Returns NULL with a one-line err (naming the file) on failure. */
struct dpi_ctx *dpi_new(const struct dpi_config *c, char *err, size_t errlen);
void dpi_free(struct dpi_ctx *d);

/*
 * The meter extension that labels flows: its per-flow state (ext_size) begins with a
 * struct flow_l7; the rest is private. Register it with mtr_new(); after mtr_new(), the
 * struct flow_l7 of a flow is at f->ext + ext.ext_off.
 */
struct mtr_ext dpi_meter_ext(struct dpi_ctx *d);

void dpi_stats(const struct dpi_ctx *d, struct dpi_stats *out);

/*
 * Memory per flow that DPI may take, for sizing from a memory budget without a module:
 * *ext_size = the meter extension's ext_size; returns the bytes of one nDPI state of the pool
 * (each flow still in detection holds one).
 */
size_t dpi_flow_memory(size_t *ext_size);

/* nDPI's name of a protocol id and of a category id (for export's application table). */
const char *dpi_proto_name(struct dpi_ctx *d, uint16_t proto_id);
const char *dpi_category_name(struct dpi_ctx *d, uint16_t category_id);
/* Number of protocol ids nDPI knows (ids are 0 .. n-1). */
uint16_t dpi_num_protocols(struct dpi_ctx *d);

/* nDPI's version string. */
const char *dpi_version(void);

#endif
