/**
 * A live run's side of the report (`trace --html/--perfetto`, `diagnose --html`): every
 * event the run takes goes to the recorder, formatted as its `trace --json` line only
 * while the recorder keeps lines, so a long run costs a bounded amount of memory.
 */
import type { RawEvent } from '../engine/event.js';
import { EV_DROP } from '../engine/event.js';
import { makeJsonFormatter } from '../output/json.js';
import type { Resolver } from '../output/resolver.js';
import { kindOf } from './kinds.js';
import { ReportRecorder } from './recorder.js';
import { QueueWaits } from './waits.js';
import type { Recorded, RecorderLimits } from './recorder.js';

/** Where a run's report goes (`--html FILE`, `--perfetto FILE`) and what it says it came from. */
export interface ReportFiles {
  readonly html: string | null;
  readonly perfetto: string | null;
  /** the command line, shown at the top of the page */
  readonly source: string;
}

export class LiveRecorder {
  private readonly recorder: ReportRecorder;
  private readonly format: (ev: RawEvent) => string;
  private readonly waits = new QueueWaits();

  constructor(private readonly names: Resolver, opts: { stack: boolean; limits?: RecorderLimits }) {
    this.recorder = new ReportRecorder(opts.limits);
    this.format = makeJsonFormatter(names, { time: 'default', stack: opts.stack }).format;
  }

  /** One event of the run, in the order the diagnosis reads them; `n` as the diagnosis numbers it (Diagnoser.push). */
  push(ev: RawEvent, n?: number): void {
    const drop = (ev.flags & EV_DROP) !== 0;
    const probe = ev.nf ? 'netfilter' : this.names.probeName(ev.probe);
    this.recorder.push({ skb: ev.skb, tsNs: Number(ev.tsNs), kind: kindOf(probe, drop, !!ev.nf), reset: probe === 'tcp_send_reset', waitNs: this.waits.of(ev, probe) }, () => this.format(ev), n);
  }

  recorded(): Recorded {
    return this.recorder.recorded();
  }
}
