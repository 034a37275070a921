/**
 * `pktpath stats` options: raw commander values -> checked values. Pure; every problem is
 * a UsageError naming the option, the value and what was expected.
 */
import { UsageError } from '../shared/errors.js';

export interface RawStatsOptions {
  netns?: string;
  interval?: string;
  duration?: string;
  count?: string;
  all?: boolean;
  json?: boolean;
}

export interface StatsOptions {
  netns?: string;
  intervalMs: number;
  /** stop after this many reports (from -c, or --duration / --interval) ; undefined: until Ctrl-C */
  count?: number;
  all: boolean;
  json: boolean;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, '': 1000 };
const MIN_INTERVAL_MS = 100;
const MAX_MS = 24 * 3_600_000;

/** "500ms", "1s", "1.5s", "2m", "1h", or a bare number of seconds -> milliseconds; null when malformed. */
export function parseDurationMs(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|)\s*$/.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

function timeOption(name: string, text: string, min: number): number {
  const ms = parseDurationMs(text);
  if (ms === null || ms < min || ms > MAX_MS) {
    throw new UsageError(`invalid --${name} "${text}": expected a time from ${min} ms to 24 h, e.g. 500ms, 1s, 2m`);
  }
  return ms;
}

function countOption(text: string): number {
  const n = /^[0-9]{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1)) throw new UsageError(`invalid --count "${text}": expected a whole number of reports, 1 or more`);
  return n;
}

export function parseStatsOptions(raw: RawStatsOptions): StatsOptions {
  const intervalMs = timeOption('interval', raw.interval ?? '1s', MIN_INTERVAL_MS);
  if (raw.duration !== undefined && raw.count !== undefined) throw new UsageError('--duration and --count are exclusive: give one');
  let count: number | undefined;
  if (raw.count !== undefined) count = countOption(raw.count);
  if (raw.duration !== undefined) count = Math.max(1, Math.round(timeOption('duration', raw.duration, MIN_INTERVAL_MS) / intervalMs));
  if (raw.netns !== undefined && raw.netns.trim() === '') throw new UsageError('invalid --netns "": expected a name, a path or an inode');
  return {
    ...(raw.netns !== undefined ? { netns: raw.netns } : {}),
    intervalMs,
    ...(count !== undefined ? { count } : {}),
    all: raw.all === true,
    json: raw.json === true,
  };
}
