#!/bin/sh
# Collector test: NetFlow v5 carries the router fields (issue 13 item 6 with items 1-3 and 5)
# into a real nfcapd (nfdump 1.7.1), and tshark decodes it.
#
# collectors-test/router_pcap.py writes a capture and what each flow must show; the test writes
# a pmacct networks file for the capture's IPv4 addresses (one /16 each, one of them a 4-octet
# AS). `nfprobe -r CAPTURE --input-ifindex 7 --networks-file FILE -c v5+udp://` then sends
# through a relay (udp_relay.py: the datagrams go on to nfcapd and into a pcap for tshark):
#   - nfdump shows one record per direction that saw packets, IPv4 only (the IPv6 flow is
#     counted as not exportable in the exit summary): protocol, ports (ICMP: the type.code of
#     the direction's first packet: echo request one way, reply the other), input ifIndex 7, ToS, source/destination AS (AS_TRANS 23456 for
#     the 4-octet one), packets and IP-layer octets, TCP flags of that direction;
#     0 sequence failures;
#   - tshark: every record's source and destination masks (16: nfdump keeps none for v5),
#     0 malformed packets or expert warnings;
#   - --sampling 2: the v5 header announces deterministic 1-in-2 (tshark) and nfdump -E shows
#     the sampler (nfdump 1.7.1 does not scale v5 records by it: measured; IPFIX and v9 are
#     scaled, see sampling_nfcapd.sh).
. "$(dirname "$0")/lib.sh"

need_nfdump
need_tshark
need_nfprobe
collector_scratch

router_capture
# 10.X.0.0/16 -> AS 65000 + X, but 10.8.0.0/16 -> 4200000008 (4 octets)
"$PY" - "$TMP/want.json" >"$TMP/networks.lst" <<'PY'
import ipaddress, json, sys
nets = set()
for f in json.load(open(sys.argv[1])):
    for a in (f["src"], f["dst"]):
        if ipaddress.ip_address(a).version == 4:
            nets.add(int(a.split(".")[1]))
for x in sorted(nets):
    print(f"{4200000000 + x if x == 8 else 65000 + x},10.{x}.0.0/16")
PY

failed=0
# run NAME NFPROBE-OPTIONS...: nfprobe into nfcapd through the relay; sets FILE and the outputs
run() {
    name=$1; shift
    start_nfcapd "$TMP/$name.nfcapd" || exit 1
    start_relay "$name"
    relay_port=$RELAY_PORT relay=$RELAY_PID
    if ! "$NFPROBE" -r "$TMP/router.pcap" --input-ifindex 7 --n-dissections 0 \
        --networks-file "$TMP/networks.lst" --csv "$TMP/$name.csv" "$@" \
        -c "v5+udp://127.0.0.1:$relay_port" 2>"$TMP/$name.err"; then
        echo "FAIL $name: nfprobe:"; cat "$TMP/$name.err"; failed=1
    fi
    wait_for 50 udp_idle "$relay_port" || echo "relay still had datagrams queued"
    stop_nfcapd "$TMP/$name.nfcapd"
    stop "$relay"
    FILE=$NFCAPD_FILE
    [ -n "$FILE" ] || { echo "FAIL $name: nfcapd wrote no file"; failed=1; return 1; }
    TZ=UTC nfdump -q -N -r "$FILE" -o "fmt:%pr|%sa|%da|%sp|%dp|%in|%stos|%sas|%das|%ipkt|%ibyt|%flg" \
        >"$TMP/$name.nfdump" 2>&1
    nfdump -r "$FILE" -I >"$TMP/$name.stat" 2>&1
    nfdump -E "$FILE" >"$TMP/$name.exp" 2>&1
    tshark -n -r "$TMP/$name.pcap" -d "udp.port==$PORT,cflow" -T fields -E separator=, \
        -e cflow.srcaddr -e cflow.dstaddr -e cflow.srcmask -e cflow.dstmask \
        >"$TMP/$name.masks" 2>/dev/null
    tshark -n -r "$TMP/$name.pcap" -d "udp.port==$PORT,cflow" -q -z expert >"$TMP/$name.expert" 2>&1
    tshark -n -r "$TMP/$name.pcap" -d "udp.port==$PORT,cflow" -V >"$TMP/$name.txt" 2>&1
}

run plain
"$PY" - "$TMP/want.json" "$TMP/plain" <<'PY' || failed=1
import ipaddress, json, re, sys

want_p, base = sys.argv[1:3]
want = json.load(open(want_p))
ok = True
def bad(msg):
    global ok
    ok = False
    print(f"v5: {msg}")

def asn(a):
    x = int(a.split(".")[1])
    return 23456 if x == 8 else 65000 + x  # AS_TRANS for the 4-octet one

FLAGS = "CEUAPRSF"
flag_str = lambda v: "".join(c if v & (0x80 >> i) else "." for i, c in enumerate(FLAGS))

exp = {}
for w in want:
    if ipaddress.ip_address(w["src"]).version != 4:
        continue
    for d in (0, 1):
        if w["pkts"][d] == 0:
            continue
        s, t = (w["src"], w["dst"]) if d == 0 else (w["dst"], w["src"])
        sp, dp = (w["sport"], w["dport"]) if d == 0 else (w["dport"], w["sport"])
        row = [str(w["proto"]), str(sp), str(dp), "7", str(w["tos"][d]), str(asn(s)),
               str(asn(t)), str(w["pkts"][d]), str(w["ip"][d]), flag_str(w["flags"][d])]
        exp[(s, t)] = (w["name"], d, row)
got = {}
for line in open(base + ".nfdump"):
    c = [x.strip() for x in line.split("|")]
    if len(c) == 12:
        got[(str(ipaddress.ip_address(c[1])), str(ipaddress.ip_address(c[2])))] = c
if set(got) != set(exp):
    bad(f"nfdump shows {sorted(got)}, want the directions {sorted(exp)}")
names = ["proto", "sport", "dport", "in", "tos", "src as", "dst as", "packets", "bytes", "flags"]
for k, (name, d, row) in exp.items():
    c = got.get(k)
    if c is None:
        continue
    have = [c[0], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]]
    for i, (n, e, h) in enumerate(zip(names, row, have)):
        if n in ("sport", "dport") and row[0] == "1":
            # ICMP: srcport 0, dstport type << 8 | code of the direction's first packet, as
            # nfdump shows it
            w = next(x for x in want if x["name"] == name)
            tc = w["icmp"] if d == 0 else w["icmp_rev"]
            e = "0" if n == "sport" else f"{tc >> 8}.{tc & 255}"
        if e != h:
            bad(f"{name} direction {d}: nfdump {n} {h!r}, the capture says {e!r}")
stat = open(base + ".stat").read()
m = re.search(r"Sequence failures: (\d+)", stat)
if not m or m.group(1) != "0":
    bad(f"nfdump -I: {m.group(0) if m else 'no sequence line'}")
masks = [l.strip().split(",") for l in open(base + ".masks") if l.strip()]
recs = []
for l in masks:  # one line per datagram, the records' values comma-joined field by field
    n = len(l) // 4
    recs += [tuple(l[i + k * n] for k in range(4)) for i in range(n)]
if len(recs) != len(exp):
    bad(f"tshark decoded {len(recs)} records, {len(exp)} were sent")
for r in recs:
    if r[2] != "16" or r[3] != "16":
        bad(f"tshark: record {r[0]} -> {r[1]} masks {r[2]}/{r[3]}, want 16/16")
ex = open(base + ".expert").read()
if re.search(r"^(Errors|Warns) \(\d+\)", ex, re.M) or "Malformed" in open(base + ".txt").read():
    bad(f"tshark: malformed or expert warnings:\n{ex}")
err = open(base + ".err").read()
if not re.search(r"\b1 flows not exportable", err):
    bad(f"the IPv6 flow is not counted as not exportable:\n{err}")
print(f"v5: {len(exp)} directions: protocol, ports, ifIndex, ToS, AS, packets, IP octets, "
      f"flags and masks as the capture says, 0 sequence failures: {'ok' if ok else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
PY

run sampled --sampling 2
"$PY" - "$TMP/sampled" <<'PY' || failed=1
import csv, re, sys
base = sys.argv[1]
ok = True
text = open(base + ".txt").read()
mode = ["1" if re.search(r"Deterministic|\b1\b", m, re.I) else m
        for m in re.findall(r"SamplingMode: ([^\n]*)", text)]
rate = re.findall(r"SampleRate: (\d+)", text)
if set(mode) != {"1"} or set(rate) != {"2"}:
    print(f"v5 sampled: tshark shows sampling modes {sorted(set(mode))}, rates {sorted(set(rate))},"
          " want deterministic (1), 2"); ok = False
exp = open(base + ".exp").read()
if not re.search(r"Sampler:.*algorithm: 1, packet interval: 1, packet space: 1\s*$", exp, re.M):
    print(f"v5 sampled: nfdump -E shows no 1-in-2 sampler:\n{exp}"); ok = False
# nfdump 1.7.1 shows the v5 sampler but does not scale v5 records (measured): the totals are
# the selected packets of the IPv4 flows, as nfprobe exported them
rows = [r for r in csv.DictReader(open(base + ".csv")) if r["ip_version"] == "4"]
pk = sum(int(r["bidirectional_packets"]) for r in rows)
pkts = sum(int(l.split("|")[9]) for l in open(base + ".nfdump") if l.count("|") == 11)
if pkts != pk:
    print(f"v5 sampled: nfdump shows {pkts} packets, the CSV {pk} (IPv4)"); ok = False
print(f"v5 sampled: header deterministic 1-in-2, nfdump -E shows the sampler, {pkts} packets: "
      f"{'ok' if ok else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
PY
exit $failed
