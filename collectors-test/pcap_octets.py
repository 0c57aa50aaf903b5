#!/usr/bin/env python3
"""pcap_octets.py CAPTURE: per one-way 5-tuple, the packets and IP-layer octets (RFC 7012
octetDeltaCount: IP header + payload; IPv6 with its 40-byte header) of a capture, computed
from the capture itself (not from nfprobe), as CSV: src,dst,sport,dport,proto,packets,octets.

Reads pcap (microsecond or nanosecond, either byte order) with Ethernet (802.1Q/QinQ tags
skipped) or raw IP link types. ICMP has ports 0/0, as collectors aggregate it. Non-first IPv4
fragments and packets that are not IP are left out (the captures the tests use have none that
matter)."""
import ipaddress
import struct
import sys


def packets(path):
    with open(path, "rb") as fp:
        head = fp.read(24)
        magic = head[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            end = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            end = ">"
        else:
            sys.exit(f"{path}: not a pcap file (pcapng is not read)")
        link = struct.unpack(end + "I", head[20:24])[0]
        while True:
            rec = fp.read(16)
            if len(rec) < 16:
                return
            _, _, incl, _ = struct.unpack(end + "IIII", rec)
            yield link, fp.read(incl)


def ip_of(link, frame):
    if link == 1:  # Ethernet
        off, etype = 14, struct.unpack("!H", frame[12:14])[0]
        while etype in (0x8100, 0x88A8, 0x9100) and len(frame) >= off + 4:
            etype = struct.unpack("!H", frame[off + 2:off + 4])[0]
            off += 4
        if etype not in (0x0800, 0x86DD):
            return None
        return frame[off:]
    if link in (101, 12, 14):  # raw IP
        return frame
    return None


def main():
    totals = {}
    for link, frame in packets(sys.argv[1]):
        ip = ip_of(link, frame)
        if ip is None or len(ip) < 1:
            continue
        ver = ip[0] >> 4
        if ver == 4 and len(ip) >= 20:
            ihl = (ip[0] & 15) * 4
            length = struct.unpack("!H", ip[2:4])[0]
            frag = struct.unpack("!H", ip[6:8])[0] & 0x1FFF
            proto = ip[9]
            src, dst = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
            l4 = ip[ihl:]
            if frag != 0:
                continue
        elif ver == 6 and len(ip) >= 40:
            length = 40 + struct.unpack("!H", ip[4:6])[0]
            proto = ip[6]
            src, dst = ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40])
            l4 = ip[40:]
        else:
            continue
        sport = dport = 0
        if proto in (6, 17, 132) and len(l4) >= 4:
            sport, dport = struct.unpack("!HH", l4[:4])
        k = (str(src), str(dst), sport, dport, proto)
        t = totals.setdefault(k, [0, 0])
        t[0] += 1
        t[1] += length
    print("src,dst,sport,dport,proto,packets,octets")
    for k, (p, o) in sorted(totals.items()):
        print(",".join(map(str, k + (p, o))))


main()
