/*
 * fuzz_config.c - libFuzzer harness for the configuration-file parser.
 *
 * Properties checked on every input, beyond "no crash, no leak, no UB" (ASan/UBSan):
 *   - an error is one line that names the input ("fuzz:LINE: ...");
 *   - an accepted input, printed with cfg_print(), parses again, prints identically, and the
 *     two configurations differ in no key (cfg_reload_check() finds nothing to restart for);
 *   - cfg_validate() returns 0 or -EINVAL with a message.
 *
 * Built two ways: with -fsanitize=fuzzer (`make fuzz`, clang) it is a libFuzzer target; with
 * -DFUZZ_STANDALONE (standalone.c) it replays the corpus and the shipped example, every
 * prefix of each (cut-off lines) and some mutations, as a `make check` test.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

static void
die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_config: property violated: %s: %s\n", what, detail);
    abort(); /* how a harness reports a finding */
}

static char *
print(const struct prb_config *c, size_t *len)
{
    char *text = NULL;
    FILE *fp = open_memstream(&text, len);
    if (fp == NULL)
        die("open_memstream", strerror(errno));
    cfg_print(fp, c);
    fclose(fp);
    return text;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct prb_config a, b;
    char err[512] = "";

    cfg_defaults(&a);
    if (cfg_parse_buf((const char *)data, size, "fuzz", &a, err, sizeof(err)) != 0) {
        if (strncmp(err, "fuzz:", 5) != 0 || strchr(err, '\n') != NULL)
            die("error message", err);
        cfg_free(&a);
        return 0;
    }
    size_t l1, l2;
    char *t1 = print(&a, &l1);
    cfg_defaults(&b);
    if (cfg_parse_buf(t1, l1, "printed", &b, err, sizeof(err)) != 0)
        die("printed configuration does not parse", err);
    char *t2 = print(&b, &l2);
    if (l1 != l2 || memcmp(t1, t2, l1) != 0)
        die("print -> parse -> print differs", t2);
    if (cfg_reload_check(&a, &b, err, sizeof(err)) != 0)
        die("reparsed configuration differs", err);
    err[0] = '\0';
    int rc = cfg_validate(&a, err, sizeof(err));
    if (rc != 0 && (rc != -EINVAL || err[0] == '\0'))
        die("cfg_validate", err);
    free(t1);
    free(t2);
    cfg_free(&b);
    cfg_free(&a);
    return 0;
}

#ifdef FUZZ_STANDALONE
const char fuzz_target_name[] = "config";
const char *const fuzz_seed_paths[] = {"tests/fuzz/corpus/config", "etc/nfprobe.conf", NULL};
const long fuzz_mutations = 200;
const unsigned fuzz_prefixes = 0;
int (*const fuzz_init)(void) = NULL;
#endif
