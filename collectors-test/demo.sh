#!/bin/sh
# The main job on the bundled sample: nfprobe reads sample.pcap (made by tools/mkpcap/mkpcap),
# labels the flows with nDPI and exports them as IPFIX over UDP to a real nfcapd on 127.0.0.1;
# then shows what nfdump received, beside nfprobe's own NFStream-format CSV.
#
# Run it from the source directory after building in build/ (README's first command), or from
# any build directory. Exits 0 when the collector received every flow nfprobe wrote; leaves
# nothing behind (its scratch directory and nfcapd go away however it ends).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${BUILDDIR:-}" ]; then
    if [ -x ./nfprobe ]; then BUILDDIR=$(pwd); else BUILDDIR=$top/build; fi
fi
NFPROBE=${NFPROBE:-$BUILDDIR/nfprobe}
SAMPLE=${SAMPLE:-$BUILDDIR/sample.pcap}
SRCDIR=$top
. "$top/collectors-test/lib.sh"

[ -x "$NFPROBE" ] || { echo "demo: $NFPROBE not found: build first (README)" >&2; exit 1; }
[ -f "$SAMPLE" ] || make -C "$BUILDDIR" sample.pcap >/dev/null
command -v nfcapd >/dev/null || { echo "demo: nfcapd not found (apt-get install nfdump)" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nfprobe-demo.XXXXXX")
trap cleanup EXIT
# A signal ends the script through the EXIT trap too.
trap 'exit 130' INT TERM

start_nfcapd "$TMP/nfcapd"
echo "== nfprobe -r $SAMPLE -c ipfix+udp://127.0.0.1:$PORT --csv flows.csv"
"$NFPROBE" -r "$SAMPLE" -c "ipfix+udp://127.0.0.1:$PORT" --csv "$TMP/flows.csv"
stop_nfcapd "$TMP/nfcapd" # nfcapd writes its file when it stops
[ -n "$NFCAPD_FILE" ] || { echo "demo: nfcapd wrote no file:" >&2; cat "$TMP/nfcapd.log" >&2; exit 1; }

echo
echo "== what nfcapd received (nfdump -o extended)"
nfdump -r "$NFCAPD_FILE" -o extended -q | head -30
echo
echo "== with the application names nDPI gave (nfdump fmt:%sap %dap %pkt %byt %nbid %nbnam)"
nfdump -r "$NFCAPD_FILE" -q -o 'fmt:%pr %sap -> %dap %ipkt %opkt %ibyt %obyt %nbid %nbnam' | head -30
echo
nfdump -r "$NFCAPD_FILE" -s proto | tail -4
echo
echo "== nfprobe's own CSV of the same flows (NFStream format), first columns"
python3 - "$TMP/flows.csv" <<'PY'
import csv, sys
cols = ['id', 'src_ip', 'src_port', 'dst_ip', 'dst_port', 'protocol', 'bidirectional_packets',
        'bidirectional_bytes', 'application_name', 'requested_server_name']
rows = list(csv.DictReader(open(sys.argv[1]), escapechar='\\', doublequote=False))
print(' '.join(cols))
for r in rows:
    print(' '.join(r.get(c, '') for c in cols))
PY

# The collector must hold every flow nfprobe wrote.
flows=$(($(wc -l <"$TMP/flows.csv") - 1))
got=$(nfdump -r "$NFCAPD_FILE" -q -o 'fmt:%pr' | grep -c .) || :
echo
if [ "$got" -eq "$flows" ]; then
    echo "== nfcapd received all $flows flows"
else
    echo "demo: nfcapd received $got flows, nfprobe wrote $flows" >&2
    exit 1
fi
