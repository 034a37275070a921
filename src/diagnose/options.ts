/**
 * `pktpath diagnose` options beyond the trace filters: how long to watch, the grace
 * period after the command, and the command itself. Pure; every problem is one
 * UsageError line naming the option.
 */
import { UsageError } from '../shared/errors.js';

export interface DiagnoseOptions {
  /** watch this long (ms); null: until the command ends (plus grace), or Ctrl-C */
  readonly durationMs: number | null;
  /** keep tracing this long after the command exits (ms): replies, resets, retransmissions */
  readonly graceMs: number;
  /** the command to run and diagnose; null: observe existing traffic */
  readonly command: readonly string[] | null;
  readonly json: boolean;
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, '': 1000 };

/** "10s", "500ms", "2m", "3" (seconds) -> ms; null when malformed. */
export function parseDuration(text: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|)$/.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  return Number.isFinite(ms) && ms > 0 && ms <= 24 * 3600_000 ? Math.round(ms) : null;
}

export interface RawDiagnoseOptions {
  duration?: string;
  grace?: string;
  json?: boolean;
}

/** Validates the diagnose-only options; `command` is what follows `--`. */
export function parseDiagnoseOptions(raw: RawDiagnoseOptions, command: readonly string[]): DiagnoseOptions {
  const durationMs = raw.duration === undefined ? null : parseDuration(raw.duration);
  if (raw.duration !== undefined && durationMs === null) throw new UsageError(`invalid --duration "${raw.duration}": expected a time such as 10s, 500ms or 2m`);
  const graceMs = raw.grace === undefined ? 1000 : parseDuration(raw.grace);
  if (graceMs === null) throw new UsageError(`invalid --grace "${raw.grace}": expected a time such as 1s or 500ms`);
  if (!command.length && durationMs === null) {
    throw new UsageError('diagnose needs a command after -- (pktpath diagnose -H ADDR -- curl http://ADDR/) or --duration to watch existing traffic');
  }
  if (command.length && command[0] === '') throw new UsageError('invalid command after --: empty program name');
  return { durationMs, graceMs, command: command.length ? command : null, json: raw.json === true };
}

/**
 * Why a diagnosis saw no packet: one sentence and the likely reasons, most likely first.
 * `filters` is the filter as the user gave it ("-H 10.0.0.2 -P 8080").
 */
export function nothingSeen(o: { filters: string; command: readonly string[] | null; exit: string | null; netns: string | null }): string {
  const what = o.command ? `no packet of ${o.command[0]}'s flows was seen` : 'no packet matched';
  const reasons = [
    o.filters ? `the filter (${o.filters}) does not match its traffic: another address or port, IPv4 against IPv6, a name that resolved elsewhere` : '',
    o.netns ? `the traffic runs in another namespace than ${o.netns}` : '',
    o.command && o.exit ? `${o.command[0]} ${o.exit} before it sent anything (a DNS failure, a bad argument)` : '',
    o.command ? `the traffic was sent by another process than ${o.command[0]}'s (a daemon it asked: a resolver, a proxy, an agent), which process-tree capture does not follow` : 'there was no such traffic during the watch',
    'the traffic went over a path with no traced hook (AF_XDP, a device driver bypass)',
  ].filter(Boolean);
  return `${what}: ${reasons.map((r, i) => `(${i + 1}) ${r}`).join('; ')}`;
}
