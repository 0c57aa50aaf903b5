#!/bin/sh
# Collector test: the exit drain and loss accounting (issue 17 items 1, 2, 3, 11).
#
# - A stalled TCP and a stalled TLS collector (accept, never read): SIGTERM ends an offline run
#   within --drain-timeout; what was not sent is counted (sent + not sent = flows, exit 4).
#   The collector then records how many bytes its kernel acknowledged (FIONREAD) and resets
#   the connection: nfprobe's "sent" octets never exceed them (sent = acknowledged, not merely
#   accepted by our kernel).
# - A second SIGTERM stops at once, without waiting for the drain bound.
# - Offline with --export-rate 200 every flow is sent (the exit waits for all of them) and no
#   "not sent" warning is printed.
# - Over TCP and TLS the final options record counts every exported flow
#   (exportedFlowRecordTotalCount), as over UDP.
. "$(dirname "$0")/../tests/golden/lib.sh"
. "$(dirname "$0")/ipfix_lib.sh"

command -v ipfixDump >/dev/null 2>&1 || skip "ipfixDump not installed (libfixbuf-tools)"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
setup_export_test
MKPCAP=${MKPCAP:-$BUILDDIR/tools/mkpcap/mkpcap}
"$MKPCAP" bench "$TMP/many.pcap" --packets 200000 --flows 60000 >/dev/null ||
    { echo "FAIL: mkpcap"; exit 1; }
P="$SHARED/data/nfstream/pcaps"

# stalled PORT PROTO INFO: accepts one connection (TLS: completes the handshake), never reads;
# when INFO.go appears, writes the bytes its kernel holds for it (FIONREAD) to INFO and resets.
stalled() {
    python3 - "$@" <<'PY' &
import fcntl, os, socket, ssl, struct, sys, termios, time
port, proto, info = int(sys.argv[1]), sys.argv[2], sys.argv[3]
pki = os.environ["PKI"]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.bind(("127.0.0.1", port)); s.listen(1)
c, _ = s.accept()
if proto == "tls":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki + "/server.pem", pki + "/server.key")
    ctx.load_verify_locations(pki + "/ca.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED
    c = ctx.wrap_socket(c, server_side=True)
s.close()
while not os.path.exists(info + ".go"):
    time.sleep(0.05)
n = struct.unpack("i", fcntl.ioctl(c.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
open(info, "w").write("%d\n" % n)
raw = c.unwrap() if False else c
raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
raw.close()
PY
    SINK_PID=$!
    PIDS="$PIDS $SINK_PID"
    wait_for 100 tcp_listening "$1" || { echo "stalled collector did not listen on $1"; return 1; }
}
export PKI

# tcp_stuck PORT: the connection to PORT has bytes waiting in our send queue (tx_queue).
tcp_stuck() {
    awk -v p=":$(printf %04X "$1")" '$3 ~ p"$" { split($5, a, ":"); if (a[1] != "00000000") f = 1 }
        END { exit !f }' /proc/net/tcp
}

# summary_field LOG URL: "SENT OCTETS NOTSENT" from the export summary line of URL.
summary_field() {
    grep "export $2:" "$1" | tail -1 |
        sed -E 's/.*: ([0-9]+) flows sent in [0-9]+ messages \(([0-9]+) octets\), ([0-9]+) not sent.*/\1 \2 \3/'
}

for proto in tcp tls; do
    port=$(free_port tcp)
    stalled "$port" "$proto" "$TMP/$proto.info" || { fail "$proto: stalled collector"; continue; }
    opts=
    [ "$proto" = tls ] && opts=$TLS_OPTS
    url="ipfix+$proto://127.0.0.1:$port"
    # shellcheck disable=SC2086
    "$NFPROBE" -r "$TMP/many.pcap" -c "$url" $opts --drain-timeout 2 --csv "$TMP/$proto.csv" \
        2>"$TMP/$proto.log" &
    np=$!
    if ! wait_for 300 tcp_stuck "$port"; then
        fail "$proto: the export never stalled"; kill -9 $np; continue
    fi
    sleep 0.5 # let the kernel settle what it acknowledged
    : >"$TMP/$proto.info.go"
    wait_for 50 test -s "$TMP/$proto.info"
    t0=$(date +%s%N)
    kill -TERM $np
    wait_for 100 sh -c "! kill -0 $np 2>/dev/null"
    if kill -0 $np 2>/dev/null; then
        fail "$proto: SIGTERM did not end the run within 10 s"; kill -9 $np; wait $np; continue
    fi
    wait $np; rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    flows=$(($(wc -l <"$TMP/$proto.csv") - 1))
    set -- $(summary_field "$TMP/$proto.log" "$url")
    sent=${1:-x} octets=${2:-x} notsent=${3:-x}
    acked=$(cat "$TMP/$proto.info")
    [ "$ms" -lt 6000 ] || fail "$proto: SIGTERM took $ms ms with --drain-timeout 2"
    [ "$rc" = 4 ] || fail "$proto: exit status $rc, expected 4 (flows not exported)"
    [ "$sent" != x ] && [ $((sent + notsent)) = "$flows" ] ||
        fail "$proto: sent $sent + not sent $notsent != $flows flows"
    [ "$notsent" != x ] && [ "$notsent" -gt 0 ] || fail "$proto: nothing counted as not sent"
    [ "$octets" != x ] && [ "$octets" -le "$acked" ] ||
        fail "$proto: $octets octets counted as sent, the collector acknowledged $acked"
    grep -q "flows not sent at exit" "$TMP/$proto.log" || fail "$proto: no 'not sent' warning"
    [ $FAILED = 0 ] && pass "$proto: stalled collector: SIGTERM ended the run in $ms ms," \
        "$sent sent ($octets octets <= $acked acknowledged), $notsent not sent"
done

# A second SIGTERM stops at once (the drain bound is 60 s here).
port=$(free_port tcp)
stalled "$port" tcp "$TMP/twice.info"
"$NFPROBE" -r "$TMP/many.pcap" -c "ipfix+tcp://127.0.0.1:$port" --drain-timeout 60 \
    --csv /dev/null 2>"$TMP/twice.log" &
np=$!
if wait_for 300 tcp_stuck "$port"; then
    t0=$(date +%s%N)
    kill -TERM $np; sleep 0.3; kill -TERM $np
    wait_for 100 sh -c "! kill -0 $np 2>/dev/null"
    ms=$((($(date +%s%N) - t0) / 1000000))
    if kill -0 $np 2>/dev/null; then
        fail "second SIGTERM: still running"; kill -9 $np
    elif [ "$ms" -ge 5000 ]; then
        fail "second SIGTERM: took $ms ms"
    else
        pass "second SIGTERM: stopped in $ms ms"
    fi
else
    fail "second SIGTERM: the export never stalled"; kill -9 $np
fi
wait $np 2>/dev/null
: >"$TMP/twice.info.go"

# Offline, paced: every flow is sent, however long it takes; no loss warning.
port=$(free_port udp)
start_udp_sink "$port" "$TMP/paced.rx"
"$NFPROBE" -r "$P/instagram.pcap" -r "$P/tor.pcap" -r "$P/anydesk.pcap" \
    -c "ipfix+udp://127.0.0.1:$port" --export-rate 200 --csv "$TMP/paced.csv" \
    2>"$TMP/paced.log"
rc=$?
flows=$(($(wc -l <"$TMP/paced.csv") - 1))
set -- $(summary_field "$TMP/paced.log" "ipfix+udp://127.0.0.1:$port")
if [ "$rc" = 0 ] && [ "${1:-x}" = "$flows" ] && [ "${3:-x}" = 0 ] &&
    ! grep -q "not sent at exit" "$TMP/paced.log"; then
    pass "--export-rate 200 offline: all $flows flows sent"
else
    fail "--export-rate 200 offline: exit $rc, sent ${1:-?} of $flows, not sent ${3:-?}"
    cat "$TMP/paced.log"
fi

# The final options record over TCP and TLS counts the flows (exportedFlowRecordTotalCount).
for proto in tcp tls; do
    port=$(free_port tcp)
    if [ "$proto" = tcp ]; then
        start_tcp_sink "$port" "$TMP/final.tcp"; out="$TMP/final.tcp.1"; opts=
    else
        start_tls_sink "$port" "$TMP/final.tls" "$PKI"; out="$TMP/final.tls"; opts=$TLS_OPTS
    fi
    # shellcheck disable=SC2086
    "$NFPROBE" -r "$P/instagram.pcap" -c "ipfix+$proto://127.0.0.1:$port" $opts \
        --csv "$TMP/final.$proto.csv" 2>"$TMP/final.$proto.log"
    flows=$(($(wc -l <"$TMP/final.$proto.csv") - 1))
    wait_for 50 file_stable "$out"
    last=$(ipfixDump -i "$out" -e "$REGISTRY" 2>/dev/null |
        awk '/exportedFlowRecordTotalCount/ { v = $NF } END { print v + 0 }')
    [ "$last" = "$flows" ] && pass "$proto: final exportedFlowRecordTotalCount $last" ||
        fail "$proto: final exportedFlowRecordTotalCount $last, $flows flows exported"
done

exit $FAILED
