/**
 * From judged candidates to findings: the words filled, one finding per rule, flow and
 * place (with a count), one rule per anchor event (the highest priority), and findings
 * that another explains folded into it.
 */
import type { DEvent, EvidenceEvent, Finding, Level, Need } from './model.js';
import type { Candidate, Judged } from './evaluate.js';
import { REASONS } from './rules/drops.js';
import { contextOf, evidenceText, fill, icmpWords } from './words.js';
import type { NameOf, Proof } from './words.js';

export interface Hit {
  readonly c: Candidate;
  readonly j: Judged;
  /** how many anchors this hit stands for (candidates beyond those kept) */
  readonly weight: number;
}

export const LEVEL_ORDER: Readonly<Record<Level, number>> = { error: 3, warn: 2, info: 1, benign: 0 };

function macText(m: Uint8Array): string {
  return [...m.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** REJECT rule text -> the answer it sends and what the sender sees. */
const REJECT_WORDS: readonly [RegExp, number, number][] = [
  [/adm(in)?-prohibited/i, 13, 1],
  [/host-prohibited/i, 10, 1],
  [/net-prohibited/i, 9, 1],
  [/port-unreachable/i, 3, 4],
  [/host-unreachable|addr-unreachable/i, 1, 3],
  [/net-unreachable|no-route/i, 0, 0],
  [/prot(o)?-unreachable/i, 2, 4],
];

function rejectWords(rule: string, family: 4 | 6): { answer: string; sees: string } {
  if (/tcp[ -]reset/i.test(rule)) return { answer: 'a TCP reset', sees: 'Connection refused' };
  for (const [re, c4, c6] of REJECT_WORDS) {
    if (!re.test(rule)) continue;
    const w = icmpWords(family, family === 6 ? 1 : 3, family === 6 ? c6 : c4);
    return { answer: w.icmp, sees: w.sees };
  }
  // REJECT's default: port unreachable
  const w = icmpWords(family, family === 6 ? 1 : 3, family === 6 ? 4 : 3);
  return { answer: w.icmp, sees: w.sees };
}

/** The netfilter step that decided: one naming its rule, else an nft trace/observer step, else a verdict-only one. */
export function pickNf(a: DEvent, proofs: readonly Proof[]): DEvent | undefined {
  if (a.nf) return a;
  const steps = proofs.map((p) => p.e).filter((e) => e.nf && e.nf.verdict !== 'ACCEPT');
  return steps.find((e) => e.nf!.rule) ?? steps.find((e) => !e.fexit) ?? steps[0];
}

function derivedVars(a: DEvent, proofs: readonly Proof[], has: ReadonlySet<Need>, count: number): Record<string, string> {
  const family = a.flow?.family ?? 4;
  const vars: Record<string, string> = { times: count > 1 ? ` (${count} times)` : '', count: String(count), mac: macText(a.mac) };
  const sent = proofs.find((p) => p.e.sent)?.e;
  if (sent?.sent) {
    const w = icmpWords(family, sent.sent.type, sent.sent.code);
    Object.assign(vars, { icmp: w.icmp, sees: w.sees, icmpSent: ` and sent ${w.icmp} back (#${sent.n})` });
  } else vars.icmpSent = '';
  if (a.icmpType >= 0) vars.icmpType = icmpWords(family, a.icmpType, a.icmpCode).icmp;
  const nfEv = pickNf(a, proofs);
  const nf = nfEv?.nf;
  if (nf) {
    const hook = `${nf.pf}.${nf.table}.${nf.chain}`;
    vars.by = nf.rule ? ` by rule "${nf.rule}" in ${hook}` : nfEv.fexit ? ` in ${hook}` : ` by the policy of ${hook}`;
    if (nf.rule) {
      const r = rejectWords(nf.rule, family);
      vars.rejectAnswer = r.answer;
      vars.sees ??= r.sees;
    }
  } else vars.by = has.has('iptable') ? '' : ' (add --iptable to name the rule)';
  const reason = a.reason ? REASONS[a.reason] : undefined;
  vars.reasonMeaning = reason?.meaning ?? 'the kernel names this reason but pktpath has no explanation for it yet';
  vars.reasonAdvice = reason?.advice ?? 'look the reason up in include/net/dropreason-core.h';
  return vars;
}

function evidenceOf(proofs: readonly Proof[], names: NameOf): EvidenceEvent[] {
  const seen = new Set<number>();
  const out: EvidenceEvent[] = [];
  for (const p of proofs) {
    if (seen.has(p.e.n) && p.role !== 'anchor') continue;
    seen.add(p.e.n);
    out.push({ n: p.e.n, role: p.role, probe: p.e.probe, netns: p.e.netns, dev: p.e.dev, text: evidenceText(p.e, names), count: p.count });
  }
  return out.sort((x, y) => x.n - y.n);
}

/** One finding from the first hit of a group, counted over the group. */
function findingOf(h: Hit, groupCount: number, names: NameOf, has: ReadonlySet<Need>): Finding {
  const { c, j } = h;
  // a latency finding counts the packets through the hop, not the packets that pointed at it
  const count = j.vars.samples !== undefined ? Number(j.vars.samples) : groupCount;
  const rule = c.rule.rule;
  const a = c.anchor;
  const vars = { ...derivedVars(a, j.proofs, has, count), ...j.vars };
  const ctx = contextOf(a, j.proofs, names, vars);
  const nfEv = pickNf(a, j.proofs);
  const nf = nfEv?.nf;
  const netns = j.netns ?? a.netns;
  const recv = j.proofs.find((p) => p.role === 'received')?.e;
  return {
    n: 0,
    rule: rule.id,
    level: rule.level,
    title: rule.title,
    what: fill(rule.what, ctx),
    where: {
      netns,
      ...(names.netns(netns) !== String(netns) ? { netnsName: names.netns(netns) } : {}),
      ...((j.dev ?? (a.dev || recv?.dev)) ? { dev: j.dev ?? (a.dev || recv!.dev) } : {}),
      ...(nf ? { hook: `${nf.pf}.${nf.table}.${nf.chain}` } : {}),
      ...(nf?.rule ? { rule: nf.rule } : {}),
      ...(nf && !nf.rule && !nfEv!.fexit ? { policy: true } : {}),
      ...(a.at ? { function: a.at } : {}),
    },
    evidence: evidenceOf(j.proofs, names),
    advice: fill(rule.advice, ctx),
    count,
    flow: ctx.flow ?? null,
    flowId: a.flow?.id ?? null,
    firstNs: a.ts,
    verdict: fill(rule.verdict, ctx),
    explains: [],
    reason: a.reason,
  };
}

/** One rule per anchor event: the highest priority that holds. */
function bestPerAnchor(hits: readonly Hit[]): Hit[] {
  const best = new Map<number, number>();
  for (const h of hits) best.set(h.c.anchor.n, Math.max(best.get(h.c.anchor.n) ?? -1, h.c.rule.rule.priority));
  return hits.filter((h) => h.c.rule.rule.priority === best.get(h.c.anchor.n));
}

interface Group {
  first: Hit;
  count: number;
  explains: string[];
  /** what tells the groups of one rule apart: namespace, function, the check's group, drop reason ('' for none) */
  readonly netns: number;
  readonly at: string;
  readonly group: string;
  readonly reason: string;
}

/**
 * One group per rule and place, in order of first hit: the groups of each rule looked up
 * by its id, then compared field by field (a flow has a few per rule: no key string made
 * and hashed per hit).
 */
function groupHits(hits: readonly Hit[]): Group[] {
  const byRule = new Map<string, Group[]>();
  const found: Group[] = [];
  for (const h of hits) {
    const a = h.c.anchor;
    const netns = h.j.netns ?? a.netns;
    const at = a.at ?? '';
    const group = h.j.group ?? '';
    const reason = a.reason ?? '';
    const id = h.c.rule.rule.id;
    let same = byRule.get(id);
    if (!same) byRule.set(id, (same = []));
    const g = same.find((x) => x.netns === netns && x.at === at && x.group === group && x.reason === reason);
    if (g) {
      g.count += h.weight;
      if (a.n < g.first.c.anchor.n) g.first = h;
      continue;
    }
    const made = { first: h, count: h.weight, explains: [], netns, at, group, reason };
    same.push(made);
    found.push(made);
  }
  return found;
}

/** Per flow: one group per rule and place, then explained ones folded into their explanation. */
function perFlow(hits: readonly Hit[]): Group[] {
  let found = groupHits(bestPerAnchor(hits));
  const ruleOf = (g: Group): Hit['c']['rule']['rule'] => g.first.c.rule.rule;
  // higher priority explainers first, so an explanation is never folded into its own consequence
  for (const x of [...found].filter((y) => ruleOf(y).explains?.length).sort((p, q) => ruleOf(q).priority - ruleOf(p).priority)) {
    if (!found.includes(x)) continue;
    const folded = found.filter((g) => g !== x && g.first.c.anchor.flow !== null && ruleOf(x).explains!.includes(ruleOf(g).id));
    for (const g of folded) for (const id of [ruleOf(g).id, ...g.explains]) if (!x.explains.includes(id)) x.explains.push(id);
    found = found.filter((g) => !folded.includes(g));
  }
  return found;
}

/** Distinct causes kept across flows (beyond, further ones are only counted). */
const MAX_CAUSES = 1024;

/** What makes two flows' findings the same cause: rule and place, not the words. */
function causeKey(g: Group): string {
  const h = g.first;
  const a = h.c.anchor;
  const nf = pickNf(a, h.j.proofs)?.nf;
  const dev = h.j.dev ?? a.dev;
  const hook = nf ? `${nf.pf}.${nf.table}.${nf.chain}` : '';
  const rule = h.c.rule.rule.id;
  return `${rule}|${h.j.netns ?? a.netns}|${dev}|${a.at ?? ''}|${hook}|${a.reason ?? ''}|${rule === 'latency.dominant-hop' ? a.flow?.id : ''}`;
}

/**
 * Findings across flows: the hits of one flow at a time, then the same cause in several
 * flows told once, counted (its words made once). Holds no hit after add() returns.
 */
/** A cause as it is merged: its finding's words are made once (again only when an earlier flow shows it). */
interface Cause {
  finding: Finding;
  count: number;
  flows: number;
  readonly explains: string[];
}

export class FindingSet {
  private readonly merged = new Map<string, Cause>();
  dropped = 0;

  constructor(
    private readonly names: NameOf,
    private readonly has: ReadonlySet<Need>,
  ) {}

  /** Adds the hits of one flow (or of the flowless events). */
  add(hits: readonly Hit[]): void {
    if (!hits.length) return;
    for (const g of perFlow(hits)) {
      const key = causeKey(g);
      const m = this.merged.get(key);
      const count = Math.round(g.count);
      if (m) {
        if (g.first.c.anchor.ts < m.finding.firstNs) m.finding = findingOf(g.first, count, this.names, this.has);
        m.count += g.first.j.vars.samples !== undefined ? Number(g.first.j.vars.samples) : count;
        m.flows++;
        for (const id of g.explains) if (!m.explains.includes(id)) m.explains.push(id);
      } else if (this.merged.size < MAX_CAUSES) {
        const finding = findingOf(g.first, count, this.names, this.has);
        this.merged.set(key, { finding, count: finding.count, flows: 1, explains: [...g.explains] });
      } else this.dropped++;
    }
  }

  /** By level, then time; numbered from 1. */
  findings(): Finding[] {
    const out = [...this.merged.values()].map((m): Finding => ({ ...m.finding, count: m.count, explains: [...m.explains], ...(m.flows > 1 ? { flows: m.flows } : {}) }));
    out.sort((x, y) => LEVEL_ORDER[y.level] - LEVEL_ORDER[x.level] || x.firstNs - y.firstNs);
    out.forEach((f, i) => (f.n = i + 1));
    return out;
  }
}
