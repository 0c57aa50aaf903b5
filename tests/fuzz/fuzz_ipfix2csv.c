/*
 * fuzz_ipfix2csv.c - the collector side: an IPFIX file (what an exporter sent, as ipfixDump or
 * a collector stores it) read by tools/ipfix2csv.c's read_file(), which decodes it with
 * libfixbuf into nfprobe's record layout and prints CSV rows (here to /dev/null).
 *
 * The first byte picks ipfix2csv's options (statistics, SPLT, L7, tunnel column), the rest is
 * the file, written to a memfd and read by name. ipfix2csv.c is included whole, without its
 * main(), so its static reader is called as the tool calls it.
 */
#define IPFIX2CSV_NO_MAIN
#include "../../tools/ipfix2csv.c"

#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

/* The tool's log handler counts sequence errors; here libfixbuf's messages are noise. */
static const GLogFunc tool_handler __attribute__((unused)) = on_glib_log;
static fbInfoModel_t *model;
static int memfd = -1;
static FILE *devnull;

static void
quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
    (void)domain;
    (void)level;
    (void)msg;
    (void)data;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[256];

    if (size < 1 || size > 1 << 20)
        return 0;
    if (model == NULL) {
        g_log_set_default_handler(quiet, NULL);
        model = ipfix_model_new(NFP_PEN_DEFAULT, err, sizeof(err));
        memfd = memfd_create("fuzz_ipfix2csv", 0);
        devnull = fopen("/dev/null", "w");
        if (model == NULL || memfd < 0 || devnull == NULL)
            abort();
    }
    if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
        abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
    struct opts o = {.statistics = data[0] & 1, .tunnel_id = data[0] & 2, .l7 = data[0] & 4,
                     .splt_n = data[0] & 8 ? 3 : 0};
    struct last_opts lo;
    uint64_t n_flows = 0, n_opts = 0;
    memset(&lo, 0, sizeof(lo));
    FILE *saved = stdout;
    stdout = devnull; /* the rows */
    FILE *saved_err = stderr;
    stderr = devnull; /* read errors: expected on most inputs */
    col = 0;
    header(&o);
    (void)read_file(path, model, &o, &lo, &n_flows, &n_opts);
    write_options(devnull, &lo);
    stdout = saved;
    stderr = saved_err;
    return 0;
}

#ifdef FUZZ_STANDALONE
const char fuzz_target_name[] = "ipfix2csv";
const char *const fuzz_seed_paths[] = {"tests/fuzz/corpus/ipfix2csv", NULL};
const long fuzz_mutations = 150;
const unsigned fuzz_prefixes = 0;
int (*const fuzz_init)(void) = NULL;
#endif
