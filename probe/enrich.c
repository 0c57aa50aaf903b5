/*
 * enrich.c - AS numbers, prefix lengths, next hop, egress interface and flowDirection of a
 * finished flow, in the output thread (enrich.h says what and why).
 */
#include "enrich.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "evloop.h"
#include "fields.h"
#include "log.h"
#include "lpm.h"
#include "route.h"

#define ENR_ROUTE_CACHE 65536

/*
 * A small direct-mapped cache of table answers per address, in front of the poptrie. Flows
 * repeat their hosts (the benchmark capture: 280,000 flows over 1,778 addresses): a hit is one
 * line in L1/L2, where a poptrie lookup walks the direct array, a node and the entry (several
 * lines of a 57 MiB table, which the flows streaming through this thread keep evicting). A
 * table swap empties it.
 */
#define ENR_CACHE4 4096 /* power of two */
#define ENR_CACHE6 1024

struct enr_hit4 {
    uint32_t addr; /* host order */
    uint32_t asn;
    uint8_t plen;
    uint8_t state; /* 0 empty, 1 no prefix, 2 found */
};

struct enr_hit6 {
    uint8_t addr[16];
    uint32_t asn;
    uint8_t plen;
    uint8_t state;
};

/* A SIGHUP reload running in its own thread. state: the thread's progress, read by the output
 * thread with acquire; table/err are written before the release store of LD_DONE. */
enum { LD_IDLE, LD_RUNNING, LD_DONE };

struct enricher {
    struct enr_config cfg;
    struct lpm *table;          /* AS numbers and prefix lengths; NULL without a source */
    struct lpm *local;          /* --local-networks; NULL without */
    struct rt_cache *rt;        /* --route-lookup; NULL without */
    struct ev_loop *loop;       /* where rt's fd is watched, NULL when not */
    struct enr_stats st;
    struct enr_hit4 c4[ENR_CACHE4];
    struct enr_hit6 c6[ENR_CACHE6];
    /* reload */
    pthread_t loader;
    atomic_int state;
    struct lpm *loaded;
    uint64_t load_ms;
    char load_err[512];
};

uint32_t
enr_groups(const struct enr_config *c)
{
    bool table = c->networks_file != NULL || c->asn_database != NULL;
    return (table ? FLD_G_AS : 0u) | (table || c->route_lookup ? FLD_G_PREFIX : 0u) |
           (c->route_lookup ? FLD_G_ROUTE : 0u) | (c->local_networks != NULL ? FLD_G_DIRECTION : 0u);
}

/* --local-networks: a file of prefixes (lpm's networks syntax: one per line, comments) when the
 * value names a regular file, else a comma-separated list. */
static struct lpm *
load_local(const char *v, char *err, size_t errlen)
{
    struct lpm_builder *b = lpm_builder_new();
    struct stat sb;
    int rc;

    if (b == NULL) {
        snprintf(err, errlen, "--local-networks: out of memory");
        return NULL;
    }
    if (stat(v, &sb) == 0 && S_ISREG(sb.st_mode)) {
        rc = lpm_load_networks(b, v, err, errlen);
    } else {
        /* One prefix per "line": the list's Nth item is reported as line N. */
        size_t n = strlen(v);
        char *buf = malloc(n + 1);
        if (buf == NULL) {
            lpm_builder_free(b);
            snprintf(err, errlen, "--local-networks: out of memory");
            return NULL;
        }
        for (size_t i = 0; i <= n; i++)
            buf[i] = v[i] == ',' ? '\n' : v[i];
        rc = lpm_parse_networks(b, "--local-networks item", buf, n, err, errlen);
        free(buf);
    }
    if (rc != 0) {
        lpm_builder_free(b);
        return NULL;
    }
    return lpm_builder_finish(b, err, errlen);
}

/* This thread's CPU time in ms: the load's cost apart from what the neighbours take. */
static uint64_t
thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static size_t
total_prefixes(const struct lpm *t)
{
    return t != NULL ? lpm_count(t, 4) + lpm_count(t, 6) : 0;
}

static void
count_table(struct enricher *e)
{
    e->st.prefixes4 = e->table != NULL ? lpm_count(e->table, 4) : 0;
    e->st.prefixes6 = e->table != NULL ? lpm_count(e->table, 6) : 0;
}

struct enricher *
enr_new(const struct enr_config *c, char *err, size_t errlen)
{
    struct enricher *e = calloc(1, sizeof(*e));

    if (e == NULL) {
        snprintf(err, errlen, "enrichment: out of memory");
        return NULL;
    }
    atomic_init(&e->state, LD_IDLE);
    /* A reload reads these paths again after the configuration they came from is freed. */
    e->cfg = (struct enr_config){.route_lookup = c->route_lookup, .route_cache = c->route_cache};
    if ((c->networks_file != NULL && (e->cfg.networks_file = strdup(c->networks_file)) == NULL) ||
        (c->asn_database != NULL && (e->cfg.asn_database = strdup(c->asn_database)) == NULL)) {
        snprintf(err, errlen, "enrichment: out of memory");
        goto fail;
    }
    if (c->networks_file != NULL || c->asn_database != NULL) {
        uint64_t t0 = clk_mono_ms(), c0 = thread_cpu_ms();
        e->table = lpm_load(c->networks_file, c->asn_database, err, errlen);
        if (e->table == NULL)
            goto fail;
        count_table(e);
        log_msg(LOG_INFO, "AS table: %zu IPv4 and %zu IPv6 prefixes in %" PRIu64 " ms (%" PRIu64
                " ms CPU, %zu KiB)", e->st.prefixes4, e->st.prefixes6, clk_mono_ms() - t0,
                thread_cpu_ms() - c0, lpm_memory(e->table) >> 10);
    }
    if (c->local_networks != NULL && (e->local = load_local(c->local_networks, err, errlen)) == NULL)
        goto fail;
    if (c->route_lookup) {
        char rerr[256];
        e->rt = rt_new(c->route_cache != 0 ? c->route_cache : ENR_ROUTE_CACHE, rerr, sizeof(rerr));
        if (e->rt == NULL) {
            snprintf(err, errlen, "--route-lookup: %s", rerr);
            goto fail;
        }
    }
    return e;
fail:
    enr_free(e);
    return NULL;
}

void
enr_free(struct enricher *e)
{
    if (e == NULL)
        return;
    if (atomic_load_explicit(&e->state, memory_order_acquire) != LD_IDLE) {
        pthread_join(e->loader, NULL);
        lpm_free(e->loaded);
    }
    lpm_free(e->table);
    lpm_free(e->local);
    rt_free(e->rt);
    free((char *)(uintptr_t)e->cfg.networks_file);
    free((char *)(uintptr_t)e->cfg.asn_database);
    free(e);
}

/* The table's origin AS and prefix length for a (4 or 16 octets, network order); false when
 * no prefix holds it. Through the cache. */
static bool
as_lookup(struct enricher *e, int v, const uint8_t *a, uint32_t *asn, uint8_t *plen)
{
    const struct lpm_entry *m;
    uint8_t *state;

    e->st.as_lookups++;
    if (v == 4) {
        uint32_t h = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
        struct enr_hit4 *c = &e->c4[(h * 2654435761u) >> (32 - 12)];
        _Static_assert(ENR_CACHE4 == 1 << 12, "the hash above takes 12 bits");
        if (c->state != 0 && c->addr == h)
            goto hit4;
        m = lpm_lookup4(e->table, h);
        *c = (struct enr_hit4){.addr = h, .asn = m ? m->asn : 0, .plen = m ? m->plen : 0,
                               .state = m ? 2 : 1};
    hit4:
        *asn = c->asn;
        *plen = c->plen;
        state = &c->state;
    } else {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, a + 8, 8);
        struct enr_hit6 *c = &e->c6[((x ^ (y * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull) >>
                                    (64 - 10)];
        _Static_assert(ENR_CACHE6 == 1 << 10, "the hash above takes 10 bits");
        if (c->state != 0 && memcmp(c->addr, a, 16) == 0)
            goto hit6;
        m = lpm_lookup6(e->table, a);
        memcpy(c->addr, a, 16);
        c->asn = m ? m->asn : 0;
        c->plen = m ? m->plen : 0;
        c->state = m ? 2 : 1;
    hit6:
        *asn = c->asn;
        *plen = c->plen;
        state = &c->state;
    }
    e->st.as_found += *state == 2;
    return *state == 2;
}

static bool
is_local(const struct enricher *e, int v, const uint8_t *a)
{
    if (v == 4)
        return lpm_lookup4(e->local, (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
                                         (uint32_t)a[2] << 8 | a[3]) != NULL;
    return lpm_lookup6(e->local, a) != NULL;
}

/* The route to a: next hop into nh (zeros when directly connected or unknown), egress
 * ifIndex into *oif; returns the FIB prefix length, 0 when unknown. */
static uint8_t
route_to(struct enricher *e, int v, const uint8_t *a, uint8_t nh[16], uint32_t *oif)
{
    struct rt_result r;

    e->st.route_lookups++;
    if (rt_lookup(e->rt, v, a, &r) != 0) {
        e->st.route_missing++;
        return 0;
    }
    if (r.has_gw)
        memcpy(nh, r.gw, v == 4 ? 4 : 16);
    *oif = r.oif;
    return r.plen;
}

void
enr_flow(struct enricher *e, const struct flow_layout *L, struct flow *f)
{
    const uint8_t *src = flow_src_ip(f), *dst = flow_dst_ip(f);
    int v = f->key.ip_version;
    struct flow_enrich *x = flow_enrich(L, f);

    /* without --route-lookup the extension has no room for the route members (flow.h) */
    memset(x, 0, e->rt != NULL ? sizeof(*x) : FLOW_ENRICH_BASE_SIZE);
    if (v != 4 && v != 6)
        return;
    e->st.flows++;
    if (e->rt != NULL) {
        x->dst_plen = route_to(e, v, dst, x->next_hop, &x->egress_if);
        x->src_plen = route_to(e, v, src, x->rev_next_hop, &x->rev_egress_if);
    }
    if (e->table != NULL) {
        uint32_t asn;
        uint8_t plen;
        if (as_lookup(e, v, src, &asn, &plen)) {
            x->src_as = asn;
            x->src_plen = plen; /* the table's view wins over the FIB's (enrich.h) */
        }
        if (as_lookup(e, v, dst, &asn, &plen)) {
            x->dst_as = asn;
            x->dst_plen = plen;
        }
    }
    if (e->local != NULL)
        x->direction = !is_local(e, v, dst) && is_local(e, v, src) ? 1 : 0;
}

static void
on_route_event(struct ev_loop *l, int fd, int mask, void *ctx)
{
    struct enricher *e = ctx;
    int rc;

    (void)l;
    (void)fd;
    (void)mask;
    if ((rc = rt_process_events(e->rt)) < 0)
        LOG_RATELIMITED(60, LOG_WARNING, "--route-lookup: route notifications: %s", strerror(-rc));
}

int
enr_watch(struct enricher *e, struct ev_loop *l)
{
    int rc;

    if (e->rt == NULL)
        return 0;
    if ((rc = ev_set_file(l, rt_fd(e->rt), EV_READABLE, on_route_event, e)) != 0)
        return rc;
    e->loop = l;
    /* What changed between rt_new() and now. */
    (void)rt_process_events(e->rt);
    return 0;
}

void
enr_unwatch(struct enricher *e, struct ev_loop *l)
{
    if (e != NULL && e->rt != NULL && e->loop == l) {
        ev_set_file(l, rt_fd(e->rt), 0, NULL, NULL);
        e->loop = NULL;
    }
}

static void *
loader_main(void *arg)
{
    struct enricher *e = arg;
    uint64_t t0 = clk_mono_ms();

    e->loaded = lpm_load(e->cfg.networks_file, e->cfg.asn_database, e->load_err,
                         sizeof(e->load_err));
    e->load_ms = clk_mono_ms() - t0;
    atomic_store_explicit(&e->state, LD_DONE, memory_order_release);
    return NULL;
}

int
enr_reload(struct enricher *e)
{
    int rc;

    if (e->cfg.networks_file == NULL && e->cfg.asn_database == NULL)
        return -ENOENT;
    if (atomic_load_explicit(&e->state, memory_order_acquire) != LD_IDLE)
        return -EBUSY;
    e->loaded = NULL;
    e->load_err[0] = '\0';
    atomic_store_explicit(&e->state, LD_RUNNING, memory_order_relaxed);
    if ((rc = pthread_create(&e->loader, NULL, loader_main, e)) != 0) {
        atomic_store_explicit(&e->state, LD_IDLE, memory_order_relaxed);
        return -rc;
    }
    return 0;
}

bool
enr_poll(struct enricher *e)
{
    if (atomic_load_explicit(&e->state, memory_order_acquire) != LD_DONE)
        return false;
    pthread_join(e->loader, NULL);
    atomic_store_explicit(&e->state, LD_IDLE, memory_order_relaxed);
    if (e->loaded == NULL) {
        e->st.reload_failures++;
        log_msg(LOG_ERR, "SIGHUP: AS table not reloaded: %s; keeping the previous one (%zu "
                         "prefixes)", e->load_err, total_prefixes(e->table));
        return false;
    }
    /* Only this thread reads the table: once swapped, nothing can still hold the old one. */
    struct lpm *old = e->table;
    e->table = e->loaded;
    e->loaded = NULL;
    lpm_free(old);
    memset(e->c4, 0, sizeof(e->c4)); /* answers of the old table */
    memset(e->c6, 0, sizeof(e->c6));
    count_table(e);
    e->st.reloads++;
    log_msg(LOG_NOTICE, "SIGHUP: AS table reloaded: %zu IPv4 and %zu IPv6 prefixes in %" PRIu64
                        " ms", e->st.prefixes4, e->st.prefixes6, e->load_ms);
    return true;
}

const struct enr_stats *
enr_stats(const struct enricher *e)
{
    return &e->st;
}

void
enr_summary(const struct enricher *e, FILE *out)
{
    const struct enr_stats *s = &e->st;

    fprintf(out, "nfprobe: enrichment: %" PRIu64 " flows", s->flows);
    if (e->table != NULL)
        fprintf(out, "; AS table %zu IPv4 + %zu IPv6 prefixes, %" PRIu64 " of %" PRIu64
                     " addresses matched, %" PRIu64 " reloads (%" PRIu64 " failed)",
                s->prefixes4, s->prefixes6, s->as_found, s->as_lookups, s->reloads,
                s->reload_failures);
    if (e->rt != NULL) {
        const struct rt_stats *r = rt_stats(e->rt);
        fprintf(out, "; routes: %" PRIu64 " lookups (%" PRIu64 " from the cache), %" PRIu64
                     " without a route, %" PRIu64 " route changes",
                s->route_lookups, r->hits, s->route_missing, r->notifications);
    }
    fputc('\n', out);
}
