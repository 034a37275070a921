/**
 * `pktpath drops` options of its own: --interval, --duration / -c (as `pktpath stats`
 * takes them), --listen ADDR:PORT, --top, --stack, --all, --json. The filter options
 * (-N, -i, --proto, -H, -P) are the trace's (src/cli/options.ts). Pure; every problem is
 * a UsageError naming the option, the value and what was expected.
 */
import { UsageError } from '../shared/errors.js';
import { parseAddr } from '../shared/addr.js';
import { parseStatsOptions } from '../stats/options.js';

export interface RawDropsOptions {
  interval?: string;
  duration?: string;
  count?: string;
  listen?: string;
  top?: string;
  stack?: boolean;
  all?: boolean;
  json?: boolean;
}

/** Where the exporter listens: an IP literal (or localhost) and a port (0: any free one). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface DropsOptions {
  readonly intervalMs: number;
  /** reports before the summary; undefined: until SIGINT/SIGTERM */
  readonly count?: number;
  readonly listen?: ListenAddress;
  /** rows with series of their own in /metrics */
  readonly top: number;
  readonly stack: boolean;
  readonly all: boolean;
  readonly json: boolean;
}

export const DEFAULT_TOP = 100;
const MAX_TOP = 10_000;

const LISTEN_EXPECTED = 'expected ADDR:PORT, e.g. 127.0.0.1:9464, [::]:9464, :9464 (every address), port 0-65535';

/** "127.0.0.1:9464", "[::1]:9464", "localhost:9464", ":9464" (every address). */
export function parseListen(text: string): ListenAddress {
  const bad = (): UsageError => new UsageError(`invalid --listen ${JSON.stringify(text)}: ${LISTEN_EXPECTED}`);
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text.trim());
  if (!m) throw bad();
  const port = Number(m[3]);
  if (port > 65535) throw bad();
  const v6 = m[1];
  const other = m[2] ?? '';
  if (v6 !== undefined) {
    if (parseAddr(v6)?.family !== 6) throw bad();
    return { host: v6, port };
  }
  if (other === '') return { host: '::', port };
  if (other !== 'localhost' && parseAddr(other)?.family !== 4) throw bad();
  return { host: other, port };
}

function parseTop(text: string): number {
  const n = /^[0-9]{1,6}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_TOP)) throw new UsageError(`invalid --top ${JSON.stringify(text)}: expected a number of rows from 1 to ${MAX_TOP}`);
  return n;
}

export function parseDropsOptions(raw: RawDropsOptions): DropsOptions {
  const s = parseStatsOptions({
    ...(raw.interval !== undefined ? { interval: raw.interval } : {}),
    ...(raw.duration !== undefined ? { duration: raw.duration } : {}),
    ...(raw.count !== undefined ? { count: raw.count } : {}),
  });
  const listen = raw.listen !== undefined ? parseListen(raw.listen) : undefined;
  if (raw.top !== undefined && !listen) throw new UsageError('--top bounds the series of --listen: give --listen too');
  return {
    intervalMs: s.intervalMs,
    ...(s.count !== undefined ? { count: s.count } : {}),
    ...(listen ? { listen } : {}),
    top: raw.top !== undefined ? parseTop(raw.top) : DEFAULT_TOP,
    stack: raw.stack === true,
    all: raw.all === true,
    json: raw.json === true,
  };
}
