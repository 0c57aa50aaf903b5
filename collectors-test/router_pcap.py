#!/usr/bin/env python3
"""router_pcap.py OUT.pcap OUT.json - the capture of collectors-test/router_nfcapd.sh.

Writes an Ethernet capture whose flows carry what a router exports (issue 13): a VLAN tag,
a QinQ pair, an MPLS label stack, ToS/traffic class with DSCP, TTLs / hop limits that vary
within a direction, DF and MF, ICMP and ICMPv6 types, TCP flags per direction, IPv6. Beside it,
OUT.json holds what every flow must show, computed here from the very frames written: packets
and IP-layer octets (IPv4 total length, IPv6 40 + payload length) per direction, link-layer
octets, the first packet's ToS and ICMP type/code, min/max TTL, tags, labels, TCP flags.
A non-first IPv4 fragment is written too and counted nowhere: NFStream does not meter it.
"""
import json
import struct
import sys

T0 = 1700000000.0
MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, tos=0, ttl=64, flags=0, frag_off=0):
    tot = 20 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, tos, tot, 1, flags << 13 | frag_off, ttl, proto, 0,
                    bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload, tot


def ipv6(src, dst, nh, payload, tc=0, hlim=64):
    import ipaddress
    h = struct.pack("!IHBB16s16s", 6 << 28 | tc << 20, len(payload), nh, hlim,
                    ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed)
    return h + payload, 40 + len(payload)


def tcp(sport, dport, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, flags, 65535, 0, 0) + data


def udp(sport, dport, data=b""):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def icmp(t, c, data=b""):
    return struct.pack("!BBHHH", t, c, 0, 1, 1) + data


def l2(ethertype, tags=(), labels=()):
    """Ethernet header, 802.1Q tags (outer first), MPLS label stack entries (top first)."""
    h = MAC_A + MAC_B
    types = [0x8100] * len(tags) + ([0x8847] if labels else []) + [ethertype]
    h += struct.pack("!H", types[0])
    for i, vid in enumerate(tags):
        h += struct.pack("!HH", vid, types[i + 1])
    for i, (label, exp) in enumerate(labels):
        bos = 1 if i == len(labels) - 1 else 0
        h += struct.pack("!I", label << 12 | exp << 9 | bos << 8 | 64)
    return h


def main():
    out_pcap, out_json = sys.argv[1:3]
    frames, flows = [], []

    def flow(name, **kw):
        f = dict(name=name, pkts=[0, 0], ip=[0, 0], l2=[0, 0], tos=[None, None],
                 ttl=[[], []], flags=[0, 0], frag=[0, 0], icmp=None, icmp_rev=None, **kw)
        flows.append(f)
        return f

    def send(f, d, l2hdr, ip, tot, ttl, tos, tcpflags=0, icmp_tc=None, frag=0, count=True):
        frame = l2hdr + ip
        frames.append(frame)
        if not count:
            return
        f["pkts"][d] += 1
        f["ip"][d] += tot
        f["l2"][d] += len(frame)
        if f["tos"][d] is None:
            f["tos"][d] = tos
        f["ttl"][d].append(ttl)
        f["flags"][d] |= tcpflags
        f["frag"][d] |= frag
        # ICMP type << 8 | code of each direction's first packet (an echo reply is not the request)
        key = "icmp" if d == 0 else "icmp_rev"
        if f[key] is None and icmp_tc is not None:
            f[key] = icmp_tc

    # TCP on VLAN 100: EF forward, AF11 back; TTLs vary per direction; DF; flags per direction
    a, b = "10.1.0.1", "10.2.0.2"
    f = flow("tcp", src=a, dst=b, sport=40000, dport=80, proto=6, vlan=[100, 0], mpls=[])
    h = l2(0x0800, tags=[100])
    for d, (s, t, fl, data, tos, ttl) in enumerate([
            (a, b, 0x02, b"", 0xB8, 64), (b, a, 0x12, b"", 0x28, 120),
            (a, b, 0x10, b"", 0xB8, 63), (a, b, 0x18, b"x" * 100, 0xB9, 60),
            (b, a, 0x11, b"y" * 50, 0x28, 128)]):
        fwd = s == a
        seg = tcp(40000 if fwd else 80, 80 if fwd else 40000, fl, data)
        ip, tot = ipv4(s, t, 6, seg, tos=tos, ttl=ttl, flags=2)
        send(f, 0 if fwd else 1, h, ip, tot, ttl, tos, tcpflags=fl, frag=0x40)

    # ICMP echo in QinQ (outer 300, customer 400)
    a, b = "10.3.0.1", "10.4.0.2"
    f = flow("icmp", src=a, dst=b, sport=0, dport=0, proto=1, vlan=[300, 400], mpls=[])
    h = l2(0x0800, tags=[300, 400])
    for s, t, ty in [(a, b, 8), (b, a, 0), (a, b, 8), (b, a, 0)]:
        ip, tot = ipv4(s, t, 1, icmp(ty, 0, b"p" * 56), ttl=64 if s == a else 55)
        send(f, 0 if s == a else 1, h, ip, tot, 64 if s == a else 55, 0, icmp_tc=ty << 8)

    # UDP over two MPLS labels (16000 EXP 5, then 16 bottom of stack), CS1
    a, b = "10.5.0.1", "10.6.0.2"
    f = flow("mpls", src=a, dst=b, sport=5000, dport=9000, proto=17, vlan=[0, 0],
             mpls=[16000 << 4 | 5 << 1, 16 << 4 | 1])
    h = l2(0x0800, labels=[(16000, 5), (16, 0)])
    for n in (30, 60):
        ip, tot = ipv4(a, b, 17, udp(5000, 9000, b"q" * n), tos=0x20, ttl=33)
        send(f, 0, h, ip, tot, 33, 0x20)

    # ICMPv6 echo, traffic class 0xb8, hop limit 255 / 64
    a, b = "2001:db8::1", "2001:db8::2"
    f = flow("icmp6", src=a, dst=b, sport=0, dport=0, proto=58, vlan=[0, 0], mpls=[])
    h = l2(0x86DD)
    for s, t, ty, hl in [(a, b, 128, 255), (b, a, 129, 64)]:
        ip, tot = ipv6(s, t, 58, icmp(ty, 0, b"r" * 32), tc=0xB8, hlim=hl)
        send(f, 0 if s == a else 1, h, ip, tot, hl, 0xB8, icmp_tc=ty << 8)

    # ICMP destination unreachable (port), one direction
    a, b = "10.7.0.1", "10.8.0.2"
    f = flow("unreach", src=a, dst=b, sport=0, dport=0, proto=1, vlan=[0, 0], mpls=[])
    ip, tot = ipv4(a, b, 1, icmp(3, 3, b"\0" * 28), ttl=250)
    send(f, 0, l2(0x0800), ip, tot, 250, 0, icmp_tc=3 << 8 | 3)

    # UDP first fragment (MF) and its non-first fragment (not metered)
    a, b = "10.9.0.1", "10.9.0.2"
    f = flow("frag", src=a, dst=b, sport=7000, dport=7001, proto=17, vlan=[0, 0], mpls=[])
    ip, tot = ipv4(a, b, 17, udp(7000, 7001, b"f" * 1000), ttl=20, flags=1)
    send(f, 0, l2(0x0800), ip, tot, 20, 0, frag=0x20)
    ip, tot = ipv4(a, b, 17, b"g" * 400, ttl=20, frag_off=1008 // 8)
    send(f, 0, l2(0x0800), ip, tot, 20, 0, count=False)

    with open(out_pcap, "wb") as fp:
        fp.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            t = T0 + i * 0.010
            fp.write(struct.pack("<IIII", int(t), round((t % 1) * 1e6), len(fr), len(fr)))
            fp.write(fr)
    for f in flows:
        f["ttl_min"] = [min(x) if x else 0 for x in f["ttl"]]
        f["ttl_max"] = [max(x) if x else 0 for x in f["ttl"]]
        f["tos"] = [x or 0 for x in f["tos"]]
        f["icmp"] = f["icmp"] or 0
        f["icmp_rev"] = f["icmp_rev"] or 0
        del f["ttl"]
    json.dump(flows, open(out_json, "w"), indent=1)


main()
