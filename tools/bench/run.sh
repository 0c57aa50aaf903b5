#!/bin/sh
# make bench: nfprobe beside the libpcap read floor, softflowd and ndpiReader on one generated
# capture, measured in the same run. Prints a Markdown table (packets/s, wall time, peak RSS,
# bytes per live flow), then a two-core table: CSV to /dev/null beside IPFIX to a UDP sink
# (unpaced) and to a TLS sink, runs alternated, wall time as a ratio of the CSV run (issue 12:
# at most 1.10x, metering and export overlapping on two cores). Not a test: numbers vary by
# machine; ratios measured together count.
#   BENCH_CPUS2=LIST     the two CPUs of the two-core table (0,1)
# Writes the table as bench.dat and the chart bench.png (gnuplot, Debian gnuplot-nox).
#   BENCH_PCAP=FILE      use this capture instead of generating one
#   BENCH_PACKETS=N BENCH_FLOWS=M   size of the generated capture (3000000 / 280000)
#   BENCH_RUNS=N         runs per command, the median is shown (3)
set -eu
: "${BUILDDIR:=$(pwd)}"
: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
NFPROBE=${NFPROBE:-$BUILDDIR/nfprobe}
MKPCAP=${MKPCAP:-$BUILDDIR/tools/mkpcap/mkpcap}
READFLOOR=${READFLOOR:-$BUILDDIR/tools/bench/readfloor}
PCAP=${BENCH_PCAP:-$BUILDDIR/bench.pcap}
if [ ! -f "$PCAP" ]; then
    echo "generating $PCAP" >&2
    "$MKPCAP" bench "$PCAP" --packets "${BENCH_PACKETS:-3000000}" --flows "${BENCH_FLOWS:-280000}"
fi
exec python3 "$SRCDIR/tools/bench/bench.py" "$PCAP" "$NFPROBE" "$READFLOOR" "${BENCH_RUNS:-3}" \
    "$BUILDDIR/sample.pcap"
