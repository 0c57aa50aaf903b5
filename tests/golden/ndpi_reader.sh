#!/bin/sh
# nDPI 4.2's own test captures through nfprobe, labels compared with what nDPI 4.2's reader says
# about them (shared/data/ndpi/result/NAME.out, made with the same custom protocols and
# categories files). Flows are matched by 5-tuple; the test fails when the application agrees on
# fewer than 98% of the matched flows for any n_dissections in NDPI_N (default "20 50": NFStream's
# default, and the smallest value that matches ndpiReader best).
#
# Every capture is run, also those without a reader result: a crash, or any AddressSanitizer /
# UndefinedBehaviorSanitizer / LeakSanitizer report when nfprobe is a sanitizer build, fails.
. "$(dirname "$0")/lib.sh"
need_shared
scratch
data="$SHARED/data/ndpi"
[ -d "$data/pcap" ] || skip "nDPI captures not found at $data"
set -- --ndpi-protos "$data/example/protos.txt" --ndpi-categories "$data/example/categories.txt"

# nfprobe must have DPI: until main.c wires it, --n-dissections > 0 is refused.
if ! "$NFPROBE" -r "$data/pcap/dns_doh.pcap" "$@" --n-dissections 1 --csv "$TMP/probe.csv" \
    2>"$TMP/probe.err"; then
    grep -q "not available" "$TMP/probe.err" && skip "$NFPROBE has no DPI: $(cat "$TMP/probe.err")"
    echo "FAIL: $NFPROBE with DPI: $(cat "$TMP/probe.err")"
    exit 1
fi

failed=0
for n in ${NDPI_N:-20 50}; do
    out="$TMP/n$n"
    mkdir -p "$out"
    runs=0
    for pcap in "$data"/pcap/*; do
        name=$(basename "$pcap")
        runs=$((runs + 1))
        rc=0
        "$NFPROBE" -r "$pcap" "$@" --n-dissections "$n" --csv "$out/$name.csv" \
            2>"$TMP/stderr" || rc=$?
        # 2: the capture is cut or corrupt (some fuzzed captures are); its flows are written.
        if [ $rc -ne 0 ] && [ $rc -ne 2 ]; then
            echo "FAIL n=$n $name: exit status $rc"; tail -n 20 "$TMP/stderr"; failed=1
        fi
        if grep -q -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TMP/stderr"; then
            echo "FAIL n=$n $name: sanitizer report"; head -n 40 "$TMP/stderr"; failed=1
        fi
    done
    echo "n_dissections=$n: $runs captures run"
    python3 "$SRCDIR/tests/golden/ndpi_compare.py" "$data/result" "$out" --n-dissections "$n" \
        --label "n=$n: " || failed=1
done
exit $failed
