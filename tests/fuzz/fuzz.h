/*
 * fuzz.h - what every fuzz target defines (tests/fuzz/fuzz_<name>.c).
 *
 * A target is one libFuzzer entry point. Built with -fsanitize=fuzzer (`make fuzz`) libFuzzer
 * provides main(); built with -DFUZZ_STANDALONE it links standalone.c, which replays the
 * target's seeds and regression inputs (make check). The FUZZ_STANDALONE-only symbols below
 * tell standalone.c where those are.
 */
#ifndef NFPROBE_FUZZ_H
#define NFPROBE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The target's name: tests/fuzz/regress/<name>/ holds its regression inputs. */
extern const char fuzz_target_name[];
/* Seed files or directories, relative to $SRCDIR, NULL-terminated. */
extern const char *const fuzz_seed_paths[];
/* Deterministic mutations replayed per seed file (FUZZ_MUTATIONS overrides). */
extern const long fuzz_mutations;
/* Cut points replayed per seed file: 0 = every prefix of files up to 4 KiB (text formats),
 * N = N evenly spaced prefixes (inputs that are slow to run, such as whole captures). */
extern const unsigned fuzz_prefixes;
/* Optional set-up before the first input (NULL = none); non-zero = cannot run. */
extern int (*const fuzz_init)(void);

#endif
