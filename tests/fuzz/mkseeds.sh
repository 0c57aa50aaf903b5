#!/bin/sh
# mkseeds.sh - (re)writes the generated part of the fuzz seed corpora from mkpcap's captures.
#
#     tests/fuzz/mkseeds.sh BUILDDIR     (after `make`; run from the source tree's top)
#
# corpus/pcap: the small edge-case captures of `mkpcap edge` (pcap, pcapng, ns, big-endian,
# cut, garbage...). corpus/decode: single frames of `mkpcap sample` and of the edge captures,
# each prefixed by the fuzz_decode link-type byte. The hand-written seeds of the other
# corpora are not touched. Only generated data goes in: never third-party captures.
set -eu
build=${1:?usage: mkseeds.sh BUILDDIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/tools/mkpcap/mkpcap" edge "$tmp/edge" >/dev/null
"$build/tools/mkpcap/mkpcap" sample "$tmp/sample.pcap" >/dev/null

mkdir -p "$top/tests/fuzz/corpus/pcap" "$top/tests/fuzz/corpus/decode"
rm -f "$top/tests/fuzz/corpus/pcap/"*.pcap* "$top/tests/fuzz/corpus/decode/"*.frame
# Captures under 1 KiB: libFuzzer mutates small inputs far better than big ones.
for f in "$tmp/edge/"*.pcap "$tmp/edge/"*.pcapng; do
    [ "$(wc -c <"$f")" -le 1024 ] && cp "$f" "$top/tests/fuzz/corpus/pcap/"
done

python3 - "$top/tests/fuzz/corpus/decode" "$tmp/sample.pcap" "$tmp/edge"/edge_*.pcap <<'EOF'
import os, struct, sys
out, files = sys.argv[1], sys.argv[2:]
# fuzz_decode.c dlts[]: the index is the first byte of a seed.
DLTS = [1, 0, 9, 12, 50, 104, 113, 127, 228, 229, 147]
seen = set()
for path in files:
    data = open(path, 'rb').read()
    if len(data) < 24:
        continue
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        continue
    dlt = struct.unpack(e + 'I', data[20:24])[0] & 0x0fffffff
    if dlt not in DLTS:
        continue
    off, n, base = 24, 0, os.path.basename(path).rsplit('.', 1)[0]
    limit = 40 if base == 'sample' else 2
    while off + 16 <= len(data) and n < limit:
        caplen = struct.unpack(e + 'I', data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        # One seed per distinct frame start: the sample repeats its flows.
        key = frame[:54]
        if len(frame) != caplen or key in seen or caplen > 2048:
            continue
        seen.add(key)
        with open(os.path.join(out, '%s-%02d.frame' % (base, n)), 'wb') as f:
            f.write(bytes([DLTS.index(dlt)]) + frame)
        n += 1
        if base == 'sample' and dlt == 1 and frame[12:14] in (b'\x08\x00', b'\x86\xdd'):
            ip = frame[14:]
            v = 'v4' if frame[12:14] == b'\x08\x00' else 'v6'
            et = frame[12:14]
            # The same IP packet under every other link layer fuzz_decode knows.
            wraps = {0: [b'\x02\x00\x00\x00', b'\x00\x00\x00\x18'],
                     9: [et, b'\x0f\x00' + et], 12: [b''], 50: [b'\xff\x03' + et],
                     104: [b'\x0f\x00' + et, b'\x8f\x00' + et],
                     113: [b'\x00\x00\x00\x01\x00\x06' + frame[6:12] + b'\x00\x00' + et],
                     127: [b'\x00\x00\x08\x00\x00\x00\x00\x00' + b'\x08\x01\x00\x00' +
                           frame[0:6] + frame[6:12] + frame[0:6] + b'\x00\x00' +
                           b'\xaa\xaa\x03\x00\x00\x00' + et],
                     228 if v == 'v4' else 229: [b'']}
            for d, hdrs in wraps.items():
                for i, h in enumerate(hdrs):
                    name = 'wrap-%s-dlt%d-%d-%d.frame' % (v, d, i, n)
                    if ('%s-dlt%d-%d' % (v, d, i)) in seen:
                        continue
                    seen.add('%s-dlt%d-%d' % (v, d, i))
                    with open(os.path.join(out, name), 'wb') as f:
                        f.write(bytes([DLTS.index(d)]) + h + ip)
EOF
echo "corpus/pcap: $(ls "$top/tests/fuzz/corpus/pcap" | wc -l) files," \
    "corpus/decode: $(ls "$top/tests/fuzz/corpus/decode" | wc -l) files"
