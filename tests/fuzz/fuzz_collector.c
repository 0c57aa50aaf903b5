/*
 * fuzz_collector.c - collector URLs (--collector, config key collector) through
 * exp_parse_collector().
 *
 * The first byte picks the size of the caller's buffers (from 1 byte up to the daemon's
 * sizes), the rest is the URL. Properties: an error is one line that quotes the URL; an
 * accepted URL gives a known scheme and transport, a non-empty host and a port 1..65535 that
 * fit the buffers, and printed back as SCHEME+TRANSPORT://[HOST]:PORT it parses to the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "fuzz.h"

static void
die(const char *what, const char *url, const char *detail)
{
    fprintf(stderr, "fuzz_collector: property violated: %s: url '%s': %s\n", what, url, detail);
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char scheme[16], transport[8], host[256], port[8], err[1024];
    char scheme2[16], transport2[8], host2[256], port2[8], again[600];

    if (size < 1 || size > 512)
        return 0;
    /* Buffer sizes: the daemon's, or small ones so that every length check is reached. */
    size_t sl = data[0] & 0x80 ? 1 + (size_t)(data[0] & 3) * 2 : sizeof(scheme);
    size_t tl = data[0] & 0x40 ? 1 + (size_t)(data[0] >> 2 & 3) : sizeof(transport);
    size_t hl = data[0] & 0x20 ? 1 + (size_t)(data[0] & 0x1f) : sizeof(host);
    char *url = malloc(size); /* exact size: the parser must stop at the NUL */
    memcpy(url, data + 1, size - 1);
    url[size - 1] = '\0';
    err[0] = '\0';
    if (exp_parse_collector(url, scheme, sl, transport, tl, host, hl, port, sizeof(port), err,
                            sizeof(err)) != 0) {
        if (err[0] == '\0' || strstr(err, "collector '") != err)
            die("error names the collector", url, err);
        if (strchr(err, '\n') != NULL && strchr(url, '\n') == NULL)
            die("error is one line", url, err);
        free(url);
        return 0;
    }
    if (strcmp(scheme, "ipfix") != 0 && strcmp(scheme, "v9") != 0 && strcmp(scheme, "v5") != 0)
        die("scheme", url, scheme);
    if (strcmp(transport, "udp") != 0 && strcmp(transport, "tcp") != 0 &&
        strcmp(transport, "tls") != 0)
        die("transport", url, transport);
    if (host[0] == '\0' || strlen(host) >= hl)
        die("host", url, host);
    char *end;
    unsigned long p = strtoul(port, &end, 10);
    if (*end != '\0' || p == 0 || p > 65535)
        die("port", url, port);
    snprintf(again, sizeof(again), "%s+%s://[%s]:%s", scheme, transport, host, port);
    if (strchr(host, ']') == NULL) { /* a ']' in a name cannot be bracketed again */
        if (exp_parse_collector(again, scheme2, sizeof(scheme2), transport2, sizeof(transport2),
                                host2, sizeof(host2), port2, sizeof(port2), err,
                                sizeof(err)) != 0)
            die("printed URL does not parse", again, err);
        if (strcmp(scheme, scheme2) || strcmp(transport, transport2) || strcmp(host, host2) ||
            strcmp(port, port2))
            die("printed URL parses differently", again, host2);
    }
    free(url);
    return 0;
}

#ifdef FUZZ_STANDALONE
const char fuzz_target_name[] = "collector";
const char *const fuzz_seed_paths[] = {"tests/fuzz/corpus/collector", NULL};
const long fuzz_mutations = 3000;
const unsigned fuzz_prefixes = 0;
int (*const fuzz_init)(void) = NULL;
#endif
