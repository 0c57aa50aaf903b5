#!/usr/bin/env python3
"""udp_relay.py LISTEN_PORT TO_PORT OUT.pcap - forwards UDP datagrams on 127.0.0.1 and keeps them.

Every datagram received on 127.0.0.1:LISTEN_PORT is sent on to 127.0.0.1:TO_PORT (the collector)
and appended to OUT.pcap as Ethernet/IPv4/UDP addressed to TO_PORT, exactly the bytes that went
to the collector, so that tshark can decode what the collector received. Prints "ready" once
bound; ends on SIGTERM (every record is flushed as it is written).
"""
import signal
import socket
import struct
import sys
import time

listen_port, to_port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
rx.bind(("127.0.0.1", listen_port))
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
fp = open(out, "wb")
fp.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
fp.flush()
print("ready", flush=True)
while True:
    data, peer = rx.recvfrom(65535)
    tx.sendto(data, ("127.0.0.1", to_port))
    udp = struct.pack("!HHHH", peer[1], to_port, 8 + len(data), 0) + data
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1"))
    frame = b"\0" * 12 + b"\x08\x00" + ip + udp
    t = time.time()
    fp.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame)
    fp.flush()
