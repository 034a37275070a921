/** A finding on one flow, made from a rule of rules.ts and the words of the case. */
import type { Flow } from './flow.js';
import { RULE_BY_ID, fill } from './rules.js';
import type { Level } from './rules.js';
import { addrText } from './decode.js';
import { flowText } from './words.js';

/** One finding on one flow (the report groups those of one rule). */
export interface Found {
  readonly id: string;
  readonly level: Level;
  readonly title: string;
  readonly verdict: string;
  readonly what: string;
  readonly advice: string;
  readonly flowId: number | null;
  readonly flow: string | null;
  /** frame numbers of the evidence, first the one the words start from */
  readonly packets: readonly number[];
}

export type Words = Record<string, string>;

/** Base words of side `s` of a flow: {flow} {src} {dst} {sport} {dport} {proto}. */
export function sideWords(f: Flow, s: 0 | 1): Words {
  const o = s === 0 ? 1 : 0;
  return {
    flow: flowText(f, 0),
    src: addrText(f.addr[s]),
    dst: addrText(f.addr[o]),
    sport: String(f.port[s]),
    dport: String(f.port[o]),
    proto: f.proto === 6 ? 'tcp' : 'udp',
  };
}

export function make(id: string, f: Flow | null, words: Words, packets: readonly number[], level?: Level): Found {
  const r = RULE_BY_ID.get(id);
  if (!r) throw new Error(`no capture rule ${id}`);
  return {
    id,
    level: level ?? r.level,
    title: r.title,
    verdict: fill(r.verdict, words),
    what: fill(r.what, words),
    advice: fill(fill(r.advice, words), words),
    flowId: f ? f.id : null,
    flow: f ? flowText(f, 0) : words.flow || null,
    packets,
  };
}

