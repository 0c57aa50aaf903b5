/*
 * transport.h - sending export messages to one collector over UDP, TCP or TLS.
 *
 * The only module that includes OpenSSL's TLS headers. Nothing here blocks: connects are
 * non-blocking with exponential backoff, TCP/TLS output goes through a bounded buffer drained
 * by tx_poll(), which the caller's event loop runs when tx_fd() is ready for tx_interest() or
 * at tx_next_ms(). Sent means acknowledged by the collector's TCP (SIOCOUTQ). The transport carries whole messages; it knows nothing of IPFIX or NetFlow,
 * except that each message carries a number of records, so that loss can be counted in
 * records (notSent*) as well as messages and octets.
 */
#ifndef NFPROBE_TRANSPORT_H
#define NFPROBE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum tx_proto { TX_UDP, TX_TCP, TX_TLS };

struct tx_config {
    enum tx_proto proto;
    const char *host;          /* name or address literal */
    const char *port;          /* service or number */
    const char *tls_ca;        /* CA file the collector's chain must verify against */
    const char *tls_cert;      /* our client certificate (mutual authentication) */
    const char *tls_key;       /* its private key */
    size_t queue_bytes;        /* TCP/TLS output buffer bound (default 4 MiB if 0) */
    uint32_t backoff_min_ms;   /* first reconnect delay (default 1000 if 0) */
    uint32_t backoff_max_ms;   /* cap of the doubling delay (default 60000 if 0) */
    const char *source;        /* local address literal to send from (bound), NULL = any */
};

struct tx_stats {
    uint64_t messages_sent;
    uint64_t octets_sent;
    uint64_t records_sent;
    uint64_t messages_lost;    /* not sent: queue full, send error, connection lost mid-queue */
    uint64_t octets_lost;
    uint64_t records_lost;
    uint64_t send_errors;      /* failed sendto/write calls */
    uint64_t connects;         /* sessions established */
    uint64_t connect_failures; /* failed connects and TLS handshakes (verification included) */
    uint64_t tls_verify_failures;
};

/* Events tx_poll() reports. */
enum {
    TX_EV_UP = 1,   /* a new transport session is up: send templates before any data */
    TX_EV_DOWN = 2, /* the session went down (its unsent queue was counted as lost) */
    TX_EV_FAIL = 4, /* a connect or TLS handshake attempt failed; tx_last_error() says why */
};

struct tx_peer;

/*
 * Prepares a peer (resolves the name, loads TLS material, opens the UDP socket). Does not wait
 * for TCP/TLS to connect. Returns NULL with a one-line err naming the peer or file.
 */
struct tx_peer *tx_open(const struct tx_config *c, char *err, size_t errlen);

/* Human-readable peer name, e.g. "tls://127.0.0.1:4740" or "udp://[::1]:4739". */
const char *tx_name(const struct tx_peer *p);

/*
 * One line naming the peer and why its last connect, handshake, send or session failed
 * ("tls://127.0.0.1:4740: TLS handshake: certificate verify failed: certificate has expired"),
 * or "" if nothing failed yet. The transport logs nothing itself: the caller logs this,
 * rate-limited, on TX_EV_FAIL, TX_EV_DOWN or a failed tx_send(). Valid until the next call.
 */
const char *tx_last_error(const struct tx_peer *p);

/* True when a message of len bytes can be handed over now (session up and room queued). */
bool tx_can_send(const struct tx_peer *p, size_t len);

/*
 * Hands over one whole message carrying `records` records. UDP sends it at once; TCP/TLS
 * queue it. Never blocks. Returns 0, or a negative errno when it was not accepted (counted as
 * lost): UDP the send error (-ECONNREFUSED after an ICMP unreachable, -EAGAIN, ...), TCP/TLS
 * -ENOTCONN (no session), -ENOBUFS (queue full) or -EMSGSIZE (larger than the queue).
 * -EINVAL for an empty message, which is not counted.
 */
int tx_send(struct tx_peer *p, const uint8_t *msg, size_t len, uint32_t records);

/*
 * Makes progress: connects, handshakes, writes queued bytes, reconnects after backoff.
 * now_ms is a monotonic clock. Returns a mask of TX_EV_* that happened. UDP reports TX_EV_UP
 * once, at the first call, and nothing after.
 */
int tx_poll(struct tx_peer *p, uint64_t now_ms);

/* Bytes still queued (TCP/TLS), not yet written to the socket. */
size_t tx_pending(const struct tx_peer *p);
/* True while messages are queued or written but not yet acknowledged by the peer. */
bool tx_unacked(const struct tx_peer *p);

/* What tx_interest() asks the event loop to wait for (equal to evloop.h's masks). */
#define TX_WANT_READ 1
#define TX_WANT_WRITE 2

/* The descriptor to watch (changes across reconnects), or -1 (UDP, or no connection now). */
int tx_fd(const struct tx_peer *p);
/* Changes whenever a new socket is created (its number may equal the closed one's). */
uint64_t tx_fd_generation(const struct tx_peer *p);
/* The socket's own address, as the collector sees the exporter (any transport, UDP too).
 * 0, or -ENOTCONN before a socket exists / -errno. */
int tx_local_address(const struct tx_peer *p, struct sockaddr_storage *ss);
/* TX_WANT_* for tx_fd() now; 0 = nothing to wait for. Re-read after every tx_poll/tx_send. */
int tx_interest(const struct tx_peer *p);
/* When tx_poll() must run at the latest (a connect/handshake deadline, the backoff's end, an
 * ACK check), monotonic ms; 0 = only on descriptor events. */
uint64_t tx_next_ms(const struct tx_peer *p, uint64_t now_ms);

/*
 * Closes gracefully: flushes the queue for at most timeout_ms, then shuts down writing and
 * drains the peer (TLS close_notify, TCP FIN) so the collector gets the whole stream.
 * Frees p. What could not be sent is counted as lost in *final (may be NULL).
 */
void tx_close(struct tx_peer *p, int timeout_ms, struct tx_stats *final);

void tx_stats(const struct tx_peer *p, struct tx_stats *out);

#endif
