/*
 * plugin_registry.c - nfprobe-plugin-registry: the IPFIX element registry of plugins, for
 * collectors that do not learn elements from nfprobe's RFC 5610 type records.
 *
 *     nfprobe-plugin-registry [--pen N] [--iespec] PLUGIN[:KEY=VALUE,...]...
 *
 * loads the plugins as `nfprobe --plugin` does (same checks, same element names and ids) and
 * prints their elements as an XML registry (`ipfixDump -e FILE`), or as python3-ipfix iespec
 * lines with --iespec. --pen is nfprobe's --pen (default 32473).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

int
main(int argc, char **argv)
{
    const char *specs[PLG_MAX_PLUGINS];
    size_t n = 0;
    unsigned long pen = 32473;
    bool xml = true;
    char err[512];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iespec") == 0) {
            xml = false;
        } else if (strcmp(argv[i], "--pen") == 0 && i + 1 < argc) {
            char *end;
            pen = strtoul(argv[++i], &end, 10);
            if (*end != '\0' || pen == 0 || pen > UINT32_MAX) {
                fprintf(stderr, "nfprobe-plugin-registry: --pen '%s': expected 1..%u\n",
                        argv[i], UINT32_MAX);
                return 1;
            }
        } else if (argv[i][0] == '-' || n == PLG_MAX_PLUGINS) {
            fprintf(stderr, "usage: nfprobe-plugin-registry [--pen N] [--iespec] "
                            "PLUGIN[:KEY=VALUE,...]... (at most %d)\n", PLG_MAX_PLUGINS);
            return 1;
        } else {
            specs[n++] = argv[i];
        }
    }
    if (n == 0) {
        fprintf(stderr, "usage: nfprobe-plugin-registry [--pen N] [--iespec] "
                        "PLUGIN[:KEY=VALUE,...]...\n");
        return 1;
    }
    struct plg_set *s = plg_load(specs, n, err, sizeof(err));
    if (s == NULL) {
        fprintf(stderr, "nfprobe-plugin-registry: %s\n", err);
        return 1;
    }
    int rc = plg_write_registry(s, stdout, (uint32_t)pen, xml);
    plg_free(s);
    if (rc != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "nfprobe-plugin-registry: write error\n");
        return 1;
    }
    return 0;
}
