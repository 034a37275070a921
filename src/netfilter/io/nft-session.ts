/**
 * Netfilter paths from nftables tracing: the OS edge.
 *
 * A session adds a table of its own, `table inet pktpath_<pid>`, with base chains on
 * prerouting and output at priority -500 (before raw, -300, and defragmentation, -400)
 * whose only statement is `meta nftrace set 1` on packets that match the filter. The
 * kernel then reports every nftables chain those packets go through (iptables-nft rules
 * included) to `nft monitor trace`, which runs in the same network namespace. Its lines
 * are parsed (core/nftrace.ts), grouped per packet and turned into Mytracer's
 * `2.filter.OUTPUT.DROP` path.
 *
 * Nothing else is changed: no verdict, no rule in anyone else's table. The table is
 * deleted by stop(), on process exit, SIGINT and SIGTERM; a run that was killed leaves
 * it behind, and reclaimStale() (run by every start) deletes tables whose process is
 * gone, in the current namespace and in every namespace under /run/netns. The monitor
 * gets PR_SET_PDEATHSIG (setpriv) so it dies with us even on SIGKILL.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EnvironmentError, UsageError } from '../../shared/errors.js';
import { OWN_TABLE_RE, chainKey, hookMapOf } from '../model.js';
import type { NfTrace, NftChainInfo, NftHookMap, NftTraceRecord } from '../model.js';
import { NftTraceAssembler } from '../nft/assemble.js';
import { parseNftChainsJson, parseNftRuleList } from '../nft/listing.js';
import { parseTraceLine } from '../nft/parse.js';
import { aggregateTrace } from '../nft/path.js';
import { ownTableName, traceMatchRules, traceTableScript } from '../nft/table.js';
import type { NftTraceFilter } from '../nft/table.js';
import { NETNS_RUN_DIR, netnsNames } from '../../kernel/io/netns.js';
import { pidAlive } from '../../shared/io/process.js';

export type { NfTrace, NftTraceRecord } from '../model.js';
export type { NftTraceFilter } from '../nft/table.js';

/* ------------------------------------------------------------------ running nft */

const NFT_TIMEOUT_MS = 10_000;

function nsArgv(netns: string | null, argv: readonly string[]): [string, string[]] {
  return netns === null ? [argv[0]!, argv.slice(1)] : ['ip', ['netns', 'exec', netns, ...argv]];
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `nft args...` in a namespace (null: ours), feeding `input` on stdin. Never rejects for a non-zero exit. */
function runNft(netns: string | null, args: readonly string[], input?: string): Promise<RunResult> {
  const [file, argv] = nsArgv(netns, ['nft', ...args]);
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), NFT_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new EnvironmentError(`cannot run nft: ${err.message}`, { cause: err }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

async function nftOk(netns: string | null, args: readonly string[], input?: string): Promise<string> {
  const r = await runNft(netns, args, input);
  if (r.code !== 0) {
    const where = netns === null ? '' : ` (netns ${netns})`;
    throw new Error(`nft ${args.join(' ')}${where}: ${firstError(r.stderr) || `exit ${r.code}`}`);
  }
  return r.stdout;
}

/** nft's error lines without its warnings about iptables-nft tables. */
function firstError(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('# Warning'))
    .join(' | ')
    .trim();
}

/** Delete a table of ours, synchronously (exit and signal paths). True when it is gone. */
function deleteTableSync(netns: string | null, table: string): boolean {
  const [file, argv] = nsArgv(netns, ['nft', 'delete', 'table', 'inet', table]);
  try {
    execFileSync(file, argv, { stdio: ['ignore', 'ignore', 'pipe'], timeout: NFT_TIMEOUT_MS });
    return true;
  } catch (err) {
    return /No such file or directory/.test(String((err as { stderr?: Buffer }).stderr ?? ''));
  }
}

async function deleteTable(netns: string | null, table: string): Promise<void> {
  const r = await runNft(netns, ['delete', 'table', 'inet', table]);
  if (r.code !== 0 && !/No such file or directory/.test(r.stderr)) {
    throw new Error(`nft delete table inet ${table}${netns === null ? '' : ` (netns ${netns})`}: ${firstError(r.stderr)}`);
  }
}

function haveCommand(name: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (dir && existsSync(join(dir, name))) return true;
  }
  return false;
}

/* ------------------------------------------------------------------ processes */


/** Start time of a process in clock ticks since boot (/proc/PID/stat field 22); null if gone. */
function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall; fields[0] is field 3
  } catch {
    return null;
  }
}

/** The comment pktpath writes into its tables: who made it, so a reused pid is told apart. */
function ownerComment(pid: number): string {
  return `pktpath pid=${pid} start=${procStartTime(pid) ?? '?'}`;
}

/* ------------------------------------------------------------------ stale tables */

export interface ReclaimOptions {
  /** directory of named namespaces (default /run/netns) */
  runDir?: string;
  /** also look in the current namespace (default true) */
  current?: boolean;
}

/** A table reclaimStale() removed. */
export interface ReclaimedTable {
  /** namespace name under /run/netns, null for the current namespace */
  netns: string | null;
  table: string;
  pid: number;
}

/** Namespaces to visit: the current one (null) and one name per distinct namespace under runDir. */
function namespacesToVisit(runDir: string, current: boolean): (string | null)[] {
  const self = (() => {
    try {
      return statSync('/proc/self/ns/net').ino;
    } catch {
      return -1;
    }
  })();
  const out: (string | null)[] = current ? [null] : [];
  for (const [ino, name] of netnsNames(runDir)) if (!current || ino !== self) out.push(name);
  return out;
}

async function staleTablesIn(netns: string | null): Promise<{ table: string; pid: number }[]> {
  const r = await runNft(netns, ['-j', 'list', 'tables']);
  if (r.code !== 0) return [];
  let doc: { nftables?: { table?: { family?: string; name?: string } }[] };
  try {
    doc = JSON.parse(r.stdout) as typeof doc;
  } catch {
    return [];
  }
  const out: { table: string; pid: number }[] = [];
  for (const item of doc.nftables ?? []) {
    const t = item.table;
    if (t?.family !== 'inet' || typeof t.name !== 'string') continue;
    const m = OWN_TABLE_RE.exec(t.name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue; // ours: our own exit handlers own it
    if (!pidAlive(pid)) {
      out.push({ table: t.name, pid });
      continue;
    }
    // The pid is taken. Stale anyway if the table names another process start time.
    const listing = await runNft(netns, ['list', 'table', 'inet', t.name]);
    const c = /comment "pktpath pid=(\d+) start=(\d+)"/.exec(listing.stdout);
    const now = procStartTime(pid);
    if (c && now !== null && c[2] !== now) out.push({ table: t.name, pid });
  }
  return out;
}

/**
 * Delete `inet pktpath_<pid>` tables left by pktpath runs that are gone (killed with
 * SIGKILL, crashed), in the current namespace and every namespace under /run/netns.
 * A table counts as stale when its pid is not alive, or is alive but started at another
 * time than the table's comment says (the pid was reused). Tables of this process and
 * of live pktpath runs are left alone. Returns what was removed.
 */
export async function reclaimStale(opts: ReclaimOptions = {}): Promise<ReclaimedTable[]> {
  if (!haveCommand('nft')) return [];
  const visit = namespacesToVisit(opts.runDir ?? NETNS_RUN_DIR, opts.current ?? true);
  const removed: ReclaimedTable[] = [];
  const work = async (netns: string | null): Promise<void> => {
    for (const { table, pid } of await staleTablesIn(netns)) {
      try {
        await deleteTable(netns, table);
        removed.push({ netns, table, pid });
      } catch {
        /* raced with its owner or another reclaimer; the next start tries again */
      }
    }
  };
  // a few at a time: each visit is a process or two
  const queue = [...visit];
  const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let ns = queue.shift(); ns !== undefined; ns = queue.shift()) await work(ns);
  });
  await Promise.all(workers);
  return removed;
}

/* ------------------------------------------------------------------ hooks and rules */

/** family/table/chain -> hook and priority for the namespace's chains (`nft -j list chains`). */
export async function nftRulesetHooks(netns: string | null): Promise<Map<string, NftChainInfo>> {
  return hookMapOf(parseNftChainsJson(await nftOk(netns, ['-j', 'list', 'chains'])));
}

/** family/table/chain/handle -> rule text, from `nft -a list ruleset`. */
async function ruleTexts(netns: string | null): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const r of parseNftRuleList(await nftOk(netns, ['-a', 'list', 'ruleset']))) {
    m.set(`${chainKey(r.family, r.table, r.chain)}\u0000${r.handle}`, r.text);
  }
  return m;
}

/* ------------------------------------------------------------------ monitor readiness */

const NETLINK_NETFILTER = 12;
const NFNLGRP_NFTRACE_BIT = 1 << (9 - 1);

/** The monitor's trace socket: subscribed yet, and how many messages the kernel dropped on it. */
function traceSocketState(pid: number): { subscribed: boolean; drops: number } | null {
  let inodes: Set<string>;
  let table: string;
  try {
    inodes = new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((x): x is string => x !== undefined),
    );
    table = readFileSync(`/proc/${pid}/net/netlink`, 'utf8');
  } catch {
    return null;
  }
  for (const line of table.split('\n').slice(1)) {
    const c = line.trim().split(/\s+/);
    if (c.length < 10 || Number(c[1]) !== NETLINK_NETFILTER || !inodes.has(c[9]!)) continue;
    if ((parseInt(c[3]!, 16) & NFNLGRP_NFTRACE_BIT) === 0) continue;
    return { subscribed: true, drops: Number(c[8]) || 0 };
  }
  return { subscribed: false, drops: 0 };
}

/* ------------------------------------------------------------------ sessions */

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
  /** Delete the table, stop the monitor, deliver what is left. Idempotent. */
  stop(): Promise<NftTraceStats>;
}

interface Live {
  netns: string | null;
  table: string;
  monitor: ChildProcess | null;
  /** synchronous cleanup for exit/signal paths */
  cleanupSync(): void;
}

const live = new Set<Live>();
let handlersOn = false;

function cleanupAllSync(): void {
  for (const l of [...live]) {
    live.delete(l);
    try {
      l.cleanupSync();
    } catch {
      /* best effort at exit */
    }
  }
}

function onSignal(sig: NodeJS.Signals): void {
  cleanupAllSync();
  const others = process.listenerCount(sig) - 1;
  removeHandlers();
  // Nobody else handles this signal: die of it. Someone else does (e.g. the CLI stops
  // gracefully): let them, but if the process is still alive 3 s later (every handler
  // waiting for another one to exit), die of it then.
  if (others <= 0) process.kill(process.pid, sig);
  else {
    setTimeout(() => {
      process.removeAllListeners(sig);
      process.kill(process.pid, sig);
    }, 3000).unref();
  }
}

function installHandlers(): void {
  if (handlersOn) return;
  handlersOn = true;
  process.on('exit', cleanupAllSync);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function removeHandlers(): void {
  if (!handlersOn) return;
  handlersOn = false;
  process.off('exit', cleanupAllSync);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

function unregister(l: Live): void {
  live.delete(l);
  if (live.size === 0) removeHandlers();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Start tracing: reclaim stale tables, add pktpath's table, start `nft monitor trace`
 * in the namespace and wait until it has subscribed. Throws UsageError for a bad filter
 * or an unknown namespace, EnvironmentError when not root or nft is missing.
 */
export async function startNftTrace(opts: NftTraceOptions): Promise<NftTraceSession> {
  if (process.getuid?.() !== 0) throw new EnvironmentError('nftables tracing needs root');
  if (!haveCommand('nft')) throw new EnvironmentError('nftables tracing needs `nft` (Debian package nftables)');
  const netns = opts.netns;
  if (netns !== null) {
    if (!/^[A-Za-z0-9_.-]+$/.test(netns) || netns === '.' || netns === '..' || !existsSync(join(NETNS_RUN_DIR, netns))) {
      throw new UsageError(`unknown network namespace "${netns}": not a name under ${NETNS_RUN_DIR}`);
    }
    if (!haveCommand('ip')) throw new EnvironmentError('tracing in a named namespace needs `ip` (iproute2)');
  }
  let matchRules: string[];
  try {
    matchRules = traceMatchRules(opts.filter);
  } catch (err) {
    throw new UsageError(`bad trace filter: ${(err as Error).message}`, { cause: err });
  }
  if (opts.reclaim ?? true) await reclaimStale();

  // one table per namespace per process; a second session in the same namespace gets _<n>
  let seq = 0;
  while ([...live].some((l) => l.netns === netns && l.table === ownTableName(process.pid, seq))) seq++;
  const table = ownTableName(process.pid, seq);
  const script = traceTableScript(table, opts.filter, ownerComment(process.pid));

  const l: Live = {
    netns,
    table,
    monitor: null,
    cleanupSync() {
      if (this.monitor && this.monitor.exitCode === null && this.monitor.signalCode === null) this.monitor.kill('SIGKILL');
      deleteTableSync(netns, table);
    },
  };
  live.add(l);
  installHandlers();

  try {
    await nftOk(netns, ['-f', '-'], script);
  } catch (err) {
    unregister(l);
    await deleteTable(netns, table).catch(() => undefined);
    throw new EnvironmentError(`cannot add the tracing table: ${(err as Error).message}`, { cause: err });
  }

  // the monitor dies with us (PR_SET_PDEATHSIG) when setpriv is there
  const mon = [...(haveCommand('setpriv') ? ['setpriv', '--pdeathsig', 'KILL'] : []), 'nft', '-a', 'monitor', 'trace'];
  const [file, argv] = nsArgv(netns, mon);
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  l.monitor = child;

  const stats: NftTraceStats = { lines: 0, records: 0, unparsed: 0, traces: 0, netlinkDrops: null };
  let stderr = '';
  let stopping = false;
  let exited = false;
  const closed = new Promise<void>((resolve) => child.on('close', () => ((exited = true), resolve())));
  child.on('error', () => undefined); // reported through 'close' and the readiness check
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 8192) stderr += d;
  });

  // ---- delivery: group -> (resolve unknown rules, hooks) -> NfTrace, in order
  let hooks: Map<string, NftChainInfo> = new Map();
  let hooksAt = -Infinity;
  let rules: Map<string, string> | null = null;
  let rulesAt = -Infinity;
  const buffered: NfTrace[] = [];
  const waiters: ((r: IteratorResult<NfTrace>) => void)[] = [];
  let buffering = false;
  let ended = false;
  const report = (err: unknown): void => {
    opts.onError?.(err instanceof Error ? err : new Error(String(err)));
  };

  const refreshHooks = async (): Promise<NftHookMap> => {
    hooks = await nftRulesetHooks(netns);
    hooksAt = performance.now();
    return hooks;
  };
  const resolveRules = async (records: NftTraceRecord[]): Promise<NftTraceRecord[]> => {
    if (!records.some((r) => r.unknownRule && r.rule === undefined)) return records;
    const lookup = (r: NftTraceRecord): string | undefined =>
      rules?.get(`${chainKey(r.family, r.table, r.chain)}\u0000${r.handle}`);
    if (records.some((r) => r.unknownRule && lookup(r) === undefined) && performance.now() - rulesAt > 100) {
      rules = await ruleTexts(netns);
      rulesAt = performance.now();
    }
    return records.map((r) => {
      const text = r.unknownRule ? lookup(r) : undefined;
      return text === undefined ? r : { ...r, rule: text };
    });
  };
  const deliver = async (group: NftTraceRecord[]): Promise<void> => {
    const records = await resolveRules(group);
    const missing = records.some((r) => r.kind === 'packet' && !OWN_TABLE_RE.test(r.table) && !hooks.has(chainKey(r.family, r.table, r.chain)));
    if (missing && performance.now() - hooksAt > 100) await refreshHooks();
    const trace = aggregateTrace(records, hooks);
    stats.traces++;
    opts.onTrace?.(trace);
    const w = waiters.shift();
    if (w) w({ value: trace, done: false });
    else if (buffering) buffered.push(trace);
  };
  let pipeline: Promise<void> = Promise.resolve();
  const assembler = new NftTraceAssembler(
    (group) => {
      pipeline = pipeline.then(() => deliver(group)).catch(report);
    },
    { idleMs: opts.idleMs ?? 200 },
  );

  // ---- reading the monitor
  let partial = '';
  const onLine = (line: string): void => {
    stats.lines++;
    const rec = parseTraceLine(line);
    if (!rec) {
      if (line.trim()) stats.unparsed++;
      return;
    }
    stats.records++;
    try {
      opts.onRecord?.(rec);
    } catch (err) {
      report(err);
    }
    assembler.push(rec, performance.now());
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) onLine(line);
  });
  const idleMs = opts.idleMs ?? 200;
  // Idle groups are closed from the check phase (setImmediate), after the poll phase has
  // read what the monitor wrote meanwhile: when the loop was busy for longer than idleMs,
  // the rest of a packet's lines is already in the pipe and must join its group first.
  const ticker = setInterval(() => setImmediate(() => assembler.flushIdle(performance.now())), Math.max(10, Math.floor(idleMs / 2)));
  ticker.unref();

  child.on('close', (code, signal) => {
    if (partial) onLine(partial);
    partial = '';
    if (!stopping) report(new Error(`nft monitor trace exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${firstError(stderr)}` : ''}`));
  });

  const endIterators = (): void => {
    ended = true;
    for (const w of waiters.splice(0)) w({ value: undefined, done: true });
  };

  let stopped: Promise<NftTraceStats> | null = null;
  const stop = (): Promise<NftTraceStats> => {
    stopped ??= (async () => {
      stopping = true;
      const sock = child.pid !== undefined && !exited ? traceSocketState(child.pid) : null;
      if (sock) stats.netlinkDrops = sock.drops;
      let tableErr: unknown = null;
      try {
        await deleteTable(netns, table); // no new traces from here on
      } catch (err) {
        tableErr = err;
      }
      if (!exited) {
        await sleep(50); // let the monitor print what the kernel already queued
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 1000);
        await closed;
        clearTimeout(t);
      }
      clearInterval(ticker);
      assembler.flushAll();
      await pipeline;
      endIterators();
      if (tableErr) throw tableErr; // the exit-time cleanup stays registered and tries again
      unregister(l);
      return { ...stats };
    })();
    return stopped;
  };

  // ---- wait until the monitor listens (or fails)
  const readyBy = performance.now() + (opts.readyTimeoutMs ?? 5000);
  for (;;) {
    if (exited) {
      await stop().catch(() => undefined);
      throw new EnvironmentError(`nft monitor trace did not start${netns === null ? '' : ` in netns ${netns}`}: ${firstError(stderr) || 'it exited'}`);
    }
    const st = child.pid === undefined ? null : traceSocketState(child.pid);
    if (st?.subscribed) break;
    if (performance.now() > readyBy) {
      await stop().catch(() => undefined);
      throw new EnvironmentError(`nft monitor trace did not subscribe to trace events within ${opts.readyTimeoutMs ?? 5000} ms`);
    }
    await sleep(10);
  }
  await refreshHooks().catch(report);

  const session: NftTraceSession = {
    table,
    netns,
    monitorPid: child.pid!,
    matchRules,
    traces() {
      buffering = true;
      const it: AsyncIterableIterator<NfTrace> = {
        next(): Promise<IteratorResult<NfTrace>> {
          const v = buffered.shift();
          if (v) return Promise.resolve({ value: v, done: false });
          if (ended) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => waiters.push(resolve));
        },
        return(): Promise<IteratorResult<NfTrace>> {
          return Promise.resolve({ value: undefined, done: true });
        },
        [Symbol.asyncIterator]() {
          return it;
        },
      };
      return it;
    },
    stats() {
      const s = { ...stats };
      const sock = child.pid !== undefined && !exited ? traceSocketState(child.pid) : null;
      if (sock) s.netlinkDrops = sock.drops;
      return s;
    },
    stop,
  };
  return session;
}
