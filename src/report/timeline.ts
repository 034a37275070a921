/**
 * The timeline of all drawn packets: time across, stages down (one row per namespace and
 * stage, in road order), each packet a line through its events, drops marked. Times are
 * relative to the first event. Netfilter steps from nft trace have no true time and are
 * left out (the diagrams place them).
 */
import type { BoxKind, Flow, Step } from './model.js';

export interface TimelineRow {
  readonly netns: number;
  readonly stage: BoxKind | 'end';
  readonly label: string;
}

export interface TimelinePoint {
  readonly n: number;
  /** ns since the first event */
  readonly t: number;
  readonly row: number;
  readonly drop: boolean;
  /** a qdisc dequeue: how long it waited (drawn as a bar ending at t) */
  readonly waitNs?: number;
}

export interface TimelinePacket {
  readonly flow: number;
  readonly packet: number;
  readonly label: string;
  readonly points: readonly TimelinePoint[];
}

export interface Timeline {
  readonly t0: number;
  /** ns from the first to the last event */
  readonly span: number;
  readonly rows: readonly TimelineRow[];
  readonly packets: readonly TimelinePacket[];
  /** events with no flow (no IP header parsed) */
  readonly loose: readonly TimelinePoint[];
}

const STAGE_ORDER: readonly (BoxKind | 'end')[] = ['socket', 'receive', 'netfilter', 'route', 'icmp', 'func', 'other', 'queue', 'qdisc', 'transmit', 'end'];

function stageRow(kind: BoxKind): BoxKind | 'end' {
  return kind === 'drop' || kind === 'free' ? 'end' : kind;
}

function netnsLabel(steps: readonly Step[], netns: number): string {
  const s = steps.find((x) => x.netns === netns && x.j.netns_name);
  return s?.j.netns_name ?? String(netns);
}

/** Builds the timeline of these flows' packets (and the events without a flow). */
export function buildTimeline(flows: readonly Flow[], loose: readonly Step[]): Timeline {
  const all: Step[] = [...flows.flatMap((f) => f.packets.flatMap((p) => p.steps)), ...loose].filter((s) => s.ts !== null);
  const nsOrder: number[] = [];
  for (const s of [...all].sort((a, b) => a.ts! - b.ts!)) if (!nsOrder.includes(s.netns)) nsOrder.push(s.netns);
  const used = new Set(all.map((s) => `${s.netns}|${stageRow(s.kind)}`));
  const rows: TimelineRow[] = [];
  for (const netns of nsOrder) {
    for (const stage of STAGE_ORDER) {
      if (used.has(`${netns}|${stage}`)) rows.push({ netns, stage, label: `${netnsLabel(all, netns)} \u00b7 ${stage}` });
    }
  }
  const rowOf = new Map(rows.map((r, i) => [`${r.netns}|${r.stage}`, i]));
  const t0 = all.reduce((m, s) => Math.min(m, s.ts!), all.length ? Infinity : 0);
  const t1 = all.reduce((m, s) => Math.max(m, s.ts!), t0);
  const point = (s: Step): TimelinePoint => ({ n: s.n, t: s.ts! - t0, row: rowOf.get(`${s.netns}|${stageRow(s.kind)}`)!, drop: s.kind === 'drop', ...(s.waitNs ? { waitNs: s.waitNs } : {}) });
  const packets: TimelinePacket[] = flows.flatMap((f) =>
    f.packets.map((p) => ({
      flow: f.id,
      packet: p.id,
      label: `flow ${f.id} #${p.id} ${p.back ? 'b>a' : 'a>b'} ${p.summary}`,
      points: p.steps.filter((s) => s.ts !== null).map(point),
    })),
  );
  return { t0, span: t1 - t0, rows, packets: packets.filter((p) => p.points.length), loose: loose.filter((s) => s.ts !== null).map(point) };
}
