#!/bin/sh
# Collector test: NetFlow v9 into a real nfcapd (nfdump 1.7.1) on 127.0.0.1.
#
# For each capture, tests/unit/nf9_send builds the flows with the probe's own pipeline (as
# `nfprobe -r` does), encodes them with the v9 encoder and sends them over UDP; nfcapd stores
# them; `nfdump -o raw` must then show exactly nfprobe's CSV flows for the same capture: both
# addresses and ports, protocol, packets and bytes of both directions (bytes: IP-layer octets,
# IN_BYTES/OUT_BYTES as routers count them: a second run with --accounting-mode 1, NFStream's IP
# size, plus 40 octets per IPv6 packet, whose IP size leaves the header out), first/last seen to the
# millisecond, MACs, VLAN, the application name resolved through the application table, and
# no sequence error.
. "$(dirname "$0")/lib.sh"

need_nfdump
NF9_SEND=${NF9_SEND:-$BUILDDIR/tests/unit/nf9_send}
[ -x "$NF9_SEND" ] || { echo "FAIL: $NF9_SEND not built"; exit 1; }
need_nfprobe
need_shared
collector_scratch

PCAPS="$SHARED/data/nfstream/pcaps"
# capture[:nfprobe option]: the default template (L7 on), with statistics (89 fields), without DPI
CAPTURES="1kxun.pcap wechat.pcap:--statistical-analysis alexa-app.pcapng:--n-dissections=0
mongodb.pcap"

failed=0
for entry in $CAPTURES; do
    cap=${entry%%:*}
    opt=; [ "$cap" != "$entry" ] && opt=${entry#*:}
    pcap="$PCAPS/$cap"
    [ -f "$pcap" ] || { echo "FAIL: missing $pcap"; failed=1; continue; }
    dir="$TMP/$cap.nfcapd"
    start_nfcapd "$dir" || exit 1
    # shellcheck disable=SC2086
    if ! "$NF9_SEND" -r "$pcap" $opt --port "$PORT" --source-id 9 2>"$TMP/$cap.send.log"; then
        echo "FAIL $cap: nf9_send:"; cat "$TMP/$cap.send.log"; failed=1
    fi
    sent=$(sed -n 's/^nf9_send: \([0-9]*\) flows in \([0-9]*\) packets.*/\2/p' "$TMP/$cap.send.log")
    stop_nfcapd "$dir"
    file=$NFCAPD_FILE
    if [ -z "$file" ]; then
        echo "FAIL $cap: nfcapd wrote no file"; cat "$dir.log"; failed=1; continue
    fi
    # shellcheck disable=SC2086
    "$NFPROBE" -r "$pcap" $opt --csv "$TMP/$cap.csv" 2>/dev/null
    "$NFPROBE" -r "$pcap" --n-dissections 0 --accounting-mode 1 --csv "$TMP/$cap.ip.csv" \
        2>/dev/null
    TZ=UTC nfdump -r "$file" -o raw >"$TMP/$cap.raw" 2>"$TMP/$cap.nfdump.err"
    nfdump -E "$file" >"$TMP/$cap.exporters" 2>&1
    if ! PYTHONPATH="$SRCDIR/collectors-test" \
        python3 - "$TMP/$cap.csv" "$TMP/$cap.raw" "$TMP/$cap.exporters" "$dir.log" "${sent:-0}" \
        "$cap${opt:+ $opt}" "$TMP/$cap.ip.csv" <<'PY'
import collections, csv, ipaddress, re, sys
from ip_bytes import add_ip_bytes

csv_path, raw_path, exp_path, log_path, sent, name, ip_path = sys.argv[1:8]
sent = int(sent)

def norm_ip(s):
    return str(ipaddress.ip_address(s.strip()))

want = []
with open(csv_path) as fp:
    for r in csv.DictReader(fp):
        want.append(r)

got = []
cur = None
with open(raw_path) as fp:
    for line in fp:
        if line.startswith("Flow Record"):
            cur = {}
            got.append(cur)
            continue
        m = re.match(r"\s+([a-zA-Z ]+?)\s+=\s+(.*)$", line)
        if m and cur is not None:
            cur.setdefault(m.group(1).strip(), m.group(2).strip())

# IP-layer octets per direction (collectors-test/ip_bytes.py)
add_ip_bytes(want, ip_path, name)

def key_csv(r):
    return (norm_ip(r["src_ip"]), norm_ip(r["dst_ip"]), int(r["src_port"]), int(r["dst_port"]),
            int(r["protocol"]), int(r["bidirectional_first_seen_ms"]),
            int(r["bidirectional_last_seen_ms"]), int(r["src2dst_packets"]),
            r["src2dst_ip_bytes"], int(r["dst2src_packets"]), r["dst2src_ip_bytes"],
            r["src_mac"], r["dst_mac"], int(r["vlan_id"]))

def key_raw(r):
    num = lambda k: int(r[k].split()[0])
    def port(k):
        if k in r:
            return num(k)
        # ICMP: nfdump shows "ICMP = type.code" (icmpTypeCode, the first packet's) instead of
        # the ports, which NFStream keeps at 0; collectors-test/router_nfcapd.sh checks the
        # type and code against the capture
        r["ICMP"].split()[0].split(".")
        return 0
    return (norm_ip(r["src addr"]), norm_ip(r["dst addr"]), port("src port"), port("dst port"),
            num("proto"), num("first"), num("last"), num("in packets"), num("in bytes"),
            num("out packets"), num("out bytes"), r["in src mac"], r["in dst mac"],
            num("src vlan"))

ok = True
a = collections.Counter(key_csv(r) for r in want)
b = collections.Counter(key_raw(r) for r in got)
if a != b:
    ok = False
    print(f"{name}: {len(want)} CSV flows, {len(got)} nfdump flows; differences:")
    for k in list((a - b).elements())[:5]:
        print("  only in nfprobe CSV:", k)
    for k in list((b - a).elements())[:5]:
        print("  only in nfdump:     ", k)

# Application: nfdump resolves the applicationId (the nDPI app id, or the master id when there
# is none) through the application map: "name/nDPI name". NFStream's application_name is
# master.app, or the one name.
names_csv = {}
if "application_name" in (want[0] if want else {}):
    for r in want:
        names_csv[key_csv(r)[:7]] = r["application_name"]
    bad = 0
    for r in got:
        app = r.get("app ID", "")
        m = re.match(r"20\.\.(\d+)\.\.(\d+): ([^/]*)/nDPI (.*)$", app)
        n = names_csv.get(key_raw(r)[:7])
        if (m is None or n is None or int(m.group(1)) != 32473 or m.group(3) != m.group(4) or
                not (n == m.group(3) or n.endswith("." + m.group(3)))):
            bad += 1
            if bad <= 3:
                print(f"  application: nfprobe {n!r}, nfdump {app!r}")
    if bad:
        ok = False
        print(f"{name}: {bad} flows with a wrong application name")

exp = open(exp_path).read()
m = re.search(r"Sequence failures: (\d+), packets: (\d+), flows: (\d+)", exp)
if not m or int(m.group(1)) != 0 or int(m.group(2)) != sent or int(m.group(3)) != len(want):
    ok = False
    print(f"{name}: exporter record: {exp.strip()!r}, sent {sent} packets, {len(want)} flows")
log = open(log_path).read()
m = re.search(r"Sequence Errors: (\d+), Bad Packets: (\d+)", log)
if not m or m.group(1) != "0" or m.group(2) != "0":
    ok = False
    print(f"{name}: nfcapd: {m.group(0) if m else 'no summary'}")
pk = sum(int(r["bidirectional_packets"]) for r in want)
by = sum(r["src2dst_ip_bytes"] + r["dst2src_ip_bytes"] for r in want)
print(f"{name}: {len(got)}/{len(want)} flows, {pk} packets, {by} IP octets, {sent} v9 packets, "
      f"0 sequence errors: {'ok' if ok else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
PY
    then
        failed=1
    fi
done
exit $failed
