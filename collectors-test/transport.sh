#!/bin/sh
# Collector test: the TCP and TLS transport end to end, against real servers on loopback.
#
# tests/unit/tx_send pushes numbered messages through tx_* (probe/transport.c) and prints the
# transport's counters. The collectors are `openssl s_server` (mutual TLS, writing what it
# receives to a file) and small python3 TCP sinks. Checked:
#   (a) TLS 1.3 to an IP literal, TLS 1.2 to a DNS name, TLS to [::1]: the received stream
#       equals the sent one byte for byte, nothing lost, the server saw our close;
#       SSLKEYLOGFILE gets the session secrets;
#   (b) refusals (server cert from another CA, wrong IP / DNS name, expired, client cert
#       demanded but not presented under TLS 1.3 and 1.2, client cert the server does not
#       trust, a plaintext "server"): never up, connect_failures counted, tls_verify_failures
#       where we refused, a last error naming the reason, and not one payload byte received;
#       a key that does not match its certificate is refused at open, naming the file;
#   (c) the collector killed and restarted mid-stream (TCP, then TLS): the session goes down,
#       loss is counted, the transport reconnects after its backoff, the new session starts with
#       a whole first message and every message after it arrives.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null 2>&1 || skip "openssl not installed"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
TX_SEND=${TX_SEND:-$BUILDDIR/tests/unit/tx_send}
[ -x "$TX_SEND" ] || { echo "FAIL: $TX_SEND not built"; exit 1; }
collector_scratch

# value KEY FILE: the value of a key=value line of tx_send's output.
value() { sed -n "s/^$1=//p" "$2"; }

PKI=$TMP/pki
sh "$SRCDIR/collectors-test/tls_ca.sh" "$PKI" || { echo "FAIL: tls_ca.sh"; exit 1; }
# s_server ends its session when its standard input ends: give it one that never does.
mkfifo "$TMP/stdin"

# start_tls NAME ADDR PORT CERT [s_server options...]: mutual TLS (-Verify 1, client
# certificates must chain to ca.pem) on ADDR:PORT; what it receives goes to $TMP/NAME.recv.
# Sets SPID.
start_tls() {
    s_name=$1 s_addr=$2 s_port=$3 s_cert=$4; shift 4
    : >"$TMP/$s_name.recv"
    openssl s_server -accept "$s_addr:$s_port" -cert "$PKI/$s_cert.pem" -key "$PKI/$s_cert.key" \
        -CAfile "$PKI/ca.pem" -Verify 1 -verify_return_error -quiet "$@" \
        <>"$TMP/stdin" >"$TMP/$s_name.recv" 2>"$TMP/$s_name.err" &
    SPID=$!
    PIDS="$PIDS $SPID"
    wait_for 100 tcp_listening "$s_port" || { echo "s_server $s_name did not listen:"; cat "$TMP/$s_name.err"; return 1; }
}

# start_sink NAME PORT MODE: a python3 TCP collector on 127.0.0.1:PORT. MODE hello: every
# connection is read once (what a TLS client says first), appended to $TMP/NAME.recv and closed.
# MODE restart: the first connection is read into $TMP/NAME1.recv until it holds 50000 bytes,
# then the collector "crashes" (connection reset, listening socket closed: connects are
# refused), comes back 300 ms later on the same port and reads the next connection into
# $TMP/NAME2.recv until EOF. (One process: a new interpreter could take longer to start than
# the whole stream lasts on a loaded machine.) Sets SPID.
start_sink() {
    s_name=$1 s_port=$2 s_mode=$3
    : >"$TMP/$s_name.recv"; : >"$TMP/${s_name}1.recv"; : >"$TMP/${s_name}2.recv"
    python3 - "$s_port" "$TMP/$s_name" "$s_mode" >"$TMP/$s_name.err" 2>&1 <<'PY' &
import socket, struct, sys, time
port, out, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def listen():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    return ls

ls = listen()
if mode == "hello":
    with open(out + ".recv", "ab", buffering=0) as f:
        while True:
            c, _ = ls.accept()
            c.settimeout(5)
            try:
                f.write(c.recv(65536))
            except OSError:
                pass
            c.close()
c, _ = ls.accept()
with open(out + "1.recv", "wb", buffering=0) as f:
    got = 0
    while got < 50000:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)
        got += len(b)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
ls.close()
time.sleep(0.3)
ls = listen()
c, _ = ls.accept()
with open(out + "2.recv", "wb", buffering=0) as f:
    while True:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)
c.close()
PY
    SPID=$!
    PIDS="$PIDS $SPID"
    wait_for 100 tcp_listening "$s_port" || { echo "sink $s_name did not listen:"; cat "$TMP/$s_name.err"; return 1; }
}

# has_bytes FILE N: FILE holds at least N bytes.
has_bytes() { [ "$(wc -c <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

# ------------------------------------------------------------- (a) good sessions

# good NAME URL ACCEPT-ADDR SERVER-CERT [s_server options]: 300 messages, byte-exact, clean
# close.
good() {
    name=$1 url=$2 addr=$3 cert=$4; shift 4
    port=$(free_port tcp)
    start_tls "$name" "$addr" "$port" "$cert" -naccept 1 "$@" || { fail "$name: server"; return; }
    rm -f "$TMP/$name.keys"
    SSLKEYLOGFILE=$TMP/$name.keys "$TX_SEND" -n 300 -s 1400 -r 7 -A "$PKI/ca.pem" \
        -C "$PKI/client.pem" -K "$PKI/client.key" -o "$TMP/$name.sent" -e "$TMP/$name.ev" \
        "$url:$port" >"$TMP/$name.out" 2>&1
    rc=$?
    # -naccept 1: s_server exits once our session ended, which our graceful close causes.
    wait_for 100 gone "$SPID" || fail "$name: s_server still running after tx_close"
    stop "$SPID"
    if [ $rc -ne 0 ]; then
        fail "$name: tx_send exit $rc"; cat "$TMP/$name.out" "$TMP/$name.ev" "$TMP/$name.err"; return
    fi
    [ "$(value messages_sent "$TMP/$name.out")" = 301 ] || fail "$name: messages_sent != 301"
    [ "$(value records_sent "$TMP/$name.out")" = 2100 ] || fail "$name: records_sent != 2100"
    [ "$(value messages_lost "$TMP/$name.out")" = 0 ] || fail "$name: messages lost"
    [ "$(value connects "$TMP/$name.out")" = 1 ] || fail "$name: connects != 1"
    [ "$(value tls_verify_failures "$TMP/$name.out")" = 0 ] || fail "$name: verify failures"
    if cmp -s "$TMP/$name.sent" "$TMP/$name.recv" && [ -s "$TMP/$name.recv" ]; then
        pass "$name: $(wc -c <"$TMP/$name.recv") bytes received byte-identical"
    else
        fail "$name: received stream differs ($(wc -c <"$TMP/$name.sent") sent, $(wc -c <"$TMP/$name.recv") received)"
        cat "$TMP/$name.out" "$TMP/$name.err"
    fi
    grep -q '^CLIENT_RANDOM \|^CLIENT_TRAFFIC_SECRET_0 ' "$TMP/$name.keys" 2>/dev/null \
        || fail "$name: SSLKEYLOGFILE has no session secret"
}

good tls13_ip tls://127.0.0.1 127.0.0.1 server-ip
# localhost may resolve to ::1 first, where nobody listens: the next address is tried at once.
good tls12_dns tls://localhost 127.0.0.1 server-dns -tls1_2
if has_ipv6; then
    good tls13_ipv6 'tls://[::1]' '[::1]' server-ip
else
    echo "note: no IPv6 loopback, [::1] case not run"
fi

# ------------------------------------------------------------- (b) refusals

# refused NAME URL SERVER-CERT REASON VERIFY(yes|no) [tx_send options] [-- s_server options]
refused() {
    name=$1 url=$2 cert=$3 reason=$4 verify=$5; shift 5
    client=
    while [ $# -gt 0 ] && [ "$1" != -- ]; do client="$client $1"; shift; done
    [ $# -gt 0 ] && shift
    port=$(free_port tcp)
    start_tls "$name" 127.0.0.1 "$port" "$cert" "$@" || { fail "$name: server"; return; }
    # shellcheck disable=SC2086
    "$TX_SEND" -n 5 -s 200 -u 1500 -b 100:400 -A "$PKI/ca.pem" $client -e "$TMP/$name.ev" \
        "$url:$port" >"$TMP/$name.out" 2>&1
    rc=$?
    stop "$SPID"
    ok=1
    [ $rc -eq 2 ] || { fail "$name: tx_send exit $rc, want 2 (never up)"; ok=0; }
    [ "$(value ever_up "$TMP/$name.out")" = 0 ] || { fail "$name: a session came up"; ok=0; }
    [ "$(value connect_failures "$TMP/$name.out")" -ge 2 ] 2>/dev/null \
        || { fail "$name: connect_failures < 2 (no retry?)"; ok=0; }
    vf=$(value tls_verify_failures "$TMP/$name.out")
    if [ "$verify" = yes ]; then
        [ "$vf" -ge 2 ] 2>/dev/null || { fail "$name: tls_verify_failures=$vf, want >= 2"; ok=0; }
    else
        [ "$vf" = 0 ] || { fail "$name: tls_verify_failures=$vf, want 0"; ok=0; }
    fi
    value last_error "$TMP/$name.out" | grep -q "$reason" \
        || { fail "$name: last_error lacks '$reason'"; ok=0; }
    # Not one byte of payload reached the server: the TLS session never carried data, and
    # there is no plaintext fallback.
    [ ! -s "$TMP/$name.recv" ] || { fail "$name: the server received $(wc -c <"$TMP/$name.recv") bytes"; ok=0; }
    if [ $ok -eq 1 ]; then
        pass "$name: refused ($(value connect_failures "$TMP/$name.out") attempts: $(value last_error "$TMP/$name.out" | sed 's/^[^ ]* //'))"
    else
        cat "$TMP/$name.out" "$TMP/$name.err"
    fi
}

CLIENT="-C $PKI/client.pem -K $PKI/client.key"
refused other_ca tls://127.0.0.1 other-server 'unable to get local issuer certificate' yes $CLIENT
refused wrong_ip tls://127.0.0.1 wrongname-server 'IP address mismatch' yes $CLIENT
refused wrong_dns tls://localhost server-ip 'hostname mismatch' yes $CLIENT
refused expired tls://127.0.0.1 expired-server 'certificate has expired' yes $CLIENT
refused no_client_cert_13 tls://127.0.0.1 server 'certificate required' no -- -tls1_3
refused no_client_cert_12 tls://127.0.0.1 server 'handshake failure' no -- -tls1_2
refused untrusted_client tls://127.0.0.1 server 'unknown ca' no \
    -C "$PKI/other-client.pem" -K "$PKI/other-client.key"

# A plaintext "collector": it gets a TLS ClientHello and nothing else, ever.
port=$(free_port tcp)
if start_sink plain "$port" hello; then
    "$TX_SEND" -n 5 -s 200 -u 1500 -A "$PKI/ca.pem" $CLIENT "tls://127.0.0.1:$port" \
        >"$TMP/plain.out" 2>&1
    rc=$?
    stop "$SPID"
    if [ $rc -eq 2 ] && python3 - "$TMP/plain.recv" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
# Every connection starts with a TLS handshake record (0x16 0x03); no message marker anywhere.
sys.exit(0 if data[:2] == b"\x16\x03" and b"NFTX" not in data else 1)
PY
    then
        pass "plaintext server: refused after $(value connect_failures "$TMP/plain.out") attempts, it only saw ClientHellos"
    else
        fail "plaintext server: rc=$rc"; cat "$TMP/plain.out"; od -c "$TMP/plain.recv" | head -5
    fi
else
    fail "plaintext sink"
fi

# A key that is not the certificate's: refused at open, naming the file.
"$TX_SEND" -n 1 -A "$PKI/ca.pem" -C "$PKI/client.pem" -K "$PKI/server.key" \
    "tls://127.0.0.1:$(free_port tcp)" >"$TMP/badkey.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q -- "--tls-key $PKI/server.key" "$TMP/badkey.out"; then
    pass "mismatched key refused: $(head -1 "$TMP/badkey.out")"
else
    fail "mismatched key: rc=$rc"; cat "$TMP/badkey.out"
fi

# ------------------------------------------------------------- (c) collector restart

# restart NAME PROTO: a stream of 600 messages, one every 5 ms. TCP: the collector resets the
# session after 50000 bytes and is back 300 ms later. TLS: s_server is killed (SIGKILL) after
# 50000 bytes and started again once the transport noticed.
restart() {
    name=$1 proto=$2
    port=$(free_port tcp)
    if [ "$proto" = tcp ]; then
        start_sink "$name" "$port" restart || { fail "$name: sink"; return; }
        tls_opts=
    else
        start_tls "${name}1" 127.0.0.1 "$port" server || { fail "$name: server"; return; }
        tls_opts="-A $PKI/ca.pem $CLIENT"
    fi
    # shellcheck disable=SC2086
    "$TX_SEND" -n 600 -s 1000 -r 10 -i 5 -b 50:200 -u 5000 $tls_opts -o "$TMP/$name.sent" \
        -e "$TMP/$name.ev" "$proto://127.0.0.1:$port" >"$TMP/$name.out" 2>&1 &
    dpid=$!
    PIDS="$PIDS $dpid"
    if [ "$proto" = tls ]; then
        wait_for 100 has_bytes "$TMP/${name}1.recv" 50000 \
            || { fail "$name: first collector got too little"; stop "$dpid"; return; }
        kill -9 "$SPID"; wait "$SPID" 2>/dev/null
        wait_for 100 grep -q ' down: ' "$TMP/$name.ev" \
            || { fail "$name: no TX_EV_DOWN after the collector died"; stop "$dpid"; return; }
        start_tls "${name}2" 127.0.0.1 "$port" server || { fail "$name: server 2"; stop "$dpid"; return; }
    fi
    wait_for 300 gone "$dpid" || { fail "$name: tx_send did not finish"; stop "$dpid"; return; }
    wait "$dpid"
    rc=$?
    [ "$proto" = tcp ] && wait_for 50 gone "$SPID"
    stop "$SPID"
    [ $rc -eq 0 ] || { fail "$name: tx_send exit $rc"; cat "$TMP/$name.out"; return; }
    if python3 - "$TMP/$name.out" "$TMP/${name}1.recv" "$TMP/${name}2.recv" "$TMP/$name.ev" <<'PY'
import struct, sys
st = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[1]) if "=" in l)
st = {k: (int(v) if v.isdigit() else v) for k, v in st.items()}
N = 600

def parse(path, allow_truncated_tail):
    data, msgs, off = open(path, "rb").read(), [], 0
    while off < len(data):
        if len(data) - off < 16:
            assert allow_truncated_tail, "%s: truncated header at %d" % (path, off)
            break
        magic, kind, seq, ln = data[off:off + 4], data[off + 4:off + 5], *struct.unpack(">II", data[off + 8:off + 16])
        assert magic == b"NFTX" and kind in (b"U", b"D"), "%s: not a message start at %d" % (path, off)
        if len(data) - off < ln:
            assert allow_truncated_tail, "%s: truncated message at %d" % (path, off)
            break
        body = data[off + 16:off + ln]
        assert body == bytes((seq * 131 + j * 7) & 0xff for j in range(16, ln)), "%s: payload of %d" % (path, seq)
        msgs.append((kind.decode(), seq))
        off += ln
    return msgs

first = parse(sys.argv[2], True)   # reset or killed: its tail may be cut
second = parse(sys.argv[3], False) # closed by our tx_close: complete
assert first and first[0] == ("U", 1), "first session must start with its marker: %r" % first[:1]
assert second and second[0][0] == "U" and second[0][1] >= 2, "new session must start with a marker"
d1 = [s for k, s in first if k == "D"]
d2 = [s for k, s in second if k == "D"]
assert d1 == list(range(len(d1))), "first session: gap or reorder"
assert d2, "nothing after reconnect"
assert d2 == list(range(d2[0], N)), "second session: not every message after reconnect arrived"
assert d2[0] > len(d1), "no message missing in between: the outage lost nothing?"
sessions = st["sessions"]
assert st["connects"] == sessions >= 2, st
assert st["messages_sent"] + st["messages_lost"] == N + sessions, st
assert st["records_sent"] + st["records_lost"] == 10 * N, st
assert st["messages_lost"] >= 1 and st["records_lost"] >= 10, st
# What arrived was counted as sent; what was counted lost did not arrive.
assert len(d1) + len(d2) + st["records_lost"] // 10 <= N, st
ev = [l.split() for l in open(sys.argv[4])]
down = next(int(e[0]) for e in ev if e[1] == "down:")
up2 = next(int(e[0]) for e in ev if e[1:3] == ["up", "2"])
assert up2 - down >= 37, "reconnected %d ms after the loss, before the backoff (>= 37 ms)" % (up2 - down)
print("%d+%d data messages received, %d lost (%d records), reconnected after %d ms, %d sessions"
      % (len(d1), len(d2), st["messages_lost"], st["records_lost"], up2 - down, sessions))
PY
    then
        pass "$name: collector restart handled"
    else
        fail "$name: restart checks"; cat "$TMP/$name.out" "$TMP/$name.ev"
    fi
}

restart tcp_restart tcp
restart tls_restart tls

exit $FAILED
