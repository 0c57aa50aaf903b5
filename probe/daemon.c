/*
 * daemon.c - pid file, detaching, readiness notification, privilege drop.
 *
 * The --user drop uses the raw capget/capset system calls and prctl(); dropping every
 * capability (bounding set included) goes through libcap-ng, which knows the kernel's list.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <cap-ng.h>
#include <seccomp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "clock.h"

/* ------------------------------------------------------------------ pid file */

static char pid_path[PATH_MAX];
static pid_t pid_owner;      /* the process that created pid_path; 0 = none */
static dev_t pid_dev;        /* and the file it created: never remove another one */
static ino_t pid_ino;
static int keeper_fd = -1;   /* write end of the pid-file keeper's pipe (dmn_pidfile_keep()) */

/*
 * What a file at path holds: its pid (> 0), 0 when it is not a pid file (not a regular file,
 * empty, text that is not one positive number), or -errno. *st gets the file's identity.
 */
static long
read_pid(const char *path, struct stat *st)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ELOOP ? 0 : -errno; /* a symbolic link is no pid file of ours */
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *end;
    if (buf[0] < '1' || buf[0] > '9')
        return 0;
    long pid = strtol(buf, &end, 10);
    if ((*end != '\n' && *end != '\0') || (*end == '\n' && end[1] != '\0') || pid <= 0 ||
        pid > INT32_MAX)
        return 0;
    return pid;
}

/* Whether pid is a live process with our program name (a reused pid is not a probe). */
static bool
probe_alive(pid_t pid)
{
    char path[64], theirs[32] = "", ours[32] = "";
    FILE *fp;

    if (kill(pid, 0) != 0 && errno != EPERM)
        return false;
    snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
    if ((fp = fopen(path, "re")) == NULL)
        return true; /* cannot tell (hidepid): assume it is one */
    if (fgets(theirs, sizeof(theirs), fp) == NULL)
        theirs[0] = '\0';
    fclose(fp);
    if ((fp = fopen("/proc/self/comm", "re")) == NULL)
        return true;
    if (fgets(ours, sizeof(ours), fp) == NULL)
        ours[0] = '\0';
    fclose(fp);
    return theirs[0] == '\0' || strcmp(theirs, ours) == 0;
}

static void
pidfile_atexit(void)
{
    dmn_pidfile_remove();
}

/* Unlinks path only when it is still the file (dev, ino) holding pid. */
static void
remove_if_ours(const char *path, pid_t pid, dev_t dev, ino_t ino)
{
    struct stat st;
    if (read_pid(path, &st) == (long)pid && st.st_dev == dev && st.st_ino == ino)
        unlink(path);
}

int
dmn_pidfile_create(const char *path, char *err, size_t errlen)
{
    static bool registered;
    char tmp[PATH_MAX + 32], text[32];
    struct stat st;
    int rc;

    if (pid_owner != 0) {
        snprintf(err, errlen, "%s: already created %s", path, pid_path);
        return -EALREADY;
    }
    if (strlen(path) >= sizeof(pid_path)) {
        snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
        return -ENAMETOOLONG;
    }
    int tl = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

    for (int attempt = 0; attempt < 3; attempt++) {
        /* A new file of our own (O_EXCL, so never an existing file or a link's target). */
        snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
            rc = -errno;
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return rc;
        }
        fchmod(fd, 0644);
        ssize_t w = write(fd, text, (size_t)tl);
        int werr = w == tl ? 0 : (w < 0 ? errno : EIO);
        if (fstat(fd, &st) != 0 && werr == 0)
            werr = errno;
        if (close(fd) != 0 && werr == 0)
            werr = errno;
        if (werr != 0) {
            unlink(tmp);
            snprintf(err, errlen, "%s: %s: %s", path, tmp, strerror(werr));
            return -werr;
        }
        /* link() fails with EEXIST if path exists (a link too): O_EXCL with the content in. */
        rc = link(tmp, path) == 0 ? 0 : -errno;
        unlink(tmp);
        if (rc == 0) {
            snprintf(pid_path, sizeof(pid_path), "%s", path);
            pid_owner = getpid();
            pid_dev = st.st_dev;
            pid_ino = st.st_ino;
            if (!registered && atexit(pidfile_atexit) == 0)
                registered = true;
            return 0;
        }
        if (rc != -EEXIST) {
            snprintf(err, errlen, "%s: %s", path, strerror(-rc));
            return rc;
        }
        struct stat old;
        long pid = read_pid(path, &old);
        if (pid == -ENOENT)
            continue; /* removed meanwhile: try again */
        if (pid < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror((int)-pid));
            return (int)pid;
        }
        if (pid == 0) {
            /* Not a pid file (another program's file, a link, a typo in the path): keep it. */
            snprintf(err, errlen, "%s: exists and holds no process id: not replacing it", path);
            return -EEXIST;
        }
        if (pid != getpid() && probe_alive((pid_t)pid)) {
            snprintf(err, errlen, "%s: nfprobe is already running as pid %ld", path, pid);
            return -EEXIST;
        }
        /* Stale: a pid file whose process is gone. Replace it, if it is still that file. */
        struct stat now;
        if (lstat(path, &now) == 0 && now.st_dev == old.st_dev && now.st_ino == old.st_ino &&
            unlink(path) != 0 && errno != ENOENT) {
            rc = -errno;
            snprintf(err, errlen, "%s: removing the stale pid file: %s", path, strerror(errno));
            return rc;
        }
    }
    snprintf(err, errlen, "%s: another process keeps creating it", path);
    return -EEXIST;
}

void
dmn_pidfile_remove(void)
{
    if (pid_owner == 0 || pid_owner != getpid())
        return;
    remove_if_ours(pid_path, pid_owner, pid_dev, pid_ino);
    pid_owner = 0;
}

int
dmn_pidfile_keep(char *err, size_t errlen)
{
    int p[2];

    if (pid_owner == 0 || pid_owner != getpid() || keeper_fd >= 0)
        return 0;
    if (pipe2(p, O_CLOEXEC) != 0) {
        int rc = -errno;
        snprintf(err, errlen, "%s: keeper pipe: %s", pid_path, strerror(errno));
        return rc;
    }
    pid_t probe = getpid(); /* before the fork: the probe may be gone before the keeper runs */
    pid_t k = fork();
    if (k < 0) {
        int rc = -errno;
        snprintf(err, errlen, "%s: keeper: fork: %s", pid_path, strerror(errno));
        close(p[0]);
        close(p[1]);
        return rc;
    }
    if (k == 0) {
        /* The keeper: holds nothing but the pipe, outlives the probe by one read(). */
        char b;
        ssize_t n;
        signal(SIGTERM, SIG_IGN); /* systemd signals the whole group: wait for the probe */
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGUSR1, SIG_IGN);
        for (int fd = 3; fd < 1024; fd++)
            if (fd != p[0])
                close(fd);
        do
            n = read(p[0], &b, 1);
        while (n < 0 && errno == EINTR);
        remove_if_ours(pid_path, probe, pid_dev, pid_ino);
        _exit(0);
    }
    close(p[0]);
    keeper_fd = p[1];
    return 0;
}

/* ------------------------------------------------------------------ detaching, readiness */

static int ready_fd = -1; /* the daemon's end of the pipe its original parent waits on */

static uint64_t watchdog_ms;   /* half of systemd's WatchdogSec, 0 = no watchdog */
static uint64_t watchdog_next; /* monotonic ms of the next ping */

/* sd_notify(3): libsystemd knows $NOTIFY_SOCKET's forms (paths, abstract names, vsock). */
static void
notify_systemd(const char *msg)
{
    sd_notify(0, msg);
}

int
dmn_daemonize(int *exit_status, char *err, size_t errlen)
{
    int p[2], rc;

    if (pipe2(p, O_CLOEXEC) != 0) {
        rc = -errno;
        snprintf(err, errlen, "daemon: pipe: %s", strerror(errno));
        return rc;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        snprintf(err, errlen, "daemon: fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return rc;
    }
    if (pid > 0) {
        /* The original process: wait for "ready" or for the daemon's end to close. */
        char b = 0;
        ssize_t n;
        int st;
        close(p[1]);
        do
            n = read(p[0], &b, 1);
        while (n < 0 && errno == EINTR);
        close(p[0]);
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        *exit_status = n == 1 && b == 'R' ? 0 : 1;
        return 1;
    }
    close(p[0]);
    /*
     * The intermediate child leaves with _exit() (no atexit handlers, no stdio flush of the
     * parent's buffers): it only exists so that the daemon is not a session leader and can
     * never acquire a controlling terminal.
     */
    if (setsid() < 0)
        _exit(1);
    pid = fork();
    if (pid < 0)
        _exit(1);
    if (pid > 0)
        _exit(0);
    if (chdir("/") != 0)
        _exit(1);
    umask(027);
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0 || dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
        dup2(fd, STDERR_FILENO) < 0)
        _exit(1);
    if (fd > STDERR_FILENO)
        close(fd);
    ready_fd = p[1];
    return 0;
}

void
dmn_ready(void)
{
    if (ready_fd >= 0) {
        ssize_t w;
        do
            w = write(ready_fd, "R", 1);
        while (w < 0 && errno == EINTR);
        close(ready_fd);
        ready_fd = -1;
    }
    notify_systemd("READY=1");
    uint64_t usec = 0;
    /* systemd wants a ping within WatchdogSec: ping at half of it, as sd_watchdog_enabled(3)
     * advises. */
    watchdog_ms = sd_watchdog_enabled(0, &usec) > 0 ? usec / 2000 : 0;
    if (watchdog_ms == 0 && usec > 0)
        watchdog_ms = 1;
    watchdog_next = clk_mono_ms() + watchdog_ms;
}

void
dmn_watchdog(void)
{
    uint64_t now;

    if (watchdog_ms == 0 || (now = clk_mono_ms()) < watchdog_next)
        return;
    watchdog_next = now + watchdog_ms;
    notify_systemd("WATCHDOG=1");
}

void
dmn_stopping(void)
{
    notify_systemd("STOPPING=1");
}

/* ------------------------------------------------------------------ privileges */

#define NET_CAPS ((1u << CAP_NET_RAW) | (1u << CAP_NET_ADMIN))

static int
caps_get(struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    return syscall(SYS_capget, &hdr, data) == 0 ? 0 : -errno;
}

static int
caps_set(uint32_t eff, uint32_t prm)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2] = {{.effective = eff, .permitted = prm}, {0}};
    return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -errno;
}

static int
last_cap(void)
{
    int last = CAP_LAST_CAP;
    FILE *fp = fopen("/proc/sys/kernel/cap_last_cap", "re");
    if (fp != NULL) {
        if (fscanf(fp, "%d", &last) != 1 || last < 0 || last > 63)
            last = CAP_LAST_CAP;
        fclose(fp);
    }
    return last;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        rc = errno != 0 ? -errno : -EPERM;                                                         \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return rc;                                                                                 \
    } while (0)

int
dmn_drop_privileges(const char *user, bool keep_net_caps, char *err, size_t errlen)
{
    struct passwd pwbuf, *pw = NULL;
    char buf[4096];
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    int rc;

    rc = getpwnam_r(user, &pwbuf, buf, sizeof(buf), &pw);
    if (rc != 0 || pw == NULL) {
        snprintf(err, errlen, "--user %s: %s", user, rc != 0 ? strerror(rc) : "no such user");
        return rc != 0 ? -rc : -ENOENT;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (uid == 0 || gid == 0) {
        snprintf(err, errlen, "--user %s: is uid or gid 0, which keeps root's privileges", user);
        return -EINVAL;
    }

    /* The bounding set limits what any later execve() could gain; drop it while we can. */
    int last = last_cap();
    for (int cap = 0; cap <= last; cap++) {
        if (keep_net_caps && (cap == CAP_NET_RAW || cap == CAP_NET_ADMIN))
            continue;
        errno = 0;
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
            prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            FAIL("--user %s: dropping capability %d from the bounding set: %s", user, cap,
                 strerror(errno));
    }
    errno = 0;
    if (keep_net_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        FAIL("--user %s: prctl(PR_SET_KEEPCAPS): %s", user, strerror(errno));
    if (setgroups(1, &gid) != 0)
        FAIL("--user %s: setgroups: %s", user, strerror(errno));
    if (setresgid(gid, gid, gid) != 0)
        FAIL("--user %s: setresgid(%u): %s", user, (unsigned)gid, strerror(errno));
    if (setresuid(uid, uid, uid) != 0)
        FAIL("--user %s: setresuid(%u): %s", user, (unsigned)uid, strerror(errno));
    if (keep_net_caps) {
        /* KEEPCAPS kept the permitted set across setresuid; narrow it and make it effective. */
        if ((rc = caps_set(NET_CAPS, NET_CAPS)) != 0) {
            errno = -rc;
            FAIL("--user %s: capset(CAP_NET_RAW, CAP_NET_ADMIN): %s", user, strerror(errno));
        }
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
            FAIL("--user %s: prctl(PR_SET_KEEPCAPS, 0): %s", user, strerror(errno));
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        FAIL("--user %s: clearing ambient capabilities: %s", user, strerror(errno));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        FAIL("--user %s: prctl(PR_SET_NO_NEW_PRIVS): %s", user, strerror(errno));

    /* Check, do not trust: every id is the user's, and root cannot come back. */
    errno = 0;
    if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0)
        FAIL("--user %s: getresuid: %s", user, strerror(errno));
    if (ruid != uid || euid != uid || suid != uid || rgid != gid || egid != gid || sgid != gid) {
        errno = EPERM;
        FAIL("--user %s: ids after the drop are uid %u/%u/%u gid %u/%u/%u", user,
             (unsigned)ruid, (unsigned)euid, (unsigned)suid, (unsigned)rgid, (unsigned)egid,
             (unsigned)sgid);
    }
    gid_t groups[8];
    int ng = getgroups(8, groups);
    if (ng < 0 || ng > 1 || (ng == 1 && groups[0] != gid)) {
        errno = EPERM;
        FAIL("--user %s: supplementary groups remain after setgroups", user);
    }
    if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 || setegid(0) == 0) {
        errno = EPERM;
        FAIL("--user %s: root could be regained after the drop", user);
    }
    struct __user_cap_data_struct caps[2];
    if ((rc = caps_get(caps)) != 0) {
        errno = -rc;
        FAIL("--user %s: capget: %s", user, strerror(errno));
    }
    uint32_t want = keep_net_caps ? NET_CAPS : 0;
    if (caps[0].effective != want || caps[0].permitted != want || caps[0].inheritable != 0 ||
        caps[1].effective != 0 || caps[1].permitted != 0 || caps[1].inheritable != 0) {
        errno = EPERM;
        FAIL("--user %s: capabilities after the drop are effective %08x%08x, permitted %08x%08x",
             user, caps[1].effective, caps[0].effective, caps[1].permitted, caps[0].permitted);
    }
    return 0;
}

int
dmn_drop_capabilities(char *err, size_t errlen)
{
    struct __user_cap_data_struct caps[2];
    int rc;

    /* The bounding set needs CAP_SETPCAP: without it (an unprivileged start), the process
     * sets alone, which is all such a process has anyway. */
    capng_clear(CAPNG_SELECT_ALL);
    if (capng_apply(CAPNG_SELECT_ALL) != 0) {
        capng_clear(CAPNG_SELECT_CAPS);
        if (capng_apply(CAPNG_SELECT_CAPS) != 0) {
            snprintf(err, errlen, "dropping capabilities: capset refused");
            return -EPERM;
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
        snprintf(err, errlen, "dropping capabilities: ambient set: %s", strerror(errno));
        return -errno;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(err, errlen, "dropping capabilities: prctl(PR_SET_NO_NEW_PRIVS): %s",
                 strerror(errno));
        return -errno;
    }
    if ((rc = caps_get(caps)) != 0) {
        snprintf(err, errlen, "dropping capabilities: capget: %s", strerror(-rc));
        return rc;
    }
    if (caps[0].effective || caps[0].permitted || caps[0].inheritable || caps[1].effective ||
        caps[1].permitted || caps[1].inheritable) {
        snprintf(err, errlen,
                 "dropping capabilities: still effective %08x%08x, permitted %08x%08x",
                 caps[1].effective, caps[0].effective, caps[1].permitted, caps[0].permitted);
        return -EPERM;
    }
    return 0;
}

/* ------------------------------------------------------------------ seccomp */

/* What nfprobe calls once running (strace -f of offline, live, UDP/TCP/TLS export, metrics
 * scrapes, SIGHUP reload, SIGUSR1, stop), plus what glibc may pick instead (clone/clone3,
 * poll/ppoll, nanosleep/clock_nanosleep...) and what the sanitizers' reports use. */
static const char *const seccomp_allowed[] = {
    /* memory */
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
    /* threads, signals, time */
    "futex", "clone", "clone3", "set_robust_list", "get_robust_list", "rseq", "set_tid_address",
    "exit", "exit_group", "gettid", "getpid", "getppid", "tgkill", "tkill", "rt_sigaction",
    "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack", "restart_syscall",
    "sched_yield", "sched_getaffinity", "nanosleep", "clock_nanosleep", "clock_gettime",
    "clock_getres", "gettimeofday", "time", "getrandom", "getrusage", "sysinfo", "uname",
    "prlimit64", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
    "getgroups", "membarrier",
    /* files: captures, CSV/JSON, configuration and TLS files on reload, the pid file */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "openat", "open",
    "close", "fstat", "newfstatat", "stat", "lstat", "statx", "fstatfs", "statfs", "fcntl",
    "dup", "dup2", "dup3", "pipe2", "fadvise64", "access", "faccessat", "faccessat2",
    "readlink", "readlinkat", "getdents64", "getcwd", "unlink", "unlinkat", "fsync",
    "fdatasync", "ftruncate", "eventfd2",
    /* waiting */
    "poll", "ppoll", "select", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait",
    "epoll_pwait",
    /* sockets: capture, export (reconnects), metrics, syslog */
    "socket", "connect", "accept", "accept4", "shutdown", "sendto", "recvfrom", "sendmsg",
    "recvmsg", "sendmmsg", "recvmmsg", "getsockopt", "setsockopt", "getsockname",
    "getpeername",
};

#define SECCOMP_NAMES 512
static const char *sys_name[SECCOMP_NAMES];

static size_t
put_str(char *b, size_t at, size_t cap, const char *s)
{
    while (*s != '\0' && at + 1 < cap)
        b[at++] = *s++;
    return at;
}

static size_t
put_dec(char *b, size_t at, size_t cap, long v)
{
    char d[24];
    int n = 0;
    unsigned long u = v < 0 ? 0 - (unsigned long)v : (unsigned long)v;
    do
        d[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0 && at + 1 < cap)
        b[at++] = '-';
    while (n > 0 && at + 1 < cap)
        b[at++] = d[--n];
    return at;
}

/* Async-signal-safe: names the call, then dies of SIGSYS as SCMP_ACT_KILL_PROCESS would. */
static void
on_sigsys(int sig, siginfo_t *si, void *uctx)
{
    char b[256];
    size_t n = 0;
    int nr = si->si_syscall;
    (void)uctx;
    n = put_str(b, n, sizeof(b), "nfprobe: seccomp: forbidden system call ");
    n = put_str(b, n, sizeof(b), nr >= 0 && nr < SECCOMP_NAMES && sys_name[nr] ? sys_name[nr]
                                                                               : "?");
    n = put_str(b, n, sizeof(b), " (");
    n = put_dec(b, n, sizeof(b), nr);
    n = put_str(b, n, sizeof(b), ") in thread ");
    n = put_dec(b, n, sizeof(b), (long)syscall(SYS_gettid));
    n = put_str(b, n, sizeof(b), ": stopping (--seccomp)\n");
    (void)!write(STDERR_FILENO, b, n);
    struct sigaction sa = {.sa_handler = SIG_DFL};
    sigaction(sig, &sa, NULL);
    raise(sig); /* delivered when the handler returns */
}

int
dmn_seccomp(char *err, size_t errlen)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    int rc = 0;

    if (ctx == NULL) {
        snprintf(err, errlen, "--seccomp: seccomp_init failed");
        return -ENOMEM;
    }
    for (size_t i = 0; i < sizeof(seccomp_allowed) / sizeof(seccomp_allowed[0]); i++) {
        int nr = seccomp_syscall_resolve_name(seccomp_allowed[i]);
        if (nr == __NR_SCMP_ERROR || nr < 0)
            continue; /* not a call of this architecture (open on arm64...) */
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) != 0) {
            snprintf(err, errlen, "--seccomp: allowing %s: %s", seccomp_allowed[i],
                     strerror(-rc));
            goto out;
        }
    }
    /* ioctl only to ask whether stdout is a terminal (stdio), what a socket holds, or an
     * interface's ifIndex (if_nametoindex: a SIGHUP re-validates -i IFACE); prctl only for
     * thread names. */
    static const unsigned long ioctls[] = {TCGETS, FIONREAD, SIOCGIFINDEX};
    for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                   SCMP_A1(SCMP_CMP_EQ, ioctls[i]))) != 0)
            break;
    static const int prctls[] = {PR_SET_NAME, PR_GET_NAME};
    for (size_t i = 0; rc == 0 && i < 2; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)prctls[i]));
    if (rc != 0) {
        snprintf(err, errlen, "--seccomp: argument rules: %s", strerror(-rc));
        goto out;
    }
    if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0 ||
        (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0) {
        snprintf(err, errlen, "--seccomp: filter attributes: %s", strerror(-rc));
        goto out;
    }
    /* Names for the handler, resolved now: it may not allocate. */
    for (int nr = 0; nr < SECCOMP_NAMES; nr++)
        if (sys_name[nr] == NULL)
            sys_name[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) != 0) {
        rc = -errno;
        snprintf(err, errlen, "--seccomp: SIGSYS handler: %s", strerror(errno));
        goto out;
    }
    if ((rc = seccomp_load(ctx)) != 0)
        snprintf(err, errlen, "--seccomp: loading the filter: %s", strerror(-rc));
out:
    seccomp_release(ctx);
    return rc;
}
