/**
 * EventMatch -> predicate, compiled once per rule so the per-event test is a few
 * comparisons.
 */
import type { DEvent } from './model.js';
import type { EventMatch, TcpFlag } from './rules/types.js';

export const FLAG_BITS: Readonly<Record<TcpFlag, number>> = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 };

export type Pred = (e: DEvent) => boolean;

function bits(flags: readonly TcpFlag[] | undefined): number {
  return (flags ?? []).reduce((b, f) => b | FLAG_BITS[f], 0);
}

function inList<T>(list: readonly T[] | undefined): ((v: T) => boolean) | null {
  if (!list) return null;
  // most lists name one value: a comparison, not a Set lookup, on every event a rule looks at
  if (list.length === 1) {
    const only = list[0];
    return (v) => v === only;
  }
  const set = new Set(list);
  return (v) => set.has(v);
}

function icmpPred(m: { type?: readonly number[]; code?: readonly number[] }, get: (e: DEvent) => { type: number; code: number } | null): Pred {
  const type = inList(m.type);
  const code = inList(m.code);
  return (e) => {
    const v = get(e);
    return v !== null && v.type >= 0 && (!type || type(v.type)) && (!code || code(v.code));
  };
}

function nfPred(m: NonNullable<EventMatch['nf']>): Pred {
  const verdict = inList(m.verdict);
  const chain = inList(m.chain?.map((c) => c.toUpperCase()));
  const rule = m.rule ? new RegExp(m.rule, 'i') : null;
  return (e) => {
    const nf = e.nf;
    if (!nf) return false;
    if (verdict && !verdict(nf.verdict)) return false;
    if (chain && !chain(nf.chain.toUpperCase()) && !(nf.hook && chain(nf.hook.toUpperCase()))) return false;
    return !rule || (nf.rule !== null && rule.test(nf.rule));
  };
}

/** Compiles a match; an empty match accepts every event. */
export function compileMatch(m: EventMatch): Pred {
  const preds: Pred[] = [];
  const probe = inList(m.probe);
  if (probe) preds.push((e) => probe(e.probe));
  const stage = inList(m.stage);
  if (stage) preds.push((e) => stage(e.stage));
  const reason = inList(m.reason);
  if (reason) preds.push((e) => e.reason !== null && reason(e.reason));
  const at = inList(m.at);
  if (at) preds.push((e) => e.at !== null && at(e.at));
  const proto = inList(m.proto);
  if (proto) preds.push((e) => proto(e.proto));
  if (m.flags) {
    const all = bits(m.flags.all);
    const none = bits(m.flags.none);
    const exactly = m.flags.exactly ? bits(m.flags.exactly) : -1;
    // only `none` asked: a packet that is not TCP has none of the flags
    const tcpOnly = all !== 0 || exactly >= 0;
    preds.push((e) => (e.proto === 'tcp' ? (e.tcpFlags & all) === all && (e.tcpFlags & none) === 0 && (exactly < 0 || e.tcpFlags === exactly) : !tcpOnly));
  }
  if (m.icmp) preds.push(icmpPred(m.icmp, (e) => (e.icmpType >= 0 ? { type: e.icmpType, code: e.icmpCode } : null)));
  if (m.sent) preds.push(icmpPred(m.sent, (e) => e.sent));
  if (m.nf) preds.push(nfPred(m.nf));
  const rtype = inList(m.route?.type);
  if (m.route) preds.push((e) => e.route !== null && (!rtype || rtype(e.route.type)));
  if (m.origin) {
    const local = m.origin === 'local';
    preds.push((e) => e.local === local);
  }
  if (m.related !== undefined) {
    const rel = m.related;
    preds.push((e) => e.related === rel);
  }
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0]!;
  return (e) => {
    for (const p of preds) if (!p(e)) return false;
    return true;
  };
}

/** Probes an anchor can only be (for dispatch); null when the match does not restrict them. */
export function anchorProbes(m: EventMatch): readonly string[] | null {
  if (m.probe) return m.probe;
  if (m.reason) return ['kfree_skb'];
  if (m.nf) return ['netfilter', 'nft_do_chain', 'ipt_do_table', 'ip6t_do_table'];
  if (m.sent) return ['icmp_send'];
  return null;
}
