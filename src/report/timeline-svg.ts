/**
 * The timeline and the per-stage latency histogram as SVG. The timeline's plot is one
 * group the page's script scales along x to zoom (lines keep their width: non-scaling
 * strokes); its axis is redrawn by the script, and drawn here for the first view.
 */
import { durationText } from '../diagnose/latency.js';
import { BIN_EDGES, binLabel } from './histogram.js';
import type { StageRow } from './histogram.js';
import type { Timeline, TimelinePoint } from './timeline.js';
import { el, esc, flowColour, px } from './svg.js';

export const TIMELINE = { left: 230, width: 1000, rowH: 16, top: 26 } as const;

/** Ticks for [v0, v0 + span] ns: about `n` round values. */
export function ticks(v0: number, span: number, n = 8): number[] {
  if (span <= 0) return [v0];
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let t = Math.ceil(v0 / step) * step; t <= v0 + span; t += step) out.push(t);
  return out;
}

function axisSvg(span: number, height: number): string {
  const T = TIMELINE;
  return ticks(0, span)
    .map((t) => {
      const x = T.left + (span ? (t / span) * T.width : 0);
      return el('line', { class: 'tick', x1: px(x), x2: px(x), y1: T.top - 4, y2: height }) + el('text', { class: 'tick-label', x: px(x), y: T.top - 8, 'text-anchor': 'middle' }, esc(durationText(t)));
    })
    .join('');
}

function xOf(t: number, span: number): number {
  return TIMELINE.left + (span ? (t / span) * TIMELINE.width : TIMELINE.width / 2);
}

function yOf(row: number): number {
  return TIMELINE.top + row * TIMELINE.rowH + TIMELINE.rowH / 2;
}

function pointSvg(p: TimelinePoint, span: number, colour: string, title: string): string {
  const x = px(xOf(p.t, span));
  const wait = p.waitNs ? el('line', { class: 'wait', x1: px(xOf(Math.max(0, p.t - p.waitNs), span)), x2: x, y1: px(yOf(p.row)), y2: px(yOf(p.row)), 'data-ev': p.n }, `<title>${esc(`#${p.n} ${title}: waited ${durationText(p.waitNs)} in the qdisc`)}</title>`) : '';
  const h = p.drop ? 7 : 5;
  return wait + el('line', { class: p.drop ? 'pt drop' : 'pt', x1: x, x2: x, y1: px(yOf(p.row) - h), y2: px(yOf(p.row) + h), stroke: p.drop ? undefined : colour, 'data-ev': p.n }, `<title>${esc(`#${p.n} ${title} at +${durationText(p.t)}`)}</title>`);
}

/** The timeline SVG (with the ids the page's zoom uses). */
export function timelineSvg(tl: Timeline): string {
  const T = TIMELINE;
  const height = T.top + tl.rows.length * T.rowH + 8;
  const width = T.left + T.width + 20;
  const rows = tl.rows
    .map((r, i) => el('rect', { class: i % 2 ? 'tl-row odd' : 'tl-row', x: T.left, y: T.top + i * T.rowH, width: T.width, height: T.rowH }) + el('text', { class: 'tl-label', x: T.left - 6, y: px(yOf(i) + 4), 'text-anchor': 'end' }, esc(r.label)))
    .join('');
  const lines = tl.packets
    .map((p) => {
      const c = flowColour(p.flow);
      const pts = p.points.map((q) => `${px(xOf(q.t, tl.span))},${px(yOf(q.row))}`).join(' ');
      const poly = p.points.length > 1 ? el('polyline', { class: 'pk', points: pts, stroke: c }, `<title>${esc(p.label)}</title>`) : '';
      return poly + p.points.map((q) => pointSvg(q, tl.span, c, p.label)).join('');
    })
    .join('');
  const loose = tl.loose.map((q) => pointSvg(q, tl.span, '#888', 'event without a flow')).join('');
  return el(
    'svg',
    { id: 'timeline', class: 'timeline', width, height, viewBox: `0 0 ${width} ${height}`, 'data-span': tl.span, 'data-left': T.left, 'data-width': T.width, 'data-top': T.top },
    `<defs><clipPath id="tl-clip"><rect x="${T.left}" y="0" width="${T.width}" height="${height}"/></clipPath></defs>` +
      rows +
      el('g', { id: 'tl-axis' }, axisSvg(tl.span, height)) +
      el('g', { 'clip-path': 'url(#tl-clip)' }, el('g', { id: 'tl-plot' }, lines + loose)),
  );
}

/** The per-stage latency histogram: one row of bars per stage, bins of 1-2-5 steps. */
export function histogramSvg(rows: readonly StageRow[]): string {
  const left = 420;
  const binW = 30;
  const rowH = 44;
  const bins = BIN_EDGES.length + 1;
  const width = left + bins * binW + 10;
  const height = 20 + rows.length * rowH + 40;
  const body = rows
    .map((r, i) => {
      const y0 = 20 + i * rowH;
      const max = Math.max(1, ...r.bins);
      const label = `${r.stage} (${r.count}): p50 ${binLabel(r.p50Bin)}, p99 ${binLabel(r.p99Bin)}, max ${durationText(r.maxNs)}`;
      const bars = r.bins
        .map((c, b) => {
          if (!c) return '';
          const h = Math.max(2, (c / max) * (rowH - 10));
          return el('rect', { class: 'bar', x: left + b * binW + 2, y: px(y0 + rowH - 6 - h), width: binW - 4, height: px(h) }, `<title>${esc(`${r.stage} ${binLabel(b)}: ${c}`)}</title>`);
        })
        .join('');
      return el('g', { class: 'hist-row', 'data-stage': r.stage }, el('text', { class: 'hist-label', x: left - 8, y: y0 + rowH / 2 + 4, 'text-anchor': 'end' }, esc(label)) + el('line', { class: 'base', x1: left, x2: left + bins * binW, y1: y0 + rowH - 6, y2: y0 + rowH - 6 }) + bars);
    })
    .join('');
  const axisY = 20 + rows.length * rowH + 14;
  const axis = BIN_EDGES.map((e, b) => (b % 3 === 0 ? el('text', { class: 'tick-label', x: left + (b + 1) * binW, y: axisY, 'text-anchor': 'middle' }, esc(durationText(e))) : '')).join('');
  return el('svg', { class: 'histogram', width, height, viewBox: `0 0 ${width} ${height}` }, body + axis);
}
