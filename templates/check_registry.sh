#!/bin/sh
# The published element registry and the encoder goldens stay in step with the probe's field
# catalogue (probe/fields.def) and elements (probe/ie.def).
#
#   - templates/nfprobe-ie.xml, nfprobe.iespec and default.tmpl are what tools/mkregistry makes
#     from them today (else: run `make registry` and commit the result);
#   - ipfixDump loads nfprobe-ie.xml and, with it, names every element of the golden messages
#     (tests/unit/data/ipfix_*.bin) with no warning; python3-ipfix (when installed) loads
#     nfprobe.iespec;
#   - each golden's ipfixDump text (ipfix_*.txt, for review) is ipfixDump's output for its .bin
#     (BLESS=1 rewrites the .txt after the unit test rewrote the .bin; read the diff).
. "$(dirname "$0")/../tests/golden/lib.sh"

MKREGISTRY=${MKREGISTRY:-$BUILDDIR/tools/mkregistry}
[ -x "$MKREGISTRY" ] || { echo "FAIL: $MKREGISTRY not built"; exit 1; }
scratch
T="$SRCDIR/templates"
D="$SRCDIR/tests/unit/data"
failed=0

for kind in xml:nfprobe-ie.xml iespec:nfprobe.iespec tmpl:default.tmpl; do
    "$MKREGISTRY" "${kind%%:*}" >"$TMP/${kind#*:}" ||
        { echo "FAIL: mkregistry ${kind%%:*}"; exit 1; }
    if cmp -s "$TMP/${kind#*:}" "$T/${kind#*:}"; then
        echo "ok: templates/${kind#*:} is up to date"
    else
        echo "FAIL: templates/${kind#*:} differs from the catalogue (run make registry):"
        diff "$T/${kind#*:}" "$TMP/${kind#*:}" | head -10
        failed=1
    fi
done

if command -v ipfixDump >/dev/null 2>&1; then
    for bin in "$D"/ipfix_*.bin; do
        txt=${bin%.bin}.txt
        TZ=UTC ipfixDump -i "$bin" -e "$T/nfprobe-ie.xml" -o "$TMP/dump.txt" 2>"$TMP/dump.err"
        if [ -s "$TMP/dump.err" ] || grep -q "_alienInformationElement" "$TMP/dump.txt"; then
            echo "FAIL: ipfixDump -e nfprobe-ie.xml on $(basename "$bin"):"
            head -5 "$TMP/dump.err"; grep -m 3 "_alien" "$TMP/dump.txt"
            failed=1
        fi
        if [ "${BLESS:-0}" = 1 ]; then
            cp "$TMP/dump.txt" "$txt"
            echo "blessed $(basename "$txt")"
        elif cmp -s "$TMP/dump.txt" "$txt"; then
            echo "ok: $(basename "$txt") is ipfixDump's text of $(basename "$bin")"
        else
            echo "FAIL: $(basename "$txt") is not ipfixDump's text of $(basename "$bin") (BLESS=1):"
            diff "$txt" "$TMP/dump.txt" | head -10
            failed=1
        fi
    done
else
    echo "ipfixDump not installed: XML registry and golden texts not checked"
fi

if /usr/bin/python3 -c 'import ipfix' 2>/dev/null; then
    if /usr/bin/python3 -c 'import sys, ipfix.ie
ipfix.ie.use_iana_default(); ipfix.ie.use_5103_default(); ipfix.ie.use_specfile(sys.argv[1])
assert ipfix.ie.for_spec("reverseNfsMeanPacketSize").num == 4 | 0x4000' "$T/nfprobe.iespec"; then
        echo "ok: python3-ipfix loads nfprobe.iespec"
    else
        echo "FAIL: python3-ipfix cannot load nfprobe.iespec"; failed=1
    fi
fi
exit $failed
