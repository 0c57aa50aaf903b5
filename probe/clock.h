/*
 * clock.h - the two clocks nfprobe reads, in milliseconds.
 *
 * Monotonic time drives timers (ticks, backoff, flush and refresh intervals, rate limits):
 * it never jumps. Wall time is what packets are stamped with live and what export headers
 * carry. Packet time (offline) is neither: it comes from the capture.
 */
#ifndef NFPROBE_CLOCK_H
#define NFPROBE_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ms. */
uint64_t clk_mono_ms(void);

/* CLOCK_REALTIME in ms since the Unix epoch. */
uint64_t clk_wall_ms(void);

#endif
