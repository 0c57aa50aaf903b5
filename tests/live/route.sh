#!/bin/sh
# FIB lookups (probe/route.c) on a router in network namespaces this test creates (root only;
# skipped otherwise): namespace R with two veth links, a0 (10.1.0.1/24, fd01::1/64) towards
# namespace A and b0 (10.2.0.1/24, fd02::1/64) towards namespace B, and routes through them.
# tests/unit/rt_query runs inside R, looks up destinations (cached), and the routes change
# during the run (replaced, a more-specific added, one deleted): every lookup must show the
# next hop, interface and prefix length the FIB has at that moment, repeated lookups must come
# from the cache, and the changes must invalidate exactly what they cover.
. "$(dirname "$0")/../golden/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for ip netns"
command -v ip >/dev/null || skip "iproute2 not installed"
RT_QUERY=${RT_QUERY:-$BUILDDIR/tests/unit/rt_query}
[ -x "$RT_QUERY" ] || { echo "FAIL: $RT_QUERY not built"; exit 1; }
scratch
R=nfrtR$$ A=nfrtA$$ B=nfrtB$$
cleanup() {
    ip netns del "$R" 2>/dev/null
    ip netns del "$A" 2>/dev/null
    ip netns del "$B" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$R" || skip "cannot create a network namespace here"
ip netns add "$A" && ip netns add "$B" || exit 1
inr() { ip netns exec "$R" "$@"; }
ip -n "$R" link add a0 type veth peer name a1 netns "$A" || exit 1
ip -n "$R" link add b0 type veth peer name b1 netns "$B" || exit 1
for l in a0 b0; do ip -n "$R" link set "$l" up; done
ip -n "$A" link set a1 up
ip -n "$B" link set b1 up
ip -n "$R" addr add 10.1.0.1/24 dev a0
ip -n "$R" addr add 10.2.0.1/24 dev b0
ip -n "$R" addr add fd01::1/64 dev a0 nodad
ip -n "$R" addr add fd02::1/64 dev b0 nodad
ip -n "$R" route add 192.0.2.0/24 via 10.1.0.2 dev a0
ip -n "$R" route add 198.51.100.0/24 via 10.2.0.2 dev b0
ip -n "$R" route add 203.0.113.0/24 via 10.1.0.2 dev a0
ip -n "$R" route add 203.0.113.0/25 via 10.2.0.2 dev b0
ip -n "$R" -6 route add 2001:db8:1::/48 via fd01::2 dev a0
ip -n "$R" -6 route add 2001:db8:2::/48 via fd02::2 dev b0

cat >"$TMP/script" <<'S'
get 192.0.2.1
get 192.0.2.200
get 198.51.100.9
get 203.0.113.5
get 203.0.113.200
get 2001:db8:1::1
get 2001:db8:2::1
get 10.2.0.7
get 8.8.8.8
get 192.0.2.1
get 2001:db8:1::1
stats
run ip route replace 192.0.2.0/24 via 10.2.0.2 dev b0
get 192.0.2.1
get 198.51.100.9
run ip route add 192.0.2.128/25 via 10.1.0.2 dev a0
get 192.0.2.200
get 192.0.2.1
run ip route del 203.0.113.0/25
get 203.0.113.5
get 203.0.113.200
run ip -6 route replace 2001:db8:1::/48 via fd02::2 dev b0
get 2001:db8:1::1
get 2001:db8:2::1
run ip route add default via 10.1.0.2 dev a0
get 8.8.8.8
get 198.51.100.9
run ip route add blackhole 198.51.100.0/26
get 198.51.100.9
stats
S
inr "$RT_QUERY" 256 <"$TMP/script" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat >"$TMP/want" <<'W'
get 192.0.2.1: via 10.1.0.2 dev a0 plen 24 miss
get 192.0.2.200: via 10.1.0.2 dev a0 plen 24 miss
get 198.51.100.9: via 10.2.0.2 dev b0 plen 24 miss
get 203.0.113.5: via 10.2.0.2 dev b0 plen 25 miss
get 203.0.113.200: via 10.1.0.2 dev a0 plen 24 miss
get 2001:db8:1::1: via fd01::2 dev a0 plen 48 miss
get 2001:db8:2::1: via fd02::2 dev b0 plen 48 miss
get 10.2.0.7: via direct dev b0 plen 24 miss
get 8.8.8.8: no route miss
get 192.0.2.1: via 10.1.0.2 dev a0 plen 24 hit
get 2001:db8:1::1: via fd01::2 dev a0 plen 48 hit
get 192.0.2.1: via 10.2.0.2 dev b0 plen 24 miss
get 198.51.100.9: via 10.2.0.2 dev b0 plen 24 hit
get 192.0.2.200: via 10.1.0.2 dev a0 plen 25 miss
get 192.0.2.1: via 10.2.0.2 dev b0 plen 24 hit
get 203.0.113.5: via 10.1.0.2 dev a0 plen 24 miss
get 203.0.113.200: via 10.1.0.2 dev a0 plen 24 hit
get 2001:db8:1::1: via fd02::2 dev b0 plen 48 miss
get 2001:db8:2::1: via fd02::2 dev b0 plen 48 hit
get 8.8.8.8: via 10.1.0.2 dev a0 plen 0 miss
get 198.51.100.9: via 10.2.0.2 dev b0 plen 24 miss
get 198.51.100.9: no route miss
W
fails=0
# A default route invalidates every IPv4 entry (198.51.100.9 is then looked up again and
# still matches its /24); a blackhole /26 answers "no route".
if ! grep -v '^stats' "$TMP/out" | diff -u "$TMP/want" - ; then
    echo "FAIL: lookups differ from the FIB (above: - expected, + rt_query)"; fails=1
fi
grep '^stats' "$TMP/out" | head -1 | grep -qx 'stats: lookups 11 hits 2 misses 9 notifications 0 invalidated 0' ||
    { echo "FAIL: first stats: $(grep '^stats' "$TMP/out" | head -1)"; fails=1; }
last=$(grep '^stats' "$TMP/out" | tail -1)
notif=$(echo "$last" | sed -n 's/.*notifications \([0-9]*\).*/\1/p')
[ "${notif:-0}" -ge 6 ] || { echo "FAIL: route changes not notified: $last"; fails=1; }
# The kernel's own answer for each destination now, as a cross-check of the last state.
for d in 192.0.2.1 192.0.2.200 203.0.113.5 8.8.8.8; do
    k=$(inr ip -o route get "$d" | sed -n 's/.* via \([^ ]*\) dev \([^ ]*\).*/via \1 dev \2/p')
    o=$(grep "^get $d:" "$TMP/out" | tail -1 | sed -n 's/.*: \(via [^ ]* dev [^ ]*\).*/\1/p')
    [ "$k" = "$o" ] || { echo "FAIL: $d: ip route get says '$k', rt_query '$o'"; fails=1; }
done
[ $rc -eq 0 ] || { echo "FAIL: rt_query exit $rc"; cat "$TMP/err"; fails=1; }
[ $fails -eq 0 ] && echo "ok: $(grep -c '^get' "$TMP/out") lookups follow the FIB through 6 route changes ($last)"
exit $fails
