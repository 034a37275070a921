/**
 * The report page: one self-contained HTML file (inline CSS, SVG and script; it loads
 * nothing, so it opens offline and from a file). From the top: the verdict and findings,
 * what the page left out of a long run, a path diagram per flow, the timeline of all
 * drawn packets, the per-stage latency histogram, and the raw events behind every box,
 * arrow and mark (the same objects as `trace --json` lines).
 */
import { durationText } from '../diagnose/latency.js';
import type { FlowReport } from '../diagnose/model.js';
import { clientScript } from './client.js';
import { diagramSvg, markerDefs } from './diagram-svg.js';
import type { ReportDoc } from './document.js';
import { findingsHtml } from './findings-html.js';
import { GEOMETRY } from './layout.js';
import type { Diagram } from './model.js';
import { REPORT_CSS } from './style.js';
import { el, esc, scriptJson } from './svg.js';
import { histogramSvg, ticks, timelineSvg } from './timeline-svg.js';

function boundsNote(doc: ReportDoc): string {
  const parts: string[] = [];
  if (doc.total > doc.maxEvents) {
    parts.push(`This run had ${doc.total} events: the diagrams, the timeline and the raw events show the first ${doc.maxEvents}${doc.notable ? ` and ${doc.notable} later drops, ICMP errors sent and resets` : ''}; the findings and the latency histogram count all ${doc.total}.`);
  }
  if (doc.hiddenFlows) parts.push(`${doc.hiddenFlows} more flows are not drawn (flows with findings come first, then the busiest).`);
  if (doc.unreadable) parts.push(`${doc.unreadable} lines could not be read as events.`);
  return parts.length ? el('p', { class: 'note', id: 'bounds' }, esc(parts.join(' '))) : '';
}

const LEGEND = [
  ['#52606d', 'a>b'],
  ['#1565c0', 'b>a (back)'],
  ['#e65100', 'ICMP error or reset, and what made it (dashed)'],
  ['#c62828', 'into a drop'],
]
  .map(([c, t]) => `<span><i style="border-color:${c}"></i>${esc(t!)}</span>`)
  .join('');

function flowSection(d: Diagram, doc: ReportDoc, rf: FlowReport | undefined): string {
  const flow = doc.flows.find((f) => f.id === d.flow)!;
  const meta = `${flow.packets.length} packets, ${flow.events} events${d.hiddenPackets ? `; ${d.hiddenPackets} packets not drawn (drops, errors and resends first, then the earliest)` : ''}`;
  const tcpdump = (rf?.tcpdump ?? []).map((t) => el('p', { class: 'tcpdump' }, esc(`tcpdump: ${t.note}`))).join('');
  const slow = (rf?.latency ?? [])
    .filter((h) => h.p50Ns >= 1e6)
    .slice(0, 3)
    .map((h) => el('p', { class: 'tcpdump' }, esc(`latency ${h.dir} ${h.from} > ${h.to} on ${h.dev || '-'} [${h.kind}]: p50 ${durationText(h.p50Ns)}, p99 ${durationText(h.p99Ns)}, max ${durationText(h.maxNs)} over ${h.count}`)))
    .join('');
  return el(
    'section',
    { class: 'flow', id: `flow-${d.flow}` },
    el('h3', {}, esc(d.title)) + el('p', { class: 'meta' }, esc(meta)) + el('div', { class: 'scroll' }, diagramSvg(d, GEOMETRY.boxH)) + slow + tcpdump,
  );
}

function timelineSection(doc: ReportDoc): string {
  const tl = doc.timeline;
  if (!tl.packets.length && !tl.loose.length) return el('section', { id: 'timeline-section' }, el('h2', {}, 'Timeline') + el('p', {}, 'no timed event'));
  const controls = el(
    'div',
    { class: 'controls' },
    el('button', { id: 'tl-in', type: 'button', title: 'zoom in' }, '+') +
      el('button', { id: 'tl-out', type: 'button', title: 'zoom out' }, '\u2212') +
      el('button', { id: 'tl-reset', type: 'button' }, 'reset') +
      el('span', { id: 'tl-range' }, esc(`showing all ${durationText(tl.span)}`)) +
      el('span', {}, 'wheel: zoom, drag: pan, double-click: reset; click a mark for its event'),
  );
  return el('section', { id: 'timeline-section' }, el('h2', {}, `Timeline (${tl.packets.length} packets)`) + controls + el('div', { class: 'scroll' }, timelineSvg(tl)));
}

function latencySection(doc: ReportDoc): string {
  const body = doc.latency.length ? el('div', { class: 'scroll' }, histogramSvg(doc.latency)) : el('p', {}, 'no packet was seen at two stages');
  const what = 'Time a packet spent in each stage: from its event there to its next event (all events of the run, bins of 1-2-5 steps).';
  return el('section', { id: 'latency' }, el('h2', {}, 'Latency per stage') + el('p', { class: 'meta' }, what) + body);
}

/** The events the page shows when clicked, keyed by line number. */
function eventsJson(doc: ReportDoc): string {
  const map: Record<number, unknown> = {};
  for (const e of doc.events) map[e.n] = e.j;
  return scriptJson(map);
}

function script(): string {
  return clientScript([durationText, ticks]);
}

/** The whole page. */
export function renderHtml(doc: ReportDoc): string {
  const byId = new Map((doc.report?.flows ?? []).map((f) => [f.id, f]));
  const reportFlowOf = new Map([...doc.flowOfReport].map(([r, d]) => [d, r]));
  const anchor = (rf: number | null): string | null => {
    const id = rf === null ? undefined : doc.flowOfReport.get(rf);
    return id !== undefined && doc.diagrams.some((d) => d.flow === id) ? `#flow-${id}` : null;
  };
  const title = `pktpath report: ${doc.report?.verdict.text ?? doc.meta.source}`;
  const head = `<meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"><title>${esc(title)}</title><style>${REPORT_CSS}</style>`;
  const header = el('header', {}, el('h1', {}, 'pktpath report') + el('p', {}, esc(`${doc.meta.source} \u00b7 ${doc.total} events \u00b7 ${doc.flows.length} flows \u00b7 made ${doc.meta.made}`)));
  const flows = doc.diagrams.length
    ? el('p', { class: 'legend' }, LEGEND) + doc.diagrams.map((d) => flowSection(d, doc, byId.get(reportFlowOf.get(d.flow) ?? -1))).join('')
    : el('p', {}, 'no packet of a flow was traced');
  const raw = `<aside id="raw" hidden><div class="raw-head"><span id="raw-title">Raw events</span><button id="raw-close" type="button">close</button></div><pre id="raw-body"></pre></aside>`;
  const body =
    header +
    markerDefs() +
    findingsHtml(doc.report, anchor) +
    boundsNote(doc) +
    el('section', { id: 'paths' }, el('h2', {}, 'Paths') + flows) +
    timelineSection(doc) +
    latencySection(doc) +
    raw +
    `<script type="application/json" id="pp-events">${eventsJson(doc)}</script>` +
    `<script>${script()}</script>`;
  return `<!doctype html>\n<html lang="en"><head>${head}</head><body>${body}</body></html>\n`;
}
