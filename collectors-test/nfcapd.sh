#!/bin/sh
# Collector test: IPFIX over UDP into a real nfcapd (nfdump 1.7.1) on 127.0.0.1.
#
# For each capture (a selection of NFStream's: IPv4, IPv6, tunnels, VLAN, ICMP, a 2000-flow SYN
# scan burst; synthetic VLAN and ICMP ones; the bundled sample), `nfprobe -r CAPTURE
# --statistical-analysis -c ipfix+udp://127.0.0.1:PORT --csv OUT.csv` (also without the
# statistics, and without DPI) exports to nfcapd while writing its own CSV. nfcapd is stopped
# with SIGTERM (it writes its file) and `nfdump -o raw` must show exactly the CSV's flows:
# addresses, ports, protocol, first and last seen to the millisecond, packets and bytes of both
# directions (bytes: IP-layer octets, RFC 7012's octetDeltaCount, whatever --accounting-mode; the
# expectation comes from a second run with --accounting-mode 1, NFStream's IP size, plus the
# 40-octet header of each IPv6 packet, which that size leaves out), TCP flags (tcpControlBits:
# the OR of the src2dst flag counts, when the statistics are on), MACs, VLAN,
# biflow direction, and the application (applicationId resolved through the application map:
# NFStream's application_name or its app part); flow, packet and byte totals equal, and neither
# nfcapd nor nfdump counted a sequence error.
. "$(dirname "$0")/lib.sh"

need_nfdump
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
need_nfprobe
need_shared
collector_scratch

P="$SHARED/data/nfstream/pcaps"
CAPTURES="$P/1kxun.pcap $P/http_ipv6.pcap $P/bittorrent.pcap $P/gtp-u.pcap $P/capwap.pcap
$P/6in4tunnel.pcap $P/4in6tunnel.pcap $P/ipv6_in_gtp.pcap $P/teredo.pcap $P/dns_doh.pcap
$P/quic.pcap $P/synscan.pcap $P/skype.pcap $P/mdns.pcap $P/dhcp.pcap $P/ftp.pcap $P/sip.pcap
$P/google_ssl.pcap $P/malformed_icmp.pcap $P/tor.pcap $P/whatsapp_voice_and_message.pcap
$SHARED/data/synthetic/pcaps/syn_vlan.pcap $SHARED/data/synthetic/pcaps/syn_icmp.pcap
$P/1kxun.pcap:-- $P/skype.pcap:--n-dissections=0 $P/http_ipv6.pcap:--n-dissections=0"
[ -f "$BUILDDIR/sample.pcap" ] && CAPTURES="$CAPTURES $BUILDDIR/sample.pcap"

total_flows=0
for entry in $CAPTURES; do
    # CAPTURE[:OPTION]: the option replaces --statistical-analysis ("--" = none)
    pcap=${entry%%:*} opt=--statistical-analysis
    [ "$pcap" != "$entry" ] && opt=$(echo "${entry#*:}" | sed 's/^--$//; s/=/ /')
    name=$(basename "$pcap")${opt:+ $opt}
    [ -f "$pcap" ] || { fail "missing $pcap"; continue; }
    dir="$TMP/$(echo "$name" | tr ' ' '_').nfcapd"
    start_nfcapd "$dir" || exit 1
    out="$dir.out"
    # shellcheck disable=SC2086
    if ! "$NFPROBE" -r "$pcap" $opt -c "ipfix+udp://127.0.0.1:$PORT" --csv "$out.csv" \
        2>"$out.err"; then
        fail "$name: nfprobe failed:"; cat "$out.err"; stop "$NFCAPD_PID"; continue
    fi
    stop_nfcapd "$dir"
    # the same flows metered with NFStream's IP size (IPv4 total length, IPv6 payload length)
    "$NFPROBE" -r "$pcap" --n-dissections 0 --accounting-mode 1 --csv "$out.ip.csv" 2>/dev/null
    # and tshark's view of the capture: IPv4 total length, IPv6 payload length (+ 40) per packet
    : >"$out.tshark"
    command -v tshark >/dev/null 2>&1 && tshark -n -r "$pcap" -T fields -e ip.len \
        -e ip.frag_offset -e ipv6.plen >"$out.tshark" 2>/dev/null
    file=$NFCAPD_FILE
    [ -n "$file" ] || { fail "$name: nfcapd wrote no file"; cat "$dir.log"; continue; }
    TZ=UTC nfdump -r "$file" -o raw >"$out.raw" 2>"$out.nfdump.err"
    nfdump -r "$file" -I >"$out.stat" 2>&1
    if ! PYTHONPATH="$SRCDIR/collectors-test" \
        python3 - "$out.csv" "$out.raw" "$out.stat" "$dir.log" "$name" "$out.err" "$out.ip.csv" \
        "$out.tshark" <<'PY'
import collections, csv, ipaddress, os, re, sys
from ip_bytes import add_ip_bytes

csv_path, raw_path, stat_path, log_path, name, err_path, ip_path, tshark_path = sys.argv[1:9]
ip = lambda s: str(ipaddress.ip_address(s.strip()))
want = list(csv.DictReader(open(csv_path)))
# IP-layer octets per direction (collectors-test/ip_bytes.py)
add_ip_bytes(want, ip_path, name)

got, cur = [], None
for line in open(raw_path):
    if line.startswith("Flow Record"):
        cur = {}
        got.append(cur)
        continue
    m = re.match(r"\s+([a-zA-Z ]+?)\s+=\s+(.*)$", line)
    if m and cur is not None:
        cur.setdefault(m.group(1).strip(), m.group(2).strip())

FLAGS = [("fin", 0x01), ("syn", 0x02), ("rst", 0x04), ("psh", 0x08), ("ack", 0x10),
         ("urg", 0x20), ("ece", 0x40), ("cwr", 0x80)]

STATS = bool(want) and "bidirectional_syn_packets" in want[0]

def key_csv(r):
    flags = sum(bit for f, bit in FLAGS if int(r[f"src2dst_{f}_packets"]) > 0) \
        if STATS else None
    return (ip(r["src_ip"]), ip(r["dst_ip"]), int(r["src_port"]), int(r["dst_port"]),
            int(r["protocol"]), int(r["bidirectional_first_seen_ms"]),
            int(r["bidirectional_last_seen_ms"]), int(r["src2dst_packets"]),
            r["src2dst_ip_bytes"], int(r["dst2src_packets"]), r["dst2src_ip_bytes"],
            flags, r["src_mac"], r["dst_mac"], int(r["vlan_id"]))

def key_raw(r):
    num = lambda k: int(r[k].split()[0], 0)
    def port(k):
        if k in r:
            return num(k)
        # ICMP: nfdump shows "ICMP = type.code" (icmpTypeCode, the first packet's) instead of
        # the ports, which NFStream keeps at 0; collectors-test/router_nfcapd.sh checks the
        # type and code against the capture
        r["ICMP"].split()[0].split(".")
        return 0
    return (ip(r["src addr"]), ip(r["dst addr"]), port("src port"), port("dst port"),
            num("proto"), num("first"), num("last"), num("in packets"), num("in bytes"),
            num("out packets"), num("out bytes"), num("tcp flags") if STATS else None,
            r["in src mac"],
            r["in dst mac"], num("src vlan"))

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
for r in got:
    if not r.get("biFlow Dir", "").endswith("initiator"):
        ok = False
        print(f"{name}: biFlow Dir {r.get('biFlow Dir')!r}")
        break

# The applicationId selector is nDPI's app id (or the master id when there is none): nfdump's
# name is NFStream's application_name, or its part after "master.".
apps = collections.defaultdict(list)
for r in want:
    apps[key_csv(r)].append(r.get("application_name"))
if want and "application_name" not in want[0]:
    for r in got:
        if "app ID" in r:
            ok = False
            print(f"{name}: an application id without DPI: {r['app ID']!r}")
            break
bad = 0
for r in got:
    names = apps.get(key_raw(r), [None])
    app = r.get("app ID", "")
    m = re.match(r"20\.\.(\d+)\.\.(\d+): ([^/]*)/nDPI (.*)$", app)
    n = names[0]
    if n is None:
        continue
    if m is None or int(m.group(1)) != 32473 or m.group(3) != m.group(4) or \
            not (n == m.group(3) or n.endswith("." + m.group(3))):
        bad += 1
        if bad <= 3:
            print(f"  application: nfprobe {n!r}, nfdump {app!r}")
if bad:
    ok = False
    print(f"{name}: {bad} flows with a wrong application")

stat = open(stat_path).read()
m = re.search(r"Sequence failures: (\d+)", stat)
if not m or m.group(1) != "0":
    ok = False
    print(f"{name}: nfdump -I: {m.group(0) if m else 'no sequence line'}")
log = open(log_path).read()
m = re.search(r"Flows: (\d+), Packets: (\d+), Bytes: (\d+), "
              r"Sequence Errors: (\d+), Bad Packets: (\d+)", log)
pk = sum(int(r["bidirectional_packets"]) for r in want)
by = sum(r["src2dst_ip_bytes"] + r["dst2src_ip_bytes"] for r in want)
if not m or (int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4), m.group(5)) != \
        (len(want), pk, by, "0", "0"):
    ok = False
    print(f"{name}: nfcapd: {m.group(0) if m else 'no summary'}; nfprobe: {len(want)} flows, "
          f"{pk} packets, {by} bytes")
# Independently of nfprobe: the IP-layer octets tshark reads in the capture (every IPv4 packet
# but non-first fragments, which NFStream does not meter; every IPv6 packet), for captures
# without tunnels (one IP header per packet) where nfprobe ignored no other packet (NFStream's
# parser drops some that tshark reads, e.g. syn_vlan.pcap's non_ip one).
ign = re.search(r"\d+ ignored \(([^)]*)\)", open(err_path).read())
tsh, multi = 0, bool(ign) and any(not w.startswith("ipv4_fragment")
                                   for w in ign.group(1).split(", "))
for line in open(tshark_path):
    c = line.rstrip("\n").split("\t") + ["", "", ""]
    if multi or any("," in x for x in c) or (c[0] and c[2]):
        multi = True
        break
    if c[0] and (not c[1] or int(c[1]) == 0):
        tsh += int(c[0])
    elif not c[0] and c[2]:
        tsh += int(c[2]) + 40
tsh_checked = os.path.getsize(tshark_path) > 0 and not multi
if tsh_checked and tsh != by:
    ok = False
    print(f"{name}: tshark counts {tsh} IP octets in the capture, the flows {by}")
err = open(err_path).read()
m = re.search(r"nfprobe: export \S+: (\d+) flows sent in (\d+) messages .* (\d+) not sent", err)
if not m or int(m.group(1)) != len(want) or m.group(3) != "0":
    ok = False
    print(f"{name}: nfprobe's export summary: {m.group(0) if m else err.strip()[-300:]}")
print(f"{name}: {len(got)}/{len(want)} flows, {pk} packets, {by} IP octets"
      f"{' (as tshark counts)' if tsh_checked else ''}, "
      f"{m.group(2) if m else '?'} messages, 0 sequence errors: {'ok' if ok else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
PY
    then
        FAILED=1
    fi
    total_flows=$((total_flows + $(($(wc -l <"$out.csv") - 1))))
done
echo "$total_flows flows in all"
exit $FAILED
