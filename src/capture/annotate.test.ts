import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Annotator, BlockSplitter, findingComment, notesByPacket, packetIdOf, sectionComments } from './annotate.js';
import { PcapngWriter } from './pcapng.js';
import { CaptureStream } from './stream.js';
import type { Finding } from '../diagnose/model.js';
import { ip, tcp, TCP } from '../../test/helpers/frames.js';

const syn = ip('10.199.7.1', '10.199.7.2', 6, tcp(40000, 8080, { flags: TCP.SYN }));

function finding(n: number, rule: string, events: number[]): Finding {
  const evidence = events.map((e) => ({ n: e, role: 'anchor', probe: 'kfree_skb', netns: 1, dev: 'pp7s', text: '', count: 1 }));
  return { n, rule, level: 'error', title: `title ${n}`, what: '', where: { netns: 1 }, evidence, advice: '', count: 1, flow: null, flowId: null, firstNs: 0, verdict: `verdict ${n}`, explains: [], reason: null };
}

/** A file as PcapngWriter writes it: packets 1..3, packet 2 twice (two devices), one without a packet id. */
function file(): Buffer {
  const chunks: Buffer[] = [];
  const w = new PcapngWriter((b) => chunks.push(b), { application: 't', comment: 'made by a test' });
  const a = w.interfaceId({ netns: 'cli', dev: 'pp7c', linkType: 101, snaplen: 256 });
  const b = w.interfaceId({ netns: 'srv', dev: 'pp7s', linkType: 101, snaplen: 256 });
  const t = 1_700_000_000_000_000_000n;
  w.packet({ iface: a, tsNs: t, data: syn, origLen: syn.length, dir: 'out', comments: ['pktpath: one'], packetId: 1n });
  w.packet({ iface: a, tsNs: t + 1n, data: syn, origLen: syn.length, dir: 'out', comments: ['pktpath: two'], packetId: 2n });
  w.packet({ iface: b, tsNs: t + 2n, data: syn, origLen: syn.length, dir: 'in', comments: ['pktpath: two, again'], packetId: 2n });
  w.packet({ iface: b, tsNs: t + 3n, data: syn, origLen: syn.length, packetId: 3n });
  w.packet({ iface: b, tsNs: t + 4n, data: syn, origLen: syn.length });
  w.flush();
  return Buffer.concat(chunks);
}

function read(bytes: Buffer): { section: string | null; comments: (string[] | null)[] } {
  const comments: (string[] | null)[] = [];
  const s = new CaptureStream('t', { packet: (p) => comments.push(p.comments) });
  s.push(bytes);
  const d = s.finish();
  return { section: d.comment, comments };
}

test('notes: one comment per finding a packet is evidence of, once per packet; findings without a written packet count none', () => {
  const packetOf = (n: number): number | undefined => ({ 4: 2, 5: 2, 7: 3 })[n];
  const { notes, packets } = notesByPacket([finding(1, 'tcp.no-listener', [4, 5, 7]), finding(2, 'tcp.retransmit', [5]), finding(3, 'x.none', [99])], packetOf);
  assert.deepEqual([...notes], [
    [2, ['pktpath finding 1 [tcp.no-listener] error: verdict 1', 'pktpath finding 2 [tcp.retransmit] error: verdict 2']],
    [3, ['pktpath finding 1 [tcp.no-listener] error: verdict 1']],
  ]);
  assert.deepEqual([...packets], [[1, 2], [2, 1]]);
  const section = sectionComments({ verdict: { level: 'error', text: 'it broke', finding: 1 }, findings: [finding(1, 'a', []), finding(3, 'b', [])] }, packets);
  assert.deepEqual(section, [
    'pktpath diagnosis: it broke',
    'pktpath finding 1 [a] error: verdict 1 (evidence: 2 packets, frame.comment contains "pktpath finding 1 ")',
    'pktpath finding 3 [b] error: verdict 3 (no packet of this file is its evidence)',
  ]);
  assert.equal(findingComment({ ...finding(1, 'a', []), verdict: 'x'.repeat(70_000) }).length, 4000, 'an opt_comment stays well under 65535 bytes');
});

test('the rewrite: the section gets the verdict first, each copy of a marked packet its notes after its own comments, the rest is unchanged', () => {
  const before = file();
  const ann = new Annotator(new Map([[2, ['pktpath finding 1 [a] error: v']], [3, ['pktpath finding 1 [a] error: v', 'pktpath finding 2 [b] warn: w']]]), ['pktpath diagnosis: it broke']);
  const split = new BlockSplitter();
  const out: Buffer[] = [];
  // fed in odd-sized pieces: blocks cut anywhere come out whole
  for (let at = 0; at < before.length; at += 37) out.push(...split.push(before.subarray(at, at + 37)).map((b) => ann.block(b)));
  split.end();
  const after = read(Buffer.concat(out));
  assert.equal(ann.marked, 3);
  assert.equal(after.section, 'pktpath diagnosis: it broke', 'first of the section comments');
  assert.deepEqual(after.comments, [
    ['pktpath: one'],
    ['pktpath: two', 'pktpath finding 1 [a] error: v'],
    ['pktpath: two, again', 'pktpath finding 1 [a] error: v'],
    ['pktpath finding 1 [a] error: v', 'pktpath finding 2 [b] warn: w'],
    null,
  ]);
  assert.deepEqual(read(before).comments.slice(0, 1), after.comments.slice(0, 1));
});

test('packetIdOf reads epb_packetid past the comments; none without one', () => {
  const blocks = new BlockSplitter().push(file()).filter((b) => b.readUInt32LE(0) === 6);
  assert.deepEqual(blocks.map(packetIdOf), [1n, 2n, 2n, 3n, undefined]);
});

test('the splitter refuses what is not pcapng blocks, and a cut last block', () => {
  assert.throws(() => new BlockSplitter().push(Buffer.from([6, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0])), /corrupt pcapng: block of length 13 at byte 0/);
  const s = new BlockSplitter();
  s.push(file().subarray(0, 50));
  assert.throws(() => s.end(), /bytes of a cut block/);
  const big = new Annotator(new Map(), []);
  const be = Buffer.alloc(28);
  be.writeUInt32LE(0x0a0d0d0a, 0);
  be.writeUInt32LE(28, 4);
  be.writeUInt32BE(0x1a2b3c4d, 8);
  assert.throws(() => big.block(be), /not a little-endian pcapng section/);
});
