/*
 * export_v9.h - NetFlow v9 (RFC 3954) encoder: finished flows -> export packets in a caller's
 * buffer. No I/O and no clock of its own (time is an argument); allocates only in nf9_new().
 * (nf9_encoder_ops, export.c's glue, takes export.c's clock: the wall clock or its fixed export
 * time, as the IPFIX encoder does.)
 *
 * libfixbuf cannot export v9, so this is hand-written. One struct nf9_ctx per collector: it
 * owns that collector's sequence number (count of export packets), template and options
 * refresh schedule, application map and the counters sent in the statistics options record.
 * export.c uses it through nf9_encoder_ops (export_enc.h), like the IPFIX encoder; tools and
 * tests use nf9_encode() (a whole packet per call) or nf9_begin/nf9_add/nf9_finish.
 *
 * Packet layout (each part only when due):
 *   header (20)                   version 9, count = all records in the packet (RFC 3954)
 *   template FlowSet, id 0        the IPv4 and IPv6 data templates
 *   options template FlowSets, 1  one options template per FlowSet (nfdump 1.7.1 reads only
 *                                 the first of a FlowSet)
 *   options data                  statistics, sampling, application map entries
 *   data FlowSets, id >= 256      one per run of flows of the same IP version (map entries of
 *                                 applications first seen may sit between them)
 *
 * Times. Data records carry absolute milliseconds (152/153, what nfdump decodes), never the
 * sysUptime-relative FIRST/LAST_SWITCHED (21/22) that wrap every 2^32 ms (softflowd -r shows
 * times 2^32 ms off). The header keeps boot_ms + sysUptime == now_ms and unix_secs ==
 * now_ms / 1000. Offline, now is the packet clock: set boot_ms to "first packet time -
 * NF9_BOOT_MARGIN_MS", or leave it 0 and the first packet picks min(now, earliest flow start)
 * - NF9_BOOT_MARGIN_MS; so sysUptime is positive for every flow and wraps only after 49.7 days.
 *
 * Fields. v9 has no enterprise bit, no reverse PEN and no variable length: everything is fixed
 * length, strings are NUL-padded or cut to the configured lengths. Per template (IPv6 uses
 * 27/28 in place of 8/12); C = NF9_CUSTOM_BASE + offset, our own ids (no IANA/ntop element):
 *
 *   C+6 NFStream id (8)        not 148 flowId: nfdump 1.7.1 reads v9 148 as an ASA connection
 *                              id and marks the record a firewall event
 *   152/153 flowStart/EndMilliseconds (8)
 *   1/2 IN_BYTES/IN_PKTS (8)   src2dst           23/24 OUT_BYTES/OUT_PKTS (8)  dst2src
 *   8/12 or 27/28 addresses    first packet's    7/11 L4_SRC/DST_PORT (2)
 *   4 PROTOCOL (1)             6 TCP_FLAGS (1) both directions OR-ed
 *   60 IP_PROTOCOL_VERSION (1) 136 flowEndReason (1)   239 biflowDirection (1) = 1 initiator
 *   56 IN_SRC_MAC / 80 IN_DST_MAC (6)                  58 SRC_VLAN (2)
 *   161 flowDurationMilliseconds (4, saturated)        57550/57551 CLIENT/SERVER_TCP_FLAGS (1)
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
 *      master id when there is none, as the IPFIX encoder; nfdump resolves it to a name through
 *      the application map (nfdump -o 'fmt:%nbid %nbnam' prints 20..32473..124 YouTube/nDPI
 *      YouTube; the whole master.app name is in 57591)
 *   57590 L7_PROTO (2) the same selector
 *   C+64 nDPI master id (2)   C+65 nDPI app id (2)   C+67 category id (2)
 *   57591 L7_PROTO_NAME (string) NFStream application_name (master.app)
 *   372 applicationCategoryName (string)  C+66 application_is_guessed (1)
 *   58032 L7_CONFIDENCE (1) application_confidence
 *   57660 TLS_SERVER_NAME (string): NFStream's requested_server_name (SNI, or the HTTP Host or
 *      DNS query nDPI found for other protocols: NFStream has one column for all three)
 *   57961/57962 JA3C/JA3S_HASH (string: client/server_fingerprint)
 *   57655 HTTP_UA (string)   57656 HTTP_MIME (string: content_type)
 *
 * Not carried (IPFIX only): SPLT (splt_direction/ps/piat_ms) is a variable-length list and v9
 * has none; src/dst OUI and the bidirectional packets/bytes/duration derive from carried fields.
 * tshark 4.0 decodes templates of at most 60 fields unless told more (-o
 * cflow.max_template_fields:100): the statistics template has 89.
 *
 * Options records (scope System = the source id): statistics 40/41/42 TOTAL_BYTES/PKTS/FLOWS_EXP
 * (what this encoder produced), 164 ignoredPacketTotalCount, 160 systemInitTimeMilliseconds;
 * sampling, only when a sampling interval is configured, as two templates: 34 SAMPLING_INTERVAL
 * alone (what nfdump 1.7.1 reads: it ignores 34 beside 35), and 34 with 35 SAMPLING_ALGORITHM
 * and the RFC 7014 counters 318/319 packets observed/selected (tshark decodes them); the
 * application map 95/96/94 (id, nDPI's name, "nDPI " + name, as the IPFIX encoder), every nDPI protocol id, with the first packets of a session and again with every
 * time refresh (several records per FlowSet: nfdump's v9 reader handles that, unlike its IPFIX
 * reader), spread over as many packets as it takes.
 */
#ifndef NFPROBE_EXPORT_V9_H
#define NFPROBE_EXPORT_V9_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export_enc.h"
#include "flow.h"

#define NF9_VERSION 9
#define NF9_HEADER_LEN 20
#define NF9_TEMPLATE_SET_ID 0
#define NF9_OPTIONS_TEMPLATE_SET_ID 1
#define NF9_MIN_DATA_SET_ID 256
/* Template ids are base + 8 * variant + 0..5, variant 0..7 from the enabled field groups. */
#define NF9_MAX_TEMPLATE_ID_BASE (65535 - 8 * 7 - 5)

/* Our field ids: above Cisco's and below ntop's (57472+) ranges. */
#define NF9_CUSTOM_BASE 53248
/* Offline: boot time this far before the first packet. */
#define NF9_BOOT_MARGIN_MS 60000u
/* applicationId: 20 | PEN | selector (nfdump 1.7.1 prints 20..PEN..selector). */
#define NF9_APP_ID_LEN 7
#define NF9_APP_ENGINE_PANA_L7_PEN 20
/* Application map string lengths, as the IPFIX encoder's (at most 253 together for nfdump). */
#define NF9_APP_NAME_MAX 40
#define NF9_APP_DESC_MAX 64

/* Fixed lengths of the string fields (octets, NUL-padded, cut beyond). */
struct nf9_str_lengths {
    uint16_t app_name;     /* 57591 L7_PROTO_NAME */
    uint16_t category;     /* 372 applicationCategoryName */
    uint16_t server_name;  /* 57660 */
    uint16_t ja3c;         /* 57961 */
    uint16_t ja3s;         /* 57962 */
    uint16_t user_agent;   /* 57655 */
    uint16_t content_type; /* 57656 */
    uint16_t table_name;   /* 96 in the application map, <= NF9_APP_NAME_MAX */
    uint16_t table_desc;   /* 94 in the application map, <= NF9_APP_DESC_MAX */
};

struct nf9_config {
    uint32_t source_id;         /* Source ID = observation domain */
    uint64_t boot_ms;           /* exporter boot, Unix ms; 0 = chosen by the first packet */
    uint32_t mtu;               /* largest packet (checked at nf9_new: templates, one record) */
    uint32_t refresh_ms;        /* templates, options and map again every this long (0 never) */
    uint32_t refresh_packets;   /* templates and options also every this many packets (0 never) */
    uint16_t template_id_base;  /* 256..NF9_MAX_TEMPLATE_ID_BASE; 0 = 256 */
    struct flow_layout layout;  /* what the flows carry and where (mtr_layout): statistics,
                                 * tunnel_id and L7 fields when on (SPLT is not in v9) */
    uint32_t pen;               /* enterprise number inside applicationId */
    uint32_t sampling_interval; /* 1-in-N packet sampling, 0 = not sampled (no options) */
    uint8_t sampling_algorithm; /* 1 deterministic, 2 random (RFC 3954 field 35) */
    uint32_t counter_scale;     /* --sampling-upscale: packet/octet counters times this (0/1 =
                                 * as metered; sampling.h smp_scaled_element() picks them) */
    /* the application map, with l7: names of the nDPI protocol ids 0 .. n_apps - 1, read
     * (copied) in nf9_new() only (exp_enc_params' app_name/app_ctx/n_apps) */
    const char *(*app_name)(void *ctx, uint16_t id);
    void *app_ctx;
    uint16_t n_apps;
    struct nf9_str_lengths len; /* 0 fields take the defaults of nf9_config_defaults() */
    /* plugin: elements appended to the data templates, those with a v9_id (export.h) */
    const struct exp_extra *extras;
    size_t n_extras;
    bool uniflow; /* templates of forward elements only, for nf9_add_dir() (--uniflow) */
};

/* Counters of what this ctx has encoded (also sent in the statistics options record). */
struct nf9_stats {
    uint64_t packets;        /* export packets = the next sequence number of the session */
    uint64_t octets;         /* their bytes */
    uint64_t flow_records;   /* data records */
    uint64_t template_sends; /* packets that carried the templates */
    uint64_t app_records;    /* application map records sent */
};

/* What one finished packet carries. */
struct nf9_pkt_info {
    uint32_t records; /* all records (the header count) */
    uint32_t data_records; /* data and options data records */
    uint32_t flows;   /* flow records */
};

struct nf9_ctx;

/* NetFlow v9 defaults: lengths that hold every NFStream string whole, 60 s / 20 packets. */
void nf9_config_defaults(struct nf9_config *c);

/*
 * Builds the templates and the application map from c (copied). Returns NULL with a one-line
 * err: bad template id base, sampling algorithm or lengths, a mtu too small for the templates
 * or one record, out of memory. Once per collector, at startup.
 */
struct nf9_ctx *nf9_new(const struct nf9_config *c, char *err, size_t errlen);
void nf9_free(struct nf9_ctx *x);

/*
 * Encodes one whole export packet into buf (cap octets): what is due (templates, options,
 * application map entries), then as many of the n flows, in order, as fit. *n_done = flows
 * encoded. Returns the packet length, or 0 when there was nothing to send (no flow and nothing
 * due). Call it again while *n_done < n, and with n = 0 on a timer (or until it returns 0) so
 * refreshes and the map go out when no flow ends. Every packet returned consumes a sequence
 * number: hand each to the transport, lost or not. now_ms is Unix ms (packet clock offline).
 */
size_t nf9_encode(struct nf9_ctx *x, const struct flow *const *flows, size_t n, uint64_t now_ms,
                  uint8_t *buf, size_t cap, size_t *n_done);

/*
 * The same, one flow at a time: nf9_begin() starts a packet in buf (cap >= 20) and writes what
 * is due; nf9_add() appends a flow, or returns -ENOSPC when the packet is full (finish it and
 * add the flow to the next one); nf9_finish() closes the packet and returns its length (0 when
 * it holds no record: nothing to send, no sequence number used). nf9_abort() drops an open
 * packet. buf must stay valid until finish/abort.
 */
void nf9_begin(struct nf9_ctx *x, uint64_t now_ms, uint8_t *buf, size_t cap);
int nf9_add(struct nf9_ctx *x, const struct flow *f);
size_t nf9_finish(struct nf9_ctx *x, struct nf9_pkt_info *info);
void nf9_abort(struct nf9_ctx *x);

/*
 * With cfg.uniflow: appends the record of one direction of f (0 forward, 1 reverse; fields.h
 * fld_direction_map), as nf9_add() does; the flow counts in the packet's flows when last.
 * nf9_dir_packets() says whether the direction has a record to make (its packet count).
 */
int nf9_add_dir(struct nf9_ctx *x, const struct flow *f, int dir, bool last);
uint64_t nf9_dir_packets(const struct nf9_ctx *x, const struct flow *f, int dir);

/* Templates, options and the whole application map again, from the next packet on. */
void nf9_force_templates(struct nf9_ctx *x);

/* A new transport session (TX_EV_UP, TCP reconnect): sequence numbers restart at 0 and the
 * next packet carries templates, options and the map. */
void nf9_restart(struct nf9_ctx *x);

/* Marks the options data (statistics, sampling) due for the next packet. */
void nf9_options_due(struct nf9_ctx *x);

/* Capture-level losses (pcap ps_drop + ps_ifdrop) for the statistics options record. */
void nf9_set_ignored_packets(struct nf9_ctx *x, uint64_t packets);

/* The sampling selectors' packets observed and selected (318/319 in the sampling options). */
void nf9_set_sampling_counters(struct nf9_ctx *x, uint64_t observed, uint64_t selected);

/* True when templates, options or map entries wait (by time or force; the packet-count
 * refresh only rides on packets sent anyway). */
bool nf9_pending(const struct nf9_ctx *x, uint64_t now_ms);

void nf9_stats(const struct nf9_ctx *x, struct nf9_stats *out);

/* The configuration in use (defaults filled in), the boot time in use (0 before the first
 * packet when chosen automatically), the data template id of an IP version (4 or 6). */
const struct nf9_config *nf9_config(const struct nf9_ctx *x);
uint64_t nf9_boot_ms(const struct nf9_ctx *x);
uint16_t nf9_template_id(const struct nf9_ctx *x, int ip_version);

/* export.c's view: the "v9" scheme of collector URLs (v9+udp://HOST:PORT). */
extern const struct exp_encoder_ops nf9_encoder_ops;

#endif
