#!/bin/sh
# packaging.sh - the packaging files as their tools read them: systemd-analyze verify on the
# generated nfprobe.service (ExecStart pointed at the built binary so the check that it exists
# is real) must print nothing, and groff must render etc/nfprobe.8 without a warning. Skips
# (77) when neither tool is installed.
: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$(dirname "$0")/golden/lib.sh"
scratch
fails=0 ran=0

if command -v systemd-analyze >/dev/null 2>&1; then
    ran=1
    unit="$BUILDDIR/nfprobe.service"
    if [ ! -f "$unit" ]; then
        echo "FAIL $unit was not generated"; fails=$((fails + 1))
    else
        # Same unit, but the binary it starts is the one just built.
        sed "s|^ExecStart=[^ ]*|ExecStart=$NFPROBE|" "$unit" >"$TMP/nfprobe.service"
        grep -q "^ExecStart=$NFPROBE -C /" "$TMP/nfprobe.service" || {
            echo "FAIL ExecStart not in the expected form:"; grep '^ExecStart' "$unit"; exit 1; }
        # --man=no: the man page is not installed yet; it is checked below.
        out=$(systemd-analyze verify --man=no "$TMP/nfprobe.service" 2>&1); rc=$?
        if [ $rc -eq 0 ] && [ -z "$out" ]; then
            echo "ok   systemd-analyze verify nfprobe.service"
        else
            echo "FAIL systemd-analyze verify (status $rc):"; echo "$out" | sed 's/^/  /'
            fails=$((fails + 1))
        fi
        for key in AmbientCapabilities=CAP_NET_RAW CapabilityBoundingSet=CAP_NET_RAW \
                   NoNewPrivileges=yes ProtectSystem=strict DynamicUser=yes; do
            grep -q "^$key" "$unit" || { echo "FAIL $key missing"; fails=$((fails + 1)); }
        done
    fi
fi

if command -v groff >/dev/null 2>&1; then
    ran=1
    out=$(groff -man -Tutf8 -ww -z "$SRCDIR/etc/nfprobe.8" 2>&1)
    if [ -z "$out" ]; then echo "ok   groff renders nfprobe.8 without warnings"
    else echo "FAIL groff warnings:"; echo "$out" | sed 's/^/  /'; fails=$((fails + 1)); fi
fi

[ $ran -eq 1 ] || skip "neither systemd-analyze nor groff is installed"
[ $fails -eq 0 ]
