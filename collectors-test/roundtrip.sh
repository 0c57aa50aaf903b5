#!/bin/sh
# Collector test: IPFIX round trip. nfprobe exports over UDP, TCP and TLS (mutual
# authentication, the test CA of tls_ca.sh) to listeners on 127.0.0.1 that store the stream;
# collectors-test/ipfix2csv (libfixbuf's collecting API) turns the stored IPFIX back into
# NFStream CSV, which must be byte-identical to the CSV nfprobe wrote in the same run: every
# column (ids, addresses, MACs, ports, times, counters, the 48 statistics, the SPLT lists, the
# L7 labels) survives export and decoding exactly. Also with --ntop-compat, without tunnel
# decoding, without DPI, and under another accounting mode and PEN.
. "$(dirname "$0")/ipfix_lib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
command -v openssl >/dev/null 2>&1 || skip "openssl not installed"
setup_export_test

P="$SHARED/data/nfstream/pcaps"
FULL="--statistical-analysis --splt-analysis 20"

# run NAME TRANSPORT PCAP "NFPROBE OPTIONS" "IPFIX2CSV OPTIONS"
run() {
    name=$1 transport=$2 pcap=$3 opts=$4 dopts=$5
    out="$TMP/$name.$transport"
    rm -f "$out".*
    case $transport in
    udp)
        port=$(free_port udp)
        start_udp_sink "$port" "$out.ipfix" || return 1
        url="ipfix+udp://127.0.0.1:$port" extra= ;;
    tcp)
        port=$(free_port tcp)
        start_tcp_sink "$port" "$out.stream" || return 1
        url="ipfix+tcp://127.0.0.1:$port" extra= ;;
    tls)
        port=$(free_port tcp)
        start_tls_sink "$port" "$out.ipfix" "$PKI" || return 1
        url="ipfix+tls://127.0.0.1:$port" extra=$TLS_OPTS ;;
    esac
    # shellcheck disable=SC2086
    if ! "$NFPROBE" -r "$pcap" $opts -c "$url" $extra --csv "$out.csv" 2>"$out.err"; then
        fail "$name/$transport: nfprobe failed:"; cat "$out.err"; stop "$SINK_PID"; return 1
    fi
    case $transport in
    udp) wait_for 50 udp_idle "$port" ;;
    tcp) wait_for 100 file_stable "$out.stream.1"; mv "$out.stream.1" "$out.ipfix" ;;
    tls) wait_for 100 file_stable "$out.ipfix" ;;
    esac
    stop "$SINK_PID"
    # shellcheck disable=SC2086
    "$IPFIX2CSV" $dopts --options "$out.opts" "$out.ipfix" >"$out.rt.csv" 2>"$out.dec" ||
        { fail "$name/$transport: ipfix2csv failed:"; cat "$out.dec"; return 1; }
    flows=$(($(wc -l <"$out.csv") - 1))
    if ! grep -q " 0 sequence errors" "$out.dec"; then
        fail "$name/$transport: $(tail -1 "$out.dec")"
    elif ! csv_equal "$out.csv" "$out.rt.csv" "$name/$transport"; then
        fail "$name/$transport: the decoded flows differ from nfprobe's CSV"
    elif ! cmp -s "$out.csv" "$out.rt.csv"; then
        fail "$name/$transport: same values, but not byte-identical (row order?)"
    elif [ "$(sed -n 's/^notSentFlowTotalCount=//p' "$out.opts")" != 0 ] ||
        [ "$(sed -n 's/^exportingProcessId=//p' "$out.opts")" = "" ]; then
        fail "$name/$transport: exporting reliability record: $(tr '\n' ' ' <"$out.opts")"
    else
        cols=$(head -1 "$out.csv" | tr ',' '\n' | wc -l)
        pass "$name/$transport: $flows flows, $cols columns identical"
    fi
}

for t in udp tcp tls; do
    run 1kxun $t "$P/1kxun.pcap" "$FULL" "$FULL --l7"
    run google_ssl $t "$P/google_ssl.pcap" "$FULL" "$FULL --l7"
done
run capwap udp "$P/capwap.pcap" "$FULL" "$FULL --l7"
run 6in4tunnel tcp "$P/6in4tunnel.pcap" "$FULL" "$FULL --l7"
run synscan tcp "$P/synscan.pcap" "$FULL" "$FULL --l7"
run skype tls "$P/skype.pcap" "$FULL --splt-analysis 255" "$FULL --splt-analysis 255 --l7"
run http_ipv6-ntop udp "$P/http_ipv6.pcap" "$FULL --ntop-compat" "$FULL --l7"
run quic-notunnel tcp "$P/quic.pcap" "$FULL --no-decode-tunnels" "$FULL --l7 --no-decode-tunnels"
run mdns-nodpi udp "$P/mdns.pcap" "$FULL --n-dissections 0" "$FULL"
run tor-am3-pen tcp "$P/tor.pcap" "$FULL --accounting-mode 3 --pen 4242" "$FULL --l7 --pen 4242"
run syn_vlan udp "$SHARED/data/synthetic/pcaps/syn_vlan.pcap" "" "--l7"
[ -f "$BUILDDIR/sample.pcap" ] && run sample tls "$BUILDDIR/sample.pcap" "$FULL" "$FULL --l7"
exit $FAILED
