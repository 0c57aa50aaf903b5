#!/bin/sh
# ingressInterface of live inputs (issue 13 item 1), in network namespaces this test creates
# (root only; skipped otherwise). Namespace N holds the probe: veth x1 (10.9.0.2/24) whose peer
# x0 (10.9.0.1/24) is in namespace P, and its own lo. `nfprobe -i x1@12 -i lo` exports to an
# nfcapd in N; P sends UDP datagrams to 10.9.0.2:9999 and N to 127.0.0.1:9999. nfdump must show
# the x1 flow with the given ifIndex 12 and the lo flow with the kernel's ifIndex of lo, and 0
# sequence failures.
. "$(dirname "$0")/../golden/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for ip netns"
command -v ip >/dev/null || skip "iproute2 not installed"
command -v nfcapd >/dev/null 2>&1 || skip "nfcapd not installed (Debian package nfdump)"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
[ -x "$NFPROBE" ] || { echo "FAIL: $NFPROBE not built"; exit 1; }
scratch
N=nfifN$$ P=nfifP$$
PIDS=
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    ip netns del "$N" 2>/dev/null
    ip netns del "$P" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$N" || skip "cannot create a network namespace here"
ip netns add "$P" || exit 1
ip -n "$N" link set lo up
ip -n "$N" link add x1 type veth peer name x0 netns "$P" || exit 1
ip -n "$N" addr add 10.9.0.2/24 dev x1
ip -n "$P" addr add 10.9.0.1/24 dev x0
ip -n "$N" link set x1 up
ip -n "$P" link set x0 up
lo_index=$(ip netns exec "$N" cat /sys/class/net/lo/ifindex)

mkdir -p "$TMP/nf"
ip netns exec "$N" nfcapd -w "$TMP/nf" -b 127.0.0.1 -p 4739 -t 3600 >"$TMP/nfcapd.log" 2>&1 &
nfcapd_pid=$!
PIDS="$PIDS $nfcapd_pid"
ip netns exec "$N" "$NFPROBE" -i x1@12 -i lo --bpf-filter 'udp port 9999' \
    -c ipfix+udp://127.0.0.1:4739 >"$TMP/nfprobe.out" 2>"$TMP/nfprobe.err" &
probe_pid=$!
PIDS="$PIDS $probe_pid"
sleep 2
send() { # NETNS ADDRESS COUNT: UDP datagrams to ADDRESS:9999 from namespace NETNS
    ip netns exec "$1" "$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[2])):
    s.sendto(b"x" * 32, (sys.argv[1], 9999))
    time.sleep(0.05)' "$2" "$3" || echo "sending to $2 failed"
}
send "$P" 10.9.0.2 3
send "$N" 127.0.0.1 2
sleep 0.5
kill -TERM "$probe_pid"
wait "$probe_pid"
sleep 1
kill -TERM "$nfcapd_pid"
wait "$nfcapd_pid"
file=
for f in "$TMP"/nf/nfcapd.*; do case $f in *current*) ;; *) [ -f "$f" ] && file=$f ;; esac; done
[ -n "$file" ] || { echo "FAIL: nfcapd wrote no file"; cat "$TMP/nfcapd.log" "$TMP/nfprobe.err"; exit 1; }
nfdump -q -N -r "$file" -o 'fmt:%sa|%da|%in' | tr -d ' ' | sort -u >"$TMP/got"
nfdump -r "$file" -I >"$TMP/stat" 2>&1
failed=0
check_line() {
    if grep -qx "$1" "$TMP/got"; then
        echo "ok: $2"
    else
        echo "FAIL: $2: nfdump shows"; cat "$TMP/got"; failed=1
    fi
}
check_line "10.9.0.1|10.9.0.2|12" "-i x1@12: ingressInterface 12"
check_line "127.0.0.1|127.0.0.1|$lo_index" "-i lo: ingressInterface $lo_index, the kernel's"
if grep -q "Sequence failures: 0" "$TMP/stat"; then
    echo "ok: 0 sequence failures"
else
    echo "FAIL: nfdump -I:"; cat "$TMP/stat"; failed=1
fi
[ $failed -eq 0 ] || cat "$TMP/nfprobe.err"
exit $failed
