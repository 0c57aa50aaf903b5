/*
 * ifspec.c - `-i IFACE[@IFINDEX]`. See ifspec.h.
 */
#include "ifspec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
ifs_parse(const char *arg, struct ifs_spec *out, char *err, size_t errlen)
{
    const char *at = strrchr(arg, '@');
    size_t nlen = strlen(arg);

    memset(out, 0, sizeof(*out));
    if (at != NULL && at[1] != 0 && strspn(at + 1, "0123456789") == strlen(at + 1)) {
        uint64_t v = 0;
        for (const char *p = at + 1; *p; p++) {
            v = v * 10 + (uint64_t)(*p - '0');
            if (v > UINT32_MAX)
                break;
        }
        if (v == 0 || v > UINT32_MAX) {
            snprintf(err, errlen, "-i %s: ifIndex '%s' not in 1-%u", arg, at + 1, UINT32_MAX);
            return -EINVAL;
        }
        out->ifindex = (uint32_t)v;
        out->explicit_index = 1;
        nlen = (size_t)(at - arg);
    } else if (at != NULL && at[1] == 0) {
        snprintf(err, errlen, "-i %s: missing ifIndex after '@'", arg);
        return -EINVAL;
    }
    if (nlen == 0) {
        snprintf(err, errlen, "-i %s: missing interface name", arg);
        return -EINVAL;
    }
    if (nlen >= IF_NAMESIZE) {
        snprintf(err, errlen, "-i %s: interface name longer than %d characters", arg,
                 IF_NAMESIZE - 1);
        return -EINVAL;
    }
    memcpy(out->name, arg, nlen);
    out->name[nlen] = 0;
    if (out->explicit_index || strcmp(out->name, "any") == 0)
        return 0;
    out->ifindex = if_nametoindex(out->name);
    if (out->ifindex == 0) {
        snprintf(err, errlen, "-i %s: no such interface (give its ifIndex as %s@N to export "
                 "anyway)", arg, out->name);
        return -ENODEV;
    }
    return 0;
}
