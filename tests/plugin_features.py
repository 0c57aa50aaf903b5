#!/usr/bin/env python3
"""Early-classification features from nfprobe's CSV, for LIBLINEAR (tests/golden/plugin_model.sh).

The features are exactly those probe/plugins/model.c computes inside the probe from the first N
packets of a flow, here computed from the built-in SPLT columns (--splt-analysis N), so that a
model trained offline sees the same numbers as the plugin:

  1..N         packet size signed by direction (+ src->dst, - dst->src) / 1500
  N+1..2N      log1p(inter-arrival ms) / 10, packets 2..N (packet 1 has none)
  2N+1         packets seen among the first N, / N
  2N+2..2N+4   protocol: TCP, UDP, other
  2N+5..       server (dst) port one-hot over PORTS, then "other < 1024", "other >= 1024";
               then the same for the client (src) port
The label is application_category_name (nDPI); flows nDPI left "Unspecified" are not learnt.

  plugin_features.py train --packets N --out FEATS --labels LABELS CSV...
      LIBSVM lines for the labelled flows; LABELS: "# nfprobe model labels: packets=N", then one
      "ID NAME" line per class (what model.so reads); prints the majority class.
  plugin_features.py test --labels LABELS --out FEATS --index INDEX CSV...
      LIBSVM lines for every flow of CSV (label 0 when its category was not learnt); INDEX says
      which CSV row each line is.
  plugin_features.py evaluate --labels LABELS --index INDEX --predictions PRED --majority NAME
      PRED is `liblinear-predict -b 1` output for FEATS. Checks that model.so's udps.model_class
      and udps.model_probability (in the CSVs) equal liblinear-predict's on every flow, and
      prints the accuracy on the labelled flows beside the majority-class baseline. Exit 1 on
      any disagreement or when the model does not beat the baseline.
"""
import argparse
import collections
import csv
import math
import sys

PORTS = [53, 80, 443, 123, 137, 138, 67, 68, 5353, 1900, 22, 25, 110, 143, 993, 995, 8080, 3478,
         5223, 445, 389, 161]
UNKNOWN = 'Unspecified'


def port_slot(p):
    if p in PORTS:
        return PORTS.index(p)
    return len(PORTS) if p < 1024 else len(PORTS) + 1


def int_list(s):
    return [int(x) for x in s.strip('[]').split(', ')]


def features(r, n_pk):
    """{index: value} of one CSV row, as model.c computes them (same operations, same order)."""
    d = int_list(r['splt_direction'])
    ps = int_list(r['splt_ps'])
    piat = int_list(r['splt_piat_ms'])
    if len(d) < n_pk:
        raise SystemExit('the CSV has %d SPLT entries, the model needs %d' % (len(d), n_pk))
    n = sum(1 for x in d[:n_pk] if x != -1)
    f = {}
    for i in range(n):
        v = (-1.0 if d[i] else 1.0) * ps[i] / 1500.0
        if v != 0.0:
            f[1 + i] = v
    for i in range(1, n):
        v = math.log1p(piat[i]) / 10.0
        if v != 0.0:
            f[1 + n_pk + i] = v
    f[2 * n_pk + 1] = n / n_pk
    proto = int(r['protocol'])
    f[2 * n_pk + 2 + (0 if proto == 6 else 1 if proto == 17 else 2)] = 1.0
    f[2 * n_pk + 5 + port_slot(int(r['dst_port']))] = 1.0
    f[2 * n_pk + 5 + len(PORTS) + 2 + port_slot(int(r['src_port']))] = 1.0
    return f


def libsvm(label, f):
    return '%d %s\n' % (label, ' '.join('%d:%r' % (k, f[k]) for k in sorted(f)))


def rows(paths):
    for p in paths:
        with open(p, newline='') as fh:
            for r in csv.DictReader(fh):
                yield p, r


def read_labels(path):
    names = {}
    with open(path) as fh:
        head = fh.readline()
        n_pk = int(head.split('packets=')[1])
        for line in fh:
            i, name = line.rstrip('\n').split(' ', 1)
            names[name] = int(i)
    return n_pk, names


def train(a):
    data = [(r['application_category_name'], features(r, a.packets))
            for _, r in rows(a.csv) if r['application_category_name'] != UNKNOWN]
    counts = collections.Counter(c for c, _ in data)
    ids = {name: i + 1 for i, name in enumerate(sorted(counts))}
    with open(a.labels, 'w') as fh:
        fh.write('# nfprobe model labels: packets=%d\n' % a.packets)
        for name in sorted(ids):
            fh.write('%d %s\n' % (ids[name], name))
    with open(a.out, 'w') as fh:
        for c, f in data:
            fh.write(libsvm(ids[c], f))
    major, n_major = counts.most_common(1)[0]
    print('training set: %d labelled flows from %d captures, %d classes; majority %s (%d)'
          % (len(data), len(a.csv), len(ids), major, n_major))
    print('majority=%s' % major)


def test(a):
    n_pk, ids = read_labels(a.labels)
    with open(a.out, 'w') as out, open(a.index, 'w') as idx:
        for p, r in rows(a.csv):
            out.write(libsvm(ids.get(r['application_category_name'], 0), features(r, n_pk)))
            idx.write('%s\t%s\n' % (p, r['id']))


def evaluate(a):
    _, ids = read_labels(a.labels)
    name_of = {i: n for n, i in ids.items()}
    with open(a.predictions) as fh:
        order = [int(x) for x in fh.readline().split()[1:]]
        preds = [line.split() for line in fh]
    index = [line.rstrip('\n').split('\t') for line in open(a.index)]
    by_file = collections.defaultdict(dict)
    for p in sorted(set(p for p, _ in index)):
        for _, r in rows([p]):
            by_file[p][r['id']] = r
    if len(preds) != len(index):
        raise SystemExit('%d predictions for %d flows' % (len(preds), len(index)))
    bad, n, right, base, labelled = [], 0, 0, 0, 0
    for (p, fid), pr in zip(index, preds):
        r = by_file[p][fid]
        n += 1
        want = name_of[int(pr[0])]
        prob = float(pr[1 + order.index(int(pr[0]))])
        got, gprob = r['udps.model_class'], float(r['udps.model_probability'])
        # liblinear-predict prints %g (6 significant digits)
        if got != want or abs(gprob - prob) > 1e-5 * max(1.0, prob):
            bad.append('%s flow %s: plugin %s %r, liblinear-predict %s %r'
                       % (p, fid, got, gprob, want, prob))
        cat = r['application_category_name']
        if cat != UNKNOWN:
            labelled += 1
            right += got == cat
            base += cat == a.majority
    print('model on captures it did not train on: %d flows, %d labelled by nDPI' % (n, labelled))
    if labelled == 0:
        print('FAIL: no labelled test flow')
        return 1
    print('accuracy %.1f%% (%d of %d), majority-class (%s) baseline %.1f%%'
          % (100.0 * right / labelled, right, labelled, a.majority, 100.0 * base / labelled))
    print('plugin vs liblinear-predict on the same flows: %d disagreements' % len(bad))
    for b in bad[:5]:
        print('  ' + b)
    if bad:
        return 1
    if right <= base:
        print('FAIL: the model does not beat the majority class')
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    t = sub.add_parser('train')
    t.add_argument('--packets', type=int, required=True)
    t.add_argument('--out', required=True)
    t.add_argument('--labels', required=True)
    t.add_argument('csv', nargs='+')
    s = sub.add_parser('test')
    s.add_argument('--labels', required=True)
    s.add_argument('--out', required=True)
    s.add_argument('--index', required=True)
    s.add_argument('csv', nargs='+')
    e = sub.add_parser('evaluate')
    e.add_argument('--labels', required=True)
    e.add_argument('--index', required=True)
    e.add_argument('--predictions', required=True)
    e.add_argument('--majority', required=True)
    a = ap.parse_args()
    if a.cmd == 'train':
        train(a)
    elif a.cmd == 'test':
        test(a)
    else:
        return evaluate(a)
    return 0


if __name__ == '__main__':
    sys.exit(main())
