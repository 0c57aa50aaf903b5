#!/bin/sh
# Collector test: flows onto Kafka (-c kafka://), against a real Kafka wire-protocol endpoint:
# librdkafka's mock cluster (tools/kafka_mock: 3 brokers on 127.0.0.1, 4 partitions per topic),
# read back with kcat.
#   1. delivery: every flow of a capture arrives exactly once and equals the --json output of
#      the same run; the headers carry the observation domain and the version; keys (a hash of
#      the source address) spread over partitions, one partition per key, and per key the
#      flows keep nfprobe's order;
#   2. outages: brokers down at start (the run ends in bounded time, exit 4, drops and failures
#      counted); brokers down mid-run then up again (delivery resumes, nothing lost or
#      doubled); SIGTERM mid-run with the brokers down: exactly the flows the summary counts as
#      delivered are in the topic;
#   3. bad URLs and unknown librdkafka properties: one line naming the flag, exit 1;
#   4. format=ipfix: batches of flows as IPFIX, each value decoded alone by ipfixDump
#      (libfixbuf-tools) and by tools/ipfix2csv, equal to the --csv output of the same run;
#      all in the observation domain's partition, sequence numbers running on; a batch leaves
#      after 1 s while the input waits.
. "$(dirname "$0")/../tests/golden/lib.sh"
. "$(dirname "$0")/ipfix_lib.sh"

KAFKA_MOCK=${KAFKA_MOCK:-$BUILDDIR/tools/kafka_mock}
command -v kcat >/dev/null 2>&1 || skip "kcat not installed"
command -v editcap >/dev/null 2>&1 || skip "editcap (wireshark-common) not installed"
[ -x "$KAFKA_MOCK" ] || { echo "FAIL: $KAFKA_MOCK not built"; exit 1; }
need_nfprobe
scratch
trap ipfix_cleanup EXIT

# Captures: A has 2000 flows; B and C are A's first packets shifted by 1000 s and 2000 s, so
# that with a 10 s idle timeout each segment's first packet expires the previous one's flows.
"$MKPCAP" bench "$TMP/a.pcap" --packets 20000 --flows 2000 >/dev/null 2>&1 || exit 1
editcap -r "$TMP/a.pcap" "$TMP/s.pcap" 1-3000 >/dev/null || exit 1
editcap -t 1000 "$TMP/s.pcap" "$TMP/b.pcap" >/dev/null || exit 1
editcap -t 2000 "$TMP/s.pcap" "$TMP/c.pcap" >/dev/null || exit 1

"$KAFKA_MOCK" -t flows -t down -t outage -t sigterm -t ipfix >"$TMP/mock.out" 2>"$TMP/mock.err" &
MOCK=$!
PIDS="$PIDS $MOCK"
has_line() { [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "${3:-1}" ]; }
wait_for 100 has_line "$TMP/mock.out" 127.0.0.1 || { echo "FAIL: mock cluster did not start"; exit 1; }
BROKERS=$(head -1 "$TMP/mock.out")
echo "mock cluster: $BROKERS"

# consume TOPIC OUT: the topic from the start to its end, "partition<TAB>key<TAB>headers<TAB>value".
consume() {
    timeout 30 kcat -C -b "$BROKERS" -t "$1" -o beginning -e -q -f '%p\t%k\t%h\t%s\n' >"$2"
}
count_in() { consume "$1" "$TMP/count.$1"; [ "$(wc -l <"$TMP/count.$1")" -ge "$2" ]; }

# check KCAT_FILE JSON_FILE [DELIVERED]: the consumed values equal the JSON lines (exactly
# once each), or with DELIVERED, that many values, each one a distinct line of JSON_FILE.
check() {
    python3 - "$@" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t", 3) for l in open(sys.argv[1])]
want = [json.loads(l) for l in open(sys.argv[2])]
vals = [json.loads(r[3]) for r in rows]
err = []
ids = [v["id"] for v in vals]
if len(ids) != len(set(ids)):
    err.append("duplicates: %d values, %d distinct ids" % (len(ids), len(set(ids))))
key = lambda v: json.dumps(v, sort_keys=True)
got_s, want_s = sorted(map(key, vals)), sorted(map(key, want))
if len(sys.argv) > 3:
    n = int(sys.argv[3])
    if len(vals) != n:
        err.append("%d values in the topic, the summary says %d delivered" % (len(vals), n))
    if not set(got_s) <= set(want_s):
        err.append("values that are not in the --json output")
elif got_s != want_s:
    err.append("values differ from --json: %d consumed, %d in --json, %d in common"
               % (len(got_s), len(want_s), len(set(got_s) & set(want_s))))
parts, by_key, by_src = {}, {}, {}
for (p, k, h, _), v in zip(rows, vals):
    parts.setdefault(k, set()).add(p)
    by_key.setdefault((p, k), []).append(v["id"])
    by_src.setdefault(v["src_ip"], set()).add(k)
if any(len(s) != 1 for s in parts.values()):
    err.append("a key in several partitions")
if any(ids != sorted(ids) for ids in by_key.values()):
    err.append("per-key order not kept")
if any(len(s) != 1 for s in by_src.values()):
    err.append("one source address with several keys")
if len(set(parts)) < len(by_src):
    err.append("%d keys for %d source addresses" % (len(set(parts)), len(by_src)))
print("%d values, %d keys, partitions %s" % (len(vals), len(parts),
      sorted({p for s in parts.values() for p in s})))
if err:
    print("; ".join(err)); sys.exit(1)
PY
}

# summary_num LOG FIELD: from the kafka summary line, FIELD 1 delivered, 2 not delivered,
# 3 failed, 4 dropped.
summary_num() {
    sed -En "s/^nfprobe: kafka .*: ([0-9]+) delivered, ([0-9]+) not delivered \(([0-9]+) failed, ([0-9]+) dropped.*/\\$2/p" "$1"
}

# ---- 1. delivery
rc=0
"$NFPROBE" -r "$TMP/a.pcap" --observation-domain 7 --json "$TMP/1.json" \
    -c "kafka://$BROKERS/flows" 2>"$TMP/1.err" || rc=$?
n=$(wc -l <"$TMP/1.json")
if [ "$rc" -eq 0 ] && grep -q "kafka kafka://.*/flows: $n delivered, 0 not delivered" "$TMP/1.err"
then pass "delivery: exit 0, summary '$n delivered, 0 not delivered'"
else fail "delivery: exit $rc: $(grep "^nfprobe: kafka" "$TMP/1.err")"; fi
consume flows "$TMP/1.kc"
if out=$(check "$TMP/1.kc" "$TMP/1.json"); then pass "delivery: $out, equal to --json"
else fail "delivery: $out"; fi
if [ "$(cut -f3 "$TMP/1.kc" | sort -u)" = "observation_domain=7,nfprobe_version=$("$NFPROBE" -V | cut -d' ' -f2)" ]
then pass "headers: observation_domain and nfprobe_version"
else fail "headers: $(cut -f3 "$TMP/1.kc" | sort -u | head -3)"; fi
if [ "$(cut -f1 "$TMP/1.kc" | sort -u | wc -l)" -eq 4 ]; then pass "keys spread over 4 partitions"
else fail "partitions used: $(cut -f1 "$TMP/1.kc" | sort -u | tr '\n' ' ')"; fi

# ---- 4. format=ipfix (here, before the outages): message.max.bytes=250000 makes batches of
# about 115 kB, so that the capture takes several messages.
rc=0
"$NFPROBE" -r "$TMP/a.pcap" --statistical-analysis --observation-domain 9 --csv "$TMP/4.csv" \
    -c "kafka://$BROKERS/ipfix?format=ipfix&message.max.bytes=250000" 2>"$TMP/4.err" || rc=$?
n=$(($(wc -l <"$TMP/4.csv") - 1))
if [ "$rc" -eq 0 ] &&
    grep -q "kafka kafka://.*/ipfix?.*: $n delivered, 0 not delivered" "$TMP/4.err"
then pass "ipfix: exit 0, summary '$n delivered, 0 not delivered' (counted in flows)"
else fail "ipfix: exit $rc: $(grep "^nfprobe: kafka" "$TMP/4.err")"; fi
timeout 30 kcat -C -b "$BROKERS" -t ipfix -o beginning -e -q -f '%p\t%k\t%h\n' >"$TMP/4.meta"
# %R: the value's length, 32 bits big endian, then the value: split into one file per message.
timeout 30 kcat -C -b "$BROKERS" -t ipfix -o beginning -e -q -f '%R%s' >"$TMP/4.raw"
msgs=$(python3 - "$TMP/4.raw" "$TMP/4.msg" <<'PY'
import struct, sys
d, i, n = open(sys.argv[1], "rb").read(), 0, 0
while i + 4 <= len(d):
    (l,) = struct.unpack(">i", d[i:i + 4])
    n += 1
    open("%s.%d" % (sys.argv[2], n), "wb").write(d[i + 4:i + 4 + l])
    i += 4 + l
print(n)
PY
)
if [ "$msgs" -ge 3 ] && [ "$(wc -l <"$TMP/4.meta")" -eq "$msgs" ] &&
    [ "$(cut -f1,2,3 "$TMP/4.meta" | sort -u | wc -l)" -eq 1 ] &&
    [ "$(cut -f2,3 "$TMP/4.meta" | sort -u)" = "$(printf '9\tobservation_domain=9,nfprobe_version=%s' \
        "$("$NFPROBE" -V | cut -d' ' -f2)")" ]
then pass "ipfix: $msgs messages, one partition, key and header the observation domain"
else fail "ipfix: $msgs messages; partition, key, headers: $(sort -u "$TMP/4.meta" | head -3)"; fi
# Each message alone: ipfixDump (libfixbuf-tools) decodes templates then data records, and its
# flow records (templates 256 IPv4, 257 IPv6) have the flowIds ipfix2csv finds in the message.
total=0 bad=
i=1
while [ "$i" -le "$msgs" ]; do
    f="$TMP/4.msg.$i"
    ipfixDump --rfc5610 --in "$f" >"$f.dump" 2>&1 || bad="$bad $i(ipfixDump)"
    awk '/^\tcount: .*tid: +25[67] / { flow = 1 } /^--- / { flow = 0 }
         flow && /\) +flowId : / { print $NF }' "$f.dump" | sort -n >"$f.ids"
    "$IPFIX2CSV" --statistical-analysis --l7 "$f" >"$f.csv" 2>"$f.dec" || bad="$bad $i(ipfix2csv)"
    tail -n +2 "$f.csv" | cut -d, -f1 | sort -n >"$f.csv.ids"
    [ -s "$f.ids" ] && cmp -s "$f.ids" "$f.csv.ids" || bad="$bad $i(flowIds differ)"
    grep -q " 0 sequence errors" "$f.dec" || bad="$bad $i($(tail -1 "$f.dec"))"
    total=$((total + $(wc -l <"$f.ids")))
    i=$((i + 1))
done
if [ -z "$bad" ] && [ "$total" -eq "$n" ]
then pass "ipfix: every message decodes alone (ipfixDump, ipfix2csv): $total flows in all"
else fail "ipfix: messages$bad; $total flows decoded, $n in --csv"; fi
# The messages in order are one IPFIX stream: sequence numbers run on, the flows equal --csv.
i=1; : >"$TMP/4.all"
while [ "$i" -le "$msgs" ]; do cat "$TMP/4.msg.$i" >>"$TMP/4.all"; i=$((i + 1)); done
"$IPFIX2CSV" --statistical-analysis --l7 "$TMP/4.all" >"$TMP/4.rt.csv" 2>"$TMP/4.dec"
if ! grep -q " 0 sequence errors" "$TMP/4.dec"; then fail "ipfix: $(tail -1 "$TMP/4.dec")"
elif ! csv_equal "$TMP/4.csv" "$TMP/4.rt.csv" ipfix; then fail "ipfix: flows differ from --csv"
elif ! cmp -s "$TMP/4.csv" "$TMP/4.rt.csv"; then fail "ipfix: same values, other row order"
else pass "ipfix: the decoded flows equal --csv, in order, 0 sequence errors"; fi

# ---- 4b. format=ipfix: a batch also leaves once its first flow is 1 s old (not only when full
# or at the end): B's first packet expires A's flows, then the input (a FIFO) waits.
rm -f "$TMP/fifo4"; mkfifo "$TMP/fifo4"
rc=0
"$NFPROBE" -r "$TMP/a.pcap" -r "$TMP/b.pcap" -r "$TMP/fifo4" --idle-timeout 10 --csv "$TMP/4b.csv" \
    -c "kafka://$BROKERS/ipfix?format=ipfix" 2>"$TMP/4b.err" &
PROBE=$!
PIDS="$PIDS $PROBE"
exec 3>"$TMP/fifo4" # held open: nfprobe waits on its third input
msgs_more() {
    [ "$(timeout 30 kcat -C -b "$BROKERS" -t ipfix -o beginning -e -q -f '%o\n' | wc -l)" -gt "$1" ]
}
if wait_for 100 msgs_more "$msgs" && kill -0 "$PROBE" 2>/dev/null
then pass "ipfix: a batch left after 1 s while the input waited"
else fail "ipfix: no batch in 10 s while the input waited"; fi
cat "$TMP/c.pcap" >&3
exec 3>&-
wait "$PROBE" || rc=$?
n=$(($(wc -l <"$TMP/4b.csv") - 1))
if [ "$rc" -eq 0 ] &&
    grep -q "kafka kafka://.*/ipfix?format=ipfix: $n delivered, 0 not delivered" "$TMP/4b.err"
then pass "ipfix: the rest at the end: exit 0, $n delivered"
else fail "ipfix, by time: exit $rc: $(grep "^nfprobe: kafka" "$TMP/4b.err")"; fi

# ---- 2a. brokers down at start, a small local queue: no blocking, drops and failures counted
kill -USR1 "$MOCK"
wait_for 50 has_line "$TMP/mock.out" '^down$' || fail "mock cluster did not go down"
rc=0
start=$(date +%s)
"$NFPROBE" -r "$TMP/a.pcap" --json "$TMP/2a.json" \
    -c "kafka://$BROKERS/down?queue.buffering.max.messages=300" \
    --kafka-option message.timeout.ms=1000 2>"$TMP/2a.err" || rc=$?
took=$(($(date +%s) - start))
n=$(wc -l <"$TMP/2a.json")
del=$(summary_num "$TMP/2a.err" 1)
nd=$(summary_num "$TMP/2a.err" 2)
dropped=$(summary_num "$TMP/2a.err" 4)
failed=$(summary_num "$TMP/2a.err" 3)
if [ "$rc" -eq 4 ] && [ "$took" -le 15 ] && [ "${del:-x}" = 0 ] && [ "${nd:-x}" = "$n" ] &&
    [ "${dropped:-0}" -gt 0 ] && [ "${failed:-0}" -gt 0 ]
then pass "brokers down at start: exit 4 after ${took}s, $nd not delivered ($failed failed, $dropped dropped)"
else fail "brokers down at start: exit $rc after ${took}s: $(grep "^nfprobe: kafka" "$TMP/2a.err")"; fi
kill -USR2 "$MOCK"
wait_for 50 has_line "$TMP/mock.out" '^up$' || fail "mock cluster did not come up"

# ---- 2b. brokers go down mid-run and come back: delivery resumes, nothing lost or doubled
mkfifo "$TMP/fifo"
rc=0
"$NFPROBE" -r "$TMP/a.pcap" -r "$TMP/b.pcap" -r "$TMP/fifo" --idle-timeout 10 \
    --json "$TMP/2b.json" -c "kafka://$BROKERS/outage?compression=zstd" \
    --kafka-option reconnect.backoff.max.ms=500 2>"$TMP/2b.err" &
PROBE=$!
PIDS="$PIDS $PROBE"
# A's flows leave when B's first packet is read: wait until they are in the topic.
na=$(grep -c . "$TMP/1.json")
wait_for 200 count_in outage "$na" || fail "mid-run: A's $na flows did not arrive before the outage"
kill -USR1 "$MOCK"
wait_for 50 has_line "$TMP/mock.out" '^down$' 2 || fail "mock cluster did not go down"
# C expires B's flows, and the end of input flushes C's: all while the brokers are down.
cat "$TMP/c.pcap" >"$TMP/fifo"
sleep 1
kill -USR2 "$MOCK"
wait_for 50 has_line "$TMP/mock.out" '^up$' 2 || fail "mock cluster did not come up"
wait "$PROBE" || rc=$?
n=$(wc -l <"$TMP/2b.json")
if [ "$rc" -eq 0 ] && grep -q "^nfprobe: kafka .*/outage?compression=zstd: $n delivered, 0 not delivered" "$TMP/2b.err"
then pass "down mid-run, back up: exit 0, $n delivered, 0 not delivered"
else fail "down mid-run, back up: exit $rc: $(grep "^nfprobe: kafka" "$TMP/2b.err")"; fi
consume outage "$TMP/2b.kc"
if out=$(check "$TMP/2b.kc" "$TMP/2b.json"); then pass "down mid-run, back up: $out, equal to --json"
else fail "down mid-run, back up: $out"; fi

# ---- 2c. SIGTERM mid-run, brokers down: what the summary calls delivered is what is in Kafka
rm -f "$TMP/fifo"; mkfifo "$TMP/fifo"
rc=0
"$NFPROBE" -r "$TMP/a.pcap" -r "$TMP/b.pcap" -r "$TMP/fifo" --idle-timeout 10 \
    --json "$TMP/2c.json" -c "kafka://$BROKERS/sigterm" \
    --kafka-option message.timeout.ms=1000 2>"$TMP/2c.err" &
PROBE=$!
PIDS="$PIDS $PROBE"
wait_for 200 count_in sigterm "$na" || fail "SIGTERM: A's $na flows did not arrive"
kill -USR1 "$MOCK"
wait_for 50 has_line "$TMP/mock.out" '^down$' 3 || fail "mock cluster did not go down"
kill -TERM "$PROBE"
wait "$PROBE" || rc=$?
kill -USR2 "$MOCK"
wait_for 50 has_line "$TMP/mock.out" '^up$' 3 || fail "mock cluster did not come up"
del=$(summary_num "$TMP/2c.err" 1)
nd=$(summary_num "$TMP/2c.err" 2)
n=$(wc -l <"$TMP/2c.json")
consume sigterm "$TMP/2c.kc"
out=
if [ "$rc" -ne 0 ] && [ "${del:-0}" -ge "$na" ] && [ "${nd:-0}" -gt 0 ] &&
    [ $((del + nd)) -eq "$n" ] && out=$(check "$TMP/2c.kc" "$TMP/2c.json" "$del")
then pass "SIGTERM mid-run: exit $rc, $del delivered (all in the topic, once), $nd not delivered"
else fail "SIGTERM mid-run: exit $rc: $(grep "^nfprobe: kafka" "$TMP/2c.err"); ${out:-}"; fi

# ---- 3. bad URLs and properties: one line naming the flag, exit 1
bad_case() { # WHAT EXPECT-IN-MESSAGE ARGS...
    what=$1 expect=$2; shift 2
    rc=0
    "$NFPROBE" -r "$TMP/a.pcap" --csv /dev/null "$@" >"$TMP/3.out" 2>"$TMP/3.err" || rc=$?
    if [ "$rc" -eq 1 ] && [ "$(wc -l <"$TMP/3.err")" -eq 1 ] && grep -qF -- "$expect" "$TMP/3.err"
    then pass "$what: $(cat "$TMP/3.err")"
    else fail "$what: exit $rc: $(cat "$TMP/3.err")"; fi
}
bad_case "no topic" "-c kafka://127.0.0.1:9092: no /TOPIC" -c kafka://127.0.0.1:9092
bad_case "no broker" "-c kafka:///flows: no broker" -c kafka:///flows
bad_case "bad port" "bad broker '127.0.0.1:99999'" -c kafka://127.0.0.1:99999/flows
bad_case "bad topic" "a topic has only" -c "kafka://127.0.0.1/fl ows"
bad_case "bad format" "format must be json" -c "kafka://127.0.0.1/flows?format=xml"
bad_case "query not K=V" "'linger' in the query is not KEY=VALUE" -c "kafka://127.0.0.1/flows?linger"
bad_case "unknown property in the URL" 'No such configuration property: "linger.mss"' \
    -c "kafka://127.0.0.1/flows?linger.mss=5"
bad_case "unknown --kafka-option" '--kafka-option foo.bar=1: No such configuration property: "foo.bar"' \
    -c kafka://127.0.0.1/flows --kafka-option foo.bar=1
bad_case "bad --kafka-option value" '--kafka-option compression.codec=rar: Invalid value "rar"' \
    -c kafka://127.0.0.1/flows --kafka-option compression.codec=rar
bad_case "--kafka-option without =" "--kafka-option 'acks': expected PROPERTY=VALUE" \
    -c kafka://127.0.0.1/flows --kafka-option acks
bad_case "--kafka-option without a Kafka collector" "--kafka-option: applies to Kafka collectors" \
    --kafka-option acks=1
printf 'collector = kafka://127.0.0.1/flows\nkafka-option = bogus.property=1\n' >"$TMP/bad.conf"
bad_case "config-file kafka-option" '--kafka-option bogus.property=1: No such configuration property' \
    -C "$TMP/bad.conf"
rc=0
"$NFPROBE" -n -r "$TMP/a.pcap" -c kafka://127.0.0.1/flows --kafka-option foo=1 >/dev/null \
    2>"$TMP/3.err" || rc=$?
if [ "$rc" -eq 1 ] && grep -qF -- "--kafka-option foo=1" "$TMP/3.err"; then pass "-n checks --kafka-option"
else fail "-n: exit $rc: $(cat "$TMP/3.err")"; fi
rc=0
"$NFPROBE" -n -r "$TMP/a.pcap" -c "kafka://127.0.0.1,[::1]:9093/flows?compression=zstd" \
    --kafka-option linger.ms=100 >"$TMP/3.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -qx "kafka-option = linger.ms=100" "$TMP/3.out"
then pass "-n accepts a good configuration and prints kafka-option"
else fail "-n good configuration: exit $rc: $(cat "$TMP/3.out")"; fi

exit $FAILED
