/**
 * --iptable: the netfilter path of each traced packet.
 *
 * - nftables and iptables-nft rulesets: nftables tracing (src/os/nftrace.ts), one
 *   session per network namespace, turned into pktpath events.
 * - iptables-legacy rulesets, which nft trace does not see: BPF netfilter observers
 *   around each legacy table (src/core/nfobserve.ts, kernel 6.4+) give the table steps,
 *   and rule counters (src/os/legacy.ts) name the rule. On older kernels only the drops
 *   are named, from counters. See docs/netfilter.md.
 */
import { OWN_TABLE_RE } from '../core/nftrace.js';
import type { NfJson, NfTrace, NftTraceFilter } from '../core/nftrace.js';

type NfStepJson = NfJson;
import type { TraceOptions } from '../core/options.js';
import { netnsNames, resolveNetns, currentNetns } from './netns.js';
import { LegacyWatcher } from './legacy.js';
import { reclaimStale, startNftTrace } from './nftrace.js';
import { LegacyPathTracker, planObservers, priorityCandidates } from '../core/nfobserve.js';
import type { LegacyStep, ObserverSpot } from '../core/nfobserve.js';
import type { NativeError } from './native.js';
import type { Observers } from './tracepoints.js';
import { join } from 'node:path';
import { NETNS_RUN_DIR } from './netns.js';
import type { NftTraceSession } from './nftrace.js';

/** At most this many namespaces get a trace session of their own. */
const MAX_NAMESPACES = 64;

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
  /** namespaces that could not be traced, with the reason */
  readonly problems: readonly string[];
  stop(): Promise<void>;
}

/** Whether a rule of this process's own tracing table matched the packet (it set nftrace). */
export function markedByUs(t: NfTrace, pid: number = process.pid): boolean {
  return t.records.some((r) => {
    if (r.kind !== 'rule') return false;
    const m = OWN_TABLE_RE.exec(r.table);
    return m !== null && Number(m[1]) === pid;
  });
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

/**
 * Starts a trace session in each namespace: the one -N names, or this one and every
 * namespace under /run/netns. `onTrace` gets each packet's path with its namespace inode.
 */
export async function startNetfilterPath(
  opts: TraceOptions,
  onTrace: (trace: NfTrace, netnsInode: number) => void,
  onError: (msg: string) => void,
  observers?: Observers,
): Promise<NetfilterPath> {
  const names = netnsNames();
  const targets: (string | null)[] = [];
  const problems: string[] = [];
  if (opts.netns !== null) {
    const inode = resolveNetns(opts.netns);
    const name = names.get(inode);
    if (name) targets.push(name);
    else if (inode === currentNetns()) targets.push(null);
    else problems.push(`netns ${opts.netns}: not under /run/netns, so nft trace cannot enter it`);
  } else {
    targets.push(null, ...[...names.values()].slice(0, MAX_NAMESPACES));
    if (names.size > MAX_NAMESPACES) problems.push(`only the first ${MAX_NAMESPACES} of ${names.size} namespaces are traced`);
  }
  await reclaimStale(); // what a killed run left behind
  const filter = nftFilterOf(opts);
  const sessions: NftTraceSession[] = [];
  const watchers = new Map<number, { name: string; w: LegacyWatcher }>();
  await Promise.all(
    targets.map(async (netns) => {
      try {
        const w = await LegacyWatcher.start(netns);
        if (w) watchers.set(netns === null ? currentNetns() : resolveNetns(netns), { name: netns ?? '', w });
      } catch (err) {
        problems.push(`${netns ?? 'this namespace'}: iptables-legacy counters unreadable: ${(err as Error).message}`);
      }
    }),
  );
  const tracker = new LegacyPathTracker();
  const observed: { name: string; spots: number }[] = [];
  if (observers) {
    for (const [inode, { name, w }] of watchers) {
      const spots = planObservers(w.snapshot.names);
      try {
        for (const s of spots) attachSpot(observers, s, name ? join(NETNS_RUN_DIR, name) : null);
        tracker.setSpots(inode, spots);
        if (spots.length) observed.push({ name, spots: spots.length });
      } catch (err) {
        problems.push(`${name || 'this namespace'}: netfilter observers: ${(err as Error).message}; iptables-legacy drops are named from counters only`);
      }
    }
  }
  await Promise.all(
    targets.map(async (netns) => {
      const inode = netns === null ? currentNetns() : resolveNetns(netns);
      try {
        sessions.push(
          await startNftTrace({
            netns,
            filter,
            reclaim: false,
            // nft monitor shows every traced packet of the namespace, also those another
            // pktpath run (or the user) marked: keep the ones our own rule matched
            onTrace: (t) => {
              if (markedByUs(t)) onTrace(t, inode);
            },
            onError: (e) => onError(`netfilter path in ${netns ?? 'this namespace'}: ${e.message}`),
          }),
        );
      } catch (err) {
        problems.push(`${netns ?? 'this namespace'}: ${(err as Error).message}`);
      }
    }),
  );
  return {
    namespaces: sessions.map((s) => s.netns ?? ''),
    legacy: [...watchers.values()].map((x) => x.name),
    observed,
    tracker,
    explainLegacyStep: async (netns, tsNs, step) => {
      const base: NfStepJson = { pf: step.pf, table: step.table, chain: step.chain, hook: step.hook, verdict: step.verdict, rule: null };
      const entry = watchers.get(netns);
      if (!entry) return base;
      const d = await entry.w.explainStep({ atNs: tsNs, family: step.family, table: step.table, hook: step.hook, verdict: step.verdict });
      if (!d) return base;
      const rule = d.rule ?? (d.byPolicy ? `policy ${d.target} of chain ${d.chain}` : null);
      const ambiguous = d.ambiguous.length ? ` (ambiguous: ${d.ambiguous.join('; ')})` : '';
      return { ...base, rule: rule && `${rule}${ambiguous}` };
    },
    explainLegacyDrop: async (netns, tsNs, family) => {
      const entry = watchers.get(netns);
      if (!entry) return null;
      const d = await entry.w.explainDrop({ atNs: tsNs, family });
      if (!d) return null;
      const rule = d.rule ?? (d.byPolicy ? `policy DROP of chain ${d.chain}` : null);
      const ambiguous = d.ambiguous.length ? ` (ambiguous: ${d.ambiguous.join('; ')})` : '';
      return { pf: d.pf, table: d.table, chain: d.chain, hook: d.hook, verdict: 'DROP', rule: rule && `${rule}${ambiguous}` };
    },
    problems,
    stop: async () => {
      await Promise.all(sessions.map((s) => s.stop()));
    },
  };
}
