import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Analyzer } from './analyze.js';
import type { AnalyzeOptions } from './analyze.js';
import { CaptureStream } from './stream.js';
import type { AnalysisReport, Finding } from './report.js';
import { Conversation, cooked, ether, icmpError, ip, pcapFile, pcapngFile, tcp, TCP, udp } from '../../test/helpers/frames.js';
import type { Frame } from '../../test/helpers/frames.js';

function analyze(bytes: Buffer, opts: AnalyzeOptions = {}): AnalysisReport {
  const a = new Analyzer(opts);
  const s = new CaptureStream('t.pcap', a);
  s.push(bytes);
  return a.report(s.finish(), 't.pcap');
}

function ids(r: AnalysisReport): string[] {
  return r.findings.map((f) => f.id);
}

function finding(r: AnalysisReport, id: string): Finding {
  const f = r.findings.find((x) => x.id === id);
  assert.ok(f, `finding ${id} in ${JSON.stringify(ids(r))}`);
  return f;
}

const A = { addr: '10.0.0.1', port: 40000 };
const B = { addr: '10.0.9.2', port: 8080, ttl: 57 };

test('a healthy exchange: handshake, data both ways, FINs; no findings, RTT from the handshake and from data/ACK', () => {
  const c = new Conversation(A, B).handshake(0, 20);
  c.data(0, 30, 100);
  c.data(1, 50, 1000);
  c.ack(0, 70);
  c.fin(0, 80);
  c.fin(1, 100);
  c.ack(0, 120);
  const r = analyze(pcapFile(c.sorted()));
  assert.deepEqual(ids(r), []);
  assert.equal(r.verdict.level, 'ok');
  const f = r.flows.list[0]!;
  assert.deepEqual([f.a, f.b, f.handshake, f.end], ['10.0.0.1:40000', '10.0.9.2:8080', 'complete', 'closed']);
  assert.deepEqual(f.packets, [6, 3]);
  assert.deepEqual(f.bytes, [100, 1000]);
  assert.equal(f.rttMs!.handshake, 20.01);
  assert.equal(f.rttMs!.toB, 20);
  assert.deepEqual(f.rttMs!.data[0], { samples: 3, minMs: 20, avgMs: 20, maxMs: 20 }, 'SYN, data and FIN of a, each ACKed 20 ms later');
  assert.deepEqual([f.rttMs!.data[1]!.minMs, f.rttMs!.data[1]!.maxMs], [0.01, 20], 'the SYN-ACK is ACKed at once (the capture is next to a), the data 20 ms later');
  assert.deepEqual(f.mss, [1460, 1460]);
});

test('seed 003: resets with another TTL and a repeated IP ID, before the real SYN-ACK, are forged on the path', () => {
  // the board's view in the seed: SYN out, two RSTs (ttl 120, id 64765) before the server's SYN-ACK (ttl 50)
  const c = new Conversation({ addr: '10.242.29.181', port: 39672 }, { addr: '10.182.105.138', port: 8088, ttl: 50 });
  c.syn(0);
  c.rst(1, 0.2, { ttl: 120, id: 64765, df: false });
  c.raw(0.25, ip('10.182.105.138', '10.242.29.181', 6, tcp(8088, 39672, { seq: 1500, ack: 1, flags: TCP.RST | TCP.ACK, win: 0 }), { ttl: 120, id: 64765, df: false }));
  c.raw(6, ip('10.182.105.138', '10.242.29.181', 6, tcp(8088, 39672, { seq: 4999, ack: 1000, flags: TCP.SYN | TCP.ACK, mss: 8102 }), { ttl: 50, id: 0 }));
  c.rst(0, 6.1);
  const r = analyze(pcapFile(c.sorted()));
  const f = finding(r, 'tcp.rst-injected');
  assert.equal(f.level, 'error');
  assert.equal(r.verdict.finding, f.n, 'the forged reset leads');
  assert.deepEqual(f.packets, [2, 3]);
  assert.match(f.what, /its TTL is 120 where 10\.182\.105\.138's other 1 packet arrive with 50/);
  assert.match(f.what, /2 resets with different sequence numbers carry the same IP ID 64765/);
  assert.match(f.what, /before 10\.182\.105\.138's own first packet \(#4\)/);
  assert.match(f.advice, /--ttl-eq 120/);
  assert.ok(!ids(r).includes('tcp.refused'), 'not taken for a refusal');
});

test('a reset from the peer itself (same TTL, IP ID 0 as its other packets) is a plain reset', () => {
  const c = new Conversation(A, B).handshake(0, 5);
  c.data(0, 10, 200);
  c.ack(1, 15);
  c.rst(1, 20, { id: 0 });
  const r = analyze(pcapFile(c.sorted()));
  assert.deepEqual(ids(r), ['tcp.reset']);
  assert.match(finding(r, 'tcp.reset').what, /after 2 packets of its own, 10\.0\.9\.2 reset/);
});

test('a SYN answered by a reset is a refused connection', () => {
  const c = new Conversation(A, B);
  c.syn(0);
  c.rst(1, 0.1, { id: 0 });
  const r = analyze(pcapFile(c.sorted()));
  assert.deepEqual(ids(r), ['tcp.refused']);
  assert.equal(r.flows.list[0]!.handshake, 'refused');
  assert.match(r.verdict.text, /10\.0\.9\.2 answered the SYN to port 8080 with a reset/);
});

test('a SYN sent 4 times with no answer', () => {
  const c = new Conversation(A, B);
  for (const ms of [0, 1000, 3000, 7000]) c.syn(ms);
  const r = analyze(pcapFile(c.sorted()));
  assert.deepEqual(ids(r), ['tcp.syn-unanswered']);
  assert.match(r.findings[0]!.what, /4 times \(1 s, 2 s, 4 s apart/);
});

test('retransmission timeouts: the same segment resent 0.2, 0.4, 0.8 s apart', () => {
  const c = new Conversation(A, B).handshake(0, 1);
  const at = c.next(0);
  c.data(0, 10, 500);
  for (const ms of [210, 610, 1410]) c.data(0, ms, 500, { at });
  c.ack(1, 1411);
  const r = analyze(pcapFile(c.sorted()));
  const f = finding(r, 'tcp.retransmit');
  assert.equal(f.level, 'warn');
  assert.match(f.what, /3 timeouts \(RTO\)/);
  assert.match(f.what, /went 4 times, 200 ms, 400 ms, 800 ms apart \(doubling: a timeout backing off/);
  assert.deepEqual(r.flows.list[0]!.retransmissions, [3, 0]);
  assert.ok(!ids(r).includes('pmtu.black-hole'), 'a small segment that finally got through is no MTU problem');
});

test('fast retransmission after three duplicate ACKs', () => {
  const c = new Conversation(A, B).handshake(0, 1);
  const lost = c.next(0);
  c.data(0, 10, 1000);
  c.data(0, 10.1, 1000);
  c.data(0, 10.2, 1000);
  c.data(0, 10.3, 1000);
  for (const ms of [12, 12.1, 12.2]) c.ack(1, ms, { ack: lost });
  c.data(0, 12.3, 1000, { at: lost });
  c.ack(1, 14);
  const r = analyze(pcapFile(c.sorted()));
  const f = finding(r, 'tcp.retransmit');
  assert.match(f.what, /1 fast \(after duplicate ACKs\)/);
  assert.doesNotMatch(f.what, /timeout/);
});

test('the same segment captured twice on two interfaces is not a retransmission', () => {
  const c = new Conversation(A, B).handshake(0, 1);
  c.data(0, 10, 300);
  c.ack(1, 12);
  const frames: Frame[] = c.sorted().flatMap((f) => [{ ...f, iface: 0 }, { ...f, tsNs: f.tsNs + 20_000n, iface: 1 }]);
  const r = analyze(pcapngFile(frames));
  assert.deepEqual(ids(r), []);
  assert.deepEqual(r.flows.list[0]!.retransmissions, [0, 0]);
  assert.deepEqual(r.flows.list[0]!.packets, [3, 2], 'each packet counted once');
  assert.deepEqual(r.flows.list[0]!.capturedTwice, [3, 2]);
  assert.equal(r.flows.list[0]!.handshake, 'complete');
});

test('zero window: the receiver stops reading for 1.5 s, with probes', () => {
  const c = new Conversation(A, B).handshake(0, 1);
  c.data(0, 10, 1000);
  c.ack(1, 11, { win: 0 });
  c.ack(0, 211);
  c.ack(0, 611);
  c.ack(1, 1511, { win: 5000 });
  c.data(0, 1512, 1000);
  const r = analyze(pcapFile(c.sorted()));
  const f = finding(r, 'tcp.zero-window');
  assert.match(f.verdict, /10\.0\.9\.2 shut its receive window on .* for 1\.5 s/);
  assert.match(f.what, /1 times \(window 0 from packet #5\); the longest stall lasted 1\.5 s, with 2 zero-window probes/);
});

test('a zero window still shut when the capture ends says so', () => {
  const c = new Conversation(A, B).handshake(0, 1);
  c.data(0, 10, 1000);
  c.ack(1, 11, { win: 0 });
  c.ack(0, 500);
  const r = analyze(pcapFile(c.sorted()));
  assert.match(finding(r, 'tcp.zero-window').what, /still zero when the capture ends/);
});

function blackHole(withIcmp: boolean): AnalysisReport {
  const c = new Conversation(A, B).handshake(0, 1);
  c.data(0, 5, 100);
  c.ack(1, 6);
  const at = c.next(0);
  const big = c.data(0, 10, 1448);
  if (withIcmp) c.raw(10.5, icmpError('10.0.5.254', A.addr, 3, 4, big, 1400));
  for (const ms of [220, 640, 1480, 3160]) c.data(0, ms, 1448, { at });
  c.ack(1, 3200, { ack: at }); // the peer still waits for the big one
  return analyze(pcapFile(c.sorted()));
}

test('PMTU black hole without ICMP: the big segment resent 5 times, never ACKed, small ones passed', () => {
  const r = blackHole(false);
  const f = finding(r, 'pmtu.black-hole');
  assert.equal(r.verdict.finding, f.n);
  assert.match(f.what, /sent the 1448-byte segment of packet #6 5 times/);
  assert.match(f.what, /No ICMP "fragmentation needed"/);
  assert.ok(!ids(r).includes('tcp.retransmit'), 'the black hole explains the retransmissions');
});

test('PMTU black hole with the ICMP in the capture: the sender ignored it', () => {
  const r = blackHole(true);
  const f = finding(r, 'pmtu.black-hole');
  assert.match(f.what, /ICMP 3\/4 \(fragmentation needed\) \(MTU 1400\) from 10\.0\.5\.254 reached the capture point at packet #7, yet 10\.0\.0\.1 kept sending 1448-byte segments/);
  assert.deepEqual(f.packets, [6, 7]);
  assert.ok(!ids(r).includes('pmtu.too-big'));
});

test('path MTU lowered and the sender adapted: info only', () => {
  const c = new Conversation(A, B).handshake(0, 1);
  const at = c.next(0);
  const big = c.data(0, 10, 1448);
  c.raw(10.5, icmpError('10.0.5.254', A.addr, 3, 4, big, 1400));
  c.data(0, 11, 1348, { at });
  c.data(0, 11.1, 100);
  c.ack(1, 13);
  const r = analyze(pcapFile(c.sorted()));
  const f = finding(r, 'pmtu.too-big');
  assert.equal(f.level, 'info');
  assert.match(f.what, /10\.0\.5\.254 answered .* with ICMP 3\/4 \(fragmentation needed\) \(next-hop MTU 1400\) at packet #5: 10\.0\.0\.1's 1488-byte packets/);
  assert.match(f.what, /Later retransmissions fit: the sender adapted/);
});

test('ICMP port unreachable answering a UDP flow: what the sender sees', () => {
  const q = ip('10.0.0.1', '10.0.9.2', 17, udp(5000, 53, 20));
  const frames: Frame[] = [
    { tsNs: 1_700_000_000_000_000_000n, data: ether(q) },
    { tsNs: 1_700_000_000_001_000_000n, data: ether(icmpError('10.0.9.2', '10.0.0.1', 3, 3, q)) },
  ];
  const r = analyze(pcapFile(frames));
  const f = finding(r, 'icmp.unreachable');
  assert.equal(f.flowId, 1);
  assert.match(f.what, /10\.0\.9\.2 answered a packet of udp 10\.0\.0\.1:5000 -> 10\.0\.9\.2:53 with ICMP 3\/3 \(port unreachable\)/);
  assert.match(f.what, /the sender sees "Connection refused \(ECONNREFUSED\)"/);
  assert.match(f.advice, /nothing listens on 10\.0\.9\.2:53\/udp/);
});

test('an ICMP error about a flow not in the capture is still told, from its quoted header', () => {
  const q = ip('10.0.0.1', '10.0.9.2', 6, tcp(40000, 443, { flags: TCP.SYN }));
  const r = analyze(pcapFile([{ tsNs: 1_700_000_000_000_000_000n, data: ether(icmpError('10.0.0.254', '10.0.0.1', 3, 13, q)) }]));
  const f = finding(r, 'icmp.unreachable');
  assert.equal(f.flowId, null);
  assert.match(f.verdict, /ICMP 3\/13 \(admin prohibited\) from 10\.0\.0\.254 answered tcp 10\.0\.0\.1:40000 -> 10\.0\.9\.2:443/);
  assert.match(f.advice, /REJECT rule on 10\.0\.0\.254/);
});

test('segments larger than the MSS, captured outgoing (tcpdump -i any): TSO/GSO on the capture host', () => {
  const c = new Conversation(A, B).handshake(0, 1);
  c.data(0, 10, 64_000);
  c.ack(1, 11);
  const frames = c.sorted().map((f, i) => {
    const pkt = f.data.subarray(14);
    const out = [0, 2, 3].includes(i); // a's packets: SYN, ACK, data
    return { ...f, data: cooked(pkt, 2, out ? 4 : 0) };
  });
  const r = analyze(pcapFile(frames, { linkType: 276 }));
  const f = finding(r, 'capture.offload');
  assert.equal(f.level, 'info');
  assert.match(f.what, /1 segments from 10\.0\.0\.1 carry more than the 1460 bytes 10\.0\.9\.2 accepts per segment \(up to 64000 bytes/);
  assert.match(f.what, /TSO\/GSO: the capture host was sending them/);
  assert.equal(r.verdict.level, 'info');
});

test('memory stays bounded: 5000 flows through a table of 64 are all judged, flow summaries capped', () => {
  const frames: Frame[] = [];
  for (let k = 0; k < 5000; k++) {
    const c = new Conversation({ addr: '10.0.0.1', port: 10000 + k }, B, 1_700_000_000_000_000_000n + BigInt(k) * 1_000_000n);
    c.syn(0);
    c.rst(1, 0.1, { id: 0 });
    frames.push(...c.frames);
  }
  const a = new Analyzer({ maxFlows: 64, listFlows: 100 });
  const s = new CaptureStream('many', a);
  s.push(pcapFile(frames));
  assert.ok(a.liveFlows <= 64);
  const r = a.report(s.finish(), 'many');
  assert.equal(r.flows.total, 5000);
  assert.equal(r.flows.evicted, 5000 - 64);
  assert.equal(r.flows.list.length, 100);
  assert.equal(r.flows.notListed, 4900);
  const f = finding(r, 'tcp.refused');
  assert.equal(f.count, 5000);
  assert.equal(f.flowIds.length, 20);
});

test('non-IP frames and unsupported link types are counted, not fatal', () => {
  const arp = Buffer.concat([Buffer.from([255, 255, 255, 255, 255, 255, 2, 0, 0, 0, 0, 1, 0x08, 0x06]), Buffer.alloc(28)]);
  const r = analyze(pcapFile([{ tsNs: 1n, data: arp }]));
  assert.equal(r.decoded.nonIp, 1);
  assert.equal(r.verdict.level, 'ok');
  assert.match(r.verdict.text, /no IP packets among the 1/);
});

test('IPv6: a flow with a forged reset and an ICMPv6 packet too big, both found', () => {
  const c = new Conversation({ addr: 'fd00:1::1', port: 40000 }, { addr: 'fd00:2::2', port: 443, ttl: 61 }).handshake(0, 2);
  const big = c.data(0, 5, 1400);
  c.raw(5.5, icmpError('fd00:1::fe', 'fd00:1::1', 2, 0, big, 1280));
  c.data(0, 6, 1200, { at: c.next(0) - 1400 });
  c.data(1, 8, 100);
  c.rst(1, 9, { ttl: 50 });
  const r = analyze(pcapFile(c.sorted()));
  assert.match(finding(r, 'tcp.rst-injected').what, /its TTL is 50 where fd00:2::2's other 2 packets arrive with 61/);
  const tb = finding(r, 'pmtu.too-big');
  assert.match(tb.what, /fd00:1::fe answered tcp \[fd00:1::1\]:40000 -> \[fd00:2::2\]:443 with ICMPv6 2\/0 \(packet too big\) \(next-hop MTU 1280\)/);
  assert.equal(r.flows.list[0]!.a, '[fd00:1::1]:40000');
});
