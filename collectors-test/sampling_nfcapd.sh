#!/bin/sh
# Collector test: packet sampling end to end. nfprobe reads a capture with --sampling 10 and
# exports IPFIX or NetFlow v9 over UDP to a real nfcapd (nfdump 1.7.1) and, the same datagrams,
# to a small receiver here that writes them into a pcap for tshark (no capture privilege needed).
#  - the selector: count mode selects exactly ceil(P/10) of the capture's P packets (read from
#    the pcap here),
#    random mode one per block of 10 (floor or ceil of P/10), and the exit summary says so;
#  - the CSV is what was metered: its packets are the selected ones (less the packets the
#    decoder ignored), about a tenth; random mode: 10 x its bytes estimates the capture's
#    bytes within 5 standard deviations of the n-out-of-N estimator (computed from the
#    capture's packet sizes, block by block);
#  - nfdump -E shows the sampler (packet interval 1, packet space 9) and nfdump's totals, which
#    it scales by 10, are exactly 10 x the CSV's packets and IP-layer bytes (100 x with
#    --sampling-upscale: nfprobe scales once, nfdump again);
#  - tshark decodes every datagram, the sampling options included, with no malformed packet and
#    no expert warning, and finds the announced values (305/306 or 309/310, 318/319; v9 34/35).
. "$(dirname "$0")/lib.sh"

need_nfdump
need_tshark
need_nfprobe
need_shared
collector_scratch

PCAPS="$SHARED/data/nfstream/pcaps"
N=10

# The receiver: every datagram to 127.0.0.1:$2 into the pcap $3 (Ethernet/IPv4/UDP framing).
cat >"$TMP/udp2pcap.py" <<'PY'
import socket, struct, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("127.0.0.1", port))
f = open(out, "wb")
f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
f.flush()
while True:
    d, (h, sp) = s.recvfrom(65535)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(d), 0, 0, 64, 17, 0,
                     socket.inet_aton(h), socket.inet_aton("127.0.0.1"))
    frame = b"\0" * 12 + b"\x08\x00" + ip + struct.pack("!HHHH", sp, port, 8 + len(d), 0) + d
    t = time.time()
    f.write(struct.pack("<IIII", int(t), int(t % 1 * 1e6), len(frame), len(frame)) + frame)
    f.flush()
PY

# run NAME CAPTURE PROTO MODE [nfprobe options...]
run() {
    name=$1 cap=$2 proto=$3 mode=$4; shift 4
    pcap="$PCAPS/$cap" dir="$TMP/$name"
    [ -f "$pcap" ] || { echo "FAIL $name: missing $pcap"; return 1; }
    start_nfcapd "$dir" || return 1
    RPORT=$(free_port udp)
    python3 "$TMP/udp2pcap.py" "$RPORT" "$TMP/$name.pcap" 2>"$TMP/$name.rx.log" &
    rx=$!
    PIDS="$PIDS $rx"
    wait_for 100 udp_bound "$RPORT" || { echo "FAIL $name: receiver did not start"; return 1; }
    # --accounting-mode 1: the CSV's bytes are then the IP packets' (+ 40 per IPv6 packet, which
    # NFStream's IP mode leaves out), what octetDeltaCount carries
    if ! "$NFPROBE" -r "$pcap" --sampling $N --sampling-mode "$mode" --accounting-mode 1 "$@" \
        -c "$proto+udp://127.0.0.1:$PORT" -c "$proto+udp://127.0.0.1:$RPORT" \
        --csv "$TMP/$name.csv" 2>"$TMP/$name.log"; then
        echo "FAIL $name: nfprobe:"; cat "$TMP/$name.log"; stop "$NFCAPD_PID"; stop "$rx"
        return 1
    fi
    stop_nfcapd "$dir"
    wait_for 50 udp_idle "$RPORT" || :
    stop "$rx"
    [ -n "$NFCAPD_FILE" ] || { echo "FAIL $name: nfcapd wrote no file"; return 1; }
    nfdump -E "$NFCAPD_FILE" >"$TMP/$name.exp" 2>&1
    nfdump -N -r "$NFCAPD_FILE" -o 'fmt:%pkt' >"$TMP/$name.sum" 2>&1
    # one tshark run (it is slow to start): the decoded packets, then the expert summary
    tshark -n -r "$TMP/$name.pcap" -d "udp.port==$RPORT,cflow" -V -z expert \
        >"$TMP/$name.txt" 2>&1
    python3 - "$name" "$proto" "$mode" "$N" "$pcap" "$*" "$TMP/$name" <<'PY'
import csv, math, re, struct, sys
name, proto, mode, n, pcap, opts, base = sys.argv[1:8]
n = int(n)

# the capture's packets and their IP-layer octets (RFC 7012: IPv4 total length, IPv6 40 +
# payload; what octetDeltaCount counts), classic pcap, Ethernet, either byte order
data = open(pcap, "rb").read()
end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
def ip_size(fr):
    off, et = 14, fr[12:14]
    while et in (b"\x81\x00", b"\x88\xa8") and len(fr) >= off + 4:
        et, off = fr[off + 2:off + 4], off + 4
    if et == b"\x08\x00" and len(fr) >= off + 4:
        return struct.unpack("!H", fr[off + 2:off + 4])[0]
    if et == b"\x86\xdd" and len(fr) >= off + 6:
        return 40 + struct.unpack("!H", fr[off + 4:off + 6])[0]
    return 0
sizes, off = [], 24
while off + 16 <= len(data):
    _, _, incl, orig = struct.unpack(end + "IIII", data[off:off + 16])
    sizes.append(ip_size(data[off + 16:off + 16 + incl]))
    off += 16 + incl
observed = len(sizes)
upscale = "--sampling-upscale" in opts
ok = True
def bad(msg):
    global ok
    ok = False
    print(f"FAIL {name}: {msg}")

log = open(base + ".log").read()
m = re.search(r"sampling: (\d+) packets observed, (\d+) selected", log)
if not m:
    bad("no sampling line in the summary:\n" + log)
    sys.exit(1)
obs, sel = int(m.group(1)), int(m.group(2))
if obs != observed:
    bad(f"{obs} packets observed, the capture has {observed}")
want = {math.ceil(observed / n)} if mode == "count" else {observed // n, math.ceil(observed / n)}
if sel not in want:
    bad(f"{sel} packets selected of {observed}, want {sorted(want)}")
m = re.search(r"(\d+) metered, (\d+) ignored", log)
metered, ignored = int(m.group(1)), int(m.group(2))
if metered + ignored != sel:
    bad(f"{metered} metered + {ignored} ignored != {sel} selected")

rows = list(csv.DictReader(open(base + ".csv")))
pk = sum(int(r["bidirectional_packets"]) for r in rows)
by = sum(int(r["bidirectional_bytes"]) + 40 * int(r["bidirectional_packets"]) *
         (r["ip_version"] == "6") for r in rows)
if pk != metered:
    bad(f"the CSV has {pk} packets, {metered} were metered")

if mode == "random" and ignored == 0:
    # n-out-of-N: one packet uniformly in each block of n; n x its size estimates the block
    var = 0.0
    for i in range(0, len(sizes), n):
        b = sizes[i:i + n] + [0] * (n - len(sizes[i:i + n]))
        mu = sum(b) / n
        var += n * n * sum((x - mu) ** 2 for x in b) / n
    total, sd = sum(sizes), math.sqrt(var)
    if abs(n * by - total) > 5 * sd + n * max(sizes):
        bad(f"{n} x {by} sampled bytes = {n * by}, the capture has {total} (sd {sd:.0f})")
    else:
        print(f"     {name}: {n} x sampled bytes = {n * by} vs {total} in the capture "
              f"({(n * by - total) / sd:+.2f} sd)")

exp = open(base + ".exp").read()
if not re.search(rf"Sampler:.*packet interval: 1, packet space: {n - 1}\s*$", exp, re.M):
    bad("nfdump -E shows no sampler 1:%d:\n%s" % (n, exp))
m = re.search(r"Sequence failures: (\d+)", exp)
if not m or m.group(1) != "0":
    bad("nfdump sequence failures:\n" + exp)
m = re.search(r"total bytes: (\d+), total packets: (\d+)", open(base + ".sum").read())
scale = n * (n if upscale else 1)
if not m or int(m.group(2)) != scale * pk or int(m.group(1)) != scale * by:
    bad(f"nfdump totals {m.groups() if m else None}, want {scale} x ({by} bytes, {pk} packets)")

tx = open(base + ".txt").read()
if re.search(r"^(Errors|Warns) \(\d+\)|\[Expert Info \((Error|Warning)", tx, re.M):
    bad("tshark expert infos:\n" + tx[tx.rfind("Expert Information"):])
if "Malformed" in tx or "Exception" in tx or "[Data" in tx:
    bad("tshark reports a malformed or undecoded packet")
# the announced values, as tshark decodes them
if proto == "ipfix":
    want = [r"Selector Algorithm: (?:Systematic count-based Sampling|Random n-out-of-N Sampling)",
            r"Sampling Packet Space: %d\b" % (n - 1) if mode == "count"
            else r"Sampling Population: %d\b" % n,
            r"Selector Id Total Pkts Observed: %d\b" % obs,
            r"Selector Id Total Pkts Selected: %d\b" % sel]
else:
    want = [r"Sampling interval: %d\b" % n,
            r"Sampling algorithm: %s" % ("Deterministic" if mode == "count" else "Random"),
            r"Selector Id Total Pkts Observed: %d\b" % obs]
for w in want:
    if not re.search(w, tx, re.I):
        bad(f"tshark does not show /{w}/")
print(f"{'ok  ' if ok else 'FAIL'} {name}: {observed} packets observed, {sel} selected, "
      f"CSV {pk} packets {by} bytes, nfdump x{scale}")
sys.exit(0 if ok else 1)
PY
}

failed=0
run ipfix-count anydesk.pcap ipfix count || failed=1
run ipfix-random anydesk.pcap ipfix random || failed=1
run v9-count anydesk.pcap v9 count || failed=1
run v9-random anydesk.pcap v9 random || failed=1
# packets the decoder ignores (skype: non-IP) are selected but not metered
run ipfix-upscale skype.pcap ipfix count --sampling-upscale || failed=1
exit $failed
