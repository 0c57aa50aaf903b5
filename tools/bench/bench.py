"""Runs the benchmark commands and prints the table (called by tools/bench/run.sh)."""
import os, re, shutil, statistics, subprocess, sys, tempfile

pcap, nfprobe, readfloor, runs, small = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]

# The targets are for one core: every command runs pinned to the same CPU (BENCH_CPU, default
# 0), so a second thread (nfprobe's output thread) cannot borrow the other core.
PIN = (['taskset', '-c', os.environ.get('BENCH_CPU', '0')] if shutil.which('taskset') else [])

def measure(cmd, cwd=None):
    """Median wall seconds and max peak RSS (KiB) over `runs` runs, plus the last stderr."""
    walls, rss, err = [], [], ''
    for _ in range(runs):
        p = subprocess.run(['/usr/bin/time', '-f', 'BENCHTIME %e %M'] + PIN + cmd, cwd=cwd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        m = re.search(r'BENCHTIME ([\d.]+) (\d+)', p.stderr)
        if not m:
            raise SystemExit('bench: %s failed:\n%s' % (' '.join(cmd), p.stderr[-2000:]))
        walls.append(float(m.group(1))); rss.append(int(m.group(2))); err = p.stderr
    return statistics.median(walls), max(rss), err

def count_packets():
    out = subprocess.run([readfloor, pcap], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])

npk = count_packets()
rows = []
def row(name, wall, rss, flows='', per_flow=''):
    pps = npk / wall if wall > 0 else float('inf')
    rows.append((name, '%.2f' % wall, '%.2f' % (pps / 1e6), '%d' % (rss // 1024), flows, per_flow))
    return pps

wall, rss, _ = measure([readfloor, pcap])
floor_pps = row('libpcap read floor (pcap_next_ex loop)', wall, rss)

def nf(flags, name, baseline_flags=None):
    wall, rss, err = measure([nfprobe, '-r', pcap, '--csv', '/dev/null', '-v'] + flags)
    flows = re.search(r'(\d+) flows:', err).group(1)
    peak = int(re.search(r'(\d+) flows at most', err).group(1))
    # Memory per live flow: peak RSS above the same run on a tiny capture, over peak flows.
    _, base, _ = measure([nfprobe, '-r', small, '--csv', '/dev/null'] + flags)
    per = (rss - base) * 1024 / peak if peak else 0
    return row(name, wall, rss, flows, '%d' % per), per

pps_default, _ = nf(['--n-dissections', '0'], 'nfprobe, NFStream default fields')
pps_stats, _ = nf(['--n-dissections', '0', '--statistical-analysis'], 'nfprobe --statistical-analysis')
# The table is sized at start from --max-flows: size it for this capture's ~210k concurrent
# flows as an operator would (the default, 1M, would add 16 MiB of slots to the per-flow share).
_, per_flow = nf(['--n-dissections', '0', '--statistical-analysis', '--splt-analysis', '20',
                  '--max-flows', '300000'],
                 'nfprobe --statistical-analysis --splt-analysis 20 --max-flows 300000')
pps_dpi = None
if subprocess.run([nfprobe, '-r', small, '--n-dissections', '20', '--csv', '/dev/null'],
                  stderr=subprocess.DEVNULL).returncode == 0:
    pps_dpi, _ = nf(['--n-dissections', '20'], 'nfprobe --n-dissections 20 (nDPI)')

# Export cost: the default-fields run again, exporting IPFIX to a local UDP sink and to a local
# TLS sink (openssl s_server with a throwaway CA). Export must not cut packets/s by > 10%.
import socket, threading
def udp_sink():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:  # root may go past net.core.rmem_max (SO_RCVBUFFORCE)
        s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), 64 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(('127.0.0.1', 0))
    def run():
        while True:
            try:
                s.recv(65536)
            except OSError:
                return
    threading.Thread(target=run, daemon=True).start()
    return s, s.getsockname()[1]
sink, uport = udp_sink()
# Offline, UDP export is paced (--export-rate, 20000 messages/s) so that a file read at full
# speed cannot overrun a collector: that row shows the pacing; the unpaced one the export's cost.
nf(['--n-dissections', '0', '-c', 'ipfix+udp://127.0.0.1:%d' % uport],
   'nfprobe, default fields, IPFIX to a UDP sink (paced, 20000 msg/s)')
pps_udp, _ = nf(['--n-dissections', '0', '-c', 'ipfix+udp://127.0.0.1:%d' % uport,
                 '--export-rate', '0'], 'nfprobe, default fields, IPFIX to a UDP sink, unpaced')
tls_pps = None
srcdir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pki = tempfile.mkdtemp(prefix='bpki')
if shutil.which('openssl') and subprocess.run(['sh', os.path.join(srcdir, 'collectors-test',
                                               'tls_ca.sh'), pki], capture_output=True).returncode == 0:
    ts = socket.socket(); ts.bind(('127.0.0.1', 0)); tport = ts.getsockname()[1]; ts.close()
    srv = subprocess.Popen(['openssl', 's_server', '-quiet', '-accept', '127.0.0.1:%d' % tport,
                            '-cert', os.path.join(pki, 'server.pem'),
                            '-key', os.path.join(pki, 'server.key'), '-naccept', str(2 * runs + 2)],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import time; time.sleep(0.5)
    tls_pps, _ = nf(['--n-dissections', '0', '-c', 'ipfix+tls://127.0.0.1:%d' % tport,
                     '--tls-ca', os.path.join(pki, 'ca.pem'),
                     '--tls-cert', os.path.join(pki, 'client.pem'),
                     '--tls-key', os.path.join(pki, 'client.key')],
                    'nfprobe, default fields, IPFIX to a TLS sink')
    srv.kill()
shutil.rmtree(pki, ignore_errors=True)

# BEGIN kafka: one message per flow to librdkafka's mock cluster (tools/kafka_mock: 3 brokers
# on 127.0.0.1, 4 partitions) beside the same JSON written to /dev/null (issue 15: <= 1.2x).
# tools/bench/kafka_bench.py runs them alternated and measures nfprobe's CPU apart from the
# mock broker's (a process of its own); a run with only a collector writes no CSV.
kafka_ratio = None
kmock = os.path.join(os.path.dirname(os.path.abspath(nfprobe)), 'tools', 'kafka_mock')
if os.path.exists(kmock):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import kafka_bench
    krows, kratios = kafka_bench.bench(pcap, nfprobe, kmock, runs)
    for name, wall, cpu, mock in krows:
        row('nfprobe, default fields, %s' % name, wall, 0)
    kafka_ratio = kratios[''] + (krows[1][3],)
# END kafka

# ntopng feed (issue 14: <= 1.15x): the CSV alone, the ZMQ sink alone (a local SUB reader) and
# both, alternated on the pinned core (zmq_bench.py, which also runs alone).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zmq_bench
zmq_res = zmq_bench.zmq_cost(pcap, nfprobe, max(runs, 5), PIN)
if zmq_res is not None:
    for key, label in (('csv', '--csv /dev/null (paired with the next two rows)'),
                       ('zmq', 'ZMQ to a SUB reader, no CSV'),
                       ('both', '--csv /dev/null and ZMQ to a SUB reader')):
        row('nfprobe, default fields, ' + label, zmq_res[key]['wall'], zmq_res[key]['rss'])

sf_pps = None
if shutil.which('softflowd'):
    d = tempfile.mkdtemp(prefix='bsf')
    os.symlink(os.path.abspath(pcap), os.path.join(d, 'b.pcap'))
    # Short relative paths and -m above the flow count: see shared bench.md.
    wall, rss, _ = measure(['softflowd', '-r', 'b.pcap', '-n', '127.0.0.1:%d' % uport, '-v', '10',
                            '-m', '2000000', '-p', 'p', '-c', 's'], cwd=d)
    sf_pps = row('softflowd -v 10 -m 2000000, IPFIX to the UDP sink', wall, rss)
    shutil.rmtree(d, ignore_errors=True)
nd_pps = None
if shutil.which('ndpiReader'):
    d = tempfile.mkdtemp(prefix='bnd')
    wall, rss, _ = measure(['ndpiReader', '-q', '-i', pcap, '-w', os.path.join(d, 'out'), '-v', '2'])
    nd_pps = row('ndpiReader -q -i FILE -v 2', wall, rss)
    shutil.rmtree(d, ignore_errors=True)

# BEGIN plugin: packets/s with no plugin, a plugin that does nothing on every packet, and the
# model plugin (LIBLINEAR, 8 packets), measured alternately in the same run (same flags).
plug_cost = None
plugdir = os.path.join(os.environ.get('BUILDDIR') or os.path.dirname(os.path.abspath(nfprobe)),
                       'probe', 'plugins')
if os.path.exists(os.path.join(plugdir, 'noop.so')):
    base_flags = ['-r', pcap, '--csv', '/dev/null', '--n-dissections', '0']
    variants = [('nfprobe --n-dissections 0, no plugin', []),
                ('nfprobe --n-dissections 0 --plugin noop.so',
                 ['--plugin', os.path.join(plugdir, 'noop.so')])]
    mdir = None
    if shutil.which('liblinear-train') and os.path.exists(os.path.join(plugdir, 'model.so')):
        # A model of the plugin's real shape (8 classes, every feature index of 8 packets);
        # its content does not matter for the cost of predicting.
        mdir = tempfile.mkdtemp(prefix='bmodel')
        with open(os.path.join(mdir, 'f'), 'w') as fh:
            for i in range(400):
                fh.write('%d %s\n' % (1 + i % 8, ' '.join(
                    '%d:%g' % (k, ((i * 7 + k * 13) % 17) / 17.0) for k in range(1, 69))))
        with open(os.path.join(mdir, 'm.labels'), 'w') as fh:
            fh.write('# nfprobe model labels: packets=8\n')
            fh.writelines('%d class%d\n' % (k, k) for k in range(1, 9))
        subprocess.run(['liblinear-train', '-s', '0', '-B', '1', '-q', os.path.join(mdir, 'f'),
                        os.path.join(mdir, 'm')], check=True, stdout=subprocess.DEVNULL)
        variants.append(('nfprobe --n-dissections 0 --plugin model.so (8 classes)',
                         ['--plugin', os.path.join(plugdir, 'model.so') + ':model=' +
                          os.path.join(mdir, 'm')]))
    walls = [[] for _ in variants]
    rss_max = [0 for _ in variants]
    for _ in range(max(runs, 5)):
        for k, (_, extra) in enumerate(variants):
            p = subprocess.run(['/usr/bin/time', '-f', 'BENCHTIME %e %M'] + PIN + [nfprobe] +
                               base_flags + extra, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
            m = re.search(r'BENCHTIME ([\d.]+) (\d+)', p.stderr)
            if p.returncode != 0 or not m:
                raise SystemExit('bench: %s failed:\n%s' % (' '.join(extra), p.stderr[-2000:]))
            walls[k].append(float(m.group(1)))
            rss_max[k] = max(rss_max[k], int(m.group(2)))
    pps = [row(name, statistics.median(walls[k]), rss_max[k])
           for k, (name, _) in enumerate(variants)]
    plug_cost = 100.0 * (1.0 - pps[1] / pps[0])
    if mdir:
        shutil.rmtree(mdir, ignore_errors=True)
# END plugin

# Issue 13: what the packet selector costs. Default fields without sampling beside --sampling 1
# (the selector runs on every packet and keeps them all), and --sampling 10 (what sampling
# saves: a packet not selected is neither decoded nor metered). Runs alternated, one core, medians.
smp_variants = [('nfprobe, default fields, no sampling', []),
                ('nfprobe, default fields, --sampling 1', ['--sampling', '1']),
                ('nfprobe, default fields, --sampling 10', ['--sampling', '10'])]
smp_walls = [[] for _ in smp_variants]
smp_rss = [0 for _ in smp_variants]
for _ in range(max(runs, 5)):
    for k, (_, extra) in enumerate(smp_variants):
        p = subprocess.run(['/usr/bin/time', '-f', 'BENCHTIME %e %M'] + PIN +
                           [nfprobe, '-r', pcap, '--n-dissections', '0', '--csv', '/dev/null'] +
                           extra, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        m = re.search(r'BENCHTIME ([\d.]+) (\d+)', p.stderr)
        if p.returncode != 0 or not m:
            raise SystemExit('bench: %s failed:\n%s' % (' '.join(extra), p.stderr[-2000:]))
        smp_walls[k].append(float(m.group(1)))
        smp_rss[k] = max(smp_rss[k], int(m.group(2)))
smp_pps = [row(name, statistics.median(smp_walls[k]), smp_rss[k])
           for k, (name, _) in enumerate(smp_variants)]
smp_cost = 100.0 * (1.0 - smp_pps[1] / smp_pps[0])

# Issue 12: metering and export overlap on two cores (the worker thread reads and meters, the
# output thread writes and exports). Offline, default fields, pinned to two CPUs (BENCH_CPUS2,
# default 0,1): CSV to /dev/null, IPFIX to the UDP sink unpaced, IPFIX to a TLS sink. The three
# commands alternate run by run, so that a drift of the machine hits them alike; medians.
PIN2 = (['taskset', '-c', os.environ.get('BENCH_CPUS2', '0,1')] if shutil.which('taskset') else [])
def paired(cmds):
    walls = [[] for _ in cmds]
    for _ in range(runs):
        for i, cmd in enumerate(cmds):
            p = subprocess.run(['/usr/bin/time', '-f', 'BENCHTIME %e %M'] + PIN2 + cmd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            m = re.search(r'BENCHTIME ([\d.]+) (\d+)', p.stderr)
            if not m:
                raise SystemExit('bench: %s failed:\n%s' % (' '.join(cmd), p.stderr[-2000:]))
            walls[i].append(float(m.group(1)))
    return [statistics.median(w) for w in walls]
two = []
base2 = [nfprobe, '-r', pcap, '--n-dissections', '0', '--csv', '/dev/null']
cmds2 = [base2, base2 + ['-c', 'ipfix+udp://127.0.0.1:%d' % uport, '--export-rate', '0']]
pki2 = tempfile.mkdtemp(prefix='bpki')
srv2 = None
if shutil.which('openssl') and subprocess.run(['sh', os.path.join(srcdir, 'collectors-test',
                                               'tls_ca.sh'), pki2], capture_output=True).returncode == 0:
    ts = socket.socket(); ts.bind(('127.0.0.1', 0)); tport2 = ts.getsockname()[1]; ts.close()
    srv2 = subprocess.Popen(['openssl', 's_server', '-quiet', '-accept', '127.0.0.1:%d' % tport2,
                             '-cert', os.path.join(pki2, 'server.pem'),
                             '-key', os.path.join(pki2, 'server.key'), '-naccept', str(runs + 1)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    import time; time.sleep(0.5)
    cmds2.append(base2 + ['-c', 'ipfix+tls://127.0.0.1:%d' % tport2,
                          '--tls-ca', os.path.join(pki2, 'ca.pem'),
                          '--tls-cert', os.path.join(pki2, 'client.pem'),
                          '--tls-key', os.path.join(pki2, 'client.key')])
w2 = paired(cmds2)
if srv2 is not None:
    srv2.kill()
shutil.rmtree(pki2, ignore_errors=True)
names2 = ['CSV to /dev/null', 'IPFIX to a UDP sink, unpaced', 'IPFIX to a TLS sink']
for name, w in zip(names2, w2):
    two.append((name, '%.2f' % w, '%.2f' % (npk / w / 1e6), '%.2fx' % (w / w2[0])))

print('capture: %s, %d packets; every command pinned to one core (%s)\n' %
      (pcap, npk, ' '.join(PIN) or 'taskset not found: not pinned'))
print('| command | wall s | Mpps | peak RSS MiB | flows | bytes/live flow |')
print('|---|---|---|---|---|---|')
for r in rows:
    print('| ' + ' | '.join(r) + ' |')
print()
print('targets (issue 2, one core offline):')
print('  default fields >= 40%% of read floor: %.0f%%' % (100 * pps_default / floor_pps))
if sf_pps:
    print('  default fields >= 10x softflowd: %.1fx' % (pps_default / sf_pps))
    print('  statistics >= 5x softflowd: %.1fx' % (pps_stats / sf_pps))
print('  <= 640 bytes per live flow with statistics and SPLT 20: %d' % per_flow)
print('  export to UDP (unpaced) costs <= 10%% of packets/s: %.1f%%' %
      (100 * (1 - pps_udp / pps_default)))
if tls_pps:
    print('  export to TLS costs <= 10%% of packets/s: %.1f%%' % (100 * (1 - tls_pps / pps_default)))
if pps_dpi and nd_pps:
    print('  DPI >= 3x ndpiReader packets/s: %.1fx' % (pps_dpi / nd_pps))
if kafka_ratio is not None:  # kafka
    print('  Kafka costs <= 1.2x of writing the JSON (issue 15): %.2fx nfprobe CPU, %.2fx wall '
          'of --json /dev/null (mock broker: %.2f s CPU apart)' % kafka_ratio)
if zmq_res is not None:
    print('  ' + zmq_bench.summary(zmq_res).replace('\n', '\n  '))
if plug_cost is not None:  # plugin
    print('  no-op plugin costs <= 5%% of packets/s (issue 7): %.1f%%' % plug_cost)
print('  the sampler at --sampling 1 costs (issue 13): %.1f%% of packets/s; --sampling 10 '
      'runs at %.2fx the packets/s' % (smp_cost, smp_pps[2] / smp_pps[0]))
print()
print('two cores (%s), offline, default fields, runs alternated, medians of %d:' %
      (' '.join(PIN2) or 'not pinned', runs))
print('| command | wall s | Mpps | wall / CSV |')
print('|---|---|---|---|')
for r in two:
    print('| ' + ' | '.join(r) + ' |')
print('  export overlaps metering (issue 12): UDP %s, TLS %s of the CSV run (target <= 1.10x)' %
      (two[1][3], two[2][3] if len(two) > 2 else 'n/a'))

# The table as a chart: bench.dat (one row per command: index, Mpps, peak RSS MiB, "name") in
# the current directory, and bench.png drawn from it by gnuplot (Debian gnuplot-nox) when it is
# installed. docs/benchmark.md shows the chart of the last run committed.
with open('bench.dat', 'w') as fh:
    fh.write('# index Mpps peak_RSS_MiB "command" (nfprobe make bench, %d packets)\n' % npk)
    for i, r in enumerate(rows):
        fh.write('%d %s %s "%s"\n' % (i, r[2], r[3], r[0].replace('"', "'")))
if shutil.which('gnuplot'):
    plot = '''
set terminal pngcairo noenhanced size 1000,%d font "DejaVu Sans,10"
set output "bench.png"
set title "make bench: packets per second, one core (longer is faster)"
set style fill solid 0.8 border -1
set xlabel "million packets per second (%d packets)"
set yrange [%f:-0.6]
set xrange [0:*]
set ytics scale 0
set grid xtics
unset key
plot "bench.dat" using ($2*0.5):1:($2*0.5):(0.35):yticlabels(4) with boxxyerror lc rgb "#3a7bd5", \
     "" using 2:1:(sprintf(" %%.2f", $2)) with labels left
''' % (120 + 26 * len(rows), npk, len(rows) - 0.4)
    p = subprocess.run(['gnuplot'], input=plot, text=True, capture_output=True)
    if p.returncode != 0:
        raise SystemExit('bench: gnuplot failed:\n' + p.stderr[-2000:])
    print('\nchart: bench.png (data: bench.dat)')
else:
    print('\nbench.dat written; install gnuplot-nox for the chart bench.png')
