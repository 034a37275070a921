/**
 * A saved `trace --json` run, read line by line into a report: each event goes to the
 * diagnosis engine and to the recorder, so memory stays bounded however long the file.
 * Lines that are not event objects (a header, a partial last line) are counted.
 */
import { Diagnoser } from '../diagnose/engine.js';
import { ReplayResolver, rawOfJson } from '../diagnose/replay.js';
import type { JsonEvent } from '../diagnose/replay.js';
import { buildDoc } from './document.js';
import type { DocLimits, ReportDoc, ReportMeta } from './document.js';
import { kindOfJson } from './kinds.js';
import { ReportRecorder } from './recorder.js';
import type { RecorderLimits } from './recorder.js';
import { QueueWaits } from './waits.js';

export class ReportReplay {
  private readonly resolver = new ReplayResolver();
  private readonly diagnoser = new Diagnoser(this.resolver);
  private readonly recorder: ReportRecorder;
  private readonly waits = new QueueWaits();
  /** lines that were not events */
  skipped = 0;

  constructor(limits?: RecorderLimits) {
    this.recorder = new ReportRecorder(limits);
  }

  /** One line of the file. */
  push(line: string): void {
    const l = line.trim();
    if (!l) return;
    let j: JsonEvent;
    try {
      j = JSON.parse(l) as JsonEvent;
    } catch {
      this.skipped++;
      return;
    }
    if (!j || typeof j !== 'object' || typeof j.probe !== 'string' || j.ts_ns === undefined) {
      this.skipped++;
      return;
    }
    const raw = rawOfJson(j, this.resolver);
    this.diagnoser.push(raw);
    const waitNs = this.waits.of(raw, j.probe);
    this.recorder.push({ skb: j.skb ?? '0x0', tsNs: Number(j.ts_ns), kind: kindOfJson(j), reset: j.probe === 'tcp_send_reset', waitNs }, () => l);
  }

  /** Events read so far. */
  get events(): number {
    return this.recorder.recorded().total;
  }

  /** The document, with the diagnosis of every line read. */
  finish(meta: ReportMeta, limits?: DocLimits): ReportDoc {
    const doc = buildDoc(this.recorder.recorded(), this.diagnoser.report(), meta, limits);
    return { ...doc, unreadable: doc.unreadable + this.skipped };
  }
}
