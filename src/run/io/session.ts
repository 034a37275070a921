/**
 * One trace run, start to end. The session starts the kernel side (and the netfilter path
 * with --iptable), reads the ring buffer on each wake-up in bounded slices through the pure
 * pipeline (src/run/pipeline.ts), writes in batches to a bounded stdout, and owns the end:
 *
 *   stop reading the ring and drain what it held -> drain the netfilter path (await its
 *   stop) -> print the summary -> detach the probes
 *
 * so the summary comes before a slow detach (fentry trampolines), and each phase runs
 * whatever an earlier one threw. It is the only owner of SIGINT/SIGTERM: the first stops
 * gracefully, the second exits at once (process 'exit' handlers still remove nft tables).
 * A failure before the ring is polled (loading, the netfilter start) cleans up what was
 * started and is thrown; from polling on, a failure ends the run through the same stop,
 * with its summary, and is thrown after it.
 */
import { Diagnoser } from '../../diagnose/engine.js';
import { whyLines } from '../../diagnose/explain.js';
import { trackedLine } from '../../diagnose/render.js';
import type { Finding } from '../../diagnose/explain.js';
import type { Facts, Report } from '../../diagnose/model.js';
import { EVENT } from '../../engine/layout.js';
import { catalog } from '../../engine/io/catalog.js';
import { makeJsonFormatter, makeTextFormatter } from '../../output/index.js';
import { ShortView } from '../../output/index.js';
import { makeResolver } from '../../output/io/resolver.js';
import type { RunResolver } from '../../output/io/resolver.js';
import type { ReturnSpec } from '../../functions/returns.js';
import { startNetfilterPath } from '../../netfilter/io/path.js';
import type { NetfilterPath } from '../../netfilter/io/path.js';
import type { NfTrace } from '../../netfilter/index.js';
import type { Observers, TrackCounts, Tracker } from '../../engine/io/loader.js';
import { PktpathError } from '../../shared/errors.js';
import type { RunRequest } from '../../cli/request.js';
import { Pipeline } from '../pipeline.js';
import { summaryText } from '../summary.js';
import type { RunCounts } from '../summary.js';
import { LineOutput } from './output.js';
import type { OutStream } from './output.js';
import { ownSignals, runPhases, SIGNAL_EXIT, StopRequest } from './lifecycle.js';
import type { PhaseFailure, RunSignal, SignalSource } from './lifecycle.js';
import { startRunEngine } from './engine.js';
import { LiveRecorder } from '../../report/live.js';
import { buildDoc } from '../../report/document.js';
import { writeReport } from '../../report/io/files.js';
import type { RunEngine } from './engine.js';
import { TracePcapng } from '../../capture/trace-pcapng.js';
import type { PcapngOut } from '../../capture/io/pcapng-out.js';
import { evidenceProbes } from '../../engine/catalog.js';
import { Annotator, notesByPacket, sectionComments } from '../../capture/annotate.js';

/** What a run hands over once its probes are attached. */
export interface RunReady {
  /**
   * Process-tree capture (RunRequest.track): give it the pid of the command to trace
   * before the command runs (src/track/io/command.ts trackCommand's `register`); null
   * when the request does not track.
   */
  readonly tracker: Tracker | null;
}

export interface RunIo {
  readonly out: OutStream;
  readonly err: NodeJS.WritableStream;
  /** -w: where the packets go as pcapng (the request's write says the snaplen) */
  readonly pcapng?: PcapngOut;
  /** called once the probes are attached (tests, demo; diagnose starts its command here) */
  readonly onReady?: (ready: RunReady) => void;
  /** resolves when the run should end early (demo, tests); signals always end it */
  readonly until?: Promise<unknown>;
  /** `pktpath diagnose`: the engine's report goes to `done` (with these facts) instead of why: lines */
  readonly diagnose?: { readonly facts: () => Facts; readonly done: (report: Report, netns: (inode: number) => string) => void };
}

export interface TraceSummary extends RunCounts {
  readonly attached: number;
  readonly skipped: number;
  /** the run's drops, grouped and explained */
  readonly findings: readonly Finding[];
  /** lines stdout did not take before the run gave up on its reader (after a signal), or could not write */
  readonly unwritten: number;
  /** what process-tree capture found (RunRequest.track), read before the detach; null without it */
  readonly tracked: TrackCounts | null;
}

/** What the netfilter path reports to the run. */
export interface NetfilterHooks {
  onTrace(trace: NfTrace, netnsInode: number): void;
  onError(message: string): void;
  onInfo(message: string): void;
  readonly observers?: Observers | undefined;
}

/** The session's reach into the system; tests give fakes. */
export interface SessionDeps {
  startEngine(req: RunRequest, say: (line: string) => void): RunEngine;
  startNetfilter(req: RunRequest, hooks: NetfilterHooks): Promise<NetfilterPath>;
  /** names for the run's events; `returnSpecs`: how its functions' return values read (engine.returnSpecs) */
  resolver(returnSpecs?: ReadonlyMap<string, ReturnSpec>): RunResolver;
  /** probe id of the netfilter observer programs */
  observerProbe(): number;
  readonly signals: SignalSource;
  /** ends the process now (a second signal) */
  forceExit(code: number): void;
  /** CLOCK_MONOTONIC, ns (the clock of the kernel's timestamps) */
  nowNs(): bigint;
}

export function realDeps(): SessionDeps {
  return {
    startEngine: startRunEngine,
    startNetfilter: (req, h) => startNetfilterPath(req.options, h.onTrace, h.onError, h.observers, h.onInfo),
    resolver: makeResolver,
    observerProbe: () => catalog().netfilterProbes.observer,
    signals: process,
    forceExit: (code) => process.exit(code),
    nowNs: () => process.hrtime.bigint(),
  };
}

/** Records read per wake-up: the event loop (signals, stdout) gets its turn between slices. */
export const SLICE = 2048;
/** After a signal, how long stdout's reader gets to take what was already written to it. */
export const SETTLE_MS = 250;
/** diagnose -w: events whose packet is remembered for the findings (4 bytes each: 16 MiB at most). */
export const INDEXED_EVENTS = 4 * 1024 * 1024;
/** How often nftables verdicts waiting for their trace line are checked for expiry. */
const NFT_EXPIRY_MS = 250;
/** How long the stop spends printing what the ring still held. */
export const FINAL_DRAIN_MS = 200;
/** The smallest ring record (header + struct pp_event): the final drain reads at most what was there at the stop. */
const MIN_RECORD = 8 + EVENT.size;

/** Runs a trace until SIGINT/SIGTERM, the catch count, `until`, or a closed stdout. */
export async function runTrace(req: RunRequest, io: RunIo, deps: SessionDeps = realDeps()): Promise<TraceSummary> {
  const engine = deps.startEngine(req, (line) => void io.err.write(`pktpath: ${line}\n`));
  let session: TraceSession;
  try {
    session = new TraceSession(req, io, deps, engine);
  } catch (err) {
    await engine.close();
    throw err;
  }
  try {
    await session.startNetfilter();
  } catch (err) {
    await session.abandon(); // nothing was traced yet: no summary
    throw err;
  }
  return session.run();
}

class TraceSession {
  private readonly stop = new StopRequest();
  private readonly output: LineOutput;
  private readonly pipeline: Pipeline;
  private readonly resolver: RunResolver;
  /** every event goes through the diagnosis engine (bounded memory): its findings are the why: lines */
  private readonly diagnoser: Diagnoser;
  /** --html / --perfetto: what the report keeps of the run (bounded) */
  private readonly recorder: LiveRecorder | null;
  private report: Report | null = null;
  private readonly releaseSignals: () => void;
  private netfilter: NetfilterPath | undefined;
  private failure: unknown;
  private expiry: ReturnType<typeof setInterval> | undefined;
  /** -w: the packets as pcapng */
  private readonly capture: TracePcapng | null;

  constructor(
    private readonly req: RunRequest,
    private readonly io: RunIo,
    private readonly deps: SessionDeps,
    private readonly engine: RunEngine,
  ) {
    this.resolver = deps.resolver(engine.returnSpecs);
    this.diagnoser = new Diagnoser(this.resolver);
    this.recorder = req.report ? new LiveRecorder(this.resolver, { stack: req.output.stack }) : null;
    const fmt = { time: req.output.time, stack: req.output.stack };
    const formatter = req.output.json ? makeJsonFormatter(this.resolver, fmt) : makeTextFormatter(this.resolver, fmt);
    this.output = new LineOutput(io.out);
    const pcap = io.pcapng;
    // diagnose -w: the findings go on their packets at the end (annotate.ts), found through an index of events
    const indexEvents = io.diagnose ? INDEXED_EVENTS : 0;
    this.capture = req.write && pcap ? new TracePcapng((b) => pcap.write(b), { section: { application: 'pktpath', os: 'Linux' }, snaplen: req.write.snaplen, indexEvents, names: this.resolver, lend: true, room: () => pcap.room() }) : null;
    const capture = this.capture;
    // text folds the road between a packet's milestones; --verbose, --all and --json keep every event
    const view = !req.output.events || req.output.json || req.verbose || req.functions?.all ? undefined : new ShortView(this.resolver, evidenceProbes(catalog()));
    this.pipeline = new Pipeline({
      names: this.resolver,
      format: (ev) => formatter.format(ev),
      out: this.output,
      observerProbe: deps.observerProbe(),
      catchCount: req.catchCount,
      onLate: () => this.afterLate(),
      nowNs: () => deps.nowNs(),
      onEvent: (ev, n) => {
        this.diagnoser.push(ev, n);
        this.recorder?.push(ev, n);
        capture?.push(ev, n);
      },
      onError: (m) => this.say(m),
      print: req.output.events,
      ...(view ? { shows: (ev) => view.shows(ev) } : {}),
    });
    this.releaseSignals = ownSignals(deps.signals, (sig) => this.onSignal(sig), (sig) => this.force(sig));
    io.out.on('error', this.onOutError);
    if (req.verbose) {
      for (const p of engine.probes) this.say(p.attached ? `probe ${p.probe}: attached via ${p.via}` : `probe ${p.probe}: skipped: ${p.reason}`);
    }
    const header = req.output.events ? formatter.header() : null;
    if (header) io.out.write(`${header}\n`);
  }

  /** --iptable: starts the netfilter path and joins it to the pipeline. */
  async startNetfilter(): Promise<void> {
    if (!this.req.iptable) return;
    const nf = await this.deps.startNetfilter(this.req, {
      onTrace: (t, netns) => this.pipeline.nfTrace(t, netns, this.deps.nowNs()),
      onError: (m) => this.say(m),
      onInfo: (m) => void (this.req.verbose && this.say(m)),
      observers: this.engine.observers,
    });
    this.netfilter = nf;
    this.pipeline.useNetfilter(nf);
    // verdicts wait for their nft trace line; one that waits too long is printed without its rule
    this.expiry = setInterval(() => this.expireSteps(), NFT_EXPIRY_MS);
    this.expiry.unref();
    for (const p of nf.problems) this.say(`netfilter path: ${p}`);
    if (this.req.verbose) this.sayNetfilter(nf);
  }

  /** Undoes the start when the run does not get going. */
  async abandon(): Promise<void> {
    clearInterval(this.expiry);
    this.releaseSignals();
    this.io.out.off('error', this.onOutError);
    await this.engine.close();
  }

  /** Polls the ring until the run is asked to stop, then stops in order; returns the summary. */
  async run(): Promise<TraceSummary> {
    try {
      if (!this.stop.cause) {
        this.engine.startPolling(this.onReadable);
        this.announceReady();
      }
      const end = (): void => this.stop.request('until');
      this.io.until?.then(end, end);
      await this.stop.stopped;
    } catch (err) {
      this.fail(err);
    }
    return this.finish();
  }

  private async finish(): Promise<TraceSummary> {
    let unwritten = 0;
    let summary: TraceSummary | undefined;
    const failures = await runPhases([
      { name: 'stop reading the ring', run: () => this.drainRing() },
      { name: 'netfilter drain', run: () => this.drainNetfilter() },
      { name: 'pcapng', run: () => this.closeCapture() },
      { name: 'output', run: async () => void (unwritten = await this.settleOutput()) },
      { name: 'summary', run: () => void (summary = this.summarize(unwritten)) },
      { name: 'pcapng findings', run: () => this.annotateCapture() },
      { name: 'report', run: () => this.writeReport() },
      { name: 'detach', run: () => this.engine.close() },
    ]);
    this.releaseSignals();
    this.io.out.off('error', this.onOutError);
    clearInterval(this.expiry);
    const failure = this.failure ?? failures[0];
    for (const f of failures) if (f !== failure) this.say(`${f.phase}: ${(f.error as Error).message}`);
    if (failure !== undefined) throw failure === this.failure ? failure : phaseError(failure as PhaseFailure);
    return summary!;
  }

  private expireSteps(): void {
    if (!this.pipeline.waitingSteps) return;
    this.pipeline.expire(this.deps.nowNs());
    this.output.flush();
  }

  private readonly onReadable = (): void => {
    try {
      this.engine.drain(this.pipeline.record, SLICE);
      this.output.flush();
      this.capture?.flushOut();
      if (this.pipeline.full()) this.stop.request('catch-count');
    } catch (err) {
      this.fail(err); // never out of a libuv callback: the addon would make it fatal
    }
  };

  private readonly onOutError = (): void => {
    this.output.markBroken(); // EPIPE: the reader went away
    this.stop.request('output-closed');
  };

  private afterLate(): void {
    this.output.flush();
    if (this.pipeline.full()) this.stop.request('catch-count');
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.stop.request('error');
  }

  private onSignal(sig: RunSignal): void {
    if (this.req.verbose) this.say(`${sig}: stopping (${sig} again exits at once)`);
    this.stop.request('signal');
  }

  private force(sig: RunSignal): void {
    this.say(`${sig} again: exiting now`);
    this.deps.forceExit(SIGNAL_EXIT[sig]);
  }

  /**
   * Kernel side: no more wake-ups, then what the ring held at the stop, and no more (a
   * flood refills it as fast as it is read). Past FINAL_DRAIN_MS the rest is counted as
   * dropped for back-pressure, not printed: the exit stays prompt under any load.
   */
  private drainRing(): void {
    this.engine.stopPolling();
    const by = performance.now() + FINAL_DRAIN_MS;
    let left = Math.ceil(this.engine.pending() / MIN_RECORD);
    while (left > 0 && !this.pipeline.full()) {
      const sink = performance.now() < by ? this.pipeline.record : this.pipeline.skip;
      const n = this.engine.drain(sink, Math.min(SLICE, left));
      this.output.flush();
      if (n === 0) break;
      left -= n;
    }
  }

  /** Rule lookups still in flight, then the netfilter path's own drain (paths that complete meanwhile are printed). */
  private async drainNetfilter(): Promise<void> {
    try {
      if (this.netfilter) {
        await this.pipeline.settled();
        await this.netfilter.stop();
      }
    } finally {
      this.pipeline.close();
      this.output.flush();
    }
  }

  /** -w: the packets whose life had not ended yet, then the file; what was written, on stderr. */
  private async closeCapture(): Promise<void> {
    const c = this.capture;
    const out = this.io.pcapng;
    if (!c || !out) return;
    c.finish();
    await out.close();
    const lost = c.unwritten ? `, ${c.unwritten} lost (its reader was too slow)` : '';
    const early = c.writtenEarly ? `, ${c.writtenEarly} written before their end (too many in flight)` : '';
    this.say(`pcapng: ${c.packets} packet copies written to ${out.name}${lost}${early}`);
  }

  /** diagnose -w: the findings on the packets that are their evidence, the verdict in the section header. */
  private async annotateCapture(): Promise<void> {
    const c = this.capture;
    const out = this.io.pcapng;
    if (!c || !out || !this.io.diagnose || !this.report) return;
    if (!out.rewrite) {
      this.say(`pcapng: ${out.name} is not a regular file: the findings are not written into it`);
      return;
    }
    const { notes, packets } = notesByPacket(this.report.findings, (n) => c.packetOf(n));
    const annotator = new Annotator(notes, sectionComments(this.report, packets));
    try {
      await out.rewrite((b) => annotator.block(b));
    } catch (err) {
      // the packets are in the file as written; the report still comes
      this.say(`pcapng: the findings are not in ${out.name}: ${(err as Error).message}`);
      return;
    }
    const unindexed = c.unindexed ? `; events past the first ${INDEXED_EVENTS} were not indexed, their packets carry no finding` : '';
    const n = this.report.findings.length;
    this.say(`pcapng: the verdict in the file's comment, ${n} finding${n === 1 ? '' : 's'} on ${annotator.marked} packet copies${unindexed}`);
  }

  /** Lines that will not reach the reader: after a signal, its reader gets SETTLE_MS to take what is queued. */
  private async settleOutput(): Promise<number> {
    const left = this.stop.cause === 'signal' ? await this.output.settle(SETTLE_MS) : 0;
    return left + this.output.lost;
  }

  private summarize(unwritten: number): TraceSummary {
    const p = this.pipeline;
    let lost = 0;
    let undecided = 0;
    try {
      lost = this.engine.lost();
      undecided = this.engine.undecided();
    } catch (err) {
      this.failure ??= err; // the summary is still printed
    }
    const counts: RunCounts = {
      events: p.events - unwritten,
      lost,
      backpressure: p.backpressure + unwritten,
      malformed: p.malformed,
      firstMalformed: p.firstMalformed,
      drops: p.drops,
      outputClosed: this.stop.cause === 'output-closed',
      folded: p.folded,
      undecided,
    };
    const report = (this.report = this.diagnoser.report({ ...this.io.diagnose?.facts(), lost }));
    this.io.diagnose?.done(report, (i) => this.resolver.netnsName(i) ?? String(i));
    const findings = this.io.diagnose ? [] : whyLines(report);
    this.io.err.write(summaryText(counts, findings));
    const attached = this.engine.probes.filter((x) => x.attached).length;
    const tracked = this.engine.tracker?.counts() ?? null;
    if (tracked && this.req.verbose) {
      this.say(trackedLine({ flows: tracked.flows, sockets: tracked.sockets, children: tracked.forks, untracked: tracked.untracked }));
    }
    return { ...counts, attached, skipped: this.engine.probes.length - attached, findings, unwritten, tracked };
  }

  /** --html / --perfetto: the page and the trace, from what the recorder kept and the diagnosis. */
  private writeReport(): void {
    const files = this.req.report;
    if (!files || !this.recorder) return;
    const doc = buildDoc(this.recorder.recorded(), this.report, { source: files.source, made: new Date().toISOString() });
    for (const line of writeReport(doc, files)) this.say(line);
  }

  private announceReady(): void {
    const attached = this.engine.probes.filter((p) => p.attached).length;
    const skipped = this.engine.probes.length - attached;
    const skippedText = skipped ? `; ${skipped} skipped${this.req.verbose ? '' : ' (--verbose says why)'}` : '';
    this.say(`tracing ${attached} probes: ${this.engine.label}${skippedText}; ready, Ctrl-C to stop`);
    this.io.onReady?.({ tracker: this.engine.tracker ?? null });
  }

  private sayNetfilter(nf: NetfilterPath): void {
    const where = (names: readonly string[]): string => names.map((x) => x || 'this namespace').join(', ');
    this.say(`netfilter path via nft trace in ${where(nf.namespaces)}`);
    if (nf.legacy.length) this.say(`iptables-legacy rules in ${where(nf.legacy)}: their drops are named from rule counters`);
    for (const x of nf.observed) this.say(`iptables-legacy path in ${x.name || 'this namespace'} via BPF netfilter observers at ${x.spots} hook positions`);
    if (this.engine.observerProblem && nf.legacy.length) this.say(`no netfilter observers: ${this.engine.observerProblem}`);
  }

  private say(line: string): void {
    this.io.err.write(`pktpath: ${line}\n`);
  }
}

/** A stop phase's failure as the run's error: pktpath's own errors as they are, others with the phase named. */
function phaseError(f: PhaseFailure): unknown {
  if (f.error instanceof PktpathError) return f.error;
  const e = f.error as Error;
  return new Error(`${f.phase}: ${e?.message ?? String(e)}`, { cause: f.error });
}
