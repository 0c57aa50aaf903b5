/*
 * dpi.c - nDPI labels, fed and collected as NFStream 6.5.4 does (spec section 8, lib_engine.c).
 *
 * NFStream keeps an ndpi_flow_struct for the whole life of a flow and copies the labels out at
 * expiry. Here the nDPI state comes from a fixed pool and goes back the moment detection
 * completes or gives up: after that NFStream never feeds nDPI again and nothing it collects can
 * change, so collecting at that moment yields NFStream's expiry-time labels. A flow still in
 * detection when it expires is finished exactly as NFStream's meter_expire_flow() does.
 */
#include "build_config.h"

#include "dpi.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <ndpi_api.h>

/*
 * Bytes of a packet given to nDPI at most. nDPI 4.2 takes the length as an unsigned short and
 * NFStream passes a uint16 (caplen - ip_offset, which wraps above 65535): capping at the largest
 * length the API can carry keeps every packet NFStream can feed identical, and never wraps.
 */
#define DPI_MAX_FEED 65535u

/* Slots are cache-line aligned so that two flows in detection never share a line. */
#define DPI_SLOT_ALIGN 64

/* NFStream copies 24 bytes of the category name (memcpy(..., 24)): longer names are cut. */
#define DPI_CATEGORY_COPY 24

/* The per-flow state in the flow's ext[]: the labels first (output and export read them). */
struct dpi_state {
    struct flow_l7 l7;
    /* Pool index + 1 of the flow's nDPI state while detection runs; 0 once it completed
     * (NFStream's detection_completed) or when the pool was empty. */
    uint32_t slot;
    uint8_t gave_up; /* ndpi_detection_giveup() was called */
    uint8_t pad[3];
};
_Static_assert(offsetof(struct dpi_state, l7) == 0, "flow_l7 must start the DPI state");

struct dpi_ctx {
    struct ndpi_detection_module_struct *ndpi;
    uint8_t n_dissections;
    uint32_t pool_n;
    size_t slot_size;
    size_t pool_len;
    unsigned char *pool;  /* pool_n slots of slot_size bytes, each an ndpi_flow_struct */
    uint8_t *in_use;      /* per slot: 1 while a flow owns it (dpi_free releases those) */
    uint32_t *free_slots; /* stack of released slot indices */
    uint32_t n_free;
    uint32_t next_fresh;  /* slots at and above this were never used */
    struct dpi_stats st;
};

/*
 * nDPI's allocator hooks are process-global (set_ndpi_malloc()), so the counters are too: they
 * sum every detection module of every worker. Blocks are measured with malloc_usable_size(), not
 * with a size header, because nDPI 4.2 also calls malloc()/free() directly and a block may be
 * allocated by one path and released by the other: the hooks must stay plain malloc/free.
 */
static atomic_int_fast64_t mem_in_use;
static atomic_int_fast64_t mem_peak;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

/* nDPI does not support creating detection modules in parallel: workers start one at a time. */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static void
mem_account(int64_t delta)
{
    int64_t now = atomic_fetch_add(&mem_in_use, delta) + delta;
    int64_t peak = atomic_load(&mem_peak);

    while (now > peak && !atomic_compare_exchange_weak(&mem_peak, &peak, now))
        ;
}

static void *
dpi_malloc(size_t size)
{
    void *p = malloc(size);

    if (p != NULL)
        mem_account((int64_t)malloc_usable_size(p));
    return p;
}

static void
dpi_free_hook(void *p)
{
    if (p == NULL)
        return;
    mem_account(-(int64_t)malloc_usable_size(p));
    free(p);
}

static void
install_hooks(void)
{
    set_ndpi_malloc(dpi_malloc);
    set_ndpi_free(dpi_free_hook);
    /* Only ndpi_flow_malloc()/ndpi_flow_free() use these; flows come from our pool instead. */
    set_ndpi_flow_malloc(dpi_malloc);
    set_ndpi_flow_free(dpi_free_hook);
}

/* ------------------------------------------------------------------ custom rule files */

static char *
trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/*
 * One line of an nDPI protocols file: "attr,attr,...@Name" with attrs tcp:PORT[-PORT],
 * udp:PORT[-PORT], ip:ADDR[/LEN][:PORT] or host:"NAME", or one of 4.2's key:value settings.
 * nDPI 4.2 accepts almost anything (an unknown attribute becomes a host rule, a line without
 * '@' is reported on stdout and skipped), so the file is checked here to report mistakes by
 * file and line instead of mislabelling traffic.
 */
static bool
protos_line_ok(char *line)
{
    static const char *const settings[] = {"trusted_issuer_dn:", "ip_risk_mask:",
                                           "host_risk_mask:"};
    static const char *const attrs[] = {"tcp:", "udp:", "ip:", "host:"};
    char *at, *elem, *save = NULL;

    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        if (strncmp(line, settings[i], strlen(settings[i])) == 0)
            return true;
    at = strrchr(line, '@');
    if (at == NULL || at == line || at[1] == '\0')
        return false;
    *at = '\0';
    for (elem = strtok_r(line, ",", &save); elem != NULL; elem = strtok_r(NULL, ",", &save)) {
        bool known = false;
        elem = trim(elem);
        for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
            size_t n = strlen(attrs[i]);
            if (strncmp(elem, attrs[i], n) == 0 && elem[n] != '\0')
                known = true;
        }
        if (!known)
            return false;
    }
    return true;
}

/* One line of an nDPI categories file: "name<TAB>category_id", the id a valid nDPI category. */
static bool
categories_line_ok(char *line)
{
    char *tab = strchr(line, '\t'), *end;
    long id;

    if (tab == NULL || tab == line)
        return false;
    tab = trim(tab + 1);
    errno = 0;
    id = strtol(tab, &end, 10);
    return errno == 0 && end != tab && *end == '\0' && id >= 0 &&
           id < (long)NDPI_PROTOCOL_NUM_CATEGORIES;
}

/* Checks that a rule file opens and that every line parses; err names the file and line. */
static int
check_rule_file(const char *path, const char *what, bool (*line_ok)(char *), char *err,
                size_t errlen)
{
    char buf[4096];
    unsigned lineno = 0;
    FILE *fp = fopen(path, "r");
    int rc = 0;

    if (fp == NULL) {
        rc = -errno;
        snprintf(err, errlen, "nDPI %s file %s: %s", what, path, strerror(errno));
        return rc;
    }
    while (fgets(buf, sizeof(buf), fp) != NULL) {
        lineno++;
        if (strchr(buf, '\n') == NULL && !feof(fp)) {
            snprintf(err, errlen, "nDPI %s file %s:%u: line longer than %zu bytes", what, path,
                     lineno, sizeof(buf) - 2);
            rc = -EINVAL;
            break;
        }
        char *line = trim(buf);
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (!line_ok(line)) {
            snprintf(err, errlen, "nDPI %s file %s:%u: not a valid rule", what, path, lineno);
            rc = -EINVAL;
            break;
        }
    }
    if (rc == 0 && ferror(fp)) {
        snprintf(err, errlen, "nDPI %s file %s: read error", what, path);
        rc = -EIO;
    }
    fclose(fp);
    return rc;
}

/* ------------------------------------------------------------------ lifecycle */

/* NFStream's (and ndpiReader's) setup: every protocol on, the custom files, finalization. */
static int
setup_module(struct dpi_ctx *d, const struct dpi_config *c, char *err, size_t errlen)
{
    NDPI_PROTOCOL_BITMASK all;

    d->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
    if (d->ndpi == NULL) {
        snprintf(err, errlen, "dpi: nDPI %s: cannot create a detection module",
                 ndpi_revision());
        return -ENOMEM;
    }
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(d->ndpi, &all);
    if (c->protos_file != NULL && ndpi_load_protocols_file(d->ndpi, c->protos_file) < 0) {
        snprintf(err, errlen, "nDPI protocols file %s: nDPI could not load it", c->protos_file);
        return -EINVAL;
    }
    if (c->categories_file != NULL && ndpi_load_categories_file(d->ndpi, c->categories_file) < 0) {
        snprintf(err, errlen, "nDPI categories file %s: nDPI could not load it",
                 c->categories_file);
        return -EINVAL;
    }
    ndpi_finalize_initialization(d->ndpi);
    return 0;
}

struct dpi_ctx *
dpi_new(const struct dpi_config *c, char *err, size_t errlen)
{
    struct dpi_ctx *d = NULL;
    int rc;
    size_t flow_size = ndpi_detection_get_sizeof_ndpi_flow_struct();

    if (c->n_dissections == 0) {
        snprintf(err, errlen, "dpi: n_dissections must be 1..255 (0 means no DPI)");
        return NULL;
    }
    if (c->max_concurrent == 0) {
        snprintf(err, errlen, "dpi: the nDPI flow pool needs at least one entry");
        return NULL;
    }
    /* NFStream's dissector_checker: the struct we size the pool with must be the library's. */
    if (flow_size != sizeof(struct ndpi_flow_struct)) {
        snprintf(err, errlen,
                 "dpi: nDPI %s has a %zu-byte flow struct, its headers say %zu: rebuild nfprobe "
                 "against the installed libndpi",
                 ndpi_revision(), flow_size, sizeof(struct ndpi_flow_struct));
        return NULL;
    }
    if (c->protos_file != NULL &&
        check_rule_file(c->protos_file, "protocols", protos_line_ok, err, errlen) != 0)
        return NULL;
    if (c->categories_file != NULL &&
        check_rule_file(c->categories_file, "categories", categories_line_ok, err, errlen) != 0)
        return NULL;

    pthread_once(&hooks_once, install_hooks);

    d = calloc(1, sizeof(*d));
    if (d == NULL)
        goto nomem;
    d->n_dissections = c->n_dissections;
    d->pool_n = c->max_concurrent;
    d->slot_size = (flow_size + DPI_SLOT_ALIGN - 1) & ~(size_t)(DPI_SLOT_ALIGN - 1);
    if ((size_t)d->pool_n > SIZE_MAX / d->slot_size) {
        snprintf(err, errlen, "dpi: nDPI flow pool of %u entries is too large", d->pool_n);
        goto fail;
    }
    /* One state per flow of the table can be needed (every flow still in detection), but
     * only the slots in use at once are ever touched: the kernel maps pages lazily and
     * released slots are reused first. */
    d->pool_len = (size_t)d->pool_n * d->slot_size;
    d->pool = mmap(NULL, d->pool_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (d->pool == MAP_FAILED)
        d->pool = NULL;
    d->in_use = calloc(d->pool_n, 1);
    d->free_slots = calloc(d->pool_n, sizeof(*d->free_slots));
    if (d->pool == NULL || d->in_use == NULL || d->free_slots == NULL)
        goto nomem;

    pthread_mutex_lock(&init_lock);
    rc = setup_module(d, c, err, errlen);
    pthread_mutex_unlock(&init_lock);
    if (rc != 0)
        goto fail;
    return d;

nomem:
    snprintf(err, errlen, "dpi: out of memory for %u nDPI flow states", c->max_concurrent);
fail:
    dpi_free(d);
    return NULL;
}

void
dpi_free(struct dpi_ctx *d)
{
    if (d == NULL)
        return;
    /* Flows still in detection (the meter was freed without a flush) own nDPI allocations. */
    if (d->pool != NULL && d->in_use != NULL)
        for (uint32_t i = 0; i < d->next_fresh; i++)
            if (d->in_use[i])
                ndpi_free_flow_data((struct ndpi_flow_struct *)(void *)(d->pool +
                                                                        (size_t)i * d->slot_size));
    if (d->ndpi != NULL)
        ndpi_exit_detection_module(d->ndpi);
    free(d->free_slots);
    free(d->in_use);
    if (d->pool != NULL)
        munmap(d->pool, d->pool_len);
    free(d);
}

/* ------------------------------------------------------------------ labels */

/*
 * NFStream reads every label with ffi.string(...).decode('utf-8', errors='ignore'): bytes that
 * are not part of a well-formed UTF-8 sequence vanish. Done in place, after any truncation, so
 * that the labels are exactly NFStream's and always valid UTF-8 (IPFIX strings must be).
 */
static void
utf8_clean(char *s)
{
    const unsigned char *r = (const unsigned char *)s;
    unsigned char *w = (unsigned char *)s;

    while (*r != '\0') {
        unsigned char b = r[0];
        size_t n = 0;
        if (b < 0x80)
            n = 1;
        else if (b >= 0xc2 && b <= 0xdf)
            n = (r[1] >= 0x80 && r[1] <= 0xbf) ? 2 : 0;
        else if (b >= 0xe0 && b <= 0xef) {
            unsigned char lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
            n = (r[1] >= lo && r[1] <= hi && r[2] >= 0x80 && r[2] <= 0xbf) ? 3 : 0;
        } else if (b >= 0xf0 && b <= 0xf4) {
            unsigned char lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
            n = (r[1] >= lo && r[1] <= hi && r[2] >= 0x80 && r[2] <= 0xbf && r[3] >= 0x80 &&
                 r[3] <= 0xbf)
                    ? 4
                    : 0;
        }
        if (n == 0) {
            r++; /* a continuation byte never starts a sequence: each invalid byte goes alone */
            continue;
        }
        memmove(w, r, n);
        w += n;
        r += n;
    }
    *w = '\0';
}

/* Copies at most max chars of src (NULL = "") into dst[dstlen], NUL-terminated, then cleans. */
static void
put_label(char *dst, size_t dstlen, const char *src, size_t max)
{
    size_t n = src == NULL ? 0 : strnlen(src, max);

    if (n > dstlen - 1)
        n = dstlen - 1;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
    utf8_clean(dst);
}

static ndpi_protocol
state_proto(const struct dpi_state *s)
{
    ndpi_protocol p;

    memset(&p, 0, sizeof(p));
    p.master_protocol = s->l7.master_id;
    p.app_protocol = s->l7.app_id;
    p.category = (ndpi_protocol_category_t)s->l7.category_id;
    return p;
}

static void
set_proto(struct dpi_state *s, ndpi_protocol p)
{
    s->l7.master_id = p.master_protocol;
    s->l7.app_id = p.app_protocol;
    s->l7.category_id = (uint16_t)p.category;
}

static bool
is_proto(const struct dpi_state *s, uint16_t id)
{
    return s->l7.master_id == id || s->l7.app_id == id;
}

/* The names every flow has, from the detected protocol alone. */
static void
collect_names(struct dpi_ctx *d, struct dpi_state *s)
{
    char name[sizeof(s->l7.application_name)];

    ndpi_protocol2name(d->ndpi, state_proto(s), name, sizeof(name));
    put_label(s->l7.application_name, sizeof(s->l7.application_name), name, sizeof(name));
    put_label(s->l7.category_name, sizeof(s->l7.category_name),
              ndpi_category_get_name(d->ndpi, (ndpi_protocol_category_t)s->l7.category_id),
              DPI_CATEGORY_COPY);
}

/* NFStream's flow_bidirectional_dissection_collect_info(), field for field and size for size. */
static void
collect(struct dpi_ctx *d, struct dpi_state *s, const struct ndpi_flow_struct *nf)
{
    struct flow_l7 *l = &s->l7;

    l->confidence = (uint8_t)nf->confidence;
    collect_names(d, s);
    put_label(l->requested_server_name, sizeof(l->requested_server_name), nf->host_server_name,
              sizeof(nf->host_server_name));
    if (is_proto(s, NDPI_PROTOCOL_DHCP)) {
        put_label(l->client_fingerprint, sizeof(l->client_fingerprint),
                  nf->protos.dhcp.fingerprint, sizeof(nf->protos.dhcp.fingerprint));
    } else if (is_proto(s, NDPI_PROTOCOL_HTTP)) {
        put_label(l->content_type, sizeof(l->content_type), nf->http.content_type, SIZE_MAX);
        put_label(l->user_agent, sizeof(l->user_agent), nf->http.user_agent, SIZE_MAX);
    } else if (is_proto(s, NDPI_PROTOCOL_SSH)) {
        put_label(l->client_fingerprint, sizeof(l->client_fingerprint),
                  nf->protos.ssh.hassh_client, sizeof(nf->protos.ssh.hassh_client));
        put_label(l->server_fingerprint, sizeof(l->server_fingerprint),
                  nf->protos.ssh.hassh_server, sizeof(nf->protos.ssh.hassh_server));
    } else if (is_proto(s, NDPI_PROTOCOL_TLS) || is_proto(s, NDPI_PROTOCOL_DTLS) ||
               is_proto(s, NDPI_PROTOCOL_MAIL_SMTPS) || is_proto(s, NDPI_PROTOCOL_MAIL_IMAPS) ||
               is_proto(s, NDPI_PROTOCOL_MAIL_POPS) || is_proto(s, NDPI_PROTOCOL_QUIC)) {
        put_label(l->user_agent, sizeof(l->user_agent), nf->http.user_agent, SIZE_MAX);
        put_label(l->client_fingerprint, sizeof(l->client_fingerprint),
                  nf->protos.tls_quic.ja3_client, sizeof(nf->protos.tls_quic.ja3_client));
        put_label(l->server_fingerprint, sizeof(l->server_fingerprint),
                  nf->protos.tls_quic.ja3_server, sizeof(nf->protos.tls_quic.ja3_server));
    }
}

/* ------------------------------------------------------------------ pool */

static struct ndpi_flow_struct *
slot_flow(struct dpi_ctx *d, uint32_t slot)
{
    return (struct ndpi_flow_struct *)(void *)(d->pool + (size_t)(slot - 1) * d->slot_size);
}

/* Takes a zeroed nDPI flow from the pool; returns its slot (index + 1), or 0 when empty. */
static uint32_t
pool_get(struct dpi_ctx *d)
{
    uint32_t idx;

    if (d->n_free > 0)
        idx = d->free_slots[--d->n_free];
    else if (d->next_fresh < d->pool_n)
        idx = d->next_fresh++;
    else
        return 0;
    d->in_use[idx] = 1;
    /* NFStream memsets a fresh flow: nDPI relies on a zeroed state. */
    memset(d->pool + (size_t)idx * d->slot_size, 0, d->slot_size);
    return idx + 1;
}

/* Frees what nDPI allocated inside the flow (strings, buffers) and returns the slot. */
static void
pool_put(struct dpi_ctx *d, uint32_t slot)
{
    ndpi_free_flow_data(slot_flow(d, slot));
    d->in_use[slot - 1] = 0;
    d->free_slots[d->n_free++] = slot - 1;
}

/* Detection is over: labels out, nDPI state back to the pool. */
static void
finish(struct dpi_ctx *d, struct dpi_state *s)
{
    collect(d, s, slot_flow(d, s->slot));
    pool_put(d, s->slot);
    s->slot = 0;
    if (s->gave_up)
        d->st.flows_guessed++;
    else
        d->st.flows_detected++;
}

static void
feed(struct dpi_ctx *d, struct dpi_state *s, const struct pkt_meta *m)
{
    uint32_t len = m->ip_caplen;

    if (len > DPI_MAX_FEED) {
        len = DPI_MAX_FEED;
        d->st.bytes_capped++;
    }
    d->st.packets_fed++;
#ifdef HAVE_STRUCT_NDPI_FLOW_INPUT_INFO
    set_proto(s, ndpi_detection_process_packet(d->ndpi, slot_flow(d, s->slot), m->ip_pkt,
                                               (unsigned short)len, m->time_ms, NULL));
#else
    set_proto(s, ndpi_detection_process_packet(d->ndpi, slot_flow(d, s->slot), m->ip_pkt,
                                               (unsigned short)len, m->time_ms));
#endif
}

static void
give_up(struct dpi_ctx *d, struct dpi_state *s)
{
    uint8_t guessed = 0;

    set_proto(s, ndpi_detection_giveup(d->ndpi, slot_flow(d, s->slot), 1, &guessed));
    s->l7.guessed = guessed;
    s->gave_up = 1;
}

/* ------------------------------------------------------------------ meter callbacks */

/*
 * NFStream marks detection completed on the first packet that finds the application known and
 * ndpi_extra_dissection_possible() false, without feeding that packet. That query only reads the
 * nDPI flow, which no longer changes once it turns false: finishing right after the packet that
 * made it false yields the same labels, and gives the state back a packet (often a whole flow:
 * a DNS query and its answer) earlier.
 */
static bool
dissection_done(struct dpi_ctx *d, const struct dpi_state *s)
{
    return s->l7.app_id != NDPI_PROTOCOL_UNKNOWN &&
           !ndpi_extra_dissection_possible(d->ndpi, slot_flow(d, s->slot));
}

/* NFStream's flow_init_bidirectional_dissection(): packet 1 is always fed. */
static void
dpi_on_init(void *ctx, struct flow *f, void *state, const struct pkt_meta *m)
{
    struct dpi_ctx *d = ctx;
    struct dpi_state *s = state;

    (void)f;
    s->slot = pool_get(d);
    if (s->slot == 0) {
        /* No state left: the flow is labelled Unknown rather than delaying or dropping it. */
        d->st.pool_exhausted++;
        collect_names(d, s);
        return;
    }
    feed(d, s, m);
    if (s->l7.app_id == NDPI_PROTOCOL_UNKNOWN && d->n_dissections == 1)
        give_up(d, s);
    else if (!dissection_done(d, s))
        return;
    finish(d, s);
}

/*
 * NFStream's flow_update_bidirectional_dissection(). A flow still holding a state is unknown or
 * wants extra dissection (see dissection_done()), so NFStream would feed this packet.
 * f's packet count includes this packet, as NFStream's bidirectional_packets does.
 */
static void
dpi_on_update(void *ctx, struct flow *f, void *state, const struct pkt_meta *m)
{
    struct dpi_ctx *d = ctx;
    struct dpi_state *s = state;

    if (s->slot == 0)
        return;
    feed(d, s, m);
    if (f->dir[FLOW_BIDI].packets == d->n_dissections) {
        if (s->l7.app_id == NDPI_PROTOCOL_UNKNOWN)
            give_up(d, s);
    } else if (!dissection_done(d, s)) {
        return;
    }
    finish(d, s);
}

/* NFStream's meter_expire_flow(): a flow still unknown gives up, then labels are collected. */
static void
dpi_on_expire(void *ctx, struct flow *f, void *state)
{
    struct dpi_ctx *d = ctx;
    struct dpi_state *s = state;

    (void)f;
    if (s->slot == 0)
        return;
    if (s->l7.app_id == NDPI_PROTOCOL_UNKNOWN)
        give_up(d, s);
    finish(d, s);
}

struct mtr_ext
dpi_meter_ext(struct dpi_ctx *d)
{
    struct mtr_ext e = {
        .kind = MTR_EXT_L7,
        .ctx = d,
        .ext_size = sizeof(struct dpi_state),
        .ext_off = 0,
        .on_init = dpi_on_init,
        .on_update = dpi_on_update,
        .on_expire = dpi_on_expire,
    };
    return e;
}

/* ------------------------------------------------------------------ queries */

void
dpi_stats(const struct dpi_ctx *d, struct dpi_stats *out)
{
    int64_t in_use = atomic_load(&mem_in_use), peak = atomic_load(&mem_peak);

    *out = d->st;
    out->ndpi_mem_bytes = in_use > 0 ? (uint64_t)in_use : 0;
    out->ndpi_mem_peak = peak > 0 ? (uint64_t)peak : 0;
}

const char *
dpi_proto_name(struct dpi_ctx *d, uint16_t proto_id)
{
    const char *name = ndpi_get_proto_name(d->ndpi, proto_id);
    return name != NULL ? name : "Unknown";
}

const char *
dpi_category_name(struct dpi_ctx *d, uint16_t category_id)
{
    const char *name = NULL;

    if (category_id < NDPI_PROTOCOL_NUM_CATEGORIES)
        name = ndpi_category_get_name(d->ndpi, (ndpi_protocol_category_t)category_id);
    return name != NULL ? name : "Unspecified";
}

uint16_t
dpi_num_protocols(struct dpi_ctx *d)
{
    unsigned n = ndpi_get_num_supported_protocols(d->ndpi);
    return n > UINT16_MAX ? UINT16_MAX : (uint16_t)n;
}

const char *
dpi_version(void)
{
    return ndpi_revision();
}
