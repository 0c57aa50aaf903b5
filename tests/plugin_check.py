#!/usr/bin/env python3
"""Cross-checks of the example plugins' columns against the built-in ones (plugin_golden.sh).

  plugin_check.py splt CSV...             udps.splt_* equal splt_* in every row
  plugin_check.py p666 CSV...             udps.packet_with_666_size against splt_ps (N=20)
  plugin_check.py slicer LIMIT FULL SLICED   NFStream's FlowSlicer semantics (spec 6.3)
  plugin_check.py builtins PLAIN PLUGGED...  plugins that do not end flows leave every built-in
                                          column as the run without them had it (pairs)
  plugin_check.py v9 DUMP CSV FIELD...    plugin fields in NetFlow v9 records equal the CSV's
                                          (DUMP: datagrams, each after its 4-octet length)

Each prints one summary line; exit status 1 on any disagreement (the first few are shown).
"""
import collections
import csv
import struct
import sys


def rows(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def fail(msgs):
    for m in msgs[:5]:
        print('  ' + m)
    return 1 if msgs else 0


def check_splt(paths):
    bad, n = [], 0
    for p in paths:
        for r in rows(p):
            n += 1
            for c in ('splt_direction', 'splt_ps', 'splt_piat_ms'):
                if r[c] != r['udps.' + c]:
                    bad.append('%s flow %s: %s %s != udps %s' % (p, r['id'], c, r[c],
                                                                r['udps.' + c]))
    print('splt plugin: %d flows, %d disagreements with the built-in SPLT' % (n, len(bad)))
    if n == 0:
        bad.append('no flows at all')
    return fail(bad)


def check_p666(paths):
    """Flows of at most 20 packets: the count equals the 666s among splt_ps (raw sizes);
    longer flows: at least as many as in their first 20."""
    bad, n, total = [], 0, 0
    for p in paths:
        for r in rows(p):
            n += 1
            got = int(r['udps.packet_with_666_size'])
            total += got
            first = [int(x) for x in r['splt_ps'].strip('[]').split(', ')].count(666)
            if int(r['bidirectional_packets']) <= 20 and got != first or got < first:
                bad.append('%s flow %s: %d, splt_ps has %d' % (p, r['id'], got, first))
    print('packet_with_666_size: %d flows, %d packets of 666 octets counted, %d disagreements'
          % (n, total, len(bad)))
    if total == 0:
        bad.append('no 666-octet packet in these captures: the check proves nothing')
    return fail(bad)


def key(r):
    a = (r['src_ip'], int(r['src_port']))
    b = (r['dst_ip'], int(r['dst_port']))
    return (min(a, b), max(a, b), r['protocol'], r['vlan_id'], r.get('tunnel_id'))


def check_slicer(limit, full_path, sliced_path):
    """Per 5-tuple, slices hold the same packets and bytes as the unsliced flows; a slice ends
    with expiration_id -1 exactly when it reached `limit` packets; a 5-tuple that was one flow
    becomes ceil(packets / limit) slices."""
    limit = int(limit)
    full, sliced = rows(full_path), rows(sliced_path)
    fk, sk = collections.defaultdict(list), collections.defaultdict(list)
    for r in full:
        fk[key(r)].append(r)
    for r in sliced:
        sk[key(r)].append(r)
    bad = []
    if set(fk) != set(sk):
        bad.append('%s: 5-tuples differ' % sliced_path)
    for k in fk:
        for c in ('bidirectional_packets', 'bidirectional_bytes'):
            a = sum(int(r[c]) for r in fk[k])
            b = sum(int(r[c]) for r in sk.get(k, []))
            if a != b:
                bad.append('%s %s: %s %d unsliced, %d sliced' % (sliced_path, k, c, a, b))
        if len(fk[k]) == 1:
            p = int(fk[k][0]['bidirectional_packets'])
            if len(sk.get(k, [])) != -(-p // limit):
                bad.append('%s %s: %d packets in %d slices' % (sliced_path, k, p, len(sk[k])))
    custom = 0
    for r in sliced:
        p, e = int(r['bidirectional_packets']), int(r['expiration_id'])
        custom += e == -1
        if p > limit or (e == -1) != (p == limit):
            bad.append('%s flow %s: %d packets, expiration_id %d' % (sliced_path, r['id'], p, e))
    return bad, len(full), len(sliced), custom


def v9_id(field):
    """The element id nfprobe derives from a field name (FNV-1a, 8192..16383), and its v9 id."""
    h = 2166136261
    for c in field.encode():
        h = ((h ^ c) * 16777619) & 0xffffffff
    ipfix = 8192 + h % 8192
    return 53376 + ipfix % 4096


def v9_records(path):
    """Every data record of the v9 datagrams in path, as {field type: octets}."""
    data = open(path, 'rb').read()
    templates, recs, off = {}, [], 0
    while off + 4 <= len(data):
        (n,) = struct.unpack('!I', data[off:off + 4])
        pkt, off = data[off + 4:off + 4 + n], off + 4 + n
        if len(pkt) < 20 or struct.unpack('!H', pkt[:2])[0] != 9:
            raise SystemExit('%s: not a NetFlow v9 packet' % path)
        p = 20
        while p + 4 <= len(pkt):
            sid, slen = struct.unpack('!HH', pkt[p:p + 4])
            if slen < 4:
                break
            body = pkt[p + 4:p + slen]
            if sid == 0:
                q = 0
                while q + 4 <= len(body):
                    tid, cnt = struct.unpack('!HH', body[q:q + 4])
                    fields = [struct.unpack('!HH', body[q + 4 + 4 * k:q + 8 + 4 * k])
                              for k in range(cnt)]
                    templates[tid] = fields
                    q += 4 + 4 * cnt
            elif sid >= 256 and sid in templates:
                size = sum(l for _, l in templates[sid])
                q = 0
                while size > 0 and q + size <= len(body):
                    r, k = {}, q
                    for t, l in templates[sid]:
                        r[t] = body[k:k + l]
                        k += l
                    recs.append(r)
                    q += size
            p += slen
    return recs


def v9_value(col, raw, ref):
    """A v9 field's octets as the CSV prints the column (ref: the CSV text, for its shape)."""
    if ref.startswith('['):
        n = ref.count(',') + 1
        w = len(raw) // n
        return str([int.from_bytes(raw[i:i + w], 'big', signed=True)
                    for i in range(0, len(raw), w)])
    try:
        int(ref)
        return str(int.from_bytes(raw, 'big'))
    except ValueError:
        pass
    try:
        float(ref)
        return repr(struct.unpack('!d', raw)[0])
    except ValueError:
        return raw.rstrip(b'\0').decode()


def check_v9(dump, csv_path, fields):
    rows = list(csv.DictReader(open(csv_path, newline='')))
    recs = v9_records(dump)
    ids = {f: v9_id(f) for f in fields}
    flows = [r for r in recs if all(i in r for i in ids.values())]
    want = sorted(tuple(r['udps.' + f] for f in fields) for r in rows)
    got = sorted(tuple(v9_value(f, r[ids[f]], rows[0]['udps.' + f]) for f in fields)
                 for r in flows) if rows else []
    print('NetFlow v9: %d flows in the CSV, %d records carry udps.%s (v9 ids %s): %s'
          % (len(rows), len(flows), ', udps.'.join(fields),
             ' '.join(str(ids[f]) for f in fields), 'the same values' if want == got and rows
             else 'they differ'))
    if want != got or not rows:
        return fail(['CSV %s / v9 %s' % (a, b) for a, b in zip(want, got) if a != b] or
                    ['%d CSV rows, %d v9 records' % (len(want), len(got))])
    return 0


def check_builtins(pairs):
    bad, n = [], 0
    for i in range(0, len(pairs), 2):
        plain, plugged = rows(pairs[i]), rows(pairs[i + 1])
        if len(plain) != len(plugged):
            bad.append('%s: %d flows, %s: %d' % (pairs[i], len(plain), pairs[i + 1], len(plugged)))
            continue
        for a, b in zip(plain, plugged):
            n += 1
            extra = [c for c in b if c not in a and not c.startswith('udps.')]
            if extra or any(a[c] != b.get(c) for c in a):
                bad.append('%s flow %s: built-in columns differ with plugins' % (pairs[i + 1],
                                                                            a['id']))
    print('built-in columns with plugins: %d flows, %d disagreements' % (n, len(bad)))
    if n == 0:
        bad.append('no flows at all')
    return fail(bad)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    if argv[1] == 'splt':
        return check_splt(argv[2:])
    if argv[1] == 'p666':
        return check_p666(argv[2:])
    if argv[1] == 'builtins':
        return check_builtins(argv[2:])
    if argv[1] == 'v9':
        return check_v9(argv[2], argv[3], argv[4:])
    if argv[1] == 'slicer':
        # slicer LIMIT FULL SLICED [FULL SLICED ...]
        limit, pairs = argv[2], argv[3:]
        bad, nf, ns, nc = [], 0, 0, 0
        for i in range(0, len(pairs), 2):
            b, f, s, c = check_slicer(limit, pairs[i], pairs[i + 1])
            bad += b
            nf, ns, nc = nf + f, ns + s, nc + c
        print('slicer limit=%s: %d flows became %d slices, %d ended by the plugin (-1), '
              '%d disagreements' % (limit, nf, ns, nc, len(bad)))
        if nc == 0:
            bad.append('no flow reached the limit: the check proves nothing')
        return fail(bad)
    print(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
