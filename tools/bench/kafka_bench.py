"""Kafka sink cost (issue 15: Kafka costs <= 1.2x of writing the same JSON to a file).

    python3 kafka_bench.py PCAP NFPROBE KAFKA_MOCK [RUNS] [QUERY...]

Offline, default fields (--n-dissections 0), in one run of this script: `--json /dev/null` (the
yardstick: the same JSON written to a file) and `-c kafka://MOCK/TOPIC[?QUERY]` alone (a run
with only a collector writes no CSV). The runs alternate (A B A B ...) so that a change in the
machine's load hits every command alike; medians of RUNS. Two costs per command:

- nfprobe's CPU: user + system seconds of the nfprobe process, all its threads (librdkafka's
  broker threads included): the children times of this script (os.times()) around the run;
- the broker's CPU: the mock cluster (tools/kafka_mock) is a process of its own, its CPU over the
  same run is read from /proc and shown apart: it is Kafka's cost, not nfprobe's.

nfprobe is pinned to BENCH_CPU (default 0) as in bench.py; the mock cluster to the other CPU when
there is one, so that it does not take nfprobe's core. Wall time is shown too; on a shared
machine it moves with the load, CPU time much less.
"""
import os, shutil, statistics, subprocess, sys, time


def pin(cpu):
    return ['taskset', '-c', str(cpu)] if shutil.which('taskset') else []


def proc_cpu(pid):
    """User + system seconds of a running process (its threads included)."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def run_once(cmd, mock_pid):
    m0 = proc_cpu(mock_pid) if mock_pid else 0.0
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, err = p.communicate()  # reaped: its CPU is in os.times()' children times
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit('kafka bench: %s failed:\n%s' % (' '.join(cmd), err[-2000:]))
    return wall, err, (proc_cpu(mock_pid) - m0) if mock_pid else 0.0


def measure(cmds, runs, mock_pid):
    """cmds: {name: argv}. Returns {name: (median wall, median nfprobe CPU, median broker CPU)}."""
    res = {n: ([], [], []) for n in cmds}
    for _ in range(runs):
        for name, cmd in cmds.items():
            before = os.times()
            wall, err, mock = run_once(cmd, mock_pid)
            after = os.times()
            cpu = (after.children_user - before.children_user) + \
                  (after.children_system - before.children_system)
            if 'kafka' in name and ' 0 not delivered' not in err:
                raise SystemExit('kafka bench: flows not delivered:\n' + err[-1000:])
            res[name][0].append(wall)
            res[name][1].append(cpu)
            res[name][2].append(mock)
    return {n: tuple(statistics.median(v) for v in r) for n, r in res.items()}


def start_mock(kmock, topics):
    mine = {int(c) for c in os.environ.get('BENCH_CPU', '0').split(',')}
    other = [c for c in sorted(os.sched_getaffinity(0)) if c not in mine]
    args = pin(other[0]) if other else []
    mock = subprocess.Popen(args + [kmock] + sum((['-t', t] for t in topics), []),
                            stdout=subprocess.PIPE, text=True)
    return mock, mock.stdout.readline().strip()


def bench(pcap, nfprobe, kmock, runs, queries=('',)):
    """Returns the rows [(name, wall, cpu, broker cpu)] and {query: (cpu ratio, wall ratio)}."""
    p = pin(os.environ.get('BENCH_CPU', '0'))
    topics = ['k%d' % i for i in range(len(queries))]
    mock, brokers = start_mock(kmock, topics)
    try:
        base = p + [nfprobe, '-r', pcap, '--n-dissections', '0']
        cmds = {'--json /dev/null': base + ['--json', '/dev/null']}
        for t, q in zip(topics, queries):
            cmds['kafka%s' % (('?' + q) if q else '')] = \
                base + ['-c', 'kafka://%s/%s%s' % (brokers, t, ('?' + q) if q else '')]
        med = measure(cmds, runs, mock.pid)
    finally:
        mock.terminate()
        mock.wait()
    names = list(cmds)
    rows = [(n,) + med[n] for n in names]
    cj = med[names[0]]
    ratios = {q: (med[n][1] / cj[1], med[n][0] / cj[0]) for q, n in zip(queries, names[1:])}
    return rows, ratios


def main():
    pcap, nfprobe, kmock = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    queries = sys.argv[5:] or ['']
    rows, ratios = bench(pcap, nfprobe, kmock, runs, queries)
    print('offline, default fields, runs alternated, medians of %d; nfprobe pinned to CPU %s' %
          (runs, os.environ.get('BENCH_CPU', '0')))
    print('| command | wall s | nfprobe CPU s | mock broker CPU s |')
    print('|---|---|---|---|')
    for n, wall, cpu, mock in rows:
        print('| %s | %.2f | %.2f | %.2f |' % (n, wall, cpu, mock))
    for q, (rc, rw) in ratios.items():
        print('  kafka%s / (JSON to /dev/null): %.2fx CPU, %.2fx wall (target <= 1.2x)' %
              (('?' + q) if q else '', rc, rw))
    with open('/proc/loadavg') as f:
        print('  load average at the end: %s' % ' '.join(f.read().split()[:3]))


if __name__ == '__main__':
    main()
