/*
 * decode.c - NFStream's packet parser (lib_engine.c packet_process), re-done bounds-checked.
 *
 * The control flow follows NFStream's on purpose, including what looks wrong (see the quirk
 * notes): the goal is that the same packets are metered with the same sizes and keys. Every
 * read goes through get_u8/get_be16/..., which return 0 beyond caplen, so a packet that makes
 * NFStream read out of bounds reads zeros here instead.
 */
#include "decode.h"

#include <pcap/dlt.h>
#include <string.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_MPLS_UC 0x8847
#define ETHERTYPE_MPLS_MC 0x8848
#define ETHERTYPE_PPPOE 0x8864

#define PORT_GTP_U 2152
#define PORT_CAPWAP_DATA 5247
#define PORT_TZSP 37008

/* A read-only view of the captured bytes; every accessor is bounds-checked against caplen. */
struct view {
    const uint8_t *p;
    uint32_t caplen;
};

static inline uint8_t
get_u8(const struct view *v, uint32_t off)
{
    return off < v->caplen ? v->p[off] : 0;
}

static inline uint16_t
get_be16(const struct view *v, uint32_t off)
{
    return (uint16_t)(get_u8(v, off) << 8 | get_u8(v, off + 1));
}

/* Little-endian 16-bit read: NFStream reads some fields in host (x86) order. */
static inline uint16_t
get_le16(const struct view *v, uint32_t off)
{
    return (uint16_t)(get_u8(v, off) | get_u8(v, off + 1) << 8);
}

static inline uint32_t
get_be32(const struct view *v, uint32_t off)
{
    return (uint32_t)get_be16(v, off) << 16 | get_be16(v, off + 2);
}

static void
get_bytes(const struct view *v, uint32_t off, uint8_t *dst, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        dst[i] = get_u8(v, off + i);
}

/*
 * nDPI's ndpi_handle_ipv6_extension_headers() semantics: walks hop-by-hop, routing, fragment,
 * destination options and mobility headers while more than one byte of l3 remains. Returns 0
 * and advances l4off, l4len and nxt on success; nonzero on a malformed chain, a non-first
 * fragment, or No Next Header (59) with more than one byte after it.
 */
static int
ipv6_ext_headers(const struct view *v, uint32_t l3len, uint32_t *l4off, uint16_t *l4len,
                 uint8_t *nxt, uint8_t *frag_flags)
{
    /* No count limit, as nDPI: every pass consumes at least 5 bytes of l3len, so it ends. */
    while (l3len > 1 && (*nxt == 0 || *nxt == 43 || *nxt == 44 || *nxt == 60 || *nxt == 135 ||
                         *nxt == 59)) {
        if (*nxt == 59)
            return 1;
        if (*nxt == 44) {
            /* nDPI consumes 5 of l3len but 8 of the payload for a fragment header. */
            if (*l4len < 8 || l3len < 5)
                return 1;
            l3len -= 5;
            *nxt = get_u8(v, *l4off);
            if ((get_be16(v, *l4off + 2) >> 3) != 0)
                return 1;
            if (get_be16(v, *l4off + 2) & 1) /* M: more fragments (fragmentFlags MF) */
                *frag_flags |= 0x20;
            *l4len = (uint16_t)(*l4len - 8);
            *l4off += 8;
            continue;
        }
        if (*l4len < 2)
            return 1;
        uint16_t ehdr_len = (uint16_t)(get_u8(v, *l4off + 1) * 8 + 8);
        if (ehdr_len > l3len || *l4len < ehdr_len)
            return 1;
        l3len -= ehdr_len;
        *nxt = get_u8(v, *l4off);
        *l4len = (uint16_t)(*l4len - ehdr_len);
        *l4off += ehdr_len;
    }
    return 0;
}

/* Records an 802.1Q tag: the first is the outer (S-)tag, the second the customer tag. */
static inline void
note_vlan(struct pkt_meta *m, unsigned *n_tags, uint16_t vid)
{
    if (*n_tags == 0)
        m->vlan_outer = vid;
    else if (*n_tags == 1)
        m->vlan_inner = vid;
    (*n_tags)++;
}

/* Records a label stack entry as IPFIX mplsLabelStackSection carries it: label, EXP, S, no TTL. */
static inline void
note_mpls(struct pkt_meta *m, uint32_t lse)
{
    if (m->mpls_n < PKT_MPLS_MAX)
        m->mpls[m->mpls_n++] = lse >> 8;
}

/* Fills ports, flags and the transport/payload sizes from the L4 header at l4off. */
static void
parse_l4(const struct view *v, uint8_t proto, uint32_t l4off, uint16_t l4len, struct pkt_meta *m)
{
    m->src_port = m->dst_port = 0;
    m->tcp_flags = 0;
    m->icmp_type_code = 0;
    m->transport_size = 0;
    m->payload_size = 0;
    if (proto == 6 && l4len >= 20) {
        m->src_port = get_be16(v, l4off);
        m->dst_port = get_be16(v, l4off + 2);
        int doff = (get_u8(v, l4off + 12) >> 4) * 4;
        int pl = (int)l4len - doff;
        m->payload_size = (uint16_t)(pl > 0 ? pl : 0);
        m->tcp_flags = get_u8(v, l4off + 13);
        m->transport_size = l4len;
    } else if (proto == 17 && l4len >= 8) {
        m->src_port = get_be16(v, l4off);
        m->dst_port = get_be16(v, l4off + 2);
        m->payload_size = (uint16_t)(l4len > 8 ? l4len - 8 : 0);
        m->transport_size = l4len;
    } else if (proto == 1 || proto == 58) {
        /* ICMP/ICMPv6: no ports, so all ICMP between two hosts is one flow (NFStream). */
        m->payload_size = (uint16_t)(l4len > 8 ? l4len - 8 : 0);
        m->transport_size = l4len;
        if (l4len >= 2) /* exported as icmpTypeCode; the key keeps NFStream's zero ports */
            m->icmp_type_code = get_be16(v, l4off);
    }
}

/* NFStream's packet_get_ip_info() for an IPv4 header at ip_off. */
static enum dec_result
parse_ipv4(const struct view *v, uint32_t ip_off, uint16_t ipsize, struct pkt_meta *m)
{
    uint16_t ihl4 = (uint16_t)((get_u8(v, ip_off) & 0x0f) * 4);
    uint16_t tot_len = get_be16(v, ip_off + 2);
    uint16_t l4len = (uint16_t)(tot_len - ihl4); /* wraps when tot_len < ihl*4, as NFStream */

    if (ipsize < 20 || ihl4 > ipsize)
        return DEC_IPV4_BAD_HEADER;
    if ((uint32_t)(tot_len > ipsize ? tot_len : ipsize) < (uint32_t)ihl4 + l4len)
        return DEC_IPV4_BAD_LENGTH;
    m->protocol = get_u8(v, ip_off + 9);
    m->ip_version = 4;
    memset(m->src_ip, 0, sizeof(m->src_ip));
    memset(m->dst_ip, 0, sizeof(m->dst_ip));
    get_bytes(v, ip_off + 12, m->src_ip, 4);
    get_bytes(v, ip_off + 16, m->dst_ip, 4);
    m->ip_size = tot_len;
    m->ip_octets = tot_len;
    m->tos = get_u8(v, ip_off + 1);
    m->ttl = get_u8(v, ip_off + 8);
    m->frag_flags = get_u8(v, ip_off + 6) & 0x60; /* DF, MF; the reserved bit is not exported */
    parse_l4(v, m->protocol, ip_off + ihl4, l4len, m);
    return DEC_OK;
}

/* NFStream's packet_get_ipv6_info(): IPv6 header at ip_off, ip_size is the payload length. */
static enum dec_result
parse_ipv6(const struct view *v, uint32_t ip_off, uint16_t ipsize, struct pkt_meta *m)
{
    if (ipsize < 40)
        return DEC_IPV6_SHORT;
    uint8_t nxt = get_u8(v, ip_off + 6);
    uint16_t plen = get_be16(v, ip_off + 4);
    uint16_t l4len = plen;
    uint32_t l4off = ip_off + 40;
    if (ipsize < 40u + plen)
        return DEC_IPV6_TRUNCATED;
    m->frag_flags = 0;
    if (ipv6_ext_headers(v, (uint32_t)ipsize - 40, &l4off, &l4len, &nxt, &m->frag_flags) != 0)
        return DEC_IPV6_EXT_HDR;
    m->protocol = nxt;
    m->ip_version = 6;
    get_bytes(v, ip_off + 8, m->src_ip, 16);
    get_bytes(v, ip_off + 24, m->dst_ip, 16);
    m->ip_size = plen;
    m->ip_octets = 40u + plen;
    m->tos = (uint8_t)((get_u8(v, ip_off) & 0x0f) << 4 | get_u8(v, ip_off + 1) >> 4);
    m->ttl = get_u8(v, ip_off + 7);
    parse_l4(v, nxt, l4off, l4len, m);
    return DEC_OK;
}

bool
dec_dlt_supported(int dlt)
{
    switch (dlt) {
    case DLT_NULL:
    case DLT_PPP_SERIAL:
    case DLT_C_HDLC:
    case DLT_PPP:
    case DEC_DLT_IPV4:
    case DEC_DLT_IPV6:
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_IEEE802_11_RADIO:
    case DLT_RAW:
        return true;
    default:
        return false;
    }
}

enum dec_result
dec_packet(int dlt, const uint8_t *bytes, uint32_t caplen, uint32_t wirelen, bool decode_tunnels,
           struct pkt_meta *m)
{
    const struct view v = {bytes, caplen};
    const struct view *vp = &v;
    /* Function-scope state on purpose: NFStream keeps type/pyld_eth_len/wifi_len across a
     * TZSP re-parse, and frag_off/proto are only refreshed when type says IPv4. */
    uint32_t eth_off = 0, ip_off = 0;
    uint16_t type = 0, ip_len = 0, frag_off = 0, vlan_id = 0;
    uint32_t pyld_eth_len = 0, wifi_len = 0;
    uint8_t proto = 0, tunnel_id = PKT_TUNNEL_NONE;
    int is_v6 = 0;
    unsigned depth = 0, n_tags = 0;

    memset(m->src_mac, 0, 6);
    memset(m->dst_mac, 0, 6);
    m->hashed = 0;
    m->raw_size = (uint16_t)wirelen;
    m->wire_len = wirelen;

datalink_check:
    if (++depth > DEC_MAX_DEPTH)
        return DEC_TOO_DEEP;
    /* Tags and labels are the frame's that carries the flow: a TZSP re-parse starts again. */
    m->vlan_outer = m->vlan_inner = 0;
    m->mpls_n = 0;
    n_tags = 0;
    if (caplen < eth_off + 28) /* 28 = minimal IP + UDP */
        return DEC_L2_SHORT;
    switch (dlt) {
    case DLT_NULL:
        /* Quirk: only a big-endian AF_INET (00 00 00 02) is IPv4; everything else is "IPv6". */
        type = get_be32(vp, eth_off) == 2 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
        ip_off = eth_off + 4;
        break;
    case DLT_PPP_SERIAL:
        type = get_be16(vp, eth_off + 2);
        ip_off = eth_off + 4;
        break;
    case DLT_C_HDLC:
    case DLT_PPP:
        /* Quirk: the address test looks at absolute byte 0, not at eth_off. */
        if (bytes[0] == 0x0f || bytes[0] == 0x8f) {
            type = get_be16(vp, eth_off + 2);
            ip_off = eth_off + 4;
        } else {
            type = get_be16(vp, eth_off);
            ip_off = eth_off + 2;
        }
        break;
    case DEC_DLT_IPV4:
        type = ETHERTYPE_IPV4;
        ip_off = eth_off;
        break;
    case DEC_DLT_IPV6:
        type = ETHERTYPE_IPV6;
        ip_off = eth_off;
        break;
    case DLT_EN10MB: {
        get_bytes(vp, eth_off, m->dst_mac, 6);
        get_bytes(vp, eth_off + 6, m->src_mac, 6);
        ip_off = eth_off + 14;
        uint16_t check = get_be16(vp, eth_off + 12);
        if (check <= 1500)
            pyld_eth_len = check;
        else if (check >= 1536)
            type = check;
        if (pyld_eth_len != 0) {
            uint8_t dsap = get_u8(vp, ip_off), ssap = get_u8(vp, ip_off + 1);
            if (dsap == 0xaa || ssap == 0xaa) {
                /* Quirk: SNAP proto_ID is taken in host (little-endian) order. */
                type = get_le16(vp, ip_off + 6);
                ip_off += 8;
            } else if (dsap == 0x42 || ssap == 0x42) {
                return DEC_LLC_STP;
            }
        }
        break;
    }
    case DLT_LINUX_SLL:
        type = get_be16(vp, eth_off + 14);
        ip_off = eth_off + 16;
        break;
    case DLT_IEEE802_11_RADIO: {
        uint16_t radio_len = get_le16(vp, eth_off + 2);
        if ((get_u8(vp, eth_off + 16) & 0x50) == 0x50) /* bad FCS */
            return DEC_WIFI_SKIPPED;
        if (caplen < eth_off + radio_len + 24)
            return DEC_WIFI_SKIPPED;
        uint32_t wifi = eth_off + radio_len;
        uint16_t fc = get_le16(vp, wifi);
        if (((fc >> 2) & 0x3) != 0x2) /* not a data frame */
            return DEC_WIFI_SKIPPED;
        /* Quirk: 26 only when exactly one of ToDS/FromDS is set, else unchanged (0). */
        if (((fc & 0x0100) != 0) != ((fc & 0x0200) != 0))
            wifi_len = 26;
        get_bytes(vp, wifi + 10, m->src_mac, 6); /* addr2, transmitter */
        get_bytes(vp, wifi + 16, m->dst_mac, 6); /* addr3 (quirk: not addr1) */
        if (caplen < eth_off + wifi_len + radio_len + 8)
            return DEC_WIFI_SKIPPED;
        uint32_t llc = eth_off + wifi_len + radio_len;
        if (get_u8(vp, llc) == 0xaa)
            type = get_be16(vp, llc + 6);
        ip_off = llc + 8;
        break;
    }
    case DLT_RAW:
        ip_off = eth_off;
        if (caplen > eth_off) {
            uint8_t ver = bytes[eth_off] >> 4;
            if (ver == 4)
                type = ETHERTYPE_IPV4;
            if (ver == 6)
                type = ETHERTYPE_IPV6;
        }
        break;
    default:
        return DEC_UNSUPPORTED_DLT;
    }

    /* The ethertype loop: VLAN, MPLS and PPPoE until another type shows up. */
    for (;;) {
        if (++depth > DEC_MAX_DEPTH)
            return DEC_TOO_DEEP;
        if (type == ETHERTYPE_VLAN) {
            if (ip_off + 4 >= caplen)
                return DEC_VLAN_SHORT;
            vlan_id = get_be16(vp, ip_off) & 0x0fff;
            note_vlan(m, &n_tags, vlan_id);
            type = get_be16(vp, ip_off + 2);
            ip_off += 4;
            /* Quirk: vlan_id ends as the innermost tag's. Each tag advances, so this ends. */
            while (type == ETHERTYPE_VLAN && ip_off + 4 < caplen) {
                vlan_id = get_be16(vp, ip_off) & 0x0fff;
                note_vlan(m, &n_tags, vlan_id);
                type = get_be16(vp, ip_off + 2);
                ip_off += 4;
            }
        } else if (type == ETHERTYPE_MPLS_UC || type == ETHERTYPE_MPLS_MC) {
            if (ip_off + 4 >= caplen)
                return DEC_MPLS_SHORT;
            uint32_t label = get_be32(vp, ip_off);
            note_mpls(m, label);
            type = ETHERTYPE_IPV4; /* IPv6 still works: the version nibble decides */
            ip_off += 4;
            while (!((label >> 8) & 1) && ip_off + 4 < caplen) {
                label = get_be32(vp, ip_off);
                note_mpls(m, label);
                ip_off += 4;
            }
        } else if (type == ETHERTYPE_PPPOE) {
            type = ETHERTYPE_IPV4; /* the PPP protocol field is not checked */
            ip_off += 8;
        } else {
            break;
        }
    }

iph_check:
    if (++depth > DEC_MAX_DEPTH)
        return DEC_TOO_DEEP;
    if (caplen < ip_off + 20)
        return DEC_IP_SHORT;
    /* Quirk: fragment offset and protocol are read only when the L2 type said IPv4. */
    if (type == ETHERTYPE_IPV4) {
        frag_off = get_be16(vp, ip_off + 6);
        proto = get_u8(vp, ip_off + 9);
    }
    uint8_t version = get_u8(vp, ip_off) >> 4;
    if (version == 4) {
        ip_len = (uint16_t)((get_u8(vp, ip_off) & 0x0f) * 4);
        is_v6 = 0;
        uint8_t p = get_u8(vp, ip_off + 9);
        /* IP-in-IP is always decapsulated, tunnel_id stays 0. */
        if (p == 41 || p == 4) {
            ip_off += ip_len;
            if (ip_len > 0)
                goto iph_check;
        }
        if ((frag_off & 0x1fff) != 0)
            return DEC_IPV4_FRAGMENT;
    } else if (version == 6) {
        if (caplen < ip_off + 40)
            return DEC_IPV6_SHORT;
        proto = get_u8(vp, ip_off + 6);
        ip_len = get_be16(vp, ip_off + 4);
        if (caplen < ip_off + 40 + ip_len)
            return DEC_IPV6_TRUNCATED;
        uint32_t l4off = ip_off + 40;
        uint16_t ipsize = (uint16_t)(caplen - ip_off);
        uint8_t frag_flags = 0; /* parse_ipv6() reads them again for the final header */
        if (ipv6_ext_headers(vp, (uint16_t)(ipsize - 40), &l4off, &ip_len, &proto,
                             &frag_flags) != 0)
            return DEC_IPV6_EXT_HDR;
        if (proto == 41 || proto == 4) {
            ip_off = l4off;
            goto iph_check;
        }
        is_v6 = 1;
    } else {
        return DEC_NON_IP;
    }

    if (decode_tunnels && proto == 17) {
        /* Quirk: for IPv6 ip_len is the payload length, so these "ports" are arbitrary bytes. */
        uint32_t udp = ip_off + ip_len;
        if (caplen < udp + 8)
            return DEC_TUNNEL_SHORT;
        uint16_t sport = get_be16(vp, udp), dport = get_be16(vp, udp + 2);
        if ((sport == PORT_GTP_U || dport == PORT_GTP_U) && udp + 8 + 8 < caplen) {
            uint32_t off = udp + 8;
            uint8_t flags = get_u8(vp, off);
            if ((flags & 0xe0) >> 5 == 1 && get_u8(vp, off + 1) == 0xff) { /* GTPv1 T-PDU */
                int ext_error = 0;
                off += 8;
                if (flags & 0x07)
                    off += 4;
                if (flags & 0x04) {
                    while (off < caplen) {
                        uint32_t ext_len = (uint32_t)get_u8(vp, off) << 2;
                        off += ext_len;
                        if (off >= caplen || ext_len == 0) {
                            ext_error = 1;
                            break;
                        }
                        if (get_u8(vp, off - 1) == 0)
                            break;
                    }
                }
                if (off < caplen && !ext_error) {
                    tunnel_id = PKT_TUNNEL_GTP;
                    ip_off = off;
                    uint8_t iv = get_u8(vp, ip_off) >> 4;
                    if (iv == 6) {
                        if (caplen < ip_off + 40)
                            return DEC_GTP_BAD_INNER;
                        is_v6 = 1;
                    } else if (iv != 4) {
                        return DEC_GTP_BAD_INNER;
                    } else {
                        if (caplen < ip_off + 20)
                            return DEC_GTP_BAD_INNER;
                        is_v6 = 0;
                    }
                }
            }
        } else if (sport == PORT_TZSP || dport == PORT_TZSP) {
            if (caplen < udp + 8 + 4)
                return DEC_TUNNEL_SHORT;
            uint32_t off = udp + 8;
            /* Quirk: tunnel_id is TZSP even when the payload is not decapsulated. */
            tunnel_id = PKT_TUNNEL_TZSP;
            if (get_u8(vp, off) == 1 && get_u8(vp, off + 1) == 0 && get_be16(vp, off + 2) == 1) {
                off += 4;
                if (off < caplen) {
                    /* NFStream skips exactly one tag, then re-parses with the capture's DLT. */
                    uint8_t tag = get_u8(vp, off);
                    uint32_t tag_len;
                    if (tag == 0 || tag == 1) {
                        tag_len = 1;
                    } else {
                        if (off + 1 >= caplen)
                            return DEC_TUNNEL_SHORT;
                        tag_len = 2u + get_u8(vp, off + 1);
                    }
                    off += tag_len;
                    if (off >= caplen)
                        return DEC_TUNNEL_SHORT;
                    eth_off = off;
                    goto datalink_check;
                }
            }
        } else if (sport == PORT_CAPWAP_DATA || dport == PORT_CAPWAP_DATA) {
            uint32_t off = udp + 8;
            if (off + 1 < caplen && (get_u8(vp, off) & 0x0f) == 0) {
                off += (get_u8(vp, off + 1) & 0xf8) >> 1; /* HLEN */
                if (off + 32 < caplen) {
                    get_bytes(vp, off + 10, m->src_mac, 6);
                    get_bytes(vp, off + 16, m->dst_mac, 6);
                    off += 24;
                    type = get_be16(vp, off + 6); /* LLC/SNAP ethertype */
                    ip_off = off + 8;
                    tunnel_id = PKT_TUNNEL_CAPWAP;
                    goto iph_check;
                }
            }
        }
    }

    m->tunnel_id = tunnel_id;
    m->vlan_id = vlan_id;
    m->ip_pkt = bytes + ip_off;
    m->ip_caplen = caplen - ip_off;
    /* NFStream passes caplen - ip_offset through a uint16 (ipsize); keep that width. */
    uint16_t ipsize = (uint16_t)(caplen - ip_off);
    return is_v6 ? parse_ipv6(vp, ip_off, ipsize, m) : parse_ipv4(vp, ip_off, ipsize, m);
}

const char *
dec_result_name(enum dec_result r)
{
    static const char *const names[DEC_NRESULTS] = {
        [DEC_OK] = "metered",
        [DEC_L2_SHORT] = "l2_short",
        [DEC_UNSUPPORTED_DLT] = "unsupported_linktype",
        [DEC_WIFI_SKIPPED] = "wifi_skipped",
        [DEC_LLC_STP] = "llc_stp",
        [DEC_VLAN_SHORT] = "vlan_short",
        [DEC_MPLS_SHORT] = "mpls_short",
        [DEC_IP_SHORT] = "ip_short",
        [DEC_NON_IP] = "non_ip",
        [DEC_IPV4_FRAGMENT] = "ipv4_fragment",
        [DEC_IPV4_BAD_HEADER] = "ipv4_bad_header",
        [DEC_IPV4_BAD_LENGTH] = "ipv4_bad_length",
        [DEC_IPV6_SHORT] = "ipv6_short",
        [DEC_IPV6_TRUNCATED] = "ipv6_truncated",
        [DEC_IPV6_EXT_HDR] = "ipv6_ext_header",
        [DEC_TUNNEL_SHORT] = "tunnel_short",
        [DEC_GTP_BAD_INNER] = "gtp_bad_inner",
        [DEC_TOO_DEEP] = "too_many_layers",
    };
    return (unsigned)r < DEC_NRESULTS ? names[r] : "unknown";
}
