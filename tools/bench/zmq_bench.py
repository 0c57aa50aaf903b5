"""The ntopng feed's cost (issue 14: "the ZMQ sink (a local SUB reader) beside CSV to /dev/null:
at most 1.15x"). Offline, default fields, three commands alternated run by run on the same pinned
core (nfprobe's threads and libzmq's I/O thread share it; the reader runs elsewhere), so that a
drift of a shared machine hits them alike:

- csv:  --csv /dev/null, the yardstick;
- zmq:  -c zmq+tcp://... alone, publishing to tools/zmq_collect --discard (which checks every
        message's frames and ids as ntopng would, and prints nothing): the feed in place of the
        CSV, the issue's ratio (zmq / csv);
- both: the CSV and the feed in one run: what the feed adds to a CSV run ((both - csv) / csv).

Called by bench.py (make bench), or alone:
    python3 tools/bench/zmq_bench.py CAPTURE NFPROBE RUNS
(BENCH_CPU=0,1 gives nfprobe both cores instead of one.)
"""
import os, re, statistics, subprocess, sys

RUNS = ('csv', 'zmq', 'both')


def zmq_cost(pcap, nfprobe, runs, pin):
    """{'csv'|'zmq'|'both': {'wall', 'cpu', 'rss'}} of medians (s, s, KiB max), with 'dropped':
    ZMQ messages dropped over all runs; or None when tools/zmq_collect is not built."""
    zc = os.path.join(os.path.dirname(os.path.abspath(nfprobe)), 'tools', 'zmq_collect')
    if not os.path.exists(zc):
        return None
    reader = subprocess.Popen([zc, '--bind', 'tcp://127.0.0.1:*', '--discard', '--idle-ms',
                               '3600000', '--max-ms', '3600000'],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        ep = re.search(r'ready (\S+)', reader.stderr.readline()).group(1)
        base = [nfprobe, '-r', pcap, '--n-dissections', '0']
        csv, zmq = ['--csv', '/dev/null'], ['-c', 'zmq+' + ep]
        cmds = {'csv': base + csv, 'zmq': base + zmq, 'both': base + csv + zmq}
        walls = {n: [] for n in cmds}
        cpu = {n: [] for n in cmds}
        rss = {n: 0 for n in cmds}
        dropped = 0
        for _ in range(runs):
            for name, cmd in cmds.items():
                p = subprocess.run(['/usr/bin/time', '-f', 'BENCHTIME %e %M %U %S'] + pin + cmd,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                m = re.search(r'BENCHTIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)', p.stderr)
                if not m or p.returncode not in (0, 4):
                    raise SystemExit('bench: %s failed:\n%s' % (' '.join(cmd), p.stderr[-2000:]))
                if name == 'zmq' and p.stdout:
                    raise SystemExit('bench: the ZMQ run wrote to standard output')
                walls[name].append(float(m.group(1)))
                rss[name] = max(rss[name], int(m.group(2)))
                cpu[name].append(float(m.group(3)) + float(m.group(4)))
                dropped += sum(int(d) for d in re.findall(r'(\d+) dropped \(queue full\)',
                                                          p.stderr))
        res = {n: {'wall': statistics.median(walls[n]), 'cpu': statistics.median(cpu[n]),
                   'rss': rss[n]} for n in cmds}
        res['dropped'] = dropped
        return res
    finally:
        reader.terminate()
        reader.wait()


def summary(r):
    """Two lines: the issue's ratio and what the feed adds to a CSV run."""
    c, z, b = r['csv'], r['zmq'], r['both']
    return ('ZMQ feed in place of the CSV (issue 14, <= 1.15x): %.2fx CPU, %.2fx wall '
            '(%.2f s / %.2f s CPU)\n'
            'ZMQ feed beside the CSV in one run: +%.0f%% CPU, +%.0f%% wall of the CSV run alone; '
            '%d messages dropped' %
            (z['cpu'] / c['cpu'], z['wall'] / c['wall'], z['cpu'], c['cpu'],
             100 * (b['cpu'] / c['cpu'] - 1), 100 * (b['wall'] / c['wall'] - 1), r['dropped']))


if __name__ == '__main__':
    pin = ['taskset', '-c', os.environ.get('BENCH_CPU', '0')]
    r = zmq_cost(sys.argv[1], sys.argv[2], int(sys.argv[3]), pin)
    if r is None:
        raise SystemExit('zmq_bench: tools/zmq_collect not built')
    print('| run (medians of %s) | wall s | CPU s | peak RSS MiB |' % sys.argv[3])
    print('|---|---|---|---|')
    for n, label in (('csv', '--csv /dev/null'), ('zmq', '-c zmq+tcp:// (no CSV)'),
                     ('both', '--csv /dev/null -c zmq+tcp://')):
        print('| %s | %.2f | %.2f | %.0f |' % (label, r[n]['wall'], r[n]['cpu'],
                                              r[n]['rss'] / 1024))
    print(summary(r))
