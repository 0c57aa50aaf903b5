/*
 * fuzz_config.c - libFuzzer harness for the configuration-file parser.
 *
 * Properties checked on every input, beyond "no crash, no leak, no UB" (ASan/UBSan):
 *   - an error is one line that names the input ("fuzz:LINE: ...");
 *   - an accepted input, printed with cfg_print(), parses again, prints identically, and the
 *     two configurations differ in no key (cfg_reload_check() finds nothing to restart for);
 *   - cfg_validate() returns 0 or -EINVAL with a message.
 *
 * Built two ways: with -fsanitize=fuzzer (`make fuzz-config`, clang) it is a libFuzzer
 * target; with -DFUZZ_STANDALONE it is a normal program that runs every file of the corpus
 * (and every prefix of each, a cheap way to hit cut-off lines) and is a `make check` test.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
static unsigned long n_inputs;

static int
run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "fuzz_config: %s: %s\n", path, strerror(errno));
        return -1;
    }
    static uint8_t buf[CFG_MAX_FILE + 1];
    size_t n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    /* The whole file, then every prefix: lines cut at every byte. */
    LLVMFuzzerTestOneInput(buf, n);
    for (size_t i = 0; i < n && i < 8192; i++) {
        uint8_t *copy = malloc(i + 1); /* exact size, so ASan sees any overread */
        memcpy(copy, buf, i);
        LLVMFuzzerTestOneInput(copy, i);
        free(copy);
    }
    n_inputs += 1 + (n < 8192 ? n : 8192);
    return 0;
}

static int
run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz_config: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int rc = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        if (run_file(sub) != 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

/* Without arguments: the corpus and the shipped example under $SRCDIR (make check). */
int
main(int argc, char **argv)
{
    int rc = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            if (run_path(argv[i]) != 0)
                rc = 1;
    } else {
        const char *src = getenv("SRCDIR");
        char corpus[4096], example[4096];
        if (src == NULL)
            src = ".";
        snprintf(corpus, sizeof(corpus), "%s/tests/fuzz/corpus/config", src);
        snprintf(example, sizeof(example), "%s/etc/nfprobe.conf", src);
        if (run_path(corpus) != 0 || run_path(example) != 0)
            rc = 1;
    }
    printf("fuzz_config: %lu inputs, all properties hold\n", n_inputs);
    return rc;
}
#endif
