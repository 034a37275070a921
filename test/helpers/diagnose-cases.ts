/**
 * The diagnosis cases (issue 9, part 3; the seed notes): each builds its scene with real
 * rules, qdiscs and traffic, names the `pktpath trace` filter that records it, and says
 * which rule must hold, where, on what evidence, and which other rules may fire with it.
 * test/integration/diagnose.test.ts runs them.
 */
import type { Facts } from '../../src/diagnose/index.js';
import type { Role, Scene } from './scenes.js';
import { connectPy, flagFile, listenPy } from './scenes.js';

export interface Case {
  readonly name: string;
  readonly rule: string;
  readonly router?: boolean;
  /** commands the case needs on PATH; 'scapy' means Debian's python3-scapy */
  readonly tools?: readonly string[];
  readonly trace: (s: Scene, port: number) => string[];
  readonly setup?: (s: Scene, port: number) => Promise<void>;
  /** the traffic; returns what the client saw (errno name, "timeout", ...) */
  readonly run: (s: Scene, port: number) => Promise<string>;
  /** what the client must have seen */
  readonly outcome?: RegExp;
  /** the namespace the finding must be in */
  readonly at?: Role;
  /** probes the finding's evidence must include */
  readonly evidence?: readonly string[];
  /** evidence roles the finding must include (e.g. icmp-lost) */
  readonly roles?: readonly string[];
  /** words the finding (verdict or what) must hold */
  readonly words?: RegExp;
  /** other error/warn rules allowed to fire in the same run */
  readonly also?: readonly string[];
  readonly facts?: (s: Scene, port: number) => Facts;
  /** read the machine's facts as pktpath diagnose does: counters before and after, sockets after */
  readonly readFacts?: boolean;
  /** the input this case waits for (the test is a todo until the kernel side gives it) */
  readonly todo?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tcp = (s: Scene, p: number, v6 = false): string[] => ['-H', v6 ? s.v6.srv : s.v4.srv, '-P', String(p), '--proto', 'tcp'];
const out = async (p: Promise<{ stdout: string }>): Promise<string> => (await p).stdout.trim();
const connect = (s: Scene, p: number, timeoutS = 2, v6 = false): Promise<string> => out(s.py('cli', connectPy(v6 ? s.v6.srv : s.v4.srv, p, timeoutS), (timeoutS + 3) * 1000));

/** A listener in srv, started in the background; resolves once it listens. */
async function listen(s: Scene, p: number, o: Parameters<typeof listenPy>[2] = {}, v6 = false): Promise<void> {
  // the listener lives until the case is over (the runner makes the flag file), 60 s at most
  const opts = { lifeS: 60, untilFile: flagFile(p), ...o };
  void s.py('srv', listenPy(v6 ? s.v6.srv : s.v4.srv, p, opts), (opts.lifeS + 5) * 1000);
  for (let i = 0; i < 50; i++) {
    const r = await s.sh('srv', `ss -Hltn 'sport = :${p}'`, { allowFail: true });
    if (r.stdout.trim()) return;
    await sleep(100);
  }
  throw new Error(`no listener on port ${p} in srv`);
}

/** Python: a UDP client that sends `n` datagrams of `size` bytes and reports a later error. */
function udpPy(host: string, port: number, n: number, size: number): string {
  return `
import socket, errno, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect((${JSON.stringify(host)}, ${port}))
for i in range(${n}):
    try: s.send(b'x' * ${size})
    except OSError as e: pass
time.sleep(0.3)
try:
    s.send(b'y'); s.settimeout(0.5); s.recv(10); print('answered')
except socket.timeout: print('timeout')
except OSError as e: print(errno.errorcode.get(e.errno, str(e.errno)))
`;
}

/** Python (scapy): send one crafted IPv4 packet; `pkt` is a scapy expression. */
function scapySend(pkt: string): string {
  return `from scapy.all import *\nconf.verb = 0\nsend(${pkt})\nprint('sent')`;
}

const REJECTS: readonly [string, number, RegExp][] = [
  ['icmp-net-unreachable', 0, /ENETUNREACH/],
  ['icmp-host-unreachable', 1, /EHOSTUNREACH/],
  ['icmp-proto-unreachable', 2, /ENOPROTOOPT/],
  ['icmp-port-unreachable', 3, /ECONNREFUSED/],
  ['icmp-net-prohibited', 9, /ENETUNREACH/],
  ['icmp-host-prohibited', 10, /EHOSTUNREACH/],
  ['icmp-admin-prohibited', 13, /EHOSTUNREACH/],
];

const rejectCases: Case[] = REJECTS.map(([kind, code, errno]) => ({
  name: `INPUT REJECT --reject-with ${kind}: ICMP 3/${code}, the client's connect() fails with ${errno.source}`,
  rule: 'nf.reject',
  tools: ['iptables'],
  trace: (s, p) => tcp(s, p),
  setup: async (s, p) => void (await s.sh('srv', `iptables -A INPUT -p tcp --dport ${p} -j REJECT --reject-with ${kind}`)),
  run: (s, p) => connect(s, p),
  outcome: errno,
  at: 'srv',
  evidence: ['icmp_send', 'kfree_skb'],
  words: new RegExp(`ICMP 3/${code} .*${errno.source}`),
}));

export const CASES: readonly Case[] = [
  {
    name: 'connect to a closed port (IPv4): NO_SOCKET, reset, Connection refused',
    rule: 'tcp.no-listener',
    trace: (s, p) => tcp(s, p),
    run: (s, p) => connect(s, p),
    outcome: /ECONNREFUSED/,
    at: 'srv',
    evidence: ['kfree_skb'],
    words: /Connection refused/,
  },
  {
    name: 'connect to a closed port (IPv6)',
    rule: 'tcp.no-listener',
    trace: (s, p) => tcp(s, p, true),
    run: (s, p) => connect(s, p, 2, true),
    outcome: /ECONNREFUSED/,
    at: 'srv',
    evidence: ['kfree_skb'],
  },
  {
    name: 'UDP to a closed port: NO_SOCKET and ICMP port unreachable',
    rule: 'udp.no-port',
    trace: (s) => ['-H', s.v4.srv, '--proto', 'udp'],
    run: (s, p) => out(s.py('cli', udpPy(s.v4.srv, p, 1, 10))),
    outcome: /ECONNREFUSED/,
    at: 'srv',
    evidence: ['icmp_send', 'kfree_skb'],
  },
  {
    name: 'OUTPUT DROP in the client: dropped before any capture point',
    rule: 'nf.output-drop',
    tools: ['iptables', 'nft'],
    // -N: with --iptable and no -N, pktpath watches every namespace, and other tests' come and go
    trace: (s, p) => [...tcp(s, p), '--iptable', '-N', s.ns.cli],
    setup: async (s, p) => void (await s.sh('cli', `iptables -A OUTPUT -p tcp -d ${s.v4.srv} --dport ${p} -j DROP`)),
    run: (s, p) => connect(s, p, 1.5),
    outcome: /timeout/,
    at: 'cli',
    evidence: ['kfree_skb', 'netfilter'],
    words: /would NOT show it.*OUTPUT|OUTPUT.*would NOT show it/,
  },
  {
    name: 'INPUT DROP in the server: tcpdump there would show the SYN arrive',
    rule: 'nf.input-drop',
    tools: ['iptables', 'nft'],
    trace: (s, p) => [...tcp(s, p), '--iptable', '-N', s.ns.srv],
    setup: async (s, p) => void (await s.sh('srv', `iptables -A INPUT -p tcp --dport ${p} -j DROP`)),
    run: (s, p) => connect(s, p, 1.5),
    outcome: /timeout/,
    at: 'srv',
    evidence: ['netif_receive_skb', 'kfree_skb', 'netfilter'],
    words: /WOULD show it arrive.*INPUT|INPUT.*WOULD show it arrive/,
  },
  {
    name: 'FORWARD DROP in a router',
    rule: 'nf.forward-drop',
    router: true,
    tools: ['iptables', 'nft'],
    trace: (s, p) => [...tcp(s, p), '--iptable', '-N', s.ns.rtr],
    setup: async (s, p) => void (await s.sh('rtr', `iptables -A FORWARD -p tcp --dport ${p} -j DROP`)),
    run: (s, p) => connect(s, p, 1.5),
    outcome: /timeout/,
    at: 'rtr',
    evidence: ['kfree_skb', 'netfilter'],
    words: /FORWARD/,
  },
  ...rejectCases,
  {
    name: 'FORWARD REJECT admin-prohibited in a router (seed 004: curl says No route to host)',
    rule: 'nf.reject',
    router: true,
    tools: ['iptables', 'nft'],
    trace: (s, p) => [...tcp(s, p), '--iptable', '-N', s.ns.rtr],
    setup: async (s, p) => void (await s.sh('rtr', `iptables -A FORWARD -p tcp --dport ${p} -j REJECT --reject-with icmp-admin-prohibited`)),
    run: (s, p) => connect(s, p),
    outcome: /EHOSTUNREACH/,
    at: 'rtr',
    evidence: ['icmp_send', 'kfree_skb', 'netfilter'],
    words: /No route to host.*not a routing problem/,
  },
  {
    name: 'INPUT REJECT --reject-with tcp-reset: looks like a closed port',
    rule: 'nf.reject-tcp-reset',
    tools: ['iptables'],
    trace: (s, p) => tcp(s, p),
    setup: async (s, p) => void (await s.sh('srv', `iptables -A INPUT -p tcp --dport ${p} -j REJECT --reject-with tcp-reset`)),
    run: (s, p) => connect(s, p),
    outcome: /ECONNREFUSED/,
    at: 'srv',
    evidence: ['kfree_skb', 'net_dev_queue'],
    words: /Connection refused/,
  },
  {
    name: 'IPv6 INPUT REJECT icmp6-adm-prohibited (named from the rule with --iptable): Permission denied',
    rule: 'nf.reject-rule',
    tools: ['ip6tables', 'nft'],
    trace: (s, p) => [...tcp(s, p, true), '--iptable', '-N', s.ns.srv],
    setup: async (s, p) => void (await s.sh('srv', `ip6tables -A INPUT -p tcp --dport ${p} -j REJECT --reject-with icmp6-adm-prohibited`)),
    run: (s, p) => connect(s, p, 2, true),
    outcome: /EACCES/,
    at: 'srv',
    evidence: ['kfree_skb', 'netfilter'],
    words: /Permission denied/,
  },
];


