/**
 * The parts of a report that are not findings: per flow, example packet paths, the
 * latency of each hop, and what tcpdump would have shown on each device; the verdict.
 */
import type { Finding, FlowReport, HopLatency, Report, TcpdumpView } from './model.js';
import { flowText } from './normalize.js';
import type { FlowState } from './state.js';
import type { NameOf } from './words.js';

function dirText(d: 0 | 1): string {
  return d === 0 ? 'a>b' : 'b>a';
}

function latencyOf(s: FlowState): HopLatency[] {
  return s.hopList()
    .filter((h) => h.count > 0)
    .map((h) => ({
      flowId: s.id.id,
      dir: dirText(h.dir),
      from: h.from,
      to: h.to,
      kind: h.kind,
      netns: h.netns,
      dev: h.dev,
      count: h.count,
      p50Ns: h.quantile(0.5),
      p90Ns: h.quantile(0.9),
      p99Ns: h.quantile(0.99),
      maxNs: h.max,
    }))
    .sort((x, y) => y.p50Ns - x.p50Ns);
}

function tcpdumpOf(s: FlowState, names: NameOf): TcpdumpView[] {
  return s.captureList().map((c) => {
    const name = names.netns(c.netns);
    const missed = c.missed0 + c.missed1;
    const seen = c.seen0 + c.seen1;
    const note = seen === 0
      ? `tcpdump -i ${c.dev} in netns ${name} would show nothing of this flow: ${missed} packet(s) reached the device layer there but were dropped or held before the capture point (tc egress, qdisc)`
      : `tcpdump -i ${c.dev} in netns ${name} would show ${c.seen0} packet(s) a>b and ${c.seen1} b>a${missed ? `, and not ${missed} that never got past the qdisc` : ''}`;
    return { flowId: s.id.id, netns: c.netns, ...(name !== String(c.netns) ? { netnsName: name } : {}), dev: c.dev, seen: [c.seen0, c.seen1] as const, missed: [c.missed0, c.missed1] as const, note };
  });
}

export function flowReport(s: FlowState, names: NameOf): FlowReport {
  const f = s.id;
  const ports = f.proto === 'tcp' || f.proto === 'udp';
  const ep = (e: { addr: string; port: number }): string => (ports ? (f.family === 6 ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`) : e.addr);
  return {
    id: f.id,
    proto: f.proto,
    a: ep(f.a),
    b: ep(f.b),
    events: s.events,
    packets: s.packets,
    paths: s.paths(),
    latency: latencyOf(s),
    tcpdump: tcpdumpOf(s, names),
  };
}

export function verdictOf(findings: readonly Finding[], events: number, flows: number): Report['verdict'] {
  const lead = findings.find((f) => f.level !== 'benign' && f.level !== 'info') ?? null;
  if (lead) {
    const more = findings.filter((f) => f !== lead && f.level !== 'benign').length;
    return { level: lead.level, text: `${lead.verdict}${more ? ` (and ${more} more finding${more > 1 ? 's' : ''})` : ''}`, finding: lead.n };
  }
  if (events === 0) return { level: 'ok', text: 'no packet matched: nothing to diagnose', finding: null };
  const info = findings[0];
  const what = `no drop, reset or delay found in ${events} events of ${flows} flow${flows === 1 ? '' : 's'}`;
  return { level: 'ok', text: info ? `${what}; ${findings.length} note${findings.length > 1 ? 's' : ''} below` : what, finding: info ? info.n : null };
}

export { flowText };
