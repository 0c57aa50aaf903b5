"""Runs the benchmark commands and prints the table (called by tests/bench/run.sh)."""
import os, re, shutil, statistics, subprocess, sys, tempfile

pcap, nfprobe, readfloor, runs, small = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]

def measure(cmd, cwd=None):
    """Median wall seconds and max peak RSS (KiB) over `runs` runs, plus the last stderr."""
    walls, rss, err = [], [], ''
    for _ in range(runs):
        p = subprocess.run(['/usr/bin/time', '-f', 'BENCHTIME %e %M'] + cmd, cwd=cwd,
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

sf_pps = None
if shutil.which('softflowd'):
    d = tempfile.mkdtemp(prefix='bsf')
    os.symlink(os.path.abspath(pcap), os.path.join(d, 'b.pcap'))
    # Short relative paths and -m above the flow count: see shared bench.md.
    wall, rss, _ = measure(['softflowd', '-r', 'b.pcap', '-n', '127.0.0.1:9', '-v', '10',
                            '-m', '2000000', '-p', 'p', '-c', 's'], cwd=d)
    sf_pps = row('softflowd -v 10 -m 2000000', wall, rss)
    shutil.rmtree(d, ignore_errors=True)
nd_pps = None
if shutil.which('ndpiReader'):
    d = tempfile.mkdtemp(prefix='bnd')
    wall, rss, _ = measure(['ndpiReader', '-q', '-i', pcap, '-w', os.path.join(d, 'out'), '-v', '2'])
    nd_pps = row('ndpiReader -q -i FILE -v 2', wall, rss)
    shutil.rmtree(d, ignore_errors=True)

print('capture: %s, %d packets\n' % (pcap, npk))
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
if pps_dpi and nd_pps:
    print('  DPI >= 3x ndpiReader packets/s: %.1fx' % (pps_dpi / nd_pps))
