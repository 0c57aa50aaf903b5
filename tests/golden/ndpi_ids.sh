#!/bin/sh
# nDPI id translation for ntopng (issue 14.5): nfprobe's nDPI 4.2 ids into ntopng 6.2's nDPI 4.10.
#  1. tools/mkndpi-ids.sh makes the 4.10 table from the two releases' tables (read in place:
#     the table is nDPI's data, generated where needed, never committed).
#  2. Through nfprobe's own code (ndpi_ids.c, tests/unit/ndpi_ids_dump) with the 4.2 table as
#     the sender, every one of the ids whose name differs between the releases maps as the
#     tables say, the expectation computed here from the two TSVs: same name, else same symbol,
#     else the symbol tools/ndpi-renames.tsv renames it to, else nothing. Every other id keeps
#     its number. Three fixed cases besides: DCE_RPC 127 -> 370, AppleJuice 24 -> none,
#     Hotmail 21 -> 21.
#  3. With the sender's names from the linked libndpi (as nfprobe runs), the same result.
. "$(dirname "$0")/lib.sh"
need_shared
scratch
DUMP=$BUILDDIR/tests/unit/ndpi_ids_dump
[ -x "$DUMP" ] || { echo "FAIL: $DUMP not built"; exit 1; }
T42=$SHARED/data/ndpi-ids/ndpi-4.2.tsv
T410=$SHARED/data/ndpi-ids/ndpi-4.10.tsv
fails=0

if sh "$SRCDIR/tools/mkndpi-ids.sh" "$T410" "$T42" "$SRCDIR/tools/ndpi-renames.tsv" \
    >"$TMP/gen.ids" && [ -s "$TMP/gen.ids" ]; then
    echo "ok   tools/mkndpi-ids.sh made the 4.10 table"
else
    echo "FAIL tools/mkndpi-ids.sh"; fails=$((fails + 1))
fi

"$DUMP" "$TMP/gen.ids" "$T42" >"$TMP/tsv.out" || { echo "FAIL ndpi_ids_dump"; exit 1; }
"$DUMP" "$TMP/gen.ids" >"$TMP/lib.out" || { echo "FAIL ndpi_ids_dump (libndpi)"; exit 1; }

python3 - "$T42" "$T410" "$SRCDIR/tools/ndpi-renames.tsv" "$TMP/tsv.out" "$TMP/lib.out" <<'PY' || fails=$((fails + 1))
import sys
def table(p):
    rows = {}
    for l in open(p):
        if l.startswith('#') or not l.strip(): continue
        i, sym, name = l.rstrip('\n').split('\t')
        rows[int(i)] = (sym, name)
    return rows
old, new = table(sys.argv[1]), table(sys.argv[2])
ren = dict(l.rstrip('\n').split('\t') for l in open(sys.argv[3]) if l.strip() and not l.startswith('#'))
by_name = {}
for i, (s, n) in sorted(new.items()):
    by_name.setdefault(n, i)
by_sym = {s: i for i, (s, n) in new.items()}
def expect(i):
    sym, name = old[i]
    if name in by_name: return by_name[name]
    if sym in by_sym: return by_sym[sym]
    if ren.get(sym) in by_sym: return by_sym[ren[sym]]
    return None
def got(p):
    r = {}
    for l in open(p):
        i, n, to = l.rstrip('\n').split('\t')
        r[int(i)] = None if to == '-' else int(to)
    return r
bad = 0
differ = [i for i in old if i not in new or new[i][1] != old[i][1]]
for src in sys.argv[4:6]:
    g = got(src)
    for i in old:
        if g.get(i, 'absent') != expect(i):
            print("FAIL %s: %d %s -> %s, the tables say %s" % (src.rsplit('/', 1)[1], i, old[i][1], g.get(i), expect(i)))
            bad += 1
    for i, want in ((127, 370), (24, None), (21, 21)):
        if g.get(i, 'absent') != want:
            print("FAIL %d -> %s, want %s" % (i, g.get(i), want)); bad += 1
if len(differ) != 34:
    print("FAIL %d ids differ between the tables, the data says 34" % len(differ)); bad += 1
if bad == 0:
    moved = sum(1 for i in differ if expect(i) not in (None, i))
    none = sum(1 for i in differ if expect(i) is None)
    print("ok   %d ids that differ: %d renamed in place, %d moved, %d not in the receiver; %d ids in all, with the 4.2 table and with libndpi" % (len(differ), len(differ) - moved - none, moved, none, len(old)))
sys.exit(1 if bad else 0)
PY
[ "$fails" -eq 0 ] || exit 1
