/*
 * sample.h - the bundled sample capture (sample.pcap): 20 flows of DNS, HTTP, HTTPS, SSH, NTP
 * and ping from four clients, IPv4 and IPv6, one host on a VLAN (see tests/gen/README.md).
 */
#ifndef MKPCAP_SAMPLE_H
#define MKPCAP_SAMPLE_H

#include <stddef.h>

/* Writes the sample to path; 0 or a negative errno with one line in err. */
int
gen_sample(const char *path, char *err, size_t errlen);

#endif
