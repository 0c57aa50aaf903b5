#!/usr/bin/env python3
"""udp_sink.py PORTFILE PCAP: a UDP receiver on 127.0.0.1 (a free port, written to PORTFILE
once bound) that stores every datagram it receives into PCAP as Ethernet/IPv4/UDP frames
(source port 9 -> the bound port), so that tshark can decode an export nfprobe sent without
capture privileges. Stops on SIGTERM, after writing what it received."""
import signal
import socket
import struct
import sys
import time

port_file, pcap_path = sys.argv[1:3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
out = open(pcap_path, "wb")
out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
out.flush()
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
with open(port_file + ".tmp", "w") as fp:
    fp.write(f"{port}\n")
import os  # noqa: E402

os.rename(port_file + ".tmp", port_file)
s.settimeout(0.1)
while running:
    try:
        msg = s.recv(65535)
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    ip_len = 28 + len(msg)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0x4000, 64, 17, 0,
                     socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1"))
    csum = sum(struct.unpack("!10H", ip))
    while csum >> 16:
        csum = (csum & 0xFFFF) + (csum >> 16)
    ip = ip[:10] + struct.pack("!H", ~csum & 0xFFFF) + ip[12:]
    udp = struct.pack("!HHHH", 9, port, 8 + len(msg), 0)
    frame = b"\0" * 12 + b"\x08\x00" + ip + udp + msg
    t = time.time()
    out.write(struct.pack("<IIII", int(t), int(t % 1 * 1e6), len(frame), len(frame)) + frame)
out.close()
