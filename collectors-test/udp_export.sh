#!/bin/sh
# Collector test: the UDP export knobs of nfprobe, end to end, into a python3 sink on 127.0.0.1
# that records every datagram's arrival time and Set/FlowSet ids.
#   --export-rate N   the arrivals of M messages span at least (M - 64) / N seconds (64: the
#                     token bucket's initial burst); with --export-rate 0 (unpaced) every
#                     message arrives too, with the same flows.
#   --template-refresh-packets N (NetFlow v9 over UDP): a Template FlowSet (id 0) in the first
#                     packet and then at most N + 1 packets apart; with N above the packet
#                     count, in the first packet only.
. "$(dirname "$0")/ipfix_lib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
need_nfprobe
need_shared
collector_scratch

PCAP="$SHARED/data/nfstream/pcaps/synscan.pcap" # ~2000 flows: hundreds of messages
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

cat >"$TMP/sink.py" <<'PY'
# sink.py PORT OUT: writes "time version set_ids..." per datagram until a b'STOP' datagram.
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:  # root (as in CI) may exceed net.core.rmem_max: nothing is lost however fast it comes
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), 1 << 24)
except OSError:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
s.bind(('127.0.0.1', int(sys.argv[1])))
out = open(sys.argv[2], 'w')
while True:
    d = s.recv(65536)
    if d == b'STOP':
        break
    t = time.monotonic()
    ver = struct.unpack('>H', d[:2])[0]
    off = 20 if ver == 9 else 16
    ids = []
    while off + 4 <= len(d):
        sid, slen = struct.unpack('>HH', d[off:off + 4])
        if slen < 4:
            break
        ids.append(sid)
        off += slen
    out.write('%.6f %d %s\n' % (t, ver, ' '.join(map(str, ids))))
out.close()
PY

# export NAME URL-SCHEME NFPROBE-OPTIONS...: nfprobe -r PCAP to the sink; its record in NAME.rx
export_to_sink() {
    name=$1 scheme=$2; shift 2
    port=$(free_port udp)
    python3 "$TMP/sink.py" "$port" "$TMP/$name.rx" &
    SINK_PID=$!
    PIDS="$PIDS $SINK_PID"
    wait_for 50 udp_bound "$port" || bad "$name: the sink did not bind $port"
    "$NFPROBE" -r "$PCAP" -c "$scheme+udp://127.0.0.1:$port" --csv "$TMP/$name.csv" "$@" \
        2>"$TMP/$name.err" || bad "$name: nfprobe failed: $(tail -1 "$TMP/$name.err")"
    python3 -c 'import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"STOP", ("127.0.0.1", int(sys.argv[1])))' "$port"
    wait "$SINK_PID"
}

# --export-rate: paced at 400 messages/s, then unpaced.
export_to_sink paced ipfix --mtu 512 --export-rate 400
export_to_sink unpaced ipfix --mtu 512 --export-rate 0
python3 - "$TMP/paced.rx" "$TMP/unpaced.rx" <<'PY' || fails=$((fails + 1))
import sys
def load(p):
    return [float(l.split()[0]) for l in open(p)]
paced, unpaced = load(sys.argv[1]), load(sys.argv[2])
n, span = len(paced), paced[-1] - paced[0]
need = (n - 64) / 400.0
# Unpaced, the same messages arrive faster than the paced run's lower bound. A partly filled
# message leaves after the flush timer, so the slower paced run may split a few more.
ok = n > 200 and span >= need * 0.9 and abs(len(unpaced) - n) <= n // 100 + 1 and \
    unpaced[-1] - unpaced[0] < need
print('%s --export-rate 400: %d messages over %.2f s (at least %.2f s); --export-rate 0: %d '
      'messages over %.2f s' % ('ok  ' if ok else 'FAIL', n, span, need, len(unpaced),
                                unpaced[-1] - unpaced[0]))
sys.exit(0 if ok else 1)
PY
cmp -s "$TMP/paced.csv" "$TMP/unpaced.csv" && ok "same flows paced and unpaced" ||
    bad "paced and unpaced runs wrote different flows"

# --template-refresh-packets (NetFlow v9).
export_to_sink v9_every5 v9 --template-refresh-packets 5 --export-rate 0
export_to_sink v9_every5000 v9 --template-refresh-packets 5000 --export-rate 0
python3 - "$TMP/v9_every5.rx" "$TMP/v9_every5000.rx" <<'PY' || fails=$((fails + 1))
import sys
def template_packets(p):
    return [i for i, l in enumerate(open(p)) if '0' in l.split()[2:]]
def count(p):
    return sum(1 for _ in open(p))
t5, n5 = template_packets(sys.argv[1]), count(sys.argv[1])
t5000, n5000 = template_packets(sys.argv[2]), count(sys.argv[2])
gaps = [b - a for a, b in zip(t5, t5[1:])] + [n5 - t5[-1]] if t5 else []
ok5 = n5 > 20 and t5 and t5[0] == 0 and max(gaps) <= 6
ok5000 = n5000 < 5000 and t5000 == [0]
print('%s --template-refresh-packets 5: %d packets, templates in %d of them, largest gap %s'
      % ('ok  ' if ok5 else 'FAIL', n5, len(t5), max(gaps) if gaps else '-'))
print('%s --template-refresh-packets 5000: %d packets, templates in packets %s'
      % ('ok  ' if ok5000 else 'FAIL', n5000, t5000[:5]))
sys.exit(0 if ok5 and ok5000 else 1)
PY

echo "udp_export: $fails failed"
[ $fails -eq 0 ]
