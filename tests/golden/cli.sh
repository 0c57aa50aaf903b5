#!/bin/sh
# The command line as a user meets it: errors that name the flag or file, the multi-file source,
# --bpf-filter, --max-nflows, --json, --anonymize, the counter summary.
. "$(dirname "$0")/lib.sh"
need_shared
scratch
P="$SHARED/data/nfstream/pcaps"
fails=0
check() { # check NAME COMMAND...: runs a shell condition, reports
    name=$1; shift
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
expect_error() { # expect_error WORD ARGS...: exit 1 and a one-line message naming WORD
    word=$1; shift
    "$NFPROBE" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ $rc -eq 1 ] && grep -q -- "$word" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ]
}

check "unknown flag"          expect_error "unrecognized option" -r "$P/1kxun.pcap" --frobnicate
check "bad number"            expect_error "accounting-mode" -r "$P/1kxun.pcap" --accounting-mode 7
check "negative timeout"      expect_error "idle-timeout" -r "$P/1kxun.pcap" --idle-timeout -1
check "missing file"          expect_error "/nonexistent.pcap" -r /nonexistent.pcap
check "no input"              expect_error "no input" --csv -
check "bad bpf"               expect_error "bpf-filter" -r "$P/1kxun.pcap" --bpf-filter "port nonsense"
check "unwritable csv"        expect_error "/nonexistent/x.csv" -r "$P/1kxun.pcap" --csv /nonexistent/x.csv
check "unknown anonymize col" expect_error "nosuchcolumn" -r "$P/1kxun.pcap" --csv - --anonymize nosuchcolumn

# Two halves of a capture read as one stream equal the whole capture (NFStream MULTIPLE_FILES).
python3 - "$P/instagram.pcap" "$TMP/a.pcap" "$TMP/b.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
hdr, off, recs = data[:24], 24, []
le = data[:4] == b'\xd4\xc3\xb2\xa1'
while off + 16 <= len(data):
    incl = struct.unpack(('<' if le else '>') + 'I', data[off + 8:off + 12])[0]
    recs.append(data[off:off + 16 + incl]); off += 16 + incl
half = len(recs) // 2
open(sys.argv[2], 'wb').write(hdr + b''.join(recs[:half]))
open(sys.argv[3], 'wb').write(hdr + b''.join(recs[half:]))
PY
"$NFPROBE" -r "$P/instagram.pcap" --statistical-analysis --csv "$TMP/whole.csv" 2>/dev/null
"$NFPROBE" -r "$TMP/a.pcap" -r "$TMP/b.pcap" --statistical-analysis --csv "$TMP/parts.csv" 2>/dev/null
check "multi-file = one stream" cmp -s "$TMP/whole.csv" "$TMP/parts.csv"

# Standard input ("-") and a FIFO are read once, from the start: the same flows as the file.
"$NFPROBE" -r - --statistical-analysis --csv "$TMP/stdin.csv" <"$P/instagram.pcap" 2>/dev/null
check "-r - (standard input)" cmp -s "$TMP/whole.csv" "$TMP/stdin.csv"
mkfifo "$TMP/fifo"
cat "$P/instagram.pcap" >"$TMP/fifo" &
timeout 60 "$NFPROBE" -r "$TMP/fifo" --statistical-analysis --csv "$TMP/fifo.csv" 2>/dev/null
check "-r FIFO" cmp -s "$TMP/whole.csv" "$TMP/fifo.csv"
wait

# --bpf-filter: exactly the UDP flows of the unfiltered run (ids and order may differ).
"$NFPROBE" -r "$P/instagram.pcap" --csv "$TMP/all.csv" 2>/dev/null
"$NFPROBE" -r "$P/instagram.pcap" --bpf-filter udp --csv "$TMP/udp.csv" 2>/dev/null
python3 - "$TMP/all.csv" "$TMP/udp_expected.csv" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
cols = lines[0].split(','); p = cols.index('protocol')
open(sys.argv[2], 'w').write('\n'.join([lines[0]] + [l for l in lines[1:] if l.split(',')[p] == '17']) + '\n')
PY
check "bpf-filter udp" python3 "$SHARED/tools/flowdiff.py" "$TMP/udp_expected.csv" "$TMP/udp.csv" \
    --unordered --ignore id --quiet

# --max-nflows N: the first N flows, then stop.
"$NFPROBE" -r "$P/instagram.pcap" --max-nflows 5 --csv "$TMP/max.csv" 2>/dev/null
check "max-nflows" sh -c "head -6 '$TMP/all.csv' | cmp -s - '$TMP/max.csv'"

# --json: one object per flow, same keys and values as the CSV.
"$NFPROBE" -r "$P/instagram.pcap" --statistical-analysis --splt-analysis 5 \
    --csv "$TMP/j.csv" --json "$TMP/j.json" 2>/dev/null
check "json = csv" python3 - "$TMP/j.csv" "$TMP/j.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1]), escapechar='\\', doublequote=False))
objs = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == len(objs) > 0, (len(rows), len(objs))
for r, o in zip(rows, objs):
    assert list(r.keys()) == list(o.keys())
    for k in r:
        v = o[k]
        text = str(v) if not isinstance(v, str) else v
        assert text == r[k], (k, r[k], v)
PY

# --anonymize: the named columns become 128 hex digits, consistent within the run.
"$NFPROBE" -r "$P/instagram.pcap" --anonymize src_ip,dst_ip --csv "$TMP/anon.csv" 2>/dev/null
check "anonymize" python3 - "$TMP/all.csv" "$TMP/anon.csv" <<'PY'
import csv, re, sys
a = list(csv.DictReader(open(sys.argv[1]), escapechar='\\', doublequote=False))
b = list(csv.DictReader(open(sys.argv[2]), escapechar='\\', doublequote=False))
assert len(a) == len(b)
m = {}
for x, y in zip(a, b):
    for k in x:
        if k in ('src_ip', 'dst_ip'):
            assert re.fullmatch('[0-9a-f]{128}', y[k]), y[k]
            assert m.setdefault(x[k], y[k]) == y[k]
        else:
            assert x[k] == y[k]
PY

# The summary names the counters.
"$NFPROBE" -r "$P/dns_fragmented.pcap" --csv /dev/null 2>"$TMP/summary"
check "summary counters" grep -q "packets read .* metered, .* ignored (ipv4_fragment" "$TMP/summary"

# DPI: 100,000 flows alive at once, most still in detection (a single packet never completes
# it): every flow gets a detection state (none left unlabelled), and the summary adds up.
"$MKPCAP" bench "$TMP/many.pcap" --packets 160000 --flows 100000 >/dev/null 2>&1
"$NFPROBE" -r "$TMP/many.pcap" --csv /dev/null 2>"$TMP/dpi_summary"
check "dpi: a state for every flow, summary adds up" python3 - "$TMP/dpi_summary" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
flows = int(re.search(r'(\d+) flows:', t).group(1))
d, g, u = map(int, re.search(r'(\d+) flows detected, (\d+) guessed, (\d+) unlabelled', t).groups())
sys.exit(0 if flows == 100000 and d + g == flows and u == 0 else 1)
PY

# -n checks everything checkable without capturing (issue 16.7); each error is one line
# naming the flag, exit 1.
quiet() { "$@" >/dev/null; }
S="$P/instagram.pcap"
check "-n: bad bpf"            expect_error "bpf-filter" -n -r "$S" --bpf-filter "tcp port 99999"
# ifIndex of an input (ingressInterface): -i IFACE@N, --input-ifindex N for files
check "-n: -i IFACE@N"         quiet "$NFPROBE" -n -i lo@12
check "-n: ifIndex 0 refused"  expect_error "-i lo@0" -n -i lo@0
check "-n: same iface twice"   expect_error "given twice" -n -i lo@1 -i lo@2
check "-n: name too long"      expect_error "longer than 15" -n -i nfprobe-nosuchdev
check "-n: --input-ifindex"    quiet "$NFPROBE" -n -r "$S" --input-ifindex 7
check "--input-ifindex with -i" expect_error "input-ifindex" -n -i lo --input-ifindex 7
check "-n: unknown scheme"     expect_error "ipfix+foo://" -n -r "$S" -c ipfix+foo://127.0.0.1:4739
check "-n: bad port"           expect_error "127.0.0.1:99999" -n -r "$S" -c ipfix+udp://127.0.0.1:99999
check "-n: bpf against the file's link type" expect_error "ethernet addresses" -n \
    -r "$P/BGP_Cisco_hdlc_slarp.pcap" --bpf-filter "ether host 00:11:22:33:44:55"
check "-n: the same bpf on an Ethernet file" quiet "$NFPROBE" -n -r "$S" \
    --bpf-filter "ether host 00:11:22:33:44:55"
check "-n: user@ in a URL"      expect_error "no user@" -n -r "$S" -c ipfix+udp://u@127.0.0.1:4739
check "-n: signed port"        expect_error "bad port" -n -r "$S" -c ipfix+udp://127.0.0.1:+4739
check "-n: query in a URL"     expect_error "?x: unknown option" -n -r "$S" -c ipfix+udp://127.0.0.1:4739?x=1
check "-n: missing TLS CA"     expect_error "--tls-ca /nonexistent.pem" -n -r "$S" \
    -c ipfix+tls://127.0.0.1:4740 --tls-ca /nonexistent.pem
check "-n: missing plugin"     expect_error "--plugin /nonexistent.so" -n -r "$S" --plugin /nonexistent.so
check "-n: missing template"   expect_error "--ipfix-template /nonexistent.tmpl" -n -r "$S" \
    -c ipfix+udp://127.0.0.1:4739 --ipfix-template /nonexistent.tmpl
printf 'sourceIPv4Address\nnoSuchElement\n' >"$TMP/bad.tmpl"
check "-n: template parsed"    expect_error "bad.tmpl:2: 'noSuchElement'" -n -r "$S" \
    -c ipfix+udp://127.0.0.1:4739 --ipfix-template "$TMP/bad.tmpl"
printf '# ok\nsourceIPv4Address\ndestinationIPv4Address\n' >"$TMP/good.tmpl"
check "-n: good template"      "$NFPROBE" -n -r "$S" -c ipfix+udp://127.0.0.1:4739 \
    --ipfix-template "$TMP/good.tmpl"
printf '65001,10.0.0.0/8\nnot a network\n' >"$TMP/bad.lst"
check "-n: networks file parsed" expect_error "bad.lst:2" -n -r "$S" --networks-file "$TMP/bad.lst"
check "-n: unreadable input"   expect_error "/nonexistent.pcap" -n -r /nonexistent.pcap
check "-i twice refused"       expect_error "given twice" -n -i lo -i lo
check "absurd duration"        expect_error "idle-timeout" -n -r "$S" --idle-timeout 100000d
if command -v openssl >/dev/null 2>&1; then
    for k in a b; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
            -subj "/CN=$k" -keyout "$TMP/$k.key" -out "$TMP/$k.crt" >/dev/null 2>&1
    done
    check "-n: TLS key not the certificate's" expect_error "tls" -n -r "$S" \
        -c ipfix+tls://127.0.0.1:4740 --tls-ca "$TMP/a.crt" --tls-cert "$TMP/a.crt" --tls-key "$TMP/b.key"
    check "-n: TLS pair that matches" quiet "$NFPROBE" -n -r "$S" -c ipfix+tls://127.0.0.1:4740 \
        --tls-ca "$TMP/a.crt" --tls-cert "$TMP/a.crt" --tls-key "$TMP/a.key"
fi
check "-n: a valid configuration" quiet "$NFPROBE" -n -r "$S" -c ipfix+udp://127.0.0.1:4739 --bpf-filter udp

# Messages say things once (16.6): the path, the device error.
"$NFPROBE" -r /nonexistent.pcap 2>"$TMP/err"
check "missing file named once" [ "$(grep -o /nonexistent.pcap "$TMP/err" | wc -l)" -eq 1 ]
if [ "$(id -u)" -eq 0 ]; then
    "$NFPROBE" -i nfp-nosuchdev --csv /dev/null 2>"$TMP/err"
    check "missing device: one reason" [ "$(grep -o "No such device" "$TMP/err" | wc -l)" -eq 1 ]
fi

# Exit status (README): 1 unreadable input, even when nothing at all could be read
# (/dev/null as an empty file); 2 input cut after some packets.
: >"$TMP/empty.pcap"
"$NFPROBE" -r /dev/null --csv /dev/null 2>/dev/null; rc_null=$?
"$NFPROBE" -r "$TMP/empty.pcap" --csv /dev/null 2>/dev/null; rc_empty=$?
head -c 3000 "$S" >"$TMP/cut.pcap"
"$NFPROBE" -r "$TMP/cut.pcap" --csv /dev/null 2>/dev/null; rc_cut=$?
check "exit 1 for /dev/null ($rc_null) and an empty file ($rc_empty), 2 for a cut one ($rc_cut)" \
    [ "$rc_null" -eq 1 ] && [ "$rc_empty" -eq 1 ] && [ "$rc_cut" -eq 2 ]

# Standard output carries flows only when asked, or when there is no other output (16.4).
"$NFPROBE" -r "$S" -c ipfix+udp://127.0.0.1:9 >"$TMP/stdout" 2>/dev/null
check "with -c: nothing on stdout" [ ! -s "$TMP/stdout" ]
"$NFPROBE" -r "$S" -c ipfix+udp://127.0.0.1:9 --csv - >"$TMP/stdout" 2>/dev/null
check "with -c and --csv -: CSV on stdout" cmp -s "$TMP/stdout" "$TMP/all.csv"
"$NFPROBE" -r "$S" >"$TMP/stdout" 2>/dev/null
check "no output given: CSV on stdout" cmp -s "$TMP/stdout" "$TMP/all.csv"
NOTIFY_SOCKET=/nonexistent "$NFPROBE" -r "$S" >"$TMP/stdout" 2>"$TMP/err"; rc=$?
check "as a service with no output: refused, stdout empty" [ $rc -eq 1 ] && [ ! -s "$TMP/stdout" ] && \
    grep -q "no output" "$TMP/err"

# --pid-file never replaces a file that is not a stale pid file (17.4).
printf 'root:x:0:0:keep me\n' >"$TMP/not-a-pid"
"$NFPROBE" -r "$S" --csv /dev/null --pid-file "$TMP/not-a-pid" 2>"$TMP/err"; rc=$?
check "--pid-file: another file refused, untouched" [ $rc -eq 1 ] && \
    grep -q "holds no process id" "$TMP/err" && [ "$(cat "$TMP/not-a-pid")" = "root:x:0:0:keep me" ]
printf '999999999\n' >"$TMP/stale.pid"
"$NFPROBE" -r "$S" --csv /dev/null --pid-file "$TMP/stale.pid" 2>/dev/null; rc=$?
check "--pid-file: a stale pid file is replaced, then removed" [ $rc -eq 0 ] && [ ! -e "$TMP/stale.pid" ]
# Signals never change what is read: SIGUSR1 and SIGHUP while nfprobe reads a FIFO slowly
# (they are events of the output loop, blocked in every thread). SIGUSR1 prints the counters
# offline too.
mkfifo "$TMP/slow.fifo"
"$NFPROBE" -r "$TMP/slow.fifo" --csv "$TMP/slow.csv" 2>"$TMP/slow.log" &
slow_pid=$!
# blocked PID: SIGHUP and SIGUSR1 are blocked there (the loop reads them; before that they
# would kill it, as any program that has not set them up yet).
blocked() {
    m=$(awk '/^SigBlk:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
    [ -n "$m" ] && [ $((0x$m & 0x201)) = $((0x201)) ]
}
i=0
while ! blocked $slow_pid && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
python3 - "$P/instagram.pcap" "$TMP/slow.fifo" <<'PY' &
import sys, time
data = open(sys.argv[1], 'rb').read()
with open(sys.argv[2], 'wb') as f:
    for i in range(0, len(data), 32768):
        f.write(data[i:i + 32768]); f.flush(); time.sleep(0.01)
PY
feed_pid=$!
for i in 1 2 3 4 5 6 7 8; do
    sleep 0.1; kill -USR1 $slow_pid 2>/dev/null; kill -HUP $slow_pid 2>/dev/null
done
wait $feed_pid
wait $slow_pid
slow_rc=$?
check "signals do not cut a FIFO read" sh -c "[ $slow_rc = 0 ] && cmp -s '$TMP/all.csv' '$TMP/slow.csv'"
check "SIGUSR1 prints the counters offline" \
    sh -c "[ \$(grep -c 'packets read' '$TMP/slow.log') -ge 2 ]"

# Offline progress: on a terminal a progress line on stderr; never when stderr is not one
# (unless --progress); --no-progress turns it off on a terminal.
"$NFPROBE" -r "$TMP/many.pcap" --csv /dev/null 2>"$TMP/noprog.log"
check "no progress when stderr is not a terminal" sh -c "! grep -q 'packets/s' '$TMP/noprog.log'"
"$NFPROBE" -r "$TMP/many.pcap" --csv /dev/null --progress 2>"$TMP/prog.log"
check "--progress forces the progress line" \
    grep -Eq 'many.pcap +[0-9.]+%, [0-9]+ packets/s, [0-9]+ flows active, [0-9]+ exported' \
    "$TMP/prog.log"
check "the progress line is erased before the summary" grep -q "$(printf '\r\033')\[Knfprobe: 160000 packets read" "$TMP/prog.log"
if command -v script >/dev/null 2>&1; then
    script -qc "'$NFPROBE' -r '$TMP/many.pcap' --csv /dev/null" "$TMP/tty.log" >/dev/null 2>&1
    check "progress line on a terminal" grep -q 'packets/s' "$TMP/tty.log"
    script -qc "'$NFPROBE' -r '$TMP/many.pcap' --csv /dev/null --no-progress" \
        "$TMP/notty.log" >/dev/null 2>&1
    check "--no-progress on a terminal" sh -c "! grep -q 'packets/s' '$TMP/notty.log'"
fi

# --stats-interval works offline: counters printed while reading a slow FIFO.
"$NFPROBE" -r "$TMP/slow.fifo" --csv /dev/null --stats-interval 1 2>"$TMP/stats.log" &
slow_pid=$!
python3 - "$P/instagram.pcap" "$TMP/slow.fifo" <<'PY'
import sys, time
data = open(sys.argv[1], 'rb').read()
with open(sys.argv[2], 'wb') as f:
    for i in range(0, len(data), 65536):
        f.write(data[i:i + 65536]); f.flush(); time.sleep(0.05)
PY
wait $slow_pid
check "--stats-interval offline" sh -c "[ \$(grep -c 'packets read' '$TMP/stats.log') -ge 2 ]"

echo "cli: $fails failed"
[ $fails -eq 0 ]
