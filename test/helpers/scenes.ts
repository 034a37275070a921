/**
 * Scenes for the diagnosis tests: namespaces joined by veth pairs, with or without a
 * router between them, the traffic each case needs, and the diagnosis of a recorded
 * `pktpath trace --json` of it.
 *
 *   line:    cli 10.199.X.1 <== veth ==> 10.199.X.2 srv                 (fd00:199:X::1/2)
 *   router:  cli 10.199.X.1 <==> 10.199.X.2 rtr 10.199.Y.1 <==> 10.199.Y.2 srv
 *                                 (fd00:199:X::1 .. fd00:199:Y::2, forwarding on in rtr)
 *
 * Namespaces are pp-dg<tag>-<pid>-<n>-cli|srv|rtr; subnets are taken with the lock
 * protocol of netns.ts, so other test files never collide with them; everything is
 * deleted by destroy() and on exit.
 */
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Diagnoser, ReplayResolver, rawOfJson } from '../../src/diagnose/index.js';
import type { Facts, Report } from '../../src/diagnose/index.js';
import { allocateSubnet, deleteNetnsSync, ipSync, netnsInode, recordNamespaces, releaseSubnet } from './netns.js';
import type { TraceEvent } from './netns.js';
import { runInNs } from './traffic.js';
import type { ProcResult } from './traffic.js';

export type Role = 'cli' | 'srv' | 'rtr';

export interface Scene {
  readonly ns: Readonly<Record<Role, string>>;
  readonly inode: Readonly<Record<Role, number>>;
  /** the IPv4 / IPv6 address of each end (rtr: its address towards cli) */
  readonly v4: Readonly<Record<Role, string>>;
  readonly v6: Readonly<Record<Role, string>>;
  /** cli's veth, srv's veth; rtr's towards cli (rtrC) and towards srv (rtrS) */
  readonly dev: { readonly cli: string; readonly srv: string; readonly rtrC: string; readonly rtrS: string };
  readonly router: boolean;
  /** Runs a shell script in a namespace; throws on failure unless allowFail. */
  sh(role: Role, script: string, opts?: { allowFail?: boolean; timeoutMs?: number }): Promise<ProcResult>;
  /** Runs python3 code in a namespace (Debian's python3, where scapy lives). */
  py(role: Role, code: string, timeoutMs?: number): Promise<ProcResult>;
  mac(role: Role | 'rtrC' | 'rtrS'): string;
  ifindex(role: Role | 'rtrC' | 'rtrS'): number;
  destroy(): void;
}

let counter = 0;

function linkInfo(ns: string, dev: string): { address: string; ifindex: number } {
  return (JSON.parse(ipSync(['-n', ns, '-j', 'link', 'show', 'dev', dev])) as { address: string; ifindex: number }[])[0]!;
}

function pair(nsA: string, devA: string, nsB: string, devB: string): void {
  ipSync(['link', 'add', devA, 'netns', nsA, 'type', 'veth', 'peer', 'name', devB, 'netns', nsB]);
  ipSync(['-n', nsA, 'link', 'set', devA, 'up']);
  ipSync(['-n', nsB, 'link', 'set', devB, 'up']);
}

function addr(ns: string, dev: string, v4: string, v6: string): void {
  ipSync(['-n', ns, 'addr', 'add', `${v4}/24`, 'dev', dev]);
  ipSync(['-n', ns, '-6', 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad']);
}

function wire(s: { ns: Record<Role, string>; x: number; y: number; router: boolean }): void {
  const { ns, x, y } = s;
  for (const n of Object.values(ns).filter(Boolean)) {
    execFileSync('ip', ['netns', 'exec', n, 'sh', '-c', 'echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad; echo "0 2147483647" > /proc/sys/net/ipv4/ping_group_range'], { stdio: 'ignore' });
    ipSync(['-n', n, 'link', 'set', 'lo', 'up']);
  }
  if (!s.router) {
    pair(ns.cli, `dg${x}c`, ns.srv, `dg${x}s`);
    addr(ns.cli, `dg${x}c`, `10.199.${x}.1`, `fd00:199:${x}::1`);
    addr(ns.srv, `dg${x}s`, `10.199.${x}.2`, `fd00:199:${x}::2`);
    return;
  }
  pair(ns.cli, `dg${x}c`, ns.rtr, `dg${x}r`);
  pair(ns.srv, `dg${y}s`, ns.rtr, `dg${y}r`);
  addr(ns.cli, `dg${x}c`, `10.199.${x}.1`, `fd00:199:${x}::1`);
  addr(ns.rtr, `dg${x}r`, `10.199.${x}.2`, `fd00:199:${x}::2`);
  addr(ns.rtr, `dg${y}r`, `10.199.${y}.1`, `fd00:199:${y}::1`);
  addr(ns.srv, `dg${y}s`, `10.199.${y}.2`, `fd00:199:${y}::2`);
  ipSync(['-n', ns.cli, 'route', 'add', 'default', 'via', `10.199.${x}.2`]);
  ipSync(['-n', ns.srv, 'route', 'add', 'default', 'via', `10.199.${y}.1`]);
  ipSync(['-n', ns.cli, '-6', 'route', 'add', 'default', 'via', `fd00:199:${x}::2`]);
  ipSync(['-n', ns.srv, '-6', 'route', 'add', 'default', 'via', `fd00:199:${y}::1`]);
  execFileSync('ip', ['netns', 'exec', ns.rtr, 'sh', '-c', 'sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1'], { stdio: 'ignore' });
}

/** Builds a scene; `tag` is a few [a-z0-9] characters in the namespace names. */
export function buildScene(tag: string, router = false): Scene {
  const x = allocateSubnet();
  const y = router ? allocateSubnet() : x;
  const base = `pp-dg${tag}-${process.pid}-${++counter}`;
  const ns: Record<Role, string> = { cli: `${base}-cli`, srv: `${base}-srv`, rtr: router ? `${base}-rtr` : '' };
  const made: string[] = [];
  const destroy = (): void => {
    process.off('exit', destroy);
    for (const n of made.reverse()) deleteNetnsSync(n);
    made.length = 0;
    releaseSubnet(x);
    if (router) releaseSubnet(y);
  };
  process.on('exit', destroy);
  try {
    for (const n of Object.values(ns).filter(Boolean)) {
      ipSync(['netns', 'add', n]);
      made.push(n);
      recordNamespaces(x, made);
    }
    wire({ ns, x, y, router });
  } catch (err) {
    destroy();
    throw err;
  }
  return sceneOf({ ns, x, y, router, destroy });
}

function sceneOf(s: { ns: Record<Role, string>; x: number; y: number; router: boolean; destroy: () => void }): Scene {
  const { ns, x, y, router } = s;
  const dev = { cli: `dg${x}c`, srv: `dg${y}s`, rtrC: router ? `dg${x}r` : '', rtrS: router ? `dg${y}r` : '' };
  const devOf = (r: Role | 'rtrC' | 'rtrS'): [string, string] => (r === 'rtrC' || r === 'rtrS' ? [ns.rtr, dev[r]] : r === 'rtr' ? [ns.rtr, dev.rtrC] : [ns[r], dev[r]]);
  return {
    ns,
    inode: { cli: netnsInode(ns.cli), srv: netnsInode(ns.srv), rtr: router ? netnsInode(ns.rtr) : 0 },
    v4: { cli: `10.199.${x}.1`, srv: `10.199.${y}.2`, rtr: router ? `10.199.${x}.2` : '' },
    v6: { cli: `fd00:199:${x}::1`, srv: `fd00:199:${y}::2`, rtr: router ? `fd00:199:${x}::2` : '' },
    dev,
    router,
    async sh(role, script, o = {}) {
      const r = await runInNs(ns[role], ['sh', '-c', script], o.timeoutMs ?? 10_000);
      if (r.code !== 0 && !o.allowFail) throw new Error(`${role}: ${script}: exit ${r.code ?? r.signal}: ${r.stderr.trim()}`);
      return r;
    },
    py: (role, code, timeoutMs = 10_000) => runInNs(ns[role], ['/usr/bin/python3', '-c', code], timeoutMs),
    mac: (r) => linkInfo(...devOf(r)).address,
    ifindex: (r) => linkInfo(...devOf(r)).ifindex,
    destroy: s.destroy,
  };
}

/* ------------------------------------------------------------------ traffic */

/** A file whose creation tells the listeners of a case to close (the runner makes it at the end). */
export function flagFile(port: number): string {
  return join(tmpdir(), `pp-diag-close-${process.pid}-${port}`);
}

/** Python: connect to host:port, print "connected", "timeout" or the errno name. */
export function connectPy(host: string, port: number, timeoutS = 2, hold = 0): string {
  return `
import socket, errno, time
s = socket.socket(socket.AF_INET6 if ':' in ${JSON.stringify(host)} else socket.AF_INET)
s.settimeout(${timeoutS})
try:
    s.connect((${JSON.stringify(host)}, ${port})); print('connected'); time.sleep(${hold})
except socket.timeout: print('timeout')
except OSError as e: print(errno.errorcode.get(e.errno, str(e.errno)))
`;
}

/** Python: a TCP listener that accepts (or not) and then sleeps; prints "listening". */
export function listenPy(host: string, port: number, o: { backlog?: number; accept?: boolean; send?: number; lifeS?: number; untilFile?: string } = {}): string {
  const wait = o.untilFile
    ? `\nwhile not os.path.exists(${JSON.stringify(o.untilFile)}) and time.time() < end: time.sleep(0.05)\nsys.exit(0)`
    : '';
  return `
import socket, time, sys, os
s = socket.socket(socket.AF_INET6 if ':' in ${JSON.stringify(host)} else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((${JSON.stringify(host)}, ${port})); s.listen(${o.backlog ?? 16}); print('listening', flush=True)
end = time.time() + ${o.lifeS ?? 10}
if ${o.accept === false ? 'False' : 'True'}:
    s.settimeout(${o.lifeS ?? 10})
    try:
        c, _ = s.accept()
        if ${o.send ?? 0}: c.sendall(b'y' * ${o.send ?? 0})
    except Exception: pass
time.sleep(0 if ${o.untilFile ? 'True' : 'False'} else max(0, end - time.time()))${wait}
`;
}

/* ------------------------------------------------------------------ diagnosis */

/** Diagnoses the events of a recorded `trace --json` run. */
export function diagnose(events: readonly TraceEvent[], facts: Facts = {}): { report: Report; names: ReplayResolver } {
  const r = new ReplayResolver();
  const d = new Diagnoser(r);
  for (const ev of events) d.push(rawOfJson(ev as never, r));
  return { report: d.report(facts), names: r };
}

/** A report in a few lines, for assertion messages. */
export function describeReport(rep: Report): string {
  const findings = rep.findings.map((f) => `  ${f.n}. [${f.level}] ${f.rule} x${f.count} @${f.where.netnsName ?? f.where.netns}: ${f.what.slice(0, 200)} evidence #${f.evidence.map((e) => `${e.n}:${e.role}`).join(' #')}`);
  // the slowest hops of each flow: what the latency rules judged
  const hops = rep.flows.slice(0, 4).flatMap((fl) => fl.latency.slice(0, 5).map((h) => `  hop ${h.dir} ${h.kind} ${h.from} -> ${h.to} @${h.netns}/${h.dev} n=${h.count} p50=${(h.p50Ns / 1e6).toFixed(2)}ms`));
  return [`verdict: ${rep.verdict.text}`, ...findings, ...hops].join('\n');
}
