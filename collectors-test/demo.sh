#!/bin/sh
# The main job on the bundled sample: nfprobe reads sample.pcap (made by tools/mkpcap/mkpcap),
# labels the flows with nDPI and exports them as IPFIX over UDP to a real nfcapd on 127.0.0.1;
# then shows what nfdump received, beside nfprobe's own NFStream-format CSV.
# Run from the build directory (where `make` left nfprobe and sample.pcap).
set -eu
NFPROBE=${NFPROBE:-./nfprobe}
SAMPLE=${SAMPLE:-./sample.pcap}
[ -x "$NFPROBE" ] || { echo "demo: $NFPROBE not found: run make first" >&2; exit 1; }
[ -f "$SAMPLE" ] || make sample.pcap >/dev/null
command -v nfcapd >/dev/null || { echo "demo: nfcapd not found (apt-get install nfdump)" >&2; exit 1; }
dir=$(mktemp -d /tmp/nfprobe-demo.XXXXXX)
mkdir "$dir/nfcapd"
port=$((20000 + $$ % 20000))
nfcapd -w "$dir/nfcapd" -b 127.0.0.1 -p "$port" -B 4194304 -P "$dir/nfcapd.pid" -D >/dev/null 2>&1
trap 'kill "$(cat "$dir/nfcapd.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$dir"' EXIT
i=0; while [ ! -f "$dir/nfcapd.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

echo "== nfprobe -r $SAMPLE -c ipfix+udp://127.0.0.1:$port --csv $dir/flows.csv"
"$NFPROBE" -r "$SAMPLE" -c "ipfix+udp://127.0.0.1:$port" --csv "$dir/flows.csv"

# nfcapd writes its file when it stops.
kill "$(cat "$dir/nfcapd.pid")"
i=0; while [ -f "$dir/nfcapd.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

echo
echo "== what nfcapd received (nfdump -o extended)"
nfdump -R "$dir/nfcapd" -o extended -q | head -30
echo
echo "== with the application names nDPI gave (nfdump fmt:%sap %dap %pkt %byt %nbid %nbnam)"
nfdump -R "$dir/nfcapd" -q -o 'fmt:%pr %sap -> %dap %ipkt %opkt %ibyt %obyt %nbid %nbnam' | head -30
echo
nfdump -R "$dir/nfcapd" -s proto | tail -4
echo
echo "== nfprobe's own CSV of the same flows (NFStream format), first columns"
python3 - "$dir/flows.csv" <<'PY'
import csv, sys
cols = ['id', 'src_ip', 'src_port', 'dst_ip', 'dst_port', 'protocol', 'bidirectional_packets',
        'bidirectional_bytes', 'application_name', 'requested_server_name']
rows = list(csv.DictReader(open(sys.argv[1]), escapechar='\\', doublequote=False))
print(' '.join(cols))
for r in rows:
    print(' '.join(r.get(c, '') for c in cols))
PY
