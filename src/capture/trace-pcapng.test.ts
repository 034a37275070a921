import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TracePcapng } from './trace-pcapng.js';
import type { CaptureNames } from './trace-pcapng.js';
import { CaptureStream } from './stream.js';
import { packetSummary, SummaryCache } from './trace-step.js';
import { lifeComments, pathText, vantageComment } from './comment.js';
import { EV_DROP, EV_HAS_TUPLE } from '../engine/event.js';
import type { RawEvent } from '../engine/event.js';
import { ip, tcp, TCP } from '../../test/helpers/frames.js';

const syn = ip('10.199.7.1', '10.199.7.2', 6, tcp(40000, 8080, { flags: TCP.SYN }));
const T0 = 1_700_000_000_000_000_000n;
const PROBES = ['net_dev_queue', 'net_dev_start_xmit', 'netif_receive_skb', 'kfree_skb', 'consume_skb', 'net_dev_xmit'];
const CLI = 101;
const SRV = 102;
const NAMES: CaptureNames = {
  probeName: (id) => PROBES[id]!,
  netnsName: (ino) => (ino === CLI ? 'cli' : ino === SRV ? 'srv' : undefined),
  dropReason: (v) => (v === 3 ? 'NO_SOCKET' : String(v)),
  symbol: () => 'tcp_v4_rcv+0x91',
  wallClockNs: (ns) => ns,
};
const opts = { section: { application: 't' }, snaplen: 256, names: NAMES };

/** An event of probe `probe` on the device of namespace `ns` (pp7c in cli, pp7s in srv), at T0 + n us. */
function ev(n: number, skb: bigint, probe: string, ns: number, o: Partial<RawEvent> = {}): RawEvent {
  return {
    tsNs: T0 + BigInt(n) * 1000n, skb, location: 0n, netns: ns, ifindex: 2, mark: 0, len: syn.length, pid: 0, dropReason: 0, aux: 0, aux2: 0, aux3: 0,
    probe: PROBES.indexOf(probe), cpu: 0, pktType: 0, flags: EV_HAS_TUPLE, dstMac: new Uint8Array(6), ifname: ns === CLI ? 'pp7c' : 'pp7s', comm: '',
    tuple: { family: 4, l3proto: 0x0800, l4proto: 6, saddr: Uint8Array.of(10, 199, 7, 1), daddr: Uint8Array.of(10, 199, 7, 2), sport: 40000, dport: 8080, tcpFlags: 0x02, icmpType: 0, icmpCode: 0, icmpId: 0 },
    stack: null, bytes: syn, ...o,
  };
}

/** A refused SYN: leaves cli on pp7c, reaches srv on pp7s, dropped there. */
const LIFE: RawEvent[] = [
  ev(1, 0xa0n, 'net_dev_queue', CLI),
  ev(2, 0xa0n, 'net_dev_start_xmit', CLI),
  ev(3, 0xa0n, 'netif_receive_skb', SRV),
  ev(4, 0xa0n, 'kfree_skb', SRV, { flags: EV_HAS_TUPLE | EV_DROP, dropReason: 3 }),
];

const pushAll = (w: TracePcapng, evs: readonly RawEvent[], from = 1): void => evs.forEach((e, i) => w.push(e, from + i));

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
  const w = new TracePcapng((b) => chunks.push(b), opts);
  pushAll(w, LIFE);
  assert.equal(w.packets, 2, 'written when the life ended');
  w.flushOut();
  const { ifaces, pkts } = read(Buffer.concat(chunks));
  assert.deepEqual(ifaces, ['cli/pp7c', 'srv/pp7s']);
  assert.deepEqual(pkts.map((p) => [p.iface, p.dir]), [[0, 2], [1, 1]]);
  for (const p of pkts) {
    assert.ok(p.comments!.includes('drop: NO_SOCKET at tcp_v4_rcv+0x91'), 'every copy says how the packet ended');
    assert.match(p.comments!.find((c) => c.startsWith('path: '))!, /^path: net_dev_queue \[cli\/pp7c\] > net_dev_start_xmit \+1us > netif_receive_skb \[srv\/pp7s\] \+2us > kfree_skb \+3us$/);
    assert.match(p.comments![0]!, /^pktpath: tcp 10\.199\.7\.1:40000 -> 10\.199\.7\.2:8080 \[SYN\]; seen at /, 'the packet as the text output words it');
  }
  assert.match(pkts[0]!.comments![0]!, /seen at net_dev_queue on pp7c in netns cli \(event 1\)/, 'the first step at each place is its copy');
  assert.match(pkts[1]!.comments![0]!, /seen at netif_receive_skb on pp7s in netns srv \(event 3\)/);
});

test('bounded: lives that never end are written early, or at finish', () => {
  const chunks: Buffer[] = [];
  const w = new TracePcapng((b) => chunks.push(b), { ...opts, maxLives: 2, maxSteps: 2 });
  for (let k = 1n; k <= 3n; k++) w.push(ev(Number(k), k, 'net_dev_queue', CLI), Number(k));
  assert.equal(w.writtenEarly, 1);
  w.push(ev(9, 2n, 'net_dev_start_xmit', CLI), 9);
  w.push(ev(10, 2n, 'net_dev_xmit', CLI), 10);
  assert.equal(w.truncatedSteps, 1);
  w.finish();
  assert.equal(w.packets, 3);
  assert.equal(read(Buffer.concat(chunks)).pkts.length, 3);
});

test('an skb freed untraced (a UDP datagram its socket read) and reused is a new packet: each is written, with its own path', () => {
  const chunks: Buffer[] = [];
  const w = new TracePcapng((b) => chunks.push(b), opts);
  for (let k = 0; k < 3; k++) {
    w.push(ev(10 * k + 1, 0xb0n, 'net_dev_queue', CLI), 10 * k + 1);
    w.push(ev(10 * k + 2, 0xb0n, 'netif_receive_skb', SRV), 10 * k + 2);
  }
  w.finish();
  const { pkts } = read(Buffer.concat(chunks));
  assert.equal(pkts.length, 6, 'two copies of each of the three packets');
  for (const p of pkts) assert.match(p.comments!.find((c) => c.startsWith('path: '))!, /^path: net_dev_queue \[cli\/pp7c\] > netif_receive_skb \[srv\/pp7s\] \+1us$/);
});

test('the event index: each event of a written life names its packet id; bounded by indexEvents; off by default', () => {
  const w = new TracePcapng(() => {}, { ...opts, indexEvents: 6 });
  pushAll(w, LIFE);
  // a second packet, whose events run past the bound, and a life with no bytes (no copy written)
  w.push(ev(5, 0xb0n, 'net_dev_queue', CLI), 5);
  w.push(ev(7, 0xb0n, 'consume_skb', CLI), 7);
  w.push(ev(6, 0xc0n, 'kfree_skb', CLI, { bytes: null }), 6);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 0, 99].map((n) => w.packetOf(n)), [1, 1, 1, 1, 2, undefined, undefined, undefined, undefined]);
  assert.equal(w.unindexed, 1, 'event 7 is past the bound');
  const off = new TracePcapng(() => {}, opts);
  pushAll(off, LIFE);
  assert.equal(off.packetOf(1), undefined);
  assert.equal(off.unindexed, 0);
});

test('the summary cache: each copy is worded as packetSummary words its event, across flows, flags and families', () => {
  const cache = new SummaryCache();
  const v6 = { family: 6 as const, l3proto: 0x86dd, saddr: new Uint8Array(16).fill(1), daddr: new Uint8Array(16).fill(2) };
  const evs: RawEvent[] = [];
  for (let i = 0; i < 300; i++) {
    const base = ev(i, 1n, 'net_dev_queue', CLI);
    const t = { ...base.tuple!, sport: 40000 + (i % 7), tcpFlags: i % 3 ? 0x10 : 0x02, l4proto: i % 5 ? 6 : 17, daddr: Uint8Array.of(10, 199, 7, i % 11), ...(i % 13 ? {} : v6) };
    evs.push({ ...base, tuple: i % 17 ? t : null, len: i });
  }
  for (const e of [...evs, ...evs]) assert.equal(cache.of(e), packetSummary(e));
});

test('an output with no room: packet copies are left out and counted, the file stays whole (its interfaces are all described)', () => {
  const chunks: Buffer[] = [];
  let room = true;
  const w = new TracePcapng((b) => chunks.push(Buffer.from(b)), { ...opts, lend: true, room: () => room });
  pushAll(w, LIFE.slice(0, 1));
  w.push(ev(2, 0xa0n, 'consume_skb', CLI), 2); // the first packet, one copy: written
  room = false;
  pushAll(w, LIFE.map((e) => ({ ...e, skb: 0xb0n })), 3);
  w.finish();
  assert.deepEqual([w.packets, w.unwritten], [1, 2]);
  const { pkts } = read(Buffer.concat(chunks));
  assert.equal(pkts.length, 1);
});

test('the path comment is comment.ts pathText of the life: places where they change, times, and past 32 steps a count', () => {
  const chunks: Buffer[] = [];
  const w = new TracePcapng((b) => chunks.push(b), opts);
  const probes = ['net_dev_queue', 'net_dev_start_xmit', 'net_dev_xmit', 'netif_receive_skb'];
  // ten devices, four probes at each, the namespaces in turn: 40 places, none passed twice
  const dev = (i: number): number => Math.floor(i / 4);
  const life = Array.from({ length: 40 }, (_, i) => ev(i + 1, 0xd0n, probes[i % 4]!, dev(i) % 2 ? SRV : CLI, { ifindex: 10 + dev(i), ifname: `pp${dev(i)}`, tsNs: T0 + BigInt(i * i * 1234) }));
  pushAll(w, life);
  w.finish();
  const want = pathText(life.map((e, i) => ({ probe: PROBES[e.probe]!, netns: e.netns === CLI ? 'cli' : 'srv', dev: e.ifname, dtNs: i * i * 1234 })));
  const { pkts } = read(Buffer.concat(chunks));
  assert.equal(pkts.length, 10, 'one packet, a copy at each device');
  assert.equal(pkts[0]!.comments!.find((c) => c.startsWith('path: ')), `path: ${want}`);
  assert.match(want, / > \.\.\. 8 more$/);
});

test('comments written as bytes are the UTF-8 of comment.ts text: names beyond ASCII, and a path past 4,000 characters clipped as comment.ts clips it', () => {
  for (const width of [3, 400]) {
    const chunks: Buffer[] = [];
    const [cli, srv] = [`клиент-${'é'.repeat(width)}`, 'srv-ü'];
    const names: CaptureNames = { ...NAMES, netnsName: (ino) => (ino === CLI ? cli : srv) };
    const w = new TracePcapng((b) => chunks.push(b), { ...opts, names });
    const life = Array.from({ length: 20 }, (_, i) => ev(i + 1, 0xe0n, 'net_dev_queue', i % 2 ? SRV : CLI, { ifindex: 10 + i, ifname: `d${i}-ß` }));
    pushAll(w, life);
    w.finish();
    const path = pathText(life.map((e, i) => ({ probe: 'net_dev_queue', netns: i % 2 ? srv : cli, dev: e.ifname, dtNs: i * 1000 })));
    const want = lifeComments({ pathLine: path, netfilter: [], drop: null, finding: null })[0]!;
    assert.equal(want.length > 3990, width > 100, 'the long names make a line comment.ts clips');
    const { pkts } = read(Buffer.concat(chunks));
    assert.equal(pkts.length, 20);
    assert.equal(pkts[0]!.comments![1], want, `width ${width}`);
    assert.equal(pkts[3]!.comments![0], vantageComment('tcp 10.199.7.1:40000 -> 10.199.7.2:8080 [SYN]', { probe: 'net_dev_queue', netns: srv, dev: life[3]!.ifname, dtNs: 3000, event: 4 }));
  }
});
