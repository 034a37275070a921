/**
 * One report of `pktpath drops`: the visible rows, what is hidden, what was lost, and
 * the counters that moved beside the drops. Pure; rendered by ./text.ts, ./json.ts.
 */
import type { Moved } from '../stats/snapshot.js';
import { BENIGN_REASONS } from './hidden.js';
import type { DropRow } from './rows.js';

/** The kernel side's own counters (the drop_stats array, and the program's recursion misses). */
export interface ProbeCounters {
  /** samples written to the side channel */
  readonly samples: number;
  /** samples the ring buffer had no room for */
  readonly samplesLost: number;
  /** drops not counted: the table had no room for a new key */
  readonly tableFull: number;
  /** drops the filter left out */
  readonly filtered: number;
  /** drops not counted: the program was already running on that CPU (nested free) */
  readonly recursionMisses: number;
}

export interface DropReport {
  readonly type: 'interval' | 'total';
  readonly index: number;
  /** Unix time (ms) of the read */
  readonly at: number;
  readonly seconds: number;
  readonly all: boolean;
  /** shown rows, the biggest change first */
  readonly rows: readonly DropRow[];
  /** the rows --all would show, summed */
  readonly hidden: { readonly reasons: readonly string[]; readonly rows: number; readonly delta: number; readonly total: number };
  /** samples: sample packets lost; uncounted: drops the table could not count (full, nested) */
  readonly lost: { readonly samples: number; readonly uncounted: number };
  readonly filtered: number;
  /** SNMP, link, driver and softnet counters of level drop or error that moved */
  readonly counters: readonly Moved[];
}

export interface ReportInput {
  readonly type: DropReport['type'];
  readonly index: number;
  readonly at: number;
  readonly seconds: number;
  readonly all: boolean;
  readonly rows: readonly DropRow[];
  readonly probe: ProbeCounters;
  readonly moved: readonly Moved[];
}

/** Counters worth showing beside drops: those the catalogue calls drops or errors. */
export function droppingCounters(moved: readonly Moved[]): Moved[] {
  return moved.filter((m) => m.level === 'drop' || m.level === 'error');
}

export function buildReport(i: ReportInput): DropReport {
  const hiddenRows = i.rows.filter((r) => r.hidden);
  return {
    type: i.type,
    index: i.index,
    at: i.at,
    seconds: i.seconds,
    all: i.all,
    rows: i.rows.filter((r) => !r.hidden),
    hidden: {
      reasons: i.all ? [] : Object.keys(BENIGN_REASONS),
      rows: hiddenRows.length,
      delta: hiddenRows.reduce((s, r) => s + r.delta, 0),
      total: hiddenRows.reduce((s, r) => s + r.total, 0),
    },
    lost: { samples: i.probe.samplesLost, uncounted: i.probe.tableFull + i.probe.recursionMisses },
    filtered: i.probe.filtered,
    counters: droppingCounters(i.moved),
  };
}

/** Sum of a report's shown rows: changes (interval) and totals. */
export function shownSums(r: DropReport): { delta: number; total: number } {
  return { delta: r.rows.reduce((s, x) => s + x.delta, 0), total: r.rows.reduce((s, x) => s + x.total, 0) };
}
