# lib.sh - the shell library of the collectors-test scripts (sourced, not run).
# shellcheck disable=SC2034 # FAILED, NFCAPD_FILE, PORT: read by the scripts that source this
#
# Every collector is a real program on 127.0.0.1 started by the test itself; every background
# process a test starts goes into PIDS, and `cleanup` (the EXIT trap set by collector_scratch)
# stops them all and removes the scratch directory, however the test ends. Waits poll with
# deadlines, never a fixed sleep. Functions are safe under `set -eu` (demo.sh uses it).
#
# The environment comes from make check (AM_TESTS_ENVIRONMENT); the defaults let a script run
# by hand from a build directory. tests/golden/lib.sh brings skip, need_shared and scratch.
: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$SRCDIR/tests/golden/lib.sh"

PIDS=
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }
pass() { echo "ok: $*"; }

# need_nfdump: skips the test unless nfcapd and nfdump (Debian package nfdump) are installed.
need_nfdump() {
    command -v nfcapd >/dev/null 2>&1 || skip "nfcapd not installed (Debian package nfdump)"
    command -v nfdump >/dev/null 2>&1 || skip "nfdump not installed"
}

# need_tshark: skips the test unless tshark (Debian package tshark) is installed.
need_tshark() {
    command -v tshark >/dev/null 2>&1 || skip "tshark not installed"
}

# need_nfprobe: fails the test when the probe was not built.
need_nfprobe() {
    [ -x "$NFPROBE" ] || { echo "FAIL: $NFPROBE not built"; exit 1; }
}

# router_capture: the router-fields capture $TMP/router.pcap and what each flow must show,
# $TMP/want.json (collectors-test/router_pcap.py); sets PY to Debian's python3.
router_capture() {
    PY=/usr/bin/python3
    [ -x "$PY" ] || PY=python3
    "$PY" "$SRCDIR/collectors-test/router_pcap.py" "$TMP/router.pcap" "$TMP/want.json" ||
        { echo "FAIL: router_pcap.py"; exit 1; }
}

# start_relay NAME: udp_relay.py on a free port (RELAY_PORT; RELAY_PID, in PIDS) forwarding
# to nfcapd's $PORT and keeping every datagram in $TMP/NAME.pcap for tshark.
start_relay() {
    RELAY_PORT=$(free_port udp)
    "${PY:-python3}" "$SRCDIR/collectors-test/udp_relay.py" "$RELAY_PORT" "$PORT" \
        "$TMP/$1.pcap" >"$TMP/$1.relay" 2>&1 &
    RELAY_PID=$!
    PIDS="$PIDS $RELAY_PID"
    wait_for 100 grep -q ready "$TMP/$1.relay" || { echo "FAIL: relay:"; cat "$TMP/$1.relay"; exit 1; }
}

# cleanup: stops every process recorded in PIDS and removes $TMP.
cleanup() {
    for c_pid in $PIDS; do kill "$c_pid" 2>/dev/null || :; done
    for c_pid in $PIDS; do wait "$c_pid" 2>/dev/null || :; done
    PIDS=
    if [ -n "${TMP:-}" ]; then rm -rf "$TMP"; fi
}

# collector_scratch: a scratch directory $TMP and the cleanup above at exit.
collector_scratch() {
    scratch
    trap cleanup EXIT
}

# wait_for TENTHS COMMAND...: polls COMMAND every 0.1 s until it succeeds or time runs out.
wait_for() {
    w_n=$1; shift
    while [ "$w_n" -gt 0 ]; do
        if "$@"; then return 0; fi
        sleep 0.1; w_n=$((w_n - 1))
    done
    return 1
}

# free_port tcp|udp: a random port of 20000-32767 that no socket of that protocol uses now.
# Below Linux's ephemeral range (32768-60999), so no client socket is handed it meanwhile;
# two tests may still draw the same port, so the start functions retry on a failed bind.
free_port() {
    while :; do
        f_port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12768))
        grep -Eq "^ *[0-9]+: [0-9A-F]+:$(printf %04X "$f_port") " \
            "/proc/net/$1" "/proc/net/${1}6" 2>/dev/null || break
    done
    echo "$f_port"
}

# tcp_listening PORT / udp_bound PORT: a socket is there (from /proc/net).
tcp_listening() {
    grep -Eq "^ *[0-9]+: [0-9A-F]+:$(printf %04X "$1") [0-9A-F]+:[0-9A-F]+ 0A " \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
udp_bound() {
    grep -Eq "^ *[0-9]+: [0-9A-F]+:$(printf %04X "$1") " /proc/net/udp /proc/net/udp6 2>/dev/null
}

# udp_idle PORT: the receiver has read every datagram (rx_queue of /proc/net/udp is 0).
udp_idle() {
    q=$(awk -v p=":$(printf %04X "$1")" '$2 ~ p"$" { split($5, a, ":"); print a[2]; exit }' \
        /proc/net/udp /proc/net/udp6)
    [ "${q:-0}" = "00000000" ] || [ -z "$q" ]
}

# has_ipv6: ::1 is usable here.
has_ipv6() { grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; }

# gone PID: the process has exited (an unreaped child is a zombie, which kill -0 still finds).
gone() {
    g_state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
    [ -z "$g_state" ] || [ "$g_state" = Z ]
}

# stop PID: SIGTERM, then wait (at most 10 s) until it is gone and reap it.
stop() {
    kill -TERM "$1" 2>/dev/null || :
    wait_for 100 gone "$1" || :
    wait "$1" 2>/dev/null || :
    return 0
}

# file_stable FILE: FILE exists and did not grow in the last 0.3 s.
file_stable() {
    [ -f "$1" ] || return 1
    s1=$(wc -c <"$1"); sleep 0.3; s2=$(wc -c <"$1")
    [ "$s1" = "$s2" ]
}

# start_nfcapd DIR: a real nfcapd storing into DIR (emptied first), on a free UDP port of
# 127.0.0.1 with a 4 MiB socket buffer and one file until it stops (-t 3600); its log is
# DIR.log. Sets PORT and NFCAPD_PID (also in PIDS). Tries three ports before failing.
NFCAPD_PID=
start_nfcapd() {
    for _ in 1 2 3; do
        PORT=$(free_port udp)
        rm -rf "$1"; mkdir -p "$1"
        nfcapd -w "$1" -b 127.0.0.1 -p "$PORT" -t 3600 -B 4194304 >"$1.log" 2>&1 &
        NFCAPD_PID=$!
        PIDS="$PIDS $NFCAPD_PID"
        if wait_for 100 sh -c "grep -q Startup '$1.log' || ! kill -0 $NFCAPD_PID" &&
            kill -0 "$NFCAPD_PID" 2>/dev/null && udp_bound "$PORT"; then
            return 0
        fi
        stop "$NFCAPD_PID"
    done
    echo "FAIL: nfcapd did not start:"; cat "$1.log"
    return 1
}

# stop_nfcapd DIR: waits (at most 5 s) until nfcapd has read every datagram, stops it (it
# writes its file on SIGTERM) and sets NFCAPD_FILE to the file it wrote (empty if none).
stop_nfcapd() {
    wait_for 50 udp_idle "$PORT" || echo "nfcapd still had datagrams queued"
    stop "$NFCAPD_PID"
    NFCAPD_FILE=
    for s_f in "$1"/nfcapd.*; do
        case $s_f in *current*) ;; *) if [ -f "$s_f" ]; then NFCAPD_FILE=$s_f; fi ;; esac
    done
    return 0
}
