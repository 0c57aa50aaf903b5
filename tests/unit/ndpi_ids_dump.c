/*
 * ndpi_ids_dump - prints what nfprobe's nDPI id translation (ndpi_ids.h) makes of every sender
 * id: "SENDER_ID<TAB>NAME<TAB>RECEIVER_ID|-", for tests/golden/ndpi_ids.sh.
 *
 *   ndpi_ids_dump RECEIVER.ids                the sender is the linked libndpi (its names)
 *   ndpi_ids_dump RECEIVER.ids SENDER.tsv     the sender's names from a table (id, symbol, name)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpi.h"
#include "ndpi_ids.h"

static char *tsv_names[65536];

static const char *
dpi_name(void *ctx, uint16_t id)
{
    return dpi_proto_name(ctx, id);
}

static const char *
tsv_name(void *ctx, uint16_t id)
{
    (void)ctx;
    return tsv_names[id];
}

int
main(int argc, char **argv)
{
    char err[512], line[512];
    struct dpi_ctx *d = NULL;
    nid_name_fn name = tsv_name;
    void *ctx = NULL;
    unsigned n = 0;

    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: ndpi_ids_dump RECEIVER.ids [SENDER.tsv]\n");
        return 1;
    }
    if (argc == 3) {
        FILE *fp = fopen(argv[2], "r");
        if (fp == NULL) {
            perror(argv[2]);
            return 1;
        }
        while (fgets(line, sizeof(line), fp) != NULL) {
            unsigned id;
            char sym[128], nm[128];
            if (line[0] == '#' || sscanf(line, "%u\t%127[^\t]\t%127[^\n]", &id, sym, nm) != 3 ||
                id > 65535)
                continue;
            tsv_names[id] = strdup(nm);
            if (id + 1 > n)
                n = id + 1;
        }
        fclose(fp);
    } else {
        struct dpi_config dc = {.n_dissections = 1, .max_concurrent = 1};
        if ((d = dpi_new(&dc, err, sizeof(err))) == NULL) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        name = dpi_name;
        ctx = d;
        n = dpi_num_protocols(d);
    }
    struct nid_map *m = nid_load(argv[1], name, ctx, (uint16_t)n, err, sizeof(err));
    if (m == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    for (unsigned i = 0; i < n; i++) {
        const char *s = name(ctx, (uint16_t)i);
        uint32_t to = nid_translate(m, (uint16_t)i);
        if (s == NULL)
            continue;
        if (to == NID_NONE)
            printf("%u\t%s\t-\n", i, s);
        else
            printf("%u\t%s\t%u\n", i, s, to);
    }
    nid_free(m);
    dpi_free(d);
    return 0;
}
