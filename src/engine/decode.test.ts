import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEvent, encodeEvent } from './decode.js';
import { EV_DROP, EV_HAS_TUPLE, EV_NAMES, EV_STACK } from './event.js';
import type { RawEvent } from './event.js';
import { EVENT, NF_NAMES } from './layout.js';

function sample(over: Partial<RawEvent> = {}): RawEvent {
  return {
    tsNs: 123456789012345n,
    skb: 0xffff9fdef19eb600n,
    location: 0xffffffff81a2b3c4n,
    netns: 4026531992,
    ifindex: 2,
    mark: 0xdeadbeef,
    len: 60,
    pid: 4242,
    dropReason: 2,
    aux: -11,
    aux2: 254,
    aux3: 0,
    probe: 15,
    cpu: 1,
    pktType: 0,
    flags: EV_DROP,
    dstMac: new Uint8Array([0x00, 0x16, 0x3e, 0x0c, 0xb8, 0x38]),
    ifname: 'eth0',
    comm: 'curl',
    tuple: {
      family: 4,
      saddr: new Uint8Array([192, 168, 88, 154]),
      daddr: new Uint8Array([192, 168, 40, 230]),
      sport: 34060,
      dport: 8080,
      l3proto: 0x0800,
      l4proto: 6,
      tcpFlags: 0x02,
      icmpType: 0,
      icmpCode: 0,
      icmpId: 0,
    },
    stack: null,
    auxAddr: null,
    funcIp: 0n,
    nfNames: null,
    ipTtl: 64,
    ipId: 0x1234,
    tcpSeq: 0xfedcba98,
    tcpAck: 0,
    tcpWin: 64240,
    gsoSize: 0,
    gsoSegs: 1,
    mtu: 1500,
    inner: null,
    icmpMtu: undefined,
    related: false,
    bytes: null,
    ...over,
  };
}

function roundTrip(ev: RawEvent, at = 0): RawEvent {
  const rec = encodeEvent(ev);
  const buf = new Uint8Array(at + rec.length + 8);
  buf.set(rec, at);
  return decodeEvent(new DataView(buf.buffer), buf, at, rec.length);
}

test('decode(encode(ev)) keeps every field', () => {
  const ev = sample();
  const back = roundTrip(ev, 16);
  assert.deepEqual(back, { ...ev, flags: EV_DROP | EV_HAS_TUPLE });
});

test('-w: the packet bytes after the event, after a stack or netfilter names too', () => {
  const bytes = new Uint8Array([0x45, 0, 0, 40, 1, 2, 3, 4, 5]);
  for (const over of [{}, { stack: [0xffffffff81000000n, 0xffffffff81000010n] }, { nfNames: { table: 'filter', chain: 'INPUT' } }]) {
    const back = roundTrip(sample({ bytes, ...over }), 8);
    assert.deepEqual(back.bytes, bytes, JSON.stringify(Object.keys(over)));
  }
  const rec = encodeEvent(sample({ bytes }));
  new DataView(rec.buffer).setUint16(EVENT.cap_len, 4000, true); // more than the record holds
  assert.equal(decodeEvent(new DataView(rec.buffer), rec, 0, rec.length).bytes, null);
});

test('an ICMP error: the quoted header, the announced MTU and the related mark come back; absent fields stay undefined', () => {
  const inner = { ...sample().tuple!, sport: 40000, dport: 443 };
  const icmp = { ...sample().tuple!, l4proto: 1, sport: 0, dport: 0, tcpFlags: 0, icmpType: 3, icmpCode: 4 };
  const ev = sample({ tuple: icmp, tcpSeq: undefined, tcpAck: undefined, tcpWin: undefined, inner, icmpMtu: 1400, related: true, mtu: undefined });
  const back = roundTrip(ev);
  assert.deepEqual(back.inner, inner);
  assert.equal(back.icmpMtu, 1400);
  assert.equal(back.related, true);
  assert.equal(back.tcpSeq, undefined);
  assert.equal(back.mtu, undefined);
  assert.equal(back.ipId, 0x1234);
  const v6 = roundTrip(sample({ tuple: { ...sample().tuple!, family: 6, saddr: new Uint8Array(16), daddr: new Uint8Array(16), l3proto: 0x86dd } }));
  assert.equal(v6.ipId, undefined, 'IPv6 has no IP ID');
  assert.equal(v6.ipTtl, 64, 'the hop limit');
});

test('IPv6 tuple keeps 16-byte addresses', () => {
  const saddr = new Uint8Array(16).fill(0);
  saddr[0] = 0xfd;
  saddr[15] = 1;
  const daddr = saddr.slice();
  daddr[15] = 2;
  const ev = sample({ tuple: { ...sample().tuple!, family: 6, saddr, daddr, l3proto: 0x86dd } });
  const back = roundTrip(ev);
  assert.deepEqual(back.tuple?.saddr, saddr);
  assert.deepEqual(back.tuple?.daddr, daddr);
  assert.equal(back.tuple?.family, 6);
});

test('no tuple flag: tuple is null', () => {
  const back = roundTrip(sample({ tuple: null, flags: 0 }));
  assert.equal(back.tuple, null);
  assert.equal(back.flags & EV_HAS_TUPLE, 0);
});

test('stack frames follow the event', () => {
  const stack = [0xffffffff81000001n, 0xffffffff81000002n, 0xffffffff81000003n];
  const back = roundTrip(sample({ stack }));
  assert.deepEqual(back.stack, stack);
  assert.ok(back.flags & EV_STACK);
});

test('stack depth is bounded by the record length', () => {
  const rec = encodeEvent(sample({ stack: [1n, 2n, 3n] }));
  const truncated = rec.slice(0, EVENT.size + 8);
  const back = decodeEvent(new DataView(truncated.buffer), truncated, 0, truncated.length);
  assert.deepEqual(back.stack, [1n]);
});

test('comm and ifname stop at NUL and keep odd bytes visible', () => {
  const back = roundTrip(sample({ comm: 'kworker/u8:3', ifname: 'veth-a' }));
  assert.equal(back.comm, 'kworker/u8:3');
  assert.equal(back.ifname, 'veth-a');
});

test('a record shorter than the event is refused', () => {
  const buf = new Uint8Array(EVENT.size - 1);
  assert.throws(() => decodeEvent(new DataView(buf.buffer), buf, 0, buf.length), RangeError);
});

test('function address of function-level probes survives the round trip', () => {
  assert.equal(roundTrip(sample({ funcIp: 0xffffffff81b2c3d0n })).funcIp, 0xffffffff81b2c3d0n);
});

test('aux address (fib gateway) decodes when the kernel set it', () => {
  const back = roundTrip(sample({ auxAddr: { family: 4, bytes: new Uint8Array([10, 0, 0, 1]) } }));
  assert.deepEqual(back.auxAddr, { family: 4, bytes: new Uint8Array([10, 0, 0, 1]) });
});

test('netfilter names follow the event of an evaluation function (EV_NAMES)', () => {
  const ev = sample({ flags: 0x20, nfNames: { table: 'filter', chain: '' } });
  const rec = encodeEvent(ev);
  assert.equal(rec.length, EVENT.size + NF_NAMES.size);
  const back = roundTrip(ev);
  assert.deepEqual(back.nfNames, { table: 'filter', chain: '' });
  assert.equal(back.flags, 0x20 | EV_HAS_TUPLE | EV_NAMES);
  const long = roundTrip(sample({ nfNames: { table: 'a'.repeat(40), chain: 'input_chain' } }));
  assert.deepEqual(long.nfNames, { table: 'a'.repeat(31), chain: 'input_chain' }, 'names are cut to fit, NUL kept');
  // a record too short for the names (a truncated read) gives none
  const cut = encodeEvent(ev).subarray(0, EVENT.size);
  assert.equal(decodeEvent(new DataView(cut.buffer, cut.byteOffset), cut, 0, cut.length).nfNames, null);
});

test('a flow\'s events share one tuple and MAC object; any byte that differs gives its own, whatever the cache holds', () => {
  const rand = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed * 131 + i * 17) & 0xff);
  const evs: RawEvent[] = [];
  for (let i = 0; i < 2000; i++) {
    const v6 = i % 7 === 0;
    const tuple = { family: (v6 ? 6 : 4) as 4 | 6, l3proto: v6 ? 0x86dd : 0x0800, saddr: rand(v6 ? 16 : 4, i % 300), daddr: rand(v6 ? 16 : 4, (i * 7) % 301), sport: 1000 + (i % 13), dport: 80 + (i % 3), l4proto: i % 5 ? 6 : 17, tcpFlags: i % 4, icmpType: 0, icmpCode: 0, icmpId: 0 };
    evs.push(sample({ tuple, dstMac: rand(6, i % 9) }));
  }
  const recs = evs.map(encodeEvent);
  const decoded = recs.map((r) => decodeEvent(new DataView(r.buffer), r, 0, r.length));
  decoded.forEach((d, i) => {
    assert.deepEqual(d.tuple, evs[i]!.tuple, `event ${i}`);
    assert.deepEqual([...d.dstMac], [...evs[i]!.dstMac]);
  });
  const again = decodeEvent(new DataView(recs[1999]!.buffer), recs[1999]!, 0, recs[1999]!.length);
  assert.equal(again.tuple, decoded[1999]!.tuple, 'the same bytes: the same object');
  assert.equal(again.dstMac, decoded[1999]!.dstMac);
});
