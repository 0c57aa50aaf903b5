#!/bin/sh
# Collector test: nfprobe feeding ntopng over ZMQ (issue 14), into tools/zmq_collect on
# 127.0.0.1 (a SUB socket decoding the TLV with nDPI's deserializer, as ntopng does; it checks
# the two frames, the 28-byte version-3 header, the topic and at most 255 flows and 128 KiB
# per message, and counts msg_id gaps).
#  1. connect mode (-c zmq+tcp://, the collector binds as ntopng -i tcp://...c): every flow of
#     the captures arrives; with --zmq-update-interval 1 long flows are reported several times
#     and the deltas of each flow sum to the CSV totals of the same run (packets), and the
#     octets to what the catalogue's octetDeltaCount / reverseOctetDeltaCount rows give (their
#     CSV columns per --list-fields; export-only rows: the IP-layer octets of a run with
#     --accounting-mode 1, +40 per packet for IPv6); every field equals the CSV's (addresses, ports, protocol, IP
#     version, VLAN, MACs, epoch-second times, client/server TCP flags against the per-direction
#     flag counters, L7 in ntopng 6.2's nDPI ids, confidence, server name, UA, JA3); no gaps.
#  2. bind mode (--zmq-bind, the collector connects): the same flows arrive, no gaps.
#  3. CURVE: a collector with a CURVE server key gets every flow from nfprobe given its public
#     key; with another (well-formed) key nothing arrives; a malformed key is refused at start
#     with one line naming --zmq-encryption-key.
#     -n refuses a malformed endpoint or key with one line naming the flag.
#  5. --zmq-rebase-time puts the run's first packet at nfprobe's start and keeps the intervals;
#     --zmq-source-id is the header's source id.
#  6. SIGHUP moves the feed (reading a FIFO): the configuration file's collector changes, the
#     new SUB receives the flows that end after the reload, the old one those before, together
#     every flow of the CSV, each message id once and in order across both (no gap).
#  4. a collector that stops reading: nfprobe meters every flow all the same (its CSV equals a
#     run without ZMQ), ends in bounded time, and counts the dropped messages.
. "$(dirname "$0")/../tests/golden/lib.sh"
. "$(dirname "$0")/ipfix_lib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
need_nfprobe
ZC=$BUILDDIR/tools/zmq_collect
[ -x "$ZC" ] || { echo "FAIL: $ZC not built"; exit 1; }
need_shared
scratch
P=$SHARED/data/nfstream/pcaps
IN="-r $P/1kxun.pcap -r $P/dcerpc.pcap -r $P/quic.pcap"
# ntopng 6.2's nDPI ids, made from the releases' tables read in place.
IDS=$TMP/ndpi-4.10.ids
sh "$SRCDIR/tools/mkndpi-ids.sh" "$SHARED/data/ndpi-ids/ndpi-4.10.tsv" \
    "$SHARED/data/ndpi-ids/ndpi-4.2.tsv" "$SRCDIR/tools/ndpi-renames.tsv" >"$IDS" ||
    { echo "FAIL tools/mkndpi-ids.sh"; exit 1; }
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT

# collect NAME ARGS...: starts a collector in the background, output in $TMP/NAME.{out,err}
collect() {
    n=$1; shift
    "$ZC" --idle-ms 700 "$@" >"$TMP/$n.out" 2>"$TMP/$n.err" &
    last_pid=$!
    pids="$pids $last_pid"
    wait_for 50 grep -q ready "$TMP/$n.err" || { echo "collector $n did not start"; cat "$TMP/$n.err"; }
    EP=$(sed -n 's/^zmq_collect: ready //p' "$TMP/$n.err")
}

# check NAME CSV [MODE1CSV]: compares the collector's records with the CSV (python below)
check() {
    python3 "$TMP/check.py" "$TMP/$1.out" "$2" "${3:-}" "$IDS" "$TMP/$1.err" "$OCTETS"
}
# IN/OUT_BYTES are the catalogue rows named octetDeltaCount / reverseOctetDeltaCount: their CSV
# columns, or "-" when they are export-only (then IP-layer octets, computed from a mode-1 run).
OCTETS=$("$NFPROBE" --list-fields | awk '$3 == "octetDeltaCount" { a = $2 }
    $3 == "reverseOctetDeltaCount" { b = $2 } END { print a "," b }')

cat >"$TMP/check.py" <<'PY'
import csv, json, sys
recs, csvp, mode1p, idsp, errp = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
octcols = sys.argv[6].split(',')
flows = list(csv.DictReader(open(csvp)))
mode1 = {r['id']: r for r in csv.DictReader(open(mode1p))} if mode1p else None
names = {}
for l in open(idsp):
    if l.startswith('#'): continue
    i, sym, n = l.rstrip('\n').split('\t')
    names.setdefault(n, int(i))
bad = []
def key_of_csv(r):
    return (r['src_ip'], int(r['src_port']), r['dst_ip'], int(r['dst_port']), int(r['protocol']),
            int(r['vlan_id']), int(r['bidirectional_first_seen_ms']) // 1000)
def key_of_rec(d):
    return (d.get('8', d.get('27')), d['7'], d.get('12', d.get('28')), d['11'], d['4'], d['58'], d['22'])
groups = {}
for l in open(recs):
    d = json.loads(l)
    if 'event' in d:
        t = d['event']['timeout']
        if not all(k in t for k in ('idle', 'lifetime', 'collected_lifetime')):
            bad.append('event without the three timeouts: %s' % t)
        continue
    groups.setdefault(key_of_rec(d), []).append(d)
want = {}
for r in flows:
    want.setdefault(key_of_csv(r), []).append(r)
if set(groups) != set(want):
    bad.append('%d flows sent, %d in the CSV; missing %s extra %s' % (len(groups), len(want),
               list(set(want) - set(groups))[:3], list(set(groups) - set(want))[:3]))
multi = 0
FLAGS = ('fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr')
for k in set(groups) & set(want):
    g, rows = groups[k], want[k]
    if len(rows) > 1:
        continue  # same key and second twice: sums only would be ambiguous; skip
    r = rows[0]
    multi += len(g) > 1
    sums = {f: sum(d.get(f, 0) for d in g) for f in ('1', '2', '23', '24')}
    if (sums['2'], sums['24']) != (int(r['src2dst_packets']), int(r['dst2src_packets'])):
        bad.append('%s: packets %s vs CSV %s/%s' % (k, sums, r['src2dst_packets'], r['dst2src_packets']))
    if octcols[0] in r and octcols[1] in r:
        e1, e2 = int(r[octcols[0]]), int(r[octcols[1]])
        if (sums['1'], sums['23']) != (e1, e2):
            bad.append('%s: octets %s/%s vs %s/%s' % (k, sums['1'], sums['23'], e1, e2))
    elif mode1 is not None:
        m = mode1[r['id']]
        extra = 40 if r['ip_version'] == '6' else 0
        e1 = int(m['src2dst_bytes']) + extra * int(m['src2dst_packets'])
        e2 = int(m['dst2src_bytes']) + extra * int(m['dst2src_packets'])
        if (sums['1'], sums['23']) != (e1, e2):
            bad.append('%s: IP octets %s/%s vs %s/%s' % (k, sums['1'], sums['23'], e1, e2))
    last = g[-1]
    if any(max(x.get('1', 0), x.get('23', 0)) >= 1 << 32 for x in g):
        bad.append('%s: a delta of 2^32 or more' % (k,))
    exp = {'60': int(r['ip_version']), '56': r['src_mac'], '80': r['dst_mac'],
           '21': int(r['bidirectional_last_seen_ms']) // 1000}
    if r['protocol'] == '6' and 'src2dst_syn_packets' in r:
        for f, side in (('57550', 'src2dst'), ('57551', 'dst2src')):
            exp[f] = sum(1 << i for i, n in enumerate(FLAGS) if int(r['%s_%s_packets' % (side, n)]) > 0)
        exp['6'] = exp['57550'] | exp['57551']
    exp['58032'] = int(r['application_confidence'])
    for f, c in (('57655', 'user_agent'), ('57961', 'client_fingerprint'),
                 ('57962', 'server_fingerprint'), ('57656', 'content_type')):
        if r[c]: exp[f] = r[c]
    if r['application_name'] != 'Unknown':
        exp['57591'] = r['application_name']
    for f, v in exp.items():
        if last.get(f) != v:
            bad.append('%s: field %s = %r, CSV %r' % (k, f, last.get(f), v))
    if r['requested_server_name']:
        got = [last.get(f) for f in ('57660', '57833', '57677', '58011') if f in last]
        if got != [r['requested_server_name']]:
            bad.append('%s: server name %s, CSV %r' % (k, got, r['requested_server_name']))
    # L7: the CSV's names (nDPI 4.2) in the receiver's numbering, or no L7_PROTO at all
    parts = r['application_name'].split('.')
    ids = [names.get(p) for p in parts]
    if r['application_name'] == 'Unknown' or None in ids:
        if '57590' in last:
            bad.append('%s: L7_PROTO %s for %s (not in the receiver)' % (k, last['57590'], parts))
    else:
        sent = [int(x) for x in last.get('57590', '-1.-1').split('.')]
        if sorted(set(x for x in sent if x)) != sorted(set(ids)):
            bad.append('%s: L7_PROTO %s for %s (want ids %s)' % (k, last.get('57590'), parts, ids))
err = open(errp).read().split()
gaps = int(err[err.index('gaps') + 1]) if 'gaps' in err else -1
if gaps != 0:
    bad.append('msg_id gaps: %d' % gaps)
for b in bad[:10]:
    print('  ' + b)
print('%d flows, %d reported more than once, %d records, %d problems' %
      (len(want), multi, sum(len(g) for g in groups.values()), len(bad)))
sys.exit(1 if bad else 0)
PY

# 1. connect mode, every field, deltas of multi-update flows
collect c1 --bind "tcp://127.0.0.1:*"
"$NFPROBE" $IN --statistical-analysis --csv "$TMP/c1.csv" -c "zmq+$EP" \
    --zmq-update-interval 1 --zmq-ndpi-ids "$IDS" 2>"$TMP/c1.nf" || bad "connect: nfprobe failed: $(cat "$TMP/c1.nf")"
"$NFPROBE" $IN --statistical-analysis --accounting-mode 1 --csv "$TMP/m1.csv" 2>/dev/null
wait "$last_pid"
if out=$(check c1 "$TMP/c1.csv" "$TMP/m1.csv"); then ok "connect: $out"; else bad "connect: $out"; fi
grep -q '0 dropped' "$TMP/c1.nf" || bad "connect: drops: $(grep '^zmq' "$TMP/c1.nf")"
# the 1kxun capture's flows are minutes long: several must have been updated
n_up=$(sed -n 's/.*records (\([0-9]*\) updates).*/\1/p' "$TMP/c1.nf")
[ "${n_up:-0}" -gt 20 ] && ok "connect: $n_up live updates" || bad "connect: ${n_up:-no} live updates"

# 2. bind mode (nfprobe waits for the subscriber before sending)
PORT=$(free_port tcp)
"$NFPROBE" $IN --statistical-analysis --csv "$TMP/b.csv" --zmq-bind "tcp://127.0.0.1:$PORT" \
    --zmq-ndpi-ids "$IDS" 2>"$TMP/b.nf" &
nf=$!
pids="$pids $nf"
collect b --connect "tcp://127.0.0.1:$PORT"
wait "$nf" || bad "bind: nfprobe failed: $(cat "$TMP/b.nf")"
wait "$last_pid"
if out=$(check b "$TMP/b.csv"); then ok "bind: $out"; else bad "bind: $out"; fi

# 3. CURVE
set -- $("$ZC" --keygen)
PUB=$1 SEC=$2
set -- $("$ZC" --keygen)
OTHER=$1
collect k --bind "tcp://127.0.0.1:*" --curve-secret "$SEC"
"$NFPROBE" $IN --csv "$TMP/k.csv" -c "zmq+$EP" --zmq-encryption-key "$PUB" \
    --zmq-ndpi-ids "$IDS" 2>"$TMP/k.nf" || bad "curve: nfprobe failed: $(cat "$TMP/k.nf")"
wait "$last_pid"
if out=$(check k "$TMP/k.csv"); then ok "curve: $out"; else bad "curve: $out"; fi
collect w --bind "tcp://127.0.0.1:*" --curve-secret "$SEC" --max-ms 4200
"$NFPROBE" $IN --csv "$TMP/w.csv" -c "zmq+$EP" --zmq-encryption-key "$OTHER" \
    2>"$TMP/w.nf" || bad "curve, wrong key: nfprobe failed: $(cat "$TMP/w.nf")"
wait "$last_pid"
if grep -q 'messages 0 flows 0' "$TMP/w.err" && grep -q ' 0 messages\|sent without subscriber' "$TMP/w.nf"; then
    ok "curve: with another key nothing arrives ($(grep -o '[0-9]* sent without subscriber' "$TMP/w.nf"))"
else
    bad "curve: with another key: $(cat "$TMP/w.err")"
fi
# refused WHAT FLAG ARGS...: nfprobe ARGS fails with one line naming FLAG
refused() {
    what=$1 flag=$2; shift 2
    if "$NFPROBE" "$@" >/dev/null 2>"$TMP/bad.nf"; then
        bad "$what: accepted"
    elif [ "$(wc -l <"$TMP/bad.nf")" -eq 1 ] && grep -q -- "$flag" "$TMP/bad.nf"; then
        ok "$what: refused: $(cat "$TMP/bad.nf")"
    else
        bad "$what: $(cat "$TMP/bad.nf")"
    fi
}
for key in short "$(echo "$PUB" | tr 'A-Z' '~')" ; do
    refused "curve: malformed key" --zmq-encryption-key $IN --csv /dev/null -c "zmq+$EP" \
        --zmq-encryption-key "$key"
done
# -n checks endpoints and key without opening anything
refused "-n, endpoint without a port" "-c zmq+" -n $IN -c zmq+tcp://127.0.0.1
refused "-n, bind endpoint not tcp" --zmq-bind -n $IN --zmq-bind udp://127.0.0.1:5556
refused "-n, malformed key" --zmq-encryption-key -n $IN -c "zmq+$EP" --zmq-encryption-key short

# 5. --zmq-rebase-time, --zmq-source-id
collect r --bind "tcp://127.0.0.1:*"
t0=$(date +%s)
"$NFPROBE" -r "$P/1kxun.pcap" --csv "$TMP/r.csv" -c "zmq+$EP" --zmq-rebase-time \
    --zmq-source-id 7 2>"$TMP/r.nf" || bad "rebase: nfprobe failed: $(cat "$TMP/r.nf")"
t1=$(date +%s)
wait "$last_pid"
if out=$(python3 - "$TMP/r.out" "$TMP/r.csv" "$t0" "$t1" <<'PY'
import csv, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
flows = list(csv.DictReader(open(sys.argv[2])))
t0, t1 = int(sys.argv[3]), int(sys.argv[4])
ev = [r for r in recs if 'event' in r]
fl = [r for r in recs if 'event' not in r]
first_ms = min(int(r['bidirectional_first_seen_ms']) for r in flows)
bad = []
if not ev or any(r['_src'] != 7 for r in ev):
    bad.append('source ids %s' % sorted(set(r['_src'] for r in ev)))
start = min(r['22'] for r in fl)
if not t0 - 1 <= start <= t1 + 1:
    bad.append('first packet at %d, nfprobe ran %d..%d' % (start, t0, t1))
# every time keeps its distance to the first packet (to the second)
for r in flows:
    k = (int(r['bidirectional_last_seen_ms']) - first_ms) / 1000.0
    got = [x['21'] - start for x in fl if x['7'] == int(r['src_port']) and x['11'] == int(r['dst_port'])]
    if got and not any(abs(g - k) <= 1 for g in got):
        bad.append('flow %s: last seen +%s s, sent +%s' % (r['id'], k, got)); break
print('%s; first packet at %d (run %d..%d), %d events from source 7' % ('; '.join(bad) or 'rebased', start, t0, t1, len(ev)))
sys.exit(1 if bad else 0)
PY
); then ok "rebase: $out"; else bad "rebase: $out"; fi

# 6. SIGHUP moves the feed to another endpoint (nfprobe reads a FIFO, so it is still running)
collect h1 --bind "tcp://127.0.0.1:*" --idle-ms 8000
EP1=$EP h1=$last_pid
collect h2 --bind "tcp://127.0.0.1:*" --idle-ms 3000
EP2=$EP h2=$last_pid
printf 'collector = zmq+%s\nzmq-update-interval = 1\n' "$EP1" >"$TMP/h.conf"
mkfifo "$TMP/h.fifo"
"$NFPROBE" -C "$TMP/h.conf" -r "$P/1kxun.pcap" -r "$TMP/h.fifo" --idle-timeout 10 \
    --csv "$TMP/h.csv" --zmq-ndpi-ids "$IDS" 2>"$TMP/h.nf" &
nf=$!
pids="$pids $nf"
# the first capture's flows reach the first endpoint while nfprobe waits for the FIFO's writer
wait_for 100 grep -q '"_msg"' "$TMP/h1.out" || bad "sighup: nothing reached the first endpoint"
sleep 1
printf 'collector = zmq+%s\nzmq-update-interval = 1\n' "$EP2" >"$TMP/h.conf.new"
mv "$TMP/h.conf.new" "$TMP/h.conf"
kill -HUP "$nf"
wait_for 50 grep -q 'SIGHUP: configuration reloaded' "$TMP/h.nf" || bad "sighup: no reload: $(cat "$TMP/h.nf")"
sleep 1
cat "$P/quic.pcap" >"$TMP/h.fifo"
wait "$nf" || bad "sighup: nfprobe failed: $(cat "$TMP/h.nf")"
wait "$h1" "$h2"
cat "$TMP/h1.out" "$TMP/h2.out" >"$TMP/h.out"
cat "$TMP/h1.err" "$TMP/h2.err" >"$TMP/h.err" # gaps within each: below
if out=$(check h "$TMP/h.csv"); then ok "sighup: $out"; else bad "sighup: $out"; fi
if out=$(python3 - "$TMP/h1.out" "$TMP/h2.out" <<'PY'
import json, sys
ids = [sorted(set(json.loads(l)['_msg'] for l in open(f))) for f in sys.argv[1:3]]
bad = []
for n, i in zip(('old', 'new'), ids):
    if not i: bad.append('nothing on the %s endpoint' % n)
    elif i != list(range(i[0], i[-1] + 1)): bad.append('%s endpoint: ids with gaps' % n)
if not bad and ids[1][0] != ids[0][-1] + 1:
    bad.append('old endpoint ended at %d, new began at %d' % (ids[0][-1], ids[1][0]))
print('; '.join(bad) or 'ids %d..%d on the old endpoint, %d..%d on the new' % (ids[0][0], ids[0][-1], ids[1][0], ids[1][-1]))
sys.exit(1 if bad else 0)
PY
); then ok "sighup: $out"; else bad "sighup: $out"; fi

# 4. a stalled collector: metering goes on, drops are counted
"$MKPCAP" bench "$TMP/big.pcap" --packets 60000 --flows 30000 >/dev/null 2>&1 || bad "mkpcap failed"
collect s --bind "tcp://127.0.0.1:*" --stall --max-ms 20000
"$NFPROBE" -r "$TMP/big.pcap" --csv "$TMP/s.csv" -c "zmq+$EP" --zmq-hwm 1 \
    2>"$TMP/s.nf"
rc=$?
"$NFPROBE" -r "$TMP/big.pcap" --csv "$TMP/s0.csv" 2>/dev/null
drops=$(sed -n 's/.* \([0-9]*\) dropped (queue full).*/\1/p' "$TMP/s.nf")
if [ "$rc" -eq 4 ] && [ "${drops:-0}" -gt 0 ] && cmp -s "$TMP/s.csv" "$TMP/s0.csv"; then
    ok "stalled collector: every flow metered, $drops messages dropped and counted (exit 4)"
else
    bad "stalled collector: exit $rc, drops '${drops}', CSV $(cmp "$TMP/s.csv" "$TMP/s0.csv" 2>&1 && echo same)"
fi

[ "$fails" -eq 0 ] || exit 1
