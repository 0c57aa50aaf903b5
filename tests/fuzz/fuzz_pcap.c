/*
 * fuzz_pcap.c - capture files (pcap in both byte orders and both precisions, pcapng) read as
 * the probe reads them, then decoded and metered.
 *
 * The input is a whole capture file. It is read twice: by libpcap straight from memory
 * (pcap_fopen_offline on fmemopen), and by the capture module (cap_open_files, which stats
 * and opens the file by name, checks it, and reads it through its own stdio buffer) from a
 * memfd under /proc/self/fd. Every record either path returns is decoded and metered, so
 * record headers (caplen, len, timestamps) of any value reach the decoder and the meter.
 */
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"
#include "decode.h"
#include "fuzz.h"
#include "meter.h"

static struct meter *mt;
static int memfd = -1;

static void
sink(void *ctx, const struct flow *f)
{
    (void)ctx;
    volatile uint64_t x = f->dir[FLOW_BIDI].bytes + flow_stats(f)[FLOW_BIDI].max_ps;
    (void)x;
}

static void
meter_one(int dlt, const uint8_t *bytes, uint32_t caplen, uint32_t wirelen, uint64_t time_ms)
{
    struct pkt_meta m;
    if (dec_packet(dlt, bytes, caplen, wirelen, true, &m) == DEC_OK) {
        m.time_ms = time_ms;
        mtr_packet(mt, &m);
    }
}

static int
setup(void)
{
    struct mtr_config c = {.idle_ms = 120000, .active_ms = 1800000, .statistics = true,
                           .splt_n = 4, .max_flows = 32, .seed = 1};
    char err[256];
    mt = mtr_new(&c, NULL, 0, sink, NULL, err, sizeof(err));
    memfd = memfd_create("fuzz_pcap", 0);
    if (mt == NULL || memfd < 0) {
        fprintf(stderr, "fuzz_pcap: set-up: %s\n", mt == NULL ? err : "memfd_create failed");
        return -1;
    }
    return 0;
}

/* libpcap alone, from memory. */
static void
read_memory(const uint8_t *data, size_t size)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (fp == NULL)
        return; /* size 0 */
    pcap_t *p = pcap_fopen_offline(fp, ebuf);
    if (p == NULL) {
        fclose(fp);
        return;
    }
    int dlt = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const u_char *bytes;
    while (pcap_next_ex(p, &h, &bytes) == 1) {
        if (dec_dlt_supported(dlt)) /* caplen as the worker passes it, even above len */
            meter_one(dlt, bytes, h->caplen, h->len,
                      (uint64_t)h->ts.tv_sec * 1000 + (uint64_t)(h->ts.tv_usec / 1000));
    }
    pcap_close(p); /* closes fp */
}

/* The capture module, from a file name, as `nfprobe -r FILE` opens it. */
static void
read_capture_module(const uint8_t *data, size_t size)
{
    char path[64], err[512];
    if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
        abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
    const char *files[] = {path};
    struct cap_source *s = cap_open_files(files, 1, NULL, err, sizeof(err));
    if (s == NULL) {
        if (err[0] == '\0' || strchr(err, '\n') != NULL)
            abort(); /* errors are one line */
        return;
    }
    struct cap_packet pk;
    while (cap_next(s, &pk) == CAP_PACKET) {
        if (dec_dlt_supported(pk.dlt))
            meter_one(pk.dlt, pk.bytes, pk.caplen, pk.wirelen, pk.time_ms);
    }
    (void)cap_take_error(s);
    cap_close(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (mt == NULL && setup() != 0)
        abort();
    read_memory(data, size);
    read_capture_module(data, size);
    return 0;
}

#ifdef FUZZ_STANDALONE
const char fuzz_target_name[] = "pcap";
const char *const fuzz_seed_paths[] = {"tests/fuzz/corpus/pcap", NULL};
const long fuzz_mutations = 10;
const unsigned fuzz_prefixes = 24;
int (*const fuzz_init)(void) = NULL;
#endif
