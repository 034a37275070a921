/**
 * --iptable: the netfilter path of each traced packet.
 *
 * - nftables and iptables-nft rulesets: nftables tracing (src/netfilter/io/nft-session.ts), one
 *   session per network namespace, turned into pktpath events.
 * - iptables-legacy rulesets, which nft trace does not see: BPF netfilter observers
 *   around each legacy table (src/netfilter/legacy/observers.ts, kernel 6.4+) give the table steps,
 *   and rule counters (src/netfilter/io/legacy-counters.ts) name the rule. On older kernels only the drops
 *   are named, from counters. See docs/netfilter.md.
 */
import { OWN_TABLE_RE } from '../model.js';
import type { NfJson, NfTrace } from '../model.js';
import type { NftTraceFilter } from '../nft/table.js';

type NfStepJson = NfJson;
import type { TraceOptions } from '../../cli/options.js';
import { netnsNames, resolveNetns, currentNetns } from '../../kernel/io/netns.js';
import { LegacyWatcher } from './legacy-counters.js';
import type { LegacyDrop } from './legacy-counters.js';
import { reclaimStale, startNftTrace } from './nft-session.js';
import { LegacyPathTracker, planObservers, priorityCandidates } from '../legacy/observers.js';
import type { LegacyStep, ObserverSpot } from '../legacy/observers.js';
import { native } from '../../engine/io/native.js';
import type { NativeError } from '../../engine/io/native.js';
import type { Observers } from '../../engine/io/loader.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NETNS_RUN_DIR } from '../../kernel/io/netns.js';
import type { NftTraceSession } from './nft-session.js';

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

/** How often namespaces and legacy tables that appear during a run are looked for. */
const POLL_MS = 1000;
/** How often a namespace whose legacy tables hold no rule is looked at again (one iptables-legacy-save). */
const RULES_RECHECK_MS = 3000;

/** Legacy table names of a namespace (null: ours), read in place: no process is started. */
function legacyTableNames(netns: string | null): string {
  const n = native();
  const path = netns === null ? null : join(NETNS_RUN_DIR, netns);
  const read = (f: string): string => {
    try {
      return n.readInNetns(path, f);
    } catch {
      return ''; // no x_tables in that family (the file is missing)
    }
  };
  return `${read('/proc/thread-self/net/ip_tables_names')}|${read('/proc/thread-self/net/ip6_tables_names')}`.replace(/\s+/g, ' ');
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
  const tracker = new LegacyPathTracker();
  const observed: { name: string; spots: number }[] = [];
  const legacy: string[] = [];
  const namespaces: string[] = [];
  /**
   * Traced namespaces without legacy rules, by name ('' = ours): the table names last seen
   * and when the rules were last looked at (tables that exist but hold no rule are looked
   * at again every RULES_RECHECK_MS: a rule added to them changes no names).
   */
  const unwatched = new Map<string, { tables: string; atMs: number }>();
  let stopped = false;

  const inodeOf = (netns: string | null): number => (netns === null ? currentNetns() : resolveNetns(netns));

  /** Starts counters and observers for a namespace's legacy rules; false when it has none. */
  const watchLegacy = async (netns: string | null, report: (p: string) => void): Promise<boolean> => {
    const name = netns ?? '';
    let w: LegacyWatcher | null;
    try {
      w = await LegacyWatcher.start(netns);
    } catch (err) {
      report(`${netns ?? 'this namespace'}: iptables-legacy counters unreadable: ${(err as Error).message}`);
      return false;
    }
    if (!w || stopped) return false;
    const inode = inodeOf(netns);
    watchers.set(inode, { name, w });
    legacy.push(name);
    if (observers) {
      const spots = planObservers(w.snapshot.names);
      try {
        for (const s of spots) attachSpot(observers, s, netns === null ? null : join(NETNS_RUN_DIR, netns));
        tracker.setSpots(inode, spots);
        if (spots.length) observed.push({ name, spots: spots.length });
      } catch (err) {
        report(`${netns ?? 'this namespace'}: netfilter observers: ${(err as Error).message}; iptables-legacy drops are named from counters only`);
      }
    }
    return true;
  };

  const startSession = async (netns: string | null, report: (p: string) => void): Promise<void> => {
    const inode = inodeOf(netns);
    try {
      const session = await startNftTrace({
        netns,
        filter,
        reclaim: false,
        // nft monitor shows every traced packet of the namespace, also those another
        // pktpath run (or the user) marked: keep the ones our own rule matched
        onTrace: (t) => {
          if (markedByUs(t)) onTrace(t, inode);
        },
        onError: (e) => onError(`netfilter path in ${netns ?? 'this namespace'}: ${e.message}`),
      });
      if (stopped) return void (await session.stop());
      sessions.push(session);
      namespaces.push(netns ?? '');
    } catch (err) {
      report(`${netns ?? 'this namespace'}: ${(err as Error).message}`);
    }
  };

  const addNamespace = async (netns: string | null, report: (p: string) => void): Promise<void> => {
    // the table names are read only for a namespace the poll has to keep looking at
    if (!(await watchLegacy(netns, report))) unwatched.set(netns ?? '', { tables: legacyTableNames(netns), atMs: Date.now() });
    await startSession(netns, report);
  };

  const attempted = new Set<string>(targets.map((t) => t ?? ''));
  await Promise.all(targets.map((netns) => addNamespace(netns, (p) => problems.push(p))));

  // ---- what appears during the run
  let polling = false;
  const poll = async (): Promise<void> => {
    // a namespace deleted while it was being added is not a problem worth a line
    const lateIn = (netns: string | null) => (p: string): void => {
      if (netns === null || existsSync(join(NETNS_RUN_DIR, netns))) onError(`netfilter path: ${p}`);
    };
    if (opts.netns === null) {
      for (const name of netnsNames().values()) {
        if (stopped || attempted.has(name)) continue;
        if (attempted.size > MAX_NAMESPACES) break;
        attempted.add(name);
        await addNamespace(name, lateIn(name));
        const spots = observed.find((o) => o.name === name)?.spots;
        onInfo(`netfilter path: now tracing namespace ${name}, created during the run${spots ? `; iptables-legacy path via BPF netfilter observers at ${spots} hook positions` : ''}`);
      }
    }
    for (const [name, seen] of [...unwatched]) {
      if (stopped) return;
      const netns = name === '' ? null : name;
      if (netns !== null && !existsSync(join(NETNS_RUN_DIR, netns))) {
        unwatched.delete(name); // gone
        continue;
      }
      const now = legacyTableNames(netns);
      const hasTables = /\w/.test(now);
      if (now === seen.tables && !(hasTables && Date.now() - seen.atMs >= RULES_RECHECK_MS)) continue;
      unwatched.set(name, { tables: now, atMs: Date.now() });
      if (!hasTables) continue;
      if (await watchLegacy(netns, lateIn(netns))) {
        unwatched.delete(name);
        const spots = observed.find((o) => o.name === name)?.spots;
        onInfo(`netfilter path: iptables-legacy rules appeared in ${name || 'this namespace'}: now watched${spots ? `, with BPF netfilter observers at ${spots} hook positions` : ''}`);
      }
    }
  };
  const timer = setInterval(() => {
    if (polling || stopped) return;
    polling = true;
    poll()
      .catch((err: unknown) => onError(`netfilter path: ${(err as Error).message}`))
      .finally(() => (polling = false));
  }, POLL_MS);
  timer.unref();

  return {
    namespaces,
    legacy,
    observed,
    tracker,
    explainLegacyStep: async (netns, tsNs, step) => {
      const base: NfStepJson = { pf: step.pf, table: step.table, chain: step.chain, hook: step.hook, verdict: step.verdict, rule: null };
      const entry = watchers.get(netns);
      if (!entry) return base;
      const d = await entry.w.explainStep({ atNs: tsNs, family: step.family, table: step.table, hook: step.hook, verdict: step.verdict });
      if (!d) return base;
      return { ...base, rule: ruleText(d) };
    },
    explainLegacyDrop: async (netns, tsNs, family) => {
      const entry = watchers.get(netns);
      if (!entry) return null;
      const d = await entry.w.explainDrop({ atNs: tsNs, family });
      if (!d) return null;
      return { pf: d.pf, table: d.table, chain: d.chain, hook: d.hook, verdict: 'DROP', rule: ruleText(d) };
    },
    problems,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await Promise.all(sessions.map((s) => s.stop()));
    },
  };
}
