#!/bin/sh
# Golden: NFStream's own expected results (its test suite's tests/results), compared on the
# metering columns id, bidirectional_packets, bidirectional_bytes (the application columns were
# made with nDPI ~4.6 and belong to the DPI tests). Default parameters, as NFStream's tests.
. "$(dirname "$0")/lib.sh"
need_shared
scratch
dir="$SHARED/data/nfstream/upstream-results"
ok=0 n=0 failed=0
for exp in "$dir"/*; do
    name=$(basename "$exp")
    pcap="$SHARED/data/nfstream/pcaps/$name"
    n=$((n + 1))
    [ -f "$pcap" ] || { echo "MISSING capture $pcap"; failed=1; continue; }
    "$NFPROBE" -r "$pcap" --n-dissections 0 --csv "$TMP/out.csv" 2>/dev/null || true
    if python3 "$SHARED/tools/flowdiff.py" "$exp" "$TMP/out.csv" \
        --only id,bidirectional_packets,bidirectional_bytes --quiet >"$TMP/diff" 2>&1; then
        ok=$((ok + 1))
    else
        echo "DIFF $name: $(cat "$TMP/diff")"; failed=1
    fi
done
echo "upstream-results: $ok of $n captures agree on id,bidirectional_packets,bidirectional_bytes"
exit $failed
