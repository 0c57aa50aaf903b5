#!/bin/sh
# A trained model running inside the probe, the whole loop:
#   nfprobe --csv on captures (label: nDPI's application_category_name; features: the SPLT
#   columns) -> tests/plugin_features.py writes LIBSVM -> liblinear-train -s 0 (Debian
#   liblinear-tools) -> nfprobe --plugin model.so:model=FILE on captures it did not train on ->
#   the prediction in the CSV, checked flow by flow against liblinear-predict on the same
#   features, its accuracy printed beside the majority-class baseline -> the same prediction
#   exported over IPFIX/UDP to a listener on 127.0.0.1, decoded by ipfixDump --rfc5610.
# Captures: nDPI's test captures, split by a hash of their name (a quarter for testing).
. "$(dirname "$0")/lib.sh"
need_shared
scratch
command -v liblinear-train >/dev/null 2>&1 || skip "liblinear-train not installed (liblinear-tools)"
command -v liblinear-predict >/dev/null 2>&1 || skip "liblinear-predict not installed"
MODEL_SO=$BUILDDIR/probe/plugins/model.so
FEAT="python3 $SRCDIR/tests/plugin_features.py"
N=8
[ -f "$MODEL_SO" ] || { echo "FAIL: $MODEL_SO not built"; exit 1; }
CAPS=$SHARED/data/ndpi/pcap
[ -d "$CAPS" ] || skip "no nDPI captures at $CAPS"

# run NFPROBE-ARGS...: exit status 0, or 2 (a cut capture: the flows read are kept).
run() {
    "$NFPROBE" "$@" 2>"$TMP/stderr"
    rc=$?
    [ $rc = 0 ] || [ $rc = 2 ] || { echo "FAIL: nfprobe $*: exit $rc"; cat "$TMP/stderr"; exit 1; }
}

mkdir "$TMP/train" "$TMP/test"
python3 - "$CAPS" >"$TMP/split" <<'PY'
import hashlib, os, sys
for n in sorted(os.listdir(sys.argv[1])):
    print('test' if int(hashlib.md5(n.encode()).hexdigest(), 16) % 4 == 0 else 'train', n)
PY
while read -r set name; do
    [ "$set" = train ] || continue
    run -r "$CAPS/$name" --splt-analysis $N --csv "$TMP/train/$name.csv"
done <"$TMP/split"
# shellcheck disable=SC2046
$FEAT train --packets $N --out "$TMP/train.svm" --labels "$TMP/model.labels" \
    $(ls "$TMP"/train/*.csv) >"$TMP/train.out" || { cat "$TMP/train.out"; exit 1; }
grep -v '^majority=' "$TMP/train.out"
MAJORITY=$(sed -n 's/^majority=//p' "$TMP/train.out")
liblinear-train -s 0 -B 1 -q "$TMP/train.svm" "$TMP/model" ||
    { echo "FAIL: liblinear-train"; exit 1; }

while read -r set name; do
    [ "$set" = test ] || continue
    run -r "$CAPS/$name" --splt-analysis $N --plugin "$MODEL_SO:model=$TMP/model" \
        --csv "$TMP/test/$name.csv"
done <"$TMP/split"
# Captures with no flow leave no file.
# shellcheck disable=SC2046
$FEAT test --labels "$TMP/model.labels" --out "$TMP/test.svm" --index "$TMP/test.idx" \
    $(ls "$TMP"/test/*.csv) || exit 1
liblinear-predict -b 1 "$TMP/test.svm" "$TMP/model" "$TMP/pred" >/dev/null ||
    { echo "FAIL: liblinear-predict"; exit 1; }
$FEAT evaluate --labels "$TMP/model.labels" --index "$TMP/test.idx" --predictions "$TMP/pred" \
    --majority "$MAJORITY" || exit 1

# end=1: every flow is ended once predicted, at its N-th packet (expiration_id -1).
# The test capture with the most flows longer than N packets.
BIG=$(python3 - $N "$TMP"/test/*.csv <<'PY'
import csv, sys
n = int(sys.argv[1])
print(max(sys.argv[2:], key=lambda p: (sum(int(r['bidirectional_packets']) > n
                                           for r in csv.DictReader(open(p))), p)))
PY
)
CAP=$(basename "$BIG" .csv)
run -r "$CAPS/$CAP" --plugin "$MODEL_SO:model=$TMP/model,end=1" --csv "$TMP/end.csv"
python3 - "$TMP/end.csv" "$BIG" $N <<'PY' || exit 1
import csv, sys
ended = list(csv.DictReader(open(sys.argv[1])))
full, n = list(csv.DictReader(open(sys.argv[2]))), int(sys.argv[3])
bad = [r['id'] for r in ended
       if int(r['bidirectional_packets']) > n
       or (r['expiration_id'] == '-1') != (int(r['bidirectional_packets']) == n)
       or int(r['udps.model_packets']) != int(r['bidirectional_packets'])]
cut = sum(r['expiration_id'] == '-1' for r in ended)
print('end=1: %d flows became %d, %d ended at packet %d once predicted, %d inconsistent'
      % (len(full), len(ended), cut, n, len(bad)))
sys.exit(1 if bad or cut == 0 or sum(int(r['bidirectional_packets']) for r in ended)
         != sum(int(r['bidirectional_packets']) for r in full) else 0)
PY

# IPFIX: the prediction travels as enterprise elements, named by the RFC 5610 type records.
command -v ipfixDump >/dev/null 2>&1 || skip "ipfixDump not installed (libfixbuf-tools)"
. "$SRCDIR/collectors-test/ipfix_lib.sh"
trap 'ipfix_cleanup' EXIT
PORT=$(free_port udp)
start_udp_sink "$PORT" "$TMP/ipfix.bin" || exit 1
# splt.so too: arrays travel as octetArrays of big-endian integers.
run -r "$CAPS/$CAP" --plugin "$MODEL_SO:model=$TMP/model" \
    --plugin "$BUILDDIR/probe/plugins/splt.so:sequence_length=$N" \
    -c "ipfix+udp://127.0.0.1:$PORT" --csv "$TMP/ipfix.csv"
wait_for 100 udp_idle "$PORT" && wait_for 50 file_stable "$TMP/ipfix.bin" || true
stop "$SINK_PID"
ipfixDump --rfc5610 --hexdump=512 -i "$TMP/ipfix.bin" -o "$TMP/ipfix.txt" 2>"$TMP/ipfixdump.err" ||
    { echo "FAIL: ipfixDump:"; cat "$TMP/ipfixdump.err"; exit 1; }
python3 - "$TMP/ipfix.csv" "$TMP/ipfix.txt" <<'PY'
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1])))
text = open(sys.argv[2]).read()
# ipfixDump prints a data record's elements one per line:
#   (32473/9089)  udpsModelClass : (len: 7) Network
#   (32473/9034)  udpsModelProbability : 0.52190329
#   (32473/13560) udpsModelPackets : 2
recs = []
for block in text.split('--- data record')[1:]:
    c = re.search(r'udpsModelClass : \(len: \d+\) ?(.*)', block)
    p = re.search(r'udpsModelProbability : (\S+)', block)
    n = re.search(r'udpsModelPackets : (\d+)', block)
    ps = re.search(r'udpsSpltPs : \(len: \d+\) 0x([0-9a-f]*)', block)
    pi = re.search(r'udpsSpltPiatMs : \(len: \d+\) 0x([0-9a-f]*)', block)
    if c and p and n and ps and pi:
        b, t = bytes.fromhex(ps.group(1)), bytes.fromhex(pi.group(1))
        splt = (str([int.from_bytes(b[i:i + 4], 'big', signed=True) for i in range(0, len(b), 4)]),
                str([int.from_bytes(t[i:i + 8], 'big', signed=True) for i in range(0, len(t), 8)]))
        recs.append((c.group(1).strip(), int(n.group(1)), splt, float(p.group(1))))
want = sorted((r['udps.model_class'], int(r['udps.model_packets']),
               (r['udps.splt_ps'], r['udps.splt_piat_ms']), float(r['udps.model_probability']))
              for r in rows)
got = sorted(recs)
bad = len(want) != len(got) or any(a[:3] != b[:3] or abs(a[3] - b[3]) > 1e-6
                                   for a, b in zip(want, got))
print('IPFIX: %d flows in the CSV, %d data records carry udpsModelClass, udpsModelProbability, '
      'udpsModelPackets, udpsSpltPs and udpsSpltPiatMs (names from the RFC 5610 type records): '
      '%s' % (len(rows), len(got), 'they differ' if bad else 'the same values'))
if not rows or bad:
    print('FAIL; ipfixDump lines:')
    print('\n'.join(l for l in text.splitlines() if 'udps' in l)[:1500])
    sys.exit(1)
PY

# The published registry (nfprobe-plugin-registry) names them for ipfixDump without the type
# records too; only its names can appear as the registry is the only source of them.
"$BUILDDIR/nfprobe-plugin-registry" "$MODEL_SO:model=$TMP/model" \
    "$BUILDDIR/probe/plugins/splt.so:sequence_length=$N" >"$TMP/registry.xml" || exit 1
ipfixDump -e "$TMP/registry.xml" -i "$TMP/ipfix.bin" -o "$TMP/ipfix_e.txt" 2>"$TMP/ipfixdump.err" ||
    { echo "FAIL: ipfixDump -e:"; cat "$TMP/ipfixdump.err"; exit 1; }
ipfixDump -i "$TMP/ipfix.bin" -o "$TMP/ipfix_none.txt" 2>/dev/null
named=$(grep -c 'udpsModelClass :' "$TMP/ipfix_e.txt")
unnamed=$(grep -c 'udpsModelClass :' "$TMP/ipfix_none.txt")
echo "registry: ipfixDump -e names udpsModelClass in $named records (without it: $unnamed)"
[ "$named" -gt 0 ] && [ "$unnamed" = 0 ] || { echo "FAIL: registry"; exit 1; }

# NetFlow v9: the fixed-length ones (the class NUL-padded), under v9 field ids derived from the
# element ids (tests/plugin_check.py recomputes them from the field names). The sink keeps
# datagram boundaries (v9 has no message length).
PORT=$(free_port udp)
python3 -c 'import signal, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", int(sys.argv[1])))
out = open(sys.argv[2], "wb", buffering=0)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    d = s.recv(65536)
    out.write(struct.pack("!I", len(d)) + d)' "$PORT" "$TMP/v9.bin" &
SINK_PID=$!
PIDS="$PIDS $SINK_PID"
wait_for 100 udp_bound "$PORT" || { echo "FAIL: v9 sink did not bind"; exit 1; }
run -r "$CAPS/$CAP" --plugin "$MODEL_SO:model=$TMP/model" \
    --plugin "$BUILDDIR/probe/plugins/splt.so:sequence_length=$N" \
    -c "v9+udp://127.0.0.1:$PORT" --csv "$TMP/v9.csv"
wait_for 100 udp_idle "$PORT" && wait_for 50 file_stable "$TMP/v9.bin" || true
stop "$SINK_PID"
python3 "$SRCDIR/tests/plugin_check.py" v9 "$TMP/v9.bin" "$TMP/v9.csv" model_class \
    model_probability model_packets splt_ps splt_piat_ms || exit 1
echo PASS
