/**
 * For the tests and the bench of `pktpath drops`: a run of the CLI (ready once it says
 * so on stderr, with the exporter's address when it has one), the BPF objects it holds
 * (from its fdinfo: exact while other processes load their own), and a workload that
 * makes several kinds of drops at once in a topology of test/helpers/netns.ts, with the
 * kernel's own count of each.
 *
 * The workload, server S and client C joined by the veth pair:
 *   UDP to a closed port, IPv4 and IPv6      NO_SOCKET in S       nstat UdpNoPorts, Udp6NoPorts
 *   TCP to a closed port                     NO_SOCKET in S       nstat TcpOutRsts
 *   UDP to a port an nft rule drops          NETFILTER_DROP in S  the rule's counter
 *   ping from a source S has no route back   IP_RPFILTER in S     nstat TcpExtIPReversePathFilter
 *   a burst into a small tbf on C's veth     QDISC_DROP in C      tc -s qdisc: dropped (the passed
 *                                                                 packets then hit the nft rule)
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { PKTPATH_BIN, REPO_ROOT, UNUSED_V4, execSyncIn, ipSync } from './netns.js';
import type { Topology } from './netns.js';
import { runProc } from './traffic.js';

export interface DropsRun {
  readonly pid: number;
  /** resolves with the exporter's address (host:port) when it has one, else '' */
  readonly ready: Promise<string>;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  stdout(): string;
  kill(sig: NodeJS.Signals): void;
}

/** `pktpath drops ...args`, killed after `timeoutMs`. */
export function spawnDrops(args: readonly string[], timeoutMs = 60_000): DropsRun {
  const child = spawn(PKTPATH_BIN, ['drops', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  let stdout = '';
  let stderr = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const ready = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/; ready$/m.test(stderr)) resolve(/serving http:\/\/(\S+)\/metrics/.exec(stderr)?.[1] ?? '');
    });
    child.on('exit', () => reject(new Error(`pktpath drops exited before it was ready: ${stderr}`)));
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { pid: child.pid!, ready, done, stdout: () => stdout, kill: (sig) => child.kill(sig) };
}

/** The BPF program, map and link ids a process holds, from /proc/PID/fdinfo. */
export function bpfIdsOf(pid: number): { progs: number[]; maps: number[]; links: number[] } {
  const out = { progs: [] as number[], maps: [] as number[], links: [] as number[] };
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const id = (k: string): number | undefined => {
      const m = new RegExp(`^${k}:\\s*(\\d+)$`, 'm').exec(info);
      return m ? Number(m[1]) : undefined;
    };
    const link = id('link_id');
    const prog = id('prog_id');
    const map = id('map_id');
    if (link !== undefined) out.links.push(link);
    else if (prog !== undefined) out.progs.push(prog);
    else if (map !== undefined) out.maps.push(map);
  }
  return out;
}

/** The nstat counters of a namespace, absolute (nstat -asz). */
export function nstat(ns: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of execSyncIn(ns, ['nstat', '-asz']).split('\n')) {
    const m = /^(\S+)\s+(\d+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

const NFT_TABLE = 'ppdropstest';
export const DROP_PORT = 7777;

/** The kernel's own counts of what dropWorkload made, by the row they belong to. */
export interface KernelCounts {
  udp4NoSocket: number;
  udp6NoSocket: number;
  tcpNoSocket: number;
  nftDrops: number;
  rpFilter: number;
  qdiscDrops: number;
}

/** rp_filter on in S with a client source it has no route back to; an nft rule in S that drops UDP to DROP_PORT. */
export function setUpDrops(topo: Topology): void {
  const { client, server } = topo;
  execSyncIn(server.ns, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1', `net.ipv4.conf.${server.ifname}.rp_filter=1`]);
  ipSync(['-n', client.ns, 'addr', 'add', `${UNUSED_V4}/32`, 'dev', 'lo']);
  ipSync(['-n', client.ns, 'neigh', 'replace', server.v4, 'lladdr', server.mac, 'dev', client.ifname, 'nud', 'permanent']);
  execSyncIn(server.ns, ['nft', 'add', 'table', 'inet', NFT_TABLE]);
  execSyncIn(server.ns, ['nft', 'add', 'chain', 'inet', NFT_TABLE, 'input', '{ type filter hook input priority 0; }']);
  execSyncIn(server.ns, ['nft', 'add', 'rule', 'inet', NFT_TABLE, 'input', 'udp', 'dport', String(DROP_PORT), 'counter', 'drop']);
}

/** The nft rule's packet counter. */
export function nftDropped(topo: Topology): number {
  const text = execSyncIn(topo.server.ns, ['nft', 'list', 'table', 'inet', NFT_TABLE]);
  return Number(/counter packets (\d+)/.exec(text)?.[1] ?? NaN);
}

/** Datagrams and connections from C, in one python3 process. */
async function clientTraffic(topo: Topology, n: { udp4: number; udp6: number; tcp: number; nft: number }): Promise<void> {
  const s = topo.server;
  const code = [
    'import socket',
    'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    `for i in range(${n.udp4}): u.sendto(b'x', ('${s.v4}', 9))`,
    `for i in range(${n.nft}): u.sendto(b'x', ('${s.v4}', ${DROP_PORT}))`,
    'u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)',
    `for i in range(${n.udp6}): u6.sendto(b'x', ('${s.v6}', 9))`,
    `for i in range(${n.tcp}):`,
    '    t = socket.socket(); t.settimeout(2)',
    `    try: t.connect(('${s.v4}', 10))`,
    '    except ConnectionRefusedError: pass',
    '    t.close()',
  ].join('\n');
  const r = await runProc('ip', ['netns', 'exec', topo.client.ns, 'python3', '-c', code], 15_000);
  if (r.code !== 0) throw new Error(`client traffic: ${r.stderr}`);
}

/** A burst of `n` 1000-byte datagrams into a tbf that holds 3000 bytes: most are tail-dropped. Returns tc's drop count. */
export async function tbfBurst(topo: Topology, n: number): Promise<number> {
  const dev = topo.client.ifname;
  execSyncIn(topo.client.ns, ['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', '1mbit', 'burst', '1600', 'limit', '3000']);
  const code = `import socket\nu = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range(${n}): u.sendto(b'x' * 1000, ('${topo.server.v4}', ${DROP_PORT}))`;
  const r = await runProc('ip', ['netns', 'exec', topo.client.ns, 'python3', '-c', code], 15_000);
  if (r.code !== 0) throw new Error(`tbf burst: ${r.stderr}`);
  await new Promise((res) => setTimeout(res, 300)); // what tbf queued leaves (3000 bytes at 1 Mbit/s: 24 ms)
  return Number(/dropped (\d+)/.exec(execSyncIn(topo.client.ns, ['tc', '-s', 'qdisc', 'show', 'dev', dev]))?.[1] ?? NaN);
}

/** Every kind of drop at once (setUpDrops first); the kernel's counts, as deltas over the workload. */
export async function dropWorkload(topo: Topology): Promise<KernelCounts> {
  const before = nstat(topo.server.ns);
  const nftBefore = nftDropped(topo);
  await clientTraffic(topo, { udp4: 5, udp6: 3, tcp: 2, nft: 7 });
  const ping = await runProc('ip', ['netns', 'exec', topo.client.ns, 'ping', '-c', '3', '-i', '0.2', '-W', '1', '-I', UNUSED_V4, topo.server.v4], 10_000);
  if (ping.code === 0) throw new Error('the rp_filter pings were answered');
  const qdiscDrops = await tbfBurst(topo, 100);
  const after = nstat(topo.server.ns);
  const d = (k: string): number => after.get(k)! - before.get(k)!;
  return {
    udp4NoSocket: d('UdpNoPorts'),
    udp6NoSocket: d('Udp6NoPorts'),
    tcpNoSocket: d('TcpOutRsts'),
    nftDrops: nftDropped(topo) - nftBefore,
    rpFilter: d('TcpExtIPReversePathFilter'),
    qdiscDrops,
  };
}
