/**
 * A flow's diagram as SVG: lanes with their namespace's name, a packet label per row,
 * boxes (red for a drop, with its reason and rule), arrows labelled with the time
 * between stages. Every box and arrow carries `data-ev`, the line numbers of its raw
 * events, which the page shows on a click.
 */
import { durationText } from '../diagnose/latency.js';
import type { Diagram, Edge, Lane, PlacedBox, Row } from './model.js';
import { el, esc, px, trunc } from './svg.js';

/** Chars that fit on one line of a box (10.5 px sans in a 150 px box); the bold title takes fewer. */
const BOX_CHARS = 22;
/** A box that held its packet this long says so (and is drawn as slow from 10 ms). */
const DWELL_SHOWN_NS = 1e6;
const SLOW_NS = 1e7;

/** Arrowhead markers, one per edge kind; defined once per page (ids are page-wide). */
export function markerDefs(): string {
  const kinds = ['a', 'back', 'error', 'drop', 'cause'];
  const m = kinds
    .map((k) => `<marker id="arr-${k}" class="mk-${k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>`)
    .join('');
  return `<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>${m}</defs></svg>`;
}

function laneSvg(l: Lane, height: number): string {
  return (
    el('rect', { class: 'lane', x: px(l.x), y: 0, width: px(l.w), height: px(height), rx: 8 }) +
    el('text', { class: 'lane-title', x: px(l.x + l.w / 2), y: 18, 'text-anchor': 'middle' }, esc(trunc(l.name, Math.floor(l.w / 7)))) +
    el('text', { class: 'lane-sub', x: px(l.x + l.w / 2), y: 32, 'text-anchor': 'middle' }, esc(`netns ${l.netns}`))
  );
}

function rowSvg(r: Row, boxH: number): string {
  const cls = ['row-label', r.back ? 'back' : 'fwd', r.errorKind ? `err-${r.errorKind}` : '', r.retransmit ? 'resent' : ''].filter(Boolean).join(' ');
  return el('text', { class: cls, x: 8, y: px(r.y + 14 + boxH / 2 - 4) }, esc(trunc(r.label, 26))) + el('text', { class: 'row-end', x: 8, y: px(r.y + 14 + boxH / 2 + 10) }, esc(trunc(r.end, 28)));
}

function boxLines(b: PlacedBox): string[] {
  const lines = [...b.lines];
  if (b.dwellNs >= DWELL_SHOWN_NS && !lines.some((l) => l.startsWith('waited'))) lines.unshift(`held ${durationText(b.dwellNs)}`);
  return lines.slice(0, 3);
}

function boxSvg(b: PlacedBox): string {
  const slow = b.dwellNs >= SLOW_NS && b.tone === 'plain';
  const cls = `box k-${b.kind} t-${slow ? 'slow' : b.tone}`;
  const tip = [b.label, ...b.lines, b.dwellNs ? `held ${durationText(b.dwellNs)}` : '', `events #${b.events.join(' #')}`].filter(Boolean).join('\n');
  const text = boxLines(b)
    .map((l, i) => el('text', { class: 'bt', x: px(b.x + 7), y: px(b.y + 31 + i * 12) }, esc(trunc(l, BOX_CHARS))))
    .join('');
  const badges = b.findings
    .slice(0, 3)
    .map((n, i) => {
      const cx = b.x + b.w - 9 - i * 17;
      return `<g class="badge">${el('circle', { cx: px(cx), cy: px(b.y), r: 8 })}${el('text', { x: px(cx), y: px(b.y + 3.5), 'text-anchor': 'middle' }, String(n))}</g>`;
    })
    .join('');
  return el(
    'g',
    { class: cls, id: b.id, 'data-ev': b.events.join(','), 'data-kind': b.kind, tabindex: 0, role: 'button', 'aria-label': `${b.label}: show raw events` },
    `<title>${esc(tip)}</title>` +
      el('rect', { x: px(b.x), y: px(b.y), width: b.w, height: b.h, rx: 6 }) +
      el('text', { class: 'bl', x: px(b.x + 7), y: px(b.y + 16) }, esc(trunc(b.label, BOX_CHARS - 4))) +
      text +
      badges,
  );
}

function edgeSvg(e: Edge): string {
  const tip = `${e.label || 'time unknown (a netfilter step from nft trace has no kernel time)'}\nevents #${e.events.join(' #')}`;
  return el(
    'g',
    { class: `edge e-${e.kind}`, 'data-ev': e.events.join(','), 'data-from': e.from, 'data-to': e.to, tabindex: 0, role: 'button', 'aria-label': `${e.label || 'edge'}: show raw events` },
    `<title>${esc(tip)}</title>` +
      el('path', { class: 'hit', d: e.d }) +
      el('path', { class: 'line', d: e.d, 'marker-end': `url(#arr-${e.kind})` }) +
      (e.label ? el('text', { class: 'el', x: px(e.lx), y: px(e.ly), 'text-anchor': 'middle' }, esc(e.label)) : ''),
  );
}

/** The diagram's SVG element. */
export function diagramSvg(d: Diagram, boxH: number): string {
  const inner =
    d.lanes.map((l) => laneSvg(l, d.height)).join('') +
    d.rows.map((r) => rowSvg(r, boxH)).join('') +
    d.edges.map(edgeSvg).join('') +
    d.boxes.map(boxSvg).join('');
  return el('svg', { class: 'diagram', width: px(d.width), height: px(d.height), viewBox: `0 0 ${px(d.width)} ${px(d.height)}`, 'data-flow': d.flow, role: 'img', 'aria-label': d.title }, inner);
}
