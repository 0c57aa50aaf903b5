#!/bin/sh
# Collector test: the collector dies mid-export and a new one takes its place, over TCP and TLS.
#
# nfprobe reads two files as one capture (-r PART1 -r FIFO): a SYN scan's first half from a
# regular file, the second half from a named pipe fed by this script. When nfprobe opens the
# pipe it has exported the first half's expired flows (--idle-timeout 1) to collector 1 and
# holds a partly filled message. Collector 1 is then killed, collector 2 started on the same
# port, and the second half fed. nfprobe must notice the dead session, reconnect, send every
# template again, and deliver the rest. Checked, from what the collectors wrote (decoded by
# ipfix2csv and ipfixDump) and nfprobe's exit summary:
#   - collector 1 got flows 0..j and collector 2 flows k..N-1 (no gap, no duplicate inside
#     each), collector 2's stream decodes from its first byte (templates first, sequence
#     numbers from 0, no warning);
#   - the flows in neither (j+1..k-1) are exactly what nfprobe counts as not sent: flows,
#     packets and octets, in its summary and in the exporting reliability options record that
#     collector 2 received at the end; 2 sessions.
. "$(dirname "$0")/ipfix_lib.sh"

command -v openssl >/dev/null 2>&1 || skip "openssl not installed"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
command -v ipfixDump >/dev/null 2>&1 || skip "ipfixDump not installed (libfixbuf-tools)"
setup_export_test
PCAP="$SHARED/data/nfstream/pcaps/synscan.pcap"

# feed PCAP PART1 FIFO READY GO: writes the capture's first half to PART1; when nfprobe opens
# the pipe FIFO to read it (a pipe is opened once, when reached: no check before reading),
# creates READY, waits for GO and writes the second half.
feed() {
    python3 - "$@" <<'PY'
import os, struct, sys, time
pcap, part1, fifo, ready, go = sys.argv[1:6]
data = open(pcap, "rb").read()
hdr, end = data[:24], "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
offs, o = [], 24
while o + 16 <= len(data):
    offs.append(o)
    o += 16 + struct.unpack(end + "I", data[o + 8:o + 12])[0]
cut = offs[len(offs) // 2]
open(part1, "wb").write(data[:cut])
deadline = time.time() + 60
fd = os.open(fifo, os.O_WRONLY)          # returns once nfprobe read PART1 and opened the pipe
open(ready, "w").close()
while not os.path.exists(go):
    if time.time() > deadline:
        sys.exit("feed: no go")
    time.sleep(0.02)
os.write(fd, hdr + data[cut:])
os.close(fd)
PY
}

# start_collector KIND PORT FILE
start_collector() {
    case $1 in
    tcp) start_tcp_sink "$2" "$3" && COLL_FILE=$3.1 ;;
    tls) start_tls_sink "$2" "$3" "$PKI" && COLL_FILE=$3 ;;
    esac
}

# decoded_ok FILE: ipfix2csv and ipfixDump read the stream from its first byte without warning.
decoded_ok() {
    ipfixDump -i "$1" -e "$REGISTRY" -o /dev/null 2>"$1.warn" && [ ! -s "$1.warn" ]
}

for kind in tcp tls; do
    d="$TMP/$kind"
    mkdir -p "$d"
    mkfifo "$d/part2.pcap"
    port=$(free_port tcp)
    start_collector "$kind" "$port" "$d/c1" || { fail "$kind: collector 1"; continue; }
    c1=$SINK_PID f1=$COLL_FILE
    feed "$PCAP" "$d/part1.pcap" "$d/part2.pcap" "$d/ready" "$d/go" 2>"$d/feed.err" &
    FEED=$!
    PIDS="$PIDS $FEED"
    wait_for 100 test -f "$d/part1.pcap" || { fail "$kind: feeder"; continue; }
    extra=
    [ "$kind" = tls ] &&
        extra=$TLS_OPTS
    # shellcheck disable=SC2086
    "$NFPROBE" -r "$d/part1.pcap" -r "$d/part2.pcap" --idle-timeout 1 --statistical-analysis \
        -c "ipfix+$kind://127.0.0.1:$port" $extra --csv "$d/out.csv" 2>"$d/err" &
    NP=$!
    PIDS="$PIDS $NP"
    if ! wait_for 300 test -f "$d/ready"; then
        fail "$kind: nfprobe did not reach the second half"; cat "$d/err" "$d/feed.err"; continue
    fi
    # Collector 1 must have taken the first half (a TLS session can take a second to come up
    # on a loaded machine) before it is killed.
    wait_for 300 test -s "$f1"
    wait_for 100 file_stable "$f1"
    kill -KILL "$c1"; wait "$c1" 2>/dev/null
    start_collector "$kind" "$port" "$d/c2" || { fail "$kind: collector 2"; continue; }
    c2=$SINK_PID f2=$COLL_FILE
    touch "$d/go"
    wait_for 300 sh -c "! kill -0 $NP 2>/dev/null" ||
        { fail "$kind: nfprobe did not finish"; continue; }
    wait "$NP"
    rc=$?
    wait "$FEED" 2>/dev/null
    wait_for 100 file_stable "$f2"
    stop "$c2"
    "$IPFIX2CSV" --statistical-analysis --l7 "$f1" >"$d/c1.csv" 2>"$d/c1.dec"
    "$IPFIX2CSV" --statistical-analysis --l7 --options "$d/c2.opts" "$f2" >"$d/c2.csv" 2>"$d/c2.dec"
    decoded_ok "$f2" || { fail "$kind: collector 2's stream: $(head -3 "$f2.warn")"; continue; }
    grep -q " 0 sequence errors" "$d/c2.dec" ||
        { fail "$kind: collector 2: $(cat "$d/c2.dec")"; continue; }
    if python3 - "$d/out.csv" "$d/c1.csv" "$d/c2.csv" "$d/err" "$d/c2.opts" "$kind" "$rc" <<'PY'
import csv, re, sys
out, c1, c2, err, opts, kind, rc = sys.argv[1:8]
rows = {int(r["id"]): r for r in csv.DictReader(open(out))}
a = [int(r["id"]) for r in csv.DictReader(open(c1))]
b = [int(r["id"]) for r in csv.DictReader(open(c2))]
n = len(rows)
ok = True
def bad(msg):
    global ok
    ok = False
    print(f"{kind}: {msg}")
if not a or a != list(range(len(a))):
    bad(f"collector 1 got {len(a)} flows, not a run from 0: {a[:3]}..{a[-3:]}")
if not b or b != list(range(b[0], n)):
    bad(f"collector 2 got {len(b)} flows, not a run to the last ({n - 1}): {b[:3]}..{b[-3:]}")
missing = [i for i in range(n) if i not in set(a) | set(b)]
mp = sum(int(rows[i]["bidirectional_packets"]) for i in missing)
mo = sum(int(rows[i]["bidirectional_bytes"]) for i in missing)
e = open(err).read()
m = re.search(r"export \S+: (\d+) flows sent in \d+ messages \(\d+ octets\), (\d+) not sent "
              r"\((\d+) packets, (\d+) octets\), (\d+) sessions", e)
if not m:
    bad("no export summary: " + e[-300:])
else:
    sent, ns, np_, no, sess = map(int, m.groups())
    if (ns, np_, no) != (len(missing), mp, mo):
        bad(f"nfprobe counts {ns} flows ({np_} packets, {no} octets) not sent; "
            f"{len(missing)} ({mp}, {mo}) never arrived")
    if sess != 2:
        bad(f"{sess} sessions")
    if sent != len(a) + len(b):
        bad(f"nfprobe says {sent} flows sent, the collectors got {len(a) + len(b)}")
o = dict(l.strip().split("=") for l in open(opts) if "=" in l)
if (int(o.get("notSentFlowTotalCount", -1)), int(o.get("notSentPacketTotalCount", -1)),
        int(o.get("notSentOctetTotalCount", -1))) != (len(missing), mp, mo):
    bad(f"exporting reliability record at collector 2: {o}")
if rc != "4" and missing:
    bad(f"exit status {rc}, expected 4 (some flows not exported)")
print(f"{kind}: {n} flows: collector 1 got {len(a)}, collector 2 got {len(b)} after the "
      f"reconnect, {len(missing)} lost ({mp} packets, {mo} octets) and counted as not sent")
sys.exit(0 if ok else 1)
PY
    then pass "$kind restart"; else fail "$kind restart"; fi
done
exit $FAILED
