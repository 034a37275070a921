/**
 * iptables-legacy (x_tables) drops, named by their counters.
 *
 * nft trace cannot see x_tables rules (docs/netfilter.md); pktpath sees their drops as
 * kfree_skb with reason NETFILTER_DROP. A LegacyWatcher snapshots `iptables-legacy-save -c`
 * and `ip6tables-legacy-save -c` in one namespace when the trace starts. On each drop it
 * takes a new snapshot and diffs: the DROP/REJECT rule or the DROP policy whose packet
 * counter grew is the one that dropped (src/netfilter/legacy/iptsave.ts).
 *
 * One snapshot is one process: `[ip netns exec NS] sh -c '...'`, which reads
 * /proc/net/ip{,6}_tables_names and runs a save only for a family that has tables. So a
 * namespace without legacy tables costs no save, and nothing loads or instantiates a
 * table (iptables-save only walks the names file; `iptables-legacy -L` would create
 * `filter`). Read-only: no rule, counter or table is ever changed.
 */
import { spawn } from 'node:child_process';
import { EnvironmentError } from '../../shared/errors.js';
import { describeCandidate, diffCounted, hasRules, isAcceptCandidate, isDropCandidate, parseIptablesSave } from '../legacy/iptsave.js';
import type { DropCandidate, IptTable } from '../legacy/iptsave.js';
import type { NfHook } from '../model.js';
import { interrupted, nsArgv, requireNamedNetns } from './exec.js';

export type { DropCandidate, IptTable } from '../legacy/iptsave.js';

export type LegacyFamily = 'ipv4' | 'ipv6';

const SNAPSHOT_TIMEOUT_MS = 10_000;
/** Diffs kept to answer drops that happened before the latest snapshot. */
const HISTORY = 16;
const MARK = '#pktpath-legacy:';

/**
 * Reads the names files first and saves only a family that has tables. The names are
 * read with shell builtins (no `cat` fork: that saves about 3 ms a snapshot). Each
 * section starts with a marker line; `iptables-save` prints comments starting with "# ",
 * so the markers cannot clash with its output.
 */
const SCRIPT = [
  'n4=; n6=',
  'f=/proc/net/ip_tables_names; if [ -e $f ]; then [ -r $f ] || exit 92; while read -r t; do n4="$n4$t "; done < $f; fi',
  'f=/proc/net/ip6_tables_names; if [ -e $f ]; then [ -r $f ] || exit 92; while read -r t; do n6="$n6$t "; done < $f; fi',
  `echo '${MARK}names4'; echo "$n4"`,
  `echo '${MARK}names6'; echo "$n6"`,
  `echo '${MARK}save4'; if [ -n "$n4" ]; then iptables-legacy-save -c || exit 90; fi`,
  `echo '${MARK}save6'; if [ -n "$n6" ]; then ip6tables-legacy-save -c || exit 91; fi`,
  `echo '${MARK}end'`,
].join('\n');

/** One snapshot of a namespace's legacy rulesets, both families. */
export interface LegacySnapshot {
  /** tables listed in /proc/net/ip_tables_names and ip6_tables_names */
  names: Record<LegacyFamily, string[]>;
  ipv4: IptTable[];
  ipv6: IptTable[];
  /** CLOCK_MONOTONIC (process.hrtime.bigint(), the clock of BPF's ts_ns) before the command started and after it ended */
  startNs: bigint;
  endNs: bigint;
}

function withSbin(path: string | undefined): string {
  const dirs = (path ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter(Boolean);
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!dirs.includes(d)) dirs.push(d);
  return dirs.join(':');
}

/** Splits the script's output into its sections. */
function sections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | null = null;
  let body: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(MARK)) {
      if (name !== null) out.set(name, body.join('\n'));
      name = line.slice(MARK.length).trim();
      body = [];
    } else if (name !== null) body.push(line);
  }
  if (name !== null) out.set(name, body.join('\n'));
  return out;
}

const names = (text: string | undefined): string[] =>
  (text ?? '')
    .split(/\s+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** How the snapshot script ended. */
interface ScriptRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  /** stderr lines joined with " | " */
  err: string;
  startNs: bigint;
  endNs: bigint;
}

/** Runs the snapshot script in a namespace (null: ours). Rejects only when the process cannot start. */
function runScript(netns: string | null): Promise<ScriptRun> {
  const [file, argv] = nsArgv(netns, ['sh', '-c', SCRIPT]);
  return new Promise((resolve, reject) => {
    const startNs = process.hrtime.bigint();
    const env = { ...process.env, PATH: withSbin(process.env.PATH), LC_ALL: 'C' };
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, SNAPSHOT_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new EnvironmentError(`cannot run ${file}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const err = stderr.trim().split('\n').filter(Boolean).join(' | ');
      resolve({ code, signal, timedOut, stdout, err, startNs, endNs: process.hrtime.bigint() });
    });
  });
}

/** The snapshot a run of the script gives; throws what went wrong (see the exit codes in SCRIPT). */
function snapshotOf(r: ScriptRun, where: string): LegacySnapshot {
  if (r.timedOut) throw new Error(`iptables-legacy-save${where}: no answer after ${SNAPSHOT_TIMEOUT_MS} ms`);
  if (r.code === 92) throw new EnvironmentError(`reading /proc/net/ip_tables_names${where} needs root`);
  if (r.code === 90 || r.code === 91) {
    const tool = r.code === 90 ? 'iptables-legacy-save' : 'ip6tables-legacy-save';
    throw new Error(`${tool} -c${where} failed: ${r.err || 'no message'}`);
  }
  if (r.code !== 0) throw new Error(`snapshot of legacy rules${where} failed (${r.code ?? r.signal}): ${r.err || 'no message'}`);
  const s = sections(r.stdout);
  if (!s.has('end')) throw new Error(`snapshot of legacy rules${where}: output cut short`);
  try {
    return {
      names: { ipv4: names(s.get('names4')), ipv6: names(s.get('names6')) },
      ipv4: parseIptablesSave(s.get('save4') ?? ''),
      ipv6: parseIptablesSave(s.get('save6') ?? ''),
      startNs: r.startNs,
      endNs: r.endNs,
    };
  } catch (e) {
    throw new Error(`legacy rules${where}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Snapshot of the legacy rulesets (with counters) in a namespace: a name under
 * /run/netns, or null for pktpath's own. Throws UsageError for an unknown namespace,
 * EnvironmentError when `ip`/`sh` cannot run, Error when a save fails or its output
 * does not parse.
 */
export async function legacySnapshot(netns: string | null): Promise<LegacySnapshot> {
  requireNamedNetns(netns);
  let r = await runScript(netns);
  if (interrupted(r.signal)) r = await runScript(netns);
  return snapshotOf(r, netns === null ? '' : ` in netns ${netns}`);
}

/** True when the snapshot holds a legacy rule or a non-ACCEPT builtin policy (either family). */
export function snapshotHasRules(s: LegacySnapshot): boolean {
  return hasRules(s.ipv4) || hasRules(s.ipv6);
}

/**
 * Does the namespace (a name under /run/netns, null: ours) have legacy rules? Reads
 * /proc/net/ip_tables_names and ip6_tables_names in it first: empty means no legacy
 * table, and no save runs. A table with empty chains and ACCEPT policies is not a rule.
 */
export async function legacyRulesIn(netns: string | null): Promise<boolean> {
  return snapshotHasRules(await legacySnapshot(netns));
}

/* ------------------------------------------------------------------ watcher */

export interface LegacyCandidate extends DropCandidate {
  family: LegacyFamily;
}

/** What a legacy drop (or, with explainStep, a table step) was, by counters. */
export interface LegacyDrop {
  family: LegacyFamily;
  /** NFPROTO: 2 (ipv4) or 10 (ipv6) */
  pf: 2 | 10;
  table: string;
  chain: string;
  hook: NfHook | null;
  /** the rule as iptables-save prints it (`-A OUTPUT ... -j DROP`); null when the chain policy dropped */
  rule: string | null;
  /** the rule's 1-based index in its chain; null for a policy */
  index: number | null;
  /** true when the chain's DROP policy counted the packet */
  byPolicy: boolean;
  /** the rule's target: `DROP`, `REJECT`, `DNAT`, `ACCEPT`... (the policy for a policy) */
  target: string;
  verdict: 'DROP' | 'ACCEPT';
  /** packets the rule or policy counted since the snapshot before */
  packets: number;
  /**
   * Empty when exactly one rule or policy counted a drop. Otherwise every candidate, one
   * line each (`ipv4 filter OUTPUT #2: -A OUTPUT ... -j DROP (+1 packet)`); the fields
   * above then describe the candidate that counted the most packets (the first on a tie).
   */
  ambiguous: string[];
  candidates: LegacyCandidate[];
}

export interface ExplainOptions {
  /**
   * CLOCK_MONOTONIC time of the drop (the kfree_skb event's ts_ns). With it, a drop that
   * an earlier snapshot already counted is answered from that snapshot's diff, so a burst
   * of drops costs one snapshot, not one each.
   */
  atNs?: bigint;
  /** only candidates of this family (the dropped packet's) */
  family?: LegacyFamily | 4 | 6;
}

/** A table step the observers saw (src/netfilter/legacy/observers.ts): which rule decided it. */
export interface StepQuery extends ExplainOptions {
  table: string;
  hook: NfHook;
  verdict: 'DROP' | 'ACCEPT';
}

/** Snapshots of one namespace are at least this far apart: a burst is answered by one. */
const MIN_SNAPSHOT_GAP_MS = 50;

interface DiffRecord {
  fromStartNs: bigint;
  toStartNs: bigint;
  toEndNs: bigint;
  candidates: LegacyCandidate[];
}

function familyOf(f: ExplainOptions['family']): LegacyFamily | null {
  if (f === undefined) return null;
  return f === 4 || f === 'ipv4' ? 'ipv4' : 'ipv6';
}

type Want = (c: LegacyCandidate) => boolean;

function answer(all: readonly LegacyCandidate[], want: Want, verdict: 'DROP' | 'ACCEPT'): LegacyDrop | null {
  const cands = all.filter(want);
  if (cands.length === 0) return null;
  let best = cands[0]!;
  for (const c of cands) if (c.packets > best.packets) best = c;
  return {
    family: best.family,
    pf: best.family === 'ipv4' ? 2 : 10,
    table: best.table,
    chain: best.chain,
    hook: best.hook,
    rule: best.rule,
    index: best.index,
    byPolicy: best.kind === 'policy',
    target: best.target,
    verdict,
    packets: best.packets,
    ambiguous: cands.length > 1 ? cands.map((c) => describeCandidate(c, `${c.family} `)) : [],
    candidates: cands,
  };
}

function diffSnapshots(a: LegacySnapshot, b: LegacySnapshot): LegacyCandidate[] {
  return [
    ...diffCounted(a.ipv4, b.ipv4).map((c) => ({ ...c, family: 'ipv4' as const })),
    ...diffCounted(a.ipv6, b.ipv6).map((c) => ({ ...c, family: 'ipv6' as const })),
  ];
}

/**
 * Watches one namespace's legacy counters. Calls are serialized: concurrent
 * explainDrop() calls queue, and each diff is against the snapshot before it.
 *
 * @example
 *   const w = await LegacyWatcher.start('srv');       // null: no legacy rules there
 *   // ... on kfree_skb reason NETFILTER_DROP in that namespace:
 *   const why = await w?.explainDrop({ atNs: ev.tsNs, family: 4 });
 *   // {table: 'filter', chain: 'INPUT', hook: 'input', rule: null, byPolicy: true, ...}
 */
export class LegacyWatcher {
  private last: LegacySnapshot;
  private readonly history: DiffRecord[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private count = 1;
  private totalNs: bigint;

  private constructor(
    readonly netns: string | null,
    first: LegacySnapshot,
  ) {
    this.last = first;
    this.totalNs = first.endNs - first.startNs;
  }

  /**
   * Takes the first snapshot. Resolves to null when the namespace has no legacy rules
   * (no legacy table, or only empty chains with ACCEPT policies): rules loaded later are
   * not watched; call start() again to pick them up.
   */
  static async start(netns: string | null): Promise<LegacyWatcher | null> {
    const first = await legacySnapshot(netns);
    return snapshotHasRules(first) ? new LegacyWatcher(netns, first) : null;
  }

  /** The latest snapshot. */
  get snapshot(): LegacySnapshot {
    return this.last;
  }

  /** Snapshots taken (the first included) and their mean duration in ms. */
  stats(): { snapshots: number; meanMs: number } {
    return { snapshots: this.count, meanMs: Number(this.totalNs / BigInt(this.count)) / 1e6 };
  }

  /**
   * Which legacy rule or policy dropped: takes a new snapshot, diffs it against the last
   * one, and keeps it as the last. Null when no DROP/REJECT rule and no DROP policy
   * counted a packet in between (the drop came from nftables, or from a target this does
   * not know, or was counted before start()).
   */
  explainDrop(opts: ExplainOptions = {}): Promise<LegacyDrop | null> {
    const family = familyOf(opts.family);
    return this.enqueue(opts.atNs, (c) => isDropCandidate(c) && (family === null || c.family === family), 'DROP');
  }

  /**
   * Which rule (or policy) decided a table step the observers saw: a DROP/REJECT rule or
   * DROP policy for a DROP, an ACCEPT/NAT rule or ACCEPT policy for an ACCEPT, counted in
   * that table at that hook (a user chain reached from it included).
   */
  explainStep(q: StepQuery): Promise<LegacyDrop | null> {
    const family = familyOf(q.family);
    const kind = q.verdict === 'DROP' ? isDropCandidate : isAcceptCandidate;
    return this.enqueue(
      q.atNs,
      (c) => kind(c) && c.table === q.table && (c.hook === q.hook || c.hook === null) && (family === null || c.family === family),
      q.verdict,
    );
  }

  private enqueue(at: bigint | undefined, want: Want, verdict: 'DROP' | 'ACCEPT'): Promise<LegacyDrop | null> {
    const run = this.queue.then(() => this.explain(at, want, verdict));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async explain(at: bigint | undefined, want: Want, verdict: 'DROP' | 'ACCEPT'): Promise<LegacyDrop | null> {
    // already counted by the latest snapshot: answer from the diffs we have
    if (at !== undefined && at < this.last.startNs) return this.fromHistory(at, want, verdict);
    const gapMs = Number(this.last.endNs - process.hrtime.bigint()) / 1e6 + MIN_SNAPSHOT_GAP_MS;
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    const snap = await legacySnapshot(this.netns);
    const rec: DiffRecord = { fromStartNs: this.last.startNs, toStartNs: snap.startNs, toEndNs: snap.endNs, candidates: diffSnapshots(this.last, snap) };
    this.last = snap;
    this.count++;
    this.totalNs += snap.endNs - snap.startNs;
    this.history.push(rec);
    if (this.history.length > HISTORY) this.history.shift();
    const now = answer(rec.candidates, want, verdict);
    if (now !== null || at === undefined) return now;
    // a drop during the previous snapshot may have been counted by it
    return this.fromHistory(at, want, verdict);
  }

  /**
   * From a diff that can have counted a drop at `at`: its earlier snapshot started
   * before the drop and its later one ended after it. Snapshots follow each other, so at
   * most two diffs qualify (two when the drop fell during a snapshot); the earlier one
   * with a candidate wins.
   */
  private fromHistory(at: bigint, want: Want, verdict: 'DROP' | 'ACCEPT'): LegacyDrop | null {
    for (const d of this.history) {
      if (!(d.fromStartNs < at && at < d.toEndNs)) continue;
      const a = answer(d.candidates, want, verdict);
      if (a !== null) return a;
    }
    return null;
  }
}
