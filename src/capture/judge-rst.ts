/**
 * Who sent a reset (seed 003). A host's own TCP stamps its resets with the TTL its other
 * packets arrive with (same host, same path) and with its IP ID habit (Linux: 0 on DF
 * packets without a connected socket, a per-socket counter otherwise). A box on the path
 * that forges resets is further or nearer, starts from its own TTL and IP ID, often
 * reuses one IP ID, and can answer before the real peer does.
 */
import { ttlValues } from './flow.js';
import type { Flow, RstRecord } from './flow.js';
import { TCP_FLAG } from './decode.js';
import { sideWords } from './found.js';
import { durationText, plural, ttlOrigin } from './words.js';

export interface ResetVerdict {
  readonly id: 'tcp.rst-injected' | 'tcp.refused' | 'tcp.reset' | 'tcp.reset-after-forged';
  readonly words: Record<string, string>;
}

/** IP IDs this far from the sender's last one (either way, mod 2^16) are not its counter. */
const ID_FAR = 4096;

function idDistance(a: number, b: number): number {
  const d = (a - b + 65536) % 65536;
  return Math.min(d, 65536 - d);
}

/** The reasons a reset did not come from the claimed sender's stack; empty when none. */
export function forgeryClues(f: Flow, r: RstRecord): string[] {
  const me = f.sides[r.side];
  const src = sideWords(f, r.side).src;
  const others = me.pkts - me.rsts;
  const clues: string[] = [];
  const ttls = ttlValues(me);
  if (others > 0 && !me.ttlOver && ttls.every((v) => Math.abs(v - r.ttl) > 1)) {
    clues.push(`its TTL is ${r.ttl} where ${src}'s other ${plural(others, 'packet')} arrive with ${ttls.join(' or ')}`);
  }
  if (r.ipId > 0 && me.idZero > 0 && me.idOther === 0) clues.push(`its IP ID is ${r.ipId} where ${src}'s other packets carry 0`);
  else if (clues.length && r.ipId > 0 && r.lastId > 0 && idDistance(r.ipId, r.lastId) > ID_FAR) clues.push(`its IP ID ${r.ipId} is far from ${src}'s counter (${r.lastId})`);
  const twins = f.rsts.filter((x) => x !== r && x.side === r.side && x.ipId === r.ipId && x.ipId > 0 && x.seq !== r.seq).length;
  if (twins > 0) clues.push(`${twins + 1} resets with different sequence numbers carry the same IP ID ${r.ipId}`);
  if (r.before === 0 && me.firstT > r.t) clues.push(`it arrived ${durationText(me.firstT - r.t)} before ${src}'s own first packet (#${me.firstN})`);
  else if (r.before > 0 && me.lastT - r.t > 1e6) clues.push(`${src} went on sending for ${durationText(me.lastT - r.t)} after it`);
  return clues;
}

function hopsWords(f: Flow, r: RstRecord): string {
  const o = ttlOrigin(r.ttl);
  const me = f.sides[r.side];
  const peer = ttlValues(me)[0];
  const theirs = peer === undefined ? '' : `, ${sideWords(f, r.side).src}'s own packets ${plural(ttlOrigin(peer).hops, 'hop')} (TTL ${peer})`;
  return `the reset came about ${o.hops} hops from an initial TTL of ${o.initial}${theirs}`;
}

export function resetWords(f: Flow, r: RstRecord): ResetVerdict {
  const clues = forgeryClues(f, r);
  const base = { rst: String(r.n), ttl: String(r.ttl) };
  if (clues.length) return { id: 'tcp.rst-injected', words: { ...base, how: clues.join('; '), hops: hopsWords(f, r) } };
  const me = f.sides[r.side];
  const answersSyn = r.side === 1 && f.synCount > 0 && me.pkts - me.rsts === 0 && (r.flags & TCP_FLAG.ACK) !== 0;
  if (answersSyn) return { id: 'tcp.refused', words: base };
  const forged = f.rsts.find((x) => x.side !== r.side && x.t <= r.t && forgeryClues(f, x).length > 0);
  if (forged) return { id: 'tcp.reset-after-forged', words: { ...base, forged: String(forged.n) } };
  const idWords = r.ipId < 0 ? '' : `and IP ID (${r.ipId}) `;
  return { id: 'tcp.reset', words: { ...base, before: String(r.before), idWords } };
}
