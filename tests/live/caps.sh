#!/bin/sh
# Least privilege: once captures and sockets are open, no thread of nfprobe keeps a capability
# (effective, permitted, inheritable, ambient, bounding) and no_new_privs is set: as root
# without --user, with --user nobody, with the metrics thread running, and offline.
# Reads /proc/PID/task/*/status of the running probe. Root only (skipped otherwise); the veth
# pair it captures on is its own and carries no traffic.
. "$(dirname "$0")/../golden/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v ip >/dev/null || skip "iproute2 not installed"
scratch
chmod 755 "$TMP"
VETH=nfc$$
VPEER=nfd$$
PID=
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    ip link del "$VETH" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
ip link add "$VETH" type veth peer name "$VPEER" || skip "cannot create a veth pair"
ip link set "$VETH" up
ip link set "$VPEER" up
"$MKPCAP" sample "$TMP/sample.pcap" >/dev/null 2>&1 || exit 99

fails=0
# LeakSanitizer stops the world at exit with ptrace, which the filter forbids (sanitizer build).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
check() { name=$1; shift; if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi; }

# Waits until the probe runs THREADS threads (they start after the drop), at most 10 s.
wait_threads() {
    i=0
    while [ "$(ls "/proc/$PID/task" 2>/dev/null | wc -l)" -lt "$1" ]; do
        kill -0 "$PID" 2>/dev/null || return 1
        i=$((i + 1)); [ $i -gt 200 ] && return 1
        sleep 0.05
    done
}
# Every thread: no capability in any set, no_new_privs on.
no_caps() {
    ok=0
    for st in /proc/"$PID"/task/*/status; do
        bad=$(awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ && $2 != "0000000000000000" {print}
                   /^NoNewPrivs:/ && $2 != 1 {print}' "$st")
        if [ -n "$bad" ]; then echo "  $st: $bad"; ok=1; fi
    done
    return $ok
}
stop() { kill -TERM "$PID"; wait "$PID"; PID=; }

# A capability of the starting shell, so that the test fails if nothing is dropped.
grep -q '^CapEff:.*[1-9a-f]' /proc/self/status || skip "this root has no capabilities"

"$NFPROBE" -i "$VETH" --n-dissections 0 --csv /dev/null 2>"$TMP/err1" &
PID=$!
wait_threads 2 && check "live, root without --user" no_caps || { cat "$TMP/err1"; fails=$((fails + 1)); }
stop

"$NFPROBE" -i "$VETH" --n-dissections 0 --csv "$TMP/out.csv" --user nobody \
    --metrics 127.0.0.1:0 2>"$TMP/err2" &
PID=$!
wait_threads 3 && check "live, --user nobody, metrics thread" no_caps ||
    { cat "$TMP/err2"; fails=$((fails + 1)); }
check "--user: every thread is nobody" sh -c \
    "! grep -h '^Uid:' /proc/$PID/task/*/status | grep -qv \"\\s$(id -u nobody)\\s\""
stop

# --seccomp on a live run: metrics scrapes, SIGHUP reload, SIGUSR1 and the stop all stay
# within the filter (a forbidden call would end the process with status 159).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$NFPROBE" -i "$VETH" --n-dissections 0 --csv "$TMP/sec.csv" --user nobody --seccomp \
    --metrics "127.0.0.1:$PORT" 2>"$TMP/err4" &
PID=$!
if wait_threads 3; then
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5).read()' \
        "http://127.0.0.1:$PORT/metrics"
    check "--seccomp live: metrics scraped" [ $? -eq 0 ]
    kill -HUP "$PID"; sleep 0.3; kill -USR1 "$PID"; sleep 0.3
    check "--seccomp live: no capability either" no_caps
    kill -TERM "$PID"; wait "$PID"; rc=$?; PID=
    check "--seccomp live: reload, dump and stop within the filter (status $rc)" [ $rc -eq 0 ]
    [ $rc -eq 0 ] || cat "$TMP/err4"
else
    cat "$TMP/err4"; fails=$((fails + 1)); stop
fi

mkfifo "$TMP/fifo"
"$NFPROBE" -r "$TMP/fifo" --csv /dev/null --metrics 127.0.0.1:0 2>"$TMP/err3" &
PID=$!
exec 3>"$TMP/fifo"
head -c 24 "$TMP/sample.pcap" >&3 # the header: the reader opens and waits for records
wait_threads 2 && check "offline (a FIFO), root" no_caps || { cat "$TMP/err3"; fails=$((fails + 1)); }
exec 3>&-
wait "$PID"; PID=

[ $fails -eq 0 ]
