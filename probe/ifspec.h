/*
 * ifspec.h - the `-i IFACE[@IFINDEX]` syntax: the interface to capture on and the ifIndex its
 * packets are exported with (ingressInterface 10; egressInterface 14 of the other direction).
 * Without @IFINDEX the kernel's ifIndex (if_nametoindex) is used; with it, the given number,
 * e.g. to match the SNMP ifIndex of the router port a tap or span mirrors. "any" has ifIndex 0
 * (unknown) unless given. The last '@' followed only by digits separates the index, so a name
 * that itself contains '@' still works.
 */
#ifndef NFPROBE_IFSPEC_H
#define NFPROBE_IFSPEC_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

struct ifs_spec {
    char name[IF_NAMESIZE];
    uint32_t ifindex;      /* 0 = unknown */
    int explicit_index;    /* 1 when given as @IFINDEX */
};

/* Parses arg. 0, or -EINVAL (empty name, name too long, bad or zero index) / -ENODEV (no
 * such interface and no @IFINDEX) with one line in err naming "-i ARG". */
int ifs_parse(const char *arg, struct ifs_spec *out, char *err, size_t errlen);

#endif
