#!/bin/sh
# The memory budget (--max-memory): it sizes the flow table, a full table evicts and counts as
# before (flowEndReason lackOfResources), absurd values are refused with one line naming the
# flag, and --splt-analysis 65535 (NFStream's maximum) is sized within the budget.
. "$(dirname "$0")/lib.sh"
scratch
fails=0
check() { # check NAME COMMAND...
    name=$1; shift
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
expect_error() { # expect_error WORD ARGS...: exit 1 and a one-line message naming WORD
    word=$1; shift
    "$NFPROBE" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ $rc -eq 1 ] && grep -q -- "$word" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ] ||
        { echo "  rc $rc: $(cat "$TMP/err")"; return 1; }
}
"$MKPCAP" bench "$TMP/b.pcap" --packets 30000 --flows 3000 >/dev/null 2>&1 || exit 99

# 1 MiB holds a few hundred flows of the 3000 alive: the budget sizes the table...
"$NFPROBE" -r "$TMP/b.pcap" --max-memory 1M -v --csv "$TMP/budget.csv" 2>"$TMP/budget.log" ||
    { cat "$TMP/budget.log"; exit 1; }
n=$(sed -n 's/.*flow tables: 1 x \([0-9]*\) flows.*/\1/p' "$TMP/budget.log")
ev=$(sed -n 's/.*, \([0-9]*\) evicted (table full).*/\1/p' "$TMP/budget.log")
check "budget sizes the table" sh -c '[ -n "$1" ] && [ "$1" -ge 16 ] && [ "$1" -lt 3000 ]' _ "$n"
check "the budget says it wins" grep -q "the budget wins over --max-flows" "$TMP/budget.log"
check "a full table evicts" [ "${ev:-0}" -gt 0 ]
# ... exactly as --max-flows of that size does: same flows, same evictions counted.
"$NFPROBE" -r "$TMP/b.pcap" --max-flows "$n" -v --csv "$TMP/flows.csv" 2>"$TMP/flows.log"
ev2=$(sed -n 's/.*, \([0-9]*\) evicted (table full).*/\1/p' "$TMP/flows.log")
check "same evictions as --max-flows $n" [ "$ev" = "$ev2" ]
check "same flows as --max-flows $n" cmp -s "$TMP/budget.csv" "$TMP/flows.csv"
check "--max-flows wins when smaller" sh -c \
    "'$NFPROBE' -r '$TMP/b.pcap' -n --max-memory 1M --max-flows 20 | grep -q '1 x 20 flows.*--max-flows wins'"

# Refused: out of range, below the minimum, beyond the machine, a slot the budget cannot hold,
# and NFStream's own ranges.
check "max-memory not a size"  expect_error "max-memory" -r "$TMP/b.pcap" --max-memory lots
check "max-memory too small"   expect_error "max-memory" -r "$TMP/b.pcap" --max-memory 1000
check "max-memory > RAM"       expect_error "max-memory" -r "$TMP/b.pcap" --max-memory 1000000G
check "budget < 16 flows"      expect_error "max-memory" -r "$TMP/b.pcap" --max-memory 4M \
    --splt-analysis 65535
check "splt-analysis 65536"    expect_error "splt-analysis" -r "$TMP/b.pcap" --splt-analysis 65536
check "n-dissections 256"      expect_error "n-dissections" -r "$TMP/b.pcap" --n-dissections 256
check "accounting-mode 4"      expect_error "accounting-mode" -r "$TMP/b.pcap" --accounting-mode 4
check "idle-timeout -1"        expect_error "idle-timeout" -r "$TMP/b.pcap" --idle-timeout -1
check "max-flows 0"            expect_error "max-flows" -r "$TMP/b.pcap" --max-flows 0

# NFStream allows --splt-analysis 65535: the table is sized to fit the budget, and runs.
"$NFPROBE" -r "$TMP/b.pcap" -n --statistical-analysis --splt-analysis 65535 --max-memory 64M \
    >"$TMP/n.out" 2>&1
line=$(grep '^# flow tables' "$TMP/n.out")
kib=$(echo "$line" | sed -n 's/.*= \([0-9]*\) KiB of the.*/\1/p')
check "splt 65535 sized within 64M" sh -c '[ -n "$1" ] && [ "$1" -le 65536 ]' _ "$kib"
check "splt 65535 runs in 64M" "$NFPROBE" -r "$TMP/b.pcap" --statistical-analysis \
    --splt-analysis 65535 --max-memory 64M --csv /dev/null 2>/dev/null

[ $fails -eq 0 ]
