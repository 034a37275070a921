/**
 * One run, as asked for: the validated options turned once into what the session, the
 * kernel side and the output need. The CLI, the demo and the bench all build it here.
 */
import { UsageError } from '../shared/errors.js';
import { configValues } from './options.js';
import type { ConfigValues, TraceOptions } from './options.js';
import type { TimeMode } from '../output/index.js';
import { FUNC_BACKENDS } from '../engine/io/loader.js';
import type { FunctionChoice } from '../functions/io/plan.js';
import type { CompiledFilter } from '../filter/filter.js';
import type { ReportFiles } from '../report/live.js';

/** A trace run, typed: what src/run/io/session.ts runs. */
export interface RunRequest {
  /** the validated options (the netfilter path takes its namespace and filter from them) */
  readonly options: TraceOptions;
  /** the pp_config fields the BPF side filters with (bpf/event.h) */
  readonly config: ConfigValues;
  readonly output: {
    /** print the events (false: -w without --print, as tcpdump -w; diagnose, whose report is its output) */
    readonly events: boolean;
    readonly json: boolean;
    readonly time: TimeMode;
    /** print stack frames (with --callstack / --dropstack; the kernel side decides which events carry them) */
    readonly stack: boolean;
  };
  /** stop after this many events (-c) */
  readonly catchCount: number | null;
  readonly verbose: boolean;
  /** ring buffer size in bytes (--ring-mb) */
  readonly ringBytes: number;
  /** attach fib_table_lookup / fib6_table_lookup (--route) */
  readonly route: boolean;
  /** the netfilter path (--iptable) */
  readonly iptable: boolean;
  /** kernel functions to trace besides the tracepoints; null: tracepoints only */
  readonly functions: FunctionChoice | null;
  /** the pcap-filter expression every probe runs (src/cli/expression.ts); null: none */
  readonly filter: CompiledFilter | null;
  /** --html / --perfetto: the run's report, written after the summary */
  readonly report: ReportFiles | null;
  /** -w: write the traced packets as pcapng (file "-": standard output) */
  readonly write: { readonly file: string; readonly snaplen: number } | null;
  /** also attach the evidence probes the diagnosis reads (--evidence; diagnose runs) */
  readonly evidence: boolean;
  /**
   * process-tree capture (diagnose -- CMD): packets match when their flow is one the
   * processes handed to the run's tracker opened (RunReady.tracker); the filters pick
   * which of those flows join. The session hands the tracker over when it is ready.
   */
  readonly track: boolean;
}

export const DEFAULT_RING_MB = 8;

/** --ring-mb: a power of two from 1 to 1024 MiB, in bytes. */
export function ringBytesOf(mb: string | undefined): number {
  const v = mb === undefined ? DEFAULT_RING_MB : Number(mb);
  if (!Number.isInteger(v) || v < 1 || v > 1024 || (v & (v - 1)) !== 0) {
    throw new UsageError(`invalid --ring-mb "${mb}": expected a power of two from 1 to 1024`);
  }
  return v * 1024 * 1024;
}

/**
 * The run for these options. `netnsInode` is -N resolved to an inode (0: any namespace),
 * `ringMb` the raw --ring-mb value, `filter` the compiled expression; `track` and `evidence` are what a diagnose run adds.
 *
 * @example
 *   const req = runRequest(parseTraceOptions({ ipaddr: '10.0.0.2', json: true }), { ringMb: '4' });
 */
export function runRequest(
  opts: TraceOptions,
  where: { netnsInode?: number; ringMb?: string; filter?: CompiledFilter; report?: ReportFiles | null; track?: boolean; evidence?: boolean; events?: boolean } = {},
): RunRequest {
  return {
    options: opts,
    config: configValues(opts, where.netnsInode ?? 0),
    output: { events: where.events ?? (opts.write === null || opts.print), json: opts.json, time: opts.time, stack: opts.callStack || opts.dropStack },
    catchCount: opts.catchCount,
    verbose: opts.verbose,
    ringBytes: ringBytesOf(where.ringMb),
    route: opts.route,
    iptable: opts.iptable,
    write: opts.write !== null ? { file: opts.write, snaplen: opts.snaplen } : null,
    evidence: opts.evidence || where.evidence === true,
    track: where.track === true,
    functions:
      opts.backend === 'tracepoints'
        ? null
        : {
            all: opts.allFuncs,
            ...(opts.funcRegex ? { include: opts.funcRegex } : {}),
            ...(opts.excludeRegex ? { exclude: opts.excludeRegex } : {}),
            backends: opts.backend === 'auto' ? FUNC_BACKENDS : [opts.backend],
          },
    filter: where.filter ?? null,
    report: where.report ?? null,
  };
}
