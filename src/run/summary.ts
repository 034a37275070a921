/**
 * The run's closing lines on stderr: what was seen, what was lost and why, the drops by
 * reason, then one "why:" line per explained drop.
 */
import type { Finding } from '../diagnose/explain.js';

export interface RunCounts {
  /** events printed */
  readonly events: number;
  /** events the ring buffer had no room for (the reader was behind) */
  readonly lost: number;
  /** events read but not printed because the output was behind (a slow file, pipe or terminal) */
  readonly backpressure: number;
  /** ring records that could not be decoded */
  readonly malformed: number;
  /** what was wrong with the first malformed record */
  readonly firstMalformed?: string | undefined;
  readonly drops: ReadonlyMap<string, number>;
  /** stdout's reader went away (EPIPE): what was not written is for that, not for slowness */
  readonly outputClosed?: boolean;
}

/**
 * `pktpath: 12 events, 0 lost; drops: NO_SOCKET 1`, with the back-pressure and malformed
 * counts when there are any.
 */
export function summaryLine(c: RunCounts): string {
  const extra = [
    c.backpressure ? `, ${c.backpressure} dropped for back-pressure (${c.outputClosed ? 'stdout closed' : 'output too slow'})` : '',
    c.malformed ? `, ${c.malformed} malformed records skipped (${c.firstMalformed ?? 'unknown'})` : '',
  ].join('');
  const dropText = [...c.drops].map(([r, n]) => `${r} ${n}`).join(', ');
  return `pktpath: ${c.events} events, ${c.lost} lost${extra}${dropText ? `; drops: ${dropText}` : '; no drops'}`;
}

/** The summary line and the explanations, each ending in a newline. */
export function summaryText(c: RunCounts, findings: readonly Finding[]): string {
  return [summaryLine(c), ...findings.map((f) => `pktpath: why: ${f.text}`)].map((l) => `${l}\n`).join('');
}
