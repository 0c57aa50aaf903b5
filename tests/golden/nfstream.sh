#!/bin/sh
# Golden: NFStream's test captures, byte for byte against real NFStream 6.5.4's to_csv() output,
# under the six metering configurations (B: accounting modes 0-3 with statistics and SPLT;
# C: idle 1 s / active 5 s; D: no tunnel decoding).
. "$(dirname "$0")/lib.sh"
need_shared
scratch
golden_dir "$SHARED/data/nfstream/pcaps" "$SHARED/data/nfstream/golden" \
    B_meter_am0 B_meter_am1 B_meter_am2 B_meter_am3 C_idle1_active5 D_notunnel
