/**
 * Netfilter paths from nftables tracing: the OS edge.
 *
 * A session adds a table of its own, `table inet pktpath_<pid>`, with base chains on
 * prerouting and output at priority -500 (before raw, -300, and defragmentation, -400)
 * whose only statement is `meta nftrace set 1` on packets that match the filter. The
 * kernel then reports every nftables chain those packets go through (iptables-nft rules
 * included) to `nft monitor trace` (nft-monitor.ts), which runs in the same network
 * namespace. Its lines are parsed (nft/parse.ts), grouped per packet (nft/assemble.ts)
 * and turned into Mytracer's `2.filter.OUTPUT.DROP` path (nft/path.ts).
 *
 * Nothing else is changed: no verdict, no rule in anyone else's table. stop() deletes the
 * table, lets the monitor print what the kernel had queued, then ends it. Signals are
 * not handled here: the run's session owns SIGINT and SIGTERM and calls stop(), or
 * cleanupSync() when it cannot wait. A process 'exit' deletes what is left
 * (synchronously) as a last resort; a run killed with SIGKILL leaves its table, and
 * reclaimStale() (run by every start) deletes it. The monitor gets PR_SET_PDEATHSIG
 * (setpriv), so it dies with us even on SIGKILL.
 */
import { performance } from 'node:perf_hooks';
import { EnvironmentError, UsageError } from '../../shared/errors.js';
import type { NfTrace, NftTraceRecord } from '../model.js';
import { NftTraceAssembler } from '../nft/assemble.js';
import { parseTraceLine } from '../nft/parse.js';
import { ownTableName, traceMatchRules, traceTableScript } from '../nft/table.js';
import type { NftTraceFilter } from '../nft/table.js';
import { haveCommand, requireNamedNetns } from './exec.js';
import { deleteTable, deleteTableSync, nftOk } from './nft-cli.js';
import { TraceDelivery } from './nft-delivery.js';
import { TraceMonitor } from './nft-monitor.js';
import type { DrainOptions } from './nft-monitor.js';
import { ownerComment, reclaimStale } from './nft-reclaim.js';

export type { NfTrace, NftTraceRecord } from '../model.js';
export type { NftTraceFilter } from '../nft/table.js';
export { nftRulesetHooks } from './nft-cli.js';
export { reclaimStale } from './nft-reclaim.js';
export type { ReclaimOptions, ReclaimedTable } from './nft-reclaim.js';

export interface NftTraceOptions {
  /** name under /run/netns, or null for the current namespace */
  netns: string | null;
  filter: NftTraceFilter;
  /** every parsed line, as it comes (pktpath's own table included) */
  onRecord?: (rec: NftTraceRecord) => void;
  /** every packet's path, once complete */
  onTrace?: (trace: NfTrace) => void;
  /** the monitor failed, or a path could not be completed */
  onError?: (err: Error) => void;
  /** a packet's group is complete after this long without a line (default 200 ms) */
  idleMs?: number;
  /** give up when the monitor has not subscribed after this long (default 5000 ms) */
  readyTimeoutMs?: number;
  /** run reclaimStale() first (default true) */
  reclaim?: boolean;
  /** how stop() waits for the monitor to print what is queued */
  drain?: DrainOptions;
}

export interface NftTraceStats {
  /** lines read from the monitor */
  lines: number;
  /** trace records parsed */
  records: number;
  /** non-empty lines that were not trace records */
  unparsed: number;
  /** packets (groups) delivered */
  traces: number;
  /** trace messages the kernel could not queue to the monitor (netlink socket drops), when known */
  netlinkDrops: number | null;
  /** stop(): how long the monitor took to print what was queued, and whether it caught up (null before stop) */
  drain: { ms: number; complete: boolean } | null;
}

export interface NftTraceSession {
  /** the table pktpath added: `pktpath_<pid>` (`pktpath_<pid>_<n>` for a second one in the same namespace) */
  readonly table: string;
  readonly netns: string | null;
  /** pid of `nft monitor trace` */
  readonly monitorPid: number;
  /** the rule bodies that set nftrace (one per matched combination) */
  readonly matchRules: readonly string[];
  /** Paths as they complete; ends after stop(). Buffers from the first call on. */
  traces(): AsyncIterableIterator<NfTrace>;
  stats(): NftTraceStats;
  /**
   * Delete the table (no packet is marked from then on), deliver the paths of what the
   * kernel already reported, stop the monitor. Idempotent.
   */
  stop(): Promise<NftTraceStats>;
  /** Kill the monitor and delete the table now, synchronously, delivering nothing more (a forced exit). */
  cleanupSync(): void;
}

/* ------------------------------------------------------------------ the exit cleanup */

/** Sessions whose table may still exist. */
const live = new Set<NftSession>();

function cleanupAllSync(): void {
  for (const s of [...live]) s.cleanupSync();
}

function register(s: NftSession): void {
  if (live.size === 0) process.on('exit', cleanupAllSync);
  live.add(s);
}

function unregister(s: NftSession): void {
  if (!live.delete(s)) return;
  if (live.size === 0) process.off('exit', cleanupAllSync);
}

/** One table per namespace per process; a second session in the same namespace gets `_<n>`. */
function freeTableName(netns: string | null): string {
  let seq = 0;
  while ([...live].some((l) => l.netns === netns && l.table === ownTableName(process.pid, seq))) seq++;
  return ownTableName(process.pid, seq);
}

/* ------------------------------------------------------------------ a session */

class NftSession implements NftTraceSession {
  private readonly counts = { lines: 0, records: 0, unparsed: 0 };
  private netlinkDrops: number | null = null;
  private drained: NftTraceStats['drain'] = null;
  private readonly delivery: TraceDelivery;
  private readonly assembler: NftTraceAssembler;
  private monitor: TraceMonitor | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private stopped: Promise<NftTraceStats> | null = null;

  constructor(
    readonly netns: string | null,
    readonly table: string,
    readonly matchRules: readonly string[],
    private readonly opts: NftTraceOptions,
  ) {
    this.delivery = new TraceDelivery(netns, opts.onTrace, (err) => this.report(err));
    this.assembler = new NftTraceAssembler((group) => this.delivery.push(group), { idleMs: opts.idleMs ?? 200 });
    register(this);
  }

  get monitorPid(): number {
    return this.monitor?.pid ?? 0;
  }

  /** Adds the table, starts the monitor and waits until it listens. On failure nothing is left. */
  async start(): Promise<void> {
    try {
      await nftOk(this.netns, ['-f', '-'], traceTableScript(this.table, this.opts.filter, ownerComment(process.pid)));
    } catch (err) {
      unregister(this);
      await deleteTable(this.netns, this.table).catch(() => undefined);
      throw new EnvironmentError(`cannot add the tracing table: ${(err as Error).message}`, { cause: err });
    }
    this.monitor = new TraceMonitor(this.netns, (line) => this.onLine(line), (why) => this.report(new Error(why)));
    this.startTicker();
    try {
      await this.monitor.subscribed(this.opts.readyTimeoutMs ?? 5000);
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
    await this.delivery.refreshHooks().catch((err: unknown) => this.report(err));
  }

  traces(): AsyncIterableIterator<NfTrace> {
    return this.delivery.queue.iterator();
  }

  stats(): NftTraceStats {
    const sock = this.monitor?.socket();
    return { ...this.counts, traces: this.delivery.delivered, netlinkDrops: sock ? sock.drops : this.netlinkDrops, drain: this.drained };
  }

  stop(): Promise<NftTraceStats> {
    this.stopped ??= this.stopInOrder();
    return this.stopped;
  }

  cleanupSync(): void {
    unregister(this);
    this.monitor?.killSync();
    if (this.ticker) clearInterval(this.ticker);
    deleteTableSync(this.netns, this.table);
  }

  private async stopInOrder(): Promise<NftTraceStats> {
    let tableErr: unknown = null;
    try {
      await deleteTable(this.netns, this.table); // no new traces from here on
    } catch (err) {
      tableErr = err;
    }
    if (this.monitor) {
      const d = await this.monitor.drain(this.opts.drain);
      this.drained = { ms: Math.round(d.ms), complete: d.complete };
      if (!d.complete) this.report(new Error(`stopped before nft monitor trace caught up (after ${Math.round(d.ms)} ms): the last paths may be missing`));
      this.netlinkDrops = this.monitor.socket()?.drops ?? this.netlinkDrops;
      await this.monitor.stop();
    }
    if (this.ticker) clearInterval(this.ticker);
    this.assembler.flushAll();
    await this.delivery.settled();
    this.delivery.queue.end();
    if (tableErr) throw tableErr; // the exit-time cleanup stays registered and tries again
    unregister(this);
    return this.stats();
  }

  private onLine(line: string): void {
    this.counts.lines++;
    const rec = parseTraceLine(line);
    if (!rec) {
      if (line.trim()) this.counts.unparsed++;
      return;
    }
    this.counts.records++;
    try {
      this.opts.onRecord?.(rec);
    } catch (err) {
      this.report(err);
    }
    this.assembler.push(rec, performance.now());
  }

  /**
   * Idle groups are closed from the check phase (setImmediate), after the poll phase has
   * read what the monitor wrote meanwhile: when the loop was busy for longer than idleMs,
   * the rest of a packet's lines is already in the pipe and must join its group first.
   */
  private startTicker(): void {
    const idleMs = this.opts.idleMs ?? 200;
    this.ticker = setInterval(() => setImmediate(() => this.assembler.flushIdle(performance.now())), Math.max(10, Math.floor(idleMs / 2)));
    this.ticker.unref();
  }

  private report(err: unknown): void {
    this.opts.onError?.(err instanceof Error ? err : new Error(String(err)));
  }
}

/** The filter's rule bodies; throws UsageError or EnvironmentError for what cannot run. */
function checkOptions(opts: NftTraceOptions): string[] {
  if (process.getuid?.() !== 0) throw new EnvironmentError('nftables tracing needs root');
  if (!haveCommand('nft')) throw new EnvironmentError('nftables tracing needs `nft` (Debian package nftables)');
  requireNamedNetns(opts.netns);
  if (opts.netns !== null && !haveCommand('ip')) throw new EnvironmentError('tracing in a named namespace needs `ip` (iproute2)');
  try {
    return traceMatchRules(opts.filter);
  } catch (err) {
    throw new UsageError(`bad trace filter: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Start tracing: reclaim stale tables, add pktpath's table, start `nft monitor trace`
 * in the namespace and wait until it has subscribed. Throws UsageError for a bad filter
 * or an unknown namespace, EnvironmentError when not root or nft is missing.
 *
 * @example
 *   const s = await startNftTrace({ netns: 'cli', filter: { addr: '10.0.0.2', port: 80 }, onTrace: (t) => print(t.path) });
 *   // ... traffic ...
 *   await s.stop(); // every path the kernel reported has been delivered
 */
export async function startNftTrace(opts: NftTraceOptions): Promise<NftTraceSession> {
  const matchRules = checkOptions(opts);
  if (opts.reclaim ?? true) await reclaimStale();
  const session = new NftSession(opts.netns, freeTableName(opts.netns), matchRules, opts);
  await session.start();
  return session;
}
