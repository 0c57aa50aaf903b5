/*
 * export_v9.h - NetFlow v9 (RFC 3954) encoder: finished flows -> export packets in a caller's
 * buffer. Pure: no I/O, no allocation, no clock of its own (time is an argument).
 *
 * libfixbuf cannot export v9, so this is hand-written. One struct nf9_ctx per collector: it
 * owns that collector's sequence number (count of export packets), template and options
 * refresh schedule, and the exporter counters sent in the statistics options record.
 *
 * Packet layout (each part only when due):
 *   header (20)                                   version 9, count = all records in the packet
 *   template FlowSet, id 0                        IPv4 and IPv6 data templates
 *   options template FlowSets, id 1               one options template per FlowSet (nfdump
 *                                                 1.7.1 reads only the first of a FlowSet)
 *   options data: statistics, sampling, application table (the table may span packets)
 *   data FlowSets, id >= 256                      one per run of flows of the same IP version
 *
 * Times. Data records carry absolute milliseconds (152/153, what nfdump decodes), never the
 * sysUptime-relative FIRST/LAST_SWITCHED (21/22) that wrap every 2^32 ms. The header keeps
 * boot_ms + sysUptime == now_ms and unix_secs == now_ms / 1000. Offline, now is the packet
 * clock: boot_ms is then "first packet time - NF9_BOOT_MARGIN_MS" (or leave it 0 and the first
 * nf9_encode() call picks min(now, earliest flow start) - NF9_BOOT_MARGIN_MS), so sysUptime is
 * positive for every flow and wraps only after 49.7 days of uptime.
 *
 * Fields. v9 has no enterprise bit, no reverse PEN and no variable length: everything is
 * fixed length, strings are NUL-padded or truncated to the configured lengths. Fields per
 * template (IPv6 uses 27/28 in place of 8/12); C = NF9_CUSTOM_BASE + offset, our own ids:
 *
 *   C+6 NFStream id (8)       not 148 flowId: nfdump 1.7.1 takes v9 148 for an ASA connection
 *                             id and marks the record a firewall event
 *   152/153 flowStart/EndMilliseconds (8)
 *   1/2 IN_BYTES/IN_PKTS (8)  src2dst             23/24 OUT_BYTES/OUT_PKTS (8)  dst2src
 *   8/12 or 27/28 addresses   first packet's src  7/11 L4_SRC/DST_PORT (2)
 *   4 PROTOCOL (1)            6 TCP_FLAGS (1)     both directions OR-ed
 *   60 IP_PROTOCOL_VERSION (1)                    136 flowEndReason (1)
 *   239 biflowDirection (1) = 1 initiator
 *   56 IN_SRC_MAC / 80 IN_DST_MAC (6)             58 SRC_VLAN (2)
 *   161 flowDurationMilliseconds (4, saturated)   57550/57551 CLIENT/SERVER_TCP_FLAGS (1)
 *   C+0..C+3 src2dst first/last, dst2src first/last seen ms (8)
 *   C+4 NFStream expiration_id (1, two's complement)   C+5 tunnel_id (1, with tunnel_id on)
 * with statistics on, per direction d (0 bidirectional, 1 src2dst, 2 dst2src) the 16 fields
 * C+16+16d+k, k = 0 min_ps, 1 max_ps, 2 mean_ps, 3 stddev_ps, 4 min_piat, 5 max_piat,
 * 6 mean_piat, 7 stddev_piat, 8..15 syn, cwr, ece, urg, ack, psh, rst, fin packets:
 *   min/max packet size (2): bidirectional as 25/26
 *   mean/stddev packet size, mean/stddev inter-arrival (8, IEEE 754 binary64, big endian)
 *   min/max inter-arrival ms (8)
 *   flag packet counts (4): bidirectional syn/fin/rst/psh/ack/urg as 218/219/220/221/222/223
 * (the IANA ids replace the custom ones where they exist)
 * with L7 on (ntop's v9 ids 57472+n where ntop has the field, as nProbe exports them):
 *   95 applicationId (7): 20 (PANA-L7-PEN) | PEN (4) | selector (2) = the nDPI app id, or the
 *      master id when the app is unknown; nfdump resolves it through the application table
 *   57590 L7_PROTO (2) the same nDPI id   C+64 nDPI master id (2)   C+65 category id (2)
 *   57591 L7_PROTO_NAME (string) NFStream application_name (master.app)
 *   372 applicationCategoryName (string)  C+66 application_is_guessed (1)
 *   58032 L7_CONFIDENCE (1) application_confidence
 *   57660 TLS_SERVER_NAME (string): NFStream's requested_server_name (SNI, or the HTTP Host or
 *      DNS query nDPI found for other protocols: NFStream has one column for all three)
 *   57961/57962 JA3C/JA3S_HASH (string)   57655 HTTP_UA (string)   57656 HTTP_MIME (string)
 *
 * Not carried (IPFIX only): SPLT (splt_direction/ps/piat_ms) is a variable-length list; src/
 * dst OUI and the bidirectional packets/bytes/duration are derivable from carried fields.
 *
 * Options records (scope: System = source id): statistics 40/41/42 TOTAL_BYTES/PKTS/FLOWS_EXP,
 * 164 ignoredPacketTotalCount, 160 systemInitTimeMilliseconds; sampling 34/35 only when a
 * sampling interval is configured; the application table 95/96/94 (id, name, description).
 */
#ifndef NFPROBE_EXPORT_V9_H
#define NFPROBE_EXPORT_V9_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

#define NF9_VERSION 9
#define NF9_HEADER_LEN 20
#define NF9_TEMPLATE_SET_ID 0
#define NF9_OPTIONS_TEMPLATE_SET_ID 1
#define NF9_MIN_DATA_SET_ID 256

/* Our field ids: above Cisco's and below ntop's (57472+) ranges. */
#define NF9_CUSTOM_BASE 53248
/* Offline: boot time this far before the first packet. */
#define NF9_BOOT_MARGIN_MS 60000u
/* Fields of one template, at most. */
#define NF9_MAX_FIELDS 128
/* applicationId: 20 | PEN | u16 selector, nfdump 1.7.1 keeps at most 7 octets. */
#define NF9_APP_ID_LEN 7
#define NF9_APP_ENGINE_PANA_L7_PEN 20

/* One entry of the application table (options data): what nfdump prints for %nbnam. */
struct nf9_app {
    uint16_t id;      /* the selector: nDPI protocol id */
    const char *name; /* BORROWED, e.g. "YouTube" */
    const char *desc; /* BORROWED, e.g. the category "Media"; NULL = empty */
};

/* Fixed lengths of the string fields (octets, NUL-padded, truncated beyond). */
struct nf9_str_lengths {
    uint16_t app_name;  /* 57591 L7_PROTO_NAME */
    uint16_t category;  /* 372 applicationCategoryName */
    uint16_t server_name; /* 57660 */
    uint16_t ja3c;      /* 57961 */
    uint16_t ja3s;      /* 57962 */
    uint16_t user_agent; /* 57655 */
    uint16_t content_type; /* 57656 */
    uint16_t table_name; /* 96 in the application table */
    uint16_t table_desc; /* 94 in the application table */
};

struct nf9_config {
    uint32_t source_id;          /* Source ID = observation domain */
    uint64_t boot_ms;            /* exporter boot, Unix ms; 0 = chosen by the first encode */
    uint32_t mtu;                /* largest packet the caller will allow (checked at init) */
    uint32_t refresh_ms;         /* templates + options every this much time (0 = never) */
    uint32_t refresh_packets;    /* templates also every this many packets (0 = never) */
    uint16_t template_id_base;   /* >= 256; 0 = 256. Ids base..base+4 plus a variant offset */
    bool statistics;             /* --statistical-analysis fields */
    bool tunnel_id;              /* decode_tunnels: the tunnel_id field */
    bool l7;                     /* DPI on: struct flow_l7 at f->ext + l7_off */
    size_t l7_off;
    uint32_t pen;                /* enterprise number inside applicationId */
    uint32_t sampling_interval;  /* 1-in-N packet sampling, 0 = not sampled (no options) */
    uint8_t sampling_algorithm;  /* 1 deterministic, 2 random (RFC 3954 field 35) */
    const struct nf9_app *apps;  /* BORROWED application table, must outlive the ctx */
    size_t n_apps;
    struct nf9_str_lengths len;  /* 0 fields take the defaults of nf9_config_defaults() */
};

/* What a template field takes its value from (private to the encoder; here for the ctx). */
struct nf9_field {
    uint16_t id;
    uint16_t len;
    uint16_t src;
    uint16_t arg;
};

struct nf9_template {
    uint16_t id;
    uint16_t n_fields;
    uint16_t scope_len;   /* options templates: octets of scope fields (first) */
    uint16_t record_len;
    struct nf9_field f[NF9_MAX_FIELDS];
};

/* Counters of what this ctx has encoded (also sent in the statistics options record). */
struct nf9_stats {
    uint64_t packets;        /* export packets = the next sequence number */
    uint64_t octets;         /* their bytes */
    uint64_t flow_records;   /* data records */
    uint64_t template_sends; /* packets that carried the templates */
    uint64_t app_records;    /* application table records */
};

/* One collector's encoder state. Fields are private: use the functions below. */
struct nf9_ctx {
    struct nf9_config cfg;
    struct nf9_template tmpl_v4, tmpl_v6, opt_stats, opt_sampling, opt_apps;
    uint64_t boot_ms;
    uint64_t last_refresh_ms;
    uint32_t sequence;
    uint32_t pkts_since_templates;
    uint64_t ignored_packets;
    size_t app_next;         /* next application table entry to send; n_apps = none pending */
    bool templates_due;
    bool options_due;
    bool boot_set;
    struct nf9_stats st;
};

/* NetFlow v9 defaults: lengths that hold every NFStream string whole, 60 s / 20 packets. */
void nf9_config_defaults(struct nf9_config *c);

/*
 * Builds the templates from c (copied; apps stay borrowed). Fails with -EINVAL (bad template
 * id base, sampling algorithm) or -EMSGSIZE (templates or one record do not fit c->mtu) and
 * a one-line err.
 */
int nf9_init(struct nf9_ctx *x, const struct nf9_config *c, char *err, size_t errlen);

/*
 * Encodes one export packet into buf: templates and options when due, then as many of the n
 * flows (in order) as fit in cap octets. *n_done = flows encoded. Returns the packet length,
 * or 0 when there was nothing to send (no flow, nothing due) or cap < the configured mtu's
 * needs. Call it again while *n_done < n; call it with n = 0 on a timer so templates and the
 * application table keep flowing when no flow ends. The sequence number counts every packet
 * returned: hand each one to the transport, lost or not. now_ms is Unix ms (packet clock
 * offline, wall clock live).
 */
size_t nf9_encode(struct nf9_ctx *x, const struct flow *const *flows, size_t n, uint64_t now_ms,
                  uint8_t *buf, size_t cap, size_t *n_done);

/* Sends templates, options and the whole application table again, starting with the next
 * packet: call it when a transport session starts (TX_EV_UP). */
void nf9_force_templates(struct nf9_ctx *x);

/* Capture-level losses (pcap ps_drop + ps_ifdrop) for the statistics options record. */
void nf9_set_ignored_packets(struct nf9_ctx *x, uint64_t packets);

/* True when templates, options or application table records are waiting to be sent. */
bool nf9_pending(const struct nf9_ctx *x, uint64_t now_ms);

void nf9_stats(const struct nf9_ctx *x, struct nf9_stats *out);

/* The boot time in use (0 before the first encode when chosen automatically). */
uint64_t nf9_boot_ms(const struct nf9_ctx *x);

#endif
