/*
 * plugin.c - plugin loading and checking, the plugins' meter extension, their columns and
 * elements.
 */
#include "plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features.h"
#include "fields.h"
#include "fmt.h"
#include "nfprobe/plugin.h"

#define PLG_MAX_ARGS 32
#define PLG_NAME_MAX 48

/* The oldest descriptor/setup layouts of this ABI version (what every plugin must provide). */
#define PLG_DESC_MIN_SIZE (offsetof(struct nfp_plugin, on_expire) + sizeof(nfp_expire_fn))

/* One exported field, resolved. */
struct plg_col {
    const struct plg_set *set;
    uint32_t type;
    uint32_t count;
    uint32_t off; /* in the plugins' block */
    char column[PLG_NAME_MAX + 6];
    char ie_name[PLG_NAME_MAX + 6];
    char description[160];
    struct exp_extra el;
};

struct plg_plugin {
    char *spec;  /* owned copy of "PATH:ARGS", split in place */
    const char *path;
    void *dl;
    const struct nfp_plugin *d;
    struct nfp_setup setup;
    bool loaded;    /* load() succeeded: unload() is due */
    uint32_t base;  /* its fields in the plugins' block */
    uint32_t state; /* its private state in the plugins' block */
    struct nfp_arg args[PLG_MAX_ARGS];
    uint32_t n_args;
};

struct plg_set {
    struct plg_plugin p[PLG_MAX_PLUGINS];
    size_t n;
    struct plg_col col[PLG_MAX_FIELDS];
    size_t n_col;
    size_t block; /* per-flow bytes of all plugins */
    bool want_packets;
    bool bound;
    struct flow_layout layout; /* the flows' layout, the plugins' block included (first bind) */
};

/* One plugin callback, with what it needs at hand (the packet path walks these arrays). */
struct plg_call {
    union {
        nfp_packet_fn pkt;
        nfp_expire_fn exp;
    } fn;
    void *ctx;
    struct nfp_flow *view;
    uint32_t base;  /* its fields in the plugins' block */
    uint32_t state; /* its state */
};

struct plg_worker {
    struct plg_set *s;
    struct meter *mt;
    struct flow_layout layout; /* mtr_layout(): where the statistics, SPLT, L7 are */
    uint32_t groups;           /* fld_groups(&layout) */
    struct flow *cur;
    bool in_expire;
    bool want_packets;
    struct plg_call init[PLG_MAX_PLUGINS], update[PLG_MAX_PLUGINS], expire[PLG_MAX_PLUGINS];
    size_t n_init, n_update, n_expire;
    struct nfp_flow view[PLG_MAX_PLUGINS];
};

/* ------------------------------------------------------------------ field types */

static uint32_t
type_size(uint32_t type)
{
    switch (type) {
    case NFP_U8:
    case NFP_I8:
    case NFP_STRING:
        return 1;
    case NFP_U16:
    case NFP_I16:
    case NFP_BYTES:
        return 2;
    case NFP_U32:
    case NFP_I32:
        return 4;
    case NFP_U64:
    case NFP_I64:
    case NFP_F64:
        return 8;
    default:
        return 0;
    }
}

static bool
type_is_number(uint32_t type)
{
    return type >= NFP_U8 && type <= NFP_F64;
}

/* Bytes the member takes in the udps struct. */
static uint32_t
field_bytes(uint32_t type, uint32_t count)
{
    if (type == NFP_STRING)
        return count;
    if (type == NFP_BYTES)
        return 2 + count;
    return type_size(type) * (count == 0 ? 1 : count);
}

/* The longest text a number of this type prints as. */
static uint32_t
number_text_max(uint32_t type)
{
    static const uint32_t len[] = {
        [NFP_U8] = 3,  [NFP_U16] = 5,  [NFP_U32] = 10, [NFP_U64] = 20, [NFP_I8] = 4,
        [NFP_I16] = 6, [NFP_I32] = 11, [NFP_I64] = 20, [NFP_F64] = 24,
    };
    return len[type];
}

/* The longest text of a field's value in a column. */
static uint64_t
field_text_max(uint32_t type, uint32_t count)
{
    if (type == NFP_STRING)
        return count - 1;
    if (type == NFP_BYTES)
        return 3 + 4 * (uint64_t)count; /* b'\xNN...' */
    if (count == 0)
        return number_text_max(type);
    return 2 + (uint64_t)count * number_text_max(type) + 2 * ((uint64_t)count - 1);
}

static bool
valid_name(const char *s)
{
    size_t n = 0;

    if (s == NULL || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (; s[n] != '\0'; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
        if (n >= PLG_NAME_MAX)
            return false;
    }
    return true;
}

/* FNV-1a: element ids derived from names must not change between runs or releases. */
static uint32_t
name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++) {
        h ^= (uint8_t)*s;
        h *= 16777619u;
    }
    return h;
}

/* "model_class" -> "udpsModelClass": an IPFIX-style lowerCamelCase element name. */
static void
ie_name(const char *field, char *out, size_t len)
{
    size_t o = (size_t)snprintf(out, len, "udps");
    bool up = true;

    for (; *field != '\0' && o + 1 < len; field++) {
        if (*field == '_') {
            up = true;
            continue;
        }
        char c = *field;
        if (up && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        up = false;
        out[o++] = c;
    }
    out[o] = '\0';
}

/* IANA abstract data types (RFC 7012; informationElementDataType of RFC 5610). */
enum {
    IE_OCTETS = 0,
    IE_U8 = 1,
    IE_U16 = 2,
    IE_U32 = 3,
    IE_U64 = 4,
    IE_I8 = 5,
    IE_I16 = 6,
    IE_I32 = 7,
    IE_I64 = 8,
    IE_F64 = 10,
    IE_STRING = 13,
};

static uint8_t
ie_type(uint32_t type, uint32_t count)
{
    static const uint8_t t[] = {
        [NFP_U8] = IE_U8,   [NFP_U16] = IE_U16, [NFP_U32] = IE_U32,
        [NFP_U64] = IE_U64, [NFP_I8] = IE_I8,   [NFP_I16] = IE_I16,
        [NFP_I32] = IE_I32, [NFP_I64] = IE_I64, [NFP_F64] = IE_F64,
        [NFP_STRING] = IE_STRING, [NFP_BYTES] = IE_OCTETS,
    };
    if (type_is_number(type) && count > 0)
        return IE_OCTETS;
    return t[type];
}

/* ------------------------------------------------------------------ loading */

/* Splits "PATH[:K=V,...]" in p->spec into path and arguments. */
static int
parse_spec(struct plg_plugin *p, const char *spec, char *err, size_t errlen)
{
    p->spec = strdup(spec);
    if (p->spec == NULL) {
        snprintf(err, errlen, "--plugin %s: %s", spec, strerror(ENOMEM));
        return -ENOMEM;
    }
    p->path = p->spec;
    char *colon = strchr(p->spec, ':');
    if (p->spec[0] == '\0' || colon == p->spec) {
        snprintf(err, errlen, "--plugin '%s': expected PATH[:KEY=VALUE,...]", spec);
        return -EINVAL;
    }
    if (colon == NULL)
        return 0;
    *colon = '\0';
    char *a = colon + 1;
    if (*a == '\0') {
        snprintf(err, errlen, "--plugin %s: nothing after ':' (expected KEY=VALUE,...)", p->path);
        return -EINVAL;
    }
    for (;;) {
        char *end = strchr(a, ',');
        if (end != NULL)
            *end = '\0';
        char *eq = strchr(a, '=');
        if (eq == NULL || eq == a) {
            snprintf(err, errlen, "--plugin %s: argument '%s': expected KEY=VALUE", p->path, a);
            return -EINVAL;
        }
        *eq = '\0';
        for (uint32_t i = 0; i < p->n_args; i++) {
            if (strcmp(p->args[i].key, a) == 0) {
                snprintf(err, errlen, "--plugin %s: argument '%s' given twice", p->path, a);
                return -EINVAL;
            }
        }
        if (p->n_args == PLG_MAX_ARGS) {
            snprintf(err, errlen, "--plugin %s: more than %d arguments", p->path, PLG_MAX_ARGS);
            return -EINVAL;
        }
        p->args[p->n_args].key = a;
        p->args[p->n_args].value = eq + 1;
        p->n_args++;
        if (end == NULL)
            break;
        a = end + 1;
    }
    return 0;
}

/* Opens the object and checks the descriptor before anything else of it is trusted. */
static int
open_plugin(struct plg_plugin *p, char *err, size_t errlen)
{
    char local[4096];
    const char *path = p->path;

    /* A bare file name means the file here, not a search of the library path. */
    if (strchr(path, '/') == NULL) {
        snprintf(local, sizeof(local), "./%s", path);
        path = local;
    }
    dlerror();
    p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (p->dl == NULL) {
        const char *e = dlerror();
        snprintf(err, errlen, "--plugin %s: cannot load: %s", p->path, e ? e : "unknown error");
        return -ENOENT;
    }
    p->d = dlsym(p->dl, NFP_SYMBOL);
    if (p->d == NULL) {
        snprintf(err, errlen, "--plugin %s: no '%s' symbol: not an nfprobe plugin", p->path,
                 NFP_SYMBOL);
        return -EINVAL;
    }
    if (p->d->abi_version != NFP_ABI_VERSION) {
        snprintf(err, errlen,
                 "--plugin %s: built for plugin ABI version %u, this nfprobe has version %d "
                 "(rebuild it against this nfprobe/plugin.h)",
                 p->path, p->d->abi_version, NFP_ABI_VERSION);
        return -EINVAL;
    }
    if (p->d->size < PLG_DESC_MIN_SIZE) {
        snprintf(err, errlen, "--plugin %s: descriptor of %u bytes, ABI version %d needs %zu",
                 p->path, p->d->size, NFP_ABI_VERSION, (size_t)PLG_DESC_MIN_SIZE);
        return -EINVAL;
    }
    if (!valid_name(p->d->name)) {
        snprintf(err, errlen, "--plugin %s: the descriptor has no valid name", p->path);
        return -EINVAL;
    }
    if (p->d->on_init == NULL && p->d->on_update == NULL && p->d->on_expire == NULL) {
        snprintf(err, errlen, "--plugin %s: defines none of on_init, on_update, on_expire",
                 p->path);
        return -EINVAL;
    }
    return 0;
}

static int
call_load(struct plg_plugin *p, char *err, size_t errlen)
{
    const struct nfp_plugin *d = p->d;
    struct nfp_args args = {p->n_args, p->args};
    char perr[512];

    p->setup = (struct nfp_setup){
        .size = sizeof(struct nfp_setup),
        .flags = d->flags,
        .udps_size = d->udps_size,
        .state_size = d->state_size,
        .n_fields = d->n_fields,
        .fields = d->fields,
    };
    if (d->load == NULL) {
        if (p->n_args > 0) {
            snprintf(err, errlen, "--plugin %s: takes no arguments ('%s' given)", p->path,
                     p->args[0].key);
            return -EINVAL;
        }
        return 0;
    }
    perr[0] = '\0';
    if (d->load(&p->setup, &args, perr, sizeof(perr)) != 0) {
        perr[sizeof(perr) - 1] = '\0';
        snprintf(err, errlen, "--plugin %s: %s", p->path,
                 perr[0] != '\0' ? perr : "load() failed");
        return -EINVAL;
    }
    p->loaded = true;
    return 0;
}

static size_t col_encode(const void *ctx, const struct flow *f, uint8_t *buf, size_t cap);

/* Checks p's fields against each other, the udps size and every field loaded before. */
static int
add_fields(struct plg_set *s, struct plg_plugin *p, char *err, size_t errlen)
{
    const struct nfp_setup *st = &p->setup;
    size_t first = s->n_col;

    if (st->flags & ~(uint32_t)NFP_WANT_PACKET) {
        snprintf(err, errlen, "--plugin %s: unknown flags 0x%x", p->path, st->flags);
        return -EINVAL;
    }
    if (st->n_fields > 0 && st->fields == NULL) {
        snprintf(err, errlen, "--plugin %s: %u fields but no field array", p->path, st->n_fields);
        return -EINVAL;
    }
    if ((uint64_t)st->udps_size + st->state_size > PLG_MAX_FLOW_BYTES) {
        snprintf(err, errlen, "--plugin %s: %u + %u bytes per flow, at most %d", p->path,
                 st->udps_size, st->state_size, PLG_MAX_FLOW_BYTES);
        return -EINVAL;
    }
    if (s->n_col + st->n_fields > PLG_MAX_FIELDS) {
        snprintf(err, errlen, "--plugin %s: more than %d fields in all plugins", p->path,
                 PLG_MAX_FIELDS);
        return -EINVAL;
    }
    for (uint32_t i = 0; i < st->n_fields; i++) {
        const struct nfp_field *fd = &st->fields[i];
        if (!valid_name(fd->name)) {
            snprintf(err, errlen, "--plugin %s: field %u: name must match [A-Za-z_][A-Za-z0-9_]*"
                     " (at most %d characters)", p->path, i, PLG_NAME_MAX);
            return -EINVAL;
        }
        uint32_t esize = type_size(fd->type);
        if (esize == 0) {
            snprintf(err, errlen, "--plugin %s: field %s: unknown type %u", p->path, fd->name,
                     fd->type);
            return -EINVAL;
        }
        if (!type_is_number(fd->type) && fd->count == 0) {
            snprintf(err, errlen, "--plugin %s: field %s: a string or bytes field needs a "
                     "capacity (count > 0)", p->path, fd->name);
            return -EINVAL;
        }
        if (fd->type == NFP_STRING && fd->count < 2) {
            snprintf(err, errlen, "--plugin %s: field %s: a string needs count >= 2 (NUL)",
                     p->path, fd->name);
            return -EINVAL;
        }
        if (fd->count > 65535) {
            snprintf(err, errlen, "--plugin %s: field %s: count %u is above 65535", p->path,
                     fd->name, fd->count);
            return -EINVAL;
        }
        uint64_t bytes = field_bytes(fd->type, fd->count);
        if ((uint64_t)fd->offset + bytes > st->udps_size) {
            snprintf(err, errlen, "--plugin %s: field %s: offset %u + %llu bytes is past the "
                     "udps struct (%u bytes)", p->path, fd->name, fd->offset,
                     (unsigned long long)bytes, st->udps_size);
            return -EINVAL;
        }
        if (fd->offset % esize != 0) {
            snprintf(err, errlen, "--plugin %s: field %s: offset %u is not aligned to %u",
                     p->path, fd->name, fd->offset, esize);
            return -EINVAL;
        }
        uint64_t text = field_text_max(fd->type, fd->count);
        if (text > PLG_MAX_TEXT) {
            snprintf(err, errlen, "--plugin %s: field %s: its value can print as %llu "
                     "characters, a column holds %d", p->path, fd->name,
                     (unsigned long long)text, PLG_MAX_TEXT);
            return -EINVAL;
        }
        if (fd->ipfix_id != 0 &&
            (fd->ipfix_id < PLG_IPFIX_ID_MIN || fd->ipfix_id >= PLG_IPFIX_ID_HASHED)) {
            snprintf(err, errlen, "--plugin %s: field %s: IPFIX id %u outside %d..%d", p->path,
                     fd->name, fd->ipfix_id, PLG_IPFIX_ID_MIN, PLG_IPFIX_ID_HASHED - 1);
            return -EINVAL;
        }
        if (fd->reserved != 0) {
            snprintf(err, errlen, "--plugin %s: field %s: reserved must be 0", p->path, fd->name);
            return -EINVAL;
        }
        uint16_t id = fd->ipfix_id != 0
                          ? fd->ipfix_id
                          : (uint16_t)(PLG_IPFIX_ID_HASHED +
                                       name_hash(fd->name) % (PLG_IPFIX_ID_MAX + 1 -
                                                              PLG_IPFIX_ID_HASHED));
        for (size_t j = 0; j < s->n_col; j++) {
            const struct plg_col *o = &s->col[j];
            if (strcmp(o->column + 5, fd->name) == 0) {
                snprintf(err, errlen, "--plugin %s: field %s: a field of that name exists "
                         "already%s", p->path, fd->name, j >= first ? "" : " (another plugin)");
                return -EINVAL;
            }
            if (j >= first) {
                /* Fields of one plugin must not overlap. */
                uint32_t a0 = o->off - p->base, a1 = a0 + field_bytes(o->type, o->count);
                if (fd->offset < a1 && a0 < fd->offset + bytes) {
                    snprintf(err, errlen, "--plugin %s: fields %s and %s overlap", p->path,
                             o->column + 5, fd->name);
                    return -EINVAL;
                }
            }
            if (o->el.id == id) {
                snprintf(err, errlen, "--plugin %s: field %s: IPFIX element id %u is taken by "
                         "%s (give one of them an explicit id)", p->path, fd->name, id,
                         o->column);
                return -EINVAL;
            }
        }
        struct plg_col *c = &s->col[s->n_col];
        struct exp_extra *e = &c->el;
        c->set = s;
        c->type = fd->type;
        c->count = fd->count;
        c->off = p->base + fd->offset;
        snprintf(c->column, sizeof(c->column), "udps.%s", fd->name);
        ie_name(fd->name, c->ie_name, sizeof(c->ie_name));
        snprintf(c->description, sizeof(c->description),
                 "nfprobe plugin %s: NFStream udps column udps.%s", p->d->name, fd->name);
        e->name = c->ie_name;
        e->description = c->description;
        e->id = id;
        e->type = ie_type(fd->type, fd->count);
        e->varlen = fd->type == NFP_STRING || fd->type == NFP_BYTES;
        e->length = (uint16_t)(fd->type == NFP_STRING  ? fd->count - 1
                               : fd->type == NFP_BYTES ? fd->count
                                                       : bytes);
        /* v9 has no variable length: strings go NUL-padded, bytes would lose their length */
        e->v9_id = fd->type == NFP_BYTES
                       ? 0
                       : (uint16_t)(EXP_V9_EXTRA_FIRST +
                                    id % (EXP_V9_EXTRA_LAST + 1 - EXP_V9_EXTRA_FIRST));
        for (size_t j = 0; j < s->n_col && e->v9_id != 0; j++) {
            if (s->col[j].el.v9_id == e->v9_id) {
                snprintf(err, errlen, "--plugin %s: field %s: NetFlow v9 field %u is taken by %s "
                         "(give one of them another IPFIX id)", p->path, fd->name, e->v9_id,
                         s->col[j].column);
                return -EINVAL;
            }
        }
        e->encode = col_encode;
        e->ctx = c;
        s->n_col++;
    }
    return 0;
}

static size_t
align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void
drop_plugin(struct plg_plugin *p)
{
    if (p->loaded && p->d->unload != NULL)
        p->d->unload(p->setup.ctx);
    p->loaded = false;
    if (p->dl != NULL)
        dlclose(p->dl);
    p->dl = NULL;
    free(p->spec);
    p->spec = NULL;
}

struct plg_set *
plg_load(const char *const *specs, size_t n, char *err, size_t errlen)
{
    struct plg_set *s;

    if (n > PLG_MAX_PLUGINS) {
        snprintf(err, errlen, "--plugin: at most %d plugins", PLG_MAX_PLUGINS);
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "--plugin: %s", strerror(ENOMEM));
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct plg_plugin *p = &s->p[i];
        s->n = i + 1;
        if (parse_spec(p, specs[i], err, errlen) != 0 || open_plugin(p, err, errlen) != 0 ||
            call_load(p, err, errlen) != 0)
            goto fail;
        p->base = (uint32_t)s->block;
        p->state = (uint32_t)(s->block + align8(p->setup.udps_size));
        if (add_fields(s, p, err, errlen) != 0)
            goto fail;
        s->block = align8(p->state + (size_t)p->setup.state_size);
        if (p->setup.flags & NFP_WANT_PACKET)
            s->want_packets = true;
    }
    return s;
fail:
    plg_free(s);
    return NULL;
}

void
plg_free(struct plg_set *s)
{
    if (s == NULL)
        return;
    /* In reverse: a plugin loaded later may depend on one loaded before. */
    for (size_t i = s->n; i-- > 0;)
        drop_plugin(&s->p[i]);
    free(s);
}

size_t
plg_count(const struct plg_set *s)
{
    return s->n;
}

bool
plg_wants_packets(const struct plg_set *s)
{
    return s->want_packets;
}

size_t
plg_flow_bytes(const struct plg_set *s)
{
    return s->block;
}

/* ------------------------------------------------------------------ the flow view */

static struct flow *
view_flow(const struct nfp_flow *fl)
{
    return ((const struct plg_worker *)fl->internal)->cur;
}

/* nfp_flow_get(): the catalogue row with that plugin id, read as every sink reads it. */
static int
api_get(const struct nfp_flow *fl, uint32_t field, struct nfp_value *out)
{
    const struct plg_worker *pw = fl->internal;
    const struct flow *f = pw->cur;
    int id = fld_by_plugin_id(field);
    union fld_value v;

    /* tunnel_id reads 0 without tunnel decoding, as it always did; the families are the
     * exporters' business */
    if (id < 0 || !fld_enabled((enum fld_id)id, pw->groups | FLD_G_TUNNEL | FLD_G_V4 | FLD_G_V6 |
                                                    FLD_G_NTOP))
        return -1;
    fld_get((enum fld_id)id, &pw->layout, f, &v);
    out->len = 0;
    switch (fld_defs[id].type) {
    case FLD_T_I64:
        out->type = NFP_I64;
        out->v.i = v.i;
        break;
    case FLD_T_F64:
        out->type = NFP_F64;
        out->v.d = v.d;
        break;
    case FLD_T_STR:
        out->type = NFP_STRING;
        out->v.p = v.s;
        out->len = (uint32_t)strlen(v.s);
        break;
    case FLD_T_IP:
        out->type = NFP_BYTES;
        out->v.p = v.b;
        out->len = f->key.ip_version == 4 ? 4 : 16;
        break;
    case FLD_T_MAC:
        out->type = NFP_BYTES;
        out->v.p = v.b;
        out->len = 6;
        break;
    case FLD_T_U64:
    case FLD_T_APPID:
        out->type = NFP_U64;
        out->v.u = v.u;
        break;
    default: /* lists and OUIs have no plugin id (SPLT entries: nfp_flow_splt) */
        return -1;
    }
    return 0;
}

static int
api_splt(const struct nfp_flow *fl, uint32_t i, struct nfp_splt *out)
{
    const struct plg_worker *pw = fl->internal;
    const struct flow *f = pw->cur;

    if (i >= f->splt_len || i >= pw->layout.splt_n)
        return -1;
    out->direction = flow_splt_dir(&pw->layout, f)[i];
    out->pad = 0;
    out->ps = flow_splt_ps(&pw->layout, f)[i];
    out->piat_ms = flow_splt_piat(&pw->layout, f)[i];
    return 0;
}

static void
api_end(struct nfp_flow *fl)
{
    const struct plg_worker *pw = fl->internal;

    /* At expiry the flow is leaving already: its reason must stay what it is. */
    if (!pw->in_expire)
        mtr_end_flow(pw->mt, view_flow(fl));
}

static const struct nfp_api plg_api = {
    .size = sizeof(struct nfp_api),
    .abi_version = NFP_ABI_VERSION,
    .get = api_get,
    .splt = api_splt,
    .end = api_end,
};

/* ------------------------------------------------------------------ the meter extension */

/*
 * NFStream's NFPacket. Addresses and MACs are the flow's, swapped for direction 1; the packet's
 * own addresses are exactly those (the key matched), and the MACs are adjacent in struct flow,
 * so no branch is needed. Fields are assigned in pkt_meta's order so that stores merge: this
 * runs for every packet.
 */
_Static_assert(offsetof(struct flow, dst_mac) == offsetof(struct flow, src_mac) + 6,
               "the packet view indexes the flow's MACs by direction");

static void
make_packet(const struct plg_worker *pw, const struct flow *f, const struct pkt_meta *m,
            struct nfp_packet *p)
{
    unsigned dir = m->direction != 0;

    p->size = sizeof(*p);
    p->ip_caplen = pw->want_packets ? m->ip_caplen : 0;
    p->time = m->time_ms;
    p->delta_time = m->delta_time;
    p->ip_packet = pw->want_packets ? m->ip_pkt : NULL;
    p->src_ip = m->src_ip;
    p->dst_ip = m->dst_ip;
    p->src_mac = f->src_mac + 6 * dir;
    p->dst_mac = f->src_mac + 6 * (dir ^ 1);
    p->raw_size = m->raw_size;
    p->ip_size = m->ip_size;
    p->transport_size = m->transport_size;
    p->payload_size = m->payload_size;
    p->src_port = m->src_port;
    p->dst_port = m->dst_port;
    p->vlan_id = m->vlan_id;
    p->protocol = m->protocol;
    p->ip_version = m->ip_version;
    p->tunnel_id = m->tunnel_id;
    p->tcp_flags = m->tcp_flags;
    p->direction = m->direction;
    p->reserved = 0;
}

/* Points a call's view at this flow's memory. */
static struct nfp_flow *
view_at(const struct plg_call *c, unsigned char *block)
{
    c->view->udps = block + c->base;
    c->view->state = block + c->state;
    return c->view;
}

static void
ext_init(void *ctx, struct flow *f, void *state, const struct pkt_meta *m)
{
    struct plg_worker *pw = ctx;
    struct nfp_packet p;

    if (pw->n_init == 0)
        return;
    pw->cur = f;
    make_packet(pw, f, m, &p);
    for (size_t i = 0; i < pw->n_init; i++) {
        const struct plg_call *c = &pw->init[i];
        c->fn.pkt(c->ctx, view_at(c, state), &p);
    }
}

static void
ext_update(void *ctx, struct flow *f, void *state, const struct pkt_meta *m)
{
    struct plg_worker *pw = ctx;
    struct nfp_packet p;

    if (pw->n_update == 0)
        return;
    pw->cur = f;
    make_packet(pw, f, m, &p);
    for (size_t i = 0; i < pw->n_update; i++) {
        const struct plg_call *c = &pw->update[i];
        c->fn.pkt(c->ctx, view_at(c, state), &p);
    }
}

static void
ext_expire(void *ctx, struct flow *f, void *state)
{
    struct plg_worker *pw = ctx;

    pw->cur = f;
    pw->in_expire = true;
    for (size_t i = 0; i < pw->n_expire; i++) {
        const struct plg_call *c = &pw->expire[i];
        c->fn.exp(c->ctx, view_at(c, state));
    }
    pw->in_expire = false;
}

struct plg_worker *
plg_worker_new(struct plg_set *s, char *err, size_t errlen)
{
    struct plg_worker *pw = calloc(1, sizeof(*pw));

    if (pw == NULL) {
        snprintf(err, errlen, "plugins: %s", strerror(ENOMEM));
        return NULL;
    }
    pw->s = s;
    pw->want_packets = s->want_packets;
    for (size_t i = 0; i < s->n; i++) {
        const struct plg_plugin *p = &s->p[i];
        struct plg_call c = {{NULL}, p->setup.ctx, &pw->view[i], p->base, p->state};
        pw->view[i].size = sizeof(struct nfp_flow);
        pw->view[i].api = &plg_api;
        pw->view[i].internal = pw;
        if ((c.fn.pkt = p->d->on_init) != NULL)
            pw->init[pw->n_init++] = c;
        if ((c.fn.pkt = p->d->on_update) != NULL)
            pw->update[pw->n_update++] = c;
        if ((c.fn.exp = p->d->on_expire) != NULL)
            pw->expire[pw->n_expire++] = c;
    }
    return pw;
}

void
plg_worker_free(struct plg_worker *pw)
{
    free(pw);
}

struct mtr_ext
plg_worker_ext(struct plg_worker *pw)
{
    struct mtr_ext e = {
        .kind = MTR_EXT_PLUGINS,
        .ctx = pw,
        .ext_size = pw->s->block,
        .on_init = ext_init,
        .on_update = ext_update,
        .on_expire = ext_expire,
    };
    return e;
}

int
plg_worker_bind(struct plg_worker *pw, struct meter *mt, char *err, size_t errlen)
{
    struct plg_set *s = pw->s;
    const struct flow_layout *L = mtr_layout(mt);

    pw->mt = mt;
    pw->layout = *L;
    pw->groups = fld_groups(L);
    if (s->bound && (s->layout.plugin_off != L->plugin_off || s->layout.l7 != L->l7 ||
                     s->layout.l7_off != L->l7_off || s->layout.splt_off != L->splt_off ||
                     s->layout.splt_n != L->splt_n || s->layout.statistics != L->statistics)) {
        snprintf(err, errlen, "plugins: flow layout differs between workers (block at %zu vs %zu)",
                 L->plugin_off, s->layout.plugin_off);
        return -EINVAL;
    }
    s->layout = *L;
    s->bound = true;
    return 0;
}

/* ------------------------------------------------------------------ values */

static const unsigned char *
col_value(const struct plg_col *c, const struct flow *f)
{
    return flow_plugin_block(&c->set->layout, (struct flow *)(uintptr_t)f) + c->off;
}

/* Element k of a number field, widened. */
static void
load_number(uint32_t type, const unsigned char *p, uint64_t *u, int64_t *i, double *d)
{
    switch (type) {
    case NFP_U8:
        *u = *p;
        break;
    case NFP_U16: {
        uint16_t v;
        memcpy(&v, p, 2);
        *u = v;
        break;
    }
    case NFP_U32: {
        uint32_t v;
        memcpy(&v, p, 4);
        *u = v;
        break;
    }
    case NFP_U64:
        memcpy(u, p, 8);
        break;
    case NFP_I8:
        *i = (int8_t)*p;
        break;
    case NFP_I16: {
        int16_t v;
        memcpy(&v, p, 2);
        *i = v;
        break;
    }
    case NFP_I32: {
        int32_t v;
        memcpy(&v, p, 4);
        *i = v;
        break;
    }
    case NFP_I64:
        memcpy(i, p, 8);
        break;
    default:
        memcpy(d, p, 8);
        break;
    }
}

/* Python's str() of one number into buf (>= FMT_DOUBLE_MAX bytes). */
static size_t
format_number(uint32_t type, const unsigned char *p, char *buf)
{
    uint64_t u = 0;
    int64_t i = 0;
    double d = 0;

    load_number(type, p, &u, &i, &d);
    if (type == NFP_F64)
        return fmt_double(buf, d);
    if (type >= NFP_I8 && type <= NFP_I64)
        return fmt_i64(buf, i);
    return fmt_u64(buf, u);
}

/* Python's repr() of bytes: b'..' (b".." when only that avoids escaping a quote). */
static size_t
format_bytes(const uint8_t *data, size_t n, char *buf)
{
    static const char hex[] = "0123456789abcdef";
    char q = memchr(data, '\'', n) != NULL && memchr(data, '"', n) == NULL ? '"' : '\'';
    size_t o = 0;

    buf[o++] = 'b';
    buf[o++] = q;
    for (size_t k = 0; k < n; k++) {
        uint8_t c = data[k];
        if (c == '\\' || c == (uint8_t)q) {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c == '\t' || c == '\n' || c == '\r') {
            buf[o++] = '\\';
            buf[o++] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
        } else if (c < 0x20 || c >= 0x7f) {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = q;
    buf[o] = '\0';
    return o;
}

/* out_extra.format: the column's Python str() (the lengths were bounded at load). */
static int
col_format(void *ctx, const struct flow *f, char *buf, size_t len)
{
    const struct plg_col *c = ctx;
    const unsigned char *p = col_value(c, f);
    char tmp[FMT_DOUBLE_MAX];

    if (len <= PLG_MAX_TEXT) {
        buf[0] = '\0';
        return OUT_KIND_STRING;
    }
    if (c->type == NFP_STRING) {
        size_t n = strnlen((const char *)p, c->count - 1);
        memcpy(buf, p, n);
        buf[n] = '\0';
        return OUT_KIND_STRING;
    }
    if (c->type == NFP_BYTES) {
        uint16_t n;
        memcpy(&n, p, 2);
        format_bytes(p + 2, n < c->count ? n : c->count, buf);
        return OUT_KIND_STRING;
    }
    if (c->count == 0) {
        size_t n = format_number(c->type, p, tmp);
        memcpy(buf, tmp, n + 1);
        return OUT_KIND_NUMBER;
    }
    size_t o = 0, es = type_size(c->type);
    buf[o++] = '[';
    for (uint32_t k = 0; k < c->count; k++) {
        if (k > 0) {
            buf[o++] = ',';
            buf[o++] = ' ';
        }
        size_t n = format_number(c->type, p + k * es, tmp);
        memcpy(buf + o, tmp, n);
        o += n;
    }
    buf[o++] = ']';
    buf[o] = '\0';
    return OUT_KIND_LIST;
}

size_t
plg_out_extras(const struct plg_set *s, struct out_extra *out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < s->n_col && n < max; i++, n++) {
        out[n].name = s->col[i].column;
        out[n].ctx = (void *)&s->col[i];
        out[n].format = col_format;
    }
    return n;
}

static void
put_be(uint8_t *out, uint64_t v, size_t n)
{
    for (size_t k = n; k-- > 0; v >>= 8)
        out[k] = (uint8_t)v;
}

/* exp_extra.encode: the value in network order. */
static size_t
col_encode(const void *ctx, const struct flow *f, uint8_t *buf, size_t cap)
{
    const struct plg_col *c = ctx;
    const unsigned char *p = col_value(c, f);

    if (c->type == NFP_STRING) {
        size_t n = strnlen((const char *)p, c->count - 1);
        if (n > cap)
            return 0;
        memcpy(buf, p, n);
        return n;
    }
    if (c->type == NFP_BYTES) {
        uint16_t n;
        memcpy(&n, p, 2);
        if (n > c->count)
            n = (uint16_t)c->count;
        if (n > cap)
            return 0;
        memcpy(buf, p + 2, n);
        return n;
    }
    size_t es = type_size(c->type), count = c->count == 0 ? 1 : c->count;
    if (es * count > cap)
        return 0;
    for (size_t k = 0; k < count; k++) {
        uint64_t u = 0;
        int64_t iv = 0;
        double d = 0;
        load_number(c->type, p + k * es, &u, &iv, &d);
        if (c->type == NFP_F64)
            memcpy(&u, &d, 8);
        else if (c->type >= NFP_I8 && c->type <= NFP_I64)
            u = (uint64_t)iv;
        put_be(buf + k * es, u, es);
    }
    return es * count;
}

size_t
plg_exp_extras(const struct plg_set *s, struct exp_extra *out, size_t max)
{
    size_t n = 0;

    for (; n < s->n_col && n < max; n++)
        out[n] = s->col[n].el;
    return n;
}

static const char *
ie_type_name(uint8_t t)
{
    static const char *const names[] = {
        [IE_OCTETS] = "octetArray", [IE_U8] = "unsigned8",   [IE_U16] = "unsigned16",
        [IE_U32] = "unsigned32",    [IE_U64] = "unsigned64", [IE_I8] = "signed8",
        [IE_I16] = "signed16",      [IE_I32] = "signed32",   [IE_I64] = "signed64",
        [IE_F64] = "float64",       [IE_STRING] = "string",
    };
    return t < sizeof(names) / sizeof(names[0]) && names[t] != NULL ? names[t] : "octetArray";
}

int
plg_write_registry(const struct plg_set *s, FILE *out, uint32_t pen, bool xml)
{
    if (xml)
        fprintf(out, "<?xml version='1.0' encoding='UTF-8'?>\n"
                     "<!-- Generated by nfprobe-plugin-registry. -->\n"
                     "<registry id=\"nfprobe_plugins\"\n"
                     "          xmlns=\"http://www.iana.org/assignments\"\n"
                     "          xmlns:cert=\"http://www.cert.org/ipfix\">\n\n"
                     "  <title>nfprobe plugin elements</title>\n\n"
                     "  <registry id=\"nfprobe-plugin-elements\">\n"
                     "    <title>Elements of nfprobe plugins (PEN %u)</title>\n", pen);
    for (size_t i = 0; i < s->n_col; i++) {
        const struct exp_extra *e = &s->col[i].el;
        if (!xml) {
            /* python3-ipfix: name(pen/id)<type>[length], 65535 = variable */
            fprintf(out, "%s(%u/%u)<%s>[%u]\n", e->name, pen, e->id, ie_type_name(e->type),
                    e->varlen ? 65535u : e->length);
            continue;
        }
        /* names and descriptions are [A-Za-z0-9_. :] only: no XML escaping needed */
        fprintf(out,
                "\n    <record>\n      <name>%s</name>\n      <dataType>%s</dataType>\n"
                "      <cert:enterpriseId>%u</cert:enterpriseId>\n"
                "      <elementId>%u</elementId>\n"
                "      <description>\n        <paragraph>%s</paragraph>\n"
                "      </description>\n    </record>\n",
                e->name, ie_type_name(e->type), pen, e->id, e->description);
    }
    if (xml)
        fprintf(out, "  </registry>\n</registry>\n");
    return ferror(out) ? -EIO : 0;
}
