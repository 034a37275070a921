/**
 * What a run keeps for its report, bounded whatever its length: the first `maxEvents`
 * event lines in full (the diagrams, the timeline and the raw events are drawn from
 * them), then only drops, ICMP errors sent and resets, up to `maxNotable`; every event is
 * counted and goes into the per-stage latency. The page says what it left out.
 *
 * @example
 *   const rec = new ReportRecorder();
 *   for (const line of lines) rec.push({ skb, tsNs, kind }, () => line);
 */
import type { BoxKind } from './model.js';
import { StageLatency } from './histogram.js';

export interface RecorderLimits {
  readonly maxEvents: number;
  readonly maxNotable: number;
}

export const DEFAULT_RECORDER_LIMITS: RecorderLimits = { maxEvents: 10_000, maxNotable: 1_000 };

/** What the recorder reads of an event besides its line. */
export interface EventView {
  readonly skb: bigint | string;
  readonly tsNs: number;
  readonly kind: BoxKind;
  /** tcp_send_reset: a reset made */
  readonly reset?: boolean;
  /** qdisc_dequeue: how long the packet waited in the queue (waits.ts) */
  readonly waitNs?: number | null;
}

export interface Recorded {
  /** line number (1-based, as `trace --json` and the diagnosis's evidence count) and the JSON line */
  readonly lines: readonly { readonly n: number; readonly line: string }[];
  /** events of the run */
  readonly total: number;
  /** of the kept lines, those kept after the first maxEvents (drops, ICMP errors, resets) */
  readonly notable: number;
  readonly limits: RecorderLimits;
  readonly latency: StageLatency;
}

export class ReportRecorder {
  private readonly lines: { n: number; line: string }[] = [];
  private total = 0;
  private notable = 0;
  readonly latency = new StageLatency();

  constructor(readonly limits: RecorderLimits = DEFAULT_RECORDER_LIMITS) {}

  /**
   * One event of the run, in order; `line` is asked for only when the event is kept. `seq`:
   * its number in the run (the one the diagnosis's evidence names); default: the count.
   */
  push(e: EventView, line: () => string, seq?: number): void {
    const n = seq ?? this.total + 1;
    this.total++;
    this.latency.add(e.skb, e.tsNs, e.kind, e.waitNs ?? null);
    if (this.lines.length < this.limits.maxEvents) {
      this.lines.push({ n, line: line() });
      return;
    }
    if (this.notable >= this.limits.maxNotable) return;
    if (e.kind === 'drop' || e.kind === 'icmp' || e.reset) {
      this.notable++;
      this.lines.push({ n, line: line() });
    }
  }

  recorded(): Recorded {
    return { lines: this.lines, total: this.total, notable: this.notable, limits: this.limits, latency: this.latency };
  }
}
