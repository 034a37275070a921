/** The text form of an analysis report: capture, verdict, numbered findings, a flow table. */
import type { AnalysisReport, FlowSummary } from './report.js';

/** Flows shown in the text table (all are in --json, up to its own bound). */
const TEXT_FLOWS = 40;

function captureLines(r: AnalysisReport): string[] {
  const c = r.capture;
  const ifs = c.interfaces.map((i) => `${i.name ?? `#${i.id}`}: ${i.linkTypeName}${i.description ? ` (${i.description})` : ''}, ${i.packets} packets`);
  const d = r.decoded;
  const skipped = Object.entries(d.unsupported).map(([lt, n]) => `${n} of link type ${lt} not decoded`);
  const notes = [d.nonIp ? `${d.nonIp} not IP` : '', d.short ? `${d.short} too short to decode` : '', d.fragments ? `${d.fragments} non-first fragments` : '', d.cut ? `${d.cut} cut by the snaplen` : '', ...skipped].filter(Boolean);
  return [
    `capture: ${c.file}: ${c.format} ${c.version}, ${c.byteOrder}, ${c.resolution} timestamps, ${c.packets} packets, ${c.durationS} s${c.first ? ` from ${c.first}` : ''}`,
    ...(ifs.length ? [`interfaces: ${ifs.join('; ')}`] : []),
    `decoded: ${d.ip} IP (${d.tcp} TCP, ${d.udp} UDP, ${d.icmp} ICMP, ${d.other} other)${notes.length ? `; ${notes.join(', ')}` : ''}`,
  ];
}

function findingLines(r: AnalysisReport): string[] {
  if (!r.findings.length) return [];
  const out = ['', 'findings:'];
  for (const f of r.findings) {
    const where = [f.flowId !== null ? `flow ${f.flowId}` : '', f.packets.length ? `packets ${f.packets.slice(0, 6).map((n) => `#${n}`).join(', ')}${f.packets.length > 6 ? ', ...' : ''}` : '', f.count > 1 ? `${f.count} times` : '']
      .filter(Boolean)
      .join('; ');
    out.push(`${String(f.n).padStart(2)}. [${f.level}] ${f.id}: ${f.title}${where ? ` (${where})` : ''}`);
    out.push(`    ${f.what}`);
    out.push(`    advice: ${f.advice}`);
  }
  return out;
}

function rttText(f: FlowSummary): string {
  const r = f.rttMs;
  if (!r) return '-';
  if (r.handshake !== null) return `${r.handshake}ms`;
  const d = r.data[0] ?? r.data[1];
  return d ? `~${d.minMs}ms` : '-';
}

function flowRow(f: FlowSummary): string {
  const cols = [
    String(f.id).padStart(4),
    f.proto.padEnd(5),
    `${f.a} -> ${f.b}`.padEnd(48),
    `${f.packets[0]}/${f.packets[1]}`.padEnd(13),
    `${f.bytes[0]}/${f.bytes[1]}`.padEnd(17),
    (f.handshake ?? '-').padEnd(14),
    rttText(f).padEnd(10),
    `${f.retransmissions[0]}/${f.retransmissions[1]}`.padEnd(7),
    (f.end ?? '-').padEnd(11),
    f.findings.join(',') || '-',
  ];
  return cols.join(' ');
}

function flowLines(r: AnalysisReport): string[] {
  const fl = r.flows;
  if (!fl.total) return [];
  const extra = [fl.evicted ? `${fl.evicted} judged early to bound memory` : '', fl.notListed ? `${fl.notListed} not listed` : ''].filter(Boolean);
  const head = ['  id', 'proto', 'a -> b'.padEnd(48), 'pkts a>b/b>a', 'bytes a>b/b>a'.padEnd(17), 'handshake'.padEnd(14), 'rtt'.padEnd(10), 'retrans', 'end'.padEnd(11), 'findings'];
  const shown = [...fl.list].sort((a, b) => b.findings.length - a.findings.length || a.id - b.id).slice(0, TEXT_FLOWS).sort((a, b) => a.id - b.id);
  const more = fl.list.length - shown.length;
  return ['', `flows: ${fl.total}${extra.length ? ` (${extra.join(', ')})` : ''}`, head.join(' '), ...shown.map(flowRow), ...(more > 0 ? [`  ... ${more} more flows in --json`] : [])];
}

export function renderReport(r: AnalysisReport): string {
  const v = r.verdict;
  return [...captureLines(r), `verdict: ${v.level === 'ok' ? 'ok' : v.level.toUpperCase()}: ${v.text}`, ...findingLines(r), ...flowLines(r)].join('\n');
}
