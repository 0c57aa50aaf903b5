#!/bin/sh
# Collector test: the sampling options records of probe/sampling_export.c make nfdump 1.7.1
# (nfcapd) recognise the sampler, for IPFIX (the nfdump-readable options template sent beside
# the RFC 7014 selector report) and NetFlow v9 (34 alone beside 34 + 35), count and random
# modes: `nfdump -E` lists it with packet interval 1 and packet space N - 1, and the stored
# flows are scaled by N (tests/unit/smpx_send sends F flows of 10 packets and 1000 octets).
. "$(dirname "$0")/lib.sh"

command -v nfcapd >/dev/null 2>&1 || skip "nfcapd not installed (Debian package nfdump)"
command -v nfdump >/dev/null 2>&1 || skip "nfdump not installed"
SMPX_SEND=${SMPX_SEND:-$BUILDDIR/tests/unit/smpx_send}
[ -x "$SMPX_SEND" ] || { echo "FAIL: $SMPX_SEND not built"; exit 1; }
collector_scratch

fails=0
for proto in ipfix v9; do
    for spec in count:10 random:100 count:1000; do
        mode=${spec%%:*} n=${spec#*:} flows=20
        dir="$TMP/$proto.$mode.$n"
        start_nfcapd "$dir" || exit 1
        "$SMPX_SEND" "$proto" --port "$PORT" --interval "$n" --mode "$mode" --flows $flows ||
            { fails=$((fails + 1)); stop "$NFCAPD_PID"; continue; }
        stop_nfcapd "$dir"
        file=$NFCAPD_FILE
        exp=$(nfdump -E "$file" 2>&1)
        sampler=$(echo "$exp" | grep 'Sampler:')
        pk=$(nfdump -r "$file" -q -o 'fmt:%pkt' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
        want_pk=$((flows * 10 * n))
        if echo "$sampler" | grep -q "packet interval: 1, packet space: $((n - 1))\$" &&
            [ "$pk" -eq "$want_pk" ]; then
            echo "ok   $proto $mode 1:$n: $sampler; $pk packets"
        else
            echo "FAIL $proto $mode 1:$n: sampler '$sampler', $pk packets (want $want_pk)"
            echo "$exp"; fails=$((fails + 1))
        fi
    done
done
exit $fails
