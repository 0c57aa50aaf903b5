#!/bin/sh
# --anonymize-key FILE: two runs with the key give identical anonymised columns, two runs
# without it different ones; the digest is BLAKE2b-512 keyed with the file's octets, as Python's
# hashlib (NFStream's NFAnonymizer) computes it; the config-file key works; bad keys are one-line
# errors naming the file.
. "$(dirname "$0")/lib.sh"
scratch
"$MKPCAP" sample "$TMP/s.pcap" >/dev/null || { echo "FAIL: mkpcap sample"; exit 1; }
head -c 64 /dev/urandom >"$TMP/key"
fails=0
check() { if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi; }
run() { # run OUT [flags...]: the src_ip,dst_ip columns of a run
    out=$1; shift
    "$NFPROBE" -r "$TMP/s.pcap" --csv - --anonymize src_ip,dst_ip "$@" 2>/dev/null |
        cut -d, -f3,7 >"$out"
}

run "$TMP/k1" --anonymize-key "$TMP/key"
run "$TMP/k2" --anonymize-key "$TMP/key"
run "$TMP/r1"
run "$TMP/r2"
name="with the key: identical columns"; check cmp -s "$TMP/k1" "$TMP/k2"
name="without it: different columns";   check sh -c "! cmp -s '$TMP/r1' '$TMP/r2'"
name="flows were written";              check test "$(wc -l <"$TMP/k1")" -gt 2

printf 'anonymize = src_ip,dst_ip\nanonymize-key = %s\n' "$TMP/key" >"$TMP/conf"
"$NFPROBE" -C "$TMP/conf" -r "$TMP/s.pcap" --csv - 2>/dev/null | cut -d, -f3,7 >"$TMP/k3"
name="config-file key anonymize-key";   check cmp -s "$TMP/k1" "$TMP/k3"

# The digest is hashlib's blake2b(value, digest_size=64, key=FILE's octets).
"$NFPROBE" -r "$TMP/s.pcap" --csv - 2>/dev/null | sed -n 2p | cut -d, -f3 >"$TMP/clear"
want=$(python3 -c 'import hashlib, sys
ip = open(sys.argv[1]).read().strip().strip("\"")
print("\"" + hashlib.blake2b(ip.encode(), digest_size=64, key=open(sys.argv[2], "rb").read()).hexdigest() + "\"")' "$TMP/clear" "$TMP/key")
name="digest as hashlib.blake2b";       check test "$(sed -n 2p "$TMP/k1" | cut -d, -f1)" = "$want"

bad() { # bad WORD FLAGS...: exit 1 and one line naming WORD
    word=$1; shift
    "$NFPROBE" -r "$TMP/s.pcap" --csv /dev/null "$@" >/dev/null 2>"$TMP/err"
    [ $? -eq 1 ] && grep -q -- "$word" "$TMP/err" && [ "$(wc -l <"$TMP/err")" -eq 1 ]
}
printf short >"$TMP/short"
name="short key refused";      check bad "$TMP/short" --anonymize src_ip --anonymize-key "$TMP/short"
name="missing key refused";    check bad "$TMP/nokey" --anonymize src_ip --anonymize-key "$TMP/nokey"
name="key without --anonymize"; check bad "anonymize-key" --anonymize-key "$TMP/key"
[ $fails -eq 0 ]
