import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Diagnoser } from './engine.js';
import type { Facts, Report } from './model.js';
import { ReplayResolver, rawOfJson } from './replay.js';
import type { JsonEvent, JsonTuple } from './replay.js';
import { LIMITS } from './state.js';

const CLI = 1001;
const SRV = 1002;
const RTR = 1003;
const A = '10.0.0.1';
const B = '10.0.1.2';

function tcp(flags: string, back = false, sport = 40000): JsonTuple {
  return back ? { proto: 'tcp', saddr: B, daddr: A, sport: 80, dport: sport, flags } : { proto: 'tcp', saddr: A, daddr: B, sport, dport: 80, flags };
}

/** A tiny trace builder: one event per call, time moving 10 us per event unless told. */
class Trace {
  readonly events: JsonEvent[] = [];
  private ts = 1_000_000_000;
  ev(probe: string, netns: number, ifname: string, skb: string, tuple: JsonTuple | null, extra: Partial<JsonEvent> = {}, dtNs = 10_000): this {
    this.ts += dtNs;
    this.events.push({ ts_ns: this.ts, netns, netns_name: { [CLI]: 'cli', [SRV]: 'srv', [RTR]: 'rtr' }[netns], ifname, skb, probe, tuple, len: 60, dst_mac: '02:00:00:00:00:01', ...extra });
    return this;
  }
  report(facts: Facts = {}): Report {
    const r = new ReplayResolver();
    const d = new Diagnoser(r);
    for (const e of this.events) d.push(rawOfJson(e, r));
    return d.report(facts);
  }
}

const rules = (r: Report): string[] => r.findings.map((f) => f.rule);

test('a reset whose TTL differs from the peer\'s packets is forged (needs the TTL field)', () => {
  const t = new Trace()
    .ev('net_dev_queue', CLI, 'c0', '0x1', tcp('SYN'))
    .ev('netif_receive_skb', CLI, 'c0', '0x2', tcp('ACK,SYN', true), { ttl: 50 })
    .ev('consume_skb', CLI, '', '0x2', tcp('ACK,SYN', true))
    .ev('netif_receive_skb', CLI, 'c0', '0x3', tcp('ACK,RST', true), { ttl: 120 });
  const rep = t.report();
  const f = rep.findings.find((x) => x.rule === 'tcp.rst-injected');
  assert.ok(f, rules(rep).join());
  assert.match(f.what, /TTL is 120 where the peer's packets arrive with 50/);
  assert.equal(f.where.netns, CLI);
});

test('without a TTL and with only one namespace traced, a reset is not called forged', () => {
  const t = new Trace()
    .ev('netif_receive_skb', CLI, 'c0', '0x2', tcp('ACK,SYN', true))
    .ev('netif_receive_skb', CLI, 'c0', '0x3', tcp('ACK,RST', true));
  const rep = t.report();
  assert.ok(!rules(rep).includes('tcp.rst-injected'));
  assert.ok(rep.inputs.missing.includes('ttl'));
});

test('PMTU black hole: the ICMP error dropped at the sender shows through its quoted header (needs inner)', () => {
  const icmp: JsonTuple = { proto: 'icmp', saddr: '10.0.0.2', daddr: A, sport: 0, dport: 0, flags: '', icmp_type: 3, icmp_code: 4 };
  const seg = tcp('ACK,PSH');
  const t = new Trace()
    .ev('net_dev_queue', CLI, 'c0', '0x1', seg, { len: 1514 })
    .ev('netif_receive_skb', RTR, 'r0', '0x1', seg, { len: 1500 })
    .ev('icmp_send', RTR, 'r0', '0x1', seg, { info: { type: 3, code: 4 } })
    .ev('kfree_skb', RTR, 'r0', '0x1', seg, { drop_reason: 'PKT_TOO_BIG', location: 'ip_forward+0x1' })
    .ev('netif_receive_skb', CLI, 'c0', '0x9', icmp, { inner: seg })
    .ev('kfree_skb', CLI, 'c0', '0x9', icmp, { inner: seg, drop_reason: 'NETFILTER_DROP', location: 'nft_do_chain+0x1' })
    .ev('net_dev_queue', CLI, 'c0', '0x4', seg, { len: 1514 }, 200e6);
  const rep = t.report();
  const f = rep.findings.find((x) => x.rule === 'pmtu.black-hole');
  assert.ok(f, rules(rep).join());
  assert.ok(f.evidence.some((e) => e.role === 'icmp-lost' && e.netns === CLI), JSON.stringify(f.evidence));
  assert.ok(f.evidence.some((e) => e.role === 'resent'));
  assert.equal(rep.verdict.finding, f.n);
});

test('no listener: socket facts say where a socket does listen (another address, another namespace)', () => {
  const syn = tcp('SYN');
  const t = new Trace()
    .ev('netif_receive_skb', SRV, 's0', '0x1', syn)
    .ev('kfree_skb', SRV, 's0', '0x1', syn, { drop_reason: 'NO_SOCKET', location: 'tcp_v4_rcv+0x91' });
  const sockets: Facts['sockets'] = [
    { netns: SRV, proto: 'tcp', state: 'LISTEN', local: { addr: '127.0.0.1', port: 80 }, process: 'nginx' },
    { netns: RTR, proto: 'tcp', state: 'LISTEN', local: { addr: '0.0.0.0', port: 80 } },
  ];
  const f = t.report({ sockets }).findings.find((x) => x.rule === 'tcp.no-listener');
  assert.ok(f);
  assert.match(f.what, /A socket listens on 127\.0\.0\.1:80 in this namespace \(nginx\), 0\.0\.0\.0:80 in netns 1003/);
  const g = t.report().findings.find((x) => x.rule === 'tcp.no-listener');
  assert.doesNotMatch(g!.what, /A socket listens/);
});

test('accept queue full: counters and the listener\'s queue confirm it', () => {
  const t = new Trace();
  for (const skb of ['0x1', '0x2']) t.ev('netif_receive_skb', SRV, 's0', skb, tcp('SYN')).ev('consume_skb', SRV, '', skb, tcp('SYN'), {}, 1e9);
  const facts: Facts = {
    sockets: [{ netns: SRV, proto: 'tcp', state: 'LISTEN', local: { addr: B, port: 80 }, recvQ: 2, sendQ: 1 }],
    counters: [{ netns: SRV, name: 'TcpExtListenOverflows', delta: 2 }],
  };
  const f = t.report(facts).findings.find((x) => x.rule === 'tcp.accept-queue-full');
  assert.ok(f);
  assert.match(f.what, /2 connections waiting for accept\(\) with a backlog of 1/);
  assert.match(f.what, /TcpExtListenOverflows \+2/);
  // sockets read after the run, the listener gone by then: still the queue, without its numbers
  const gone = t.report({ sockets: [] }).findings.find((x) => x.rule === 'tcp.accept-queue-full');
  assert.doesNotMatch(gone!.what, /waiting for accept/);
});

test('a drop explains its consequences: an INPUT DROP and the SYN retransmissions make one finding', () => {
  const t = new Trace();
  for (const skb of ['0x1', '0x2', '0x3']) {
    t.ev('net_dev_queue', CLI, 'c0', skb, tcp('SYN'), {}, 1e9)
      .ev('netif_receive_skb', SRV, 's0', skb, tcp('SYN'))
      .ev('kfree_skb', SRV, 's0', skb, tcp('SYN'), { drop_reason: 'NETFILTER_DROP', location: 'nft_do_chain+0x1' });
  }
  const rep = t.report();
  assert.deepEqual(rules(rep), ['nf.input-drop']);
  const f = rep.findings[0]!;
  assert.equal(f.count, 3);
  assert.equal(f.where.netns, SRV);
  assert.ok(f.explains.includes('tcp.syn-unanswered'), JSON.stringify(rep.findings));
  assert.match(f.what, /tcpdump -i s0 there WOULD show it arrive/);
});

test('a REJECT (ICMP sent about the packet) wins over the generic drop and says what the client sees', () => {
  const syn = tcp('SYN');
  const rep = new Trace()
    .ev('netif_receive_skb', SRV, 's0', '0x1', syn)
    .ev('icmp_send', SRV, 's0', '0x1', syn, { info: { type: 3, code: 13 } })
    .ev('kfree_skb', SRV, 's0', '0x1', syn, { drop_reason: 'NETFILTER_DROP', location: 'nft_do_chain+0x1' })
    .report();
  assert.deepEqual(rules(rep), ['nf.reject']);
  assert.match(rep.verdict.text, /ICMP 3\/13 \(admin prohibited\), the client sees "No route to host \(EHOSTUNREACH\)"/);
});

test('the qdisc wait of a GSO packet segmented on enqueue is measured from its segments', () => {
  const t = new Trace();
  const back = tcp('ACK', true);
  for (let i = 0; i < 4; i++) {
    t.ev('qdisc_enqueue', SRV, 's0', `0x${i + 10}`, back, { len: 4410, info: { handle: '0x80010000' } }, 1e6);
    t.ev('consume_skb', SRV, 's0', `0x${i + 10}`, back, {});
    for (let k = 0; k < 3; k++) t.ev('qdisc_dequeue', SRV, 's0', `0x${i * 10 + k + 100}`, back, { len: 1514, info: { handle: '0x80010000' } }, 100e6);
  }
  const rep = t.report({ qdiscs: [{ netns: SRV, dev: 's0', handle: '8001:', kind: 'tbf' }] });
  const f = rep.findings.find((x) => x.rule === 'latency.dominant-hop');
  assert.ok(f, rules(rep).join());
  assert.match(f.verdict, /packets of tcp 10.0.1.2:80 -> 10.0.0.1:40000 waited in the tbf qdisc on s0 of netns srv: \d+ ms median/);
  const hop = rep.flows[0]!.latency.find((h) => h.kind === 'qdisc')!;
  assert.equal(hop.count, 12);
});

test('an skb freed untraced and reused by a later segment of the same flow starts a new packet (another IPv4 ID): no hop from its old life', () => {
  // recorded: a reply received at the client, its skb reused for a segment the server's tbf sends 1.5 s later
  const t = new Trace();
  const back = tcp('ACK', true);
  for (let i = 0; i < 4; i++) {
    t.ev('netif_receive_skb', CLI, 'c0', `0x${i + 1}`, back, { ip_id: 100 + i }, 1e6);
    t.ev('qdisc_dequeue', SRV, 's0', `0x${i + 1}`, back, { ip_id: 200 + i, len: 1514, info: { handle: '0x80010000' } }, 1500e6);
  }
  const hops = new Set(t.report().flows[0]!.latency.map((h) => `${h.from} -> ${h.to}`));
  assert.ok(!hops.has('netif_receive_skb -> qdisc_dequeue'), [...hops].join());
  // the same ID is the same packet: its hop is measured
  const same = new Trace()
    .ev('qdisc_dequeue', SRV, 's0', '0x1', back, { ip_id: 7 })
    .ev('netif_receive_skb', CLI, 'c0', '0x1', back, { ip_id: 7 });
  assert.deepEqual(same.report().flows[0]!.latency.map((h) => `${h.from} -> ${h.to}`), ['qdisc_dequeue -> netif_receive_skb']);
});

test('memory stays bounded: flows beyond the cap are judged early and let go', () => {
  const t = new Trace();
  const n = LIMITS.flows + 50;
  for (let i = 0; i < n; i++) t.ev('netif_receive_skb', SRV, 's0', `0x${i + 1}`, tcp('SYN', false, 1024 + i), {}, 1);
  const rep = t.report();
  assert.equal(rep.inputs.flows, n);
  assert.ok(rep.inputs.flowsEvicted >= 50);
});

test('the report is plain JSON with the documented top-level shape', () => {
  const rep = new Trace().ev('netif_receive_skb', SRV, 's0', '0x1', tcp('SYN')).report();
  const round = JSON.parse(JSON.stringify(rep)) as Report;
  assert.equal(round.schema, 'pktpath.diagnosis/1');
  assert.deepEqual(Object.keys(round), ['schema', 'verdict', 'findings', 'flows', 'inputs']);
  assert.equal(round.verdict.level, 'ok');
  assert.match(round.verdict.text, /no drop, reset or delay found in 1 events of 1 flow/);
  assert.equal(new Trace().report().verdict.text, 'no packet matched: nothing to diagnose');
});

test('a drop located in a module function (distribution kernels) names the bare function, and rules on it match', () => {
  const nf = new Trace()
    .ev('netif_receive_skb', SRV, 's0', '0x1', tcp('SYN'))
    .ev('icmp_send', SRV, 's0', '0x1', tcp('SYN'), { info: { type: 3, code: 13 } })
    .ev('kfree_skb', SRV, 's0', '0x1', tcp('SYN'), { drop_reason: 'NETFILTER_DROP', location: 'nft_do_chain+0x40f [nf_tables]' });
  const rej = nf.report().findings.find((f) => f.rule === 'nf.reject');
  assert.ok(rej, rules(nf.report()).join());
  assert.equal(rej.where.function, 'nft_do_chain');
  // veth is a module there too: the XDP rules match on its functions
  const xdp = new Trace()
    .ev('netif_receive_skb', RTR, 'r0', '0x2', tcp('SYN'))
    .ev('kfree_skb', RTR, 'r0', '0x2', tcp('SYN'), { drop_reason: 'XDP', location: 'veth_xdp_rcv_skb+0x1f2 [veth]' });
  assert.ok(rules(xdp.report()).includes('xdp.drop'), rules(xdp.report()).join());
});

test('function returns (function backends) are not steps of a path: no hop back from tcp_v4_rcv to ip_rcv; evidence numbers still count them', () => {
  const t = new Trace()
    .ev('netif_receive_skb', SRV, 's0', '0x1', tcp('SYN'))
    .ev('ip_rcv', SRV, 's0', '0x1', tcp('SYN'))
    .ev('tcp_v4_rcv', SRV, 's0', '0x1', tcp('SYN'))
    .ev('ip_rcv', SRV, 's0', '0x1', tcp('SYN'), { ret: 0 })
    .ev('kfree_skb', SRV, 's0', '0x1', tcp('SYN'), { drop_reason: 'NO_SOCKET', location: 'tcp_v4_rcv+0x9e' });
  const rep = t.report();
  const f = rep.findings.find((x) => x.rule === 'tcp.no-listener');
  assert.ok(f, rules(rep).join());
  assert.deepEqual(f.evidence.filter((e) => e.role === 'anchor').map((e) => [e.n, e.probe]), [[5, 'kfree_skb']]);
  const path = rep.flows[0]!.paths[0]!;
  assert.deepEqual(path.stages.map((s) => s.probe), ['netif_receive_skb', 'ip_rcv', 'tcp_v4_rcv', 'kfree_skb']);
  assert.equal(rep.inputs.events, 5);
  const hops = rep.flows[0]!.latency.map((h) => `${h.from}->${h.to}`);
  assert.ok(!hops.includes('tcp_v4_rcv->ip_rcv'), hops.join(' '));
});
