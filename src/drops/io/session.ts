/**
 * A running `pktpath drops`: every interval the kernel's table is read once, the
 * waiting samples are taken, counters are read (src/stats: every namespace once at the
 * start; then each interval this namespace and those with drops, or -N's, so the cost
 * follows the drops, not the number of namespaces; ../counters.ts keeps them) and a
 * report is printed (a redrawn screen on a terminal, plain lines, or JSON). The
 * ring of samples is drained every 200 ms in between, so its size bounds memory and a
 * slow reader turns into counted sample loss, never into growth. After the last interval
 * (-c, --duration) or on SIGINT/SIGTERM, the total since the start.
 */
import type { Writable } from 'node:stream';
import type { Netns } from '../../netlink/io/namespaces.js';
import { netnsLabel } from '../../netlink/io/namespaces.js';
import type { CounterCatalog } from '../../stats/meaning.js';
import { namespaceCounters, readSnapshot } from '../../stats/io/read.js';
import { PktpathError } from '../../shared/errors.js';
import { diffSnapshots } from '../../stats/snapshot.js';
import type { Moved, Snapshot } from '../../stats/snapshot.js';
import { CounterBook } from '../counters.js';
import { formatReportJson } from '../json.js';
import { counterFamilies, dropFamilies, lostFamily, SeriesBudget } from '../metrics.js';
import type { MetricFamily } from '../metrics.js';
import type { DropsOptions } from '../options.js';
import { buildReport } from '../report.js';
import type { DropReport } from '../report.js';
import { DropTable } from '../rows.js';
import { formatReportText, formatScreen } from '../text.js';
import type { Screen } from '../text.js';
import type { LoadedDrops } from './load.js';
import { makeNamer, NetnsDirectory } from './names.js';
import { ProbeReader } from './read.js';
import { pause } from '../../shared/pause.js';

const DRAIN_MS = 200;
/** Counter series /metrics may carry (drop and error level only). */
export const COUNTER_SERIES = 200;

export interface SessionOptions {
  readonly opts: DropsOptions;
  /** a filter (-N, -i, --proto, -H, -P) is set: say how many drops it left out */
  readonly filtered: boolean;
  /** every namespace whose counters may be read (-N's alone, or this one and the named ones), asked again before every read */
  readonly namespaces: () => readonly Netns[];
  /** -N named the namespace: its disappearance is an error */
  readonly fixedNetns: boolean;
  readonly catalog: CounterCatalog;
  readonly out: Writable;
  readonly err: Writable;
  /** the terminal's size, null when stdout is not one */
  readonly screen: () => Screen;
}

export class DropsSession {
  private readonly reader: ProbeReader;
  private readonly table: DropTable;
  private readonly startMs = performance.now();
  private readonly book: CounterBook;
  private readonly dir = new NetnsDirectory();
  private prevMs = this.startMs;
  private index = 0;
  private readonly drainTimer: NodeJS.Timeout;
  private readonly dropBudget: SeriesBudget;
  private readonly counterBudget = new SeriesBudget(COUNTER_SERIES);

  constructor(
    probe: LoadedDrops,
    private readonly o: SessionOptions,
  ) {
    this.reader = new ProbeReader(probe);
    this.table = new DropTable(
      makeNamer((id) => this.reader.stack(id), this.dir),
      { all: o.opts.all, reasonsKnown: probe.reasonsKnown },
    );
    this.dropBudget = new SeriesBudget(o.opts.top);
    this.book = new CounterBook(this.counters(o.namespaces()));
    this.drainTimer = setInterval(() => this.table.addSamples(this.reader.samples()), DRAIN_MS);
    this.drainTimer.unref();
  }

  /**
   * The watched namespaces' counters and the host's softnet ones. A namespace that goes
   * away while it is read (other tools' namespaces come and go; setns then fails with
   * ENOENT or EINVAL) is skipped with a note, unless -N named it.
   */
  private counters(namespaces: readonly Netns[]): Snapshot {
    const snap = readSnapshot([]).snapshot; // softnet
    for (const ns of namespaces) {
      try {
        snap.counters.push(...namespaceCounters(ns));
      } catch (err) {
        if (this.o.fixedNetns || !(err instanceof PktpathError)) throw err;
        this.noteOnce(`pktpath: counters of network namespace ${netnsLabel(ns)} not read: ${err.message}\n`);
      }
    }
    return snap;
  }

  private readonly notes = new Set<string>();
  private noteOnce(line: string): void {
    if (this.notes.has(line) || this.notes.size > 100) return;
    this.notes.add(line);
    this.o.err.write(line);
  }

  /** An interval reads -N's namespace; else this one and those with drops (found by inode, named or a process's). */
  private watched(): Netns[] {
    const all = this.o.namespaces();
    if (this.o.fixedNetns) return [...all];
    const own = all.filter((n) => n.path === null);
    const mine = new Set(own.map((n) => n.inode));
    const withDrops = this.table.netnsWithDrops().filter((i) => !mine.has(i));
    return [...own, ...withDrops.flatMap((i) => this.dir.find(i) ?? [])];
  }

  private refresh(): void {
    this.table.update(this.reader.entries());
    this.table.addSamples(this.reader.samples());
  }

  /** The counters' change since their last read (or the start), read now. */
  private moved(prevAtMs: number): Moved[] {
    const [prev, next] = this.book.interval(this.counters(this.watched()), prevAtMs);
    return diffSnapshots(prev, next, this.o.catalog);
  }

  /** The report of the interval since the previous one. */
  interval(): DropReport {
    this.refresh();
    const now = performance.now();
    const seconds = (now - this.prevMs) / 1000;
    const moved = this.moved(this.prevMs);
    const r = buildReport({
      type: 'interval',
      index: ++this.index,
      at: Date.now(),
      seconds,
      all: this.o.opts.all,
      rows: this.table.snapshot(seconds, 'interval'),
      probe: this.reader.counters(),
      moved,
    });
    this.prevMs = now;
    return r;
  }

  /** The report of everything since the start. */
  total(): DropReport {
    this.refresh();
    const now = performance.now();
    const seconds = (now - this.startMs) / 1000;
    this.book.observe(this.counters(this.watched()));
    const [first, last] = this.book.total(now);
    return buildReport({
      type: 'total',
      index: this.index,
      at: Date.now(),
      seconds,
      all: this.o.opts.all,
      rows: this.table.snapshot(seconds, 'total'),
      probe: this.reader.counters(),
      moved: diffSnapshots(first, last, this.o.catalog),
    });
  }

  /** What /metrics serves now: a fresh read of the table and of the counters. */
  families(): MetricFamily[] {
    const r = this.total();
    const all = this.table.snapshot(r.seconds, 'total');
    return [...dropFamilies(all, this.dropBudget), ...counterFamilies(r.counters, this.counterBudget), lostFamily(r.lost)];
  }

  print(r: DropReport): void {
    const screen = this.o.screen();
    if (this.o.opts.json) this.o.out.write(`${formatReportJson(r)}\n`);
    else if (screen && r.type === 'interval') this.o.out.write(`\x1b[H${formatScreen(r, screen, this.o.filtered).join('\x1b[K\n')}\x1b[K\x1b[J`);
    else this.o.out.write(`${formatReportText(r, this.o.filtered)}\n`);
  }

  close(): void {
    clearInterval(this.drainTimer);
  }
}

/**
 * Prints a report every interval until the count is reached or `stop` fires, then the
 * total. `quiet` (an exporter with nowhere to show a table): no interval reports.
 */
export async function runSession(s: DropsSession, o: SessionOptions, stop: AbortSignal, quiet: boolean): Promise<void> {
  const count = o.opts.count;
  for (let i = 0; count === undefined || i < count; i++) {
    if (await pause(o.opts.intervalMs, stop)) break;
    if (!quiet) s.print(s.interval());
  }
  s.print(s.total());
}
