/**
 * --iptable: the netfilter path of each traced packet.
 *
 * - nftables and iptables-nft rulesets: nftables tracing (src/netfilter/io/nft-session.ts), one
 *   session per network namespace, turned into pktpath events.
 * - iptables-legacy rulesets, which nft trace does not see: BPF netfilter observers
 *   around each legacy table (src/netfilter/legacy/observers.ts, kernel 6.4+) give the table steps,
 *   and rule counters (src/netfilter/io/legacy-counters.ts) name the rule. On older kernels only the drops
 *   are named, from counters. See docs/netfilter.md.
 *
 * stop() drains: the legacy steps whose counter snapshot is pending and the paths the nft
 * monitors were already told about are delivered before the monitors end and the tables
 * go. Signals are the run session's: this module installs no handler.
 */
import { join } from 'node:path';
import { OWN_TABLE_RE } from '../model.js';
import type { NfJson, NfTrace } from '../model.js';
import type { NftTraceFilter } from '../nft/table.js';
import type { TraceOptions } from '../../cli/options.js';
import { NETNS_RUN_DIR, currentNetns, netnsNames, resolveNetns } from '../../kernel/io/netns.js';
import { LegacyWatcher } from './legacy-counters.js';
import type { LegacyDrop } from './legacy-counters.js';
import { reclaimStale, startNftTrace } from './nft-session.js';
import type { NftTraceSession } from './nft-session.js';
import { LegacyPathTracker, planObservers, priorityCandidates } from '../legacy/observers.js';
import type { LegacyStep, ObserverSpot } from '../legacy/observers.js';
import type { NativeError } from '../../engine/io/native.js';
import type { Observers } from '../../engine/io/loader.js';
import { MAX_NAMESPACES, NamespaceWatch } from './watch.js';
import type { WatchedPath } from './watch.js';

type NfStepJson = NfJson;

export interface NetfilterPath {
  /** namespaces traced, by name ("" = pktpath's own) */
  readonly namespaces: readonly string[];
  /** namespaces with iptables-legacy rules, watched by counters */
  readonly legacy: readonly string[];
  /** of those, the namespaces with observers around their legacy tables, and how many hook positions */
  readonly observed: readonly { name: string; spots: number }[];
  /** decodes observer events into legacy table steps */
  readonly tracker: LegacyPathTracker;
  /** The rule behind a legacy table step the observers saw, from counters (null: not found). */
  explainLegacyStep(netns: number, tsNs: bigint, step: LegacyStep): Promise<NfStepJson>;
  /**
   * For a NETFILTER_DROP in a namespace with iptables-legacy rules (which nft trace does not
   * see): the table, chain and rule whose counters show the drop, or null.
   */
  explainLegacyDrop(netns: number, tsNs: bigint, family: 4 | 6): Promise<NfStepJson | null>;
  /** whether nft trace runs in the namespace with this inode */
  tracesNft(netns: number): boolean;
  /** namespaces that could not be traced, with the reason */
  readonly problems: readonly string[];
  /**
   * Stops, delivering first what is under way: every explainLegacy* call made before
   * stop() has settled (its callers' handlers have run), and every path the nft monitors
   * were told about has gone to onTrace. Then the monitors end and the tables go.
   */
  stop(): Promise<void>;
  /** For a forced exit: monitors killed and tables deleted now, synchronously; nothing more is delivered. */
  cleanupSync(): void;
}

/** What the run hears from the netfilter path. */
interface Listeners {
  /** a packet's nft path, with its namespace inode */
  onTrace: (trace: NfTrace, netnsInode: number) => void;
  onError: (msg: string) => void;
  /** what was added during the run */
  onInfo: (msg: string) => void;
}

/** Whether a rule of this process's own tracing table matched the packet (it set nftrace). */
export function markedByUs(t: NfTrace, pid: number = process.pid): boolean {
  return t.records.some((r) => {
    if (r.kind !== 'rule') return false;
    const m = OWN_TABLE_RE.exec(r.table);
    return m !== null && Number(m[1]) === pid;
  });
}

/** A counted rule as `rule` shows it: iptables-save text, or the policy; candidates listed when several counted. */
function ruleText(d: LegacyDrop): string | null {
  const rule = d.rule ?? (d.byPolicy ? `policy ${d.target} of chain ${d.chain}` : null);
  return rule && `${rule}${d.ambiguous.length ? ` (ambiguous: ${d.ambiguous.join('; ')})` : ''}`;
}

/** Hooks one observer in, moving off a priority another hook has (EBUSY). */
function attachSpot(observers: Observers, s: ObserverSpot, netnsPath: string | null): void {
  let last: unknown;
  for (const prio of priorityCandidates(s)) {
    try {
      observers.attach(s.slot, s.pf, s.hookNum, prio, netnsPath);
      return;
    } catch (err) {
      if ((err as NativeError).errno !== 16 /* EBUSY */) throw err;
      last = err;
    }
  }
  throw new Error(`no free priority near ${s.after !== null ? `the end of ${s.after}` : `the start of ${s.before}`} at ${s.hook}`, { cause: last });
}

/** The nft trace filter for the run's options. */
export function nftFilterOf(opts: TraceOptions): NftTraceFilter {
  return {
    ...(opts.addr ? { family: opts.addr.family, addr: opts.addr.text } : {}),
    ...(opts.port !== null ? { port: opts.port } : {}),
    ...(opts.proto !== 'any' ? { l4proto: opts.proto } : {}),
  };
}

/** The namespace's inode; null, reported, when it is gone (deleted while being added: other tools come and go). */
function inodeOf(netns: string | null, report: (p: string) => void): number | null {
  try {
    return netns === null ? currentNetns() : resolveNetns(netns);
  } catch (err) {
    report(`${netns}: ${(err as Error).message}`);
    return null;
  }
}

/** The run's --iptable path: one nft trace session per namespace, counters and observers where there are legacy rules. */
class NetfilterPaths implements NetfilterPath, WatchedPath {
  readonly namespaces: string[] = [];
  readonly legacy: string[] = [];
  readonly observed: { name: string; spots: number }[] = [];
  readonly tracker = new LegacyPathTracker();
  stopped = false;
  private readonly sessions: NftTraceSession[] = [];
  /** inodes of the namespaces an nft trace session runs in */
  private readonly nftInodes = new Set<number>();
  private readonly watchers = new Map<number, { name: string; w: LegacyWatcher }>();
  /** explainLegacy* calls not settled yet */
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopping: Promise<void> | null = null;
  readonly watch: NamespaceWatch;

  constructor(
    private readonly filter: NftTraceFilter,
    private readonly on: Listeners,
    private readonly observers: Observers | undefined,
    readonly problems: string[],
    newNamespaces: boolean,
    targets: readonly (string | null)[],
  ) {
    this.watch = new NamespaceWatch(this, newNamespaces, targets, on.onError, on.onInfo);
  }

  async watchLegacy(netns: string | null, report: (p: string) => void): Promise<boolean> {
    const name = netns ?? '';
    let w: LegacyWatcher | null;
    try {
      w = await LegacyWatcher.start(netns);
    } catch (err) {
      report(`${netns ?? 'this namespace'}: iptables-legacy counters unreadable: ${(err as Error).message}`);
      return false;
    }
    if (!w || this.stopped) return false;
    const inode = inodeOf(netns, report);
    if (inode === null) return false;
    this.watchers.set(inode, { name, w });
    this.legacy.push(name);
    if (this.observers) this.attachObservers(this.observers, netns, inode, w, report);
    return true;
  }

  private attachObservers(observers: Observers, netns: string | null, inode: number, w: LegacyWatcher, report: (p: string) => void): void {
    const spots = planObservers(w.snapshot.names);
    try {
      for (const s of spots) attachSpot(observers, s, netns === null ? null : join(NETNS_RUN_DIR, netns));
      this.tracker.setSpots(inode, spots);
      if (spots.length) this.observed.push({ name: netns ?? '', spots: spots.length });
    } catch (err) {
      report(`${netns ?? 'this namespace'}: netfilter observers: ${(err as Error).message}; iptables-legacy drops are named from counters only`);
    }
  }

  async startSession(netns: string | null, report: (p: string) => void): Promise<void> {
    const inode = inodeOf(netns, report);
    if (inode === null) return;
    try {
      const session = await startNftTrace({
        netns,
        filter: this.filter,
        reclaim: false,
        // nft monitor shows every traced packet of the namespace, also those another
        // pktpath run (or the user) marked: keep the ones our own rule matched
        onTrace: (t) => {
          if (markedByUs(t)) this.on.onTrace(t, inode);
        },
        onError: (e) => this.on.onError(`netfilter path in ${netns ?? 'this namespace'}: ${e.message}`),
      });
      if (this.stopped) return void (await session.stop());
      this.sessions.push(session);
      this.namespaces.push(netns ?? '');
      this.nftInodes.add(inode);
    } catch (err) {
      report(`${netns ?? 'this namespace'}: ${(err as Error).message}`);
    }
  }

  tracesNft(netns: number): boolean {
    return this.nftInodes.has(netns);
  }

  spotsIn(name: string): number | undefined {
    return this.observed.find((o) => o.name === name)?.spots;
  }

  explainLegacyStep(netns: number, tsNs: bigint, step: LegacyStep): Promise<NfStepJson> {
    return this.track(
      (async () => {
        const base: NfStepJson = { pf: step.pf, table: step.table, chain: step.chain, hook: step.hook, verdict: step.verdict, rule: null };
        const entry = this.watchers.get(netns);
        if (!entry) return base;
        const d = await entry.w.explainStep({ atNs: tsNs, family: step.family, table: step.table, hook: step.hook, verdict: step.verdict });
        return d ? { ...base, rule: ruleText(d) } : base;
      })(),
    );
  }

  explainLegacyDrop(netns: number, tsNs: bigint, family: 4 | 6): Promise<NfStepJson | null> {
    return this.track(
      (async () => {
        const entry = this.watchers.get(netns);
        if (!entry) return null;
        const d = await entry.w.explainDrop({ atNs: tsNs, family });
        if (!d) return null;
        return { pf: d.pf, table: d.table, chain: d.chain, hook: d.hook, verdict: 'DROP' as const, rule: ruleText(d) };
      })(),
    );
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopInOrder();
    return this.stopping;
  }

  cleanupSync(): void {
    this.stopped = true;
    this.watch.stopSync();
    for (const s of this.sessions) s.cleanupSync();
  }

  /**
   * Counter snapshots and nft monitors drain side by side; each session ends its monitor
   * once drained. Every session is stopped even when one fails; the first failure is thrown then.
   */
  private async stopInOrder(): Promise<void> {
    this.stopped = true;
    const results = await Promise.allSettled([this.watch.stop(), this.settled(), ...this.sessions.map((s) => s.stop())]);
    await this.settled(); // calls made while the monitors drained
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Resolves once every explainLegacy* call made so far has settled, and its callers' handlers have run. */
  private async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
    await new Promise((r) => setImmediate(r)); // the handlers chained on them are microtasks: all run before this
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = (): void => void this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }
}

/** The namespaces to trace from the start: the one -N names, or this one and every namespace under /run/netns. */
function targetsOf(netnsOpt: string | null, problems: string[]): (string | null)[] {
  const names = netnsNames();
  if (netnsOpt !== null) {
    const inode = resolveNetns(netnsOpt);
    const name = names.get(inode);
    if (name) return [name];
    if (inode === currentNetns()) return [null];
    problems.push(`netns ${netnsOpt}: not under /run/netns, so nft trace cannot enter it`);
    return [];
  }
  if (names.size > MAX_NAMESPACES) problems.push(`only the first ${MAX_NAMESPACES} of ${names.size} namespaces are traced`);
  return [null, ...[...names.values()].slice(0, MAX_NAMESPACES)];
}

/**
 * Starts a trace session in each namespace: the one -N names, or this one and every
 * namespace under /run/netns. Every second it also picks up namespaces created under
 * /run/netns since (without -N), and iptables-legacy rules loaded since in a traced
 * namespace that had none. `onTrace` gets each packet's path with its namespace inode;
 * `onInfo` hears what was added during the run.
 */
export async function startNetfilterPath(
  opts: TraceOptions,
  onTrace: (trace: NfTrace, netnsInode: number) => void,
  onError: (msg: string) => void,
  observers?: Observers,
  onInfo: (msg: string) => void = () => {},
): Promise<NetfilterPath> {
  const problems: string[] = [];
  const targets = targetsOf(opts.netns, problems);
  await reclaimStale(); // what a killed run left behind
  const path = new NetfilterPaths(nftFilterOf(opts), { onTrace, onError, onInfo }, observers, problems, opts.netns === null, targets);
  await Promise.all(targets.map((netns) => path.watch.add(netns, (p) => problems.push(p))));
  path.watch.start();
  return path;
}
