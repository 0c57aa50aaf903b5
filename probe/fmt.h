/*
 * fmt.h - number to text exactly as Python 3's str()/repr() prints it.
 *
 * The CSV writer must produce byte-identical output to NFStream (Python), and it formats
 * millions of values, so these avoid snprintf: doubles use a shortest round-trip algorithm
 * (Schubfach), integers a two-digit table. No locale, no allocation, thread-safe.
 */
#ifndef NFPROBE_FMT_H
#define NFPROBE_FMT_H

#include <stddef.h>
#include <stdint.h>

#define FMT_DOUBLE_MAX 32 /* enough for any repr(float) plus NUL */
#define FMT_INT_MAX 24    /* "-9223372036854775808" is 20 chars, plus NUL */

/* Writes repr(v) of a Python float into buf (at least FMT_DOUBLE_MAX bytes), NUL-terminated;
 * returns the length (at most 24). It stores whole words, so bytes after the NUL, within the
 * FMT_DOUBLE_MAX, may be overwritten too. */
size_t
fmt_double(char *buf, double v);

/* Decimal of an unsigned/signed 64-bit integer into buf (at least FMT_INT_MAX bytes),
 * NUL-terminated; returns the length. */
size_t
fmt_u64(char *buf, uint64_t v);
size_t
fmt_i64(char *buf, int64_t v);

#endif
