/*
 * test_daemon.c - pid files, detaching with readiness, sd_notify, and the privilege drop done
 * for real: each case runs in a forked child that drops to `nobody` and reads its own
 * /proc/self/status (Uid, Gid, Groups, Cap*, NoNewPrivs) and tries what root could do. The
 * drop cases need root (CI runs the tests as root) and are skipped otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <pthread.h>
#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"

static char dir[64];
static char pidpath[128];

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/nfprobe-test-daemon.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(pidpath, sizeof(pidpath), "%s/nfprobe.pid", dir);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    char sock[96];
    snprintf(sock, sizeof(sock), "%.60s/notify", dir);
    unlink(sock);
    unlink(pidpath);
    rmdir(dir);
    return 0;
}

/*
 * Runs fn in a forked child; the child reports a failure as text through a pipe and its exit
 * status. use_exit: leave with exit() (runs atexit handlers) instead of _exit().
 */
typedef int (*child_fn)(void *arg, char *msg, size_t len);

static void
run_child(child_fn fn, void *arg, bool use_exit)
{
    int p[2];
    char msg[1024] = "";
    assert_int_equal(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        char m[1024] = "";
        int ok = fn(arg, m, sizeof(m));
        if (write(p[1], m, strlen(m)) < 0)
            ok = 0;
        close(p[1]);
        if (use_exit)
            exit(ok ? 0 : 1);
        _exit(ok ? 0 : 1);
    }
    close(p[1]);
    ssize_t n = read(p[0], msg, sizeof(msg) - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("child failed (status %d): %s", st, msg);
}

static long
file_pid(const char *path)
{
    char buf[32] = "";
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return -1;
    if (fgets(buf, sizeof(buf), fp) == NULL)
        buf[0] = '\0';
    fclose(fp);
    return strtol(buf, NULL, 10);
}

static void
write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* ------------------------------------------------------------------ pid file */

static int
create_pidfile(void *arg, char *msg, size_t len)
{
    (void)arg;
    char err[256];
    if (dmn_pidfile_create(pidpath, err, sizeof(err)) != 0) {
        snprintf(msg, len, "create: %s", err);
        return 0;
    }
    if (file_pid(pidpath) != (long)getpid()) {
        snprintf(msg, len, "pid file holds %ld, not %ld", file_pid(pidpath), (long)getpid());
        return 0;
    }
    if (dmn_pidfile_create(pidpath, err, sizeof(err)) != -EALREADY) {
        snprintf(msg, len, "a second create in one process did not fail");
        return 0;
    }
    return 1; /* leaves with exit(): atexit removes the file */
}

static void
pidfile_created_and_removed_at_exit(void **state)
{
    (void)state;
    run_child(create_pidfile, NULL, true);
    assert_int_equal(access(pidpath, F_OK), -1);
    /* No temporary file is left behind either. */
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(mkdir(dir, 0700), 0);
}

static int
create_expect_running(void *arg, char *msg, size_t len)
{
    long other = *(long *)arg;
    char err[256], want[128];
    int rc = dmn_pidfile_create(pidpath, err, sizeof(err));
    snprintf(want, sizeof(want), "nfprobe is already running as pid %ld", other);
    if (rc != -EEXIST || strstr(err, want) == NULL || strstr(err, pidpath) == NULL) {
        snprintf(msg, len, "rc %d, err '%s'", rc, err);
        return 0;
    }
    return file_pid(pidpath) == other;
}

static void
pidfile_refuses_a_live_probe(void **state)
{
    (void)state;
    /* The test process itself is alive and has the child's program name. */
    char text[32];
    long me = (long)getpid();
    snprintf(text, sizeof(text), "%ld\n", me);
    write_file(pidpath, text);
    run_child(create_expect_running, &me, true);
    assert_int_equal(file_pid(pidpath), me); /* untouched */
    unlink(pidpath);
}

static void
pidfile_replaces_stale_files(void **state)
{
    (void)state;
    /* A pid that is certainly dead: a child we reaped. */
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    /* A live process with another name. */
    pid_t other = fork();
    if (other == 0) {
        execlp("sleep", "sleep", "30", (char *)NULL);
        _exit(127);
    }
    /* Wait until the exec happened (comm changes to "sleep"). */
    char comm_path[64], comm[32] = "";
    snprintf(comm_path, sizeof(comm_path), "/proc/%d/comm", (int)other);
    for (int i = 0; i < 500 && strcmp(comm, "sleep\n") != 0; i++) {
        FILE *fp = fopen(comm_path, "r");
        if (fp != NULL) {
            if (fgets(comm, sizeof(comm), fp) == NULL)
                comm[0] = '\0';
            fclose(fp);
        }
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    assert_string_equal(comm, "sleep\n");

    /* Pid files whose process is gone (or is not a probe: a reused pid): replaced. */
    char texts[2][32];
    snprintf(texts[0], 32, "%d\n", (int)dead);
    snprintf(texts[1], 32, "%d\n", (int)other);
    for (int i = 0; i < 2; i++) {
        write_file(pidpath, texts[i]);
        run_child(create_pidfile, NULL, true);
        assert_int_equal(access(pidpath, F_OK), -1);
    }
    kill(other, SIGKILL);
    waitpid(other, NULL, 0);
}

static int
create_refused(void *arg, char *msg, size_t len)
{
    (void)arg;
    char err[256];
    int rc = dmn_pidfile_create(pidpath, err, sizeof(err));
    snprintf(msg, len, "rc %d err '%s'", rc, err);
    return rc == -EEXIST && strstr(err, pidpath) != NULL &&
           strstr(err, "holds no process id: not replacing it") != NULL;
}

static bool
file_is(const char *path, const char *text)
{
    char buf[64] = "";
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return strcmp(buf, text) == 0;
}

/* Issue 17.4: a file that is not a pid file is never removed, written or followed. */
static void
pidfile_never_touches_other_files(void **state)
{
    (void)state;
    static const char *const texts[] = {"root:x:0:0:secret\n", "", "-5\n", "12 34\n",
                                        "0\n", "42\nmore\n"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        write_file(pidpath, texts[i]);
        run_child(create_refused, NULL, true);
        if (!file_is(pidpath, texts[i]))
            fail_msg("'%s' was changed or removed", texts[i]);
    }
    unlink(pidpath);
    /* A symbolic link (to a file holding a dead pid even): left alone, its target too. */
    char target[128];
    snprintf(target, sizeof(target), "%.60s/target", dir);
    write_file(target, "999999999\n");
    assert_int_equal(symlink(target, pidpath), 0);
    run_child(create_refused, NULL, true);
    struct stat st;
    assert_int_equal(lstat(pidpath, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_true(file_is(target, "999999999\n"));
    unlink(pidpath);
    /* A directory: left alone. */
    assert_int_equal(mkdir(pidpath, 0700), 0);
    run_child(create_refused, NULL, true);
    assert_int_equal(rmdir(pidpath), 0);
    unlink(target);
}

static int
fork_does_not_remove(void *arg, char *msg, size_t len)
{
    (void)arg;
    char err[256];
    if (dmn_pidfile_create(pidpath, err, sizeof(err)) != 0) {
        snprintf(msg, len, "create: %s", err);
        return 0;
    }
    pid_t g = fork();
    if (g == 0) {
        dmn_pidfile_remove(); /* not the creator: no effect */
        exit(0);              /* nor at exit */
    }
    waitpid(g, NULL, 0);
    if (file_pid(pidpath) != (long)getpid()) {
        snprintf(msg, len, "a forked child removed the pid file");
        return 0;
    }
    dmn_pidfile_remove();
    if (access(pidpath, F_OK) == 0) {
        snprintf(msg, len, "dmn_pidfile_remove() left the file");
        return 0;
    }
    return 1;
}

static void
pidfile_only_its_creator_removes_it(void **state)
{
    (void)state;
    run_child(fork_does_not_remove, NULL, true);
    assert_int_equal(access(pidpath, F_OK), -1);
}

static int
create_in_missing_dir(void *arg, char *msg, size_t len)
{
    (void)arg;
    char err[256];
    int rc = dmn_pidfile_create("/nonexistent-nfprobe-dir/nfprobe.pid", err, sizeof(err));
    snprintf(msg, len, "rc %d err '%s'", rc, err);
    return rc == -ENOENT && strstr(err, "/nonexistent-nfprobe-dir/nfprobe.pid") != NULL &&
           strstr(err, "No such file") != NULL;
}

static int
create_keep_drop(void *arg, char *msg, size_t len)
{
    (void)arg;
    char err[256];
    if (dmn_pidfile_create(pidpath, err, sizeof(err)) != 0 ||
        dmn_pidfile_keep(err, sizeof(err)) != 0 ||
        dmn_drop_privileges("nobody", false, err, sizeof(err)) != 0) {
        snprintf(msg, len, "%s", err);
        return 0;
    }
    if (unlink(pidpath) == 0 || errno != EACCES) {
        snprintf(msg, len, "nobody could unlink the pid file itself: the test proves nothing");
        return 0;
    }
    return 1; /* exit(): the atexit removal fails as nobody, the keeper removes it */
}

static void need_root_and_nobody(void);

/* Issue 17.4: the pid file goes away at exit also after --user dropped privileges. */
static void
pidfile_removed_after_privilege_drop(void **state)
{
    (void)state;
    need_root_and_nobody();
    assert_int_equal(chmod(dir, 0755), 0); /* nobody may read the file, not unlink it */
    run_child(create_keep_drop, NULL, true);
    for (int i = 0; i < 200 && access(pidpath, F_OK) == 0; i++)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    assert_int_equal(access(pidpath, F_OK), -1);
    chmod(dir, 0700);
}

static void
pidfile_error_names_the_path(void **state)
{
    (void)state;
    run_child(create_in_missing_dir, NULL, false);
}

/* ------------------------------------------------------------------ privileges */

struct status {
    char uid[64], gid[64], groups[64];
    unsigned long long eff, prm, inh, amb, bnd;
    int nnp;
};

static int
read_status(const char *path, struct status *s)
{
    char line[256];
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return -1;
    memset(s, 0, sizeof(*s));
    s->nnp = -1;
    while (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "Uid:", 4) == 0)
            snprintf(s->uid, sizeof(s->uid), "%.63s", line + 5);
        else if (strncmp(line, "Gid:", 4) == 0)
            snprintf(s->gid, sizeof(s->gid), "%.63s", line + 5);
        else if (strncmp(line, "Groups:", 7) == 0)
            snprintf(s->groups, sizeof(s->groups), "%.63s", line + 7);
        else if (strncmp(line, "CapEff:", 7) == 0)
            s->eff = strtoull(line + 8, NULL, 16);
        else if (strncmp(line, "CapPrm:", 7) == 0)
            s->prm = strtoull(line + 8, NULL, 16);
        else if (strncmp(line, "CapInh:", 7) == 0)
            s->inh = strtoull(line + 8, NULL, 16);
        else if (strncmp(line, "CapAmb:", 7) == 0)
            s->amb = strtoull(line + 8, NULL, 16);
        else if (strncmp(line, "CapBnd:", 7) == 0)
            s->bnd = strtoull(line + 8, NULL, 16);
        else if (strncmp(line, "NoNewPrivs:", 11) == 0)
            s->nnp = atoi(line + 12);
    }
    fclose(fp);
    return 0;
}

static struct passwd nobody;

static void
need_root_and_nobody(void)
{
    if (geteuid() != 0)
        skip();
    struct passwd *pw = getpwnam("nobody");
    if (pw == NULL)
        skip();
    nobody = *pw;
}

/* Checks one /proc status against the expected ids and capability mask. */
static int
check_status(const char *path, unsigned long long caps, char *msg, size_t len)
{
    struct status s;
    char ids[64], gids[64], groups[32];
    if (read_status(path, &s) != 0) {
        snprintf(msg, len, "cannot read %s", path);
        return 0;
    }
    snprintf(ids, sizeof(ids), "%u\t%u\t%u\t%u", nobody.pw_uid, nobody.pw_uid, nobody.pw_uid,
             nobody.pw_uid);
    snprintf(gids, sizeof(gids), "%u\t%u\t%u\t%u", nobody.pw_gid, nobody.pw_gid, nobody.pw_gid,
             nobody.pw_gid);
    snprintf(groups, sizeof(groups), "\t%u", nobody.pw_gid);
    if (strcmp(s.uid, ids) != 0 || strcmp(s.gid, gids) != 0) {
        snprintf(msg, len, "%s: Uid '%s' Gid '%s'", path, s.uid, s.gid);
        return 0;
    }
    /* The kernel prints "Groups:\tN " (trailing blank); accept either. */
    if (strncmp(s.groups, groups, strlen(groups)) != 0 ||
        strspn(s.groups + strlen(groups), " ") != strlen(s.groups + strlen(groups))) {
        snprintf(msg, len, "%s: Groups '%s'", path, s.groups);
        return 0;
    }
    if (s.eff != caps || s.prm != caps || s.inh != 0 || s.amb != 0) {
        snprintf(msg, len, "%s: CapEff %llx CapPrm %llx CapInh %llx CapAmb %llx (want %llx)",
                 path, s.eff, s.prm, s.inh, s.amb, caps);
        return 0;
    }
    return 1;
}

#define NET_CAPS ((1ull << 12) | (1ull << 13)) /* CAP_NET_ADMIN, CAP_NET_RAW */

/* What root could do and nobody cannot. */
static int
root_is_gone(bool keep_net_caps, char *msg, size_t len)
{
    if (open("/etc/shadow", O_RDONLY) >= 0) {
        snprintf(msg, len, "could still open /etc/shadow");
        return 0;
    }
    if (setuid(0) == 0 || seteuid(0) == 0) {
        snprintf(msg, len, "setuid(0) succeeded");
        return 0;
    }
    if (mkdir("/nfprobe-must-fail", 0700) == 0 || errno != EACCES) {
        rmdir("/nfprobe-must-fail");
        snprintf(msg, len, "mkdir in /: %s", strerror(errno));
        return 0;
    }
    /* A packet socket needs CAP_NET_RAW: it works exactly when the caps were kept. */
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (keep_net_caps && fd < 0) {
        snprintf(msg, len, "AF_PACKET socket with CAP_NET_RAW kept: %s", strerror(errno));
        return 0;
    }
    if (!keep_net_caps && (fd >= 0 || errno != EPERM)) {
        snprintf(msg, len, "AF_PACKET socket without capabilities: %s",
                 fd >= 0 ? "succeeded" : strerror(errno));
        return 0;
    }
    if (fd >= 0)
        close(fd);
    return 1;
}

static int
drop_and_check(void *arg, char *msg, size_t len)
{
    bool keep = *(bool *)arg;
    char err[512];
    struct status s;
    unsigned long long want = keep ? NET_CAPS : 0;

    if (dmn_drop_privileges("nobody", keep, err, sizeof(err)) != 0) {
        snprintf(msg, len, "drop: %s", err);
        return 0;
    }
    if (check_status("/proc/self/status", want, msg, len) != 1)
        return 0;
    read_status("/proc/self/status", &s);
    if (s.bnd != want || s.nnp != 1) {
        snprintf(msg, len, "CapBnd %llx NoNewPrivs %d", s.bnd, s.nnp);
        return 0;
    }
    msg[0] = '\0';
    return root_is_gone(keep, msg, len);
}

static void
drop_to_nobody_without_capabilities(void **state)
{
    (void)state;
    need_root_and_nobody();
    bool keep = false;
    run_child(drop_and_check, &keep, false);
}

static void
drop_to_nobody_keeping_net_caps(void **state)
{
    (void)state;
    need_root_and_nobody();
    bool keep = true;
    run_child(drop_and_check, &keep, false);
}

static void *
idle_thread(void *arg)
{
    int *fd = arg;
    char b;
    /* Blocks until the main thread writes: it exists while the drop happens. */
    if (read(fd[0], &b, 1) < 0)
        return NULL;
    return NULL;
}

static int
drop_with_a_thread(void *arg, char *msg, size_t len)
{
    (void)arg;
    char err[512], path[64];
    int fd[2];
    pthread_t t;
    if (pipe(fd) != 0 || pthread_create(&t, NULL, idle_thread, fd) != 0) {
        snprintf(msg, len, "setup failed");
        return 0;
    }
    /* The other thread's id: the entry of /proc/self/task that is not ours. */
    long tid = 0;
    DIR *d = opendir("/proc/self/task");
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.' && atol(e->d_name) != (long)getpid())
            tid = atol(e->d_name);
    if (d != NULL)
        closedir(d);
    snprintf(path, sizeof(path), "/proc/self/task/%ld/status", tid);
    int rc = dmn_drop_privileges("nobody", false, err, sizeof(err));
    if (rc != 0) {
        snprintf(msg, len, "drop: %s", err);
        return 0;
    }
    /* glibc changes the ids of every thread, and a thread without KEEPCAPS keeps no caps. */
    int ok = tid != 0 && check_status(path, 0, msg, len) == 1;
    if (tid == 0)
        snprintf(msg, len, "no second task found to check");
    if (write(fd[1], "x", 1) != 1)
        ok = 0;
    pthread_join(t, NULL);
    return ok;
}

static void
drop_changes_every_thread(void **state)
{
    (void)state;
    need_root_and_nobody();
    run_child(drop_with_a_thread, NULL, false);
}

static int
drop_refusals(void *arg, char *msg, size_t len)
{
    (void)arg;
    char err[512];
    int rc = dmn_drop_privileges("no-such-user-nfprobe", false, err, sizeof(err));
    if (rc == 0 || strstr(err, "--user no-such-user-nfprobe: no such user") == NULL) {
        snprintf(msg, len, "unknown user: rc %d err '%s'", rc, err);
        return 0;
    }
    rc = dmn_drop_privileges("root", false, err, sizeof(err));
    if (rc != -EINVAL || strstr(err, "uid or gid 0") == NULL) {
        snprintf(msg, len, "root: rc %d err '%s'", rc, err);
        return 0;
    }
    /* Nothing was changed by the refusals. */
    if (getuid() != 0 || geteuid() != 0) {
        snprintf(msg, len, "ids changed by a refused drop");
        return 0;
    }
    /* Once dropped, a second drop to another account cannot succeed: fail closed. */
    if (dmn_drop_privileges("nobody", false, err, sizeof(err)) != 0) {
        snprintf(msg, len, "drop: %s", err);
        return 0;
    }
    struct passwd *pw = getpwnam("daemon");
    if (pw != NULL && pw->pw_uid != 0) {
        rc = dmn_drop_privileges("daemon", false, err, sizeof(err));
        if (rc == 0 || getuid() == pw->pw_uid) {
            snprintf(msg, len, "nobody became daemon: rc %d", rc);
            return 0;
        }
    }
    return 1;
}

static void
drop_refuses_root_and_unknown_users(void **state)
{
    (void)state;
    need_root_and_nobody();
    run_child(drop_refusals, NULL, false);
}

/* ------------------------------------------------------------------ daemonize, notify */

static int report_fd = -1; /* the daemon writes its observations here */

static int
daemonize_case(void *arg, char *msg, size_t len)
{
    int die_early = *(int *)arg;
    char err[256];
    int status = -1;
    int rc = dmn_daemonize(&status, err, sizeof(err));
    if (rc < 0) {
        snprintf(msg, len, "daemonize: %s", err);
        return 0;
    }
    if (rc == 0) {
        /* The daemon: detached, in "/", stdio on /dev/null, not a session leader. */
        char cwd[64] = "", out[256];
        struct stat a, b;
        if (getcwd(cwd, sizeof(cwd)) == NULL)
            cwd[0] = '\0';
        int null_ok = fstat(STDIN_FILENO, &a) == 0 && stat("/dev/null", &b) == 0 &&
                      a.st_rdev == b.st_rdev && fstat(STDERR_FILENO, &a) == 0 &&
                      a.st_rdev == b.st_rdev;
        int n = snprintf(out, sizeof(out), "cwd=%s null=%d leader=%d umask=%03o\n", cwd, null_ok,
                         getsid(0) == getpid(), (unsigned)umask(027));
        if (write(report_fd, out, (size_t)n) != n)
            _exit(3);
        close(report_fd);
        if (die_early)
            _exit(2); /* fails before announcing readiness */
        dmn_ready();
        _exit(0);
    }
    /* The original process: told how the daemon's startup went. */
    snprintf(msg, len, "status %d", status);
    return rc == 1 && status == (die_early ? 1 : 0);
}

static void
daemonize_waits_for_ready(void **state)
{
    (void)state;
    for (int die_early = 0; die_early < 2; die_early++) {
        int p[2];
        char buf[256] = "";
        assert_int_equal(pipe(p), 0);
        report_fd = p[1];
        run_child(daemonize_case, &die_early, false);
        close(p[1]);
        ssize_t n = read(p[0], buf, sizeof(buf) - 1); /* the daemon closed its end */
        close(p[0]);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_string_equal(buf, "cwd=/ null=1 leader=0 umask=027\n");
    }
}

static void
notify_reaches_systemd_socket(void **state)
{
    (void)state;
    char path[96], buf[64];
    snprintf(path, sizeof(path), "%.60s/notify", dir);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setenv("NOTIFY_SOCKET", path, 1);

    dmn_ready();
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    assert_int_equal(n, 7);
    buf[n] = '\0';
    assert_string_equal(buf, "READY=1");
    dmn_stopping();
    n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    assert_int_equal(n, 10);
    buf[n] = '\0';
    assert_string_equal(buf, "STOPPING=1");

    /* Abstract socket names start with '@'. */
    int afd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un aa = {.sun_family = AF_UNIX};
    char name[64];
    int nl = snprintf(name, sizeof(name), "nfprobe-test-%d", (int)getpid());
    memcpy(aa.sun_path + 1, name, (size_t)nl);
    assert_int_equal(bind(afd, (struct sockaddr *)&aa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + nl)), 0);
    char env[80];
    snprintf(env, sizeof(env), "@%s", name);
    setenv("NOTIFY_SOCKET", env, 1);
    dmn_ready();
    n = recv(afd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    assert_int_equal(n, 7);

    /* The watchdog: armed by dmn_ready() when systemd asks, a ping every half period. */
    char wd[32];
    snprintf(wd, sizeof(wd), "%ld", (long)getpid());
    setenv("WATCHDOG_PID", wd, 1);
    setenv("WATCHDOG_USEC", "200000", 1);
    dmn_ready();
    n = recv(afd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    assert_int_equal(n, 7);
    dmn_watchdog(); /* too early: nothing */
    assert_int_equal(recv(afd, buf, sizeof(buf) - 1, MSG_DONTWAIT), -1);
    nanosleep(&(struct timespec){0, 120 * 1000 * 1000}, NULL);
    dmn_watchdog();
    n = recv(afd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    assert_int_equal(n, 10);
    buf[n] = '\0';
    assert_string_equal(buf, "WATCHDOG=1");
    dmn_watchdog(); /* just pinged: nothing */
    assert_int_equal(recv(afd, buf, sizeof(buf) - 1, MSG_DONTWAIT), -1);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");

    unsetenv("NOTIFY_SOCKET");
    dmn_ready(); /* nothing to notify: harmless */
    dmn_watchdog();
    close(fd);
    close(afd);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pidfile_created_and_removed_at_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(pidfile_refuses_a_live_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(pidfile_replaces_stale_files, setup, teardown),
        cmocka_unit_test_setup_teardown(pidfile_never_touches_other_files, setup, teardown),
        cmocka_unit_test_setup_teardown(pidfile_only_its_creator_removes_it, setup, teardown),
        cmocka_unit_test_setup_teardown(pidfile_removed_after_privilege_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(pidfile_error_names_the_path, setup, teardown),
        cmocka_unit_test_setup_teardown(drop_to_nobody_without_capabilities, setup, teardown),
        cmocka_unit_test_setup_teardown(drop_to_nobody_keeping_net_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(drop_changes_every_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(drop_refuses_root_and_unknown_users, setup, teardown),
        cmocka_unit_test_setup_teardown(daemonize_waits_for_ready, setup, teardown),
        cmocka_unit_test_setup_teardown(notify_reaches_systemd_socket, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
