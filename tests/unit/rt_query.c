/*
 * rt_query.c - test driver of probe/route.c: runs a script from stdin in the current network
 * namespace, one command per line, and prints one line per lookup:
 *   get ADDR        route events are processed first (as the exporter's loop would), then
 *                   "get ADDR: via GW|direct dev IFNAME plen N hit|miss" or "get ADDR: no route"
 *   run COMMAND...  runs a shell command (e.g. ip route replace ...) and waits for it
 *   stats           "stats: lookups L hits H misses M notifications N invalidated I"
 * usage: rt_query [CACHE_ENTRIES] < script
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

int
main(int argc, char **argv)
{
    char err[256], line[512];
    struct rt_cache *c = rt_new(argc > 1 ? strtoul(argv[1], NULL, 10) : 1024, err, sizeof(err));
    int status = 0;

    if (c == NULL) {
        fprintf(stderr, "rt_query: %s\n", err);
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin) != NULL) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "run ", 4) == 0) {
            if (system(line + 4) != 0) {
                fprintf(stderr, "rt_query: '%s' failed\n", line + 4);
                status = 1;
            }
        } else if (strncmp(line, "get ", 4) == 0) {
            uint8_t a[16];
            int fam = inet_pton(AF_INET, line + 4, a) == 1 ? 4
                      : inet_pton(AF_INET6, line + 4, a) == 1 ? 6 : 0;
            if (fam == 0) {
                fprintf(stderr, "rt_query: bad address '%s'\n", line + 4);
                status = 1;
                continue;
            }
            if (rt_process_events(c) < 0)
                status = 1;
            uint64_t hits = rt_stats(c)->hits;
            struct rt_result r;
            int rc = rt_lookup(c, fam, a, &r);
            const char *hm = rt_stats(c)->hits > hits ? "hit" : "miss";
            if (rc == -ENETUNREACH) {
                printf("%s: no route %s\n", line, hm);
                continue;
            }
            if (rc != 0) {
                printf("%s: error %s\n", line, strerror(-rc));
                status = 1;
                continue;
            }
            char gw[INET6_ADDRSTRLEN] = "direct", ifn[IF_NAMESIZE] = "?";
            if (r.has_gw)
                inet_ntop(fam == 4 ? AF_INET : AF_INET6, r.gw, gw, sizeof(gw));
            if_indextoname(r.oif, ifn);
            printf("%s: via %s dev %s plen %u %s\n", line, gw, ifn, r.plen, hm);
        } else if (strcmp(line, "stats") == 0) {
            rt_process_events(c);
            const struct rt_stats *st = rt_stats(c);
            printf("stats: lookups %" PRIu64 " hits %" PRIu64 " misses %" PRIu64
                   " notifications %" PRIu64 " invalidated %" PRIu64 "\n",
                   st->lookups, st->hits, st->misses, st->notifications, st->invalidated);
        } else if (line[0] != 0 && line[0] != '#') {
            fprintf(stderr, "rt_query: unknown command '%s'\n", line);
            status = 1;
        }
    }
    rt_free(c);
    return status;
}
