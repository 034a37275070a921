#!/usr/bin/python3
"""Writes test/fixtures/pcap-corpus.pcap: the packets pktpath's filter expressions are
checked on against tcpdump (test/integration/pcapfilter.test.ts).

Deterministic (fixed seed and timestamps): run it again and the file is the same.
Every frame has its own destination MAC (02:70:70:.., or 01:00:5e:70:.. / 33:33:70:..
for multicast), so a test can tell which corpus packet a traced event is; the few
broadcast frames differ in their sender address. Debian's scapy: /usr/bin/python3.
"""
import random
import sys

from scapy.all import (ARP, GRE, ICMP, IP, IPOption_RR, IPOption_Router_Alert, IPOption_Timestamp,
                       IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, LLC, SNAP, STP, TCP, UDP, Dot1AD, Dot1Q, Dot3, Ether,
                       ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6MLReport,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_RS, ICMPv6PacketTooBig,
                       ICMPv6TimeExceeded, PPPoE, Raw, SCTP, SCTPChunkInit, fragment, wrpcap)
from scapy.contrib.geneve import GENEVE
from scapy.contrib.igmp import IGMP
from scapy.contrib.mpls import MPLS

random.seed(11)
SRC_MACS = ['02:00:00:00:aa:01', '02:00:00:00:aa:02', '02:00:00:00:bb:01']
V4 = ['10.0.0.1', '10.0.0.2', '10.0.0.5', '10.1.2.3', '10.1.200.9', '192.168.1.10', '192.168.1.77',
      '172.16.5.4', '10.255.0.1', '8.8.8.8']
V6 = ['2001:db8::1', '2001:db8::2', '2001:db8:1::10', '2001:db8:1:2::99', 'fe80::1', 'fe80::2',
      '2001:db8:ff::5']
PORTS = [22, 53, 80, 443, 8080, 9, 123, 1000, 1500, 2000, 2001, 8000, 8100, 33333, 51515, 65535]
TCP_OPTS = [[], [('MSS', 1460)], [('MSS', 1400), ('SAckOK', b''), ('Timestamp', (1, 0)), ('NOP', None), ('WScale', 7)],
            [('NOP', None), ('NOP', None), ('Timestamp', (12345, 67890))],
            [('NOP', None), ('NOP', None), ('SAck', (1000, 2000, 3000, 4000))]]
IP_OPTS = [[IPOption_RR(routers=['1.1.1.1', '2.2.2.2'])], [IPOption_Router_Alert()],
           [IPOption_Timestamp(flg=0, timestamp=[1, 2])]]
FLAGS = ['S', 'SA', 'A', 'PA', 'FA', 'R', 'RA', 'U', 'SEC', 'FPU', 'PEA']

frames = []


def mac(kind='unicast'):
    n = len(frames)
    hi, lo = n >> 8, n & 0xff
    if kind == 'v4mcast':
        return f'01:00:5e:70:{hi:02x}:{lo:02x}'
    if kind == 'v6mcast':
        return f'33:33:70:00:{hi:02x}:{lo:02x}'
    if kind == 'broadcast':
        return 'ff:ff:ff:ff:ff:ff'
    return f'02:70:70:00:{hi:02x}:{lo:02x}'


def eth(kind='unicast', src=None):
    return Ether(dst=mac(kind), src=src or random.choice(SRC_MACS))


def pad(n=None):
    return Raw(bytes(random.randrange(256) for _ in range(random.randrange(0, 600) if n is None else n)))


def add(p):
    frames.append(p)


def ipv4(**kw):
    return IP(src=random.choice(V4), dst=random.choice(V4), ttl=random.choice([1, 2, 64, 128, 255]),
              tos=random.choice([0, 0, 0xb8, 0x10]), id=random.randrange(65536), **kw)


def ipv6(**kw):
    return IPv6(src=random.choice(V6), dst=random.choice(V6), hlim=random.choice([1, 64, 255]), **kw)


def tcp():
    return TCP(sport=random.choice(PORTS), dport=random.choice(PORTS), flags=random.choice(FLAGS),
               seq=random.randrange(2**32), ack=random.randrange(2**32), window=random.randrange(65536),
               options=random.choice(TCP_OPTS))


def udp():
    return UDP(sport=random.choice(PORTS), dport=random.choice(PORTS))


def gen_ipv4():
    for _ in range(70):
        add(eth() / ipv4(options=random.choice(IP_OPTS) if random.random() < 0.2 else []) / tcp() / pad())
    add(eth() / IP(src='10.0.0.1', dst='10.255.0.1') / TCP(sport=40000, dport=9, flags='S'))
    add(eth() / IP(src='10.255.0.1', dst='10.0.0.2') / TCP(sport=9, dport=40001, flags='SA'))
    add(eth() / IP(src='10.0.0.1', dst='10.0.0.2') / TCP(sport=40002, dport=80, flags='PA') / Raw(b'GET / HTTP/1.1\r\n\r\n'))
    add(eth() / IP(src='10.0.0.2', dst='10.0.0.1') / TCP(sport=80, dport=40002, flags='PA', options=TCP_OPTS[3]) / Raw(b'GET /x'))
    for _ in range(45):
        add(eth() / ipv4(options=random.choice(IP_OPTS) if random.random() < 0.2 else []) / udp() / pad())
    for t, c in [(8, 0), (0, 0), (3, 3), (3, 1), (3, 4), (11, 0), (5, 1), (13, 0), (4, 0), (12, 0)] * 3:
        inner = IP(src=random.choice(V4), dst=random.choice(V4)) / UDP(sport=53, dport=33333) if t in (3, 11, 12) else Raw()
        add(eth() / ipv4() / ICMP(type=t, code=c, id=random.randrange(65536), seq=random.randrange(100), ts_ori=1000, ts_rx=2000, ts_tx=3000) / inner / pad(random.randrange(64)))
    for proto_pkt in [GRE() / IP(src='10.9.9.9', dst='10.8.8.8') / UDP(), SCTP(sport=2905, dport=2905) / SCTPChunkInit(),
                      IGMP(type=0x16, gaddr='239.1.2.3')]:
        for _ in range(3):
            add(eth() / ipv4() / proto_pkt)
    for _ in range(3):
        add(eth() / ipv4(proto=50) / pad(64))  # ESP
        add(eth() / ipv4(proto=89) / pad(40))  # OSPF


def gen_fragments():
    for _ in range(6):
        big = ipv4() / random.choice([udp(), tcp(), ICMP(id=random.randrange(65536))]) / pad(random.randrange(300, 900))
        for f in fragment(big, fragsize=random.choice([200, 256, 400])):
            add(eth() / f)
    for _ in range(4):
        add(eth() / ipv4(flags='DF') / tcp() / pad())


def gen_ipv6():
    for _ in range(30):
        add(eth() / ipv6() / tcp() / pad())
    for _ in range(25):
        add(eth() / ipv6() / udp() / pad())
    add(eth() / IPv6(src='2001:db8::1', dst='2001:db8::2') / TCP(sport=40003, dport=80, flags='S'))
    icmp6 = [ICMPv6EchoRequest(id=7, seq=1), ICMPv6EchoReply(id=7, seq=1), ICMPv6ND_NS(tgt='2001:db8::2'),
             ICMPv6ND_NA(tgt='2001:db8::2'), ICMPv6ND_RS(), ICMPv6ND_RA(), ICMPv6DestUnreach(code=4),
             ICMPv6PacketTooBig(mtu=1280), ICMPv6TimeExceeded(), ICMPv6MLReport()]
    for m in icmp6 * 3:
        kind = 'v6mcast' if isinstance(m, (ICMPv6ND_NS, ICMPv6ND_RS, ICMPv6MLReport)) else 'unicast'
        inner = IPv6(src=random.choice(V6), dst=random.choice(V6)) / UDP() if isinstance(
            m, (ICMPv6DestUnreach, ICMPv6PacketTooBig, ICMPv6TimeExceeded)) else Raw()
        add(eth(kind) / ipv6() / m / inner)
    for ext in [IPv6ExtHdrHopByHop(), IPv6ExtHdrRouting(addresses=['2001:db8::7']), IPv6ExtHdrDestOpt()] * 3:
        add(eth() / ipv6() / ext / random.choice([udp(), tcp(), ICMPv6EchoRequest()]) / pad(random.randrange(100)))
    for _ in range(3):
        big = ipv6() / IPv6ExtHdrFragment() / udp() / pad(random.randrange(500, 900))
        for f in fragment6(big, 400):
            add(eth() / f)


def fragment6(pkt, size):
    from scapy.all import fragment6 as f6
    return f6(pkt, size)


def gen_vlan():
    for vid in [10, 100, 200, 4094]:
        for _ in range(5):
            l3 = random.choice([ipv4() / tcp(), ipv4() / udp(), ipv4() / ICMP(), ipv6() / tcp(), ipv6() / udp()])
            add(eth() / Dot1Q(vlan=vid, prio=random.randrange(8)) / l3 / pad())
    for vid in [10, 100]:
        add(eth() / Dot1Q(vlan=vid) / ARP(op=2, psrc='10.0.0.5', pdst='10.0.0.1', hwsrc=SRC_MACS[0]))
    for outer, inner in [(100, 10), (200, 20), (300, 100)]:
        for _ in range(3):
            add(eth() / Dot1AD(vlan=outer) / Dot1Q(vlan=inner) / random.choice([ipv4() / tcp(), ipv4() / udp(), ipv6() / udp()]) / pad())
            add(eth() / Dot1Q(vlan=outer) / Dot1Q(vlan=inner) / ipv4() / tcp() / pad())


def gen_l2():
    for i in range(8):  # broadcast: told apart by the sender address
        add(eth('broadcast') / ARP(op=1, psrc=f'10.0.0.{100 + i}', pdst=random.choice(V4), hwsrc=SRC_MACS[i % 3]))
    for i in range(8):
        add(eth() / ARP(op=2, psrc=random.choice(V4), pdst=random.choice(V4), hwsrc=SRC_MACS[i % 3]))
    for i in range(3):
        add(eth() / ARP(op=3, psrc='0.0.0.0', pdst='0.0.0.0') )  # RARP request in an ARP frame
        add(Ether(dst=mac(), src=SRC_MACS[0], type=0x8035) / ARP(op=3))
    add(eth('broadcast') / IP(src='0.0.0.0', dst='255.255.255.255') / UDP(sport=68, dport=67) / pad(240))
    add(eth('broadcast') / IP(src='192.168.1.77', dst='192.168.1.255') / UDP(sport=137, dport=137) / pad(50))
    for i in range(4):
        add(eth('v4mcast') / IP(src=random.choice(V4), dst=f'224.0.0.{251 + i % 2}') / UDP(sport=5353, dport=5353) / pad())
        add(eth('v6mcast') / IPv6(src='fe80::1', dst='ff02::fb') / UDP(sport=5353, dport=5353) / pad())
    for i in range(3):
        add(eth() / MPLS(label=100 + i, s=1) / ipv4() / udp())
        add(Ether(dst=mac(), src=SRC_MACS[1], type=0x8864) / PPPoE(sessionid=0x11) / Raw(b"\x00\x21") / ipv4() / tcp())  # PPP IPv4, uncompressed
        add(Ether(dst=mac(), src=SRC_MACS[2], type=0x88cc) / pad(60))  # LLDP-typed payload
        add(Dot3(dst=mac(), src=SRC_MACS[0]) / LLC(dsap=0x42, ssap=0x42, ctrl=3) / STP())
        add(Dot3(dst=mac(), src=SRC_MACS[1]) / LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0800) / pad(46))
        add(eth() / ipv4() / UDP(sport=40000 + i, dport=6081) / GENEVE(vni=0x1234 + i, proto=0x6558) /
            Ether(dst='02:00:00:00:cc:01', src='02:00:00:00:cc:02') / IP(src='10.77.0.1', dst='10.77.0.2') / TCP(dport=80))


def main(path):
    gen_ipv4()
    gen_fragments()
    gen_ipv6()
    gen_vlan()
    gen_l2()
    out = []
    for i, p in enumerate(frames):
        raw = bytes(p)
        if len(raw) > 1500:
            raise SystemExit(f'frame {i} is {len(raw)} bytes')
        e = Ether(raw)
        e.time = 1700000000 + i / 1000
        out.append(e)
    # the key a test finds a traced packet by: its destination MAC, or a broadcast's sender address
    keys = [bytes(p)[:6] if bytes(p)[0] != 0xff else (p[ARP].psrc if ARP in p else p[IP].src) for p in out]
    if len(set(keys)) != len(keys):
        raise SystemExit('corpus frames do not all have their own key')
    wrpcap(path, out, linktype=1)
    print(f'{path}: {len(out)} packets')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/pcap-corpus.pcap')
