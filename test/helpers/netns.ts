/**
 * Test, demo and bench support: two network namespaces joined by a veth pair, and a
 * driver for `pktpath trace --json`.
 *
 * Topology (X is a subnet number unique among live topologies on this machine):
 *
 *     pp-<tag>-<pid>-<n>-cli               pp-<tag>-<pid>-<n>-srv
 *     pp<X>c  10.199.X.1/24  <== veth ==>  pp<X>s  10.199.X.2/24
 *             fd00:199:X::1/64                     fd00:199:X::2/64
 *
 * Everything created is removed by `destroy()`, and also on process exit, SIGINT and
 * SIGTERM. Traffic helpers only address the two namespaces' own addresses.
 *
 * @example
 *   await withTopology(async (topo) => {
 *     const trace = await spawnTrace(['-H', topo.server.v4, '--proto', 'icmp']);
 *     await topo.ping(topo.client, topo.server.v4);
 *     const { events } = await trace.stop();
 *   }, { tag: 'icmp' });
 */
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { haveCommand, killAllTraffic, ping, runInNs, runProc, tcpConnect, tcpListen } from './traffic.js';
import type { ConnectResult, PingOptions, PingResult, ProcResult, TcpListener } from './traffic.js';
import type { Tuple } from '../../src/engine/event.js';
import { pidAlive } from '../../src/shared/io/process.js';

export { haveCommand, ping, runInNs, tcpConnect, tcpListen } from './traffic.js';
export type { ConnectOutcome, ConnectResult, PingOptions, PingResult, ProcResult, TcpListener } from './traffic.js';

// ---------------------------------------------------------------- paths

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'pktpath') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error('pktpath test helpers: cannot find the repository root (package.json named "pktpath")');
}

/** Repository root (the directory holding pktpath's package.json). */
export const REPO_ROOT = findRepoRoot();
/** The CLI under test; PKTPATH_BIN overrides. */
export const PKTPATH_BIN = process.env.PKTPATH_BIN ?? join(REPO_ROOT, 'bin', 'pktpath');
/**
 * How a user runs pktpath: the executable itself, so its shebang's V8 flags apply (the
 * memory bounds are measured this way); through this Node when PKTPATH_BIN names a script.
 */
export const PKTPATH_EXEC: readonly [string, ...string[]] = process.env.PKTPATH_BIN ? [process.execPath, PKTPATH_BIN] : [PKTPATH_BIN];
/** The compiled CLI that bin/pktpath runs (checked only when PKTPATH_BIN is not set). */
export const CLI_ENTRY = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
/** The compiled BPF object the CLI loads. */
export const BPF_OBJECT = join(REPO_ROOT, 'build', 'pktpath.bpf.o');

// ---------------------------------------------------------------- prerequisites

/** What a test needs from the machine. Every field defaults to true. */
export interface Needs {
  /** uid 0 (BPF and namespaces) */
  root?: boolean;
  /** /sys/kernel/btf/vmlinux */
  btf?: boolean;
  /** `ip` from iproute2 (namespaces) */
  netns?: boolean;
  /** bin/pktpath and the compiled CLI it runs (dist/src/cli/main.js) exist */
  cli?: boolean;
  /** build/pktpath.bpf.o exists */
  bpfObject?: boolean;
  /** extra commands that must be on PATH, e.g. ['iptables'] */
  commands?: string[];
}

/** The first unmet prerequisite as a human reason, or null when all are met. */
export function missingPrereq(needs: Needs = {}): string | null {
  const want = (k: keyof Omit<Needs, 'commands'>): boolean => needs[k] ?? true;
  if (want('root') && process.getuid?.() !== 0) return `needs root (running as uid ${process.getuid?.() ?? '?'})`;
  if (want('btf') && !existsSync('/sys/kernel/btf/vmlinux')) return 'needs a kernel with BTF (/sys/kernel/btf/vmlinux is missing)';
  if (want('netns') && !haveCommand('ip')) return 'needs iproute2 (`ip` not on PATH)';
  if (want('cli') && !existsSync(PKTPATH_BIN)) return `pktpath CLI not written yet (${PKTPATH_BIN} does not exist)`;
  if (want('cli') && !process.env.PKTPATH_BIN && !existsSync(CLI_ENTRY)) return `pktpath CLI not built yet (${CLI_ENTRY} does not exist; run npm run build)`;
  if (want('bpfObject') && !existsSync(BPF_OBJECT)) return `BPF object not built yet (${BPF_OBJECT} does not exist; run npm run build)`;
  for (const c of needs.commands ?? []) if (!haveCommand(c)) return `needs \`${c}\` on PATH`;
  return null;
}

/**
 * Gate a test on its prerequisites. Returns true when the test can go on; otherwise
 * marks it skipped with the reason (shown by the reporter, and on stderr) and returns
 * false. Use as `if (!requireRoot(t)) return;`.
 */
export function requireRoot(t: TestContext, needs: Needs = {}): boolean {
  return skipUnlessMet(t, missingPrereq(needs));
}

/**
 * Gate a test on a prerequisite check of its own: true when `reason` is null; otherwise
 * marks the test skipped with the reason (shown by the reporter, and on stderr) and
 * returns false.
 */
export function skipUnlessMet(t: TestContext, reason: string | null): boolean {
  if (reason === null) return true;
  process.stderr.write(`# ${t.name}: skipped: ${reason}\n`);
  t.skip(reason);
  return false;
}

// ---------------------------------------------------------------- exit cleanup

/** Cleanups to run (synchronously) on exit or signal, newest first. */
const cleanups = new Map<object, () => void>();
let handlersInstalled = false;

function runAllCleanups(): void {
  for (const [key, fn] of [...cleanups].reverse()) {
    cleanups.delete(key);
    try {
      fn();
    } catch {
      /* best effort at exit */
    }
  }
  killAllTraffic();
}

function onSignal(sig: NodeJS.Signals): void {
  runAllCleanups();
  // Exit unless someone else also handles this signal.
  if (process.listenerCount(sig) <= 1) process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
}

function registerCleanup(key: object, fn: () => void): void {
  cleanups.set(key, fn);
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', runAllCleanups);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

// ---------------------------------------------------------------- namespaces

export interface IpSyncOptions {
  /** kill after this long (default 10 s) */
  timeoutMs?: number;
  /** environment of `ip` and what it runs (default: this process's) */
  env?: NodeJS.ProcessEnv;
}

/** Run `ip ...args` to completion and return its stdout; throws with its stderr on failure. */
export function ipSync(args: readonly string[], opts: IpSyncOptions = {}): string {
  try {
    return execFileSync('ip', [...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 10_000, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
}

/** Run `cmd` inside namespace `ns` (`ip netns exec`) to completion and return its stdout; throws with its stderr on failure. */
export function execSyncIn(ns: string, cmd: readonly string[], opts: IpSyncOptions = {}): string {
  return ipSync(['netns', 'exec', ns, ...cmd], opts);
}

/** Inode number of a named network namespace (what pktpath prints as `netns`). */
export function netnsInode(name: string): number {
  return statSync(join('/run/netns', name)).ino;
}

/** Inode number of this process's own network namespace. */
export function selfNetnsInode(): number {
  return statSync('/proc/self/ns/net').ino;
}

/** Names from `ip netns list`. */
export function listNetns(): string[] {
  return ipSync(['netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/**
 * Kill every process inside a namespace we own, then delete it. Idempotent, synchronous.
 * Throws when the namespace is still there afterwards.
 */
export function deleteNetnsSync(name: string): void {
  if (!existsSync(join('/run/netns', name))) return;
  try {
    for (const pid of ipSync(['netns', 'pids', name]).split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  } catch {
    /* no pids */
  }
  try {
    ipSync(['netns', 'del', name]);
  } catch (err) {
    if (existsSync(join('/run/netns', name))) throw err;
  }
}

export interface ExecOptions {
  /** kill after this long (default 10 s) */
  timeoutMs?: number;
  /** resolve instead of throwing on a non-zero exit */
  allowFail?: boolean;
}

/** Run `cmd` inside namespace `ns` (`ip netns exec`). Throws on non-zero exit unless allowFail. */
export async function exec(ns: string, cmd: readonly string[], opts: ExecOptions = {}): Promise<ProcResult> {
  const r = await runInNs(ns, cmd, opts.timeoutMs ?? 10_000);
  if (!opts.allowFail && r.code !== 0) {
    const why = r.timedOut ? `timed out after ${opts.timeoutMs ?? 10_000} ms` : `exit ${r.code ?? r.signal}`;
    throw new Error(`ip netns exec ${ns} ${cmd.join(' ')}: ${why}: ${r.stderr.trim()}`);
  }
  return r;
}

// ---------------------------------------------------------------- subnet allocation

/*
 * Lock protocol, shared by every test file that puts addresses in 10.199.X.0/24: subnet X
 * is taken by creating LOCK_DIR/subnet-X exclusively ('wx'); it holds {pid, namespaces}
 * (the namespaces made for it, rewritten as they are made) and is removed on release. A
 * lock whose pid is gone is stale: its namespaces are deleted and the lock taken over.
 */
const LOCK_DIR = existsSync('/run') ? '/run/pktpath-test' : join(process.env.TMPDIR ?? '/tmp', 'pktpath-test');
/** A range of subnet numbers X (10.199.X.0/24, fd00:199:X::/64), both ends included. */
export interface SubnetRange {
  min: number;
  max: number;
}
/** Subnet numbers handed out by default; 250..255 stay unused so tests can name an address nobody has. */
export const DEFAULT_SUBNETS: Readonly<SubnetRange> = { min: 1, max: 249 };
/** An IPv4 address inside the test range that no topology ever uses. */
export const UNUSED_V4 = '10.199.250.250';
/** An IPv6 address inside the test range that no topology ever uses. */
export const UNUSED_V6 = 'fd00:199:250::250';

interface LockInfo {
  pid: number;
  namespaces: string[];
}

/** Namespaces test files make, pp-<tag>-<pid>-<n>-<role>: those a stale lock may name. */
const LOCKED_NS = /^pp-[a-z0-9]+-\d+-\d+-(?:cli|srv|rtr)$/;

function lockPath(x: number): string {
  return join(LOCK_DIR, `subnet-${x}`);
}

/** Record in subnet X's lock (ours) the namespaces made for it, for whoever reclaims it after a crash. */
export function recordNamespaces(x: number, namespaces: readonly string[]): void {
  const fd = openSync(lockPath(x), 'w');
  try {
    writeSync(fd, JSON.stringify({ pid: process.pid, namespaces: [...namespaces] } satisfies LockInfo));
  } finally {
    closeSync(fd);
  }
}

/**
 * Take a free subnet number in `range`, reclaiming (and cleaning up after) locks of dead
 * processes. Give it back with {@link releaseSubnet}.
 */
export function allocateSubnet(range: Readonly<SubnetRange> = DEFAULT_SUBNETS): number {
  mkdirSync(LOCK_DIR, { recursive: true });
  const span = range.max - range.min + 1;
  const start = (process.pid * 7919 + Date.now()) % span;
  for (let i = 0; i < span; i++) {
    const x = range.min + ((start + i) % span);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lockPath(x), 'wx');
        writeSync(fd, JSON.stringify({ pid: process.pid, namespaces: [] } satisfies LockInfo));
        closeSync(fd);
        return x;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let info: LockInfo | null = null;
      try {
        info = JSON.parse(readFileSync(lockPath(x), 'utf8')) as LockInfo;
      } catch {
        info = null; // being written right now, or garbage: treat a garbage lock as taken
      }
      if (!info || info.pid === process.pid || pidAlive(info.pid)) break;
      // Stale: its owner died without cleaning up. Remove what it left, then retry.
      for (const ns of info.namespaces ?? []) if (LOCKED_NS.test(ns)) deleteNetnsSync(ns);
      try {
        unlinkSync(lockPath(x));
      } catch {
        /* someone else reclaimed it */
      }
    }
  }
  throw new Error(`no free test subnet in 10.199.${range.min}-${range.max}.0/24 (locks in ${LOCK_DIR})`);
}

/** Give back subnet X (only when the lock is this process's). */
export function releaseSubnet(x: number): void {
  try {
    const info = JSON.parse(readFileSync(lockPath(x), 'utf8')) as LockInfo;
    if (info.pid !== process.pid) return;
    unlinkSync(lockPath(x));
  } catch {
    /* already gone */
  }
}

const OUR_NS = /^pp-[a-z0-9]+-(\d+)-\d+-(?:cli|srv)$/;
let reclaimed = false;

/**
 * Delete the namespaces whose names match `pattern` (its first group: the pid of the
 * process that made them) and whose process is gone. Returns the namespaces removed, or
 * null when they cannot be listed.
 */
function reclaimDeadNetns(pattern: RegExp): string[] | null {
  let names: string[] = [];
  try {
    names = listNetns();
  } catch {
    return null;
  }
  const removed: string[] = [];
  for (const ns of names) {
    const m = pattern.exec(ns);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    try {
      deleteNetnsSync(ns);
      removed.push(ns);
    } catch {
      /* leave it; the next run tries again */
    }
  }
  return removed;
}

/**
 * Remove the namespaces matching `pattern` (its first group: the pid of the process that
 * made them) that test processes which died without cleaning up (SIGKILL, crash) left
 * behind. For test files with namespace names of their own. Returns the namespaces removed.
 */
export function reclaimStaleNetns(pattern: RegExp): string[] {
  return reclaimDeadNetns(pattern) ?? [];
}

/**
 * Remove what test processes that died without cleaning up (SIGKILL, crash) left
 * behind: namespaces named pp-<tag>-<pid>-<n>-cli|srv whose pid is gone, and their
 * subnet locks. Runs once per process before the first topology; safe to call again.
 * Returns the namespaces removed.
 */
export function reclaimStale(): string[] {
  reclaimed = true;
  const removed = reclaimDeadNetns(OUR_NS);
  if (removed === null) return [];
  if (existsSync(LOCK_DIR)) {
    for (const f of readdirSync(LOCK_DIR)) {
      const m = /^subnet-(\d+)$/.exec(f);
      if (!m) continue;
      try {
        const info = JSON.parse(readFileSync(join(LOCK_DIR, f), 'utf8')) as LockInfo;
        if (info.pid !== process.pid && !pidAlive(info.pid)) unlinkSync(join(LOCK_DIR, f));
      } catch {
        /* being written, or already gone */
      }
    }
  }
  return removed;
}

// ---------------------------------------------------------------- topology

/** One side of the veth pair. */
export interface Endpoint {
  /** namespace name, for `ip netns exec` and `pktpath -N NAME` */
  ns: string;
  /** netns inode, what pktpath prints as `netns` */
  inode: number;
  /** the veth inside this namespace */
  ifname: string;
  ifindex: number;
  mac: string;
  /** IPv4 address (no prefix length) */
  v4: string;
  /** IPv6 address (no prefix length), RFC 5952 form */
  v6: string;
}

export interface Topology {
  tag: string;
  /** the X of 10.199.X.0/24 and fd00:199:X::/64 */
  subnet: number;
  client: Endpoint;
  server: Endpoint;
  /** Run a command inside a namespace (throws on non-zero exit unless allowFail). */
  exec(ns: Endpoint | string, cmd: readonly string[], opts?: ExecOptions): Promise<ProcResult>;
  /** TCP connect from `from` to addr:port (addr must be one of this topology's addresses). */
  connect(from: Endpoint, addr: string, port: number, timeoutMs?: number): Promise<ConnectResult>;
  /** TCP listener in `on` on addr:port (port 0 = any); closed by destroy(). */
  listen(on: Endpoint, addr: string, port?: number): Promise<TcpListener>;
  /** ping from `from` to addr (addr must be one of this topology's addresses). */
  ping(from: Endpoint, addr: string, opts?: PingOptions): Promise<PingResult>;
  /** Remove namespaces (and with them the veth pair), processes and the subnet lock. Idempotent. */
  destroy(): Promise<void>;
}

let topoCounter = 0;

export interface TopologyOptions {
  /** short word in the namespace names, [a-z0-9], up to 10 characters */
  tag?: string;
}

/** Create the two namespaces and the veth pair. Undoes its own work if a step fails. */
export function createTopology(opts: TopologyOptions = {}): Topology {
  const tag = (opts.tag ?? 'test').toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 10) || 'test';
  if (!reclaimed) reclaimStale();
  const n = ++topoCounter;
  const base = `pp-${tag}-${process.pid}-${n}`;
  const nsC = `${base}-cli`;
  const nsS = `${base}-srv`;
  const x = allocateSubnet();
  const ifC = `pp${x}c`;
  const ifS = `pp${x}s`;
  const created: string[] = [];
  const listeners = new Set<TcpListener>();
  const key = {};
  let destroyed = false;

  const destroySync = (): void => {
    if (destroyed) return;
    destroyed = true;
    cleanups.delete(key);
    const errors: string[] = [];
    for (const ns of [...created].reverse()) {
      try {
        deleteNetnsSync(ns);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    releaseSubnet(x);
    if (errors.length) throw new Error(`topology ${base}: cleanup failed: ${errors.join('; ')}`);
  };
  registerCleanup(key, destroySync);

  try {
    for (const ns of [nsC, nsS]) {
      ipSync(['netns', 'add', ns]);
      created.push(ns);
      recordNamespaces(x, created);
    }
    const v6 = existsSync('/proc/sys/net/ipv6');
    for (const ns of [nsC, nsS]) {
      // ping sockets for everyone (replies are then consumed, not dropped as NO_SOCKET);
      // no DAD so IPv6 addresses are usable at once.
      const script = [
        'echo "0 2147483647" > /proc/sys/net/ipv4/ping_group_range',
        ...(v6 ? ['echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad', 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'] : []),
      ].join(' && ');
      execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', script], { stdio: 'ignore', timeout: 10_000 });
      ipSync(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    ipSync(['link', 'add', ifC, 'netns', nsC, 'type', 'veth', 'peer', 'name', ifS, 'netns', nsS]);
    const end = (ns: string, ifname: string, host: 1 | 2): Endpoint => {
      const v4 = `10.199.${x}.${host}`;
      const v6addr = `fd00:199:${x}::${host}`;
      ipSync(['-n', ns, 'addr', 'add', `${v4}/24`, 'dev', ifname]);
      if (v6) ipSync(['-n', ns, '-6', 'addr', 'add', `${v6addr}/64`, 'dev', ifname, 'nodad']);
      ipSync(['-n', ns, 'link', 'set', ifname, 'up']);
      const info = (JSON.parse(ipSync(['-n', ns, '-j', 'link', 'show', 'dev', ifname])) as { ifindex: number; address: string }[])[0];
      if (!info) throw new Error(`no link ${ifname} in ${ns}`);
      return { ns, inode: netnsInode(ns), ifname, ifindex: info.ifindex, mac: info.address, v4, v6: v6 ? v6addr : '' };
    };
    const client = end(nsC, ifC, 1);
    const server = end(nsS, ifS, 2);
    const own = new Set([client.v4, client.v6, server.v4, server.v6].filter(Boolean));
    const checkAddr = (addr: string): void => {
      if (!own.has(addr)) throw new Error(`refusing to send traffic to ${addr}: not an address of topology ${base}`);
    };
    const nsName = (ns: Endpoint | string): string => (typeof ns === 'string' ? ns : ns.ns);

    return {
      tag,
      subnet: x,
      client,
      server,
      exec: (ns, cmd, o) => exec(nsName(ns), cmd, o),
      async connect(from, addr, port, timeoutMs = 2000) {
        checkAddr(addr);
        return tcpConnect(from.ns, addr, port, timeoutMs);
      },
      async listen(on, addr, port = 0) {
        checkAddr(addr);
        const l = await tcpListen(on.ns, addr, port);
        listeners.add(l);
        return l;
      },
      async ping(from, addr, o) {
        checkAddr(addr);
        return ping(from.ns, addr, o);
      },
      async destroy() {
        await Promise.all([...listeners].map((l) => l.close().catch(() => undefined)));
        listeners.clear();
        destroySync();
      },
    };
  } catch (err) {
    try {
      destroySync();
    } catch {
      /* report the original failure */
    }
    throw err;
  }
}

/**
 * Run `fn` with a fresh topology and always destroy it afterwards, whether `fn`
 * returns or throws.
 */
export async function withTopology<T>(fn: (topo: Topology) => Promise<T>, opts: TopologyOptions = {}): Promise<T> {
  const topo = createTopology(opts);
  try {
    return await fn(topo);
  } finally {
    await topo.destroy();
  }
}

// ---------------------------------------------------------------- bare veth pairs

/**
 * Two namespaces joined by a veth pair, in a subnet range of the caller's, without what
 * createTopology adds (ping sockets, SIGINT/SIGTERM handlers, traffic helpers):
 *
 *     pp-<tag>-<pid>-<n>-cli                        pp-<tag>-<pid>-<n>-srv
 *     <ifPrefix><X>c  10.199.X.1/24  <== veth ==>  <ifPrefix><X>s  10.199.X.2/24
 *                     fd00:199:X::1/64                             fd00:199:X::2/64
 */
export interface VethPair {
  /** the X of 10.199.X.0/24 and fd00:199:X::/64 */
  x: number;
  /** client namespace name */
  cli: string;
  /** server namespace name */
  srv: string;
  cliV4: string;
  srvV4: string;
  cliV6: string;
  srvV6: string;
  /** Delete both namespaces (after beforeDelete) and release the subnet; a namespace that will not go is left for a later reclaim. Idempotent. */
  destroy(): void;
}

export interface VethPairOptions {
  /** short word in the namespace names, [a-z0-9] */
  tag: string;
  /** the veths are <ifPrefix><X>c and <ifPrefix><X>s */
  ifPrefix: string;
  /** where X is taken from */
  range: Readonly<SubnetRange>;
  /** called for each namespace that still exists, just before it is deleted */
  beforeDelete?: (ns: string) => void;
}

const livePairs = new Set<VethPair>();
let pairExitHook = false;

/** Create a {@link VethPair}; it is destroyed on exit if still there. Undoes its own work if a step fails. */
export function createVethPair(opts: VethPairOptions): VethPair {
  const x = allocateSubnet(opts.range);
  const base = `pp-${opts.tag}-${process.pid}-${++topoCounter}`;
  const cli = `${base}-cli`;
  const srv = `${base}-srv`;
  const ifC = `${opts.ifPrefix}${x}c`;
  const ifS = `${opts.ifPrefix}${x}s`;
  const created: string[] = [];
  let destroyed = false;
  const pair: VethPair = {
    x,
    cli,
    srv,
    cliV4: `10.199.${x}.1`,
    srvV4: `10.199.${x}.2`,
    cliV6: `fd00:199:${x}::1`,
    srvV6: `fd00:199:${x}::2`,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      livePairs.delete(pair);
      for (const ns of [cli, srv]) {
        if (opts.beforeDelete && existsSync(join('/run/netns', ns))) opts.beforeDelete(ns);
        try {
          deleteNetnsSync(ns);
        } catch {
          /* left for reclaimStale() of a later run */
        }
      }
      releaseSubnet(x);
    },
  };
  livePairs.add(pair);
  if (!pairExitHook) {
    pairExitHook = true;
    process.on('exit', () => {
      for (const p of [...livePairs]) p.destroy();
    });
  }
  try {
    for (const ns of [cli, srv]) {
      ipSync(['netns', 'add', ns]);
      created.push(ns);
      recordNamespaces(x, created);
    }
    ipSync(['link', 'add', ifC, 'netns', cli, 'type', 'veth', 'peer', 'name', ifS, 'netns', srv]);
    for (const [ns, dev, host] of [
      [cli, ifC, 1],
      [srv, ifS, 2],
    ] as const) {
      execSyncIn(ns, ['sh', '-c', 'echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad']);
      ipSync(['-n', ns, 'link', 'set', 'lo', 'up']);
      ipSync(['-n', ns, 'addr', 'add', `10.199.${x}.${host}/24`, 'dev', dev]);
      ipSync(['-n', ns, '-6', 'addr', 'add', `fd00:199:${x}::${host}/64`, 'dev', dev, 'nodad']);
      ipSync(['-n', ns, 'link', 'set', dev, 'up']);
    }
  } catch (err) {
    pair.destroy();
    throw err;
  }
  return pair;
}

/** Run `fn` with a fresh {@link VethPair} and always destroy it afterwards. */
export async function withVethPair<T>(opts: VethPairOptions, fn: (pair: VethPair) => Promise<T>): Promise<T> {
  const pair = createVethPair(opts);
  try {
    return await fn(pair);
  } finally {
    pair.destroy();
  }
}

// ---------------------------------------------------------------- pktpath driver

/** The `tuple` of a `pktpath trace --json` line: the formatters' own type. */
export type TraceTuple = Tuple;

export interface TraceEvent {
  time: string;
  ts_ns: number | string;
  cpu: number;
  pid: number;
  comm: string;
  netns: number;
  ifname: string;
  ifindex: number;
  dst_mac: string;
  skb: string;
  pkt_type: number | string;
  mark: number;
  len: number;
  probe: string;
  tuple: TraceTuple | null;
  drop_reason?: string;
  location?: string;
  stack?: unknown;
  [extra: string]: unknown;
}

export interface TraceResult {
  events: TraceEvent[];
  /** stdout lines that were not JSON objects (should be none) */
  nonJson: string[];
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms from stop() to exit (NaN when the trace ended on its own) */
  stopMs: number;
  /** ms from stop() to the summary line on stderr (NaN when none came after a stop) */
  summaryMs: number;
}

export interface TraceRun {
  /** argv after the binary */
  argv: string[];
  pid: number | undefined;
  /** events so far (grows while the trace runs) */
  readonly events: TraceEvent[];
  readonly nonJson: string[];
  stderr(): string;
  /**
   * The first event (already seen or still to come) matching `pred`, or undefined
   * after `timeoutMs`.
   */
  waitFor(pred: (ev: TraceEvent) => boolean, timeoutMs?: number): Promise<TraceEvent | undefined>;
  /** Wait for the trace to end by itself (e.g. `-c N`); SIGKILL and reject after timeoutMs. */
  waitForExit(timeoutMs?: number): Promise<TraceResult>;
  /** SIGINT, then wait for exit (SIGKILL and reject after timeoutMs). */
  stop(timeoutMs?: number): Promise<TraceResult>;
}

export interface SpawnTraceOptions {
  /** how long to wait for the ready line (default 30 s: loading BPF can be slow) */
  readyTimeoutMs?: number;
  /** pass --json (default true) */
  json?: boolean;
}

const liveTraces = new Set<ChildProcess>();

/**
 * Start `bin/pktpath trace --json ...args` and resolve once it has printed its ready
 * line on stderr. Rejects, with the command and its stderr, if it exits or stays
 * silent first.
 */
export function spawnTrace(args: readonly string[], opts: SpawnTraceOptions = {}): Promise<TraceRun> {
  const argv = ['trace', ...(opts.json === false ? [] : ['--json']), ...args];
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const child = spawn(PKTPATH_BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  const key = {};
  liveTraces.add(child);
  registerCleanup(key, () => {
    for (const c of liveTraces) c.kill('SIGKILL');
  });
  const cmd = `pktpath ${argv.join(' ')}`;
  const events: TraceEvent[] = [];
  const nonJson: string[] = [];
  const waiters = new Set<{ pred: (ev: TraceEvent) => boolean; resolve: (ev: TraceEvent | undefined) => void }>();
  let stderr = '';
  let partial = '';
  let stopAt = NaN;
  let summaryAt = NaN;
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  const onLine = (line: string): void => {
    if (!line.trim()) return;
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      nonJson.push(line);
      return;
    }
    if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) {
      nonJson.push(line);
      return;
    }
    events.push(ev as TraceEvent);
    for (const w of waiters) {
      if (w.pred(ev as TraceEvent)) {
        waiters.delete(w);
        w.resolve(ev as TraceEvent);
      }
    }
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(onLine);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (!Number.isNaN(stopAt) && Number.isNaN(summaryAt) && /^pktpath: \d+ events/m.test(d)) summaryAt = Date.now();
  });

  const exited = new Promise<TraceResult>((resolve) => {
    child.on('close', (code, signal) => {
      if (partial) onLine(partial);
      partial = '';
      exitInfo = { code, signal };
      liveTraces.delete(child);
      cleanups.delete(key);
      for (const w of waiters) w.resolve(undefined);
      waiters.clear();
      resolve({ events, nonJson, stderr, code, signal, stopMs: Number.isNaN(stopAt) ? NaN : Date.now() - stopAt, summaryMs: summaryAt - stopAt });
    });
  });

  const untilExit = async (timeoutMs: number, what: string): Promise<TraceResult> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${cmd}: did not exit within ${timeoutMs} ms after ${what}; stderr:\n${stderr}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const run: TraceRun = {
    argv,
    pid: child.pid,
    events,
    nonJson,
    stderr: () => stderr,
    waitFor(pred, timeoutMs = 5000) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      if (exitInfo) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        const w = {
          pred,
          resolve: (ev: TraceEvent | undefined) => {
            clearTimeout(timer);
            resolve(ev);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          resolve(undefined);
        }, timeoutMs);
        waiters.add(w);
      });
    },
    waitForExit(timeoutMs = 10_000) {
      return untilExit(timeoutMs, 'waiting for it to finish');
    },
    stop(timeoutMs = 5000) {
      if (!exitInfo) {
        stopAt = Date.now();
        child.kill('SIGINT');
      }
      return untilExit(timeoutMs, 'SIGINT');
    },
  };

  return new Promise<TraceRun>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      child.kill('SIGKILL');
      reject(new Error(`${cmd}: no "ready" line on stderr within ${readyTimeoutMs} ms; stderr:\n${stderr || '(empty)'}`));
    }, readyTimeoutMs);
    const check = (): void => {
      if (done || !/\bready\b/i.test(stderr)) return;
      done = true;
      clearTimeout(timer);
      resolve(run);
    };
    child.stderr.on('data', check);
    child.on('error', (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${cmd}: cannot start: ${err.message}`, { cause: err }));
    });
    void exited.then((r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${cmd}: exited (code ${r.code}, signal ${r.signal}) before it was ready; stderr:\n${stderr || '(empty)'}`));
    });
  });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run `bin/pktpath ...args` to completion (killed after timeoutMs). For bad-input and --help tests. */
export function runCli(args: readonly string[], timeoutMs = 15_000): Promise<CliResult> {
  return runProc(PKTPATH_BIN, args, timeoutMs);
}

/** One end of a veth pair made by vethPair. */
export interface VethEnd {
  ns: string;
  inode: number;
  ifname: string;
  mac: string;
  v4: string;
}

/** A veth pair nsA/ifA (addrA/24) <-> nsB/ifB (addrB/24), both ends up. */
export function vethPair(nsA: string, ifA: string, addrA: string, nsB: string, ifB: string, addrB: string): [VethEnd, VethEnd] {
  ipSync(['link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
  const end = (ns: string, ifname: string, v4: string): VethEnd => {
    ipSync(['-n', ns, 'addr', 'add', `${v4}/24`, 'dev', ifname]);
    ipSync(['-n', ns, 'link', 'set', ifname, 'up']);
    const info = (JSON.parse(ipSync(['-n', ns, '-j', 'link', 'show', 'dev', ifname])) as { address: string }[])[0];
    if (!info) throw new Error(`no link ${ifname} in ${ns}`);
    return { ns, inode: netnsInode(ns), ifname, mac: info.address, v4 };
  };
  return [end(nsA, ifA, addrA), end(nsB, ifB, addrB)];
}

/** Runs `body` against a started trace and always stops it; a failure of `body` is rethrown after the stop. */
export async function whileTracing(trace: TraceRun, body: (trace: TraceRun) => Promise<void>): Promise<TraceResult> {
  let failure: unknown = null;
  try {
    await body(trace);
  } catch (err) {
    failure = err;
  }
  const res = await trace.stop();
  if (failure !== null) throw failure;
  return res;
}

// ---------------------------------------------------------------- event helpers

/** Probes that show a packet being handed to, or sent by, a device. */
export const TRANSMIT_PROBES: ReadonlySet<string> = new Set(['net_dev_queue', 'qdisc_enqueue', 'qdisc_dequeue', 'net_dev_start_xmit', 'net_dev_xmit']);
/** Probes that show a packet arriving from a device. */
export const RECEIVE_PROBES: ReadonlySet<string> = new Set(['napi_gro_receive_entry', 'netif_rx', 'netif_receive_skb']);

/** TCP flag names of an event's tuple ("ACK,RST" -> ['ACK', 'RST']). */
export function tcpFlags(ev: TraceEvent): string[] {
  return ev.tuple?.flags ? ev.tuple.flags.split(',').map((f) => f.trim().toUpperCase()) : [];
}

/** Compact one-line rendering of events, for assertion messages. */
export function describeEvents(events: readonly TraceEvent[], max = 40): string {
  const lines = events.slice(0, max).map((e) => {
    const t = e.tuple;
    const tuple = t ? `${t.proto} ${t.saddr}:${t.sport}->${t.daddr}:${t.dport} [${t.flags}]${t.icmp_type !== undefined ? ` icmp ${t.icmp_type}/${t.icmp_code} id ${t.icmp_id}` : ''}` : '-';
    const extra = [
      e.drop_reason ? `drop=${e.drop_reason}` : '',
      e.nf ? `nf=${JSON.stringify(e.nf)}` : '',
      e.route ? `route=${JSON.stringify(e.route)}` : '',
      e.info ? `info=${JSON.stringify(e.info)}` : '',
    ].filter(Boolean);
    const ns = `${e.netns}${e.netns_name ? `(${String(e.netns_name)})` : ''}`;
    return `  ${e.probe} ns=${ns} if=${e.ifname} skb=${e.skb} ${tuple}${extra.length ? ` ${extra.join(' ')}` : ''}`;
  });
  if (events.length > max) lines.push(`  ... ${events.length - max} more`);
  return lines.length ? lines.join('\n') : '  (no events)';
}
