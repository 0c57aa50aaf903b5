#!/bin/sh
# demo_check.sh - README's main command ends in collectors-test/demo.sh: it must exit 0, show
# the flows nfcapd received, and leave nothing behind (no scratch directory, no nfcapd); when
# it fails part-way (here: a probe that exits 1) it must exit non-zero and still leave nothing.
# demo.sh runs with TMPDIR pointing at an empty directory of ours, so what it leaves is seen.
. "$(dirname "$0")/lib.sh"

command -v nfcapd >/dev/null 2>&1 || skip "nfcapd not installed (Debian package nfdump)"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
need_nfprobe
collector_scratch
mkdir "$TMP/t"

# left_behind: what a demo run left in our TMPDIR, and any nfcapd still writing under it.
left_behind() {
    ls -A "$TMP/t"
    ps -eo pid=,args= | grep "nfcapd .*$TMP/t/" | grep -v grep
}

(cd "$BUILDDIR" && TMPDIR=$TMP/t sh "$SRCDIR/collectors-test/demo.sh") >"$TMP/out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then pass "demo.sh exits 0"
else fail "demo.sh exits $rc:"; tail -20 "$TMP/out"; fi
n=$(sed -n 's/^== nfcapd received all \([0-9]*\) flows$/\1/p' "$TMP/out")
if [ -n "$n" ] && [ "$n" -gt 0 ] && grep -q "what nfcapd received" "$TMP/out"; then
    pass "demo.sh shows the $n flows nfcapd received"
else fail "demo.sh output:"; tail -20 "$TMP/out"; fi
left=$(left_behind)
if [ -z "$left" ]; then pass "demo.sh left nothing behind"
else fail "demo.sh left behind: $left"; fi

# A failing run: nfcapd was started, then the probe fails.
(cd "$BUILDDIR" && TMPDIR=$TMP/t NFPROBE=/bin/false sh "$SRCDIR/collectors-test/demo.sh") \
    >"$TMP/out2" 2>&1
rc=$?
if [ $rc -ne 0 ]; then pass "a failing demo.sh exits $rc"
else fail "a failing demo.sh exits 0"; fi
left=$(left_behind)
if [ -z "$left" ]; then pass "a failing demo.sh left nothing behind"
else fail "a failing demo.sh left behind: $left"; fi
exit $FAILED
