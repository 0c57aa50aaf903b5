/*
 * sample.c - the bundled sample capture (see sample.h). Conversations are generated one after
 * the other into memory, then sorted by time and written, so each reads top to bottom here.
 */
#include "sample.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "apps.h"
#include "gen.h"

/* ---------------------------------------------------------------------------- sample capture */

#define SAMPLE_T0 (1709294400ULL * US_PER_S) /* 2024-03-01 12:00:00 UTC */
#define SAMPLE_MAXREC 4096
#define SAMPLE_ARENA (2u << 20)

static const uint8_t g_mac_apple[6] = {0xf0, 0x18, 0x98, 0x4d, 0x5e, 0x6f}; /* Apple */
static const uint8_t g_mac_rpi[6] = {0xdc, 0xa6, 0x32, 0x07, 0x18, 0x29};   /* Raspberry Pi */
static const uint8_t g_mac_dell[6] = {0x00, 0x1a, 0xa0, 0x3a, 0x4b, 0x5c};  /* Dell */

static uint16_t
eph_port(struct rng *r)
{
    return (uint16_t)rng_range(r, 32768, 60999);
}

static uint64_t
at(double seconds)
{
    return SAMPLE_T0 + (uint64_t)(seconds * 1e6);
}

int
gen_sample(const char *path, char *err, size_t errlen)
{
    static struct rec recs[SAMPLE_MAXREC];
    static uint8_t arena[SAMPLE_ARENA];
    struct sink s = {.recs = recs, .max = SAMPLE_MAXREC, .arena = arena, .cap = SAMPLE_ARENA};
    struct rng r = {0x73616d706c65ULL};
    struct conn c;
    struct pw w;
    int rc;

    /* A workstation resolves and fetches www.example.com over HTTP. */
    conn_init(&c, &s, &r, 17, g_mac_intel, "192.0.2.10", eph_port(&r), g_gw_mac,
              "198.51.100.53", 53, at(0.100), 11000);
    app_dns(&c, "www.example.com", 1, "203.0.113.10");
    conn_init(&c, &s, &r, 17, g_mac_intel, "192.0.2.10", eph_port(&r), g_gw_mac,
              "198.51.100.53", 53, at(0.101), 11000);
    app_dns(&c, "www.example.com", 28, "2001:db8:80::10");
    conn_init(&c, &s, &r, 6, g_mac_intel, "192.0.2.10", eph_port(&r), g_gw_mac, "203.0.113.10",
              80, at(0.140), 24000);
    app_http(&c, "www.example.com", "/", 12);

    /* ntpd polls with source port 123: the 128 s gap exceeds the 120 s idle timeout, so the
     * third poll starts a second flow. */
    conn_init(&c, &s, &r, 17, g_mac_rpi, "192.0.2.12", 123, g_gw_mac, "198.51.100.123", 123,
              at(2.0), 18000);
    app_ntp_poll(&c);
    c.t = at(66.0);
    app_ntp_poll(&c);
    c.t = at(194.0);
    app_ntp_poll(&c);

    conn_init(&c, &s, &r, 1, g_mac_intel, "192.0.2.10", 0, g_gw_mac, "203.0.113.10", 0,
              at(3.0), 23000);
    app_ping(&c, 4);

    /* A laptop: DNS, then HTTPS to www.example.com. */
    conn_init(&c, &s, &r, 17, g_mac_apple, "192.0.2.11", eph_port(&r), g_gw_mac,
              "198.51.100.53", 53, at(9.500), 9000);
    app_dns(&c, "www.example.com", 1, "203.0.113.10");
    conn_init(&c, &s, &r, 6, g_mac_apple, "192.0.2.11", eph_port(&r), g_gw_mac, "203.0.113.10",
              443, at(9.515), 24000);
    app_tls(&c, "www.example.com");

    /* An admin session over SSH. */
    conn_init(&c, &s, &r, 6, g_mac_rpi, "192.0.2.12", eph_port(&r), g_gw_mac, "203.0.113.22", 22,
              at(21.0), 31000);
    app_ssh(&c, 24);

    /* IPv6: AAAA lookup and HTTP over IPv6. */
    conn_init(&c, &s, &r, 17, g_mac_dell, "2001:db8:100::10", eph_port(&r), g_gw_mac,
              "2001:db8:53::53", 53, at(35.0), 8000);
    app_dns(&c, "www.example.com", 28, "2001:db8:80::10");
    conn_init(&c, &s, &r, 6, g_mac_dell, "2001:db8:100::10", eph_port(&r), g_gw_mac,
              "2001:db8:80::10", 80, at(35.012), 27000);
    app_http(&c, "www.example.com", "/index.html", 8);

    /* A host on VLAN 100 (tagged both ways on the trunk). */
    conn_init(&c, &s, &r, 6, g_mac_dell, "192.0.2.30", eph_port(&r), g_gw_mac, "198.51.100.80",
              80, at(52.0), 15000);
    c.vlan = 100;
    app_http(&c, "www.example.org", "/", 4);

    conn_init(&c, &s, &r, 17, g_mac_apple, "192.0.2.13", eph_port(&r), g_gw_mac,
              "198.51.100.53", 53, at(70.0), 9000);
    app_dns(&c, "www.example.net", 1, "203.0.113.30");
    conn_init(&c, &s, &r, 6, g_mac_apple, "192.0.2.13", eph_port(&r), g_gw_mac, "203.0.113.30",
              443, at(70.012), 35000);
    app_tls(&c, "www.example.net");

    conn_init(&c, &s, &r, 17, g_mac_intel, "192.0.2.10", eph_port(&r), g_gw_mac,
              "198.51.100.53", 53, at(110.0), 10000);
    app_dns(&c, "www.example.org", 1, "198.51.100.80");
    conn_init(&c, &s, &r, 6, g_mac_intel, "192.0.2.10", eph_port(&r), g_gw_mac, "198.51.100.80",
              80, at(110.013), 15000);
    app_http(&c, "www.example.org", "/about/", 6);

    conn_init(&c, &s, &r, 1, g_mac_apple, "192.0.2.11", 0, g_gw_mac, "198.51.100.1", 0,
              at(150.0), 2000);
    app_ping(&c, 3);

    conn_init(&c, &s, &r, 6, g_mac_apple, "192.0.2.11", eph_port(&r), g_gw_mac, "203.0.113.10",
              443, at(162.0), 24000);
    app_tls(&c, "www.example.com");

    conn_init(&c, &s, &r, 17, g_mac_dell, "2001:db8:100::10", eph_port(&r), g_gw_mac,
              "2001:db8:53::53", 53, at(185.0), 8000);
    app_dns(&c, "www.example.net", 28, "2001:db8:80::30");
    conn_init(&c, &s, &r, 17, g_mac_rpi, "192.0.2.12", eph_port(&r), g_gw_mac, "198.51.100.53",
              53, at(199.2), 12000);
    app_dns(&c, "example.com", 1, "203.0.113.10");

    if (s.overflow) {
        snprintf(err, errlen, "%s: sample outgrew its buffers", path);
        return -ENOBUFS;
    }
    qsort(recs, s.n, sizeof(recs[0]), rec_cmp);
    if ((rc = pw_open(&w, path, DLT_EN10MB, SNAPLEN_MAX, err, errlen)) != 0)
        return rc;
    for (size_t i = 0; i < s.n; i++)
        pw_packet(&w, recs[i].ts, arena + recs[i].off, recs[i].caplen, recs[i].len);
    return pw_close(&w, path, err, errlen);
}
