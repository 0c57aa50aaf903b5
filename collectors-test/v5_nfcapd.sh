#!/bin/sh
# Collector test: `nfprobe -r CAPTURE -c v5+udp://127.0.0.1:PORT` into a real nfcapd (nfdump
# 1.7.1), and the same export into a UDP receiver that stores it for tshark.
#
# For every IPv4 flow direction of nfprobe's CSV of the same run the collector must show one
# record (summed per one-way 5-tuple): packets, bytes, first/last seen to the ms and the engine
# type/id given in the URL; no record for a direction without packets; datagrams of 30 records
# (the last one fewer), nfcapd's flow and packet counts equal to what was sent and 0 sequence
# failures; the IPv6 flows counted as not exportable in the exit summary. tshark must decode
# every datagram with flow_sequence counting records and 0 malformed or warning items.
#
# Bytes: dOctets are the IP-layer octets (RFC 7012) the test computes from the capture itself
# (pcap_octets.py), whatever --accounting-mode; V5_OCTETS=csv compares with the CSV's bytes
# instead (the accounting mode's: they differ, to see by how much).
. "$(dirname "$0")/lib.sh"

need_nfdump
need_nfprobe
need_shared
collector_scratch

PCAPS="$SHARED/data/nfstream/pcaps"
# waze: 66 IPv4 directions (3 datagrams); telegram: IPv4 and IPv6 flows
CAPTURES="waze.pcap telegram.pcap"
OCTETS=${V5_OCTETS:-ip}
HERE=$(cd "$(dirname "$0")" && pwd)

failed=0
for cap in $CAPTURES; do
    pcap="$PCAPS/$cap"
    [ -f "$pcap" ] || { echo "FAIL: missing $pcap"; failed=1; continue; }
    dir="$TMP/$cap.nfcapd"
    start_nfcapd "$dir" || exit 1
    rm -f "$TMP/sink.port"
    python3 "$HERE/udp_sink.py" "$TMP/sink.port" "$TMP/$cap.v5.pcap" &
    SINK=$!
    PIDS="$PIDS $SINK"
    wait_for 50 test -s "$TMP/sink.port" || { echo "FAIL: udp_sink did not start"; exit 1; }
    SPORT=$(cat "$TMP/sink.port")
    "$NFPROBE" -r "$pcap" -c "v5+udp://127.0.0.1:$PORT?engine-type=1&engine-id=7" \
        -c "v5+udp://127.0.0.1:$SPORT?engine-type=1&engine-id=7" --csv "$TMP/$cap.csv" \
        2>"$TMP/$cap.log" || { echo "FAIL $cap: nfprobe:"; cat "$TMP/$cap.log"; failed=1; }
    wait_for 50 udp_idle "$SPORT" || :
    stop "$SINK"
    stop_nfcapd "$dir"
    file=$NFCAPD_FILE
    [ -n "$file" ] || { echo "FAIL $cap: nfcapd wrote no file"; cat "$dir.log"; failed=1; continue; }
    TZ=UTC nfdump -r "$file" -o raw >"$TMP/$cap.raw" 2>"$TMP/$cap.nfdump.err"
    nfdump -E "$file" >"$TMP/$cap.exporters" 2>&1
    python3 "$HERE/pcap_octets.py" "$pcap" >"$TMP/$cap.octets"
    tshark_ok=2
    : >"$TMP/$cap.tshark"; : >"$TMP/$cap.expert"
    if command -v tshark >/dev/null 2>&1; then
        tshark_ok=1
        tshark -r "$TMP/$cap.v5.pcap" -d "udp.port==$SPORT,cflow" -T fields -E separator=/t \
            -e cflow.version -e cflow.count -e cflow.sequence -e cflow.engine_type \
            -e cflow.engine_id >"$TMP/$cap.tshark" 2>/dev/null || tshark_ok=0
        tshark -r "$TMP/$cap.v5.pcap" -d "udp.port==$SPORT,cflow" \
            -Y '_ws.malformed || _ws.expert.severity >= "Warning"' >"$TMP/$cap.expert" 2>/dev/null
    fi
    if ! python3 - "$TMP/$cap.csv" "$TMP/$cap.raw" "$TMP/$cap.exporters" "$dir.log" \
        "$TMP/$cap.log" "$TMP/$cap.octets" "$OCTETS" "$TMP/$cap.tshark" "$TMP/$cap.expert" \
        "$tshark_ok" "$cap" <<'PY'
import collections, csv, ipaddress, re, sys

(csv_p, raw_p, exp_p, nfcapd_log, probe_log, oct_p, octets, tsh_p, expert_p, tsh_ok,
 name) = sys.argv[1:12]
ok = True
def bad(msg):
    global ok
    print(f"{name}: {msg}")
    ok = False

def icmp(proto, sp, dp):
    return (0, 0) if proto in (1, 58) else (sp, dp)

want = collections.defaultdict(lambda: [0, 0, None, None])
v6 = 0
for r in csv.DictReader(open(csv_p)):
    if r["ip_version"] == "6":
        v6 += 1
        continue
    s, d = str(ipaddress.ip_address(r["src_ip"])), str(ipaddress.ip_address(r["dst_ip"]))
    pr = int(r["protocol"])
    sp, dp = icmp(pr, int(r["src_port"]), int(r["dst_port"]))
    for k, p in (((s, d, sp, dp, pr), "src2dst"), ((d, s, dp, sp, pr), "dst2src")):
        if int(r[p + "_packets"]) == 0:
            continue
        w = want[k]
        w[0] += int(r[p + "_packets"])
        w[1] += int(r[p + "_bytes"])
        f, l = int(r[p + "_first_seen_ms"]), int(r[p + "_last_seen_ms"])
        w[2] = f if w[2] is None else min(w[2], f)
        w[3] = l if w[3] is None else max(w[3], l)
if octets == "ip":
    for r in csv.DictReader(open(oct_p)):
        pr = int(r["proto"])
        k = (r["src"], r["dst"]) + icmp(pr, int(r["sport"]), int(r["dport"])) + (pr,)
        if k in want:
            want[k][1] = int(r["octets"])

recs = []
for line in open(raw_p):
    if line.startswith("Flow Record"):
        recs.append({})
        continue
    m = re.match(r"\s+([a-zA-Z ]+?)\s+=\s+(.*)$", line)
    if m and recs:
        recs[-1].setdefault(m.group(1).strip(), m.group(2).strip())
def num(r, f):
    return int(r[f].split()[0])
got = collections.defaultdict(lambda: [0, 0, None, None])
for r in recs:
    pr = num(r, "proto")
    sp, dp = (0, 0) if "ICMP" in r else (num(r, "src port"), num(r, "dst port"))
    g = got[(r["src addr"], r["dst addr"], sp, dp, pr)]
    g[0] += num(r, "in packets")
    g[1] += num(r, "in bytes")
    g[2] = num(r, "first") if g[2] is None else min(g[2], num(r, "first"))
    g[3] = num(r, "last") if g[3] is None else max(g[3], num(r, "last"))
    if (num(r, "engine type"), num(r, "engine ID")) != (1, 7):
        bad(f"engine {r['engine type']}/{r['engine ID']}, want 1/7")
        break
if set(want) != set(got):
    bad(f"{len(set(want) - set(got))} directions missing, {len(set(got) - set(want))} unexpected")
for k in want:
    if k in got and want[k] != got[k]:
        bad(f"{k}: packets, bytes, first, last {got[k]}, want {want[k]}")
        break

log = open(probe_log).read()
m = re.search(r"export v5\+udp://127\.0\.0\.1:\d+\S*: (\d+) flows sent in (\d+) messages", log)
sent = int(m.group(2)) if m else -1
m6 = re.search(r"(\d+) flows not exportable", log)
if (int(m6.group(1)) if m6 else 0) != v6:
    bad(f"IPv6 flows not counted: summary says {m6.group(0) if m6 else 'nothing'}, CSV has {v6}")
exp = open(exp_p).read()
m = re.search(r"Sequence failures: (\d+), packets: (\d+), flows: (\d+)", exp)
if not m or int(m.group(1)) != 0 or int(m.group(2)) != sent or int(m.group(3)) != len(recs):
    bad(f"nfdump -E {exp.strip()!r}: want 0 failures, {sent} packets, {len(recs)} flows")
m = re.search(r"Sequence Errors: (\d+), Bad Packets: (\d+)", open(nfcapd_log).read())
if not m or m.group(1) != "0" or m.group(2) != "0":
    bad(f"nfcapd: {m.group(0) if m else 'no summary'}")

if tsh_ok == "1":
    rows = [l.rstrip("\n").split("\t") for l in open(tsh_p) if l.strip()]
    seq = 0
    for i, (ver, count, sq, et, ei) in enumerate(rows):
        if ver != "5" or int(sq) != seq or (et, ei) != ("1", "7"):
            bad(f"tshark datagram {i}: version {ver}, sequence {sq} (want {seq}), engine {et}/{ei}")
            break
        if int(count) != 30 and i != len(rows) - 1:
            bad(f"tshark datagram {i}: {count} records, want 30 (all but the last)")
        seq += int(count)
    if len(rows) != sent or seq != len(recs):
        bad(f"tshark: {len(rows)} datagrams, {seq} records; sent {sent}, nfcapd {len(recs)}")
    if open(expert_p).read().strip():
        bad("tshark: malformed or warning items:\n" + open(expert_p).read()[:500])
elif tsh_ok == "0":
    bad("tshark failed")
print(f"{name}: {len(want)} directions in {len(recs)} records, {sent} datagrams, {v6} IPv6 "
      f"flows not exportable, bytes as {octets}"
      f"{', tshark' if tsh_ok == '1' else ''}: {'ok' if ok else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
PY
    then
        failed=1
    fi
done
# v5 is UDP only: a clear error, before anything is opened
if "$NFPROBE" -r "$PCAPS/waze.pcap" -c v5+tcp://127.0.0.1:9 >"$TMP/tcp.out" 2>&1 ||
    ! grep -q "NetFlow v5 is sent over UDP only" "$TMP/tcp.out"; then
    echo "FAIL: v5+tcp accepted or unclear:"; cat "$TMP/tcp.out"; failed=1
fi
exit $failed
