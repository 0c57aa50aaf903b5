#!/bin/sh
# metrics_text.sh - /metrics of a running nfprobe with two collectors, checked by promtool, and
# SIGHUP reloads racing scrapes (loopback only, no root).
#
# nfprobe captures live on the loopback interface (reload applies to live runs; the scrapes
# themselves are its traffic) and exports to two UDP collectors on loopback ports nobody
# listens on. Checks:
# - `promtool check metrics` accepts the text (no HELP/TYPE repeated across collectors, counter
#   names, units); nfprobe_build_info carries version, ndpi and libpcap; every export family
#   has one sample per collector, labelled with the URL as given;
# - SIGHUP reloads in a loop (the configuration file switches the second collector's URL each
#   time) while another process scrapes as fast as it can: every scrape is valid text whose
#   collector labels are one of the two configurations' sets, and nfprobe survives; under the
#   sanitizer build a reload freeing what rendering reads shows as a use-after-free.
# Skips (77) without root (live capture), promtool or python3.
. "$(dirname "$0")/lib.sh"

[ -x "$NFPROBE" ] || skip "nfprobe not built at $NFPROBE"
command -v promtool >/dev/null 2>&1 || skip "promtool not installed (Debian prometheus)"
command -v python3 >/dev/null 2>&1 || skip "python3 not found"
[ "$(id -u)" -eq 0 ] || skip "needs root to capture on lo"

scratch
printf 'collector = ipfix+udp://127.0.0.1:9\ncollector = v9+udp://127.0.0.1:10\n' >"$TMP/a.conf"
printf 'collector = ipfix+udp://127.0.0.1:9\ncollector = v9+udp://127.0.0.1:11\n' >"$TMP/b.conf"
cp "$TMP/a.conf" "$TMP/nfprobe.conf"

python3 - "$NFPROBE" "$TMP" <<'PY'
import http.client, os, re, signal, subprocess, sys, threading, time
nfprobe, tmp = sys.argv[1], sys.argv[2]
fails = 0
def ok(m): print('ok   ' + m)
def bad(m):
    global fails
    fails += 1
    print('FAIL ' + m)

err = open(tmp + '/stderr', 'w')
p = subprocess.Popen([nfprobe, '-C', tmp + '/nfprobe.conf', '-i', 'lo', '--n-dissections', '0',
                      '--metrics', '127.0.0.1:0', '--csv', '/dev/null'], stderr=err)

def port_of(pid):
    # the listening socket of pid, from /proc (port 0 = chosen by the kernel)
    inodes = set()
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            l = os.readlink('/proc/%d/fd/%s' % (pid, fd))
        except OSError:
            continue
        m = re.match(r'socket:\[(\d+)\]', l)
        if m: inodes.add(m.group(1))
    for line in open('/proc/%d/net/tcp' % pid).read().splitlines()[1:]:
        f = line.split()
        if f[3] == '0A' and f[9] in inodes:
            return int(f[1].split(':')[1], 16)
    return None

port = None
for _ in range(100):
    port = port_of(p.pid)
    if port: break
    time.sleep(0.05)
if not port:
    print('FAIL no metrics listener'); print(open(tmp + '/stderr').read()); p.kill(); sys.exit(1)

def scrape():
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
    c.request('GET', '/metrics')
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, body

def promtool(text):
    r = subprocess.run(['promtool', 'check', 'metrics'], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return r.returncode, r.stdout.decode().strip()

# Let the exporter publish once.
time.sleep(0.3)
st, text = scrape()
rc, out = promtool(text)
if st == 200 and rc == 0: ok('promtool check metrics accepts the text with two collectors')
else: bad('promtool (status %d): %s' % (st, out)); print(text)
m = re.search(r'^nfprobe_build_info\{version="[^"]+",ndpi="[^"]+",libpcap="[^"]+"\} 1$', text, re.M)
if m: ok('nfprobe_build_info{version,ndpi,libpcap} 1')
else: bad('no nfprobe_build_info with version, ndpi, libpcap')
want = {'ipfix+udp://127.0.0.1:9', 'v9+udp://127.0.0.1:10'}
got = set(re.findall(r'^nfprobe_export_messages_total\{collector="([^"]*)"\}', text, re.M))
if got == want: ok('nfprobe_export_messages_total per collector: %s' % sorted(got))
else: bad('collector labels %s, want %s' % (sorted(got), sorted(want)))
helps = re.findall(r'^# HELP (\S+)', text, re.M)
if len(helps) == len(set(helps)): ok('every HELP line once')
else: bad('repeated HELP lines')

# Reloads racing scrapes.
sets = [want, {'ipfix+udp://127.0.0.1:9', 'v9+udp://127.0.0.1:11'}]
stop = False
scrapes, bad_scrapes, seen = 0, [], [False, False]
def scraper():
    global scrapes
    while not stop:
        try:
            st, text = scrape()
        except OSError as e:
            bad_scrapes.append('scrape failed: %s' % e); return
        got = set(re.findall(r'^nfprobe_export_messages_total\{collector="([^"]*)"\}', text, re.M))
        if st != 200 or got not in sets:
            bad_scrapes.append('status %d, collectors %s' % (st, sorted(got)))
        else:
            seen[sets.index(got)] = True
        scrapes += 1
t = threading.Thread(target=scraper); t.start()
reloads = 0
for i in range(40):
    src = tmp + ('/b.conf' if i % 2 == 0 else '/a.conf')
    # Replaced atomically: a SIGHUP that caught the file half-written would read a valid
    # configuration without collectors, and scrapes would rightly show none.
    open(tmp + '/nfprobe.conf.new', 'w').write(open(src).read())
    os.replace(tmp + '/nfprobe.conf.new', tmp + '/nfprobe.conf')
    p.send_signal(signal.SIGHUP)
    reloads += 1
    time.sleep(0.03)
    if p.poll() is not None: break
time.sleep(0.3)
stop = True; t.join()
if p.poll() is None and not bad_scrapes and scrapes > 10 and all(seen):
    ok('%d SIGHUP reloads during %d scrapes: every scrape valid, nfprobe running' % (reloads, scrapes))
else:
    bad('reloads %d, scrapes %d (both label sets seen: %s), running %s, problems %s' %
        (reloads, scrapes, all(seen), p.poll() is None, bad_scrapes[:3]))
rc, out = promtool(scrape()[1])
if rc == 0: ok('promtool after the reloads')
else: bad('promtool after the reloads: %s' % out)

# A reload that fails (a collector that cannot be opened) changes nothing and says why.
before = set(re.findall(r'^nfprobe_export_messages_total\{collector="([^"]*)"\}', scrape()[1], re.M))
open(tmp + '/nfprobe.conf', 'w').write('collector = ipfix+udp://nonexistent.invalid:9\n')
p.send_signal(signal.SIGHUP)
e = ''
for _ in range(100):
    e = open(tmp + '/stderr').read()
    if 'not reloaded' in e: break
    time.sleep(0.05)
after = set(re.findall(r'^nfprobe_export_messages_total\{collector="([^"]*)"\}', scrape()[1], re.M))
line = [l for l in e.splitlines() if 'not reloaded' in l]
if p.poll() is None and after == before and line and 'nonexistent.invalid' in line[0]:
    ok('failed reload keeps the collectors, one line: %s' % line[0])
else:
    bad('failed reload: running %s, before %s after %s, message %s' % (p.poll() is None, sorted(before),
                                                                     sorted(after), line))

p.send_signal(signal.SIGTERM)
try:
    rc = p.wait(30)
except subprocess.TimeoutExpired:
    p.kill(); rc = None
e = open(tmp + '/stderr').read()
if 'AddressSanitizer' in e or 'runtime error' in e:
    bad('sanitizer report:\n' + e)
if rc in (0, 4): ok('exit %d on SIGTERM' % rc)
else: bad('exit status %s' % rc); print(e)
sys.exit(1 if fails else 0)
PY
