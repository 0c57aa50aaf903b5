/*
 * route.c - FIB lookups over rtnetlink with a notification-invalidated cache. See route.h.
 */
#include "route.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct rt_entry {
    uint8_t used, found;
    uint8_t family;
    uint8_t dst[16];
    struct rt_result r;
};

struct rt_cache {
    int qfd; /* queries */
    int mfd; /* notifications */
    uint32_t seq;
    size_t mask;
    struct rt_entry *e;
    struct rt_stats st;
    uint8_t buf[32768];
};

/* NLMSG_OK/NLMSG_NEXT without their signed/unsigned comparison (clang -Wsign-compare). */
static const struct nlmsghdr *
nl_first(const uint8_t *buf, size_t len)
{
    const struct nlmsghdr *h = (const struct nlmsghdr *)(const void *)buf;
    return len >= sizeof(*h) && h->nlmsg_len >= sizeof(*h) && h->nlmsg_len <= len ? h : NULL;
}

static const struct nlmsghdr *
nl_next(const struct nlmsghdr *h, size_t *len)
{
    size_t step = NLMSG_ALIGN(h->nlmsg_len);
    *len = step >= *len ? 0 : *len - step;
    return nl_first((const uint8_t *)h + step, *len);
}

static size_t
hash_dst(int family, const uint8_t *dst)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)family;
    for (int i = 0; i < (family == 4 ? 4 : 16); i++)
        h = (h ^ dst[i]) * 1099511628211ULL;
    return (size_t)(h ^ h >> 31);
}

struct rt_cache *
rt_new(size_t entries, char *err, size_t errlen)
{
    struct rt_cache *c = calloc(1, sizeof(*c));
    size_t n = 64;

    if (c == NULL)
        goto nomem;
    c->qfd = c->mfd = -1;
    while (n < entries && n < ((size_t)1 << 24))
        n <<= 1;
    c->mask = n - 1;
    c->e = calloc(n, sizeof(*c->e));
    if (c->e == NULL)
        goto nomem;
    c->qfd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    c->mfd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (c->qfd < 0 || c->mfd < 0) {
        snprintf(err, errlen, "route lookup: netlink socket: %s", strerror(errno));
        goto fail;
    }
    /* A kernel that does not answer within a second is a failure, not a hang. */
    struct timeval tv = {1, 0};
    setsockopt(c->qfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
                             .nl_groups = RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE};
    int rcvbuf = 1 << 20;
    setsockopt(c->mfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (bind(c->mfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(err, errlen, "route lookup: netlink route notifications: %s", strerror(errno));
        goto fail;
    }
    return c;
nomem:
    snprintf(err, errlen, "route lookup: out of memory");
fail:
    rt_free(c);
    return NULL;
}

void
rt_free(struct rt_cache *c)
{
    if (c == NULL)
        return;
    if (c->qfd >= 0)
        close(c->qfd);
    if (c->mfd >= 0)
        close(c->mfd);
    free(c->e);
    free(c);
}

int
rt_fd(const struct rt_cache *c)
{
    return c->mfd;
}

const struct rt_stats *
rt_stats(const struct rt_cache *c)
{
    return &c->st;
}

/* Fills r from an RTM_NEWROUTE message; returns -ENETUNREACH for routes that drop. */
static int
parse_route(const struct nlmsghdr *h, struct rt_result *r, uint8_t *dst, int *has_dst)
{
    const struct rtmsg *rm = NLMSG_DATA(h);
    int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*rm));

    if (len < 0)
        return -EBADMSG;
    memset(r, 0, sizeof(*r));
    r->family = rm->rtm_family == AF_INET ? 4 : 6;
    r->plen = rm->rtm_dst_len;
    r->table = rm->rtm_table;
    if (has_dst != NULL)
        *has_dst = 0;
    size_t alen = rm->rtm_family == AF_INET ? 4 : 16;
    for (const struct rtattr *a = RTM_RTA(rm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        switch (a->rta_type) {
        case RTA_OIF:
            if (RTA_PAYLOAD(a) >= 4)
                memcpy(&r->oif, RTA_DATA(a), 4);
            break;
        case RTA_GATEWAY:
            if (RTA_PAYLOAD(a) == alen) {
                memcpy(r->gw, RTA_DATA(a), alen);
                r->has_gw = 1;
            }
            break;
        case RTA_TABLE:
            if (RTA_PAYLOAD(a) >= 4)
                memcpy(&r->table, RTA_DATA(a), 4);
            break;
        case RTA_DST:
            if (dst != NULL && RTA_PAYLOAD(a) == alen) {
                memcpy(dst, RTA_DATA(a), alen);
                if (has_dst != NULL)
                    *has_dst = 1;
            }
            break;
        default:
            break;
        }
    }
    if (rm->rtm_type == RTN_BLACKHOLE || rm->rtm_type == RTN_UNREACHABLE ||
        rm->rtm_type == RTN_PROHIBIT || rm->rtm_type == RTN_THROW)
        return -ENETUNREACH;
    return 0;
}

/* One RTM_GETROUTE round trip. */
static int
query(struct rt_cache *c, int family, const uint8_t *dst, unsigned flags, struct rt_result *r)
{
    struct {
        struct nlmsghdr h;
        struct rtmsg rm;
        uint8_t attrs[64];
    } req;
    size_t alen = family == 4 ? 4 : 16;

    memset(&req, 0, sizeof(req));
    req.h.nlmsg_type = RTM_GETROUTE;
    req.h.nlmsg_flags = NLM_F_REQUEST;
    req.h.nlmsg_seq = ++c->seq;
    req.rm.rtm_family = family == 4 ? AF_INET : AF_INET6;
    req.rm.rtm_dst_len = (unsigned char)(alen * 8);
    req.rm.rtm_flags = flags;
    struct rtattr *a = (struct rtattr *)req.attrs;
    a->rta_type = RTA_DST;
    a->rta_len = (unsigned short)RTA_LENGTH(alen);
    memcpy(RTA_DATA(a), dst, alen);
    req.h.nlmsg_len = (uint32_t)(NLMSG_LENGTH(sizeof(req.rm)) + RTA_ALIGN(a->rta_len));

    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(c->qfd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
        return -errno;
    for (;;) {
        ssize_t n = recv(c->qfd, c->buf, sizeof(c->buf), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        }
        size_t len = (size_t)n;
        for (const struct nlmsghdr *h = nl_first(c->buf, len); h != NULL; h = nl_next(h, &len)) {
            if (h->nlmsg_seq != c->seq)
                continue; /* an answer to an earlier query that timed out */
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                return e->error != 0 ? e->error : -EBADMSG;
            }
            if (h->nlmsg_type == RTM_NEWROUTE)
                return parse_route(h, r, NULL, NULL);
        }
    }
}

int
rt_lookup(struct rt_cache *c, int family, const uint8_t *dst, struct rt_result *out)
{
    size_t alen = family == 4 ? 4 : 16;

    if (family != 4 && family != 6)
        return -EAFNOSUPPORT;
    c->st.lookups++;
    struct rt_entry *e = &c->e[hash_dst(family, dst) & c->mask];
    if (e->used && e->family == family && memcmp(e->dst, dst, alen) == 0) {
        c->st.hits++;
        if (!e->found) {
            c->st.no_route++;
            return -ENETUNREACH;
        }
        *out = e->r;
        return 0;
    }
    c->st.misses++;
    struct rt_result r, m;
    int rc = query(c, family, dst, 0, &r);
    if (rc == -ENETUNREACH || rc == -EHOSTUNREACH || rc == -EACCES || rc == -EINVAL) {
        /* no route: the kernel answers -ENETUNREACH (none, unreachable), -EACCES (prohibit),
         * -EINVAL (blackhole: `ip route get` shows the same) */
        e->used = 1;
        e->found = 0;
        e->family = (uint8_t)family;
        memcpy(e->dst, dst, alen);
        c->st.no_route++;
        return -ENETUNREACH;
    }
    if (rc != 0) {
        c->st.errors++;
        return rc;
    }
    r.plen = 0;
    if (query(c, family, dst, RTM_F_FIB_MATCH, &m) == 0)
        r.plen = m.plen;
    r.family = (uint8_t)family;
    e->used = 1;
    e->found = 1;
    e->family = (uint8_t)family;
    memcpy(e->dst, dst, alen);
    e->r = r;
    *out = r;
    return 0;
}

static int
in_prefix(const uint8_t *addr, const uint8_t *pfx, unsigned plen)
{
    unsigned full = plen / 8, rest = plen % 8;

    if (memcmp(addr, pfx, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t m = (uint8_t)(0xff00u >> rest);
    return (addr[full] & m) == (pfx[full] & m);
}

static void
invalidate(struct rt_cache *c, int family, const uint8_t *pfx, unsigned plen)
{
    for (size_t i = 0; i <= c->mask; i++) {
        struct rt_entry *e = &c->e[i];
        if (e->used && (family == 0 || (e->family == family && in_prefix(e->dst, pfx, plen)))) {
            e->used = 0;
            c->st.invalidated++;
        }
    }
}

int
rt_process_events(struct rt_cache *c)
{
    int count = 0;

    for (;;) {
        ssize_t n = recv(c->mfd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return count;
            if (errno == ENOBUFS) {
                /* notifications were lost: nothing cached can be trusted */
                invalidate(c, 0, NULL, 0);
                c->st.resyncs++;
                continue;
            }
            c->st.errors++;
            return -errno;
        }
        size_t len = (size_t)n;
        for (const struct nlmsghdr *h = nl_first(c->buf, len); h != NULL; h = nl_next(h, &len)) {
            if (h->nlmsg_type != RTM_NEWROUTE && h->nlmsg_type != RTM_DELROUTE)
                continue;
            struct rt_result r;
            uint8_t dst[16] = {0};
            int has_dst;
            if (parse_route(h, &r, dst, &has_dst) == -EBADMSG)
                continue;
            count++;
            c->st.notifications++;
            invalidate(c, r.family, dst, has_dst ? r.plen : 0);
        }
    }
}
