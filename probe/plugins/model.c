/*
 * model.c - early classification inside the probe: a LIBLINEAR logistic-regression model
 * predicts each flow's class from its first packets, and the prediction is exported with the
 * flow (udps.model_class, udps.model_probability, udps.model_packets).
 *
 *     nfprobe -r x.pcap --plugin probe/plugins/model.so:model=FILE[,labels=FILE][,end=1]
 *
 *   model=FILE   a model trained by liblinear-train -s 0 (or 6, 7: probabilities needed)
 *   labels=FILE  class names and the packet count the model was trained for (default:
 *                FILE.labels): a first line "# nfprobe model labels: packets=N", then one
 *                "LABEL NAME" line per class (tests/plugin_features.py writes it)
 *   end=1        end the flow once predicted (NFStream's custom expiration, expiration_id -1)
 *
 * The prediction is made at the flow's N-th packet, or when the flow ends before that. The
 * features are those tests/plugin_features.py computes from the SPLT columns (same formulas,
 * same order, so a model trained offline sees the same numbers here): for the first N packets
 * the size signed by direction over 1500, and log1p(inter-arrival ms) / 10; the share of the N
 * packets seen; the protocol; the server and client ports, one-hot over well-known ports.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linear.h>
#include "nfprobe/plugin.h"

#define MODEL_MAX_PACKETS 32
#define MODEL_MAX_CLASSES 256
#define MODEL_NAME_MAX 32

/* Well-known ports one-hot encoded (the python side has the same list, same order). */
static const uint16_t ports[] = {53,  80,  443, 123,  137, 138, 67,   68,   5353, 1900, 22,
                                 25,  110, 143, 993,  995, 8080, 3478, 5223, 445,  389, 161};
#define N_PORTS (sizeof(ports) / sizeof(ports[0]))
#define PORT_FEATURES (N_PORTS + 2)
#define MAX_FEATURES (2 * MODEL_MAX_PACKETS + 4 + 2 * PORT_FEATURES)

struct udps {
    char model_class[MODEL_NAME_MAX];
    double model_probability;
    uint16_t model_packets;
};

static const struct nfp_field fields[] = {
    NFP_FIELD(struct udps, model_class, NFP_STRING, MODEL_NAME_MAX),
    NFP_FIELD(struct udps, model_probability, NFP_F64, 0),
    NFP_FIELD(struct udps, model_packets, NFP_U16, 0),
};

/*
 * Private per-flow state, sized at load for the model's N packets (state_size): this header,
 * then uint32_t piat[N], uint16_t ps[N], uint8_t dir[N].
 */
struct state {
    uint8_t n;
    uint8_t done;
    uint8_t pad[2];
};

struct model_ctx {
    struct model *m;
    uint32_t packets;
    uint32_t ps_off, dir_off; /* in the state; piat[] follows the header */
    int end;
    int nr_class;
    int labels[MODEL_MAX_CLASSES];        /* liblinear's order of the probabilities */
    char names[MODEL_MAX_CLASSES][MODEL_NAME_MAX];
};

/* liblinear prints training progress; loading prints nothing we want in our logs. */
static void
quiet(const char *s)
{
    (void)s;
}

static int
read_labels(struct model_ctx *c, const char *path, int *ids, char (*names)[MODEL_NAME_MAX],
            int *n_out, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char line[512];
    int n = 0, lineno = 0;

    if (fp == NULL) {
        snprintf(err, errlen, "labels %s: %s", path, strerror(errno));
        return -1;
    }
    c->packets = 0;
    while (fgets(line, sizeof(line), fp) != NULL) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (lineno == 1) {
            unsigned p;
            if (sscanf(line, "# nfprobe model labels: packets=%u", &p) != 1 || p == 0 ||
                p > MODEL_MAX_PACKETS) {
                snprintf(err, errlen, "labels %s:1: expected '# nfprobe model labels: "
                         "packets=N' with N in 1..%d", path, MODEL_MAX_PACKETS);
                goto fail;
            }
            c->packets = p;
            continue;
        }
        if (line[0] == '\0')
            continue;
        char *sp = strchr(line, ' ');
        char *end;
        long id = strtol(line, &end, 10);
        if (sp == NULL || end != sp || sp[1] == '\0' || strlen(sp + 1) >= MODEL_NAME_MAX ||
            n == MODEL_MAX_CLASSES) {
            snprintf(err, errlen, "labels %s:%d: expected 'LABEL NAME' (name below %d "
                     "characters, at most %d classes)", path, lineno, MODEL_NAME_MAX,
                     MODEL_MAX_CLASSES);
            goto fail;
        }
        ids[n] = (int)id;
        snprintf(names[n], MODEL_NAME_MAX, "%s", sp + 1);
        n++;
    }
    if (c->packets == 0) {
        snprintf(err, errlen, "labels %s: empty", path);
        goto fail;
    }
    fclose(fp);
    *n_out = n;
    return 0;
fail:
    fclose(fp);
    return -1;
}

static int
load(struct nfp_setup *setup, const struct nfp_args *args, char *err, size_t errlen)
{
    static const char *const known[] = {"model", "labels", "end", NULL};
    const char *model = nfp_arg(args, "model");
    const char *labels = nfp_arg(args, "labels");
    const char *end = nfp_arg(args, "end");
    int ids[MODEL_MAX_CLASSES];
    char names[MODEL_MAX_CLASSES][MODEL_NAME_MAX];
    char lpath[4096];
    int n_names = 0;
    struct model_ctx *c;

    if (nfp_args_only(args, known, err, errlen) != 0)
        return -EINVAL;
    if (model == NULL) {
        snprintf(err, errlen, "needs model=FILE (a liblinear-train -s 0 model)");
        return -EINVAL;
    }
    if (end != NULL && strcmp(end, "0") != 0 && strcmp(end, "1") != 0) {
        snprintf(err, errlen, "end '%s': expected 0 or 1", end);
        return -EINVAL;
    }
    if (labels == NULL) {
        snprintf(lpath, sizeof(lpath), "%s.labels", model);
        labels = lpath;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    c->end = end != NULL && end[0] == '1';
    if (read_labels(c, labels, ids, names, &n_names, err, errlen) != 0)
        goto fail;
    set_print_string_function(quiet);
    errno = 0;
    c->m = load_model(model);
    if (c->m == NULL) {
        snprintf(err, errlen, "model %s: cannot load: %s", model,
                 errno != 0 ? strerror(errno) : "not a liblinear model");
        goto fail;
    }
    if (!check_probability_model(c->m)) {
        snprintf(err, errlen, "model %s: no probabilities (train it with -s 0, 6 or 7)", model);
        goto fail;
    }
    c->nr_class = get_nr_class(c->m);
    if (c->nr_class < 2 || c->nr_class > MODEL_MAX_CLASSES) {
        snprintf(err, errlen, "model %s: %d classes (2..%d)", model, c->nr_class,
                 MODEL_MAX_CLASSES);
        goto fail;
    }
    get_labels(c->m, c->labels);
    c->ps_off = (uint32_t)(sizeof(struct state) + 4 * c->packets);
    c->dir_off = c->ps_off + 2 * c->packets;
    setup->state_size = c->dir_off + c->packets;
    for (int k = 0; k < c->nr_class; k++) {
        int j = 0;
        while (j < n_names && ids[j] != c->labels[k])
            j++;
        if (j == n_names) {
            snprintf(err, errlen, "labels %s: no name for the model's class %d", labels,
                     c->labels[k]);
            goto fail;
        }
        memcpy(c->names[k], names[j], MODEL_NAME_MAX);
    }
    setup->ctx = c;
    return 0;
fail:
    if (c->m != NULL)
        free_and_destroy_model(&c->m);
    free(c);
    return -EINVAL;
}

static void
unload(void *ctx)
{
    struct model_ctx *c = ctx;
    free_and_destroy_model(&c->m);
    free(c);
}

/* Appends feature idx = v when non-zero and known to the model (indices above it would be
 * read as the bias). */
static void
put(struct feature_node *x, int *n, int idx, double v, int nr_feature)
{
    if (v != 0.0 && idx <= nr_feature) {
        x[*n].index = idx;
        x[*n].value = v;
        (*n)++;
    }
}

static int
port_slot(uint16_t port)
{
    for (size_t i = 0; i < N_PORTS; i++)
        if (ports[i] == port)
            return (int)i;
    return port < 1024 ? (int)N_PORTS : (int)N_PORTS + 1;
}

static uint32_t *
st_piat(struct state *s)
{
    return (uint32_t *)(void *)(s + 1);
}

static uint16_t *
st_ps(const struct model_ctx *c, struct state *s)
{
    return (uint16_t *)(void *)((unsigned char *)s + c->ps_off);
}

static uint8_t *
st_dir(const struct model_ctx *c, struct state *s)
{
    return (unsigned char *)s + c->dir_off;
}

static void
classify(const struct model_ctx *c, struct nfp_flow *flow, struct state *s)
{
    const uint32_t *piat = st_piat(s);
    const uint16_t *ps = st_ps(c, s);
    const uint8_t *dir = st_dir(c, s);
    struct udps *u = flow->udps;
    struct feature_node x[MAX_FEATURES + 2];
    double prob[MODEL_MAX_CLASSES];
    int n = 0, nf = get_nr_feature(c->m), N = (int)c->packets;

    for (int i = 0; i < s->n; i++)
        put(x, &n, 1 + i, (dir[i] ? -1.0 : 1.0) * ps[i] / 1500.0, nf);
    for (int i = 1; i < s->n; i++)
        put(x, &n, 1 + N + i, log1p((double)piat[i]) / 10.0, nf);
    put(x, &n, 2 * N + 1, (double)s->n / N, nf);
    uint64_t proto = nfp_flow_u64(flow, NFP_PROTOCOL);
    put(x, &n, 2 * N + 2 + (proto == 6 ? 0 : proto == 17 ? 1 : 2), 1.0, nf);
    put(x, &n, 2 * N + 5 + port_slot((uint16_t)nfp_flow_u64(flow, NFP_DST_PORT)), 1.0, nf);
    put(x, &n, 2 * N + 5 + (int)PORT_FEATURES +
                   port_slot((uint16_t)nfp_flow_u64(flow, NFP_SRC_PORT)), 1.0, nf);
    if (c->m->bias >= 0) {
        x[n].index = nf + 1;
        x[n].value = c->m->bias;
        n++;
    }
    x[n].index = -1;
    x[n].value = 0;
    double label = predict_probability(c->m, x, prob);
    for (int k = 0; k < c->nr_class; k++) {
        if (c->labels[k] == (int)label) {
            memcpy(u->model_class, c->names[k], MODEL_NAME_MAX);
            u->model_probability = prob[k];
            break;
        }
    }
    u->model_packets = s->n;
    s->done = 1;
}

static void
on_packet(void *ctx, struct nfp_flow *flow, const struct nfp_packet *pkt)
{
    const struct model_ctx *c = ctx;
    struct state *s = flow->state;

    if (s->done)
        return;
    st_dir(c, s)[s->n] = pkt->direction;
    st_ps(c, s)[s->n] = pkt->raw_size;
    st_piat(s)[s->n] = (uint32_t)pkt->delta_time;
    s->n++;
    if (s->n == c->packets) {
        classify(c, flow, s);
        if (c->end)
            nfp_flow_end(flow);
    }
}

static void
on_expire(void *ctx, struct nfp_flow *flow)
{
    struct state *s = flow->state;

    if (!s->done)
        classify(ctx, flow, s);
}

NFP_DESCRIPTOR = {
    .abi_version = NFP_ABI_VERSION,
    .size = sizeof(struct nfp_plugin),
    .name = "model",
    .udps_size = sizeof(struct udps),
    .state_size = sizeof(struct state), /* load() sets the size for N packets */
    .n_fields = sizeof(fields) / sizeof(fields[0]),
    .fields = fields,
    .load = load,
    .unload = unload,
    .on_init = on_packet,
    .on_update = on_packet,
    .on_expire = on_expire,
};
