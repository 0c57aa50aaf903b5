/*
 * fuzz_template.c - IPFIX template files (--ipfix-template FILE) through the IPFIX encoder's
 * open, which reads the file and builds and encodes the templates it asks for.
 *
 * The first byte picks the record groups enabled (tunnel, statistics, SPLT, ntop, L7) and the
 * message size, the rest is the file (written to a memfd, opened by its /proc/self/fd name as
 * any file). Properties: an error is one line; an accepted file gives an encoder that frees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "export_enc.h"
#include "export_ipfix.h"
#include "features.h"
#include "fuzz.h"

static int memfd = -1;

static void
sink(void *ctx, const uint8_t *msg, size_t len, const struct exp_msg_info *info)
{
    (void)ctx;
    (void)msg;
    (void)len;
    (void)info;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[1024];

    if (size < 1 || size > 65536)
        return 0;
    if (memfd < 0 && (memfd = memfd_create("fuzz_template", 0)) < 0)
        abort();
    if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
        abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
    struct exp_enc_params p = {
        .observation_domain = 1,
        .pen = NFP_PEN_DEFAULT,
        .max_msg = data[0] & 0x20 ? 512 : 65535,
        .template_file = path,
        .layout = {.tunnel_id = data[0] & 1,
                   .statistics = data[0] & 2,
                   .splt_n = data[0] & 4 ? 4 : 0,
                   .l7 = data[0] & 16},
        .ntop_compat = data[0] & 8,
        .export_time_s = 1,
        .sink = sink,
    };
    err[0] = '\0';
    void *e = ipfix_encoder_ops.open(&p, err, sizeof(err));
    if (e == NULL) {
        if (err[0] == '\0' || strchr(err, '\n') != NULL) {
            fprintf(stderr, "fuzz_template: property violated: error '%s'\n", err);
            abort();
        }
        return 0;
    }
    ipfix_encoder_ops.free(e);
    return 0;
}

#ifdef FUZZ_STANDALONE
const char fuzz_target_name[] = "template";
const char *const fuzz_seed_paths[] = {"tests/fuzz/corpus/template", NULL};
const long fuzz_mutations = 40;
const unsigned fuzz_prefixes = 0;
int (*const fuzz_init)(void) = NULL;
#endif
