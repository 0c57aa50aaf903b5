/*
 * apps.c - application bytes (see apps.h): TLS, DNS, SSH and NTP messages built field by field
 * as real implementations send them, so DPI sees genuine first payloads, and the sample's
 * application exchanges played over gen.c's conversations.
 */
#include "apps.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------ application bytes */

const char *const g_user_agent =
    "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0";

/* A TLS 1.3 ClientHello as Firefox sends it: SNI, ALPN h2/http1.1, supported_versions. */
size_t
tls_client_hello(uint8_t *out, size_t cap, struct rng *r, const char *sni)
{
    static const uint16_t suites[] = {0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8,
                                      0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013, 0xc014, 0x009c,
                                      0x009d, 0x002f, 0x0035};
    static const uint16_t groups[] = {0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101};
    static const uint16_t sigalgs[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805,
                                       0x0806, 0x0401, 0x0501, 0x0601, 0x0203};
    struct bb b;
    size_t rec, hs, exts, e, l;

    bb_init(&b, out, cap);
    bb_u8(&b, 0x16);
    bb_u16(&b, 0x0301);
    rec = bb_hole(&b, 2);
    bb_u8(&b, 1);
    hs = bb_hole(&b, 3);
    bb_u16(&b, 0x0303);
    bb_rand(&b, r, 32);
    bb_u8(&b, 32);
    bb_rand(&b, r, 32);
    bb_u16(&b, (uint16_t)sizeof(suites));
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
        bb_u16(&b, suites[i]);
    bb_u8(&b, 1);
    bb_u8(&b, 0);
    exts = bb_hole(&b, 2);
    /* server_name */
    bb_u16(&b, 0x0000);
    e = bb_hole(&b, 2);
    l = bb_hole(&b, 2);
    bb_u8(&b, 0);
    bb_u16(&b, (uint16_t)strlen(sni));
    bb_str(&b, sni);
    bb_len(&b, l, 2);
    bb_len(&b, e, 2);
    /* extended_master_secret, renegotiation_info */
    bb_u16(&b, 0x0017);
    bb_u16(&b, 0);
    bb_u16(&b, 0xff01);
    bb_u16(&b, 1);
    bb_u8(&b, 0);
    /* supported_groups */
    bb_u16(&b, 0x000a);
    bb_u16(&b, (uint16_t)(2 + sizeof(groups)));
    bb_u16(&b, (uint16_t)sizeof(groups));
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        bb_u16(&b, groups[i]);
    /* ec_point_formats: uncompressed */
    bb_u16(&b, 0x000b);
    bb_u16(&b, 2);
    bb_u8(&b, 1);
    bb_u8(&b, 0);
    /* session_ticket (empty) */
    bb_u16(&b, 0x0023);
    bb_u16(&b, 0);
    /* application_layer_protocol_negotiation */
    bb_u16(&b, 0x0010);
    e = bb_hole(&b, 2);
    l = bb_hole(&b, 2);
    bb_u8(&b, 2);
    bb_str(&b, "h2");
    bb_u8(&b, 8);
    bb_str(&b, "http/1.1");
    bb_len(&b, l, 2);
    bb_len(&b, e, 2);
    /* status_request (OCSP) */
    bb_u16(&b, 0x0005);
    bb_u16(&b, 5);
    bb_u8(&b, 1);
    bb_u16(&b, 0);
    bb_u16(&b, 0);
    /* key_share: x25519 */
    bb_u16(&b, 0x0033);
    bb_u16(&b, 2 + 4 + 32);
    bb_u16(&b, 4 + 32);
    bb_u16(&b, 0x001d);
    bb_u16(&b, 32);
    bb_rand(&b, r, 32);
    /* supported_versions: TLS 1.3, 1.2 */
    bb_u16(&b, 0x002b);
    bb_u16(&b, 5);
    bb_u8(&b, 4);
    bb_u16(&b, 0x0304);
    bb_u16(&b, 0x0303);
    /* signature_algorithms */
    bb_u16(&b, 0x000d);
    bb_u16(&b, (uint16_t)(2 + sizeof(sigalgs)));
    bb_u16(&b, (uint16_t)sizeof(sigalgs));
    for (size_t i = 0; i < sizeof(sigalgs) / sizeof(sigalgs[0]); i++)
        bb_u16(&b, sigalgs[i]);
    /* psk_key_exchange_modes: psk_dhe_ke */
    bb_u16(&b, 0x002d);
    bb_u16(&b, 2);
    bb_u8(&b, 1);
    bb_u8(&b, 1);
    /* record_size_limit */
    bb_u16(&b, 0x001c);
    bb_u16(&b, 2);
    bb_u16(&b, 0x4001);
    bb_len(&b, exts, 2);
    bb_len(&b, hs, 3);
    bb_len(&b, rec, 2);
    return b.over ? 0 : b.len;
}

/* An opaque TLS 1.3 record (ApplicationData) of n bytes of ciphertext. */
static void
tls_appdata(struct bb *b, struct rng *r, size_t n)
{
    bb_u8(b, 0x17);
    bb_u16(b, 0x0303);
    bb_u16(b, (uint16_t)n);
    bb_rand(b, r, n);
}

/* ServerHello (TLS 1.3, x25519, the client's session id echoed), ChangeCipherSpec, and the
 * encrypted rest of the server flight as ciphertext of enc bytes. */
size_t
tls_server_flight(uint8_t *out, size_t cap, struct rng *r, const uint8_t *client_hello,
                  size_t enc)
{
    struct bb b;
    size_t rec, hs, exts;

    bb_init(&b, out, cap);
    bb_u8(&b, 0x16);
    bb_u16(&b, 0x0303);
    rec = bb_hole(&b, 2);
    bb_u8(&b, 2);
    hs = bb_hole(&b, 3);
    bb_u16(&b, 0x0303);
    bb_rand(&b, r, 32);
    bb_u8(&b, 32);
    bb_mem(&b, client_hello + 5 + 4 + 2 + 32 + 1, 32);
    bb_u16(&b, 0x1301);
    bb_u8(&b, 0);
    exts = bb_hole(&b, 2);
    bb_u16(&b, 0x002b);
    bb_u16(&b, 2);
    bb_u16(&b, 0x0304);
    bb_u16(&b, 0x0033);
    bb_u16(&b, 4 + 32);
    bb_u16(&b, 0x001d);
    bb_u16(&b, 32);
    bb_rand(&b, r, 32);
    bb_len(&b, exts, 2);
    bb_len(&b, hs, 3);
    bb_len(&b, rec, 2);
    bb_u8(&b, 0x14);
    bb_u16(&b, 0x0303);
    bb_u16(&b, 1);
    bb_u8(&b, 1);
    tls_appdata(&b, r, enc);
    return b.over ? 0 : b.len;
}

static void
dns_name(struct bb *b, const char *name)
{
    while (*name != '\0') {
        const char *dot = strchr(name, '.');
        size_t n = dot != NULL ? (size_t)(dot - name) : strlen(name);
        bb_u8(b, (uint8_t)n);
        bb_mem(b, name, n);
        name += n + (dot != NULL ? 1 : 0);
    }
    bb_u8(b, 0);
}

/* A recursive query, or (addr != NULL) its answer with one A/AAAA record. */
size_t
dns_message(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t qtype,
            const uint8_t *addr)
{
    struct bb b;

    bb_init(&b, out, cap);
    bb_u16(&b, id);
    bb_u16(&b, addr != NULL ? 0x8180 : 0x0100);
    bb_u16(&b, 1);
    bb_u16(&b, addr != NULL ? 1 : 0);
    bb_u16(&b, 0);
    bb_u16(&b, 0);
    dns_name(&b, name);
    bb_u16(&b, qtype);
    bb_u16(&b, 1);
    if (addr != NULL) {
        bb_u16(&b, 0xc00c);
        bb_u16(&b, qtype);
        bb_u16(&b, 1);
        bb_u32(&b, 3600);
        bb_u16(&b, qtype == 28 ? 16 : 4);
        bb_mem(&b, addr, qtype == 28 ? 16 : 4);
    }
    return b.over ? 0 : b.len;
}

/* Wraps an SSH payload in the binary packet format (RFC 4253 section 6, before encryption). */
static void
ssh_packet(struct bb *b, struct rng *r, const uint8_t *payload, size_t n)
{
    size_t pad = 8 - (5 + n) % 8;

    if (pad < 4)
        pad += 8;
    bb_u32(b, (uint32_t)(1 + n + pad));
    bb_u8(b, (uint8_t)pad);
    bb_mem(b, payload, n);
    bb_rand(b, r, pad);
}

static void
ssh_string(struct bb *b, const char *s)
{
    bb_u32(b, (uint32_t)strlen(s));
    bb_str(b, s);
}

/* SSH_MSG_KEXINIT with OpenSSH 9.2's algorithm lists. */
static size_t
ssh_kexinit(uint8_t *out, size_t cap, struct rng *r, bool server)
{
    static const char *const cli_lists[10] = {
        "curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512@openssh.com,"
        "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
        "diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,"
        "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256,ext-info-c",
        "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,"
        "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256",
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
        "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
        "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
        "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
        "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,"
        "umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
        "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
        "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,"
        "umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
        "none,zlib@openssh.com,zlib",
        "none,zlib@openssh.com,zlib",
        "",
        "",
    };
    uint8_t pl[2048];
    struct bb p, b;

    bb_init(&p, pl, sizeof(pl));
    bb_u8(&p, 20);
    bb_rand(&p, r, 16);
    for (int i = 0; i < 10; i++) {
        if (server && i == 0)
            ssh_string(&p, "curve25519-sha256,curve25519-sha256@libssh.org,"
                           "sntrup761x25519-sha512@openssh.com,ecdh-sha2-nistp256,"
                           "ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
                           "diffie-hellman-group-exchange-sha256,"
                           "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,"
                           "diffie-hellman-group14-sha256");
        else if (server && i == 1)
            ssh_string(&p, "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519");
        else if (server && (i == 6 || i == 7))
            ssh_string(&p, "none,zlib@openssh.com");
        else
            ssh_string(&p, cli_lists[i]);
    }
    bb_u8(&p, 0);
    bb_u32(&p, 0);
    bb_init(&b, out, cap);
    ssh_packet(&b, r, pl, p.len);
    return b.over || p.over ? 0 : b.len;
}

/* SSH_MSG_KEX_ECDH_INIT (client) or SSH_MSG_KEX_ECDH_REPLY + SSH_MSG_NEWKEYS (server). */
static size_t
ssh_ecdh(uint8_t *out, size_t cap, struct rng *r, bool server)
{
    uint8_t pl[512];
    struct bb p, b;

    bb_init(&b, out, cap);
    bb_init(&p, pl, sizeof(pl));
    if (!server) {
        bb_u8(&p, 30);
        bb_u32(&p, 32);
        bb_rand(&p, r, 32);
        ssh_packet(&b, r, pl, p.len);
        return b.over ? 0 : b.len;
    }
    bb_u8(&p, 31);
    bb_u32(&p, 4 + 11 + 4 + 32);
    ssh_string(&p, "ssh-ed25519");
    bb_u32(&p, 32);
    bb_rand(&p, r, 32);
    bb_u32(&p, 32);
    bb_rand(&p, r, 32);
    bb_u32(&p, 4 + 11 + 4 + 64);
    ssh_string(&p, "ssh-ed25519");
    bb_u32(&p, 64);
    bb_rand(&p, r, 64);
    ssh_packet(&b, r, pl, p.len);
    pl[0] = 21;
    ssh_packet(&b, r, pl, 1);
    return b.over || p.over ? 0 : b.len;
}

/* NTP seconds since 1900 and 2^-32 fractions of a time in us since 1970. */
static void
ntp_ts(uint8_t *p, uint64_t t_us)
{
    put_be32(p, (uint32_t)(t_us / US_PER_S + 2208988800ULL));
    put_be32(p + 4, (uint32_t)(((t_us % US_PER_S) << 32) / US_PER_S));
}

/* ------------------------------------------------------------------------------ sample apps */

void
app_dns(struct conn *c, const char *name, uint16_t qtype, const char *answer)
{
    uint8_t msg[512], addr[16];
    uint16_t id = (uint16_t)rng_next(c->rng);
    size_t n = dns_message(msg, sizeof(msg), id, name, qtype, NULL);

    udp_send(c, CLI, msg, n);
    c->t += c->rtt + rng_range(c->rng, 100, 2000);
    parse_ip(addr, answer);
    n = dns_message(msg, sizeof(msg), id, name, qtype, addr);
    udp_send(c, SRV, msg, n);
}

void
app_ntp_poll(struct conn *c)
{
    uint8_t p[48];
    uint64_t sent = c->t;

    memset(p, 0, sizeof(p));
    p[0] = 0x23; /* LI 0, version 4, mode 3 (client) */
    p[2] = 6;
    p[3] = 0xe9;
    ntp_ts(p + 40, sent);
    udp_send(c, CLI, p, sizeof(p));
    c->t += c->rtt;
    p[0] = 0x24; /* mode 4 (server) */
    p[1] = 2;
    p[3] = 0xe7;
    put_be32(p + 4, 0x00000120);
    put_be32(p + 8, 0x00000310);
    memcpy(p + 12, "\xcb\x00\x71\x7b", 4); /* reference id: upstream 203.0.113.123 */
    ntp_ts(p + 16, sent - 300 * US_PER_S);
    ntp_ts(p + 24, sent);
    ntp_ts(p + 32, sent + c->rtt / 2);
    ntp_ts(p + 40, sent + c->rtt / 2 + 25);
    udp_send(c, SRV, p, sizeof(p));
}

void
app_ping(struct conn *c, unsigned count)
{
    uint16_t id = (uint16_t)rng_next(c->rng);
    uint8_t data[56];

    for (unsigned i = 1; i <= count; i++) {
        /* Linux ping: a struct timeval, then the 0x10, 0x11, ... pattern. */
        uint64_t sec = c->t / US_PER_S, usec = c->t % US_PER_S;
        for (int k = 0; k < 8; k++) {
            data[k] = (uint8_t)(sec >> (8 * k)); /* little-endian, as on x86 */
            data[8 + k] = (uint8_t)(usec >> (8 * k));
        }
        for (int k = 16; k < 56; k++)
            data[k] = (uint8_t)k;
        icmp_echo(c, CLI, id, (uint16_t)i, data, sizeof(data));
        c->t += c->rtt + rng_range(c->rng, 0, 500);
        icmp_echo(c, SRV, id, (uint16_t)i, data, sizeof(data));
        c->t += US_PER_S - c->rtt;
    }
}

static void
http_date(char *out, size_t n, uint64_t t_us)
{
    time_t s = (time_t)(t_us / US_PER_S);
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* One HTTP/1.1 GET on a fresh connection and its 200 response; the client closes. */
void
app_http(struct conn *c, const char *host, const char *path, unsigned paragraphs)
{
    static char req[1024], resp[16384], body[12288];
    static const char para[] = "<p>This domain is for use in illustrative examples in "
                               "documents. You may use this domain in literature without prior "
                               "coordination or asking for permission.</p>\n";
    char date[64];
    int n;
    size_t blen = 0;

    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                 "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                 "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n"
                 "Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\n\r\n",
                 path, host, g_user_agent);
    blen += (size_t)snprintf(body, sizeof(body),
                             "<!doctype html>\n<html>\n<head>\n<title>Example Domain</title>\n"
                             "<meta charset=\"utf-8\" />\n</head>\n<body>\n<div>\n"
                             "<h1>Example Domain</h1>\n");
    for (unsigned i = 0; i < paragraphs && blen + sizeof(para) + 64 < sizeof(body); i++) {
        memcpy(body + blen, para, sizeof(para) - 1);
        blen += sizeof(para) - 1;
    }
    blen += (size_t)snprintf(body + blen, sizeof(body) - blen, "</div>\n</body>\n</html>\n");

    tcp_open(c);
    c->t += rng_range(c->rng, 100, 400);
    tcp_send(c, CLI, (const uint8_t *)req, (size_t)n);
    c->t += c->rtt + rng_range(c->rng, 300, 3000);
    http_date(date, sizeof(date), c->t);
    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 200 OK\r\nDate: %s\r\nServer: nginx/1.22.1\r\n"
                 "Content-Type: text/html; charset=UTF-8\r\nContent-Length: %zu\r\n"
                 "Last-Modified: Thu, 17 Oct 2019 07:18:26 GMT\r\nConnection: keep-alive\r\n"
                 "Accept-Ranges: bytes\r\n\r\n",
                 date, blen);
    memcpy(resp + n, body, blen);
    tcp_send(c, SRV, (const uint8_t *)resp, (size_t)n + blen);
    c->t += rng_range(c->rng, 2, 6) * US_PER_S;
    tcp_close(c, CLI);
}

/* A TLS 1.3 session: ClientHello with SNI, the server flight, Finished + request, response,
 * close_notify, FIN. */
void
app_tls(struct conn *c, const char *sni)
{
    static uint8_t hello[1024], buf[8192];
    struct bb b;
    size_t n;

    tcp_open(c);
    c->t += rng_range(c->rng, 200, 600);
    n = tls_client_hello(hello, sizeof(hello), c->rng, sni);
    tcp_send(c, CLI, hello, n);
    c->t += c->rtt + rng_range(c->rng, 500, 2500);
    n = tls_server_flight(buf, sizeof(buf), c->rng, hello, rng_range(c->rng, 2300, 3200));
    tcp_send(c, SRV, buf, n);
    c->t += rng_range(c->rng, 1000, 4000);
    bb_init(&b, buf, sizeof(buf));
    bb_u8(&b, 0x14);
    bb_u16(&b, 0x0303);
    bb_u16(&b, 1);
    bb_u8(&b, 1);
    tls_appdata(&b, c->rng, 53);
    tls_appdata(&b, c->rng, rng_range(c->rng, 90, 400));
    tcp_send(c, CLI, buf, b.len);
    c->t += c->rtt + rng_range(c->rng, 2000, 8000);
    bb_init(&b, buf, sizeof(buf));
    tls_appdata(&b, c->rng, 249);
    tls_appdata(&b, c->rng, 249);
    tls_appdata(&b, c->rng, rng_range(c->rng, 1200, 5000));
    tcp_send(c, SRV, buf, b.len);
    c->t += rng_range(c->rng, 1, 4) * US_PER_S;
    bb_init(&b, buf, sizeof(buf));
    tls_appdata(&b, c->rng, 19);
    tcp_send(c, CLI, buf, b.len);
    c->t += 200;
    tcp_close(c, CLI);
}

/* An interactive OpenSSH session: banners, KEXINIT, ECDH, NEWKEYS, then encrypted packets
 * (chacha20-poly1305 sizes) and a server-side close after "exit". */
void
app_ssh(struct conn *c, unsigned keystrokes)
{
    static const char banner[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
    static uint8_t buf[4096];
    /* Sizes of the encrypted exchange: service request/accept, userauth, channel, shell. */
    static const uint16_t login[][2] = {{CLI, 44},  {SRV, 44},  {CLI, 60},  {SRV, 52},
                                        {CLI, 396}, {SRV, 356}, {CLI, 628}, {SRV, 28},
                                        {CLI, 112}, {SRV, 620}, {CLI, 396}, {SRV, 44},
                                        {SRV, 500}, {SRV, 100}};
    size_t n;

    tcp_open(c);
    c->t += 150;
    tcp_send(c, CLI, (const uint8_t *)banner, sizeof(banner) - 1);
    c->t += c->rtt + rng_range(c->rng, 1000, 4000);
    tcp_send(c, SRV, (const uint8_t *)banner, sizeof(banner) - 1);
    c->t += rng_range(c->rng, 200, 600);
    n = ssh_kexinit(buf, sizeof(buf), c->rng, false);
    tcp_send(c, CLI, buf, n);
    c->t += rng_range(c->rng, 100, 400);
    n = ssh_kexinit(buf, sizeof(buf), c->rng, true);
    tcp_send(c, SRV, buf, n);
    c->t += rng_range(c->rng, 300, 900);
    n = ssh_ecdh(buf, sizeof(buf), c->rng, false);
    tcp_send(c, CLI, buf, n);
    c->t += c->rtt + rng_range(c->rng, 1000, 3000);
    n = ssh_ecdh(buf, sizeof(buf), c->rng, true);
    tcp_send(c, SRV, buf, n);
    c->t += rng_range(c->rng, 500, 1500);
    /* NEWKEYS, then the first encrypted packet in the same segment. */
    {
        struct bb b;
        uint8_t nk = 21;
        bb_init(&b, buf, sizeof(buf));
        ssh_packet(&b, c->rng, &nk, 1);
        bb_rand(&b, c->rng, 44);
        tcp_send(c, CLI, buf, b.len);
    }
    for (size_t i = 0; i < sizeof(login) / sizeof(login[0]); i++) {
        int dir = login[i][0];
        c->t += dir == SRV ? c->rtt : rng_range(c->rng, 2000, 30000);
        rng_fill(c->rng, buf, login[i][1]);
        tcp_send(c, dir, buf, login[i][1]);
    }
    for (unsigned k = 0; k < keystrokes; k++) {
        c->t += rng_range(c->rng, 150000, 1500000);
        rng_fill(c->rng, buf, 36);
        tcp_send(c, CLI, buf, 36);
        c->t += c->rtt;
        n = k % 6 == 5 ? rng_range(c->rng, 100, 1800) : 36;
        rng_fill(c->rng, buf, n);
        tcp_send(c, SRV, buf, n);
    }
    c->t += rng_range(c->rng, 10000, 50000);
    rng_fill(c->rng, buf, 180);
    tcp_send(c, SRV, buf, 180);
    c->t += 3000;
    tcp_close(c, SRV);
}
