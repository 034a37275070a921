/**
 * Everything the page and the Perfetto export are drawn from, made once from what a run
 * kept (recorder.ts) and the diagnosis's report: flows and packets, one diagram per flow
 * (flows with findings first, at most `maxFlows`), the timeline, the per-stage latency.
 */
import type { Report } from '../diagnose/model.js';
import type { JsonEvent } from '../diagnose/replay.js';
import { citationsOf } from './boxes.js';
import type { StageRow } from './histogram.js';
import { DEFAULT_LIMITS, layoutFlow } from './layout.js';
import type { LayoutLimits } from './layout.js';
import type { Diagram, Flow, KeptEvent } from './model.js';
import { groupPackets } from './packets.js';
import type { Recorded } from './recorder.js';
import { buildTimeline } from './timeline.js';
import type { Timeline } from './timeline.js';

export interface ReportMeta {
  /** what was run: "pktpath trace -H 10.0.0.2 --html r.html", or the events file read */
  readonly source: string;
  /** when the report was made (ISO 8601) */
  readonly made: string;
}

export interface ReportDoc {
  readonly meta: ReportMeta;
  readonly report: Report | null;
  readonly events: readonly KeptEvent[];
  /** events of the run (kept or not) */
  readonly total: number;
  /** kept after the first maxEvents (drops, ICMP errors sent, resets) */
  readonly notable: number;
  readonly maxEvents: number;
  /** lines that were not events (a partial last line) */
  readonly unreadable: number;
  readonly flows: readonly Flow[];
  readonly diagrams: readonly Diagram[];
  /** flows not drawn (the flow cap) */
  readonly hiddenFlows: number;
  /** the diagnosis's flow id -> this document's flow id (the same endpoints) */
  readonly flowOfReport: ReadonlyMap<number, number>;
  readonly timeline: Timeline;
  readonly latency: readonly StageRow[];
}

export interface DocLimits extends LayoutLimits {
  readonly maxFlows: number;
}

export const DEFAULT_DOC_LIMITS: DocLimits = { ...DEFAULT_LIMITS, maxFlows: 24 };

/** Parses the kept lines; a line that is not an event object is counted, not fatal. */
export function keptEvents(rec: Recorded): { events: KeptEvent[]; unreadable: number } {
  const events: KeptEvent[] = [];
  let unreadable = 0;
  for (const { n, line } of rec.lines) {
    try {
      const j = JSON.parse(line) as JsonEvent;
      if (j && typeof j.probe === 'string' && j.ts_ns !== undefined) events.push({ n, j });
      else unreadable++;
    } catch {
      unreadable++;
    }
  }
  return { events, unreadable };
}

/** Flows in the order they are shown: those a non-benign finding names, then by events. */
function flowOrder(flows: readonly Flow[], report: Report | null, map: ReadonlyMap<number, number>): Flow[] {
  const cited = new Set((report?.findings ?? []).filter((f) => f.level !== 'benign' && f.flowId !== null).map((f) => map.get(f.flowId!)));
  return [...flows].sort((x, y) => Number(cited.has(y.id)) - Number(cited.has(x.id)) || y.events - x.events || x.id - y.id);
}

function matchFlows(flows: readonly Flow[], report: Report | null): Map<number, number> {
  const byKey = new Map(flows.map((f) => [`${f.proto}|${f.a}|${f.b}`, f.id]));
  const out = new Map<number, number>();
  for (const rf of report?.flows ?? []) {
    const id = byKey.get(`${rf.proto}|${rf.a}|${rf.b}`) ?? byKey.get(`${rf.proto}|${rf.b}|${rf.a}`);
    if (id !== undefined) out.set(rf.id, id);
  }
  return out;
}

/** The document for a run. */
export function buildDoc(rec: Recorded, report: Report | null, meta: ReportMeta, limits: DocLimits = DEFAULT_DOC_LIMITS): ReportDoc {
  const { events, unreadable } = keptEvents(rec);
  const { flows, loose } = groupPackets(events);
  const flowOfReport = matchFlows(flows, report);
  const cites = citationsOf(report);
  const ordered = flowOrder(flows, report, flowOfReport);
  const drawn = ordered.slice(0, limits.maxFlows);
  return {
    meta,
    report,
    events,
    total: rec.total,
    notable: rec.notable,
    maxEvents: rec.limits.maxEvents,
    unreadable,
    flows,
    diagrams: drawn.map((f) => layoutFlow(f, cites, limits)),
    hiddenFlows: ordered.length - drawn.length,
    flowOfReport,
    timeline: buildTimeline(drawn, loose),
    latency: rec.latency.rows(),
  };
}
