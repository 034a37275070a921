import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TracePcapng } from './trace-pcapng.js';
import type { TraceStep } from './trace-pcapng.js';
import { CaptureStream } from './stream.js';
import { ip, tcp, TCP } from '../../test/helpers/frames.js';

const syn = ip('10.199.7.1', '10.199.7.2', 6, tcp(40000, 8080, { flags: TCP.SYN }));
const T0 = 1_700_000_000_000_000_000n;

function step(n: number, skb: bigint, probe: string, netns: string, dev: string, dir: 'in' | 'out' | null, o: Partial<TraceStep> = {}): TraceStep {
  return { n, tsNs: T0 + BigInt(n) * 1000n, skb, probe, netns, dev, ifindex: 2, dir, bytes: syn, len: syn.length, protocol: 0x0800, summary: () => 'tcp 10.199.7.1:40000 -> 10.199.7.2:8080 [S]', last: false, ...o };
}

/** A refused SYN: leaves cli on pp7c, reaches srv on pp7s, dropped there. */
const LIFE: TraceStep[] = [
  step(1, 0xa0n, 'net_dev_queue', 'cli', 'pp7c', 'out'),
  step(2, 0xa0n, 'net_dev_start_xmit', 'cli', 'pp7c', 'out'),
  step(3, 0xa0n, 'netif_receive_skb', 'srv', 'pp7s', 'in'),
  step(4, 0xa0n, 'kfree_skb', 'srv', 'pp7s', null, { drop: { reason: 'NO_SOCKET', location: 'tcp_v4_rcv+0x91' }, last: true }),
];

function read(bytes: Buffer): { ifaces: string[]; pkts: { iface: number; dir: number; comments: string[] | null }[] } {
  const ifaces: string[] = [];
  const pkts: { iface: number; dir: number; comments: string[] | null }[] = [];
  const s = new CaptureStream('t', { packet: (p) => pkts.push({ iface: p.iface, dir: p.dir, comments: p.comments }), interface: (i) => ifaces.push(i.name ?? '') });
  s.push(bytes);
  s.finish();
  return { ifaces, pkts };
}

test('one EPB per (netns, device) the packet crossed, each with the whole life and its drop', () => {
  const chunks: Buffer[] = [];
  const w = new TracePcapng((b) => chunks.push(b), { section: { application: 't' }, snaplen: 256 });
  for (const s of LIFE) w.push(s);
  assert.equal(w.packets, 2, 'written when the life ended');
  w.flushOut();
  const { ifaces, pkts } = read(Buffer.concat(chunks));
  assert.deepEqual(ifaces, ['cli/pp7c', 'srv/pp7s']);
  assert.deepEqual(pkts.map((p) => [p.iface, p.dir]), [[0, 2], [1, 1]]);
  for (const p of pkts) {
    assert.ok(p.comments!.includes('drop: NO_SOCKET at tcp_v4_rcv+0x91'), 'every copy says how the packet ended');
    assert.match(p.comments!.find((c) => c.startsWith('path: '))!, /^path: net_dev_queue \[cli\/pp7c\] > net_dev_start_xmit \+1us > netif_receive_skb \[srv\/pp7s\] \+2us > kfree_skb \+3us$/);
  }
  assert.match(pkts[0]!.comments![0]!, /seen at net_dev_queue on pp7c in netns cli \(event 1\)/, 'the first step at each place is its copy');
  assert.match(pkts[1]!.comments![0]!, /seen at netif_receive_skb on pp7s in netns srv \(event 3\)/);
});

test('bounded: lives that never end are written early, or at finish', () => {
  const chunks: Buffer[] = [];
  const w = new TracePcapng((b) => chunks.push(b), { section: { application: 't' }, snaplen: 256, maxLives: 2, maxSteps: 2 });
  for (let k = 1n; k <= 3n; k++) w.push(step(Number(k), k, 'net_dev_queue', 'cli', 'pp7c', 'out'));
  assert.equal(w.writtenEarly, 1);
  w.push(step(9, 2n, 'net_dev_start_xmit', 'cli', 'pp7c', 'out'));
  w.push(step(10, 2n, 'net_dev_xmit', 'cli', 'pp7c', 'out'));
  assert.equal(w.truncatedSteps, 1);
  w.finish();
  assert.equal(w.packets, 3);
  assert.equal(read(Buffer.concat(chunks)).pkts.length, 3);
});

test('an skb freed untraced (a UDP datagram its socket read) and reused is a new packet: each is written, with its own path', () => {
  const chunks: Buffer[] = [];
  const w = new TracePcapng((b) => chunks.push(b), { section: { application: 't' }, snaplen: 256 });
  for (let k = 0; k < 3; k++) {
    w.push(step(10 * k + 1, 0xb0n, 'net_dev_queue', 'cli', 'pp7c', 'out'));
    w.push(step(10 * k + 2, 0xb0n, 'netif_receive_skb', 'srv', 'pp7s', 'in'));
  }
  w.finish();
  const { pkts } = read(Buffer.concat(chunks));
  assert.equal(pkts.length, 6, 'two copies of each of the three packets');
  for (const p of pkts) assert.match(p.comments!.find((c) => c.startsWith('path: '))!, /^path: net_dev_queue \[cli\/pp7c\] > netif_receive_skb \[srv\/pp7s\] \+1us$/);
});

test('the event index: each event of a written life names its packet id; bounded by indexEvents; off by default', () => {
  const w = new TracePcapng(() => {}, { section: { application: 't' }, snaplen: 256, indexEvents: 6 });
  for (const s of LIFE) w.push(s);
  // a second packet, whose events run past the bound, and a life with no bytes (no copy written)
  w.push(step(5, 0xb0n, 'net_dev_queue', 'cli', 'pp7c', 'out'));
  w.push(step(7, 0xb0n, 'consume_skb', 'cli', 'pp7c', null, { last: true }));
  w.push(step(6, 0xc0n, 'kfree_skb', 'cli', 'pp7c', null, { bytes: null, last: true }));
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 0, 99].map((n) => w.packetOf(n)), [1, 1, 1, 1, 2, undefined, undefined, undefined, undefined]);
  assert.equal(w.unindexed, 1, 'event 7 is past the bound');
  const off = new TracePcapng(() => {}, { section: { application: 't' }, snaplen: 256 });
  for (const s of LIFE) off.push(s);
  assert.equal(off.packetOf(1), undefined);
  assert.equal(off.unindexed, 0);
});
