"""The IP-layer octets each direction of a flow must export (RFC 7012 octetDeltaCount), for the
collector tests that compare a collector's bytes with nfprobe's CSV of the same capture.

The CSV's bytes follow --accounting-mode; a second run with --accounting-mode 1 (the same flows,
the same ids) gives the IP size, to which IPv6 adds 40 octets per packet (NFStream's IP size of
an IPv6 packet is its payload length).
"""
import csv


def add_ip_bytes(want, ip_path, name):
    """Sets src2dst_ip_bytes and dst2src_ip_bytes in every row of want from the
    --accounting-mode 1 CSV at ip_path."""
    ipw = list(csv.DictReader(open(ip_path)))
    assert [r["id"] for r in ipw] == [r["id"] for r in want], f"{name}: the two runs' flows differ"
    for r, q in zip(want, ipw):
        for d in ("src2dst", "dst2src"):
            r[f"{d}_ip_bytes"] = int(q[f"{d}_bytes"]) + \
                (40 * int(q[f"{d}_packets"]) if q["ip_version"] == "6" else 0)
