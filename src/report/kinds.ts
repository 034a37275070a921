/** Which box kind each of the diagnosis engine's stages is drawn as, and the kind of a `trace --json` line. */
import type { Stage } from '../diagnose/model.js';
import { stageOf } from '../diagnose/stages.js';
import type { BoxKind, JsonEvent } from './model.js';

export const KIND_OF_STAGE: Readonly<Record<Stage, BoxKind>> = {
  rx: 'receive',
  'tx-queue': 'queue',
  'qdisc-in': 'qdisc',
  'qdisc-out': 'qdisc',
  tx: 'transmit',
  'tx-done': 'transmit',
  route: 'route',
  nf: 'netfilter',
  'tcp-retrans': 'socket',
  'tcp-rst-send': 'socket',
  'tcp-rst-recv': 'socket',
  'tcp-csum': 'socket',
  'icmp-send': 'icmp',
  drop: 'drop',
  free: 'free',
  func: 'func',
  other: 'other',
};

/** The box kind of an event: its probe's stage, a kfree_skb without a reason being a plain free. */
export function kindOf(probe: string, drop: boolean, nf: boolean): BoxKind {
  if (nf) return 'netfilter';
  const k = KIND_OF_STAGE[stageOf(probe)];
  return k === 'drop' && !drop ? 'free' : k;
}

export function kindOfJson(j: JsonEvent): BoxKind {
  return kindOf(j.probe, j.drop_reason !== undefined, j.nf !== undefined);
}

/** Kinds that end a packet's life. */
export function ends(kind: BoxKind): boolean {
  return kind === 'drop' || kind === 'free';
}
