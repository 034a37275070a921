/**
 * The report as text: the verdict, numbered findings, a compact path per flow, the
 * latency of the slowest hops, and what tcpdump would have shown.
 */
import type { Finding, FlowReport, PacketPath, Report, TrackedFacts } from './model.js';
import { durationText } from './latency.js';

export interface RenderOptions {
  /** netns inode -> name, for paths */
  readonly netns: (inode: number) => string;
  /** paths per flow (default 2) */
  readonly paths?: number;
}

function findingLines(f: Finding): string[] {
  const w = f.where;
  const where = [
    `netns ${w.netnsName ? `${w.netnsName} (${w.netns})` : w.netns}`,
    w.dev ? `device ${w.dev}` : '',
    w.hook ? `hook ${w.hook}` : '',
    w.function ? `function ${w.function}` : '',
  ].filter(Boolean);
  const lines = [
    `${String(f.n).padStart(2)}. [${f.level}] ${f.rule}: ${f.title}${f.count > 1 && !f.rule.startsWith('latency.') ? ` (${f.count} times)` : ''}`,
    `    what: ${f.what}`,
    `    where: ${where.join(', ')}`,
    `    evidence: ${f.evidence.map((e) => `#${e.n}${e.count > 1 ? ` (x${e.count})` : ''} ${e.text}`).join('; ')}`,
    `    advice: ${f.advice}`,
  ];
  if (f.explains.length) lines.push(`    explains: ${f.explains.join(', ')}`);
  return lines;
}

function pathLine(p: PacketPath, o: RenderOptions): string {
  let prevNs = -1;
  let prevDev = '';
  const stages = p.stages.map((s, i) => {
    const place = s.netns !== prevNs || s.dev !== prevDev ? ` ${s.dev || '-'}@${o.netns(s.netns)}` : '';
    prevNs = s.netns;
    prevDev = s.dev;
    return `${i ? `+${durationText(s.dtNs)} ` : ''}#${s.n} ${s.probe}${place}`;
  });
  return `  ${p.dir} ${p.summary}: ${stages.join(' > ')}; ${p.end} (${durationText(p.totalNs)} in all)`;
}

function flowLines(fl: FlowReport, o: RenderOptions): string[] {
  const lines = [`flow ${fl.id}: ${fl.proto} a=${fl.a} b=${fl.b}, ${fl.packets} packets, ${fl.events} events`];
  for (const p of fl.paths.slice(0, o.paths ?? 2)) lines.push(pathLine(p, o));
  for (const h of fl.latency.slice(0, 3)) {
    if (h.p50Ns < 1000 && h.kind !== 'qdisc') continue;
    lines.push(`  latency ${h.dir} ${h.from} > ${h.to} on ${h.dev || '-'}@${o.netns(h.netns)} [${h.kind}]: p50 ${durationText(h.p50Ns)}, p90 ${durationText(h.p90Ns)}, p99 ${durationText(h.p99Ns)}, max ${durationText(h.maxNs)} over ${h.count}`);
  }
  for (const t of fl.tcpdump) lines.push(`  tcpdump: ${t.note}`);
  return lines;
}

export function renderReport(r: Report, o: RenderOptions): string {
  const lines = [`verdict: ${r.verdict.text}`];
  if (r.findings.length) {
    lines.push('', 'findings:');
    for (const f of r.findings) lines.push(...findingLines(f));
  }
  if (r.flows.length) {
    lines.push('', 'paths:');
    for (const fl of r.flows.slice(0, 8)) lines.push(...flowLines(fl, o));
    if (r.flows.length > 8) lines.push(`  ... ${r.flows.length - 8} more flows (--json has them all)`);
  }
  const i = r.inputs;
  lines.push('', `read ${i.events} events, ${i.lost} lost, ${i.flows} flows${i.flowsEvicted ? ` (${i.flowsEvicted} judged early to bound memory)` : ''}${i.missing.length ? `; rules that could say more with: ${i.missing.join(', ')}` : ''}`);
  if (i.tracked) lines.push(trackedLine(i.tracked));
  return lines.join('\n');
}

/** "process-tree capture: 2 flows, 1 sockets, 0 child processes" */
export function trackedLine(t: TrackedFacts): string {
  return `process-tree capture: ${t.flows} flows, ${t.sockets} sockets, ${t.children} child processes${t.untracked ? `, ${t.untracked} not tracked (table full)` : ''}`;
}
