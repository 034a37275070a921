/**
 * Rule evaluation, in two steps:
 *  - when a packet's life closes, each event of it that matches a rule's anchor is
 *    checked against the rule's same-packet evidence: a candidate;
 *  - at the end (or when its flow is let go) a candidate is judged against the flow's
 *    other packets, the counters, the sockets and the rule's named check.
 */
import type { Facts, DEvent, Need, Stage } from './model.js';
import { anchorProbes, compileMatch } from './match.js';
import type { Pred } from './match.js';
import type { CheckName, Relation, Rule } from './rules/types.js';
import type { FlowState, SigEntry } from './state.js';
import type { Proof } from './words.js';
import { READS_LIFE, runCheck } from './checks.js';
import type { CheckEnv } from './checks.js';

export interface CompiledRule {
  readonly rule: Rule;
  /** its place in the rule set (the key of its candidates) */
  readonly index: number;
  readonly anchor: Pred;
  readonly rels: readonly CompiledRel[];
  /** the rule has same-packet evidence to check */
  readonly skbRels: boolean;
  /** its check reads the anchor's packet life: only then does a candidate keep it */
  readonly keepsLife: boolean;
  /** the rule's check and whether it reads counters, read here for every candidate judged (rules are literals of many shapes) */
  readonly check: CheckName | null;
  readonly counted: boolean;
}

/**
 * A relation as evaluation reads it: every one in one object shape, its choices as small
 * integers (the rules' relations are literals of many shapes, and a flow's every kind of
 * event is tested against them when it is judged: one shape keeps those reads cheap).
 */
export interface CompiledRel {
  readonly rel: Relation;
  readonly pred: Pred;
  readonly skb: boolean;
  readonly flow: boolean;
  /** 0: either direction, 1: the anchor's, 2: the reverse */
  readonly dir: number;
  /** 0: any namespace, 1: the anchor's, 2: another */
  readonly netns: number;
  /** 0: any time, 1: before the anchor, 2: after it */
  readonly order: number;
  readonly min: number;
  readonly absent: boolean;
  readonly optional: boolean;
  readonly role: string;
}

function compileRel(rel: Relation): CompiledRel {
  return {
    rel,
    pred: compileMatch(rel.match),
    skb: rel.scope === 'skb',
    flow: rel.scope === 'flow',
    dir: rel.dir === 'same' ? 1 : rel.dir === 'reverse' ? 2 : 0,
    netns: rel.netns === 'same' ? 1 : rel.netns === 'other' ? 2 : 0,
    order: rel.order === 'before' ? 1 : rel.order === 'after' ? 2 : 0,
    min: rel.min ?? 1,
    absent: rel.absent === true,
    optional: rel.optional === true,
    role: rel.role,
  };
}

/** Whether an event of namespace `ns` passes relation r's namespace test for an anchor in `anchorNs`. */
function netnsAllowed(r: CompiledRel, ns: number, anchorNs: number): boolean {
  return r.netns === 0 || (ns === anchorNs) === (r.netns === 1);
}

export interface RuleSet {
  readonly all: readonly CompiledRule[];
  /** rules by the probes their anchor can be; `any` for anchors that do not say */
  readonly byProbe: ReadonlyMap<string, readonly CompiledRule[]>;
  readonly any: readonly CompiledRule[];
  /** per probe, then per drop reason ('' for none): the rules of byProbe, then any, whose anchor can hold at the stage last met (made as met) */
  readonly byReason: Map<string, Map<string, RuleList>>;
}

/** The rules an anchor of one probe, drop reason and stage can match. */
interface RuleList {
  readonly stage: Stage;
  readonly list: readonly CompiledRule[];
}

/**
 * The rules an anchor of this probe, drop reason and stage can match, in rule set order
 * (byProbe's, then any's). A probe's events with one reason are at one stage (a free is
 * a kfree_skb without a reason): keyed by probe and reason, the list remembers its stage
 * and is made again in the rare case it differs, so the rules of drops (every rule without
 * a probe whose anchor names a stage) are not tried on every event.
 */
function rulesFor(rules: RuleSet, probe: string, reason: string | null, stage: Stage): readonly CompiledRule[] {
  let byR = rules.byReason.get(probe);
  if (!byR) rules.byReason.set(probe, (byR = new Map()));
  const key = reason ?? '';
  const had = byR.get(key);
  if (had !== undefined && had.stage === stage) return had.list;
  // most rules name the drop reasons they explain: a drop is tried only against those of its reason
  const can = (c: CompiledRule): boolean => {
    const a = c.rule.anchor;
    return (!a.reason || (reason !== null && a.reason.includes(reason))) && (!a.stage || a.stage.includes(stage));
  };
  const list = [...(rules.byProbe.get(probe) ?? []), ...rules.any].filter(can);
  if (had !== undefined || byR.size < 1024) byR.set(key, { stage, list });
  return list;
}

export function compileRules(rules: readonly Rule[]): RuleSet {
  const all = rules.map((rule, index) => ({
    rule,
    index,
    anchor: compileMatch(rule.anchor),
    rels: (rule.with ?? []).map(compileRel),
    skbRels: (rule.with ?? []).some((r) => r.scope === 'skb'),
    keepsLife: rule.check !== undefined && READS_LIFE.has(rule.check),
    check: rule.check ?? null,
    counted: (rule.counters?.length ?? 0) > 0,
  }));
  const byProbe = new Map<string, CompiledRule[]>();
  const any: CompiledRule[] = [];
  for (const c of all) {
    const probes = anchorProbes(c.rule.anchor);
    if (!probes) any.push(c);
    else for (const p of probes) byProbe.set(p, [...(byProbe.get(p) ?? []), c]);
  }
  return { all, byProbe, any, byReason: new Map() };
}

export interface Candidate {
  readonly rule: CompiledRule;
  readonly anchor: DEvent;
  /** the anchor's packet life as it was when it closed (bounded); empty unless the rule's check reads it */
  readonly life: readonly DEvent[];
  readonly proofs: readonly Proof[];
}

/** No evidence (shared: returned for every relation that holds without any). */
const NO_PROOFS: readonly Proof[] = Object.freeze([]);

/** Same-packet evidence of one relation (`build` false: none, only whether it holds), or null when it does not hold. */
function skbRelation(r: CompiledRel, anchor: DEvent, life: readonly DEvent[], build: boolean): readonly Proof[] | null {
  const n = anchor.n;
  const ns = r.netns === 0 ? 0 : anchor.netns;
  let first: DEvent | null = null;
  let count = 0;
  for (let i = 0; i < life.length; i++) {
    const e = life[i]!;
    if (e === anchor) continue;
    if (r.order === 1 ? e.n > n : r.order === 2 && e.n < n) continue;
    if (!netnsAllowed(r, r.netns === 0 ? 0 : e.netns, ns)) continue;
    if (r.pred(e)) {
      first ??= e;
      count++;
    }
  }
  if (r.absent) return count === 0 ? NO_PROOFS : null;
  if (count < r.min || !first) return r.optional ? NO_PROOFS : null;
  return build ? [{ role: r.role, e: first, count }] : NO_PROOFS;
}

/** The rule's same-packet evidence (`build` false: none, only whether it holds), or null when some relation does not hold. */
function skbEvidence(c: CompiledRule, anchor: DEvent, life: readonly DEvent[], build: boolean): readonly Proof[] | null {
  let found = NO_PROOFS;
  for (let i = 0; i < c.rels.length; i++) {
    const r = c.rels[i]!;
    if (!r.skb) continue;
    const p = skbRelation(r, anchor, life, build);
    if (p === null) return null;
    if (p.length) found = found.length ? found.concat(p) : p;
  }
  return found;
}

/**
 * A rule's candidates in one flow: the first few kept whole, every one counted; chained
 * with the flow's other rules' (a Map per flow and an array per rule were five objects
 * more per flow, held by thousands of flows until judged).
 */
export interface Bucket {
  readonly rule: CompiledRule;
  /** the kept candidates, in order, a chain (Kept.next) */
  first: KeptCandidate | null;
  kept: number;
  count: number;
  /** the bucket of the flow's next rule (in order of first candidate) */
  next: Bucket | null;
}

/** A new bucket of `rule`'s candidates, holding none yet. */
export function newBucket(rule: CompiledRule): Bucket {
  return { rule, first: null, kept: 0, count: 0, next: null };
}

/** A kept candidate and the next one of its bucket. */
export interface KeptCandidate extends Candidate {
  readonly next: KeptCandidate | null;
}

/** Candidates kept per rule and flow; beyond, only counted. */
export const KEPT_CANDIDATES = 4;

/** The bucket of a rule's candidates in the anchor's flow. */
export type CandidateSink = (rule: CompiledRule, anchor: DEvent) => Bucket;

/** A candidate holds no life its rule does not read: a flow's candidates would keep whole packets alive until it is judged. */
const NO_LIFE: readonly DEvent[] = [];

/** Candidates of one closed packet life. */
export function lifeCandidates(life: readonly DEvent[], rules: RuleSet, out: CandidateSink): void {
  for (let i = 0; i < life.length; i++) {
    const anchor = life[i]!;
    const list = rulesFor(rules, anchor.probe, anchor.reason, anchor.stage);
    for (let k = 0; k < list.length; k++) tryAnchor(list[k]!, anchor, life, out);
  }
}

/** The one-event life of an event outside any packet life: reused, copied only for a kept candidate whose rule reads it. */
const ONE: DEvent[] = [];

/** Candidates of an event that has no packet life (no skb, a netfilter step, a route...): no list made per event. */
export function eventCandidates(e: DEvent, rules: RuleSet, out: CandidateSink): void {
  ONE[0] = e;
  const list = rulesFor(rules, e.probe, e.reason, e.stage);
  for (let k = 0; k < list.length; k++) tryAnchor(list[k]!, e, ONE, out);
  ONE.length = 0;
}

function tryAnchor(c: CompiledRule, anchor: DEvent, life: readonly DEvent[], out: CandidateSink): void {
  if (!c.anchor(anchor)) return;
  // the same-packet evidence: checked first, built only for a candidate kept whole (the first few of its rule and flow)
  if (c.skbRels && skbEvidence(c, anchor, life, false) === null) return;
  const b = out(c, anchor);
  b.count++;
  if (b.kept >= KEPT_CANDIDATES) return;
  const found = c.skbRels ? skbEvidence(c, anchor, life, true)! : NO_PROOFS;
  // kept candidates hold their evidence until the flow is judged
  const k = new Kept(c, anchor, !c.keepsLife ? NO_LIFE : life === ONE ? [anchor] : life, found);
  b.kept++;
  let tail = b.first as Kept | null;
  if (tail === null) b.first = k;
  else {
    while (tail.next !== null) tail = tail.next;
    tail.next = k;
  }
}

/** A kept candidate: its anchor's proof is made when asked (at judging), not held by thousands of flows meanwhile. */
class Kept implements KeptCandidate {
  next: Kept | null = null;
  constructor(
    readonly rule: CompiledRule,
    readonly anchor: DEvent,
    readonly life: readonly DEvent[],
    /** the same-packet evidence beyond the anchor (usually none: a shared empty list) */
    private readonly found: readonly Proof[],
  ) {}

  get proofs(): readonly Proof[] {
    return this.proofList();
  }

  /** A new list: judge adds to it. */
  proofList(): Proof[] {
    const out: Proof[] = [{ role: 'anchor', e: this.anchor, count: 1 }];
    for (let i = 0; i < this.found.length; i++) out.push(this.found[i]!);
    return out;
  }
}

/** Whether kind s passes relation r's direction, namespace and order tests for an anchor of direction `dir`, namespace `ns` and number `n`. */
function entryAllowed(r: CompiledRel, s: SigEntry, dir: number, ns: number, n: number): boolean {
  const e = s.first;
  if (r.dir !== 0 && (e.dir === dir) !== (r.dir === 1)) return false;
  if (!netnsAllowed(r, r.netns === 0 ? 0 : e.netns, ns)) return false;
  return r.order === 1 ? e.n < n : r.order !== 2 || s.last.n > n;
}

/** Flow-wide evidence of one relation, added to `proofs` (at most 4); false when it does not hold (the caller drops `proofs`). */
function flowRelation(r: CompiledRel, anchor: DEvent, flow: FlowState | null, proofs: Proof[]): boolean {
  const mark = proofs.length;
  const dir = anchor.dir;
  const ns = r.netns === 0 ? 0 : anchor.netns;
  const n = anchor.n;
  let count = 0;
  let shown = 0;
  const entries = flow ? flow.entries() : NO_ENTRIES;
  for (let i = 0; i < entries.length; i++) {
    const s = entries[i]!;
    if (!entryAllowed(r, s, dir, ns, n) || !r.pred(s.first)) continue;
    count += s.count;
    if (r.absent || shown === 4) continue;
    shown++;
    proofs.push({ role: r.role, e: r.order === 2 && s.first.n <= n ? s.last : s.first, count: s.count });
  }
  if (r.absent) return count === 0;
  if (count >= r.min) return true;
  // too few: an optional relation holds without evidence
  proofs.length = mark;
  return r.optional;
}

const NO_ENTRIES: readonly SigEntry[] = [];

/** The answer for a rule that reads no counter: shared (vars are only read), since every candidate of every flow asks. */
const NO_COUNTERS: { ok: boolean; vars: Record<string, string> } = Object.freeze({ ok: true, vars: Object.freeze({}) });

function countersHold(rule: Rule, anchor: DEvent, facts: Facts): { ok: boolean; vars: Record<string, string> } {
  if (!rule.counters?.length) return NO_COUNTERS;
  const vars: Record<string, string> = {};
  for (const need of rule.counters ?? []) {
    if (!facts.counters) {
      if (need.optional) continue;
      return { ok: false, vars };
    }
    const sum = facts.counters.filter((c) => c.name === need.name && (need.scope === 'any' || c.netns === anchor.netns)).reduce((a, c) => a + c.delta, 0);
    vars[`counter:${need.name}`] = String(sum);
    if (sum < need.min) return { ok: false, vars };
  }
  return { ok: true, vars };
}

export interface Judged {
  readonly proofs: readonly Proof[];
  readonly vars: Readonly<Record<string, string>>;
  readonly netns?: number;
  readonly dev?: string;
  readonly group?: string;
}

const NOTHING_LACKING: Need[] = [];

/** The inputs a rule lacks in this run, or [] when it can be judged. */
export function lacking(rule: Rule, has: ReadonlySet<Need>): readonly Need[] {
  const needs = rule.needs;
  if (!needs) return NOTHING_LACKING;
  let all = true;
  for (const n of needs) all &&= has.has(n);
  return all ? NOTHING_LACKING : needs.filter((n) => !has.has(n));
}

/** Judges a candidate against its flow and the facts; null when the rule does not hold. */
export function judge(c: Candidate, flow: FlowState | null, env: CheckEnv): Judged | null {
  const proofs = c instanceof Kept ? c.proofList() : [...c.proofs];
  const rels = c.rule.rels;
  for (let i = 0; i < rels.length; i++) {
    const r = rels[i]!;
    if (r.flow && !flowRelation(r, c.anchor, flow, proofs)) return null;
  }
  const counters = c.rule.counted ? countersHold(c.rule.rule, c.anchor, env.facts) : NO_COUNTERS;
  if (!counters.ok) return null;
  if (!c.rule.check) return { proofs, vars: counters.vars };
  const checked = runCheck(c.rule.check, { anchor: c.anchor, life: c.life, flow, proofs, env });
  if (!checked) return null;
  // vars are only read from here on: a check's own when no counter adds to them (most rules; a copy per candidate else)
  const vars = counters === NO_COUNTERS ? checked.vars : { ...counters.vars, ...checked.vars };
  return { proofs: checked.proofs?.length ? [...proofs, ...checked.proofs] : proofs, vars, netns: checked.netns, dev: checked.dev, group: checked.group };
}
