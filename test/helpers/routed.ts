/**
 * Three namespaces in a row, for tests that need a router (NAT, XDP) between a client and
 * a server:
 *
 *   pp-<tag>-<pid>-<n>-cli          pp-<tag>-<pid>-<n>-rtr                  pp-<tag>-<pid>-<n>-srv
 *   pp<X>c 10.199.X.1 <== veth ==> pp<X>r 10.199.X.2   pp<Y>r 10.199.Y.1 <== veth ==> pp<Y>s 10.199.Y.2
 *
 * X and Y are subnet numbers taken with the shared lock protocol (test/helpers/netns.ts);
 * the router forwards, the client and the server route the other subnet through it.
 * destroy() removes the namespaces (and with them every link, rule and XDP program made
 * in them) and gives the subnets back; it also runs on exit.
 */
import { execFileSync } from 'node:child_process';
import { allocateSubnet, deleteNetnsSync, exec, ipSync, netnsInode, recordNamespaces, releaseSubnet } from './netns.js';
import type { ExecOptions, ProcResult } from './netns.js';

export type Role = 'cli' | 'rtr' | 'srv';

export interface Routed {
  /** namespace names */
  readonly ns: Readonly<Record<Role, string>>;
  /** namespace inodes, as events carry them */
  readonly inode: Readonly<Record<Role, number>>;
  /** the devices: cli's, the router's towards cli and towards srv, srv's */
  readonly dev: { readonly cli: string; readonly rtrC: string; readonly rtrS: string; readonly srv: string };
  /** IPv4 addresses: the client, the router on each side, the server */
  readonly addr: { readonly cli: string; readonly rtrC: string; readonly rtrS: string; readonly srv: string };
  /** ifindex of a device in its namespace */
  ifindex(role: Role, dev: string): number;
  /** runs a command in a namespace (throws on a non-zero exit unless allowFail) */
  run(role: Role, cmd: readonly string[], opts?: ExecOptions): Promise<ProcResult>;
  /** runs a shell line in a namespace */
  sh(role: Role, line: string, opts?: ExecOptions): Promise<ProcResult>;
  destroy(): void;
}

let counter = 0;
const live = new Set<Routed>();
let exitHook = false;

/** Makes the three namespaces; undoes its own work when a step fails. */
export function createRouted(tag: string): Routed {
  const x = allocateSubnet();
  let y: number;
  try {
    y = allocateSubnet();
  } catch (err) {
    releaseSubnet(x);
    throw err;
  }
  const base = `pp-${tag}-${process.pid}-${++counter}`;
  const ns: Record<Role, string> = { cli: `${base}-cli`, rtr: `${base}-rtr`, srv: `${base}-srv` };
  const made: string[] = [];
  let gone = false;
  const destroy = (): void => {
    if (gone) return;
    gone = true;
    live.delete(routed);
    for (const n of made.reverse()) {
      try {
        deleteNetnsSync(n);
      } catch {
        /* left for a later reclaim (the lock names it) */
      }
    }
    releaseSubnet(x);
    releaseSubnet(y);
  };
  const dev = { cli: `pp${x}c`, rtrC: `pp${x}r`, rtrS: `pp${y}r`, srv: `pp${y}s` };
  const addr = { cli: `10.199.${x}.1`, rtrC: `10.199.${x}.2`, rtrS: `10.199.${y}.1`, srv: `10.199.${y}.2` };
  const routed: Routed = {
    ns,
    inode: { cli: 0, rtr: 0, srv: 0 },
    dev,
    addr,
    ifindex: (role, d) => (JSON.parse(ipSync(['-n', ns[role], '-j', 'link', 'show', 'dev', d])) as { ifindex: number }[])[0]!.ifindex,
    run: (role, cmd, opts) => exec(ns[role], cmd, opts),
    sh: (role, line, opts) => exec(ns[role], ['sh', '-c', line], opts),
    destroy,
  };
  live.add(routed);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => [...live].forEach((r) => r.destroy()));
  }
  try {
    for (const n of Object.values(ns)) {
      ipSync(['netns', 'add', n]);
      made.push(n);
      recordNamespaces(x, made);
      recordNamespaces(y, made);
      ipSync(['-n', n, 'link', 'set', 'lo', 'up']);
    }
    ipSync(['link', 'add', dev.cli, 'netns', ns.cli, 'type', 'veth', 'peer', 'name', dev.rtrC, 'netns', ns.rtr]);
    ipSync(['link', 'add', dev.rtrS, 'netns', ns.rtr, 'type', 'veth', 'peer', 'name', dev.srv, 'netns', ns.srv]);
    const up = (role: Role, d: string, a: string): void => {
      ipSync(['-n', ns[role], 'addr', 'add', `${a}/24`, 'dev', d]);
      ipSync(['-n', ns[role], 'link', 'set', d, 'up']);
    };
    up('cli', dev.cli, addr.cli);
    up('rtr', dev.rtrC, addr.rtrC);
    up('rtr', dev.rtrS, addr.rtrS);
    up('srv', dev.srv, addr.srv);
    ipSync(['-n', ns.cli, 'route', 'add', `10.199.${y}.0/24`, 'via', addr.rtrC]);
    ipSync(['-n', ns.srv, 'route', 'add', `10.199.${x}.0/24`, 'via', addr.rtrS]);
    execFileSync('ip', ['netns', 'exec', ns.rtr, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'], { stdio: 'ignore' });
    for (const role of ['cli', 'rtr', 'srv'] as const) (routed.inode as Record<Role, number>)[role] = netnsInode(ns[role]);
  } catch (err) {
    destroy();
    throw err;
  }
  return routed;
}

/** Runs `fn` with a fresh {@link Routed} and always destroys it. */
export async function withRouted<T>(tag: string, fn: (r: Routed) => Promise<T>): Promise<T> {
  const r = createRouted(tag);
  try {
    return await fn(r);
  } finally {
    r.destroy();
  }
}
