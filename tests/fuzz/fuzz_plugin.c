/*
 * fuzz_plugin.c - plugin specifications (--plugin PATH[:KEY=VALUE,...]) and the field tables
 * plugins declare, through plg_load(), then the registry nfprobe-plugin-registry writes and
 * the column/element lists the outputs and exporters take.
 *
 * Each input line is the argument part of one --plugin of fuzz_plugin.so (built with this
 * target; its load() declares the fields the arguments describe). Properties: an error is one
 * line starting with "--plugin"; a loaded set writes both registries and frees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "fuzz.h"
#include "output.h"
#include "plugin.h"

static char so_path[4096];

static void
die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_plugin: property violated: %s: %s\n", what, detail);
    abort();
}

static void
find_plugin(void)
{
    const char *p = getenv("FUZZ_PLUGIN"), *b = getenv("BUILDDIR");
    if (p != NULL)
        snprintf(so_path, sizeof(so_path), "%s", p);
    else
        snprintf(so_path, sizeof(so_path), "%s/tests/fuzz/fuzz_plugin.so", b ? b : ".");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *specs[PLG_MAX_PLUGINS + 1];
    size_t n = 0;
    char err[1024];

    if (size > 8192)
        return 0;
    if (so_path[0] == '\0')
        find_plugin();
    /* Lines -> "PATH:LINE" (or just PATH for an empty line). */
    for (size_t i = 0; i <= size && n <= PLG_MAX_PLUGINS;) {
        const uint8_t *nl = i < size ? memchr(data + i, '\n', size - i) : NULL;
        size_t len = (nl != NULL ? (size_t)(nl - data) : size) - i;
        if (memchr(data + i, '\0', len) != NULL)
            len = strnlen((const char *)data + i, len);
        size_t pl = strlen(so_path);
        specs[n] = malloc(pl + 1 + len + 1);
        memcpy(specs[n], so_path, pl);
        if (len > 0) {
            specs[n][pl] = ':';
            memcpy(specs[n] + pl + 1, data + i, len);
            specs[n][pl + 1 + len] = '\0';
        } else {
            specs[n][pl] = '\0';
        }
        n++;
        if (nl == NULL)
            break;
        i = (size_t)(nl - data) + 1;
    }
    err[0] = '\0';
    struct plg_set *s = plg_load((const char *const *)specs, n, err, sizeof(err));
    if (s == NULL) {
        if (strncmp(err, "--plugin", 8) != 0 || strchr(err, '\n') != NULL)
            die("error message", err);
    } else {
        FILE *out = fopen("/dev/null", "w");
        if (out == NULL)
            abort();
        if (plg_write_registry(s, out, 32473, true) != 0 ||
            plg_write_registry(s, out, 1, false) != 0)
            die("registry", "write failed");
        fclose(out);
        struct out_extra oe[PLG_MAX_FIELDS];
        struct exp_extra ee[PLG_MAX_FIELDS];
        if (plg_out_extras(s, oe, PLG_MAX_FIELDS) > PLG_MAX_FIELDS ||
            plg_exp_extras(s, ee, PLG_MAX_FIELDS) > PLG_MAX_FIELDS)
            die("extras", "more than PLG_MAX_FIELDS");
        (void)plg_flow_bytes(s);
        plg_free(s);
    }
    for (size_t i = 0; i < n; i++)
        free(specs[i]);
    return 0;
}

#ifdef FUZZ_STANDALONE
const char fuzz_target_name[] = "plugin";
const char *const fuzz_seed_paths[] = {"tests/fuzz/corpus/plugin", NULL};
const long fuzz_mutations = 150;
const unsigned fuzz_prefixes = 0;
int (*const fuzz_init)(void) = NULL;
#endif
