import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureStream } from './stream.js';
import { CaptureError } from './records.js';
import type { CaptureInterface, InterfaceStats, RawPacket } from './records.js';
import { ether, ip, pcapFile, pcapngFile, tcp, TCP } from '../../test/helpers/frames.js';
import type { Frame } from '../../test/helpers/frames.js';

interface Got {
  n: number;
  sec: number;
  nsec: number;
  iface: number;
  section: number;
  dir: number;
  caplen: number;
  origLen: number;
  first: number;
  comments: string[] | null;
}

function read(bytes: Buffer, chunk = bytes.length): { pkts: Got[]; ifaces: CaptureInterface[]; stats: InterfaceStats[]; desc: ReturnType<CaptureStream['finish']> } {
  const pkts: Got[] = [];
  const ifaces: CaptureInterface[] = [];
  const stats: InterfaceStats[] = [];
  const s = new CaptureStream('t.cap', {
    packet: (p: RawPacket) =>
      pkts.push({ n: p.n, sec: p.sec, nsec: p.nsec, iface: p.iface, section: p.section, dir: p.dir, caplen: p.caplen, origLen: p.origLen, first: p.buf[p.off]!, comments: p.comments }),
    interface: (i) => ifaces.push(i),
    stats: (x) => stats.push(x),
  });
  for (let at = 0; at < bytes.length; at += Math.max(1, chunk)) s.push(bytes.subarray(at, at + Math.max(1, chunk)));
  return { pkts, ifaces, stats, desc: s.finish() };
}

const T0 = 1_700_000_000_123_456_789n;
const pkt = ether(ip('10.0.0.1', '10.0.0.2', 6, tcp(1, 2, { flags: TCP.SYN })));
const frames: Frame[] = [0, 1, 2].map((k) => ({ tsNs: T0 + BigInt(k) * 1_000_000_001n, data: pkt, origLen: pkt.length + k, iface: k % 2, dir: k === 1 ? 'out' : 'in' }));

const CASES = [
  { name: 'pcap little-endian, microseconds', bytes: pcapFile(frames), nsec: 123_456_000, format: 'pcap', order: 'little-endian', res: 'us' },
  { name: 'pcap big-endian, microseconds', bytes: pcapFile(frames, { bigEndian: true }), nsec: 123_456_000, format: 'pcap', order: 'big-endian', res: 'us' },
  { name: 'pcap little-endian, nanoseconds', bytes: pcapFile(frames, { nanos: true }), nsec: 123_456_789, format: 'pcap', order: 'little-endian', res: 'ns' },
  { name: 'pcap big-endian, nanoseconds', bytes: pcapFile(frames, { nanos: true, bigEndian: true }), nsec: 123_456_789, format: 'pcap', order: 'big-endian', res: 'ns' },
  { name: 'pcapng (pktpath writer, ns)', bytes: pcapngFile(frames), nsec: 123_456_789, format: 'pcapng', order: 'little-endian', res: 'ns' },
] as const;

for (const c of CASES) {
  for (const chunk of [1, 7, 64, 1 << 20]) {
    test(`${c.name}: read in chunks of ${chunk} bytes`, () => {
      const { pkts, desc } = read(c.bytes, chunk);
      assert.equal(desc.format, c.format);
      assert.equal(desc.byteOrder, c.order);
      assert.equal(desc.resolution, c.res);
      assert.deepEqual(pkts.map((p) => p.n), [1, 2, 3]);
      assert.equal(pkts[0]!.sec, 1_700_000_000);
      assert.equal(pkts[0]!.nsec, c.nsec);
      assert.equal(pkts[1]!.sec, 1_700_000_001);
      assert.deepEqual(pkts.map((p) => p.origLen - p.caplen), [0, 1, 2]);
      assert.ok(pkts.every((p) => p.first === 2), 'the bytes are the frame (first MAC byte 02)');
      if (c.format === 'pcapng') {
        assert.deepEqual(pkts.map((p) => p.iface), [0, 1, 0]);
        assert.deepEqual(pkts.map((p) => p.dir), [1, 2, 1]);
      }
    });
  }
}

/* ---------------------------------------------------------- hand-made pcapng, either byte order */

function blk(be: boolean, type: number, body: Buffer, opts: [number, Buffer][] = []): Buffer {
  const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const w16 = (v: number): Buffer => {
    const b = Buffer.alloc(2);
    if (be) b.writeUInt16BE(v);
    else b.writeUInt16LE(v);
    return b;
  };
  const optBytes = opts.length ? Buffer.concat([...opts.map(([c, v]) => Buffer.concat([w16(c), w16(v.length), pad(v)])), Buffer.alloc(4)]) : Buffer.alloc(0);
  const inner = Buffer.concat([pad(body), optBytes]);
  const len = Buffer.alloc(4);
  if (be) len.writeUInt32BE(12 + inner.length);
  else len.writeUInt32LE(12 + inner.length);
  const t = Buffer.alloc(4);
  if (be) t.writeUInt32BE(type);
  else t.writeUInt32LE(type);
  return Buffer.concat([t, len, inner, len]);
}

function u32s(be: boolean, ...vs: number[]): Buffer {
  const b = Buffer.alloc(vs.length * 4);
  vs.forEach((v, i) => (be ? b.writeUInt32BE(v >>> 0, i * 4) : b.writeUInt32LE(v >>> 0, i * 4)));
  return b;
}

function shb(be: boolean): Buffer {
  const body = Buffer.alloc(16);
  if (be) body.writeUInt32BE(0x1a2b3c4d);
  else body.writeUInt32LE(0x1a2b3c4d);
  if (be) body.writeUInt16BE(1, 4);
  else body.writeUInt16LE(1, 4);
  body.writeBigInt64LE(-1n, 8);
  return blk(be, 0x0a0d0d0a, body, [[4, Buffer.from('hand')]]);
}

function idb(be: boolean, linkType: number, opts: [number, Buffer][]): Buffer {
  const body = Buffer.alloc(8);
  if (be) body.writeUInt16BE(linkType);
  else body.writeUInt16LE(linkType);
  return blk(be, 1, Buffer.concat([body.subarray(0, 4), u32s(be, 65535)]), opts);
}

function epb(be: boolean, iface: number, ts: bigint, data: Buffer, opts: [number, Buffer][] = []): Buffer {
  return blk(be, 6, Buffer.concat([u32s(be, iface, Number(ts >> 32n), Number(ts & 0xffffffffn), data.length, data.length), data]), opts);
}

test('pcapng: two sections of opposite byte order, if_tsresol 10^-3 and 2^-10, if_tsoffset, SPB, ISB, comments, unknown blocks', () => {
  const le = false;
  const be = true;
  const off = Buffer.alloc(8);
  off.writeBigInt64BE(100n);
  const flagsIn = u32s(be, 1);
  const ifdrop = Buffer.alloc(8);
  ifdrop.writeBigUInt64BE(7n);
  const bytes = Buffer.concat([
    shb(le),
    idb(le, 1, [[2, Buffer.from('eth0')], [9, Buffer.from([3])]]),
    blk(le, 0x0bad, Buffer.alloc(8)), // a custom block: skipped
    epb(le, 0, 1_700_000_000_250n, pkt, [[1, Buffer.from('first comment')], [1, Buffer.from('second')]]),
    blk(le, 3, Buffer.concat([u32s(le, pkt.length), pkt])), // SPB: no timestamp
    shb(be),
    idb(be, 1, [[9, Buffer.from([0x8a])], [14, off]]),
    epb(be, 0, (1_700_000_000n << 10n) + 512n, pkt, [[2, flagsIn]]),
    blk(be, 5, u32s(be, 0, 0, 0), [[5, ifdrop]]),
  ]);
  for (const chunk of [1, 5, bytes.length]) {
    const { pkts, ifaces, stats, desc } = read(bytes, chunk);
    assert.equal(desc.sections, 2);
    assert.equal(desc.byteOrder, 'mixed');
    assert.equal(desc.application, 'hand');
    assert.deepEqual(ifaces.map((i) => [i.name, i.unitsPerSec, i.tsOffset]), [['eth0', 1000, 0], [null, 1024, 100]]);
    assert.equal(pkts.length, 3);
    assert.deepEqual([pkts[0]!.sec, pkts[0]!.nsec], [1_700_000_000, 250_000_000]);
    assert.deepEqual(pkts[0]!.comments, ['first comment', 'second']);
    assert.deepEqual([pkts[1]!.sec, pkts[1]!.nsec], [1_700_000_000, 250_000_000], 'an SPB keeps the previous timestamp');
    assert.deepEqual([pkts[2]!.sec, pkts[2]!.nsec, pkts[2]!.section, pkts[2]!.dir], [1_700_000_100, 500_000_000, 1, 1]);
    assert.deepEqual(stats, [{ iface: 0, section: 1, received: null, droppedByIf: 7, droppedByOs: null }]);
  }
});

/* ---------------------------------------------------------- bad input: one clear line */

const good = pcapFile(frames);
const goodNg = pcapngFile(frames);
const BAD: { name: string; bytes: Buffer; message: RegExp }[] = [
  { name: 'empty file', bytes: Buffer.alloc(0), message: /t\.cap: empty file, not a capture/ },
  { name: 'three bytes', bytes: Buffer.from([0xd4, 0xc3, 0xb2]), message: /3 bytes, too short to be a capture/ },
  { name: 'an ELF binary', bytes: Buffer.from('7f454c4602010100', 'hex'), message: /not a pcap or pcapng capture \(it starts with 7f454c46\)/ },
  { name: 'gzip', bytes: Buffer.from('1f8b0800000000000003', 'hex'), message: /gzip-compressed; decompress it first/ },
  { name: 'pcap header only half there', bytes: good.subarray(0, 10), message: /truncated pcap: the file header needs 24 bytes/ },
  { name: 'pcap cut inside the last record', bytes: good.subarray(0, good.length - 5), message: /truncated pcap: the file ends \d+ bytes into record 3 \(at byte \d+\), which needs \d+; 2 complete packets before it/ },
  { name: 'pcap cut inside a record header', bytes: good.subarray(0, 24 + 16 + pkt.length + 6), message: /truncated pcap: the file ends 6 bytes into record 2/ },
  { name: 'pcap record claiming 1 GB', bytes: Buffer.concat([good.subarray(0, 24), u32s(false, 1, 0, 1 << 30, 1 << 30)]), message: /corrupt pcap: record 1 claims 1073741824 captured bytes at byte 24/ },
  { name: 'pcapng cut inside a block', bytes: goodNg.subarray(0, goodNg.length - 8), message: /truncated pcapng: the file ends \d+ bytes into a block \(at byte \d+\) that needs \d+; 2 complete packets before it/ },
  { name: 'pcapng block whose trailing length differs', bytes: Buffer.concat([shb(false), ((b: Buffer) => b.fill(0x55, b.length - 4))(idb(false, 1, []))]), message: /corrupt pcapng: block of type 0x1: length 20 at its start but 1431655765 at its end at byte 40/ },
  { name: 'pcapng block length not a multiple of 4', bytes: Buffer.concat([shb(false), u32s(false, 6, 21, 0, 0, 0, 0)]), message: /corrupt pcapng: block of type 0x6 with length 21/ },
  { name: 'pcapng packet on an undescribed interface', bytes: Buffer.concat([shb(false), epb(false, 3, 0n, pkt)]), message: /corrupt pcapng: packet 1 names interface 3, but its section describes 0/ },
  { name: 'pcapng bad byte-order magic', bytes: Buffer.concat([u32s(false, 0x0a0d0d0a, 28, 0x11223344), Buffer.alloc(16)]), message: /corrupt pcapng: section header with byte-order magic 0x11223344 at byte 0/ },
];

for (const c of BAD) {
  test(`bad input: ${c.name}`, () => {
    assert.throws(
      () => read(c.bytes, 3),
      (err: unknown) => {
        assert.ok(err instanceof CaptureError, `a CaptureError, got ${String(err)}`);
        assert.equal(err.exitCode, 2);
        assert.match(err.message, c.message);
        assert.ok(!err.message.includes('\n'), 'one line');
        return true;
      },
    );
  });
}
