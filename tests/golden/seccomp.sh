#!/bin/sh
# --seccomp: the filter allows what a run needs (offline CSV, IPFIX over TCP and UDP, v9, the
# metrics server: output identical to a run without it), and stops nfprobe, with one line
# naming the call, when a plugin (tests/golden/seccomp_plugin.c) tries execve or ptrace after
# start-up; without --seccomp the same plugin changes nothing.
. "$(dirname "$0")/lib.sh"
scratch
PLUGIN="$BUILDDIR/tests/golden/seccomp_plugin.so"
[ -f "$PLUGIN" ] || { echo "missing $PLUGIN"; exit 99; }
"$MKPCAP" sample "$TMP/s.pcap" >/dev/null 2>&1 || exit 99
fails=0
# LeakSanitizer stops the world at exit with ptrace, which the filter forbids (sanitizer build).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
check() { name=$1; shift; if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi; }

"$NFPROBE" -r "$TMP/s.pcap" --statistical-analysis --csv "$TMP/plain.csv" 2>/dev/null
# A TCP collector that keeps what it receives, and a UDP port that takes datagrams.
python3 - "$TMP/port" "$TMP/tcp.bin" "$TMP/uport" <<'PY' &
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
open(sys.argv[3], "w").write(str(u.getsockname()[1]))
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1); s.settimeout(30)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); out = open(sys.argv[2], "wb")
while True:
    d = c.recv(65536)
    if not d: break
    out.write(d)
PY
COL=$!
i=0; while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
"$NFPROBE" -r "$TMP/s.pcap" --statistical-analysis --seccomp --csv "$TMP/sec.csv" \
    -c "ipfix+tcp://127.0.0.1:$(cat "$TMP/port")" -c "ipfix+udp://127.0.0.1:$(cat "$TMP/uport")" \
    -c "v9+udp://127.0.0.1:$(cat "$TMP/uport")" --metrics 127.0.0.1:0 2>"$TMP/sec.err"
rc=$?
wait $COL
check "--seccomp: a run with export and metrics succeeds" [ $rc -eq 0 ]
check "--seccomp: same flows" cmp -s "$TMP/plain.csv" "$TMP/sec.csv"
check "--seccomp: the TCP collector got the flows" [ -s "$TMP/tcp.bin" ]
[ $rc -eq 0 ] || cat "$TMP/sec.err"

# The hook: harmless without the filter...
"$NFPROBE" -r "$TMP/s.pcap" --plugin "$PLUGIN" --csv "$TMP/hook.csv" 2>"$TMP/hook.err"
check "no --seccomp: execve attempt is harmless" [ $? -eq 0 ]
# ... fatal under it: killed by SIGSYS (status 128 + 31), the call named on stderr.
for call in execve ptrace; do
    "$NFPROBE" -r "$TMP/s.pcap" --seccomp --plugin "$PLUGIN:call=$call" --csv "$TMP/k.csv" \
        2>"$TMP/k.err"
    rc=$?
    check "--seccomp: $call stops nfprobe (status $rc)" [ $rc -eq 159 ]
    check "--seccomp: $call is named" grep -q "^nfprobe: seccomp: forbidden system call $call (" \
        "$TMP/k.err"
done
[ $fails -eq 0 ]
