#!/bin/sh
# Collector test: the fields a router exports (issue 13 items 0-2), IPFIX and NetFlow v9, into a
# real nfcapd (nfdump 1.7.1) and through tshark.
#
# collectors-test/router_pcap.py writes a capture (VLAN, QinQ, MPLS, DSCP, TTLs varying per
# direction, DF/MF, ICMP/ICMPv6, TCP flags per direction, a non-first fragment) and, from the
# frames it wrote, what each flow must show. `nfprobe -r CAPTURE --input-ifindex 7` exports to
# a relay on 127.0.0.1 (collectors-test/udp_relay.py) that forwards every datagram to nfcapd
# and keeps it in a pcap for tshark. Then:
#   - `nfdump -o fmt:` shows per flow: addresses, ports (ICMP type.code as nfdump shows it),
#     ingress ifIndex, ToS, VLAN, MPLS labels 1-2 (label-exp-bos), packets and bytes of both
#     directions = IP-layer octets (IPv4 total length, IPv6 40 + payload), TCP flags (src2dst),
#     MACs; `nfdump -I` counts 0 sequence failures (nfdump 1.7.1 shows no TTL: tshark checks it);
#   - tshark decodes every datagram with no malformed packet and no expert warning, and its
#     values per flow equal the expectation: ingressInterface, dot1qVlanId/dot1qCustomerVlanId,
#     ipClassOfService, minimumTTL/maximumTTL, fragmentFlags, icmpTypeCode, MPLS label 1,
#     octetDeltaCount and layer2OctetDeltaCount, with their RFC 5103 reverses for IPFIX.
. "$(dirname "$0")/lib.sh"

need_nfdump
need_tshark
need_nfprobe
collector_scratch

router_capture

failed=0
for fmt in ipfix v9; do
    dir="$TMP/$fmt.nfcapd"
    start_nfcapd "$dir" || exit 1
    start_relay "$fmt"
    relay_port=$RELAY_PORT relay=$RELAY_PID
    if ! "$NFPROBE" -r "$TMP/router.pcap" --input-ifindex 7 --n-dissections 0 \
        -c "$fmt+udp://127.0.0.1:$relay_port" 2>"$TMP/$fmt.err"; then
        echo "FAIL $fmt: nfprobe:"; cat "$TMP/$fmt.err"; failed=1
    fi
    wait_for 50 udp_idle "$relay_port" || echo "relay still had datagrams queued"
    stop_nfcapd "$dir"
    stop "$relay"
    file=$NFCAPD_FILE
    [ -n "$file" ] || { echo "FAIL $fmt: nfcapd wrote no file"; cat "$dir.log"; failed=1; continue; }
    TZ=UTC nfdump -q -N -r "$file" -o \
        "fmt:%pr|%sa|%da|%sp|%dp|%in|%stos|%svln|%mpls1|%mpls2|%ipkt|%ibyt|%opkt|%obyt|%flg|%ismc|%idmc|%osmc|%odmc" \
        >"$TMP/$fmt.nfdump" 2>"$TMP/$fmt.nfdump.err"
    nfdump -r "$file" -I >"$TMP/$fmt.stat" 2>&1
    topt="-d udp.port==$PORT,cflow -o cflow.max_template_fields:128"
    # shellcheck disable=SC2086
    tshark -n -r "$TMP/$fmt.pcap" $topt -V >"$TMP/$fmt.tshark" 2>/dev/null
    # shellcheck disable=SC2086
    tshark -n -r "$TMP/$fmt.pcap" $topt -q -z expert >"$TMP/$fmt.expert" 2>&1
    if ! "$PY" - "$fmt" "$TMP/want.json" "$TMP/$fmt.nfdump" "$TMP/$fmt.stat" "$TMP/$fmt.tshark" \
        "$TMP/$fmt.expert" <<'PY'
import ipaddress, json, re, sys

fmt, want_p, nfd_p, stat_p, tsh_p, expert_p = sys.argv[1:7]
want = json.load(open(want_p))
ok = True

def bad(msg):
    global ok
    ok = False
    print(f"{fmt}: {msg}")

def lse(v):  # label<<4|exp<<1|bos as nfdump prints it
    return f"{v >> 4}-{(v >> 1) & 7}-{v & 1}"

FLAGS = "CEUAPRSF"
def flag_str(v):
    return "".join(c if v & (0x80 >> i) else "." for i, c in enumerate(FLAGS))

# ---------------------------------------------------------------- nfdump
got = {}
for line in open(nfd_p):
    c = [x.strip() for x in line.split("|")]
    if len(c) == 19:
        got[(str(ipaddress.ip_address(c[1])), str(ipaddress.ip_address(c[2])))] = c
if len(got) != len(want):
    bad(f"nfdump shows {len(got)} flows, the capture has {len(want)}")
for w in want:
    c = got.get((w["src"], w["dst"]))
    if c is None:
        bad(f"{w['name']}: not in nfdump")
        continue
    icmp = w["proto"] in (1, 58)
    dport = f"{w['icmp'] >> 8}.{w['icmp'] & 255}" if icmp else str(w["dport"])
    # nfdump's v9 reader takes dot1qVlanId (the outer tag) as its VLAN, its IPFIX reader vlanId
    # (NFStream's: the innermost tag)
    vlan = w["vlan"][0] if fmt == "v9" or not w["vlan"][1] else w["vlan"][1]
    mp = w["mpls"] + [0, 0]
    exp = [str(w["proto"]), str(w["sport"]), dport, "7", str(w["tos"][0]), str(vlan),
           lse(mp[0]), lse(mp[1]), str(w["pkts"][0]), str(w["ip"][0]), str(w["pkts"][1]),
           str(w["ip"][1]), flag_str(w["flags"][0]), "02:00:00:00:00:02", "02:00:00:00:00:01"]
    have = [c[0], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14],
            c[15], c[16]]
    names = ["proto", "sport", "dport", "in", "tos", "vlan", "mpls1", "mpls2", "ipkt", "ibyt",
             "opkt", "obyt", "flags", "src mac", "dst mac"]
    if fmt == "v9":  # OUT_SRC_MAC / OUT_DST_MAC (81/57): the observed frame's
        exp += ["02:00:00:00:00:02", "02:00:00:00:00:01"]
        have += [c[17], c[18]]
        names += ["out src mac", "out dst mac"]
    for n, e, h in zip(names, exp, have):
        if e != h:
            bad(f"{w['name']}: nfdump {n} {h!r}, the capture says {e!r}")
stat = open(stat_p).read()
m = re.search(r"Sequence failures: (\d+)", stat)
if not m or m.group(1) != "0":
    bad(f"nfdump -I: {m.group(0) if m else 'no sequence line'}")

# ---------------------------------------------------------------- tshark
ex = open(expert_p).read()
if re.search(r"^(Errors|Warns) \(\d+\)", ex, re.M):
    bad(f"tshark expert infos:\n{ex}")
text = open(tsh_p).read()
if "Malformed" in text or "Exception" in text:
    bad("tshark reports a malformed packet")
recs = []
for block in re.split(r"\n\s+Flow \d+\n", text)[1:]:
    block = re.split(r"\n\S", block)[0]  # up to the next frame
    r = {}
    lines = block.split("\n")
    for i, line in enumerate(lines):
        m = re.match(r"^\s+([A-Za-z0-9 .\-]+?): (\S+)(.*)$", line)
        if not m:
            continue
        # tshark marks a reverse icmpTypeCodeIPv6 on its second line (the code) only
        rev = "Reverse Type" in m.group(3) or (
            m.group(1) == "IPv6 ICMP Type" and i + 1 < len(lines) and
            "Reverse Type" in lines[i + 1])
        r.setdefault(m.group(1) + (" rev" if rev else ""), m.group(2))
    if "SrcAddr" in r:
        recs.append(r)
if len(recs) != len(want):
    bad(f"tshark decoded {len(recs)} flow records, {len(want)} were sent")
num = lambda s: int(s, 0)
by_src = {(str(ipaddress.ip_address(r["SrcAddr"])), r.get("Protocol", "")): r for r in recs}
for w in want:
    r = next((x for (s, _), x in by_src.items() if s == w["src"]), None)
    if r is None:
        bad(f"{w['name']}: no tshark record")
        continue
    checks = [("InputInt", 7), ("Dot1q Vlan Id", w["vlan"][0]),
              ("Dot1q Customer Vlan Id", w["vlan"][1]), ("IP ToS", w["tos"][0]),
              ("MinTTL", w["ttl_min"][0]), ("MaxTTL", w["ttl_max"][0]),
              ("IP Fragment Flags", w["frag"][0]), ("Octets", w["ip"][0]),
              ("Layer2 Octet Delta Count", w["l2"][0])]
    if w["proto"] == 1:
        checks.append(("ICMP Type", w["icmp"]))
    if fmt == "ipfix":
        if w["proto"] == 58:
            checks += [("IPv6 ICMP Type", w["icmp"] >> 8), ("IPv6 ICMP Code", w["icmp"] & 255),
                       ("IPv6 ICMP Type rev", w["icmp_rev"] >> 8)]
        if w["proto"] == 1 and w["pkts"][1]:
            checks.append(("ICMP Type rev", w["icmp_rev"]))
        checks += [("IP ToS rev", w["tos"][1]), ("MinTTL rev", w["ttl_min"][1]),
                   ("MaxTTL rev", w["ttl_max"][1]), ("IP Fragment Flags rev", w["frag"][1]),
                   ("Octets rev", w["ip"][1]), ("Layer2 Octet Delta Count rev", w["l2"][1])]
    elif w["proto"] == 58:
        checks.append(("ICMP Type", w["icmp"]))
    for k, e in checks:
        if k not in r or num(r[k]) != e:
            bad(f"{w['name']}: tshark {k} {r.get(k)!r}, the capture says {e}")
    if w["mpls"] and r.get("MPLS-Label1") != str(w["mpls"][0] >> 4):
        bad(f"{w['name']}: tshark MPLS-Label1 {r.get('MPLS-Label1')!r}")
print(f"{fmt}: {len(want)} flows: nfdump and tshark show the capture's router fields, "
      f"0 sequence failures: {'ok' if ok else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
PY
    then
        failed=1
    fi
done
exit $failed
