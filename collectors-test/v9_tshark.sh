#!/bin/sh
# Collector test: tshark's NetFlow v9 dissector on what the encoder sends.
#
# tests/unit/nf9_send builds flows from real captures with the probe's pipeline, encodes them
# and writes the UDP datagrams into a pcap (Ethernet/IPv4/UDP framing, exactly what went to
# 127.0.0.1:PORT; no capture privilege needed). tshark must decode every packet: no malformed
# packet, no expert warning or error, every flow record found, sequence numbers 0, 1, 2, ...
. "$(dirname "$0")/lib.sh"

need_tshark
NF9_SEND=${NF9_SEND:-$BUILDDIR/tests/unit/nf9_send}
[ -x "$NF9_SEND" ] || { echo "FAIL: $NF9_SEND not built"; exit 1; }
need_shared
collector_scratch

PCAPS="$SHARED/data/nfstream/pcaps"
# The datagrams also go to this port of 127.0.0.1, where nothing listens; tshark decodes it.
PORT=$(free_port udp)

# name capture mtu tshark-options nf9_send-options...
check() {
    local name=$1 pcap=$PCAPS/$2 mtu=$3 topt=$4; shift 4
    local out="$TMP/$name.pcap" n flows seqs expert
    [ -f "$pcap" ] || { echo "FAIL $name: missing $pcap"; return 1; }
    if ! "$NF9_SEND" -r "$pcap" --port "$PORT" --mtu "$mtu" --pcap "$out" "$@" \
        2>"$TMP/$name.log"; then
        echo "FAIL $name: nf9_send:"; cat "$TMP/$name.log"; return 1
    fi
    flows=$(sed -n 's/^nf9_send: \([0-9]*\) flows in \([0-9]*\) packets.*/\1 \2/p' "$TMP/$name.log")
    # shellcheck disable=SC2086
    tshark -n -r "$out" $topt -d "udp.port==$PORT,cflow" -q -z expert >"$TMP/$name.expert" 2>&1
    # shellcheck disable=SC2086
    tshark -n -r "$out" $topt -d "udp.port==$PORT,cflow" -V >"$TMP/$name.txt" 2>&1
    # shellcheck disable=SC2086
    tshark -n -r "$out" $topt -d "udp.port==$PORT,cflow" -T fields -e cflow.sequence \
        -e cflow.srcaddr -e cflow.srcaddrv6 >"$TMP/$name.fields" 2>/dev/null
    python3 - "$name" "$TMP/$name.expert" "$TMP/$name.txt" "$TMP/$name.fields" $flows <<'PY'
import re, sys
name, expert, text, fields, flows, packets = sys.argv[1:7]
flows, packets = int(flows), int(packets)
ok = True
ex = open(expert).read()
bad = re.findall(r"^(Errors|Warns) \(\d+\)", ex, re.M)
if bad:
    ok = False
    print(f"{name}: tshark expert infos:\n{ex}")
tx = open(text).read()
if "Malformed" in tx or "Exception" in tx:
    ok = False
    print(f"{name}: tshark reports a malformed packet")
seqs, recs = [], 0
for line in open(fields):
    cols = line.rstrip("\n").split("\t")
    seqs.append(int(cols[0]))
    recs += sum(len([v for v in c.split(",") if v]) for c in cols[1:])
if seqs != list(range(packets)):
    ok = False
    print(f"{name}: sequence numbers {seqs[:5]}... for {packets} packets")
if recs != flows:
    ok = False
    print(f"{name}: tshark decoded {recs} flow records, {flows} were sent")
print(f"{name}: {packets} v9 packets, {recs}/{flows} flow records decoded, "
      f"{'no expert warning' if not bad else 'EXPERT WARNINGS'}: {'ok' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
PY
}

failed=0
# default fields with L7 (43 fields: within tshark's default limit of 60)
check default 1kxun.pcap 1400 "" || failed=1
# statistics (90 fields: tshark needs a higher limit) and the sampling options
check statistics wechat.pcap 1400 "-o cflow.max_template_fields:128" \
    --statistical-analysis --sampling 10 || failed=1
# no DPI, jumbo packets
check nodpi alexa-app.pcapng 9000 "" --n-dissections=0 || failed=1
exit $failed
