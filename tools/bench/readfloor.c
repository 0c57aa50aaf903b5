/*
 * readfloor.c - the libpcap read floor for the benchmark: a pcap_next_ex() loop that touches
 * every packet (sums the first and last captured byte), nothing else. What nfprobe's packets/s
 * is compared with.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *p;
    uint64_t n = 0, sum = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: readfloor FILE\n");
        return 1;
    }
    pcap_t *pc = pcap_open_offline(argv[1], err);
    if (pc == NULL) {
        fprintf(stderr, "readfloor: %s\n", err);
        return 1;
    }
    while (pcap_next_ex(pc, &h, &p) == 1) {
        n++;
        if (h->caplen > 0)
            sum += p[0] + p[h->caplen - 1];
    }
    pcap_close(pc);
    printf("%llu packets (checksum %llu)\n", (unsigned long long)n, (unsigned long long)sum);
    return 0;
}
