/** More diagnosis cases: MTU, addresses, checksums, qdiscs, tc, XDP, TCP queues and resets, benign ones. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Case } from './diagnose-cases.js';
import type { Scene } from './scenes.js';
import { connectPy, flagFile, listenPy } from './scenes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const out = async (p: Promise<{ stdout: string }>): Promise<string> => (await p).stdout.trim();
const tcp = (s: Scene, p: number, v6 = false): string[] => ['-H', v6 ? s.v6.srv : s.v4.srv, '-P', String(p), '--proto', 'tcp'];

async function listen(s: Scene, p: number, o: Parameters<typeof listenPy>[2] = {}, v6 = false): Promise<void> {
  // the listener lives until the case is over (the runner makes the flag file), 60 s at most
  const opts = { lifeS: 60, untilFile: flagFile(p), ...o };
  void s.py('srv', listenPy(v6 ? s.v6.srv : s.v4.srv, p, opts), (opts.lifeS + 5) * 1000);
  for (let i = 0; i < 50; i++) {
    if ((await s.sh('srv', `ss -Hltn 'sport = :${p}'`, { allowFail: true })).stdout.trim()) return;
    await sleep(100);
  }
  throw new Error(`no listener on port ${p} in srv`);
}

/** Python: connect, send `bytes`, wait `holdS`; prints what happened. */
function sendPy(host: string, port: number, bytes: number, holdS: number): string {
  return `
import socket, time
s = socket.socket(socket.AF_INET6 if ':' in ${JSON.stringify(host)} else socket.AF_INET); s.settimeout(3)
s.connect((${JSON.stringify(host)}, ${port}))
try:
    s.sendall(b'x' * ${bytes}); print('sent')
except Exception as e: print('error', e)
time.sleep(${holdS})
`;
}

function scapy(code: string): string {
  return `from scapy.all import *\nconf.verb = 0\n${code}\nprint('sent')`;
}

/** The PMTU black hole: the router's link to srv is narrower, the client drops the ICMP telling it so. */
function pmtuCase(v6: boolean): Case {
  return {
    name: `path MTU black hole over ${v6 ? 'IPv6' : 'IPv4'}: the router drops big segments, the client's firewall drops the ICMP (seed 000)`,
    rule: 'pmtu.black-hole',
    router: true,
    tools: [v6 ? 'ip6tables' : 'iptables'],
    trace: (s, p) => tcp(s, p, v6),
    setup: async (s, p) => {
      await s.sh('rtr', `ip link set dev ${s.dev.rtrS} mtu 1280`);
      await s.sh('cli', v6 ? 'ip6tables -A INPUT -p icmpv6 --icmpv6-type packet-too-big -j DROP' : 'iptables -A INPUT -p icmp -j DROP');
      await listen(s, p, {}, v6);
    },
    run: (s, p) => out(s.py('cli', sendPy(v6 ? s.v6.srv : s.v4.srv, p, 30000, 3), 10_000)),
    at: 'rtr',
    evidence: v6 ? ['kfree_skb', 'net_dev_queue'] : ['icmp_send', 'kfree_skb', 'net_dev_queue'],
    words: /black hole|never reached/,
  };
}

const XDP_REDIRECT_C = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int redir(struct xdp_md *ctx) { return bpf_redirect(TARGET, 0); }
char LICENSE[] SEC("license") = "GPL";
`;

/** Compiles the redirecting XDP program for a target ifindex; returns the object path. */
function xdpObject(target: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'pp-xdp-'));
  writeFileSync(join(dir, 'redir.c'), XDP_REDIRECT_C);
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', `-DTARGET=${target}`, '-c', join(dir, 'redir.c'), '-o', join(dir, 'redir.o')], { stdio: 'pipe' });
  return join(dir, 'redir.o');
}

/** A forged RST: scapy in the router answers the client's SYN with a reset claiming to be the server. */
const FORGE_PY = (dev: string, p: number): string =>
  scapy(`
def forge(pkt):
    ip, t = pkt[IP], pkt[TCP]
    sendp(Ether(src=pkt[Ether].dst, dst=pkt[Ether].src)/IP(src=ip.dst, dst=ip.src, ttl=120, id=64765)/TCP(sport=t.dport, dport=t.sport, flags='RA', seq=0, ack=t.seq + 1), iface=${JSON.stringify(dev)})
sn = AsyncSniffer(iface=${JSON.stringify(dev)}, filter='tcp dst port ${p} and tcp[tcpflags] & tcp-syn != 0', prn=forge, count=1, timeout=8)
sn.start(); time.sleep(0.5); print('ready', flush=True); sn.join()`);

/** Cases whose telling evidence comes from the newer inputs: an ICMP error's quoted header, the TTL, sock_diag, counters. */
const WAITING: readonly Case[] = [
  {
    ...pmtuCase(false),
    name: 'PMTU black hole: the ICMP "fragmentation needed" shown dropped at the sender, tied to the flow by its quoted header',
    roles: ['icmp-lost'],
  },
  {
    name: 'a reset forged from the server\'s own network position: only its TTL and IP ID give it away (seed 003)',
    rule: 'tcp.rst-injected',
    tools: ['scapy'],
    trace: (s, p) => tcp(s, p),
    setup: (s, p) => listen(s, p),
    run: async (s, p) => {
      // the forger sits on the server's own device: same origin namespace, other TTL and IP ID
      const forger = s.py('srv', FORGE_PY(s.dev.srv, p), 30_000);
      await sleep(4000);
      const r = await out(s.py('cli', connectPy(s.v4.srv, p, 2), 8000));
      await forger;
      writeFileSync(flagFile(p), '');
      return r;
    },
    at: 'cli',
    words: /TTL is 120 where the peer's packets arrive with 64/,
    // the listener closing at the end frees what the connection still held there
    also: ['tcp.rst-received', 'drop'],
  },
  {
    name: 'no listener on the address asked, but one on 127.0.0.1: said so from sock_diag',
    rule: 'tcp.no-listener',
    trace: (s, p) => tcp(s, p),
    setup: async (s, p) => {
      void s.py('srv', listenPy('127.0.0.1', p, { lifeS: 60, untilFile: flagFile(p) }), 65_000);
      await sleep(500);
    },
    run: (s, p) => out(s.py('cli', connectPy(s.v4.srv, p, 2), 6000)),
    outcome: /ECONNREFUSED/,
    at: 'srv',
    words: /A socket listens on 127\.0\.0\.1/,
    readFacts: true,
  },
  {
    name: 'accept queue full, confirmed by TcpExtListenOverflows',
    rule: 'tcp.accept-queue-full',
    trace: (s, p) => tcp(s, p),
    setup: (s, p) => listen(s, p, { backlog: 1, accept: false }),
    run: async (s, p) => (await Promise.all([1, 2, 3, 4].map(() => out(s.py('cli', connectPy(s.v4.srv, p, 3.5, 4), 12_000))))).join(' '),
    at: 'srv',
    words: /TcpExtListenOverflows \+\d/,
    readFacts: true,
  },
];

export const MORE_CASES: readonly Case[] = [
  ...WAITING,
  pmtuCase(false),
  pmtuCase(true),
  {
    name: 'reverse-path filter: a source the server has no route back to (seed 001)',
    rule: 'ip.rp-filter',
    trace: (s) => ['-H', s.v4.srv, '--proto', 'icmp', '--route'],
    setup: async (s) => {
      await s.sh('srv', `sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.${s.dev.srv}.rp_filter=1`);
      await s.sh('cli', `ip addr add 10.199.250.${s.v4.cli.split('.')[2]}/32 dev ${s.dev.cli}`);
      // rp_filter applies to ARP too: the server would not answer an ARP from that source
      await s.sh('cli', `ip neigh replace ${s.v4.srv} lladdr ${s.mac('srv')} dev ${s.dev.cli} nud permanent`);
    },
    run: (s) => out(s.sh('cli', `ping -c 1 -W 1 -I 10.199.250.${s.v4.cli.split('.')[2]} ${s.v4.srv} >/dev/null; echo $?`, { allowFail: true })),
    outcome: /1/,
    at: 'srv',
    evidence: ['kfree_skb'],
  },
  {
    name: 'source address is the receiver\'s own (seed 004: accept_local)',
    rule: 'ip.local-source',
    tools: ['scapy'],
    trace: (s) => ['-H', s.v4.srv, '--proto', 'icmp'],
    run: (s) => out(s.py('cli', scapy(`send(IP(src=${JSON.stringify(s.v4.srv)}, dst=${JSON.stringify(s.v4.srv)})/ICMP())`), 30_000)),
    at: 'srv',
    evidence: ['kfree_skb'],
    words: /accept_local/,
  },
  {
    name: 'martian source (a multicast source address)',
    rule: 'ip.martian',
    tools: ['scapy'],
    trace: (s) => ['-H', s.v4.srv, '--proto', 'icmp'],
    run: (s) => out(s.py('cli', scapy(`send(IP(src='224.0.0.9', dst=${JSON.stringify(s.v4.srv)})/ICMP())`), 30_000)),
    at: 'srv',
    evidence: ['kfree_skb'],
  },
  {
    name: 'frame sent to a MAC that is not the receiver\'s (seed 004: redirect without rewriting the MAC)',
    rule: 'ip.otherhost',
    trace: (s) => ['-H', s.v4.srv, '--proto', 'icmp'],
    setup: async (s) => void (await s.sh('cli', `ip neigh replace ${s.v4.srv} lladdr 02:00:00:00:00:99 dev ${s.dev.cli} nud permanent`)),
    run: (s) => out(s.sh('cli', `ping -c 1 -W 1 ${s.v4.srv} >/dev/null; echo $?`, { allowFail: true })),
    outcome: /1/,
    at: 'srv',
    evidence: ['kfree_skb'],
    words: /02:00:00:00:00:99/,
  },
  {
    name: 'bad IP header checksum (seed 004: checksum not zeroed before computing it)',
    rule: 'ip.bad-header',
    tools: ['scapy'],
    trace: (s) => ['-H', s.v4.srv, '--proto', 'icmp'],
    run: (s) => out(s.py('cli', scapy(`send(IP(dst=${JSON.stringify(s.v4.srv)}, chksum=0x1234)/ICMP())`), 30_000)),
    at: 'srv',
    evidence: ['kfree_skb'],
  },
  {
    name: 'bad TCP checksum',
    rule: 'tcp.bad-csum',
    tools: ['scapy'],
    trace: (s, p) => tcp(s, p),
    run: (s, p) => out(s.py('cli', scapy(`send(IP(dst=${JSON.stringify(s.v4.srv)})/TCP(sport=40001, dport=${p}, flags='S', chksum=0x1234))`), 30_000)),
    at: 'srv',
    evidence: ['kfree_skb'],
  },
  {
    name: 'a tbf qdisc too small for a UDP burst: tail drop',
    rule: 'qdisc.drop',
    trace: (s) => ['-H', s.v4.srv, '--proto', 'udp'],
    setup: async (s) => void (await s.sh('cli', `tc qdisc add dev ${s.dev.cli} root tbf rate 100kbit burst 1600 limit 3000`)),
    run: (s, p) => out(s.py('cli', `import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range(40): s.sendto(b'x'*1000, (${JSON.stringify(s.v4.srv)}, ${p}))\nprint('sent')`)),
    at: 'cli',
    evidence: ['kfree_skb'],
    // the datagrams that do get through find no socket
    also: ['udp.no-port'],
  },
  {
    name: 'replies delayed by a tbf shaper on the server (seed 002, investigation 3)',
    rule: 'latency.dominant-hop',
    trace: (s, p) => tcp(s, p),
    setup: async (s, p) => {
      await s.sh('srv', `tc qdisc add dev ${s.dev.srv} root tbf rate 300kbit burst 3000 latency 5s`);
      await listen(s, p, { send: 60000 });
    },
    run: (s, p) => out(s.py('cli', `import socket\ns=socket.socket(); s.connect((${JSON.stringify(s.v4.srv)}, ${p})); n=0\nwhile n < 60000:\n    d = s.recv(65536)\n    if not d: break\n    n += len(d)\nprint('got', n)`, 15_000)),
    outcome: /got 60000/,
    at: 'srv',
    evidence: ['qdisc_dequeue'],
    words: /replies .*waited in the tbf qdisc on .* median/,
    facts: (s) => ({ qdiscs: [{ netns: s.inode.srv, dev: s.dev.srv, handle: '8001:', kind: 'tbf' }] }),
  },
  {
    name: 'tc mirred redirect between two devices of a router (seed 000)',
    rule: 'tc.mirred',
    router: true,
    tools: ['tc'],
    trace: (s) => ['-H', s.v4.cli, '--proto', 'icmp'],
    setup: async (s) => {
      // the router bridges cli and srv with mirred; srv gets an address in cli's subnet
      const x = s.v4.cli.split('.')[2];
      await s.sh('rtr', `ip addr flush dev ${s.dev.rtrC}; ip addr flush dev ${s.dev.rtrS}; sysctl -qw net.ipv4.ip_forward=0`);
      await s.sh('srv', `ip addr flush dev ${s.dev.srv}; ip addr add 10.199.${x}.3/24 dev ${s.dev.srv}`);
      for (const [a, b] of [[s.dev.rtrC, s.dev.rtrS], [s.dev.rtrS, s.dev.rtrC]]) {
        await s.sh('rtr', `tc qdisc add dev ${a} ingress && tc filter add dev ${a} parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev ${b}`);
      }
    },
    run: (s) => out(s.sh('cli', `ping -c 2 -i 0.2 -W 1 10.199.${s.v4.cli.split('.')[2]}.3 >/dev/null; echo $?`, { allowFail: true })),
    outcome: /^0$/,
    at: 'rtr',
    evidence: ['netif_receive_skb', 'net_dev_queue'],
  },
  {
    name: 'XDP_REDIRECT to a veth whose peer has no XDP program: frames vanish (seed 004)',
    rule: 'xdp.redirect-lost',
    router: true,
    tools: ['clang'],
    trace: (s) => ['-H', s.v4.srv, '--proto', 'icmp'],
    setup: async (s) => {
      const obj = xdpObject(s.ifindex('rtrS'));
      await s.sh('rtr', `ip link set dev ${s.dev.rtrC} xdp obj ${obj} sec xdp`);
      // no ARP through the redirect: the client knows the router's MAC
      await s.sh('cli', `ip neigh replace ${s.v4.rtr} lladdr ${s.mac('rtrC')} dev ${s.dev.cli} nud permanent`);
    },
    run: (s) => out(s.sh('cli', `ping -c 2 -i 0.3 -W 1 ${s.v4.srv} >/dev/null; echo $?`, { allowFail: true })),
    outcome: /1/,
    at: 'rtr',
    evidence: ['consume_skb'],
  },
  {
    name: 'a listener that never accepts: its accept queue fills, SYNs go unanswered',
    rule: 'tcp.accept-queue-full',
    trace: (s, p) => tcp(s, p),
    setup: (s, p) => listen(s, p, { backlog: 1, accept: false }),
    run: async (s, p) => (await Promise.all([1, 2, 3, 4].map(() => out(s.py('cli', connectPy(s.v4.srv, p, 3.5, 4), 12_000))))).join(' '),
    outcome: /timeout/,
    at: 'srv',
    evidence: ['netif_receive_skb', 'consume_skb'],
    also: [],
  },
  {
    name: 'a reset forged by a box on the path (seed 000, 003): made in the router, not in the server',
    rule: 'tcp.rst-injected',
    router: true,
    tools: ['scapy', 'iptables'],
    trace: (s, p) => tcp(s, p),
    setup: async (s, p) => {
      await listen(s, p);
      // the genuine answer is held back, the forged one wins
      await s.sh('rtr', `iptables -A FORWARD -p tcp --sport ${p} --tcp-flags SYN,ACK SYN,ACK -j DROP`);
    },
    run: async (s, p) => {
      const forger = s.py('rtr', FORGE_PY(s.dev.rtrC, p), 30_000);
      await sleep(4000);
      const r = await out(s.py('cli', connectPy(s.v4.srv, p, 3), 8000));
      await forger;
      return r;
    },
    outcome: /ECONNREFUSED/,
    at: 'cli',
    evidence: ['netif_receive_skb'],
    words: /made in netns .*rtr/,
    also: ['nf.input-drop', 'drop'],
  },
  {
    name: 'SYN retransmitted and nothing comes back (the drop is beyond the traced namespace)',
    rule: 'tcp.syn-unanswered',
    tools: ['iptables'],
    trace: (s, p) => [...tcp(s, p), '-N', s.ns.cli],
    setup: async (s, p) => void (await s.sh('srv', `iptables -A INPUT -p tcp --dport ${p} -j DROP`)),
    run: (s, p) => out(s.py('cli', connectPy(s.v4.srv, p, 3.5), 8000)),
    outcome: /timeout/,
    at: 'cli',
    evidence: ['net_dev_queue'],
  },
  {
    name: 'benign: ping over a raw socket, its reply freed NO_SOCKET at the ICMP layer',
    rule: 'benign.ping-raw-socket',
    trace: (s) => ['-H', s.v4.srv, '--proto', 'icmp'],
    setup: async (s) => void (await s.sh('cli', 'sysctl -qw net.ipv4.ping_group_range="1 0"')),
    run: (s) => out(s.sh('cli', `ping -c 2 -i 0.2 -W 1 ${s.v4.srv} >/dev/null; echo $?`, { allowFail: true })),
    outcome: /^0$/,
    at: 'cli',
    evidence: ['kfree_skb'],
  },
  {
    name: 'benign: connections never accepted are purged when the listener closes',
    rule: 'benign.queue-purge',
    trace: (s, p) => tcp(s, p),
    setup: (s, p) => listen(s, p, { backlog: 4, accept: false }),
    run: async (s, p) => {
      const r = await out(s.py('cli', `import socket, time\ns=socket.socket(); s.connect((${JSON.stringify(s.v4.srv)}, ${p})); s.send(b'hello'); s.close(); time.sleep(0.5); print('closed')`, 8000));
      // now the listener closes, with the connection it never accepted
      writeFileSync(flagFile(p), '');
      await sleep(1000);
      return r;
    },
    outcome: /closed/,
    at: 'srv',
    evidence: ['kfree_skb'],
    // the closing listener resets the connections it never accepted
    also: ['tcp.rst-received'],
  },
  {
    name: 'benign: a retransmission of data the server already has (its ACKs were lost)',
    rule: 'benign.tcp-old-data',
    tools: ['iptables'],
    trace: (s, p) => tcp(s, p),
    setup: (s, p) => listen(s, p),
    run: async (s, p) => {
      const client = out(s.py('cli', `import socket, time\ns=socket.socket(); s.connect((${JSON.stringify(s.v4.srv)}, ${p})); time.sleep(0.5); s.send(b'x'*100); time.sleep(3); print('done')`, 10_000));
      await sleep(300);
      await s.sh('srv', `iptables -I OUTPUT -p tcp --sport ${p} -j DROP`);
      await sleep(1500);
      await s.sh('srv', `iptables -D OUTPUT -p tcp --sport ${p} -j DROP`);
      const r = await client;
      writeFileSync(flagFile(p), '');
      return r;
    },
    outcome: /done/,
    at: 'srv',
    evidence: ['kfree_skb'],
    also: ['nf.output-drop', 'tcp.retransmit'],
  },
  {
    name: 'a UDP receiver that does not read: its buffer fills',
    rule: 'sock.rcvbuf-full',
    trace: (s) => ['-H', s.v4.srv, '--proto', 'udp'],
    setup: async (s, p) => {
      void s.py('srv', `import socket, time\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024); s.bind((${JSON.stringify(s.v4.srv)}, ${p})); time.sleep(20)`, 25_000);
      await sleep(400);
    },
    run: (s, p) => out(s.py('cli', `import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range(40): s.sendto(b'x'*1000, (${JSON.stringify(s.v4.srv)}, ${p}))\nprint('sent')`)),
    at: 'srv',
    evidence: ['kfree_skb'],
  },
  {
    name: 'conntrack INVALID: an ACK for no connection, dropped by a ctstate INVALID rule',
    rule: 'nf.ct-invalid',
    tools: ['scapy', 'iptables', 'nft'],
    trace: (s, p) => [...tcp(s, p), '--iptable', '-N', s.ns.srv],
    setup: async (s) => {
      await s.sh('srv', 'iptables -A INPUT -m conntrack --ctstate INVALID -j DROP && sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0');
    },
    run: (s, p) => out(s.py('cli', scapy(`send(IP(dst=${JSON.stringify(s.v4.srv)})/TCP(sport=40002, dport=${p}, flags='A', seq=1000, ack=2000))`), 30_000)),
    at: 'srv',
    evidence: ['kfree_skb', 'netfilter'],
    words: /INVALID/,
  },
];
