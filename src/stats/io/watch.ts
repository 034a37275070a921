/**
 * The `pktpath stats` loop: a first snapshot, then every interval the counters that moved
 * since the previous one; after the last interval (-c, --duration) or on Ctrl-C/SIGTERM,
 * the total since the start.
 */
import type { Writable } from 'node:stream';
import { netnsLabel } from '../../netlink/io/namespaces.js';
import type { Netns } from '../../netlink/io/namespaces.js';
import type { CounterCatalog } from '../meaning.js';
import { diffSnapshots } from '../snapshot.js';
import type { Snapshot } from '../snapshot.js';
import { formatReportJson, formatReportText } from '../format.js';
import type { Report } from '../format.js';
import { readSnapshot } from './read.js';
import { pause } from '../../shared/pause.js';

export interface WatchOptions {
  /** the namespaces to read, asked again before every snapshot (they come and go) */
  namespaces: () => readonly Netns[];
  /** namespaces named by the user: one that vanishes is an error, not a note */
  fixed: boolean;
  intervalMs: number;
  /** reports to print; undefined: until a signal */
  count?: number;
  all: boolean;
  json: boolean;
  catalog: CounterCatalog;
  out: Writable;
  /** where a namespace that went away is noted */
  err: Writable;
  /** called once the first snapshot is taken (tests wait for it) */
  onStart?: () => void;
}

function report(type: Report['type'], index: number, from: Snapshot, to: Snapshot, o: WatchOptions): void {
  const r: Report = { type, index, seconds: (to.atMs - from.atMs) / 1000, moved: diffSnapshots(from, to, o.catalog, { all: o.all }) };
  o.out.write(`${o.json ? formatReportJson(r) : formatReportText(r)}\n`);
}

function snapshot(o: WatchOptions): Snapshot {
  const { snapshot, gone } = readSnapshot(o.namespaces(), !o.fixed);
  for (const ns of gone) o.err.write(`pktpath: network namespace ${netnsLabel(ns)} went away; its counters are no longer read\n`);
  return snapshot;
}

/**
 * Runs the loop until the count is reached or `stop` fires. The total since the start
 * follows when there was more than one interval, and always after a stop (read afresh,
 * so the unfinished interval counts too).
 */
export async function watchStats(o: WatchOptions, stop: AbortSignal): Promise<void> {
  const first = snapshot(o);
  o.onStart?.();
  let prev = first;
  let index = 0;
  let stopped = false;
  while (o.count === undefined || index < o.count) {
    stopped = await pause(o.intervalMs, stop);
    if (stopped) break;
    const next = snapshot(o);
    report('interval', ++index, prev, next, o);
    prev = next;
  }
  if (stopped) report('total', index, first, snapshot(o), o);
  else if (index > 1) report('total', index, first, prev, o);
}
