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
have_taskset = shutil.which('taskset') is not None
cmd = [nfprobe, '-r', pcap, '--n-dissections', '0', '--csv', '/dev/null']

def run(pin, extra):
    t0 = time.monotonic()
    r0 = os.times()
    p = subprocess.run(pin + cmd + extra, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    r1 = os.times()
    if p.returncode != 0:
        sys.exit('nfprobe failed: ' + p.stderr[-500:])
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    m = re.search(r'AS table: \d+ IPv4 and \d+ IPv6 prefixes in (\d+) ms \((\d+) ms CPU',
                  p.stderr)
    load, load_cpu = (int(m.group(1)) / 1000.0, int(m.group(2)) / 1000.0) if m else (0.0, 0.0)
    flows = re.search(r'(\d+) flows:', p.stderr)
    # metering = the run minus the table's load (start-up, not metering)
    return wall - load, cpu - load_cpu, load, load_cpu, int(flows.group(1)) if flows else 0

med = statistics.median
print('## Metering with the AS table (%s, median of %d, runs alternated)' %
      (os.path.basename(pcap), runs))
print()
print('| cores | command | metering wall s | metering CPU s | table load wall s (CPU s) |')
print('|---|---|---|---|---|')
summary = []
for cores in ('0', '0,1'):
    pin = ['taskset', '-c', cores] if have_taskset else []
    rows = {'without': [], 'with': []}
    for _ in range(runs):       # alternated: drift on a shared machine hits both alike
        rows['without'].append(run(pin, []))
        rows['with'].append(run(pin, ['--networks-file', nets]))
    w0, c0 = med([r[0] for r in rows['without']]), med([r[1] for r in rows['without']])
    w1, c1 = med([r[0] for r in rows['with']]), med([r[1] for r in rows['with']])
    load, load_cpu = med([r[2] for r in rows['with']]), med([r[3] for r in rows['with']])
    flows = rows['with'][0][4]
    label = 'one (taskset -c %s)' % cores if cores == '0' else 'two (taskset -c %s)' % cores
    print('| %s | nfprobe --n-dissections 0 --csv /dev/null (%d flows) | %.2f | %.2f | |' %
          (label, flows, w0, c0))
    print('| %s | same, --networks-file %s | %.2f | %.2f | %.2f (%.2f) |' %
          (label, os.path.basename(nets), w1, c1, load, load_cpu))
    summary.append('%s core(s): %+.1f%% wall, %+.1f%% CPU' %
                   (label.split()[0], 100.0 * (w1 / w0 - 1.0), 100.0 * (c1 / c0 - 1.0)))
print()
print('Metering with the table against without (target < 5%%): %s. On two cores the lookups run '
      'in the output thread beside the worker.' % '; '.join(summary))
PY
