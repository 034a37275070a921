/**
 * The kernel side of a run as the session sees it: load and attach (src/engine/io/loader.ts),
 * poll the ring buffer's fd, read records in bounded slices, count what the kernel lost,
 * detach.
 */
import { native } from '../../engine/io/native.js';
import type { PollHandle } from '../../engine/io/native.js';
import { RingReader } from '../../engine/io/ringbuf.js';
import type { RecordSink } from '../../engine/io/ringbuf.js';
import { loadTrace } from '../../engine/io/loader.js';
import type { LoadedTrace, Observers, ProbeStatus, Tracker } from '../../engine/io/loader.js';
import { planFunctions } from '../../functions/io/plan.js';
import { preloadNfTables } from '../../netfilter/io/nft-cli.js';
import type { RunRequest } from '../../cli/request.js';
import type { ReturnSpec } from '../../functions/returns.js';

/** What a run needs from the kernel side. */
export interface RunEngine {
  readonly probes: readonly ProbeStatus[];
  /** what is traced, for the ready line ("tracepoints only", "tracepoints and 40 functions via fentry") */
  readonly label: string;
  /** the netfilter observers, when asked for and the kernel takes them */
  readonly observers?: Observers | undefined;
  /** process-tree capture, when the request tracks (RunRequest.track) */
  readonly tracker?: Tracker | undefined;
  readonly observerProblem?: string | undefined;
  /** how the return value of each traced function whose return is reported reads */
  readonly returnSpecs?: ReadonlyMap<string, ReturnSpec>;
  /** Calls `onReadable` on every wake-up of the ring buffer until stopPolling(). */
  startPolling(onReadable: () => void): void;
  stopPolling(): void;
  /** Hands at most `maxRecords` records to `sink`; returns how many it handed. */
  drain(sink: RecordSink, maxRecords: number): number;
  /** bytes waiting in the ring buffer */
  pending(): number;
  /** events the ring buffer had no room for, so far */
  lost(): number;
  /** packets the expression could not decide (bytes it reads outside the skb's linear data), so far */
  undecided(): number;
  /**
   * Detaches every probe and frees the object; idempotent. May return a promise: a
   * detach that does not block the event loop lets a second Ctrl-C through (fentry
   * trampolines take seconds each).
   */
  close(): void | Promise<void>;
}

function loadRunTrace(req: RunRequest, say: (line: string) => void): { trace: LoadedTrace; label: string; returnSpecs?: ReadonlyMap<string, ReturnSpec> } {
  const exclude = req.route ? [] : ['fib_table_lookup', 'fib6_table_lookup'];
  const base = { ringBytes: req.ringBytes, exclude, observers: req.iptable, evidence: req.evidence, track: req.track, ...(req.filter ? { filter: req.filter } : {}) };
  if (!req.functions) return { trace: loadTrace(req.config, base), label: 'tracepoints' };
  // the netfilter path's own tables load nf_tables, but only later: load it now, so fexit on nft_do_chain is planned
  if (req.iptable) preloadNfTables();
  const planned = planFunctions(req.functions);
  if (req.verbose) {
    say(`${planned.discovered} kernel functions take an skb; traceable list: ${planned.traceableSource}`);
    for (const s of planned.skipped) say(`function ${s.name}${s.module ? ` [${s.module}]` : ''}: skipped: ${s.reason}`);
  }
  const trace = loadTrace(req.config, { ...base, nfEval: req.iptable, functions: planned.plan });
  const fns = trace.probes.filter((p) => p.attached && p.via && !p.via.startsWith('tp_btf') && p.via !== 'raw_tp').length;
  const label = trace.backend ? `tracepoints and ${fns} functions via ${trace.backend}` : 'tracepoints only (no function backend works here: --verbose says why)';
  return { trace, label, returnSpecs: planned.returnSpecs };
}

/**
 * How often the C heap gives its free pages back while polling: what the load left (the
 * object file, libbpf's relocation state, the kernel's BTF) is freed only when the garbage
 * collector gets to it, and glibc keeps freed pages otherwise (about 20 MB of the run's RSS).
 */
const TRIM_EVERY_MS = 5000;

/** Loads and attaches the run's probes; `say` gets the --verbose lines. */
export function startRunEngine(req: RunRequest, say: (line: string) => void): RunEngine {
  const { trace, label, returnSpecs } = loadRunTrace(req, say);
  const n = native();
  const reader = new RingReader(trace.ring);
  let poller: PollHandle | undefined;
  let trimmer: NodeJS.Timeout | undefined;
  return {
    probes: trace.probes,
    label,
    observers: trace.observers,
    observerProblem: trace.observerProblem,
    ...(returnSpecs ? { returnSpecs } : {}),
    tracker: trace.tracker,
    startPolling(onReadable) {
      poller ??= n.pollStart(trace.ringFd, onReadable);
      trimmer ??= setInterval(() => n.trimHeap(), TRIM_EVERY_MS).unref();
    },
    stopPolling() {
      if (poller) n.pollStop(poller);
      poller = undefined;
      clearInterval(trimmer);
      trimmer = undefined;
    },
    drain(sink, maxRecords) {
      let handed = 0;
      reader.drain((view, bytes, off, len) => {
        handed++;
        // the record is consumed either way; a sink's false (the catch count) ends the slice too
        return sink(view, bytes, off, len) !== false && handed < maxRecords;
      });
      return handed;
    },
    pending: () => reader.pending(),
    lost: () => trace.stats().lost,
    undecided: () => trace.stats().undecided,
    close: () => trace.closeAsync(),
  };
}
