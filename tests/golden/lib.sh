# lib.sh - shared helpers of the golden and end-to-end test scripts (sourced, not run).
# The environment comes from make check (AM_TESTS_ENVIRONMENT); defaults allow running by hand
# from a build directory.
: "${BUILDDIR:=$(pwd)}"
: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${NFPROBE:=$BUILDDIR/nfprobe}"
: "${MKPCAP:=$BUILDDIR/tools/mkpcap/mkpcap}"
: "${SHARED:=$SRCDIR/../shared}"

# Exit code 77 tells automake the test was skipped.
skip() { echo "SKIP: $*"; exit 77; }

need_shared() {
    [ -d "$SHARED/data" ] || skip "shared data not found at $SHARED (set NFPROBE_SHARED)"
}

# A scratch directory removed at exit.
scratch() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/nfprobe-test.XXXXXX")
    trap 'rm -rf "$TMP"' EXIT
}

# Flags for one golden configuration directory of shared/data/*/golden, from its _config.json.
config_flags() {
    python3 - "$1/_config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["config"]
f = ["--n-dissections", str(c.get("n_dissections", 20))]
if c.get("statistical_analysis"): f.append("--statistical-analysis")
if c.get("splt_analysis"): f += ["--splt-analysis", str(c["splt_analysis"])]
if "accounting_mode" in c: f += ["--accounting-mode", str(c["accounting_mode"])]
if "idle_timeout" in c: f += ["--idle-timeout", str(c["idle_timeout"])]
if "active_timeout" in c: f += ["--active-timeout", str(c["active_timeout"])]
if c.get("decode_tunnels") is False: f.append("--no-decode-tunnels")
print(" ".join(f))
PY
}

# The captures a configuration has golden output for (flows_per_pcap in _config.json; a count
# of 0 has no file and means zero flows).
config_captures() {
    python3 -c 'import json,sys; print("\n".join(sorted(json.load(open(sys.argv[1]))["flows_per_pcap"])))' \
        "$1/_config.json"
}

# golden_dir PCAPDIR GOLDENDIR [CONFIG...]: runs every capture of PCAPDIR under every configuration
# directory and compares the CSV byte for byte with GOLDENDIR/CONFIG/NAME.csv (a missing file
# means zero flows). Prints one line per configuration and a total; returns 1 on any difference.
golden_dir() {
    local pcaps=$1 golden=$2; shift 2
    local total_ok=0 total=0 failed=0 cfg flags pcap name exp out
    for cfg in "$@"; do
        [ -d "$golden/$cfg" ] || { echo "missing golden configuration $golden/$cfg"; return 1; }
        flags=$(config_flags "$golden/$cfg")
        local ok=0 n=0
        for name in $(config_captures "$golden/$cfg"); do
            pcap="$pcaps/$name"
            [ -f "$pcap" ] || { echo "MISSING capture $pcap"; n=$((n + 1)); continue; }
            exp="$golden/$cfg/$name.csv"
            out="$TMP/$cfg.$name.csv"
            n=$((n + 1))
            # shellcheck disable=SC2086
            "$NFPROBE" -r "$pcap" $flags --csv "$out" 2>"$TMP/stderr" || true
            if [ -f "$exp" ]; then
                if cmp -s "$exp" "$out"; then ok=$((ok + 1)); else
                    echo "DIFF $cfg/$name:"; python3 "$SHARED/tools/flowdiff.py" "$exp" "$out" | head -5
                fi
            elif [ ! -s "$out" ]; then ok=$((ok + 1)); else
                echo "DIFF $cfg/$name: expected no flows, got $(($(wc -l <"$out") - 1))"
            fi
        done
        echo "$cfg: $ok of $n captures byte-identical to NFStream"
        total_ok=$((total_ok + ok)); total=$((total + n))
        [ $ok -eq $n ] || failed=1
    done
    echo "total: $total_ok of $total agree"
    return $failed
}
