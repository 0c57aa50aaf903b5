#!/bin/sh
# Golden: the synthetic edge-case captures (MPLS, PPPoE, QinQ, TZSP, GTP extension headers,
# radiotap, fragments, DLT_NULL, truncation, timestamp disorder) against real NFStream.
. "$(dirname "$0")/lib.sh"
need_shared
scratch
golden_dir "$SHARED/data/synthetic/pcaps" "$SHARED/data/synthetic/golden" \
    B_meter_am0 B_meter_am1 B_meter_am2 B_meter_am3 C_idle1_active5 D_notunnel
