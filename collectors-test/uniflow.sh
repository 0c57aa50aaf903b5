#!/bin/sh
# Collector test: uniflow export (--uniflow, ?uniflow) into pmacct's nfacctd with its default
# primitives (no custom ones: it reads forward elements only, see shared/spec/collectors-
# interop.md) over IPFIX and NetFlow v9, and into nfcapd.
#
# nfacctd aggregates per one-way 5-tuple: its packets must equal nfprobe's CSV of the same run
# for both directions, its bytes the expected octets (below). nfcapd must hold one record per
# direction that saw packets (2 x biflows minus the empty directions) with the same packets.
# tshark decodes the same export (IPFIX and v9) with 0 malformed or warning items.
#
# Bytes: the IP-layer octets (RFC 7012) the test computes from the capture itself
# (pcap_octets.py), whatever --accounting-mode; UNIFLOW_OCTETS=csv expects the CSV's bytes
# instead (the accounting mode's: they differ, to see by how much).
. "$(dirname "$0")/lib.sh"

command -v nfacctd >/dev/null 2>&1 || skip "nfacctd not installed (Debian package pmacct)"
command -v nfcapd >/dev/null 2>&1 || skip "nfcapd not installed (Debian package nfdump)"
need_nfprobe
need_shared
collector_scratch

PCAPS="$SHARED/data/nfstream/pcaps"
HERE=$(cd "$(dirname "$0")" && pwd)
OCTETS=${UNIFLOW_OCTETS:-ip}
# IPv4 and IPv6, TCP and UDP, one-sided flows (broadcasts) and two-sided ones
CAPTURES="telegram.pcap ftp_failed.pcap mongodb.pcap"
READ=
for c in $CAPTURES; do
    [ -f "$PCAPS/$c" ] || { echo "FAIL: missing $PCAPS/$c"; exit 1; }
    READ="$READ -r $PCAPS/$c"
    python3 "$HERE/pcap_octets.py" "$PCAPS/$c" | sed 1d >>"$TMP/octets"
done

# check CSV OCTETS-FILE KIND FILE: compares one collector's view with the CSV
check() {
    python3 - "$@" "$TMP/octets" "$OCTETS" <<'PY'
import collections, csv, ipaddress, re, sys

csv_p, kind, got_p, label, oct_p, octets = sys.argv[1:7]
PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "ipv6-icmp": 58, "icmpv6": 58, "sctp": 132}
def norm(a):
    return str(ipaddress.ip_address(a.strip()))

want = collections.defaultdict(lambda: [0, 0])
records = 0
for r in csv.DictReader(open(csv_p)):
    s, d, pr = norm(r["src_ip"]), norm(r["dst_ip"]), int(r["protocol"])
    sp, dp = int(r["src_port"]), int(r["dst_port"])
    for k, p in (((s, d, sp, dp, pr), "src2dst"), ((d, s, dp, sp, pr), "dst2src")):
        if int(r[p + "_packets"]) > 0:
            records += 1
            want[k][0] += int(r[p + "_packets"])
            want[k][1] += int(r[p + "_bytes"])
if octets == "ip":
    for line in open(oct_p):
        s, d, sp, dp, pr, pk, oc = line.strip().split(",")
        k = (s, d, int(sp), int(dp), int(pr))
        if k in want:
            want[k][1] = int(oc)

got = collections.defaultdict(lambda: [0, 0])
n = 0
if kind == "nfacctd":
    for r in csv.DictReader(open(got_p)):
        pr = r["PROTOCOL"].strip()
        k = (norm(r["SRC_IP"]), norm(r["DST_IP"]), int(r["SRC_PORT"]), int(r["DST_PORT"]),
             PROTO.get(pr.lower(), int(pr) if pr.isdigit() else -1))
        got[k][0] += int(r["PACKETS"])
        got[k][1] += int(r["BYTES"])
else:  # nfdump -o csv: sa,da,sp,dp,pr,... with ipkt and ibyt
    rows = list(csv.reader(open(got_p)))
    head = rows[0]
    for r in rows[1:]:
        if len(r) != len(head):
            continue  # the summary lines
        x = dict(zip(head, r))
        pr = x["pr"].strip()
        k = (norm(x["sa"]), norm(x["da"]), int(x["sp"]), int(x["dp"]),
             PROTO.get(pr.lower(), int(pr) if pr.isdigit() else -1))
        got[k][0] += int(x["ipkt"])
        got[k][1] += int(x["ibyt"])
        n += 1
ok = True
missing, extra = set(want) - set(got), set(got) - set(want)
if missing or extra:
    print(f"{label}: {len(missing)} directions missing {sorted(missing)[:3]}, "
          f"{len(extra)} unexpected {sorted(extra)[:3]}")
    ok = False
diff = [(k, got[k], want[k]) for k in want if k in got and got[k] != want[k]]
if diff:
    print(f"{label}: {len(diff)} directions differ (packets, bytes; got, want): {diff[:3]}")
    ok = False
if kind == "nfcapd" and n != records:
    print(f"{label}: {n} records, want {records} (2 x biflows - empty directions)")
    ok = False
print(f"{label}: {len(want)} one-way 5-tuples, {records} directions, bytes as {octets}: "
      f"{'ok' if ok else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
PY
}

# stop_acct PID: nfacctd ignores SIGTERM; SIGINT stops it after its plugin wrote the cache
stop_acct() {
    kill -INT "$1" 2>/dev/null || :
    wait_for 100 gone "$1" || { echo "nfacctd did not stop in 10 s"; kill -KILL "$1" 2>/dev/null; }
    wait "$1" 2>/dev/null || :
}

failed=0
# nfacctd, IPFIX with ?uniflow and v9 with --uniflow
for how in "ipfix ?uniflow" "v9 --uniflow"; do
    set -- $how
    proto=$1
    for _ in 1 2 3; do
        PORT=$(free_port udp)
        rm -f "$TMP/acct.$proto.csv"
        cat >"$TMP/nfacctd.$proto.conf" <<CONF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $PORT
plugins: print
aggregate: src_host, dst_host, src_port, dst_port, proto
print_output: csv
print_output_file: $TMP/acct.$proto.csv
print_output_file_append: true
print_refresh_time: 1
CONF
        nfacctd -f "$TMP/nfacctd.$proto.conf" >"$TMP/nfacctd.$proto.log" 2>&1 &
        ACCT=$!
        PIDS="$PIDS $ACCT"
        # data that arrives before the print plugin is up is lost: wait for both
        if wait_for 100 udp_bound "$PORT" &&
            wait_for 100 grep -q "cache entries=" "$TMP/nfacctd.$proto.log"; then
            break
        fi
        stop_acct "$ACCT"; ACCT=
    done
    [ -n "$ACCT" ] || { echo "FAIL: nfacctd did not start"; cat "$TMP/nfacctd.$proto.log"; exit 1; }
    url="$proto+udp://127.0.0.1:$PORT"
    opt=
    case $2 in \?*) url="$url$2" ;; *) opt=$2 ;; esac
    # shellcheck disable=SC2086
    "$NFPROBE" $READ -c "$url" $opt --csv "$TMP/$proto.csv" 2>"$TMP/$proto.log" ||
        { echo "FAIL $proto: nfprobe:"; cat "$TMP/$proto.log"; failed=1; }
    wait_for 50 udp_idle "$PORT" || :
    # the print plugin appends its cache every second, or when it stops (SIGINT): wait at most
    # 3 s for every packet, then stop it (what it had is written then)
    total=$(python3 -c "import csv,sys; print(sum(int(r['src2dst_packets'])+int(r['dst2src_packets']) for r in csv.DictReader(open(sys.argv[1]))))" "$TMP/$proto.csv")
    have() {
        [ -f "$TMP/acct.$proto.csv" ] && [ "$(awk -F, '$1 != "SRC_IP" { s += $6 } END { print s + 0 }' "$TMP/acct.$proto.csv")" -ge "$total" ]
    }
    wait_for 30 have || :
    stop_acct "$ACCT"
    check "$TMP/$proto.csv" nfacctd "$TMP/acct.$proto.csv" "nfacctd $proto $2" || failed=1
done

# nfcapd: one record per direction that saw packets
dir="$TMP/nfcapd"
start_nfcapd "$dir" || exit 1
# shellcheck disable=SC2086
"$NFPROBE" $READ -c "ipfix+udp://127.0.0.1:$PORT" --uniflow --csv "$TMP/nfcapd.csv" \
    2>"$TMP/nfcapd.probe.log" || { echo "FAIL nfcapd run:"; cat "$TMP/nfcapd.probe.log"; failed=1; }
stop_nfcapd "$dir"
if [ -z "$NFCAPD_FILE" ]; then
    echo "FAIL: nfcapd wrote no file"; cat "$dir.log"; failed=1
else
    nfdump -r "$NFCAPD_FILE" -o csv >"$TMP/nfcapd.out" 2>&1
    check "$TMP/nfcapd.csv" nfcapd "$TMP/nfcapd.out" "nfcapd ipfix --uniflow" || failed=1
fi

# tshark (Wireshark 4.0: more than 60 template fields need cflow.max_template_fields) decodes
# the uniflow IPFIX and v9 export: 0 malformed or warning items, and as many
# data records as nfcapd stored
if command -v tshark >/dev/null 2>&1; then
    for proto in ipfix v9; do
        rm -f "$TMP/sink.port"
        python3 "$HERE/udp_sink.py" "$TMP/sink.port" "$TMP/$proto.pcap" &
        SINK=$!
        PIDS="$PIDS $SINK"
        wait_for 50 test -s "$TMP/sink.port" || { echo "FAIL: udp_sink did not start"; exit 1; }
        SPORT=$(cat "$TMP/sink.port")
        # shellcheck disable=SC2086
        "$NFPROBE" $READ -c "$proto+udp://127.0.0.1:$SPORT?uniflow" 2>"$TMP/$proto.sink.log" ||
            { echo "FAIL $proto: nfprobe:"; cat "$TMP/$proto.sink.log"; failed=1; }
        wait_for 50 udp_idle "$SPORT" || :
        stop "$SINK"
        topt="-o cflow.max_template_fields:200"
        # shellcheck disable=SC2086
        tshark -n -r "$TMP/$proto.pcap" $topt -d "udp.port==$SPORT,cflow" \
            -Y '_ws.malformed || _ws.expert.severity >= "Warning"' >"$TMP/$proto.expert" 2>/dev/null
        # shellcheck disable=SC2086
        recs=$(tshark -n -r "$TMP/$proto.pcap" $topt -d "udp.port==$SPORT,cflow" -T fields \
            -e cflow.srcport 2>/dev/null | tr ',' '\n' | grep -c .)
        want=$(python3 -c "import csv,sys; print(sum((int(r['src2dst_packets'])>0)+(int(r['dst2src_packets'])>0) for r in csv.DictReader(open(sys.argv[1]))))" "$TMP/nfcapd.csv")
        if [ -s "$TMP/$proto.expert" ] || [ "$recs" != "$want" ]; then
            fail "tshark $proto --uniflow: $recs records (want $want); expert: $(head -c 400 "$TMP/$proto.expert")"
            failed=1
        else
            pass "tshark $proto --uniflow: $recs records, 0 malformed or warning items"
        fi
    done
fi
exit $failed
