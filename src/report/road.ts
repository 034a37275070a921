/**
 * The order of places on a packet's road inside one namespace, for events whose time
 * does not tell it (nft trace steps are stamped when read). Received: device, PREROUTING,
 * route lookup, INPUT or FORWARD, socket. Sent: socket, route lookup, OUTPUT,
 * POSTROUTING, device queue, qdisc, driver (Mytracer's map, seed 002).
 */
import type { BoxKind, Step } from './model.js';

const RANK_OF_KIND: Readonly<Record<BoxKind, number>> = {
  socket: 5,
  receive: 10,
  route: 30,
  icmp: 45,
  netfilter: 40,
  queue: 60,
  qdisc: 70,
  transmit: 80,
  func: 50,
  other: 50,
  free: 99,
  drop: 99,
};

const RANK_OF_HOOK: Readonly<Record<string, number>> = {
  ingress: 15,
  prerouting: 20,
  input: 40,
  forward: 40,
  output: 40,
  postrouting: 50,
  egress: 65,
};

/** A step's rank on the road of its namespace. */
export function rankOf(s: Step): number {
  if (s.kind === 'netfilter') return nfRank(s.j.nf?.hook ?? s.j.nf?.chain ?? '', s.j.nf?.verdict ?? '');
  return RANK_OF_KIND[s.kind];
}

/**
 * A netfilter step's rank from its hook ("prerouting", or the chain name when the hook
 * is unknown). A DROP (a REJECT is traced as a DROP) ends the road: it goes after
 * whatever came before in its namespace, before the ICMP error a REJECT sends and the drop.
 */
export function nfRank(hook: string, verdict: string): number {
  if (verdict === 'DROP' || verdict === 'REJECT') return 44;
  return RANK_OF_HOOK[hook.toLowerCase()] ?? 45;
}

/**
 * Where an untimed step goes among a packet's steps: in the first stretch of its
 * namespace, after the last step of a lower or equal rank there (the start of the
 * stretch if none), so a DROP verdict lands just before the drop.
 */
export function placeUntimed(steps: readonly Step[], step: Step, rank: number): number {
  const start = steps.findIndex((s) => s.netns === step.netns);
  if (start < 0) return steps.length;
  let end = start;
  while (end < steps.length && steps[end]!.netns === step.netns) end++;
  let at = start;
  for (let i = start; i < end; i++) if (rankOf(steps[i]!) <= rank) at = i + 1;
  return at;
}
