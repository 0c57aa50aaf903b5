/*
 * fuzz_plugin_so.c - the plugin fuzz_plugin loads: it declares whatever fields and sizes its
 * --plugin arguments ask for, so that the fuzzer reaches the loader's checks of a plugin's
 * field table (names, types, counts, offsets, ids, sizes, flags) and the registry writer with
 * any value, not only with the ones a compiled plugin carries.
 *
 * Arguments: size=N (udps_size), state=N (state_size), flags=N, and NAME=TYPE.COUNT.OFFSET.ID
 * for each field (numbers, decimal or 0x hex).
 */
#define _GNU_SOURCE /* strdup under -std=c11 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nfprobe/plugin.h"

struct ctx {
    struct nfp_field *fields;
    uint32_t n;
};

static unsigned long
num(const char **s)
{
    char *end;
    unsigned long v = strtoul(*s, &end, 0);
    *s = *end == '.' ? end + 1 : end;
    return v;
}

static void
unload(void *p)
{
    struct ctx *c = p;
    if (c == NULL)
        return;
    for (uint32_t i = 0; i < c->n; i++)
        free((char *)c->fields[i].name);
    free(c->fields);
    free(c);
}

static int
load(struct nfp_setup *setup, const struct nfp_args *args, char *err, size_t errlen)
{
    struct ctx *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->fields = calloc(args->n + 1, sizeof(*c->fields))) == NULL) {
        free(c);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < args->n; i++) {
        const char *k = args->v[i].key, *v = args->v[i].value;
        if (strcmp(k, "size") == 0) {
            setup->udps_size = (uint32_t)num(&v);
        } else if (strcmp(k, "state") == 0) {
            setup->state_size = (uint32_t)num(&v);
        } else if (strcmp(k, "flags") == 0) {
            setup->flags = (uint32_t)num(&v);
        } else {
            struct nfp_field *f = &c->fields[c->n++];
            f->name = strdup(k);
            f->type = (uint32_t)num(&v);
            f->count = (uint32_t)num(&v);
            f->offset = (uint32_t)num(&v);
            f->ipfix_id = (uint16_t)num(&v);
        }
    }
    if (c->n > 0) {
        setup->fields = c->fields;
        setup->n_fields = c->n;
    }
    setup->ctx = c;
    (void)err;
    (void)errlen;
    return 0;
}

static void
on_expire(void *ctx, struct nfp_flow *flow)
{
    (void)ctx;
    (void)flow;
}

NFP_EXPORT const struct nfp_plugin nfprobe_plugin = {
    .abi_version = NFP_ABI_VERSION,
    .size = sizeof(struct nfp_plugin),
    .name = "fuzz",
    .udps_size = 8,
    .load = load,
    .unload = unload,
    .on_expire = on_expire,
};
