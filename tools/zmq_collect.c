/*
 * zmq_collect - a test collector for nfprobe's ntopng feed: what ntopng's ZMQ collector does
 * with a message, checked, and printed.
 *
 *   zmq_collect (--bind URL | --connect URL) [--curve-secret KEY] [--idle-ms MS]
 *               [--stall | --discard] [--max-ms MS]
 *   zmq_collect --keygen          prints a CURVE key pair: "PUBLIC SECRET" (Z85)
 *
 * A SUB socket subscribed to "flow" and "event" (ntopng's collector mode binds, its other mode
 * connects; --curve-secret makes it the CURVE server, as ntopng --zmq-encryption). Every message
 * must be two frames, a 28-byte header with version 3 and a topic of "flow" or "event"; flow
 * payloads are decoded with nDPI's deserializer (as ntopng does) and printed one record per line
 * as JSON with the numeric keys ({"8":"10.0.0.1","7":40000,...}); events are printed as
 * {"_src":SOURCE_ID,"event":PAYLOAD}. On stderr at the end: "messages N flows F gaps G" where gaps counts the
 * msg_ids skipped (ntopng's zmq_msg_drops). Ends after --idle-ms (default 2000) without a
 * message once one arrived, or after --max-ms in all (default 60000). --stall subscribes and
 * then never reads (a stalled ntopng); --discard checks the frames and ids only, printing
 * nothing (a reader for benchmarks). Exit 0, or 1 on a malformed message (one line why).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ndpi_api.h>
#include <zmq.h>

static uint64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
put_json_str(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* Decodes a TLV payload as ntopng's parseTLVFlow does; prints records; returns them or -1. */
static long
decode_tlv(uint8_t *buf, size_t len, uint32_t msg_id)
{
    ndpi_deserializer d;
    ndpi_serialization_type kt, t;
    long records = 0;
    bool open = false;

    if (ndpi_init_deserializer_buf(&d, buf, (u_int32_t)len) != 0 ||
        ndpi_deserialize_get_format(&d) != ndpi_serialization_format_tlv) {
        fprintf(stderr, "zmq_collect: msg %" PRIu32 ": not an nDPI TLV payload\n", msg_id);
        return -1;
    }
    while ((t = ndpi_deserialize_get_item_type(&d, &kt)) != ndpi_serialization_unknown) {
        uint32_t key, u32;
        uint64_t u64;
        int32_t i32;
        int64_t i64;
        float fl;
        ndpi_string str;

        if (t == ndpi_serialization_end_of_record) {
            if (open) {
                printf("}\n");
                records++;
            }
            open = false;
            ndpi_deserialize_next(&d);
            continue;
        }
        if (kt != ndpi_serialization_uint8 && kt != ndpi_serialization_uint16 &&
            kt != ndpi_serialization_uint32) {
            fprintf(stderr, "zmq_collect: msg %" PRIu32 ": key type %d is not numeric\n", msg_id,
                    (int)kt);
            return -1;
        }
        ndpi_deserialize_key_uint32(&d, &key);
        printf(open ? ",\"%" PRIu32 "\":" : "{\"_msg\":%" PRIu32 ",\"%" PRIu32 "\":",
               open ? key : msg_id, key);
        open = true;
        switch (t) {
        case ndpi_serialization_uint8:
        case ndpi_serialization_uint16:
        case ndpi_serialization_uint32:
            ndpi_deserialize_value_uint32(&d, &u32);
            printf("%" PRIu32, u32);
            break;
        case ndpi_serialization_uint64:
            ndpi_deserialize_value_uint64(&d, &u64);
            printf("%" PRIu64, u64);
            break;
        case ndpi_serialization_int8:
        case ndpi_serialization_int16:
        case ndpi_serialization_int32:
            ndpi_deserialize_value_int32(&d, &i32);
            printf("%" PRId32, i32);
            break;
        case ndpi_serialization_int64:
            ndpi_deserialize_value_int64(&d, &i64);
            printf("%" PRId64, i64);
            break;
        case ndpi_serialization_float:
            ndpi_deserialize_value_float(&d, &fl);
            printf("%g", (double)fl);
            break;
        case ndpi_serialization_string:
            ndpi_deserialize_value_string(&d, &str);
            put_json_str(str.str, str.str_len);
            break;
        default:
            /* ntopng abandons the message here ("Unsupported TLV type") */
            fprintf(stderr, "zmq_collect: msg %" PRIu32 ": value type %d ntopng rejects\n",
                    msg_id, (int)t);
            return -1;
        }
        ndpi_deserialize_next(&d);
    }
    if (open) {
        fprintf(stderr, "zmq_collect: msg %" PRIu32 ": record without end_of_record\n", msg_id);
        return -1;
    }
    return records;
}

int
main(int argc, char **argv)
{
    const char *bind_url = NULL, *connect_url = NULL, *secret = NULL;
    long idle_ms = 2000, max_ms = 60000;
    bool stall = false, discard = false;
    static uint8_t hdr[64], payload[1 << 18];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keygen") == 0) {
            char pub[41], sec[41];
            if (zmq_curve_keypair(pub, sec) != 0) {
                fprintf(stderr, "zmq_collect: no CURVE: %s\n", zmq_strerror(zmq_errno()));
                return 1;
            }
            printf("%s %s\n", pub, sec);
            return 0;
        } else if (strcmp(argv[i], "--discard") == 0) {
            discard = true;
        } else if (strcmp(argv[i], "--stall") == 0) {
            stall = true;
        } else if (i + 1 < argc && strcmp(argv[i], "--bind") == 0) {
            bind_url = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--connect") == 0) {
            connect_url = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--curve-secret") == 0) {
            secret = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--idle-ms") == 0) {
            idle_ms = atol(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--max-ms") == 0) {
            max_ms = atol(argv[++i]);
        } else {
            fprintf(stderr, "usage: zmq_collect (--bind URL | --connect URL) [--curve-secret "
                            "KEY] [--idle-ms MS] [--max-ms MS] [--stall | --discard] | --keygen\n");
            return 1;
        }
    }
    if ((bind_url == NULL) == (connect_url == NULL)) {
        fprintf(stderr, "zmq_collect: one of --bind or --connect\n");
        return 1;
    }
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_SUB);
    int one = 1, small = 1, linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    if (stall) {
        /* Take as little as possible before stalling, so the sender's queue fills. */
        zmq_setsockopt(s, ZMQ_RCVHWM, &small, sizeof(small));
        int rcvbuf = 4096;
        zmq_setsockopt(s, ZMQ_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    if (secret != NULL && (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0 ||
                           zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret, 40) != 0)) {
        fprintf(stderr, "zmq_collect: --curve-secret: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    zmq_setsockopt(s, ZMQ_SUBSCRIBE, "flow", 4);
    zmq_setsockopt(s, ZMQ_SUBSCRIBE, "event", 5);
    if ((bind_url != NULL ? zmq_bind(s, bind_url) : zmq_connect(s, connect_url)) != 0) {
        fprintf(stderr, "zmq_collect: %s: %s\n", bind_url != NULL ? bind_url : connect_url,
                zmq_strerror(zmq_errno()));
        return 1;
    }
    char ep[256] = "";
    size_t epl = sizeof(ep);
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &epl);
    fprintf(stderr, "zmq_collect: ready %s\n", ep); /* --bind tcp://127.0.0.1:* picks a port */
    uint64_t start = mono_ms(), last = 0;
    if (stall) {
        /* Never read, but let the socket process its commands (a new connection's pipe is
         * attached, and our subscriptions sent, only when the socket is used). */
        while (mono_ms() - start < (uint64_t)max_ms) {
            int ev;
            size_t el = sizeof(ev);
            zmq_getsockopt(s, ZMQ_EVENTS, &ev, &el);
            usleep(50000);
        }
        return 0;
    }
    unsigned long messages = 0, flows = 0, gaps = 0;
    uint32_t prev = 0;
    int rc = 0, timeout = 100;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
    for (;;) {
        uint64_t now = mono_ms();
        if (now - start >= (uint64_t)max_ms || (last != 0 && now - last >= (uint64_t)idle_ms))
            break;
        int n = zmq_recv(s, hdr, sizeof(hdr), 0);
        if (n < 0)
            continue;
        int more = 0;
        size_t ml = sizeof(more);
        zmq_getsockopt(s, ZMQ_RCVMORE, &more, &ml);
        if (n != 28 || !more) {
            fprintf(stderr, "zmq_collect: first frame of %d bytes%s (ntopng wants a 28-byte "
                            "v2 header and a payload frame)\n", n, more ? "" : ", no second");
            rc = 1;
            break;
        }
        int pl = zmq_recv(s, payload, sizeof(payload), 0);
        zmq_getsockopt(s, ZMQ_RCVMORE, &more, &ml);
        if (pl < 0 || more || (size_t)pl > sizeof(payload) || pl > 131072) {
            fprintf(stderr, "zmq_collect: payload of %d bytes%s\n", pl,
                    more ? " and a third frame" : " (ntopng takes at most 131072)");
            rc = 1;
            break;
        }
        uint32_t id;
        memcpy(&id, hdr + 20, 4);
        id = ntohl(id);
        if (hdr[16] != 3) {
            fprintf(stderr, "zmq_collect: msg %" PRIu32 ": header version %u, not 3\n", id,
                    hdr[16]);
            rc = 1;
            break;
        }
        if (messages > 0 && id != prev + 1)
            gaps += id > prev ? id - prev - 1 : 0;
        prev = id;
        messages++;
        last = mono_ms();
        if (discard)
            continue;
        if (memcmp(hdr, "flow", 5) == 0) {
            long r = decode_tlv(payload, (size_t)pl, id);
            if (r < 0 || r > 255) {
                if (r > 255)
                    fprintf(stderr, "zmq_collect: msg %" PRIu32 ": %ld flows (ntopng: 255)\n", id,
                            r);
                rc = 1;
                break;
            }
            flows += (unsigned long)r;
        } else if (memcmp(hdr, "event", 6) == 0) {
            uint32_t src;
            memcpy(&src, hdr + 24, 4); /* host order, as ntopng reads it */
            printf("{\"_msg\":%" PRIu32 ",\"_src\":%" PRIu32 ",\"event\":%.*s}\n", id, src, pl,
                   (const char *)payload);
        } else {
            fprintf(stderr, "zmq_collect: msg %" PRIu32 ": topic '%.16s'\n", id,
                    (const char *)hdr);
            rc = 1;
            break;
        }
        fflush(stdout);
    }
    fprintf(stderr, "messages %lu flows %lu gaps %lu\n", messages, flows, gaps);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return rc;
}
