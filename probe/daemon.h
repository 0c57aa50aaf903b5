/*
 * daemon.h - the process around the probe: pid file, detaching, readiness, privilege drop.
 *
 * Startup order (main.c): parse and validate the configuration, [dmn_daemonize()], open
 * captures, sockets and the metrics listener, dmn_pidfile_create(), dmn_pidfile_keep() (with
 * --user), dmn_drop_privileges(),
 * start the threads, dmn_ready(). Every function here fails closed: an error means main exits.
 */
#ifndef NFPROBE_DAEMON_H
#define NFPROBE_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Creates the pid file at path holding this process's pid, atomically: the content goes into a
 * new file of our own (mkostemp: O_EXCL, never a link's target) that is then link(2)ed to path,
 * which fails if anything exists there, so the file never exists half-written, two probes
 * cannot both win, and no existing file is ever written or followed. An existing pid file
 * naming a live nfprobe is an error ("already running as pid N"); one naming a process that is
 * gone is stale and replaced. Anything else at path (not a regular file, not one positive
 * number: another program's file, /etc/shadow given by mistake) is left alone and is an error.
 * The file is removed at exit (atexit) or by dmn_pidfile_remove(), only by the process that
 * created it and only while it is still the file it created holding its pid. Returns 0 or
 * -errno with err ("PATH: ...").
 */
int dmn_pidfile_create(const char *path, char *err, size_t errlen);

/* Removes the pid file now if this process created it and it is still ours. */
void dmn_pidfile_remove(void);

/*
 * Before dropping privileges: forks a keeper that keeps them, holds only a pipe to this process
 * and, when the pipe closes (this process ended, however), removes the pid file if it is still
 * ours. So the file goes away at exit even when the unprivileged user may not write its
 * directory. Ignores SIGTERM/SIGINT/SIGHUP (a service stop signals every process of the
 * group: the keeper waits for the probe). No-op without a pid file. Returns 0 or -errno.
 */
int dmn_pidfile_keep(char *err, size_t errlen);

/*
 * Detaches from the terminal: fork, setsid, fork, chdir("/"), umask(027), stdin/stdout/stderr
 * to /dev/null. Returns 0 in the daemon. The original process does not return from here
 * as the caller's process: it waits until the daemon calls dmn_ready() or exits, and then
 * returns 1 with *exit_status set to what main must exit with (0 once the daemon is ready,
 * else the daemon's own status or 1). Returns -errno with err if a fork fails.
 */
int dmn_daemonize(int *exit_status, char *err, size_t errlen);

/*
 * Startup is complete: tells the parent waiting in dmn_daemonize() (if any) and systemd
 * (sd_notify(3) "READY=1", for Type=notify units), and arms the watchdog pings when systemd
 * asks for them. Harmless in the foreground.
 */
void dmn_ready(void);

/*
 * For the output loop, called on every iteration: when systemd's watchdog is on (WatchdogSec,
 * $WATCHDOG_USEC), sends "WATCHDOG=1" every half period, so a loop that stops turning gets the
 * service restarted. Cheap otherwise (one clock read when on, nothing when off).
 */
void dmn_watchdog(void);

/* Shutdown has begun: sd_notify "STOPPING=1" when under systemd; otherwise nothing. */
void dmn_stopping(void);

/*
 * Becomes `user` for good: setgroups(1, {gid}), setresgid(gid x3), setresuid(uid x3), in that
 * order, then checks that no real, effective or saved uid or gid is 0, that the supplementary
 * groups are just gid, and that setuid(0) and setgid(0) now fail. keep_net_caps keeps
 * CAP_NET_RAW and CAP_NET_ADMIN (effective and permitted; everything else, the inheritable and
 * ambient sets and the bounding set are dropped) for live capture that reopens or reconfigures
 * sockets; without it no capability is left. Also sets PR_SET_NO_NEW_PRIVS. Needs root (or
 * CAP_SETUID, CAP_SETGID, CAP_SETPCAP). Affects every thread of the process. Returns 0, or
 * -errno with err naming the step that failed; on error the process may be half-dropped and
 * must exit.
 */
int dmn_drop_privileges(const char *user, bool keep_net_caps, char *err, size_t errlen);

/*
 * Drops every capability of the calling thread: effective, permitted, inheritable, ambient,
 * and the bounding set when allowed (CAP_SETPCAP; as an unprivileged user it is left alone),
 * then sets PR_SET_NO_NEW_PRIVS and checks with capget() that nothing is left. For after the
 * captures and sockets are open, as root or not. Capabilities are per thread: call it before
 * creating threads (they inherit the empty sets). Returns 0, or -errno with a one-line err.
 */
int dmn_drop_capabilities(char *err, size_t errlen);

/*
 * --seccomp: from now on only the system calls nfprobe makes after start-up are allowed
 * (reading captures and files, sockets for export and metrics, memory, threads, time, signals;
 * docs/security.md lists them); no execve, ptrace, mount, module loading, privilege change,
 * bind or listen. Any other call stops the whole process: a SIGSYS handler first writes one
 * line naming the call to stderr ("nfprobe: seccomp: forbidden system call NAME (NR), ..."),
 * then the process dies of SIGSYS. Applies to every thread (TSYNC) and to threads created
 * later. Needs no privilege (no_new_privs is set). Returns 0, or -errno with a one-line err.
 */
int dmn_seccomp(char *err, size_t errlen);

#endif
