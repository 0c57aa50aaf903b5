#!/bin/sh
# Collector test: IPFIX over TCP and TLS to real listeners on loopback, decoded by ipfixDump.
#
# A python3 TCP listener and `openssl s_server` (mutual TLS with the test CA of tls_ca.sh) save
# what they receive. On each stream:
#   - `ipfixDump -e templates/nfprobe-ie.xml` (our published registry) decodes it with no
#     warning (no missing template, no sequence gap), and its data records of the IPv4 and
#     IPv6 flow templates add up to nfprobe's flow count;
#   - `ipfixDump --rfc5610` (no registry: it learns our element names from the RFC 5610 type
#     records we send) names our elements in the templates;
#   - python3-ipfix (when installed) reads it with templates/nfprobe.iespec;
#   - the options records are there (metering statistics, reliability, application map).
# Also: --ntop-compat adds ntop's elements; an IPv6 literal collector ([::1]); two collectors
# in "all" mode each get every flow, in "round-robin" mode they share them without overlap.
. "$(dirname "$0")/ipfix_lib.sh"

command -v ipfixDump >/dev/null 2>&1 || skip "ipfixDump not installed (libfixbuf-tools)"
command -v openssl >/dev/null 2>&1 || skip "openssl not installed"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
setup_export_test
P="$SHARED/data/nfstream/pcaps"
PYIPFIX=
/usr/bin/python3 -c 'import ipfix' 2>/dev/null && PYIPFIX=/usr/bin/python3

# records FILE TID...: data records of these templates in an IPFIX file, per ipfixDump -s.
records() {
    f=$1; shift
    ipfixDump -i "$f" -e "$REGISTRY" -s 2>/dev/null |
        awk -v tids=" $* " '{ gsub(/[|()]/, " ") }
            $1 ~ /^[0-9]+$/ && $2 ~ /^0x/ && index(tids, " " $1 " ") { n += $3 }
            END { print n + 0 }'
}

# check NAME FILE CSV [ntop]: the stream checks listed above.
check() {
    name=$1 f=$2 csv=$3 ntop=$4
    flows=$(($(wc -l <"$csv") - 1))
    ipfixDump -i "$f" -e "$REGISTRY" -o "$TMP/$name.dump" 2>"$TMP/$name.dump.err"
    if [ -s "$TMP/$name.dump.err" ]; then
        fail "$name: ipfixDump warnings:"; head -5 "$TMP/$name.dump.err"; return
    fi
    n=$(records "$f" 256 257)
    [ "$n" = "$flows" ] ||
        { fail "$name: ipfixDump: $n flow records, nfprobe: $flows flows"; return; }
    for t in 258 259 260 261; do
        [ "$(records "$f" "$t")" -ge 1 ] ||
            { fail "$name: no options record of template $t"; return; }
    done
    grep -q "nfsSpltPacketSize" "$TMP/$name.dump" &&
        grep -q "reverseNfsMeanPacketSize" "$TMP/$name.dump" ||
        { fail "$name: ipfixDump -e does not name our elements"; return; }
    if [ -n "$ntop" ]; then
        grep -q "L7_PROTO_NAME" "$TMP/$name.dump" && grep -q "CLIENT_TCP_FLAGS" "$TMP/$name.dump" ||
            { fail "$name: --ntop-compat: no ntop element in the templates"; return; }
    elif grep -q "L7_PROTO" "$TMP/$name.dump"; then
        fail "$name: ntop elements without --ntop-compat"; return
    fi
    ipfixDump -i "$f" --rfc5610 -t -o "$TMP/$name.5610" 2>/dev/null
    grep -q "nfsFlowEndMilliseconds" "$TMP/$name.5610" &&
        ! grep -q "_alienInformationElement" "$TMP/$name.5610" ||
        { fail "$name: ipfixDump --rfc5610 did not learn our element names"; return; }
    if [ -n "$PYIPFIX" ]; then
        timeout 60 "$PYIPFIX" /usr/bin/ipfix2csv -s "$SRCDIR/templates/nfprobe.iespec" -f "$f" \
            flowId nfsFlowEndMilliseconds reverseNfsMeanPacketSize >"$TMP/$name.py.csv" 2>&1
        py=$(grep -c '^"[0-9]' "$TMP/$name.py.csv")
        [ "$py" = "$flows" ] || { fail "$name: python3-ipfix read $py flows of $flows"; return; }
    fi
    pass "$name: $flows flows decoded by ipfixDump -e, --rfc5610${PYIPFIX:+ and python3-ipfix}," \
        "options records present"
}

# export_one NAME tcp|tls ADDR NFPROBE-OPTIONS...: nfprobe to one collector listening on ADDR
# (127.0.0.1 or ::1, TCP only); the stream ends up in $TMP/NAME.ipfix.
export_one() {
    name=$1 kind=$2 addr=$3; shift 3
    port=$(free_port tcp)
    case $kind in
    tcp) start_tcp_sink "$port" "$TMP/$name.stream" "$addr" || return 1
        url="ipfix+tcp://$( [ "$addr" = ::1 ] && echo "[::1]" || echo 127.0.0.1):$port" extra= ;;
    tls) start_tls_sink "$port" "$TMP/$name.ipfix" "$PKI" || return 1
        url="ipfix+tls://127.0.0.1:$port" extra=$TLS_OPTS ;;
    esac
    # shellcheck disable=SC2086
    "$NFPROBE" "$@" -c "$url" $extra --csv "$TMP/$name.csv" 2>"$TMP/$name.err" ||
        { fail "$name: nfprobe failed:"; cat "$TMP/$name.err"; stop "$SINK_PID"; return 1; }
    if [ "$kind" = tcp ]; then
        wait_for 100 file_stable "$TMP/$name.stream.1"
        mv "$TMP/$name.stream.1" "$TMP/$name.ipfix"
    else
        wait_for 100 file_stable "$TMP/$name.ipfix"
    fi
    stop "$SINK_PID"
    grep -q " 0 not sent" "$TMP/$name.err" ||
        { fail "$name: $(grep export "$TMP/$name.err")"; return 1; }
}

FULL="--statistical-analysis --splt-analysis 20"
# shellcheck disable=SC2086 # $FULL: several options
export_one tcp tcp 127.0.0.1 -r "$P/1kxun.pcap" $FULL && check tcp "$TMP/tcp.ipfix" "$TMP/tcp.csv"
export_one tls tls 127.0.0.1 -r "$P/1kxun.pcap" $FULL && check tls "$TMP/tls.ipfix" "$TMP/tls.csv"
export_one tls-ntop tls 127.0.0.1 -r "$P/skype.pcap" $FULL --ntop-compat &&
    check tls-ntop "$TMP/tls-ntop.ipfix" "$TMP/tls-ntop.csv" ntop
export_one tcp-bare tcp 127.0.0.1 -r "$P/http_ipv6.pcap" --n-dissections 0 &&
    [ "$(records "$TMP/tcp-bare.ipfix" 257)" = 15 ] && pass "tcp-bare: 15 IPv6 flows, no DPI" ||
    fail "tcp-bare: $(records "$TMP/tcp-bare.ipfix" 257) IPv6 flow records"
if has_ipv6; then
    export_one tcp6 tcp ::1 -r "$P/google_ssl.pcap" $FULL &&
        check tcp6 "$TMP/tcp6.ipfix" "$TMP/tcp6.csv"
else
    echo "no IPv6 on loopback: [::1] collector not tested"
fi

# Two collectors at once: "all" gives both every flow, "round-robin" splits them.
for mode in all round-robin; do
    p1=$(free_port tcp); start_tcp_sink "$p1" "$TMP/$mode.a"; s1=$SINK_PID
    p2=$(free_port tcp); start_tls_sink "$p2" "$TMP/$mode.b.ipfix" "$PKI"; s2=$SINK_PID
    # shellcheck disable=SC2086
    "$NFPROBE" -r "$P/skype.pcap" -c "ipfix+tcp://127.0.0.1:$p1" -c "ipfix+tls://127.0.0.1:$p2" \
        --collector-mode "$mode" $TLS_OPTS --csv "$TMP/$mode.csv" 2>"$TMP/$mode.err"
    wait_for 100 file_stable "$TMP/$mode.a.1"; wait_for 100 file_stable "$TMP/$mode.b.ipfix"
    stop "$s1"; stop "$s2"
    "$IPFIX2CSV" --l7 "$TMP/$mode.a.1" >"$TMP/$mode.a.csv" 2>/dev/null
    "$IPFIX2CSV" --l7 "$TMP/$mode.b.ipfix" >"$TMP/$mode.b.csv" 2>/dev/null
    if python3 - "$TMP/$mode.csv" "$TMP/$mode.a.csv" "$TMP/$mode.b.csv" "$mode" <<'PY'
import csv, sys
ids = lambda p: [r["id"] for r in csv.DictReader(open(p))]
want, a, b, mode = ids(sys.argv[1]), ids(sys.argv[2]), ids(sys.argv[3]), sys.argv[4]
if mode == "all":
    ok = a == want and b == want
else:
    ok = sorted(a + b, key=int) == want and len(a) > 0 and len(b) > 0 and not set(a) & set(b)
print(f"{mode}: {len(want)} flows, collector 1 got {len(a)}, collector 2 got {len(b)}")
sys.exit(0 if ok else 1)
PY
    then pass "collector mode $mode"; else fail "collector mode $mode"; fi
done
exit $FAILED
