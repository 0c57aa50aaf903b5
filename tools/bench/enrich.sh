#!/bin/sh
# make bench, issue 13's AS/prefix table: the LPM's load time and lookups/s at 1,000,000
# prefixes (tools/bench/lpm_bench: a BGP-like table, 85% IPv4 / 15% IPv6), then metering of the
# benchmark capture without and with `--networks-file` of that table, runs alternated, pinned to
# one core (taskset -c 0: the output thread's lookups then add to the wall time instead of
# hiding on the second core). The table's load (logged by nfprobe, "AS table: ... in N ms") is
# start-up, not metering: the metering time of a run with the table is its wall time minus the
# load. Prints a Markdown table; not a test (numbers vary by machine).
#   BENCH_PCAP=FILE    the capture (default: the one `make bench` generates, bench.pcap)
#   BENCH_RUNS=N       runs of each command, the median is shown (3)
#   BENCH_PREFIXES=N   table size (1000000)
set -eu
: "${BUILDDIR:=$(pwd)}"
NFPROBE=${NFPROBE:-$BUILDDIR/nfprobe}
MKPCAP=${MKPCAP:-$BUILDDIR/tools/mkpcap/mkpcap}
LPM_BENCH=${LPM_BENCH:-$BUILDDIR/tools/bench/lpm_bench}
PCAP=${BENCH_PCAP:-$BUILDDIR/bench.pcap}
N=${BENCH_PREFIXES:-1000000}
if [ ! -f "$PCAP" ]; then
    echo "generating $PCAP" >&2
    "$MKPCAP" bench "$PCAP" --packets "${BENCH_PACKETS:-3000000}" --flows "${BENCH_FLOWS:-280000}"
fi
NETS=$BUILDDIR/bench-networks.lst
"$LPM_BENCH" --write "$NETS" "$N"
echo "## LPM: $N prefixes (tools/bench/lpm_bench $N)"
echo
"$LPM_BENCH" "$N" 20000000 | sed 's/^/    /'
echo
exec python3 - "$NFPROBE" "$PCAP" "$NETS" "${BENCH_RUNS:-3}" <<'PY'
import os, re, shutil, statistics, subprocess, sys, time
nfprobe, pcap, nets, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
pin = ['taskset', '-c', os.environ.get('BENCH_CPU', '0')] if shutil.which('taskset') else []
base = pin + [nfprobe, '-r', pcap, '--n-dissections', '0', '--csv', '/dev/null']

def run(extra):
    t0 = time.monotonic()
    r0 = os.times()
    p = subprocess.run(base + extra, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    r1 = os.times()
    if p.returncode != 0:
        sys.exit('nfprobe failed: ' + p.stderr[-500:])
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    m = re.search(r'AS table: (\d+) IPv4 and (\d+) IPv6 prefixes in (\d+) ms', p.stderr)
    load = int(m.group(3)) / 1000.0 if m else 0.0
    flows = re.search(r'(\d+) flows:', p.stderr)
    return wall, cpu, load, int(flows.group(1)) if flows else 0

rows = {'without': [], 'with': []}
for _ in range(runs):           # alternated: drift on a shared machine hits both alike
    rows['without'].append(run([]))
    rows['with'].append(run(['--networks-file', nets]))
med = lambda xs: statistics.median(xs)
w0 = med([r[0] for r in rows['without']])
c0 = med([r[1] for r in rows['without']])
w1 = med([r[0] for r in rows['with']])
c1 = med([r[1] for r in rows['with']])
load = med([r[2] for r in rows['with']])
flows = rows['with'][0][3]
m1 = w1 - load
print('## Metering with the AS table (%s, %d flows, %s, median of %d)' %
      (os.path.basename(pcap), flows, ' '.join(pin) or 'not pinned', runs))
print()
print('| command | wall s | CPU s | table load s | metering s (wall - load) |')
print('|---|---|---|---|---|')
print('| nfprobe --n-dissections 0 --csv /dev/null | %.2f | %.2f | | %.2f |' % (w0, c0, w0))
print('| same, --networks-file (%s prefixes) | %.2f | %.2f | %.2f | %.2f |' %
      (os.path.basename(nets), w1, c1, load, m1))
print()
print('AS/prefix lookups cost %+.1f%% of metering time (target < 5%%); the table loads in %.2f s '
      '(target < 2 s).' % (100.0 * (m1 / w0 - 1.0), load))
PY
