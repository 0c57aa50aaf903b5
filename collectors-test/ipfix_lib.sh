# ipfix_lib.sh - helpers of the IPFIX collector tests, on top of lib.sh (sourced).
#
# Collectors are real programs on 127.0.0.1: nfcapd, `openssl s_server` (TLS, writes what it
# receives), and small python3 sinks that write what they receive to a file (UDP datagrams as
# they arrive, one file per TCP connection). ipfix2csv (libfixbuf's collecting API) and
# ipfixDump decode those files. Every background process is recorded in PIDS and killed by
# cleanup; waits poll with deadlines.
: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$SRCDIR/collectors-test/lib.sh"

IPFIX2CSV=${IPFIX2CSV:-$BUILDDIR/tools/ipfix2csv}
REGISTRY="$SRCDIR/templates/nfprobe-ie.xml"

# The name the scripts that source this file use for lib.sh's cleanup.
ipfix_cleanup() { cleanup; }

# start_udp_sink PORT FILE: appends every datagram to FILE. Sets SINK_PID.
start_udp_sink() {
    python3 -c 'import signal, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", int(sys.argv[1])))
out = open(sys.argv[2], "wb", buffering=0)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    out.write(s.recv(65536))' "$1" "$2" &
    SINK_PID=$!
    PIDS="$PIDS $SINK_PID"
    wait_for 100 udp_bound "$1" || { echo "udp sink did not bind $1"; return 1; }
}

# start_tcp_sink PORT PREFIX [ADDR]: accepts connections one after the other on ADDR
# (127.0.0.1 by default, or ::1), connection N is written to PREFIX.N (N from 1). Sets SINK_PID.
start_tcp_sink() {
    python3 -c 'import signal, socket, sys
addr = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, int(sys.argv[1])))
s.listen(4)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
n = 0
while True:
    c, _ = s.accept()
    n += 1
    with open("%s.%d" % (sys.argv[2], n), "wb", buffering=0) as out:
        while True:
            d = c.recv(65536)
            if not d:
                break
            out.write(d)
    c.close()' "$@" &
    SINK_PID=$!
    PIDS="$PIDS $SINK_PID"
    wait_for 100 tcp_listening "$1" || { echo "tcp sink did not listen on $1"; return 1; }
}

# start_tls_sink PORT FILE PKI: openssl s_server with mutual TLS (client certificates must
# chain to PKI/ca.pem); what it receives goes to FILE. Sets SINK_PID.
start_tls_sink() {
    [ -p "$TMP/tls.stdin" ] || mkfifo "$TMP/tls.stdin"
    openssl s_server -accept "127.0.0.1:$1" -cert "$3/server.pem" -key "$3/server.key" \
        -CAfile "$3/ca.pem" -Verify 1 -verify_return_error -quiet \
        <>"$TMP/tls.stdin" >"$2" 2>"$2.err" &
    SINK_PID=$!
    PIDS="$PIDS $SINK_PID"
    wait_for 100 tcp_listening "$1" ||
        { echo "s_server did not listen on $1:"; cat "$2.err"; return 1; }
}

# Column-by-column comparison of two NFStream CSVs: EXPECTED GOT NAME. Rows are matched by
# id; every column of EXPECTED must be in GOT with the same text.
csv_equal() {
    python3 - "$1" "$2" "$3" <<'PY'
import csv, sys
exp_path, got_path, name = sys.argv[1:4]
exp = list(csv.reader(open(exp_path)))
got = list(csv.reader(open(got_path)))
if not exp:
    print(f"{name}: nfprobe wrote no CSV"); sys.exit(1)
eh, gh = exp[0], got[0] if got else []
missing = [c for c in eh if c not in gh]
if missing:
    print(f"{name}: columns missing from the decoded CSV: {missing[:5]}"); sys.exit(1)
gi = {c: i for i, c in enumerate(gh)}
gby = {r[gi["id"]]: r for r in got[1:]}
bad = 0
for r in exp[1:]:
    g = gby.get(r[0])
    if g is None:
        bad += 1
        if bad <= 5: print(f"{name}: flow id {r[0]} not decoded")
        continue
    for i, c in enumerate(eh):
        if g[gi[c]] != r[i]:
            bad += 1
            if bad <= 5: print(f"{name}: flow {r[0]} {c}: nfprobe {r[i]!r}, decoded {g[gi[c]]!r}")
            break
extra = len(got) - len(exp)
if extra:
    print(f"{name}: {len(got) - 1} decoded flows, {len(exp) - 1} in nfprobe's CSV"); bad += 1
sys.exit(1 if bad else 0)
PY
}

# setup_export_test: the common start of an export test: the binaries are built, the shared
# data is there, a scratch directory and cleanup, and a throwaway PKI in $PKI with the probe's
# TLS flags in $TLS_OPTS.
setup_export_test() {
    [ -x "$NFPROBE" ] || { echo "FAIL: $NFPROBE not built"; exit 1; }
    [ -x "$IPFIX2CSV" ] || { echo "FAIL: $IPFIX2CSV not built"; exit 1; }
    need_shared
    collector_scratch
    PKI=$TMP/pki
    sh "$SRCDIR/collectors-test/tls_ca.sh" "$PKI" >"$TMP/pki.log" 2>&1 ||
        { echo "FAIL: tls_ca.sh:"; cat "$TMP/pki.log"; exit 1; }
    TLS_OPTS="--tls-ca $PKI/ca.pem --tls-cert $PKI/client.pem --tls-key $PKI/client.key"
}
