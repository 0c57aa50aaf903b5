#!/bin/sh
# nfprobe on a Linux router (network namespaces this test creates; root only, skipped
# otherwise): --route-lookup and --networks-file through NetFlow v9 into a real nfcapd, with a
# route change and a SIGHUP reload of the networks file during one live run.
#
# Namespace R routes between A (a0, 10.1.0.0/24: the traffic's source), B (b0, 10.2.0.0/24) and
# C (c0, 10.3.0.0/24), with two routes: 192.0.2.0/24 via 10.2.0.2 (B) and 198.51.100.0/24 via
# 10.3.0.2 (C). nfprobe captures a0 in R and exports to nfcapd on R's loopback. A sends UDP
# flows (and one IPv6 flow: fd01::2 to 2001:db8:1::1, routed via fd02::2, then fd03::2) through
# R in three phases, each flow a known number of packets from its own port:
#   1. to both prefixes: next hop and egress ifIndex are the two routes', AS numbers and
#      destination masks the networks file's (64500 for 192.0.2.0/24, 64510 for 198.51.100.0/25
#      over the FIB's /24);
#   2. after `ip route replace 192.0.2.0/24 via 10.3.0.2 dev c0`: its flows go via C;
#   3. after the networks file changes (192.0.2.0/24 -> AS 64501) and SIGHUP: new flows carry
#      the new AS, and no flow of any phase is lost (every flow with all its packets in nfdump).
# Expected values come from the test's setup (`ip -o link` for ifIndexes).
. "$(dirname "$0")/../golden/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for ip netns"
command -v ip >/dev/null || skip "iproute2 not installed"
{ command -v nfcapd && command -v nfdump; } >/dev/null || skip "nfdump not installed"
command -v python3 >/dev/null || skip "python3 not installed"
[ -x "$NFPROBE" ] || { echo "FAIL: $NFPROBE not built"; exit 1; }
scratch
chmod 755 "$TMP"
R=nfreR$$ A=nfreA$$ B=nfreB$$ C=nfreC$$
PID='' NFC_PID=''
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    [ -n "$NFC_PID" ] && kill -KILL "$NFC_PID" 2>/dev/null
    for n in "$R" "$A" "$B" "$C"; do ip netns del "$n" 2>/dev/null; done
    [ -n "${KEEP:-}" ] && cp "$TMP/flows" /tmp/route_flows.txt; rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$R" || skip "cannot create a network namespace here"
for n in "$A" "$B" "$C"; do ip netns add "$n" || exit 1; done
inr() { ip netns exec "$R" "$@"; }
ip -n "$R" link set lo up
i=1
for p in a:"$A" b:"$B" c:"$C"; do
    l=${p%%:*} ns=${p#*:}
    ip -n "$R" link add "${l}0" type veth peer name "${l}1" netns "$ns" || exit 1
    ip -n "$R" link set "${l}0" up
    ip -n "$ns" link set "${l}1" up
    ip -n "$ns" link set lo up
    ip -n "$R" addr add "10.$i.0.1/24" dev "${l}0"
    ip -n "$ns" addr add "10.$i.0.2/24" dev "${l}1"
    ip -n "$ns" route add default via "10.$i.0.1"
    ip -n "$R" addr add "fd0$i::1/64" dev "${l}0" nodad
    ip -n "$ns" addr add "fd0$i::2/64" dev "${l}1" nodad
    ip -n "$ns" -6 route add default via "fd0$i::1"
    i=$((i + 1))
done
inr sysctl -qw net.ipv4.ip_forward=1
inr sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$R" route add 192.0.2.0/24 via 10.2.0.2 dev b0
ip -n "$R" route add 198.51.100.0/24 via 10.3.0.2 dev c0
ip -n "$R" -6 route add 2001:db8:1::/48 via fd02::2 dev b0
ifindex() { ip -n "$R" -o link show "$1" | cut -d: -f1; }
IF_B=$(ifindex b0) IF_C=$(ifindex c0)

cat >"$TMP/nets" <<'N'
64500,192.0.2.0/24
64510,198.51.100.0/25
N
mkdir -p "$TMP/nfc"
inr nfcapd -w "$TMP/nfc" -b 127.0.0.1 -p 2055 -t 3600 -P "$TMP/nfc.pid" -D >/dev/null 2>&1
n=0; while [ ! -s "$TMP/nfc.pid" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
NFC_PID=$(cat "$TMP/nfc.pid" 2>/dev/null)
[ -n "$NFC_PID" ] || { echo "FAIL: nfcapd did not start"; exit 1; }

# Readiness as systemd sees it (READY=1 once the capture is active), as live.sh does.
python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(20)
while b"READY=1" not in s.recv(4096):
    pass' "$TMP/notify" &
NOTIFY=$!
n=0; while [ ! -S "$TMP/notify" ] && [ $n -lt 50 ]; do sleep 0.05; n=$((n + 1)); done
NOTIFY_SOCKET="$TMP/notify" ip netns exec "$R" "$NFPROBE" -i a0 --n-dissections 0 \
    --idle-timeout 1 --route-lookup --networks-file "$TMP/nets" \
    -c v9+udp://127.0.0.1:2055 2>"$TMP/err" &
PID=$!
wait $NOTIFY || { echo "FAIL: nfprobe not ready"; cat "$TMP/err"; exit 1; }

# send PHASE: from A, flows of PACKETS packets each to the two prefixes, from ports 1PP00+k.
send() {
    ip netns exec "$A" python3 - "$1" <<'PY'
import socket, sys, time
phase = int(sys.argv[1])
for k, dst in enumerate(["192.0.2.1", "192.0.2.77", "198.51.100.9", "198.51.100.200",
                         "2001:db8:1::1"]):
    v6 = ":" in dst
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("fd01::2" if v6 else "10.1.0.2", 10000 + phase * 100 + k))
    for i in range(3 + k):
        s.sendto(b"x" * 64, (dst, 9))
        time.sleep(0.002)
    s.close()
PY
}
# the flows of a phase are exported (idle timeout 1 s, timely expiry within 2 s) before the next
settle() { sleep 4; }
send 1; settle
ip -n "$R" route replace 192.0.2.0/24 via 10.3.0.2 dev c0
ip -n "$R" -6 route replace 2001:db8:1::/48 via fd03::2 dev c0
sleep 0.3
send 2; settle
cat >"$TMP/nets.new" <<'N'
64501,192.0.2.0/24
64510,198.51.100.0/25
N
mv "$TMP/nets.new" "$TMP/nets"
kill -HUP "$PID"
n=0; while ! grep -q "AS table reloaded" "$TMP/err" && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
send 3; settle
kill -TERM "$PID"
n=0; while kill -0 "$PID" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
wait "$PID"; rc=$?; PID=
kill -TERM "$NFC_PID"
n=0; while kill -0 "$NFC_PID" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
NFC_PID=
nfdump -R "$TMP/nfc" -6 -q -N -o 'fmt:%sa;%da;%sp;%dp;%nh;%out;%sas;%das;%dmk;%ipkt' \
    >"$TMP/flows" 2>"$TMP/nfdump.err"

python3 - "$TMP/flows" "$IF_B" "$IF_C" <<'PY'
import sys
flows, if_b, if_c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
want = {}
for phase in (1, 2, 3):
    for k, dst in enumerate(["192.0.2.1", "192.0.2.77", "198.51.100.9", "198.51.100.200",
                             "2001:db8:1::1"]):
        if dst.startswith("2001:"):  # not in the networks file: the FIB's /48
            nh, out = ("fd02::2", if_b) if phase == 1 else ("fd03::2", if_c)
            das, dmk = 0, 48
        elif dst.startswith("192."):
            nh, out = ("10.2.0.2", if_b) if phase == 1 else ("10.3.0.2", if_c)
            das, dmk = (64500 if phase < 3 else 64501), 24
        else:
            nh, out = "10.3.0.2", if_c
            # 198.51.100.0/25 is in the networks file: its mask wins over the FIB's /24
            das, dmk = (64510, 25) if dst.endswith(".9") else (0, 24)
        want[(10000 + phase * 100 + k, dst)] = (nh, out, 0, das, dmk, 3 + k)
got = {}
for line in open(flows):
    f = [x.strip() for x in line.split(";")]
    if len(f) != 10 or f[0] not in ("10.1.0.2", "fd01::2"):
        continue
    got[(int(f[2]), f[1])] = (f[4], int(f[5]), int(f[6]), int(f[7]), int(f[8]), int(f[9]))
bad = 0
for k, v in want.items():
    if got.get(k) != v:
        print(f"FAIL: flow from port {k[0]} to {k[1]}: nfdump {got.get(k)}, expected {v} "
              "(next hop, egress, src AS, dst AS, dst mask, packets)")
        bad = 1
if not bad:
    print(f"ok: {len(want)} flows over 3 phases: next hop and egress follow the FIB through a "
          "route change, AS numbers the networks file through a SIGHUP reload, none lost")
sys.exit(bad)
PY
fails=$?
[ $rc -eq 0 ] || { echo "FAIL: nfprobe exit $rc"; cat "$TMP/err"; fails=1; }
grep -q "AS table reloaded" "$TMP/err" || { echo "FAIL: no reload logged"; cat "$TMP/err"; fails=1; }
exit $fails
