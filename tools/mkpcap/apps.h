/*
 * apps.h - application bytes for mkpcap: the payloads DPI must recognise (TLS, DNS) built as
 * real clients and servers send them, and the sample's whole application exchanges (DNS, NTP,
 * ping, HTTP, TLS, SSH) played over a struct conn.
 */
#ifndef MKPCAP_APPS_H
#define MKPCAP_APPS_H

#include <stddef.h>
#include <stdint.h>

#include "gen.h"

/* Firefox 115's User-Agent, for every HTTP request. */
extern const char *const g_user_agent;

/* ------------------------------------------------------------------------ application bytes */

/* A TLS 1.3 ClientHello as Firefox sends it (SNI, ALPN h2/http1.1, supported_versions) into
 * out; returns its length, 0 if cap is too small. */
size_t
tls_client_hello(uint8_t *out, size_t cap, struct rng *r, const char *sni);

/* ServerHello (TLS 1.3, x25519, the client's session id echoed), ChangeCipherSpec, and the
 * encrypted rest of the server flight as ciphertext of enc bytes; returns the length, 0 if cap
 * is too small. */
size_t
tls_server_flight(uint8_t *out, size_t cap, struct rng *r, const uint8_t *client_hello,
                  size_t enc);

/* A recursive query, or (addr != NULL) its answer with one A/AAAA record; returns the length,
 * 0 if cap is too small. */
size_t
dns_message(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t qtype,
            const uint8_t *addr);

/* ------------------------------------------------------------------------------ sample apps */

/* A DNS query for name (qtype 1 or 28) and its answer `answer` (an address literal). */
void
app_dns(struct conn *c, const char *name, uint16_t qtype, const char *answer);

/* One NTPv4 client poll and the server's reply. */
void
app_ntp_poll(struct conn *c);

/* count Linux ping echo requests and replies, one second apart. */
void
app_ping(struct conn *c, unsigned count);

/* One HTTP/1.1 GET on a fresh connection and its 200 response; the client closes. */
void
app_http(struct conn *c, const char *host, const char *path, unsigned paragraphs);

/* A TLS 1.3 session: ClientHello with SNI, the server flight, Finished + request, response,
 * close_notify, FIN. */
void
app_tls(struct conn *c, const char *sni);

/* An interactive OpenSSH session with `keystrokes` echoed keystrokes; the server closes. */
void
app_ssh(struct conn *c, unsigned keystrokes);

#endif
