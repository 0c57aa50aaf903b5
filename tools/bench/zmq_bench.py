"""The ntopng feed's cost (issue 14: at most 1.15x): offline, default fields, CSV to /dev/null
alone and beside the ZMQ sink publishing to a local SUB reader (tools/zmq_collect --discard,
which checks every message's frames and ids as ntopng would, and prints nothing). The two
commands alternate run by run on the same pinned core (nfprobe's threads and libzmq's I/O thread
share it; the reader runs elsewhere), so that a drift of a shared machine hits both alike.

Called by bench.py (make bench), or alone:
    python3 tools/bench/zmq_bench.py CAPTURE NFPROBE RUNS
"""
import os, re, statistics, subprocess, sys


def zmq_cost(pcap, nfprobe, runs, pin):
    """(CSV median wall s, ZMQ median wall s, ZMQ messages dropped in all, peak RSS KiB of
    each, CSV median CPU s, ZMQ median CPU s (user + system, all threads)), or None."""
    zc = os.path.join(os.path.dirname(os.path.abspath(nfprobe)), 'tools', 'zmq_collect')
    if not os.path.exists(zc):
        return None
    reader = subprocess.Popen([zc, '--bind', 'tcp://127.0.0.1:*', '--discard', '--idle-ms',
                               '3600000', '--max-ms', '3600000'],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        ep = re.search(r'ready (\S+)', reader.stderr.readline()).group(1)
        base = [nfprobe, '-r', pcap, '--n-dissections', '0', '--csv', '/dev/null']
        cmds = [base, base + ['-c', 'zmq+' + ep]]
        walls, cpu, dropped, rss = [[], []], [[], []], 0, [0, 0]
        for _ in range(runs):
            for i, cmd in enumerate(cmds):
                p = subprocess.run(['/usr/bin/time', '-f', 'BENCHTIME %e %M %U %S'] + pin + cmd,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                m = re.search(r'BENCHTIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)', p.stderr)
                if not m or p.returncode not in (0, 4):
                    raise SystemExit('bench: %s failed:\n%s' % (' '.join(cmd), p.stderr[-2000:]))
                walls[i].append(float(m.group(1)))
                rss[i] = max(rss[i], int(m.group(2)))
                cpu[i].append(float(m.group(3)) + float(m.group(4)))
                dropped += sum(int(d) for d in re.findall(r'(\d+) dropped \(queue full\)',
                                                          p.stderr))
        return (statistics.median(walls[0]), statistics.median(walls[1]), dropped, rss,
                statistics.median(cpu[0]), statistics.median(cpu[1]))
    finally:
        reader.terminate()
        reader.wait()


if __name__ == '__main__':
    pin = ['taskset', '-c', os.environ.get('BENCH_CPU', '0')]
    r = zmq_cost(sys.argv[1], sys.argv[2], int(sys.argv[3]), pin)
    if r is None:
        raise SystemExit('zmq_bench: tools/zmq_collect not built')
    print('CSV to /dev/null %.2f s, beside ZMQ %.2f s: %.2fx wall, %.2fx CPU (%.2f / %.2f s); '
          '%d messages dropped' % (r[0], r[1], r[1] / r[0], r[5] / r[4], r[4], r[5], r[2]))
