#!/bin/sh
# The example plugins (probe/plugins): golden CSVs, and cross-checks against the built-in columns
# on every shared capture.
#  - golden: tests/golden/plugins/sample.csv, nfprobe's CSV of the bundled sample capture with the
#    splt, packet_with_666_size and slicer plugins (no DPI: no nDPI-version dependency). BLESS=1
#    rewrites it (read the diff). The shared captures are third-party data: no golden of theirs
#    is committed; on them the splt and packet_with_666_size plugins must leave every built-in
#    column as the run without plugins had it.
#  - splt.so's udps.splt_* equal the built-in splt_* on every capture, in the four accounting
#    modes; packet_with_666_size.so agrees with the 666s among the built-in splt_ps;
#    slicer.so keeps NFStream's FlowSlicer semantics (tests/plugin_check.py says which).
. "$(dirname "$0")/lib.sh"
scratch
PLUGINS=$BUILDDIR/probe/plugins
GOLDEN=$SRCDIR/tests/golden/plugins
CHECK="python3 $SRCDIR/tests/plugin_check.py"
for p in splt slicer packet_with_666_size; do
    [ -f "$PLUGINS/$p.so" ] || { echo "FAIL: $PLUGINS/$p.so not built"; exit 1; }
done
failed=0

# ---------------------------------------------------------------- goldens
GFLAGS="--n-dissections 0 --splt-analysis 8 --plugin $PLUGINS/splt.so:sequence_length=8
    --plugin $PLUGINS/packet_with_666_size.so --plugin $PLUGINS/slicer.so:limit=6"
# golden NAME PCAP
golden() {
    out=$TMP/golden.$1.csv
    # shellcheck disable=SC2086
    if ! "$NFPROBE" -r "$2" $GFLAGS --csv "$out" 2>"$TMP/stderr"; then
        echo "FAIL: golden $1: nfprobe failed:"; cat "$TMP/stderr"; failed=1; return
    fi
    if [ -n "${BLESS:-}" ]; then
        cp "$out" "$GOLDEN/$1.csv"; echo "blessed $GOLDEN/$1.csv ($(($(wc -l <"$out") - 1)) flows)"
    elif cmp -s "$out" "$GOLDEN/$1.csv"; then
        echo "ok: golden $1 ($(($(wc -l <"$out") - 1)) flows)"
    else
        echo "FAIL: golden $1 differs from $GOLDEN/$1.csv:"
        diff "$GOLDEN/$1.csv" "$out" | head -6; failed=1
    fi
}
[ -f "$BUILDDIR/sample.pcap" ] || { echo "FAIL: $BUILDDIR/sample.pcap not built"; exit 1; }
golden sample "$BUILDDIR/sample.pcap"
if [ -d "$SHARED/data" ]; then
    pairs=
    for f in "$SHARED/data/nfstream/pcaps/1kxun.pcap" "$SHARED/data/nfstream/pcaps/http_ipv6.pcap" \
        "$SHARED/data/synthetic/pcaps/syn_vlan.pcap"; do
        b=$(basename "$f" .pcap)
        "$NFPROBE" -r "$f" --n-dissections 0 --splt-analysis 8 --csv "$TMP/plain.$b.csv" ||
            failed=1
        "$NFPROBE" -r "$f" --n-dissections 0 --splt-analysis 8 \
            --plugin "$PLUGINS/splt.so:sequence_length=8" \
            --plugin "$PLUGINS/packet_with_666_size.so" --csv "$TMP/plugged.$b.csv" || failed=1
        pairs="$pairs $TMP/plain.$b.csv $TMP/plugged.$b.csv"
    done
    # shellcheck disable=SC2086
    $CHECK builtins $pairs || failed=1
    # The plugged runs agree with the built-in SPLT too (N=8, accounting mode 0 both).
    $CHECK splt "$TMP"/golden.*.csv "$TMP"/plugged.*.csv || failed=1
else
    echo "shared data not found at $SHARED: only the sample's golden was compared"
    [ "$failed" = 0 ] && exit 0 || exit 1
fi

# ---------------------------------------------------------------- cross-checks, every capture
CAPS=$(ls "$SHARED"/data/nfstream/pcaps/*.pcap* "$SHARED"/data/synthetic/pcaps/*.pcap*)
# nf ARGS...: exit status 0, or 2 (a cut capture: the flows read are kept); a crash fails.
nf() {
    "$NFPROBE" "$@" 2>"$TMP/stderr"
    rc=$?
    [ $rc = 0 ] || [ $rc = 2 ] ||
        { echo "FAIL: nfprobe $* exited $rc:"; head -5 "$TMP/stderr"; failed=1; }
}
n=0
for f in $CAPS; do
    n=$((n + 1))
    # Accounting mode 0 also counts 666-octet packets, and is the unsliced run.
    nf -r "$f" --n-dissections 0 --splt-analysis 20 \
        --plugin "$PLUGINS/splt.so:sequence_length=20" --plugin "$PLUGINS/packet_with_666_size.so" \
        --csv "$TMP/splt.0.$n.csv"
    for am in 1 2 3; do
        nf -r "$f" --n-dissections 0 --accounting-mode $am --splt-analysis 20 \
            --plugin "$PLUGINS/splt.so:sequence_length=20,accounting_mode=$am" \
            --csv "$TMP/splt.$am.$n.csv"
    done
    for lim in 1 5; do
        nf -r "$f" --n-dissections 0 --plugin "$PLUGINS/slicer.so:limit=$lim" \
            --csv "$TMP/slice.$lim.$n.csv"
    done
done
echo "$n captures"
# Captures with no flow leave no file.
for am in 0 1 2 3; do
    echo "accounting mode $am:"
    # shellcheck disable=SC2046
    $CHECK splt $(ls "$TMP"/splt.$am.*.csv) || failed=1
done
# shellcheck disable=SC2046
$CHECK p666 $(ls "$TMP"/splt.0.*.csv) || failed=1
for lim in 1 5; do
    pairs=
    for i in $(seq 1 $n); do
        [ -f "$TMP/splt.0.$i.csv" ] && pairs="$pairs $TMP/splt.0.$i.csv $TMP/slice.$lim.$i.csv"
    done
    # shellcheck disable=SC2086
    $CHECK slicer $lim $pairs || failed=1
done
[ "$failed" = 0 ] && echo "PASS" && exit 0
exit 1
