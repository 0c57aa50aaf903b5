/*
 * sampling_export.c - sampling options records for IPFIX and NetFlow v9. See the header.
 */
#include "sampling_export.h"

#include <string.h>

struct wr {
    uint8_t *p;
    size_t len, cap;
    int overflow;
};

static void
put(struct wr *w, uint64_t v, unsigned n)
{
    if (w->len + n > w->cap) {
        w->overflow = 1;
        return;
    }
    for (unsigned i = 0; i < n; i++)
        w->p[w->len + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    w->len += n;
}

/* Opens a Set/FlowSet: returns where its length goes. */
static size_t
set_open(struct wr *w, uint16_t id)
{
    size_t at = w->len;
    put(w, id, 2);
    put(w, 0, 2);
    return at;
}

static void
set_close(struct wr *w, size_t at)
{
    while (!w->overflow && (w->len - at) % 4 != 0)
        put(w, 0, 1);
    if (w->overflow)
        return;
    size_t n = w->len - at;
    w->p[at + 2] = (uint8_t)(n >> 8);
    w->p[at + 3] = (uint8_t)n;
}

static size_t
done(struct wr *w)
{
    return w->overflow ? 0 : w->len;
}

#define F(w, id, len) (put((w), (id), 2), put((w), (len), 2))

size_t
smpx_ipfix_templates(const struct smpx_report *r, uint16_t tid_report, uint16_t tid_nfdump,
                     uint8_t *buf, size_t cap)
{
    struct wr w = {buf, 0, cap, 0};
    size_t s = set_open(&w, 3);

    put(&w, tid_report, 2);
    put(&w, 6, 2); /* fields */
    put(&w, 1, 2); /* scope fields */
    F(&w, 302, 8);
    F(&w, 304, 2);
    if (r->mode == SMP_RANDOM) {
        F(&w, 309, 4);
        F(&w, 310, 4);
    } else {
        F(&w, 305, 4);
        F(&w, 306, 4);
    }
    F(&w, 318, 8);
    F(&w, 319, 8);
    set_close(&w, s);

    s = set_open(&w, 3); /* its own Set: nfdump 1.7.1 reads the first template of a Set */
    put(&w, tid_nfdump, 2);
    put(&w, 3, 2);
    put(&w, 1, 2);
    F(&w, 149, 4);
    F(&w, 305, 4);
    F(&w, 306, 4);
    set_close(&w, s);
    return done(&w);
}

size_t
smpx_ipfix_data(const struct smpx_report *r, uint16_t tid_report, uint16_t tid_nfdump,
                uint8_t *buf, size_t cap)
{
    struct wr w = {buf, 0, cap, 0};
    uint32_t n = r->interval ? r->interval : 1;
    size_t s = set_open(&w, tid_report);

    put(&w, r->selector_id, 8);
    put(&w, smp_algorithm(r->mode), 2);
    if (r->mode == SMP_RANDOM) {
        put(&w, 1, 4); /* samplingSize n */
        put(&w, n, 4); /* samplingPopulation N */
    } else {
        put(&w, 1, 4);     /* samplingPacketInterval: 1 selected */
        put(&w, n - 1, 4); /* samplingPacketSpace: N - 1 skipped */
    }
    put(&w, r->observed, 8);
    put(&w, r->selected, 8);
    set_close(&w, s);

    s = set_open(&w, tid_nfdump);
    put(&w, r->domain, 4);
    put(&w, 1, 4);
    put(&w, n - 1, 4);
    set_close(&w, s);
    return done(&w);
}

size_t
smpx_v9_templates(uint16_t tid_nfdump, uint16_t tid_full, uint8_t *buf, size_t cap)
{
    struct wr w = {buf, 0, cap, 0};
    size_t s = set_open(&w, 1);

    put(&w, tid_nfdump, 2);
    put(&w, 4, 2); /* scope length in octets: one field */
    put(&w, 4, 2); /* option length: one field */
    F(&w, 1, 4);   /* scope System */
    F(&w, 34, 4);  /* SAMPLING_INTERVAL */
    set_close(&w, s);

    s = set_open(&w, 1);
    put(&w, tid_full, 2);
    put(&w, 4, 2);
    put(&w, 8, 2);
    F(&w, 1, 4);
    F(&w, 34, 4);
    F(&w, 35, 1); /* SAMPLING_ALGORITHM */
    set_close(&w, s);
    return done(&w);
}

size_t
smpx_v9_data(const struct smpx_report *r, uint16_t tid_nfdump, uint16_t tid_full, uint8_t *buf,
             size_t cap)
{
    struct wr w = {buf, 0, cap, 0};
    uint32_t n = r->interval ? r->interval : 1;
    size_t s = set_open(&w, tid_nfdump);

    put(&w, r->domain, 4);
    put(&w, n, 4);
    set_close(&w, s);
    s = set_open(&w, tid_full);
    put(&w, r->domain, 4);
    put(&w, n, 4);
    put(&w, r->mode == SMP_RANDOM ? 2 : 1, 1); /* v9: 1 deterministic, 2 random */
    set_close(&w, s);
    return done(&w);
}
