/*
 * export_enc.h - the interface between the exporter (export.c) and its message encoders.
 *
 * Internal header. export.c owns collectors, queues, timers and the transport; an encoder owns
 * one collector's protocol state (templates, sequence numbers, the message being filled) and
 * turns flows into whole messages, which it hands to a sink callback as they are completed. The
 * IPFIX encoder is export_ipfix.c (ipfix_encoder_ops), the NetFlow v9 one export_v9.c
 * (nf9_encoder_ops, scheme "v9"): both share export.c's collectors, queues and accounting.
 */
#ifndef NFPROBE_EXPORT_ENC_H
#define NFPROBE_EXPORT_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "features.h"
#include "flow.h"
#include "sampling.h"

struct exp_extra; /* export.h: plugin elements */

/*
 * The PEN (0 = IANA) and id of each IPFIX element names[i] under our PEN `pen`, from the
 * encoder's information model (export_ipfix.c); unknown names get pen 0, id 0. Returns 0, or
 * -1 when the model cannot be built. For listings (nfprobe --list-fields), not the data path.
 */
int ipfix_element_ids(const char *const *names, size_t n, uint32_t pen, uint32_t *pens,
                      uint16_t *ids);

/* What one finished message carries: records for the transport, flow content for notSent*. */
struct exp_msg_info {
    uint32_t records; /* data records, options data included (what IPFIX sequence numbers count) */
    uint32_t flows;   /* flow records among them */
    uint64_t packets; /* packets and octets of those flows (both directions) */
    uint64_t octets;
};

/* A finished message. msg is valid only during the call. */
typedef void (*exp_sink_fn)(void *ctx, const uint8_t *msg, size_t len,
                            const struct exp_msg_info *info);

struct exp_enc_params {
    uint32_t observation_domain; /* this collector's (?domain=), else --observation-domain */
    bool uniflow;              /* one record per direction, forward elements only (--uniflow) */
    uint8_t engine_type;       /* NetFlow v5 header (?engine-type=, ?engine-id=) */
    uint8_t engine_id;
    uint32_t pen;              /* our private enterprise number */
    uint32_t max_msg;          /* largest message, octets (UDP: --mtu) */
    uint32_t refresh_packets;  /* NetFlow v9: templates again every N messages (0 = 20) */
    const char *template_file; /* field choice (templates/README.md), NULL = every field */
    bool ntop_compat;          /* also ntop's elements (PEN 35632) */
    struct flow_layout layout; /* what the flows carry and where (mtr_layout) */
    /* The application table (nDPI protocol id -> name) for the application map options
     * records; NULL = no map. Called at open only. */
    const char *(*app_name)(void *ctx, uint16_t id);
    void *app_ctx;
    uint16_t n_apps;           /* ids 0 .. n_apps - 1 */
    uint32_t export_time_s;    /* fixed message export time (tests), 0 = wall clock */
    const struct exp_extra *extras; /* plugin: export.h, appended to the data templates */
    size_t n_extras;
    struct smp_announce sampling;   /* --sampling: options records, v5 header, upscale */
    exp_sink_fn sink;
    void *sink_ctx;
};

/* The values of the options records (RFC 7011 section 4), for one collector. */
struct exp_opt_data {
    uint64_t now_ms;           /* Unix ms: observationTime "last" */
    uint64_t start_ms;         /* Unix ms when exporting started: observationTime "first" */
    uint64_t messages;         /* messages, flow records and octets handed to the transport */
    uint64_t flow_records;
    uint64_t octets;
    uint64_t not_sent_flows;   /* flows (and their packets/octets) that were not sent */
    uint64_t not_sent_packets;
    uint64_t not_sent_octets;
    uint64_t ignored_packets;  /* metering: decoder rejects + capture drops */
    uint64_t ignored_octets;
    uint64_t first_obs_ms;     /* Unix ms of the first and last observed packet (0 = none) */
    uint64_t last_obs_ms;
    uint64_t smp_observed;     /* --sampling: packets observed and selected (318/319) */
    uint64_t smp_selected;
    uint8_t exporter_family;   /* the session's local address (?exporter= or the kernel's): */
    uint8_t exporter_addr[16]; /* 4 or 6, network order; 0 = unknown (no record sent) */
};

struct exp_encoder_ops {
    const char *scheme; /* "ipfix", "v9": the part of the collector URL before '+' */
    /* Prepares an encoder. Returns NULL with a one-line err (naming the template file). */
    void *(*open)(const struct exp_enc_params *p, char *err, size_t errlen);
    void (*free)(void *enc);
    /*
     * A new transport session: sequence numbers start again, then templates, type records,
     * the application map and the options data are sent before any flow. Any unsent message
     * of the previous session must have been flushed or discarded. Returns 0 or -errno.
     */
    int (*session)(void *enc, const struct exp_opt_data *od);
    /* The templates (and what goes with them) again, within the session (UDP refresh). */
    int (*refresh)(void *enc, const struct exp_opt_data *od);
    /* The options data records only (statistics, reliability). */
    int (*options)(void *enc, const struct exp_opt_data *od);
    /*
     * Adds one flow, emitting the current message first if it is full. Returns 0, or
     * -EMSGSIZE when the flow alone does not fit in a message (it is not sent), -errno else.
     */
    int (*flow)(void *enc, const struct flow *f);
    /* Emits the message being filled, if any. */
    int (*flush)(void *enc);
    /* Forgets the message being filled (its session died); *lost gets what it carried. */
    void (*discard)(void *enc, struct exp_msg_info *lost);
    /* True while a message holds records not yet emitted. */
    bool (*partial)(const void *enc);
    /* Optional (NULL = none): flows the protocol cannot carry (NetFlow v5: IPv6), counted
     * and consumed by flow() without a record. */
    uint64_t (*not_exportable)(const void *enc);
    uint32_t msg_len;  /* fixed UDP message size (v5: 1464, 30 records), 0 = --mtu */
    bool udp_only;     /* refuse TCP/TLS collectors */
};

/* The encoders (export.c picks one by the collector URL's scheme). */
extern const struct exp_encoder_ops ipfix_encoder_ops; /* export_ipfix.c */
extern const struct exp_encoder_ops nf9_encoder_ops;   /* export_v9.c */
extern const struct exp_encoder_ops nf5_encoder_ops;   /* export_v5.c */

#endif
