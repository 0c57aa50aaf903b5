#!/bin/sh
# Live benchmark (root; a network namespace and veth pair it creates itself, nothing leaves the
# machine): the highest tcpreplay rate at which nfprobe --workers 1 and 2 see no kernel drop,
# beside softflowd on the same veth, in one run. Not a test: prints a table.
#   BENCH_LIVE_PACKETS=N   packets per replay (200000)
set -u
: "${BUILDDIR:=$(pwd)}"
NFPROBE=${NFPROBE:-$BUILDDIR/nfprobe}
MKPCAP=${MKPCAP:-$BUILDDIR/tools/mkpcap/mkpcap}
N=${BENCH_LIVE_PACKETS:-200000}
[ "$(id -u)" -eq 0 ] || { echo "live bench: needs root"; exit 1; }
T=$(mktemp -d /tmp/nfprobe-livebench.XXXXXX)
NS=nflb$$ VETH=nflb$$a VPEER=nflb$$b
cleanup() { pkill -f "$VETH" 2>/dev/null; ip link del "$VETH" 2>/dev/null; ip netns del "$NS" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
ip netns add "$NS" && ip link add "$VETH" type veth peer name "$VPEER" && ip link set "$VPEER" netns "$NS" &&
    ip link set "$VETH" up && ip netns exec "$NS" ip link set "$VPEER" up || exit 1
"$MKPCAP" bench "$T/live.pcap" --packets "$N" --flows $((N / 10)) 2>/dev/null

# One replay at `rate` packets/s (0 = top speed) while PROBE runs; prints the kernel drops.
run_nfprobe() { # workers rate
    "$NFPROBE" -i "$VETH" --workers "$1" --n-dissections 0 --socket-buffer-size 67108864 \
        --csv /dev/null 2>"$T/err" &
    pid=$!; sleep 1
    if [ "$2" = 0 ]; then opt=-t; else opt="--pps=$2"; fi
    ip netns exec "$NS" tcpreplay -q -i "$VPEER" $opt "$T/live.pcap" >/dev/null 2>&1
    sleep 1; kill -TERM $pid; wait $pid
    read_pk=$(sed -n 's/^nfprobe: \([0-9]*\) packets read.*/\1/p' "$T/err")
    drops=$(sed -n 's/.*capture dropped \([0-9]*\) packets (kernel).*/\1/p' "$T/err")
    echo "${drops:-0} ${read_pk:-0}"
}
run_softflowd() { # rate
    softflowd -i "$VETH" -n 127.0.0.1:9 -v 10 -m 2000000 -d -c "$T/sf.ctl" -p "$T/sf.pid" >/dev/null 2>&1 &
    pid=$!; sleep 1
    if [ "$1" = 0 ]; then opt=-t; else opt="--pps=$1"; fi
    ip netns exec "$NS" tcpreplay -q -i "$VPEER" $opt "$T/live.pcap" >/dev/null 2>&1
    sleep 1
    st=$(softflowctl -c "$T/sf.ctl" statistics 2>/dev/null)
    kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null
    drops=$(echo "$st" | sed -n 's/.*[Dd]ropped.*: *\([0-9]*\).*/\1/p' | head -1)
    got=$(echo "$st" | sed -n 's/.*[Pp]ackets processed.*: *\([0-9]*\).*/\1/p' | head -1)
    echo "${drops:-?} ${got:-?}"
}

echo "| tool | replay rate (pps) | kernel drops | packets seen of $N |"
echo "|---|---|---|---|"
for rate in 50000 100000 200000 400000 0; do
    for w in 1 2; do
        set -- $(run_nfprobe $w $rate)
        echo "| nfprobe --workers $w | ${rate:-top} | $1 | $2 |"
    done
    if command -v softflowd >/dev/null; then
        set -- $(run_softflowd $rate)
        echo "| softflowd | $rate | $1 | $2 |"
    fi
done
echo "(rate 0 = tcpreplay --topspeed)"
