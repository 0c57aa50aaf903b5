/*
 * seccomp_plugin.c - the test hook of tests/golden/seccomp.sh: a plugin that, at the first
 * packet of the first flow (well after start-up), tries execve() of a path that does not
 * exist. Without --seccomp the call fails with ENOENT and nothing happens; under --seccomp it
 * is forbidden and must stop nfprobe. call=ptrace tries ptrace(PTRACE_PEEKUSER) of pid 1
 * instead (EPERM or ESRCH without the filter).
 */
#define _GNU_SOURCE /* syscall() */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nfprobe/plugin.h"

static int use_ptrace;
static int done;

static int
load(struct nfp_setup *setup, const struct nfp_args *args, char *err, size_t errlen)
{
    static const char *const known[] = {"call", NULL};
    const char *v;
    (void)setup;
    if (nfp_args_only(args, known, err, errlen) != 0)
        return -EINVAL;
    use_ptrace = (v = nfp_arg(args, "call")) != NULL && strcmp(v, "ptrace") == 0;
    return 0;
}

static void
on_init(void *ctx, struct nfp_flow *flow, const struct nfp_packet *pkt)
{
    (void)ctx;
    (void)flow;
    (void)pkt;
    if (done++)
        return;
    if (use_ptrace) {
        (void)syscall(SYS_ptrace, 3 /* PTRACE_PEEKUSER */, 1, 0, 0);
    } else {
        char *const argv[] = {"nfprobe-seccomp-test", NULL};
        (void)syscall(SYS_execve, "/nonexistent/nfprobe-seccomp-test", argv, argv + 1);
    }
}

NFP_EXPORT const struct nfp_plugin nfprobe_plugin = {
    .abi_version = NFP_ABI_VERSION,
    .size = sizeof(struct nfp_plugin),
    .name = "seccomp_test",
    .load = load,
    .on_init = on_init,
};
