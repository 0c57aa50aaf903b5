#!/usr/bin/env python3
"""Compare nfprobe's nDPI labels with nDPI 4.2's own reader (ndpiReader -v 2 output).

usage: ndpi_compare.py RESULTDIR CSVDIR [--min-app PCT] [--diffs N] [--label TEXT]

For every CSVDIR/NAME.csv (nfprobe --csv output for capture NAME) with a RESULTDIR/NAME.out,
flows are matched by (L4 protocol, both endpoints unordered, VLAN) and compared on application
(master.app name), category, server name and client/server fingerprint (JA3C/JA3S, HASSH).
Prints agreement figures and every application difference grouped by class. Exit 1 when the
application agrees on fewer than PCT% (default 98) of the matched flows, 2 on bad usage.
"""
import argparse
import collections
import csv
import ipaddress
import os
import re
import sys

L4 = {'TCP': 6, 'UDP': 17, 'ICMP': 1, 'ICMPV6': 58, 'VRRP': 112, 'IGMP': 2}

FLOW_RE = re.compile(r'^\t\d+\t(\S+) (\S+) (<->|->) (\S+) (.*)$')
ENDPOINT_RE = re.compile(r'^\[?(.*?)\]?:(\d+)$')
PKTS_RE = re.compile(r'\[(\d+) pkts/\d+ bytes (?:<->|->) (\d+) pkts/\d+ bytes\]')

# The protocols whose fingerprints NFStream collects, by nDPI 4.2 name.
JA3_PROTOS = {'TLS', 'DTLS', 'SMTPS', 'IMAPS', 'POPS', 'POP3S', 'QUIC'}


def addr(text):
    """An address in one spelling: ndpiReader writes "::" for a single zero group, glibc's
    inet_ntop() (NFStream, nfprobe) does not."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def endpoint(text):
    m = ENDPOINT_RE.match(text)
    if m is None:
        raise ValueError(f'bad endpoint {text!r}')
    return (addr(m.group(1)), int(m.group(2)))


def tag(rest, name):
    """Value of a [name: value] tag of an ndpiReader flow line, or None."""
    key = '[' + name + ': '
    i = rest.find(key)
    if i < 0:
        return None
    j = rest.find(']', i)
    return rest[i + len(key):j]


def load_reader(path):
    flows = []
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            m = FLOW_RE.match(line.rstrip('\n'))
            if m is None:
                continue
            proto, a, _, b, rest = m.groups()
            l4 = L4.get(proto, None)
            if l4 is None:
                l4 = int(proto)
            vlan = tag(rest, 'VLAN')
            app = tag(rest, 'proto').split('/', 1)[1]
            cat = tag(rest, 'cat')
            pk = PKTS_RE.search(rest)
            flows.append({
                'key': (l4, frozenset([endpoint(a), endpoint(b)]), int(vlan) if vlan else 0),
                'app': app,
                'cat': cat.rsplit('/', 1)[0] if cat else 'Unspecified',
                'confidence': tag(rest, 'Confidence') or '',
                'sni': tag(rest, 'Hostname/SNI') or '',
                'cfp': (tag(rest, 'JA3C') or tag(rest, 'HASSH-C') or '').split(' ')[0],
                'sfp': (tag(rest, 'JA3S') or tag(rest, 'HASSH-S') or '').split(' ')[0],
                'packets': int(pk.group(1)) + int(pk.group(2)) if pk else 0,
            })
    return flows


def load_probe(path):
    with open(path, newline='') as f:
        rows = list(csv.reader(f, escapechar='\\', doublequote=False))
    if not rows:
        return []
    h = {c: i for i, c in enumerate(rows[0])}
    flows = []
    for r in rows[1:]:
        app = r[h['application_name']]
        parts = set(app.split('.'))
        cfp = r[h['client_fingerprint']]
        sfp = r[h['server_fingerprint']]
        if 'DHCP' in parts:  # NFStream puts the DHCP fingerprint there; ndpiReader prints none
            cfp = ''
        flows.append({
            'key': (int(r[h['protocol']]),
                    frozenset([(addr(r[h['src_ip']]), int(r[h['src_port']])),
                               (addr(r[h['dst_ip']]), int(r[h['dst_port']]))]),
                    int(r[h['vlan_id']])),
            'app': app,
            'cat': r[h['application_category_name']],
            'guessed': r[h['application_is_guessed']] == '1',
            'confidence': r[h['application_confidence']],
            'sni': r[h['requested_server_name']],
            'cfp': cfp,
            'sfp': sfp,
            'packets': int(r[h['bidirectional_packets']]),
            'first': int(r[h['bidirectional_first_seen_ms']]),
        })
    return flows


def classify(rd, pr, n_dissections):
    """Why the application differs, as a short class name."""
    if pr['split'] and pr['packets'] < rd['packets']:
        return 'NFStream timeouts split the flow: its first part has fewer packets'
    if (n_dissections and pr['packets'] > n_dissections and rd['confidence'] == 'DPI' and
            (pr['guessed'] or pr['app'] == 'Unknown')):
        return ('nfprobe gave up after n_dissections packets; ndpiReader feeds up to 80 (TCP) '
                'or 24 (UDP) and found it by DPI')
    if pr['guessed'] and rd['confidence'] == 'DPI':
        return 'nfprobe guessed, ndpiReader found it by DPI'
    if pr['app'] == 'Unknown' and rd['app'] != 'Unknown':
        return 'nfprobe Unknown, ndpiReader labelled'
    if rd['app'] == 'Unknown':
        return 'ndpiReader Unknown, nfprobe labelled'
    if pr['guessed'] and rd['confidence'] != 'DPI':
        return 'both guessed, different guesses'
    ra, pa = rd['app'].split('.'), pr['app'].split('.')
    if ra[0] == pa[0] or ra[-1] == pa[-1]:
        return 'same family, different sub-protocol'
    return 'different protocol'


def main(argv):
    ap = argparse.ArgumentParser(usage=__doc__.strip().splitlines()[2])
    ap.add_argument('resultdir')
    ap.add_argument('csvdir')
    ap.add_argument('--min-app', type=float, default=98.0)
    ap.add_argument('--diffs', type=int, default=1000, help='application differences to list')
    ap.add_argument('--n-dissections', type=int, default=0)
    ap.add_argument('--label', default='')
    ap.add_argument('--unmatched', action='store_true', help='list flows only one side has')
    a = ap.parse_args(argv)

    matched = only_reader = only_probe = ambiguous = later = captures = 0
    agree = collections.Counter()
    with_value = collections.Counter()
    agree_value = collections.Counter()
    classes = collections.defaultdict(list)
    unmatched = []  # flows only one side has (later parts of split flows left out)
    other = []  # a label other than the application differs on a flow whose application agrees
    for name in sorted(os.listdir(a.csvdir)):
        if not name.endswith('.csv'):
            continue
        cap = name[:-4]
        out = os.path.join(a.resultdir, cap + '.out')
        if not os.path.exists(out):
            continue
        captures += 1
        reader = load_reader(out)
        probe = load_probe(os.path.join(a.csvdir, name))
        by_key = collections.defaultdict(list)
        for p in probe:
            by_key[p['key']].append(p)
        for rd in reader:
            cands = by_key.get(rd['key'])
            if not cands:
                only_reader += 1
                unmatched.append((cap, 'ndpiReader', rd))
                continue
            split = len(cands) > 1
            if split:
                # ndpiReader never expires a flow offline: one flow per 5-tuple for the whole
                # capture, labelled from its first packets. NFStream's idle (120 s) and active
                # (1800 s) timeouts split it: its first part is the one to compare.
                ambiguous += 1
                cands.sort(key=lambda p: p['first'])
            pr = cands.pop(0)
            pr['split'] = split
            for p in cands:
                p['later_part'] = True
            matched += 1
            for field in ('app', 'cat', 'sni', 'cfp', 'sfp'):
                rv, pv = rd[field], pr[field]
                if field == 'cat':
                    rv = rv[:24]  # NFStream copies 24 bytes of the category name
                if rv == pv:
                    agree[field] += 1
                if rv or pv:
                    with_value[field] += 1
                    if rv == pv:
                        agree_value[field] += 1
            if rd['app'] != pr['app']:
                classes[classify(rd, pr, a.n_dissections)].append((cap, rd, pr))
            else:
                for field in ('cat', 'sni', 'cfp', 'sfp'):
                    rv = rd[field][:24] if field == 'cat' else rd[field]
                    if rv != pr[field]:
                        other.append((cap, field, rd, pr))
        for v in by_key.values():
            only_probe += len(v)
            later += sum(1 for p in v if p.get('later_part'))
            unmatched.extend((cap, 'nfprobe', p) for p in v if not p.get('later_part'))

    if matched == 0:
        print(f'{a.label}no flow matched ({captures} captures)')
        return 1
    pct = lambda n, d: 100.0 * n / d if d else 100.0
    print(f'{a.label}{captures} captures, {matched} flows matched by 5-tuple '
          f'({ambiguous} of them split by NFStream timeouts into {ambiguous + later} flows); '
          f'{only_reader} only in ndpiReader, {only_probe - later} only in nfprobe')
    names = {'app': 'application', 'cat': 'category', 'sni': 'server name',
             'cfp': 'client fingerprint (JA3C/HASSH-C)', 'sfp': 'server fingerprint (JA3S/HASSH-S)'}
    for field in ('app', 'cat', 'sni', 'cfp', 'sfp'):
        print(f'{a.label}  {names[field]:36s} {agree[field]:6d}/{matched} '
              f'= {pct(agree[field], matched):6.2f}%   where either side has one: '
              f'{agree_value[field]}/{with_value[field]} = '
              f'{pct(agree_value[field], with_value[field]):.2f}%')
    shown = 0
    for cls in sorted(classes, key=lambda c: -len(classes[c])):
        print(f'{a.label}  application differs: {len(classes[cls])} x {cls}')
        for cap, rd, pr in classes[cls]:
            if shown >= a.diffs:
                break
            shown += 1
            eps = sorted(rd['key'][1])
            print(f'{a.label}    {cap}: proto {rd["key"][0]} {eps[0][0]}:{eps[0][1]} '
                  f'{eps[-1][0]}:{eps[-1][1]}: ndpiReader {rd["app"]} ({rd["confidence"]}, '
                  f'{rd["packets"]} pkts) / nfprobe {pr["app"]} (guessed {int(pr["guessed"])}, '
                  f'{pr["packets"]} pkts)')
    for cap, field, rd, pr in other[:a.diffs]:
        eps = sorted(rd['key'][1])
        why = ''
        if field == 'sni' and 'SSH' in rd['app'].split('.'):
            why = ' (ndpiReader shows the SSH client banner as Hostname; NFStream takes ' \
                  'host_server_name)'
        print(f'{a.label}  {names[field]} differs: {cap}: proto {rd["key"][0]} '
              f'{eps[0][0]}:{eps[0][1]} {eps[-1][0]}:{eps[-1][1]} ({rd["app"]}): '
              f'ndpiReader "{rd[field]}" / nfprobe "{pr[field]}"{why}')
    per_cap = collections.Counter((side, cap) for cap, side, _ in unmatched)
    if per_cap:
        print(f'{a.label}  unmatched flows by capture: ' +
              ', '.join(f'{cap} {n} only in {side}' for (side, cap), n in sorted(per_cap.items())))
    if a.unmatched:
        for cap, side, fl in unmatched:
            eps = sorted(fl['key'][1])
            print(f'{a.label}  only in {side}: {cap}: proto {fl["key"][0]} vlan {fl["key"][2]} '
                  f'{eps[0][0]}:{eps[0][1]} {eps[-1][0]}:{eps[-1][1]} {fl["app"]} '
                  f'{fl["packets"]} pkts')
    app_pct = pct(agree['app'], matched)
    if app_pct < a.min_app:
        print(f'{a.label}FAIL: application agreement {app_pct:.2f}% < {a.min_app}%')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
