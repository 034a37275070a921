/**
 * A flow's path diagram: one lane (column) per network namespace, in the order the
 * flow's first packets cross them; one row per packet, in time order, so a resent SYN or
 * a redirected packet shows as a row like the one above it; in each row the packet's
 * boxes, left to right for a>b and right to left for b>a (an ICMP error or a reset goes
 * back). Arrows join consecutive boxes and carry the time between them; a dashed arrow
 * joins an icmp_send or tcp_send_reset to the packet it made.
 */
import { durationText } from '../diagnose/latency.js';
import type { Box, Diagram, Edge, Flow, Lane, Packet, PlacedBox, Row } from './model.js';
import { boxesOf } from './boxes.js';
import type { Citations } from './boxes.js';

export const GEOMETRY = {
  boxW: 150,
  boxH: 62,
  gap: 58,
  lanePad: 14,
  laneGap: 18,
  laneHeader: 40,
  rowH: 92,
  rowLabelW: 190,
  minLaneW: 170,
} as const;

export interface LayoutLimits {
  /** packets drawn per flow; the others are counted (drops, errors and resends first) */
  readonly rows: number;
  /** boxes per packet in one lane; the middle ones fold into one box */
  readonly cell: number;
}

export const DEFAULT_LIMITS: LayoutLimits = { rows: 40, cell: 8 };

/** Namespaces in the order the flow crosses them: a>b packets first, then the rest. */
function laneOrder(flow: Flow): number[] {
  const order: number[] = [];
  const visit = (p: Packet): void => {
    for (const s of p.steps) if (!order.includes(s.netns)) order.push(s.netns);
  };
  flow.packets.filter((p) => !p.back).forEach(visit);
  flow.packets.filter((p) => p.back).forEach(visit);
  // a b>a packet seen first (a reply whose request was not traced) still reads left to right from a
  return order;
}

/** A packet that waited this long in a qdisc is drawn before the others (the delay case). */
const SLOW_WAIT_NS = 1e6;

function interesting(p: Packet): boolean {
  return p.errorKind !== null || p.retransmit || p.steps.some((s) => s.kind === 'drop' || s.kind === 'icmp' || s.j.probe === 'tcp_send_reset' || (s.waitNs ?? 0) >= SLOW_WAIT_NS);
}

/** The packets drawn: all when they fit, else the interesting ones first, then the earliest. */
export function pickRows(packets: readonly Packet[], max: number): Packet[] {
  if (packets.length <= max) return [...packets];
  const keep = new Set(packets.filter(interesting).slice(0, max));
  for (const p of packets) {
    if (keep.size >= max) break;
    keep.add(p);
  }
  return packets.filter((p) => keep.has(p));
}

/** Folds the middle of a long run of boxes in one lane into one box (its events stay clickable). */
function fold(boxes: Box[], max: number): Box[] {
  if (boxes.length <= max) return boxes;
  const head = boxes.slice(0, max - 2);
  const mid = boxes.slice(max - 2, boxes.length - 1);
  const tail = boxes[boxes.length - 1]!;
  const m0 = mid[0]!;
  const firsts = mid.map((b) => b.first).filter((x): x is number => x !== null);
  const lasts = mid.map((b) => b.last).filter((x): x is number => x !== null);
  const folded: Box = {
    id: `${m0.id}x`,
    kind: 'other',
    netns: m0.netns,
    dev: m0.dev,
    label: `${mid.length} more stages`,
    lines: [...new Set(mid.map((b) => b.label))].slice(0, 2),
    events: mid.flatMap((b) => b.events),
    tone: mid.some((b) => b.tone === 'drop') ? 'drop' : 'plain',
    dwellNs: 0,
    findings: [...new Set(mid.flatMap((b) => b.findings))],
    first: firsts.length ? Math.min(...firsts) : null,
    last: lasts.length ? Math.max(...lasts) : null,
  };
  return [...head, folded, tail];
}

/** Per packet: its boxes, grouped into runs per lane (a lane visited twice gets one run). */
function cellsOf(p: Packet, flow: number, cites: Citations, lanes: readonly number[], max: number): Box[][] {
  const cells: Box[][] = lanes.map(() => []);
  for (const b of boxesOf(p, flow, cites)) cells[lanes.indexOf(b.netns)]!.push(b);
  return cells.map((c) => fold(c, max));
}

function laneName(flow: Flow, netns: number): string {
  for (const p of flow.packets) for (const s of p.steps) if (s.netns === netns && s.j.netns_name) return s.j.netns_name;
  return netns === 0 ? 'unknown namespace' : `netns ${netns}`;
}

function rowOf(p: Packet, y: number, boxes: readonly Box[]): Row {
  const last = boxes[boxes.length - 1];
  const end = last?.kind === 'drop' ? `dropped ${last.drop?.reason ?? ''}` : last?.kind === 'free' ? 'consumed' : 'not seen further';
  const way = p.back ? 'b>a' : 'a>b';
  const label = `#${p.id} ${way} ${p.summary}${p.retransmit ? ' (resent)' : ''}`;
  return { packet: p.id, y, label, back: p.back, errorKind: p.errorKind, retransmit: p.retransmit, end };
}

/** Lays out one flow. */
export function layoutFlow(flow: Flow, cites: Citations, limits: LayoutLimits = DEFAULT_LIMITS): Diagram {
  const G = GEOMETRY;
  const order = laneOrder(flow);
  const shown = pickRows(flow.packets, limits.rows);
  const cells = shown.map((p) => cellsOf(p, flow.id, cites, order, limits.cell));
  let x = G.rowLabelW;
  const lanes: Lane[] = order.map((netns, i) => {
    const n = Math.max(1, ...cells.map((c) => c[i]!.length));
    const w = Math.max(G.minLaneW, n * (G.boxW + G.gap) - G.gap + 2 * G.lanePad);
    const lane = { netns, name: laneName(flow, netns), x, w };
    x += w + G.laneGap;
    return lane;
  });
  const rows: Row[] = [];
  const boxes: PlacedBox[] = [];
  const edges: Edge[] = [];
  shown.forEach((p, r) => {
    const y = G.laneHeader + r * G.rowH;
    const placed = placeRow(p, r, y, cells[r]!, lanes);
    boxes.push(...placed);
    rows.push(rowOf(p, y, pathOrder(placed)));
    edges.push(...rowEdges(p, pathOrder(placed)));
  });
  edges.push(...causeEdges(flow, shown, boxes));
  const title = `flow ${flow.id}: ${flow.proto} ${flow.a} \u21c4 ${flow.b}`;
  return { flow: flow.id, title, lanes, rows, boxes, edges, width: x - G.laneGap + 10, height: G.laneHeader + shown.length * G.rowH + 10, hiddenPackets: flow.packets.length - shown.length };
}

function placeRow(p: Packet, r: number, y: number, cells: readonly Box[][], lanes: readonly Lane[]): PlacedBox[] {
  const G = GEOMETRY;
  const out: PlacedBox[] = [];
  cells.forEach((cell, li) => {
    const lane = lanes[li]!;
    cell.forEach((b, k) => {
      const bx = p.back ? lane.x + lane.w - G.lanePad - G.boxW - k * (G.boxW + G.gap) : lane.x + G.lanePad + k * (G.boxW + G.gap);
      out.push({ ...b, lane: li, row: r, x: bx, y: y + 14, w: G.boxW, h: G.boxH });
    });
  });
  return out;
}

/** The boxes of a row in the packet's own order (their ids carry it). */
function pathOrder(boxes: readonly PlacedBox[]): PlacedBox[] {
  const idx = (b: PlacedBox): number => Number(/b(\d+)x?$/.exec(b.id)?.[1] ?? 0);
  return [...boxes].sort((a, b) => idx(a) - idx(b));
}

/** The latest time of the boxes before `i` that is not after box i's first event (a veth's rx comes before its sender's xmit completes). */
function enteredAfter(boxes: readonly PlacedBox[], i: number): number | null {
  const t = boxes[i]!.first;
  if (t === null) return null;
  let best: number | null = null;
  for (let k = 0; k < i; k++) {
    for (const v of [boxes[k]!.first, boxes[k]!.last]) if (v !== null && v <= t && (best === null || v > best)) best = v;
  }
  return best === null ? null : t - best;
}

function rowEdges(p: Packet, boxes: readonly PlacedBox[]): Edge[] {
  const out: Edge[] = [];
  for (let i = 1; i < boxes.length; i++) {
    const a = boxes[i - 1]!;
    const b = boxes[i]!;
    const dt = enteredAfter(boxes, i);
    const kind = b.kind === 'drop' ? 'drop' : p.errorKind ? 'error' : p.back ? 'back' : 'a';
    out.push({ from: a.id, to: b.id, dtNs: dt, label: dt === null ? '' : durationText(dt), kind, events: [a.events[a.events.length - 1]!, b.events[0]!], ...straight(a, b) });
  }
  return out;
}

function straight(a: PlacedBox, b: PlacedBox): { d: string; lx: number; ly: number } {
  const cy = a.y + a.h / 2;
  const forward = b.x >= a.x;
  const x1 = forward ? a.x + a.w : a.x;
  const x2 = forward ? b.x : b.x + b.w;
  const y2 = b.y + b.h / 2;
  return { d: `M${x1},${cy} L${x2},${y2}`, lx: (x1 + x2) / 2, ly: Math.min(cy, y2) - 6 };
}

/** icmp_send / tcp_send_reset -> the first box of the ICMP error or reset it made (the nearest after it, same namespace). */
function causeEdges(flow: Flow, shown: readonly Packet[], boxes: readonly PlacedBox[]): Edge[] {
  const out: Edge[] = [];
  for (const c of boxes.filter((b) => b.kind === 'icmp' || (b.kind === 'socket' && b.label === 'send reset'))) {
    const want = c.kind === 'icmp' ? 'icmp' : 'rst';
    const effect = shown
      .filter((p) => p.errorKind === want && c.first !== null && p.first >= c.first && p.steps[0]!.netns === c.netns)
      .sort((x, y) => x.first - y.first)[0];
    const target = effect && pathOrder(boxes.filter((b) => b.id.startsWith(`f${flow.id}p${effect.id}b`)))[0];
    if (!target || target.row === c.row) continue;
    const x1 = c.x + c.w / 2;
    const y1 = c.y + c.h;
    const x2 = target.x + target.w / 2;
    const y2 = target.y;
    const dt = target.first !== null && c.first !== null ? target.first - c.first : null;
    out.push({ from: c.id, to: target.id, dtNs: dt, label: `made${dt === null ? '' : ` +${durationText(dt)}`}`, kind: 'cause', events: [c.events[0]!, target.events[0]!], d: `M${x1},${y1} C${x1},${y1 + 30} ${x2},${y2 - 30} ${x2},${y2}`, lx: (x1 + x2) / 2 + 4, ly: (y1 + y2) / 2 });
  }
  return out;
}
