/**
 * The differential test of pcap-filter expressions at the probes: the corpus
 * (test/fixtures/pcap-corpus.pcap, scripts/gen-pcap-corpus.py) is replayed with tcpreplay
 * through a veth pair into a namespace whose netdev ingress chain drops everything, once
 * per expression of test/fixtures/pcap-expressions.txt, while the probes run with that
 * expression. The packets pktpath reports, at any probe, must be exactly the packets
 * `tcpdump -r corpus EXPR` accepts, for every (expression, packet) pair.
 *
 * The receiving side drops at netdev ingress, after the kernel has taken the outer VLAN
 * tag out of band and before it would clear it: kfree_skb sees tagged packets with the
 * tag in skb->vlan_tci, the other probes with the tag in the frame. Both namespaces have
 * IPv6 off and no addresses, so nothing but the corpus crosses them. A traced packet is
 * told by its destination MAC, which is unique in the corpus (a broadcast by its sender).
 *
 * In process (the loader, not the CLI), so that 141 loads fit in the test's time; the CLI
 * path of an expression is tested in test/integration/pcapfilter-cli.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTrace } from '../../src/engine/io/loader.js';
import { RingReader } from '../../src/engine/io/ringbuf.js';
import { decodeEvent } from '../../src/engine/decode.js';
import { compileExpression } from '../../src/filter/io/image.js';
import { deleteNetnsSync, ipSync, netnsInode, REPO_ROOT, requireRoot } from '../helpers/netns.js';
import { readPcap, tcpdumpAccepts } from '../helpers/pcap-file.js';
import type { Frame } from '../helpers/pcap-file.js';

const CORPUS = join(REPO_ROOT, 'test/fixtures/pcap-corpus.pcap');
const EXPRESSIONS = join(REPO_ROOT, 'test/fixtures/pcap-expressions.txt');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const dotted = (b: Uint8Array): string => [...b].join('.');

/** How a traced event names its corpus packet: the destination MAC, or a broadcast's sender address. */
function corpusKeys(frames: readonly Frame[]): Map<string, number> {
  const keys = new Map<string, number>();
  frames.forEach((f, i) => {
    const d = f.data;
    const arp = d[12] === 0x08 && d[13] === 0x06;
    const key = d[0] === 0xff ? `bcast ${dotted(d.subarray(arp ? 28 : 26, arp ? 32 : 30))}` : hex(d.subarray(0, 6));
    if (keys.has(key)) throw new Error(`corpus packets ${keys.get(key)} and ${i} share the key ${key}`);
    keys.set(key, i);
  });
  return keys;
}

interface Replay {
  readonly sender: string;
  readonly netns: ReadonlySet<number>;
  destroy(): void;
}

/** Namespaces <base>-a and <base>-b, a veth between them, b dropping all it receives. */
function replayPair(): Replay {
  const base = `pp-pcapf-${process.pid}-1`;
  const [a, b] = [`${base}-a`, `${base}-b`];
  const destroy = (): void => [a, b].forEach((ns) => deleteNetnsSync(ns));
  process.once('exit', destroy);
  try {
    for (const ns of [a, b]) {
      ipSync(['netns', 'add', ns]);
      ipSync(['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    ipSync(['link', 'add', 'ppfa', 'netns', a, 'type', 'veth', 'peer', 'name', 'ppfb', 'netns', b]);
    ipSync(['-n', a, 'link', 'set', 'ppfa', 'up']);
    ipSync(['-n', b, 'link', 'set', 'ppfb', 'up']);
    ipSync(['netns', 'exec', b, 'nft', 'add table netdev pp; add chain netdev pp in { type filter hook ingress device ppfb priority 0; policy drop; }']);
  } catch (err) {
    destroy();
    throw err;
  }
  return { sender: a, netns: new Set([netnsInode(a), netnsInode(b)]), destroy };
}

/** Corpus indexes the probes reported while the corpus was replayed once; events of other packets in the pair's namespaces are `strays`. */
async function tracedPackets(expression: string, pair: Replay, keys: ReadonlyMap<string, number>): Promise<{ got: Set<number>; strays: string[]; lost: number }> {
  const trace = loadTrace({}, { ringBytes: 8 << 20, filter: compileExpression(expression) });
  const got = new Set<number>();
  const strays: string[] = [];
  let seen = 0;
  try {
    const ring = new RingReader(trace.ring);
    const sink = (view: DataView, bytes: Uint8Array, off: number, len: number): void => {
      seen++;
      const ev = decodeEvent(view, bytes, off, len);
      if (!pair.netns.has(ev.netns)) return; // another test's traffic
      const key = ev.dstMac[0] === 0xff && ev.tuple ? `bcast ${dotted(ev.tuple.saddr)}` : hex(ev.dstMac);
      const i = keys.get(key);
      if (i === undefined) strays.push(`${key} probe ${ev.probe} len ${ev.len}`);
      else got.add(i);
    };
    ipSync(['netns', 'exec', pair.sender, 'tcpreplay', '-q', '-i', 'ppfa', '--topspeed', CORPUS]);
    // the receive side runs in softirq, maybe on the other CPU: drain until every emitted event is read
    for (let quiet = 0, i = 0; quiet < 2 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 20));
      ring.drain(sink);
      quiet = seen === trace.stats().emitted ? quiet + 1 : 0;
    }
    return { got, strays, lost: trace.stats().lost };
  } finally {
    trace.close();
  }
}

test('over veth, at every probe, pktpath reports exactly the packets tcpdump accepts', async (t) => {
  if (!requireRoot(t, { cli: false, commands: ['tcpreplay', 'tcpdump', 'nft'] })) return;
  const frames = readPcap(new Uint8Array(readFileSync(CORPUS)));
  const keys = corpusKeys(frames);
  const exprs = readFileSync(EXPRESSIONS, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  const pair = replayPair();
  const problems: string[] = [];
  let pairs = 0;
  let matches = 0;
  try {
    for (const expr of exprs) {
      const want = tcpdumpAccepts(CORPUS, frames, expr);
      const { got, strays, lost } = await tracedPackets(expr, pair, keys);
      pairs += frames.length;
      matches += want.size;
      const missing = [...want].filter((i) => !got.has(i));
      const extra = [...got].filter((i) => !want.has(i));
      if (missing.length || extra.length) problems.push(`"${expr}": tcpdump accepts ${want.size}, pktpath reported ${got.size}; missing ${missing.slice(0, 8)}; extra ${extra.slice(0, 8)}`);
      if (strays.length) problems.push(`"${expr}": ${strays.length} events of packets not in the corpus: ${strays.slice(0, 3).join('; ')}`);
      if (lost) problems.push(`"${expr}": ${lost} events lost`);
    }
  } finally {
    pair.destroy();
  }
  t.diagnostic(`${exprs.length} expressions x ${frames.length} packets = ${pairs} (expression, packet) pairs checked, ${matches} of them matches; ${problems.length} problems`);
  assert.deepEqual(problems, []);
});
