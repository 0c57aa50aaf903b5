#!/bin/sh
# Collector test: NetFlow v5 into a real nfcapd (nfdump 1.7.1) on 127.0.0.1, and the same
# datagrams through tshark.
#
# tests/unit/nf5_send makes a seeded set of flow directions (2- and 4-octet AS numbers, ICMP,
# a direction over 2^32 packets, IPv6 and empty directions v5 cannot carry), writes them as
# CSV, encodes them with the v5 encoder and sends them. The collector must then show exactly
# the CSV's directions (records of a split direction summed): addresses, ports or ICMP
# type.code, protocol, packets and bytes scaled by the header's sampling interval (nfdump
# applies it), first/last to the ms, TCP flags, ToS, ifIndexes, AS numbers (AS_TRANS 23456 for
# 4-octet ones), next hop, engine type/id, and no sequence error. nfdump keeps no v5 masks:
# tshark must show those, with 0 malformed or warning expert items.
. "$(dirname "$0")/lib.sh"

command -v nfcapd >/dev/null 2>&1 || skip "nfcapd not installed (Debian package nfdump)"
command -v nfdump >/dev/null 2>&1 || skip "nfdump not installed"
NF5_SEND=${NF5_SEND:-$BUILDDIR/tests/unit/nf5_send}
[ -x "$NF5_SEND" ] || { echo "FAIL: $NF5_SEND not built"; exit 1; }
collector_scratch

failed=0
# engine type:id, sampling mode:interval (0:0 = none, 1 = count-based, 2 = random)
for run in "0:0 0:0" "1:7 1:100" "2:250 2:16383"; do
    set -- $run
    eng=$1 smp=$2
    dir="$TMP/run.${eng%%:*}.nfcapd"
    start_nfcapd "$dir" || exit 1
    if ! "$NF5_SEND" --port "$PORT" --csv "$TMP/want.csv" --pcap "$TMP/v5.pcap" --flows 600 \
        --seed "${eng%%:*}" --engine-type "${eng%%:*}" --engine-id "${eng#*:}" \
        --sampling "$smp" 2>"$TMP/send.log"; then
        echo "FAIL nf5_send:"; cat "$TMP/send.log"; failed=1
    fi
    cat "$TMP/send.log"
    sent=$(sed -n 's/.* in \([0-9]*\) packets.*/\1/p' "$TMP/send.log")
    stop_nfcapd "$dir"
    file=$NFCAPD_FILE
    [ -n "$file" ] || { echo "FAIL: nfcapd wrote no file"; cat "$dir.log"; exit 1; }
    TZ=UTC nfdump -r "$file" -o raw >"$TMP/raw" 2>"$TMP/nfdump.err"
    nfdump -E "$file" >"$TMP/exporters" 2>&1
    tshark_ok=1
    if command -v tshark >/dev/null 2>&1; then
        tshark -r "$TMP/v5.pcap" -d "udp.port==$PORT,cflow" -T fields -E separator=/t \
            -e cflow.srcaddr -e cflow.dstaddr -e cflow.srcport -e cflow.dstport \
            -e cflow.srcmask -e cflow.dstmask -e cflow.sequence -e cflow.count \
            >"$TMP/tshark" 2>/dev/null || tshark_ok=0
        tshark -r "$TMP/v5.pcap" -d "udp.port==$PORT,cflow" \
            -Y '_ws.malformed || _ws.expert.severity >= "Warning"' 2>/dev/null >"$TMP/expert"
    else
        : >"$TMP/tshark"; : >"$TMP/expert"; tshark_ok=2
    fi
    if ! python3 - "$TMP/want.csv" "$TMP/raw" "$TMP/exporters" "$dir.log" "${sent:-0}" \
        "$eng" "$smp" "$TMP/tshark" "$TMP/expert" "$tshark_ok" <<'PY'
import collections, csv, re, sys

want_p, raw_p, exp_p, log_p, sent, eng, smp, tsh_p, expert_p, tsh_ok = sys.argv[1:11]
sent = int(sent)
etype, eid = map(int, eng.split(":"))
smode, sint = map(int, smp.split(":"))
scale = sint if smode and sint > 1 else 1
name = f"engine {eng} sampling {smp}"

want = {}
for r in csv.DictReader(open(want_p)):
    k = (r["src"], r["dst"], int(r["sport"]), int(r["dport"]), int(r["proto"]))
    assert k not in want, k
    want[k] = r

recs_raw = []
for line in open(raw_p):
    if line.startswith("Flow Record"):
        recs_raw.append({})
        continue
    m = re.match(r"\s+([a-zA-Z ]+?)\s+=\s+(.*)$", line)
    if m and recs_raw:
        recs_raw[-1][m.group(1).strip()] = m.group(2).strip()

def num(r, f):
    return int(r[f].split()[0])

got = collections.defaultdict(list)
for r in recs_raw:
    if "ICMP" in r:
        t, c = r["ICMP"].split()[0].split(".")
        sp, dp = 0, int(t) * 256 + int(c)
    else:
        sp, dp = num(r, "src port"), num(r, "dst port")
    got[(r["src addr"], r["dst addr"], sp, dp, num(r, "proto"))].append(r)

ok = True
def bad(msg):
    global ok
    if ok or bad.n < 8:
        print(f"{name}: {msg}")
    bad.n += 1
    ok = False
bad.n = 0

if set(want) != set(got):
    bad(f"{len(set(want) - set(got))} directions missing at the collector, "
        f"{len(set(got) - set(want))} unexpected")
records = 0
for k, w in want.items():
    recs = got.get(k, [])
    records += len(recs)
    if not recs:
        continue
    pk = sum(num(r, "in packets") for r in recs)
    by = sum(num(r, "in bytes") for r in recs)
    if pk != int(w["packets"]) * scale or by != int(w["octets"]) * scale:
        bad(f"{k}: packets/bytes {pk}/{by}, want {int(w['packets']) * scale}/"
            f"{int(w['octets']) * scale}")
    sas = int(w["src_as"]); sas = sas if sas <= 65535 else 23456
    das = int(w["dst_as"]); das = das if das <= 65535 else 23456
    for r in recs:
        checks = {
            "first": (num(r, "first"), int(w["first_ms"])),
            "last": (num(r, "last"), int(w["last_ms"])),
            "tcp flags": (int(r["tcp flags"].split()[0], 16), int(w["tcp_flags"])),
            "input": (num(r, "input"), int(w["input"])),
            "output": (num(r, "output"), int(w["output"])),
            "src as": (num(r, "src as"), sas),
            "dst as": (num(r, "dst as"), das),
            "ip next hop": (r["ip next hop"], w["nexthop"]),
            "engine type": (num(r, "engine type"), etype),
            "engine ID": (num(r, "engine ID"), eid),
        }
        # nfdump's raw printer shows "ICMP = type.code" in place of the ports and src tos
        if "src tos" in r or "ICMP" not in r:
            checks["src tos"] = (num(r, "src tos"), int(w["tos"]))
        for f, (g, e) in checks.items():
            if g != e:
                bad(f"{k}: {f} {g}, want {e}")

exp = open(exp_p).read()
m = re.search(r"Sequence failures: (\d+), packets: (\d+), flows: (\d+)", exp)
if not m or int(m.group(1)) != 0 or int(m.group(2)) != sent or int(m.group(3)) != records:
    bad(f"exporter record {exp.strip()!r}, want {sent} packets, {records} flows, 0 failures")
if smode and sint > 1 and not re.search(rf"Sampler.*(interval|rate)[^\d]*{sint}\b", exp, re.I | re.S):
    # nfdump 1.7.1 -E lists v5 header sampling only as the applied rate; the scaled counters
    # above already prove it was read.
    pass
log = open(log_p).read()
m = re.search(r"Sequence Errors: (\d+), Bad Packets: (\d+)", log)
if not m or m.group(1) != "0" or m.group(2) != "0":
    bad(f"nfcapd: {m.group(0) if m else 'no summary'}")

# tshark: every record's masks as made; flow_sequence counts records; nothing malformed
if tsh_ok == "1":
    seq = 0
    masks = {}
    n = 0
    for line in open(tsh_p):
        f = line.rstrip("\n").split("\t")
        cols = [c.split(",") for c in f[:6]]
        if int(f[6]) != seq:
            bad(f"tshark: flow_sequence {f[6]}, want {seq}")
        seq += int(f[7])
        for sa, da, sp, dp, sm, dm in zip(*cols):
            n += 1
            masks.setdefault((sa, da, int(sp), int(dp)), set()).add((int(sm), int(dm)))
    if n != records:
        bad(f"tshark: {n} records, nfdump {records}")
    for k, w in want.items():
        m = masks.get(k[:4])
        if m != {(int(w["src_mask"]), int(w["dst_mask"]))}:
            bad(f"tshark: {k} masks {m}, want {w['src_mask']}/{w['dst_mask']}")
    if open(expert_p).read().strip():
        bad("tshark: malformed or warning items:\n" + open(expert_p).read()[:500])
elif tsh_ok == "0":
    bad("tshark failed")

print(f"{name}: {len(want)} directions as {records} records in {sent} packets at nfcapd"
      f"{', masks and sequence at tshark' if tsh_ok == '1' else ''}: "
      f"{'ok' if ok else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
PY
    then
        failed=1
    fi
done
exit $failed
