#!/bin/sh
# metrics.sh - the Prometheus endpoint of a running nfprobe (--metrics), scraped over loopback.
#
# nfprobe captures live on one end of a veth pair whose other end sits in a network namespace
# this test creates (root only; nothing else is on that link: no addresses, IPv6 off). The
# bundled sample capture is replayed into it with tcpreplay, so the packet counter must reach
# exactly its number of records. Checks: before traffic the counter is 0; 200 with the
# exposition content type and a strictly valid text (one HELP/TYPE per family, before its
# samples, every sample parsable, counters end in _total, Content-Length right); the counter
# equals the packets replayed; nDPI's packets fed equal the exit summary's; 404 for another path;
# SIGTERM gives exit 0; the port is closed afterwards.
#
# Needs from nfprobe: -i, --metrics HOST:PORT, and the counter $PKT_METRIC (default
# nfprobe_packets_total: packets captured, summed over workers) labelled with the interface
# (interface="VETH"). Every answer also passes `promtool check metrics` when promtool exists.
# Skips (77) without --metrics, root, ip, tcpreplay or python3.
. "$(dirname "$0")/lib.sh"

PKT_METRIC=${PKT_METRIC:-nfprobe_packets_total}

[ -x "$NFPROBE" ] || skip "nfprobe not built at $NFPROBE"
"$NFPROBE" --help 2>&1 | grep -q -- '--metrics' || skip "this nfprobe has no --metrics option"
[ "$(id -u)" -eq 0 ] || skip "needs root for a network namespace"
command -v ip >/dev/null 2>&1 || skip "iproute2 not installed"
command -v tcpreplay >/dev/null 2>&1 || skip "tcpreplay not installed"
command -v python3 >/dev/null 2>&1 || skip "python3 not found"
[ -x "$MKPCAP" ] || skip "mkpcap not built at $MKPCAP"

collector_scratch
NS=nfmt$$
VETH=nfm$$
VPEER=nfn$$
PID=
cleanup_all() {
    if [ -n "$PID" ]; then kill -KILL "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
    ip link del "$VETH" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    cleanup
}
trap cleanup_all EXIT
ip netns add "$NS" || skip "cannot create a network namespace here"
ip link add "$VETH" type veth peer name "$VPEER" || skip "cannot create a veth pair"
ip link set "$VPEER" netns "$NS"
sysctl -qw "net.ipv6.conf.$VETH.disable_ipv6=1" 2>/dev/null
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$VPEER.disable_ipv6=1" 2>/dev/null
ip link set "$VETH" mtu 9000 up
ip netns exec "$NS" ip link set "$VPEER" mtu 9000 up

"$MKPCAP" sample "$TMP/sample.pcap" >/dev/null || { echo "FAIL mkpcap sample"; exit 1; }
N=$(python3 - "$TMP/sample.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
e = '<' if d[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
off, n = 24, 0
while off + 16 <= len(d):
    off += 16 + struct.unpack(e + 'I', d[off + 8:off + 12])[0]; n += 1
print(n)
PY
)

# scrape.py PORT PATH WANT PID SECONDS: polls until WANT holds (a value of the packet counter
# on /metrics, or an HTTP status for another path), validating every /metrics answer.
# Exit 0 when it holds, 1 on an invalid answer or at the deadline, 2 when nfprobe is gone.
cat >"$TMP/scrape.py" <<'PY'
import http.client, os, re, shutil, subprocess, sys, time
promtool = shutil.which('promtool')
port, path, want, pid = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
secs = float(sys.argv[5])
metric = os.environ['PKT_METRIC']
name_re = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
label_re = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r'^(%s)(?:\{(%s(?:,%s)*)?\})? (\S+)$' % (name_re, label_re, label_re))

def alive():
    try:
        return open('/proc/%s/stat' % pid).read().split(') ')[1][0] != 'Z'
    except OSError:
        return False

def fail(msg):
    print(msg); sys.exit(1)

def validate(r, body):
    ctype = r.getheader('Content-Type', '')
    if r.status != 200 or not ctype.startswith('text/plain; version=0.0.4'):
        fail('bad response %d %r' % (r.status, ctype))
    if int(r.getheader('Content-Length', '-1')) != len(body):
        fail('Content-Length %s, body %d bytes' % (r.getheader('Content-Length'), len(body)))
    text = body.decode('utf-8')
    if not text.endswith('\n'):
        fail('text does not end in a newline')
    helped, typed, sampled, value = set(), {}, set(), None
    for n, line in enumerate(text.split('\n')[:-1], 1):
        if line.startswith('# HELP '):
            name = line.split(' ')[2]
            if name in helped or name in sampled:
                fail('line %d: HELP for %s repeated or after its samples' % (n, name))
            helped.add(name)
        elif line.startswith('# TYPE '):
            parts = line.split(' ')
            if len(parts) != 4: fail('line %d: %r' % (n, line))
            name, kind = parts[2], parts[3]
            if name in typed or name in sampled:
                fail('line %d: TYPE for %s repeated or after its samples' % (n, name))
            if kind not in ('counter', 'gauge', 'histogram', 'summary', 'untyped'):
                fail('line %d: type %s' % (n, kind))
            if kind == 'counter' and not name.endswith('_total'):
                fail('line %d: counter %s does not end in _total' % (n, name))
            typed[name] = kind
        elif line.startswith('#'):
            continue
        else:
            m = sample.match(line)
            if not m: fail('line %d unparsable: %r' % (n, line))
            name, v = m.group(1), m.group(3)
            try:
                x = float(v)
            except ValueError:
                fail('line %d: value %r' % (n, v))
            if name not in typed: fail('line %d: %s has no TYPE' % (n, name))
            if typed[name] == 'counter' and not x >= 0: fail('line %d: counter %r' % (n, v))
            sampled.add(name)
            if name == metric and m.group(2) == 'interface="%s"' % os.environ['VETH']:
                value = v
    if value is None: fail('no sample of %s{interface="%s"}' % (metric, os.environ['VETH']))
    if promtool:
        r = subprocess.run([promtool, 'check', 'metrics'], input=body, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0: fail('promtool: %s' % r.stdout.decode().strip())
    return value

deadline, last = time.monotonic() + secs, 'nothing'
while time.monotonic() < deadline:
    if not alive():
        print('nfprobe exited (last: %s)' % last); sys.exit(2)
    try:
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
        c.request('GET', path)
        r = c.getresponse()
        body = r.read()
        c.close()
    except OSError as e:
        last = str(e)
        time.sleep(0.05)
        continue
    last = validate(r, body) if path == '/metrics' else str(r.status)
    if last == want:
        print(last); sys.exit(0)
    time.sleep(0.05)
print('got %s, want %s' % (last, want)); sys.exit(1)
PY
export PKT_METRIC VETH
scrape() { python3 "$TMP/scrape.py" "$PORT" "$1" "$2" "$PID" "$3"; }

fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# A free port; another one if it was taken meanwhile.
for _ in 1 2 3 4 5; do
    PORT=$(free_port tcp)
    # --sampling 1: the sampler's families are on /metrics (and checked), no packet is lost
    "$NFPROBE" -i "$VETH" --metrics "127.0.0.1:$PORT" --sampling 1 \
        --csv "$TMP/flows.csv" 2>"$TMP/stderr" &
    PID=$!
    res=$(scrape /metrics 0 15); rc=$?
    [ $rc -ne 2 ] && break
    wait "$PID" 2>/dev/null
    PID=
    grep -q "Address already in use" "$TMP/stderr" || break
done
if [ "$rc" -ne 0 ]; then
    echo "FAIL endpoint up with $PKT_METRIC 0 before traffic: $res"
    sed 's/^/  nfprobe: /' "$TMP/stderr"
    exit 1
fi
ok "endpoint up on 127.0.0.1:$PORT, valid text, $PKT_METRIC 0 before traffic"

ip netns exec "$NS" tcpreplay -q --pps 2000 -i "$VPEER" "$TMP/sample.pcap" >/dev/null 2>&1 ||
    bad "tcpreplay"
if res=$(scrape /metrics "$N" 15); then ok "$PKT_METRIC $res = packets replayed"
else bad "$PKT_METRIC after replaying $N packets: $res"; fi

# nDPI's counter, read now that every packet is in: nDPI is fed nothing more before exit, so
# the value must equal the exit summary's (checked after SIGTERM below).
FED=$(python3 - "$PORT" <<'PY'
import http.client, re, sys
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=5)
c.request('GET', '/metrics')
m = re.search(r'^nfprobe_dpi_packets_total\{interface="[^"]*"\} (\d+)$',
              c.getresponse().read().decode(), re.M)
print(m.group(1) if m else '')
PY
)

SMP=$(python3 - "$PORT" <<'PY'
import http.client, re, sys
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=5)
c.request('GET', '/metrics')
t = c.getresponse().read().decode()
v = [re.search(r'^nfprobe_sampling_%s_packets_total\{interface="[^"]*"\} (\d+)$' % k, t, re.M)
     for k in ('observed', 'selected')]
print(' '.join(m.group(1) if m else '-' for m in v))
PY
)
if [ "$SMP" = "$N $N" ]; then ok "nfprobe_sampling_observed/selected_packets_total $SMP (1:1)"
else bad "sampling counters '$SMP', want '$N $N'"; fi

if res=$(scrape /nothing-here 404 5); then ok "404 for another path"
else bad "/nothing-here: $res"; fi

# SIGTERM: flows flushed, exit 0 within 10 s, listener gone.
kill -TERM "$PID"
if ! wait_for 100 gone "$PID"; then
    bad "still running 10 s after SIGTERM"
    kill -KILL "$PID"
fi
wait "$PID"; rc=$?; PID=
if [ $rc -eq 0 ]; then ok "exit 0 on SIGTERM"
else bad "exit status $rc on SIGTERM"; sed 's/^/  nfprobe: /' "$TMP/stderr"; fi
if [ "$(wc -l <"$TMP/flows.csv")" -gt 1 ]; then ok "flows written"; else bad "no flows written"; fi
FED_EXIT=$(sed -n 's/.*nDPI: \([0-9]*\) packets fed.*/\1/p' "$TMP/stderr")
if [ -n "$FED" ] && [ "$FED" -gt 0 ] && [ "$FED" = "$FED_EXIT" ]; then
    ok "nfprobe_dpi_packets_total $FED = the exit summary's packets fed"
else bad "nfprobe_dpi_packets_total '$FED', exit summary '$FED_EXIT'"; fi
if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)' \
        "$PORT" 2>/dev/null; then bad "endpoint still answers after exit"
else ok "endpoint closed after exit"; fi
[ $fails -eq 0 ]
