/**
 * The `why:` lines of `pktpath trace`, from the diagnosis engine. Same call as before the
 * engine existed: the events a run kept (its drops) and its netfilter steps in, one
 * explanation per distinct finding out. A caller that has every event should feed the
 * Diagnoser instead and use whyLines(report): more rules can then hold.
 */
import type { RawEvent } from '../engine/event.js';
import type { Names } from './normalize.js';
import { Diagnoser } from './engine.js';
import type { Facts, Finding as DiagFinding, Report } from './model.js';

export interface Finding {
  readonly reason: string;
  readonly count: number;
  readonly netns: number;
  readonly location: string;
  /** one example flow, e.g. "tcp 10.0.0.1:40000 -> 10.0.0.2:8080" */
  readonly example: string;
  readonly text: string;
  /** the diagnosis rule behind this line */
  readonly rule: string;
}

function sentence(s: string): string {
  return /[.?!]$/.test(s) ? s : `${s}.`;
}

/** One why: line: drops keep the historical "dropped REASON: flow in netns ..., in fn:" start. */
export function whyText(f: DiagFinding): string {
  const w = f.where;
  const ns = `netns ${w.netnsName ?? w.netns}${w.netnsName ? ` (${w.netns})` : ''}`;
  const decided = w.hook ? ` Decided in ${w.hook}${ruleOf(f)}.` : '';
  const next = ` Next: ${sentence(f.advice)}`;
  if (f.reason) {
    const times = f.count > 1 ? ` (${f.count} times)` : '';
    return `dropped ${f.reason}${times}: ${f.flow ?? 'a packet'} in ${ns}, in ${w.function ?? '?'}: [${f.rule}] ${sentence(f.what)}${decided}${next}`;
  }
  return `[${f.rule}] ${sentence(f.verdict)} ${sentence(f.what)}${next}`;
}

function ruleOf(f: DiagFinding): string {
  return f.where.rule ? ` by: ${f.where.rule}` : f.where.policy ? ' by the chain policy' : '';
}

export function whyLines(report: Report): Finding[] {
  return report.findings.map((f) => ({
    reason: f.reason ?? '',
    count: f.count,
    netns: f.where.netns,
    location: f.where.function ?? '?',
    example: f.flow ?? '',
    text: whyText(f),
    rule: f.rule,
  }));
}

/**
 * Explains a run's drops. `nfSteps` are --iptable events: a NETFILTER_DROP is then told
 * with the table, chain and rule that decided.
 */
export function explainDrops(events: Iterable<RawEvent>, r: Names, nfSteps: readonly RawEvent[] = [], facts: Facts = {}): Finding[] {
  const all = [...events, ...nfSteps].sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
  const d = new Diagnoser(r);
  for (const ev of all) d.push(ev);
  return whyLines(d.report(facts));
}
