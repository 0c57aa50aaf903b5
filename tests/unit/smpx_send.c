/*
 * smpx_send.c - test driver of probe/sampling_export.c: one IPFIX or NetFlow v9 packet to
 * 127.0.0.1:PORT holding the sampling options templates and records, a small flow template
 * (addresses, ports, protocol, packets, octets, start/end ms) and F flows of P packets and B
 * octets each, so that a collector's view of the sampler (nfdump -E) and of the totals
 * (scaled by N when it applies the sampler) can be checked. Loopback only.
 *
 * usage: smpx_send ipfix|v9 --port N --interval N [--mode count|random] [--flows F]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sampling_export.h"

static size_t
put(uint8_t *p, size_t at, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[at + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return at + n;
}

static const uint16_t flow_fields[][2] = {{8, 4},  {12, 4}, {7, 2},   {11, 2},  {4, 1},
                                          {2, 8},  {1, 8},  {152, 8}, {153, 8}};
#define NFIELDS (sizeof(flow_fields) / sizeof(flow_fields[0]))

int
main(int argc, char **argv)
{
    if (argc < 2)
        goto usage;
    int v9 = strcmp(argv[1], "v9") == 0;
    if (!v9 && strcmp(argv[1], "ipfix") != 0)
        goto usage;
    uint16_t port = 0;
    struct smpx_report r = {.mode = SMP_COUNT, .selector_id = 7, .domain = 42};
    unsigned flows = 20;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = (uint16_t)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--interval") == 0)
            r.interval = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--mode") == 0)
            r.mode = (enum smp_mode)smp_mode_parse(argv[i + 1]);
        else if (strcmp(argv[i], "--flows") == 0)
            flows = (unsigned)atoi(argv[i + 1]);
        else
            goto usage;
    }
    if (port == 0 || r.interval == 0 || (int)r.mode < 0 || flows == 0 || flows > 20)
        goto usage;
    r.observed = (uint64_t)flows * 10 * r.interval;
    r.selected = (uint64_t)flows * 10;

    uint8_t m[1400];
    size_t at = v9 ? 20 : 16, n;
    uint64_t now = (uint64_t)time(NULL) * 1000;
    unsigned records = 0;
    /* templates: options first, then the flow template */
    n = v9 ? smpx_v9_templates(260, 261, m + at, sizeof(m) - at)
           : smpx_ipfix_templates(&r, 260, 261, m + at, sizeof(m) - at);
    if (n == 0)
        return 1;
    at += n;
    records += 2;
    size_t s = at;
    at = put(m, at, v9 ? 0 : 2, 2);
    at = put(m, at, 0, 2);
    at = put(m, at, 256, 2);
    at = put(m, at, NFIELDS, 2);
    for (size_t i = 0; i < NFIELDS; i++) {
        at = put(m, at, flow_fields[i][0], 2);
        at = put(m, at, flow_fields[i][1], 2);
    }
    put(m, s + 2, at - s, 2);
    records++;
    n = v9 ? smpx_v9_data(&r, 260, 261, m + at, sizeof(m) - at)
           : smpx_ipfix_data(&r, 260, 261, m + at, sizeof(m) - at);
    if (n == 0)
        return 1;
    at += n;
    unsigned data_records = 2;
    s = at;
    at = put(m, at, 256, 2);
    at = put(m, at, 0, 2);
    for (unsigned i = 0; i < flows; i++) {
        at = put(m, at, 0x0a000001u + i, 4);
        at = put(m, at, 0xc0000201u, 4);
        at = put(m, at, 10000 + i, 2);
        at = put(m, at, 443, 2);
        at = put(m, at, 6, 1);
        at = put(m, at, 10, 8);   /* packets */
        at = put(m, at, 1000, 8); /* octets */
        at = put(m, at, now - 60000 + i, 8);
        at = put(m, at, now - 30000 + i, 8);
    }
    while ((at - s) % 4)
        m[at++] = 0;
    put(m, s + 2, at - s, 2);
    data_records += flows;
    records += data_records;
    if (v9) {
        put(m, 0, 9, 2);
        put(m, 2, records, 2);
        put(m, 4, 3600000, 4);
        put(m, 8, now / 1000, 4);
        put(m, 12, 0, 4); /* sequence: packets before this one */
        put(m, 16, r.domain, 4);
    } else {
        put(m, 0, 10, 2);
        put(m, 2, at, 2);
        put(m, 4, now / 1000, 4);
        put(m, 8, 0, 4); /* sequence: data records before this message */
        put(m, 12, r.domain, 4);
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sendto(fd, m, at, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)at) {
        fprintf(stderr, "smpx_send: 127.0.0.1:%u: %s\n", port, strerror(errno));
        return 1;
    }
    close(fd);
    fprintf(stderr, "smpx_send: %s, %u flows, %zu octets\n", argv[1], flows, at);
    return 0;
usage:
    fprintf(stderr, "usage: smpx_send ipfix|v9 --port N --interval N [--mode count|random] "
                    "[--flows F<=20]\n");
    return 2;
}
