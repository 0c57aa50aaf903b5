#!/bin/sh
# Collector test: the sampling options records of probe/sampling_export.c make nfdump 1.7.1
# (nfcapd) recognise the sampler, for IPFIX (the nfdump-readable options template sent beside
# the RFC 7014 selector report) and NetFlow v9 (34 alone beside 34 + 35), count and random
# modes: `nfdump -E` lists it with packet interval 1 and packet space N - 1, and the stored
# flows are scaled by N (tests/unit/smpx_send sends F flows of 10 packets and 1000 octets).
. "$(dirname "$0")/../tests/golden/lib.sh"

command -v nfcapd >/dev/null 2>&1 || skip "nfcapd not installed (Debian package nfdump)"
command -v nfdump >/dev/null 2>&1 || skip "nfdump not installed"
SMPX_SEND=${SMPX_SEND:-$BUILDDIR/tests/unit/smpx_send}
[ -x "$SMPX_SEND" ] || { echo "FAIL: $SMPX_SEND not built"; exit 1; }
scratch
NFCAPD_PID=
cleanup() {
    [ -n "$NFCAPD_PID" ] && kill "$NFCAPD_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
wait_for() {
    local n=$(($1 * 10)); shift
    while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}
start_nfcapd() {
    local dir=$1 try
    for try in 1 2 3 4 5; do
        PORT=$((20000 + ($$ * 7 + try * 1013 + $(date +%N | sed 's/^0*//;s/^$/0/') % 997) % 40000))
        rm -rf "$dir"; mkdir -p "$dir"
        nfcapd -w "$dir" -b 127.0.0.1 -p "$PORT" -t 3600 >"$dir.log" 2>&1 &
        NFCAPD_PID=$!
        if wait_for 10 sh -c "grep -qs Startup '$dir.log' || ! kill -0 $NFCAPD_PID 2>/dev/null" &&
            kill -0 "$NFCAPD_PID" 2>/dev/null && grep -q Startup "$dir.log"; then
            return 0
        fi
        kill "$NFCAPD_PID" 2>/dev/null; wait "$NFCAPD_PID" 2>/dev/null; NFCAPD_PID=
    done
    echo "FAIL: nfcapd did not start:"; cat "$dir.log"; return 1
}
stop_nfcapd() {
    kill -TERM "$NFCAPD_PID"
    wait_for 20 sh -c "! kill -0 $NFCAPD_PID 2>/dev/null" || { echo "FAIL: nfcapd did not stop"; return 1; }
    wait "$NFCAPD_PID" 2>/dev/null; NFCAPD_PID=
}
drained() {
    command -v ss >/dev/null 2>&1 || return 0
    q=$(ss -u -a -n "sport = :$PORT" | awk 'NR > 1 { print $2; exit }')
    [ "${q:-0}" = 0 ]
}

fails=0
for proto in ipfix v9; do
    for spec in count:10 random:100 count:1000; do
        mode=${spec%%:*} n=${spec#*:} flows=20
        dir="$TMP/$proto.$mode.$n"
        start_nfcapd "$dir" || exit 1
        "$SMPX_SEND" "$proto" --port "$PORT" --interval "$n" --mode "$mode" --flows $flows ||
            { fails=$((fails + 1)); stop_nfcapd; continue; }
        wait_for 5 drained
        stop_nfcapd || exit 1
        file=$(ls "$dir"/nfcapd.* 2>/dev/null | grep -v current | head -1)
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
