#!/bin/sh
# Collector test: per-collector URL options, as nfcapd (nfdump 1.7.1) sees them. Three
# collectors of one run into one nfcapd: IPFIX with ?domain=42 sent from 127.0.0.2
# (?exporter=), v9 with ?domain=43, v5 with ?engine-type=2&engine-id=9 sent from 127.0.0.3.
# `nfdump -E` must list three exporters with those addresses, versions and ids (v5: type << 8 |
# id), each with every flow and 0 sequence failures. A fourth collector, IPFIX from 127.0.0.4
# into a receiver that keeps the datagrams: tshark shows exporterIPv4Address (130) 127.0.0.4
# in the options record. Bad options are refused by name.
. "$(dirname "$0")/lib.sh"

need_nfdump
need_nfprobe
need_shared
collector_scratch

pcap="$SHARED/data/nfstream/pcaps/waze.pcap"
dir="$TMP/nfcapd"
start_nfcapd "$dir" || exit 1
python3 "$SRCDIR/collectors-test/udp_sink.py" "$TMP/sink.port" "$TMP/sink.pcap" &
PIDS="$PIDS $!"
wait_for 50 test -s "$TMP/sink.port" || { echo "FAIL: udp_sink did not start"; exit 1; }
SPORT=$(cat "$TMP/sink.port")
"$NFPROBE" -r "$pcap" --csv "$TMP/flows.csv" \
    -c "ipfix+udp://127.0.0.1:$SPORT?exporter=127.0.0.4" \
    -c "ipfix+udp://127.0.0.1:$PORT?domain=42&exporter=127.0.0.2" \
    -c "v9+udp://127.0.0.1:$PORT?domain=43" \
    -c "v5+udp://127.0.0.1:$PORT?engine-type=2&engine-id=9&exporter=127.0.0.3" \
    2>"$TMP/probe.log" || { echo "FAIL: nfprobe:"; cat "$TMP/probe.log"; exit 1; }
stop_nfcapd "$dir"
wait_for 50 udp_idle "$SPORT" || :
if command -v tshark >/dev/null 2>&1; then
    a=$(tshark -n -r "$TMP/sink.pcap" -d "udp.port==$SPORT,cflow" -T fields \
        -e cflow.exporter_addr 2>/dev/null | grep -v '^$' | sort -u | tr '\n' ' ')
    if [ "$a" = "127.0.0.4 " ]; then pass "tshark: exporterIPv4Address 127.0.0.4"
    else fail "tshark: exporterIPv4Address '$a', want 127.0.0.4"; fi
fi
[ -n "$NFCAPD_FILE" ] || { echo "FAIL: nfcapd wrote no file"; cat "$dir.log"; exit 1; }
nfdump -E "$NFCAPD_FILE" >"$TMP/exporters" 2>&1
python3 - "$TMP/exporters" "$TMP/flows.csv" <<'PY' || FAILED=1
import csv, re, sys

rows = list(csv.DictReader(open(sys.argv[2])))
flows = len(rows)
directions = sum((int(r["src2dst_packets"]) > 0) + (int(r["dst2src_packets"]) > 0) for r in rows)
got = {}
for m in re.finditer(r"IP:\s+(\S+), version: (\d+), ID:\s+(\d+), Sequence failures: (\d+), "
                     r"packets: \d+, flows: (\d+)", open(sys.argv[1]).read()):
    got[(m.group(1), int(m.group(2)), int(m.group(3)))] = (int(m.group(4)), int(m.group(5)))
want = {("127.0.0.2", 10, 42): (0, flows), ("127.0.0.1", 9, 43): (0, flows),
        ("127.0.0.3", 5, 2 << 8 | 9): (0, directions)}
if got != want:
    print(f"FAIL: exporters (ip, version, id): (failures, flows)\n got  {got}\n want {want}")
    sys.exit(1)
print(f"ok: three exporters as configured, {flows} flows ({directions} v5 records), 0 failures")
PY
# bad options: one line naming the collector and the option, before anything is opened
for bad in "ipfix+udp://127.0.0.1:$PORT?domain=x" "v9+udp://127.0.0.1:$PORT?engine-id=1" \
    "v5+tcp://127.0.0.1:$PORT" "ipfix+udp://127.0.0.1:$PORT?exporter=nowhere" \
    "ipfix+udp://127.0.0.1:$PORT?colour=blue"; do
    if "$NFPROBE" -n -r "$pcap" -c "$bad" >"$TMP/bad.out" 2>&1 || ! grep -q "collector '$bad'" "$TMP/bad.out"; then
        fail "$bad accepted, or the error does not name it: $(cat "$TMP/bad.out")"
    else
        pass "$bad: $(head -1 "$TMP/bad.out")"
    fi
done
exit $FAILED
