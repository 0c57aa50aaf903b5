#!/bin/sh
# Live capture end to end, in a network namespace and veth pair this test creates itself
# (root only; skipped otherwise). Traffic is replayed with tcpreplay from inside the namespace
# into the veth whose peer nfprobe captures; nothing leaves the machine.
#  1. packet and byte totals equal the offline run on the same capture, --workers 1 and 2;
#  2. idle flows leave within 2 s of their idle timeout while no traffic flows;
#  3. SIGTERM in the middle of a replay: every packet nfprobe metered is in an emitted flow;
#  4. a flood of unique 5-tuples with a small --max-flows: evictions counted, memory flat.
. "$(dirname "$0")/../golden/lib.sh"
need_shared
[ "$(id -u)" -eq 0 ] || skip "needs root for ip netns"
command -v tcpreplay >/dev/null || skip "tcpreplay not installed"
command -v ip >/dev/null || skip "iproute2 not installed"
scratch
chmod 755 "$TMP" # the notify socket inside must be reachable by --user nobody
NS=nfpt$$
VETH=nfp$$
VPEER=nfq$$
cleanup() {
    pkill -KILL -f "nfprobe -i $VETH" 2>/dev/null
    ip link del "$VETH" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS" || skip "cannot create a network namespace here"
ip link add "$VETH" type veth peer name "$VPEER" || skip "cannot create a veth pair"
ip link set "$VPEER" netns "$NS"
ip link set "$VETH" mtu 9000 up
ip netns exec "$NS" ip link set "$VPEER" mtu 9000 up
# No IPv6 autoconfiguration chatter on the test link: only replayed packets.
sysctl -qw "net.ipv6.conf.$VETH.disable_ipv6=1" 2>/dev/null
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$VPEER.disable_ipv6=1" 2>/dev/null

fails=0
check() { name=$1; shift; if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi; }
totals() { # flows packets bytes of a CSV
    python3 -c '
import csv, sys
r = list(csv.DictReader(open(sys.argv[1]), escapechar="\\", doublequote=False))
print(len(r), sum(int(x["bidirectional_packets"]) for x in r), sum(int(x["bidirectional_bytes"]) for x in r))' "$1"
}
metered() { sed -n 's/.* \([0-9]*\) metered.*/\1/p' "$1"; }
start_probe() { # start_probe OUT.csv ERR FLAGS...
    out=$1 err=$2; shift 2
    # Readiness as systemd sees it: nfprobe sends READY=1 to $NOTIFY_SOCKET once every capture
    # is active, privileges are dropped and the workers run.
    rm -f "$TMP/notify"
    python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(20)
os.chmod(sys.argv[1], 0o777)  # reachable after --user drops to an unprivileged account
while b"READY=1" not in s.recv(4096):
    pass' "$TMP/notify" &
    NOTIFY=$!
    i=0; while [ ! -S "$TMP/notify" ] && [ $i -lt 50 ]; do sleep 0.05; i=$((i+1)); done
    NOTIFY_SOCKET="$TMP/notify" "$NFPROBE" -i "$VETH" --n-dissections 0 --csv "$out" "$@" 2>"$err" &
    PID=$!
    wait $NOTIFY
}
stop_probe() { kill -TERM "$PID"; i=0; while kill -0 "$PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; ! kill -0 "$PID" 2>/dev/null; }
replay() { ip netns exec "$NS" tcpreplay -q -i "$VPEER" "$@" >/dev/null 2>&1; }
# A real collector on loopback: nfcapd_start DIR sets NFC_PID and NFC_PORT.
nfcapd_start() {
    mkdir -p "$1"
    NFC_PORT=$((30000 + ($$ * 7 + $(od -An -N2 -tu2 /dev/urandom)) % 20000))
    nfcapd -w "$1" -b 127.0.0.1 -p "$NFC_PORT" -B 4194304 -P "$1.pid" -D >/dev/null 2>&1
    i=0; while [ ! -s "$1.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    NFC_PID=$(cat "$1.pid")
}
nfcapd_stop() { kill -TERM "$NFC_PID"; i=0; while kill -0 "$NFC_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; }
# packets and bytes (both directions) of every flow nfcapd stored in DIR
nfdump_totals() { nfdump -R "$1" -q -N -o 'fmt:%ipkt %opkt %ibyt %obyt' 2>/dev/null |
    awk '{p += $1 + $2; b += $3 + $4} END {print p + 0, b + 0}'; }
HAVE_NFCAPD=0; command -v nfcapd >/dev/null && command -v nfdump >/dev/null && HAVE_NFCAPD=1

CAP="$SHARED/data/nfstream/pcaps/instagram.pcap"
# The offline run's export too: nfcapd's totals (IP-layer octets, RFC 7012) are compared with
# what it got from the offline run, the CSVs' (--accounting-mode bytes) with each other.
offexp=
if [ $HAVE_NFCAPD -eq 1 ]; then nfcapd_start "$TMP/nfcoff"; offexp="-c ipfix+udp://127.0.0.1:$NFC_PORT"; fi
# shellcheck disable=SC2086
"$NFPROBE" -r "$CAP" --n-dissections 0 --csv "$TMP/off.csv" $offexp 2>/dev/null
if [ $HAVE_NFCAPD -eq 1 ]; then nfcapd_stop; offnf=$(nfdump_totals "$TMP/nfcoff"); fi
for n in 1 2; do
    exp=
    if [ $HAVE_NFCAPD -eq 1 ]; then nfcapd_start "$TMP/nfc$n"; exp="-c ipfix+udp://127.0.0.1:$NFC_PORT"; fi
    # shellcheck disable=SC2086
    start_probe "$TMP/live$n.csv" "$TMP/live$n.err" --workers $n $exp
    # 5000 packets/s: two ASan workers sharing two loaded cores kept up with 20000 in most runs
    # only (the kernel dropped packets), and equality is what is tested here, not speed
    replay --pps 5000 "$CAP"
    sleep 1
    check "workers $n: clean stop" stop_probe
    if [ $HAVE_NFCAPD -eq 1 ]; then
        nfcapd_stop
        b=$(nfdump_totals "$TMP/nfc$n")
        check "workers $n: nfcapd received packets and bytes $b = offline $offnf" \
            [ "$offnf" = "$b" ] && [ "${b%% *}" -gt 0 ]
    fi
    a=$(totals "$TMP/off.csv" | cut -d' ' -f2-); b=$(totals "$TMP/live$n.csv" | cut -d' ' -f2-)
    check "workers $n: packets and bytes $b = offline $a" [ "$a" = "$b" ]
done

# 2. Timely idle expiry: one short burst, then silence; flows must leave within idle + 2 s.
start_probe "$TMP/idle.csv" "$TMP/idle.err" --idle-timeout 2 --statistical-analysis
replay --pps 2000 "$SHARED/data/nfstream/pcaps/dhcp.pcap"
t0=$(date +%s%N)
deadline=$((t0 + 4000000000))
while [ "$(date +%s%N)" -lt $deadline ] && [ "$(wc -l <"$TMP/idle.csv" 2>/dev/null || echo 0)" -lt 2 ]; do sleep 0.1; done
# the CSV is written through a buffer; flows are counted from the probe's counters instead
kill -USR1 "$PID"; sleep 0.3
check "idle flows expired within 2 s of the timeout, without traffic" \
    grep -q "[1-9][0-9]* idle" "$TMP/idle.err"
stop_probe

# 3. SIGTERM mid-replay: conservation of metered packets.
start_probe "$TMP/term.csv" "$TMP/term.err" --workers 2
replay --pps 5000 "$SHARED/data/nfstream/pcaps/1kxun.pcap" &
RP=$!
sleep 0.15
check "SIGTERM mid-replay: clean stop" stop_probe
wait $RP 2>/dev/null
m=$(metered "$TMP/term.err"); p=$(totals "$TMP/term.csv" | cut -d' ' -f2)
check "SIGTERM mid-replay: $m metered packets = $p packets in flows" [ -n "$m" ] && [ "$m" = "$p" ] && [ "$m" -gt 0 ]

# 4. Flood of unique 5-tuples into a table of 2000 flows.
"$MKPCAP" bench "$TMP/flood.pcap" --packets 120000 --flows 100000 >/dev/null 2>&1 ||
    python3 - "$TMP/flood.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(100000):
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, 0, 0, 64, 6, 0,
                         bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]), bytes([192, 0, 2, 1]))
        tcp = struct.pack('!HHIIBBHHH', 1024 + i % 50000, 80, 0, 0, 0x50, 2, 1024, 0, 0)
        fr = b'\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00' + ip + tcp
        f.write(struct.pack('<IIII', 1, i, len(fr), len(fr)) + fr)
PY
start_probe "$TMP/flood.csv" "$TMP/flood.err" --max-flows 2000
rss() { awk '/^VmRSS:/ {print $2}' /proc/$PID/status; }
replay --pps 40000 "$TMP/flood.pcap" &
RP=$!
sleep 1; r1=$(rss); wait $RP; r2=$(rss)
kill -USR1 "$PID"; sleep 0.3
stop_probe
ev=$(sed -n 's/.* \([0-9]*\) evicted.*/\1/p' "$TMP/flood.err" | tail -1)
check "flood: evictions counted and exported ($ev)" [ "${ev:-0}" -gt 1000 ]
check "flood: RSS flat ($r1 kB after 1 s, $r2 kB at the end)" \
    [ -n "$r1" ] && [ -n "$r2" ] && [ $((r2 - r1)) -lt 8192 ]
m=$(metered "$TMP/flood.err" | tail -1); p=$(totals "$TMP/flood.csv" | cut -d' ' -f2)
check "flood: $m metered packets = $p packets in flows" [ "$m" = "$p" ]

# 4b. SIGTERM right after a short replay: every packet is metered. The last packets may sit in a
# TPACKET_V3 block the kernel retires only after the read timeout; the drain on stop must wait
# for it rather than end at the first empty read. Four runs at different phases against the
# 100 ms read timeout, then two after 20 s of idle link (where an early drain lost the packets
# in most runs: the block's retirement came late after a long idle).
"$NFPROBE" -r "$SHARED/data/nfstream/pcaps/dhcp.pcap" --n-dissections 0 --csv /dev/null \
    2>"$TMP/quick.err"
n=$(metered "$TMP/quick.err"); got= want= run=0
for idle in 0.37 0.74 0.11 0.48 20 20; do
    run=$((run + 1)) # not i: stop_probe uses it
    want="$want $n"
    start_probe "$TMP/quick$run.csv" "$TMP/quick$run.err"
    sleep "$idle"
    replay --pps 2000 "$SHARED/data/nfstream/pcaps/dhcp.pcap"
    stop_probe
    got="$got $(metered "$TMP/quick$run.err" | tail -1)"
done
check "SIGTERM right after the traffic: packets metered each time:$got (of $n)" \
    [ "$got" = "$want" ]
[ "$got" = "$want" ] || for k in 1 2 3 4 5 6; do sed "s/^/  run $k: /" "$TMP/quick$k.err"; done

# 5. Privileges: after start, no root id and only the capabilities capture needs.
start_probe "$TMP/priv.csv" "$TMP/priv.err" --user nobody
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/$PID/status)
gids=$(awk '/^Gid:/ {print $2, $3, $4, $5}' /proc/$PID/status)
capeff=$(awk '/^CapEff:/ {print $2}' /proc/$PID/status)
nob=$(id -u nobody)
check "privileges: uids '$uids' all nobody" [ "$uids" = "$nob $nob $nob $nob" ]
check "privileges: no gid 0 ('$gids')" sh -c "! echo '$gids' | grep -qw 0"
# CAP_NET_ADMIN (12) and CAP_NET_RAW (13) at most
check "privileges: effective capabilities $capeff within NET_RAW|NET_ADMIN" \
    python3 -c "import sys; sys.exit(int('$capeff', 16) & ~0x3000 != 0)"
replay --pps 2000 "$SHARED/data/nfstream/pcaps/dhcp.pcap" || echo "replay failed"
# stopped right after the replay: packets already captured must still be metered
check "privileges: still captures and stops cleanly" stop_probe
check "privileges: flows written ($(head -1 "$TMP/priv.err"))" [ -s "$TMP/priv.csv" ]

# 6. Service mode: --daemon (the command returns once the daemon is ready), SIGTERM through the
# pid file in the middle of a replay; every flow it wrote reached the collector.
if [ $HAVE_NFCAPD -eq 1 ]; then
    nfcapd_start "$TMP/nfcd"
    NOTIFY_SOCKET= "$NFPROBE" -i "$VETH" --daemon --log syslog --pid-file "$TMP/d.pid" \
        --n-dissections 0 --workers 2 --csv "$TMP/d.csv" -c "ipfix+udp://127.0.0.1:$NFC_PORT"
    check "daemon: started and wrote its pid file" [ -s "$TMP/d.pid" ]
    DPID=$(cat "$TMP/d.pid" 2>/dev/null)
    replay --pps 5000 "$SHARED/data/nfstream/pcaps/1kxun.pcap" &
    RP=$!
    sleep 0.15
    kill -TERM "$DPID" 2>/dev/null
    i=0; while kill -0 "$DPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    check "daemon: stopped on SIGTERM and removed its pid file" [ ! -e "$TMP/d.pid" ]
    wait $RP 2>/dev/null
    nfcapd_stop
    a=$(totals "$TMP/d.csv" | cut -d' ' -f2-); b=$(nfdump_totals "$TMP/nfcd")
    check "daemon: flows written ($a) = flows the collector got ($b)" \
        [ -n "$a" ] && [ "$a" = "$b" ] && [ "${a%% *}" -gt 0 ]
fi

# 7. SIGHUP: a shorter idle timeout from the configuration file applies without a restart;
# a key that needs a restart is refused with a message and the probe keeps running.
printf 'idle-timeout = 60\n' >"$TMP/hup.conf"
start_probe "$TMP/hup.csv" "$TMP/hup.err" -C "$TMP/hup.conf"
printf 'idle-timeout = 1\n' >"$TMP/hup.conf"
kill -HUP "$PID"; sleep 0.5
replay --pps 2000 "$SHARED/data/nfstream/pcaps/dhcp.pcap"
sleep 2.5
kill -USR1 "$PID"; sleep 0.3
check "SIGHUP: new idle timeout applied" grep -q "[1-9][0-9]* idle" "$TMP/hup.err"
printf 'idle-timeout = 1\naccounting-mode = 2\n' >"$TMP/hup.conf"
kill -HUP "$PID"; sleep 0.5
check "SIGHUP: a restart-only key is refused by name" grep -q "accounting-mode.*restart" "$TMP/hup.err"
check "SIGHUP: still running, stops cleanly" stop_probe

echo "live: $fails failed"
[ $fails -eq 0 ]
