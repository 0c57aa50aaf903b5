/*
 * standalone.c - the main() of every fuzz target built without libFuzzer (-DFUZZ_STANDALONE),
 * run by make check.
 *
 * It replays what libFuzzer would start from, so that the sanitizer build checks the same
 * paths on every `make check`: each file of the target's seed directories (fuzz_seed_paths,
 * defined by the target, relative to $SRCDIR) and of tests/fuzz/regress/<target>/ (the inputs
 * that once crashed), then every prefix of each small file (cut records and lines), then a
 * fixed number of deterministic byte mutations of each file. Arguments replace the seed list
 * (files or directories), for replaying a libFuzzer artifact by hand.
 *
 * Exit status: 0 when every input ran (a finding aborts under the sanitizers, as in libFuzzer),
 * 1 when a seed path is missing: an empty corpus must not pass silently.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Files up to this size get every prefix; larger ones a sample of cut points. */
#define PREFIX_ALL 4096
#define PREFIX_SAMPLES 64
#define FUZZ_MAX_INPUT (1u << 20)

static unsigned long n_inputs, n_files;
static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t
next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* One input in an exact-size heap copy: ASan sees a read one byte past the end. */
static void
run_one(const uint8_t *data, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (copy == NULL) {
        perror("fuzz: malloc");
        exit(1);
    }
    memcpy(copy, data, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    n_inputs++;
}

static int
run_file(const char *path, long mutations)
{
    static uint8_t buf[FUZZ_MAX_INPUT], mut[FUZZ_MAX_INPUT];
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "fuzz %s: %s: %s\n", fuzz_target_name, path, strerror(errno));
        return -1;
    }
    size_t n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    n_files++;
    run_one(buf, n);
    if (fuzz_prefixes == 0 && n <= PREFIX_ALL) {
        for (size_t i = 0; i < n; i++)
            run_one(buf, i);
    } else {
        size_t cuts = fuzz_prefixes != 0 ? fuzz_prefixes : PREFIX_SAMPLES;
        for (size_t k = 1; k < cuts; k++)
            run_one(buf, n * k / cuts);
    }
    /* A few flipped bytes, a cut or random bytes appended: what libFuzzer tries first. */
    for (long r = 0; r < mutations && n > 0; r++) {
        size_t len = n;
        memcpy(mut, buf, n);
        for (int k = 1 + (int)(next_rand() % 4); k > 0; k--)
            mut[next_rand() % len] ^= (uint8_t)(1 + next_rand() % 255);
        if (next_rand() % 4 == 0) {
            len = 1 + next_rand() % len;
        } else if (next_rand() % 8 == 0 && len < sizeof(mut) - 64) {
            for (size_t e = next_rand() % 64; e > 0; e--)
                mut[len++] = (uint8_t)next_rand();
        }
        run_one(mut, len);
    }
    return 0;
}

static int
run_path(const char *path, long mutations, int must_exist)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (!must_exist && errno == ENOENT)
            return 0;
        fprintf(stderr, "fuzz %s: %s: %s\n", fuzz_target_name, path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path, mutations);
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort); /* sorted: runs are reproducible */
    if (n < 0) {
        fprintf(stderr, "fuzz %s: %s: %s\n", fuzz_target_name, path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char sub[4096];
            snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
            if (run_file(sub, mutations) != 0)
                rc = -1;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *src = getenv("SRCDIR");
    const char *m = getenv("FUZZ_MUTATIONS");
    long mutations = m != NULL ? atol(m) : fuzz_mutations;
    char path[4096];
    int rc = 0;

    if (src == NULL)
        src = ".";
    if (fuzz_init != NULL && fuzz_init() != 0)
        return 1;
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            rc |= run_path(argv[i], mutations, 1) != 0;
    } else {
        for (const char *const *p = fuzz_seed_paths; *p != NULL; p++) {
            snprintf(path, sizeof(path), "%s/%s", src, *p);
            rc |= run_path(path, mutations, 1) != 0;
        }
        snprintf(path, sizeof(path), "%s/tests/fuzz/regress/%s", src, fuzz_target_name);
        rc |= run_path(path, 0, 0) != 0;
    }
    if (n_files == 0) {
        fprintf(stderr, "fuzz %s: no input file found\n", fuzz_target_name);
        rc = 1;
    }
    printf("fuzz %s: %lu files, %lu inputs replayed\n", fuzz_target_name, n_files, n_inputs);
    return rc;
}
