#!/bin/sh
# screenshots.sh [OUTDIR] - the pictures of docs/: one export of the bundled sample, as nfdump
# and as Wireshark show it.
#
# nfprobe reads sample.pcap and exports IPFIX over UDP to a real nfcapd on 127.0.0.1 while
# tshark captures the export on lo. Then:
#   OUTDIR/nfdump.png     `nfdump -r FILE -o extended` as a terminal shows it (the text of the
#                         real command, drawn by ImageMagick in a monospace font);
#   OUTDIR/wireshark.png  a screenshot of Wireshark (Qt, under Xvfb) opening that capture, on a
#                         data packet with its flow records expanded.
# OUTDIR defaults to docs/img of the source tree. Run from a build directory (or set BUILDDIR).
# Needs nfdump, tshark, wireshark-qt, xvfb, xdotool, imagemagick (Debian packages); as root,
# for the capture on lo. Nothing is left behind but the two PNGs.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${BUILDDIR:=$(pwd)}"
SRCDIR=$top
. "$top/collectors-test/lib.sh"
OUT=${1:-$top/docs/img}
for t in nfcapd nfdump tshark wireshark Xvfb xdotool import convert; do
    command -v "$t" >/dev/null || { echo "screenshots: $t not found" >&2; exit 1; }
done
[ -x "$NFPROBE" ] || { echo "screenshots: $NFPROBE not built" >&2; exit 1; }
[ -f "$BUILDDIR/sample.pcap" ] || make -C "$BUILDDIR" sample.pcap >/dev/null
collector_scratch
mkdir -p "$OUT"

# ---- the export, stored by nfcapd and captured on lo
start_nfcapd "$TMP/nfcapd"
tshark -n -i lo -f "udp port $PORT" -w "$TMP/export.pcapng" >"$TMP/tshark.log" 2>&1 &
TSHARK=$!
PIDS="$PIDS $TSHARK"
wait_for 100 grep -q "Capturing on" "$TMP/tshark.log" || { cat "$TMP/tshark.log"; exit 1; }
"$NFPROBE" -r "$BUILDDIR/sample.pcap" -c "ipfix+udp://127.0.0.1:$PORT" --csv /dev/null \
    2>"$TMP/nfprobe.log"
stop_nfcapd "$TMP/nfcapd"
wait_for 20 sh -c "[ \$(tshark -r '$TMP/export.pcapng' 2>/dev/null | wc -l) -gt 0 ]" || :
sleep 1
stop "$TSHARK"
[ -n "$NFCAPD_FILE" ] || { echo "screenshots: nfcapd wrote no file" >&2; exit 1; }

# ---- nfdump in a terminal
{
    echo "\$ nfdump -r $(basename "$NFCAPD_FILE") -o extended"
    nfdump -r "$NFCAPD_FILE" -o extended | sed 's/  *$//; /^Sys: /d'
} >"$TMP/nfdump.txt"
# Drawn on a large canvas, then trimmed: ImageMagick 6's label: refuses text this size.
convert -size 2400x1400 xc:'#1d1f21' -font DejaVu-Sans-Mono -pointsize 13 -fill '#d8d8d8' \
    -annotate +12+20 "$(sed 's/[%\\]/&&/g' "$TMP/nfdump.txt")" -trim +repage \
    -bordercolor '#1d1f21' -border 14 -strip -depth 8 -colors 16 "$OUT/nfdump.png"

# ---- Wireshark on the captured export
# The first data packet with flow records, and a fresh profile (HOME) so no user setting counts.
frame=$(tshark -n -r "$TMP/export.pcapng" -d "udp.port==$PORT,cflow" -Y 'cflow.srcaddr' \
    -T fields -e frame.number 2>/dev/null | head -1)
[ -n "$frame" ] || { echo "screenshots: no data packet in the capture" >&2; exit 1; }
export HOME=$TMP/home XDG_CONFIG_HOME=$TMP/home/.config XDG_RUNTIME_DIR=$TMP/run
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
disp=:$((90 + $$ % 9))
Xvfb "$disp" -screen 0 1280x860x24 -nolisten tcp >"$TMP/xvfb.log" 2>&1 &
PIDS="$PIDS $!"
export DISPLAY=$disp
wait_for 100 xdpyinfo >/dev/null 2>&1 || wait_for 50 sh -c "xdotool getmouselocation >/dev/null 2>&1"
wireshark -r "$TMP/export.pcapng" -d "udp.port==$PORT,cflow" -o cflow.max_template_fields:128 \
    -Y cflow -g "$frame" -o gui.layout_content_3:NONE >"$TMP/wireshark.log" 2>&1 &
WS=$!
PIDS="$PIDS $WS"
wait_for 300 sh -c "xdotool search --name 'export.pcapng' >/dev/null 2>&1" ||
    { echo "screenshots: Wireshark did not open:" >&2; cat "$TMP/wireshark.log" >&2; exit 1; }
sleep 3
win=$(xdotool search --name 'export.pcapng' | head -1)
# No window manager under Xvfb: place and focus the window ourselves, and wait until it has
# taken that size (Wireshark restores its own geometry while it starts).
sized() {
    xdotool windowsize "$win" 1280 860 windowmove "$win" 0 0 2>/dev/null || :
    xdotool getwindowgeometry "$win" 2>/dev/null | grep -q 'Geometry: 1280x860'
}
wait_for 100 sized || :
sleep 2
sized || :
xdotool windowfocus --sync "$win" 2>/dev/null || :
sleep 1
# Select the IPFIX tree, the last line of the details pane (the fixed geometry above puts it
# at y=543), and expand its subtrees (Shift+Right).
xdotool mousemove --sync 100 543 || :
sleep 0.5
xdotool click 1 || :
sleep 0.5
xdotool key --clearmodifiers shift+Right || :
sleep 2
import -display "$disp" -window root "$TMP/wireshark.png"
convert "$TMP/wireshark.png" -strip -colors 64 "$OUT/wireshark.png"
ls -l "$OUT/nfdump.png" "$OUT/wireshark.png"
