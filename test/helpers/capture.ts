/**
 * Test support for `pktpath analyze`: a routed topology of three namespaces, tcpdump
 * captures taken inside them, and small bounded traffic programs (python3 from Debian:
 * sockets for the endpoints, scapy to forge a reset on the router).
 *
 *     pp-anl-<pid>-<n>-cli            pp-anl-<pid>-<n>-rtr              pp-anl-<pid>-<n>-srv
 *     ca<X>c 10.199.X.1  <== veth ==> ca<X>r 10.199.X.2
 *                                     cb<Y>r 10.199.Y.1  <== veth ==>  cb<Y>s 10.199.Y.2
 *
 * Every program only talks to these namespaces' addresses; each has a kill timer.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { allocateSubnet, deleteNetnsSync, execSyncIn, ipSync, recordNamespaces, releaseSubnet, runInNs, vethPair } from './netns.js';
import type { ProcResult } from './netns.js';

/** Debian's python3, the one python3-scapy is installed for. */
export const PYTHON = '/usr/bin/python3';

export interface Routed {
  cli: string;
  rtr: string;
  srv: string;
  cliIf: string;
  rtrCliIf: string;
  rtrSrvIf: string;
  srvIf: string;
  cliAddr: string;
  rtrCliAddr: string;
  rtrSrvAddr: string;
  srvAddr: string;
  destroy(): void;
}

let counter = 0;

/**
 * cli - rtr - srv with routes both ways. `mtu`: the router's interface towards the
 * server gets it, while both ends keep 1500 (so they announce MSS 1460): a narrower link
 * in the middle, which only path MTU discovery can find.
 */
export function routedTopology(opts: { mtu?: number } = {}): Routed {
  const base = `pp-anl-${process.pid}-${++counter}`;
  const [cli, rtr, srv] = ['cli', 'rtr', 'srv'].map((r) => `${base}-${r}`) as [string, string, string];
  const x = allocateSubnet();
  let y = -1;
  const made: string[] = [];
  const destroy = (): void => {
    for (const ns of [...made].reverse()) deleteNetnsSync(ns);
    made.length = 0;
    if (y >= 0) releaseSubnet(y);
    releaseSubnet(x);
  };
  try {
    y = allocateSubnet();
    for (const ns of [cli, rtr, srv]) {
      ipSync(['netns', 'add', ns]);
      made.push(ns);
      recordNamespaces(x, made);
      ipSync(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const [c, rc] = vethPair(cli, `ca${x}c`, `10.199.${x}.1`, rtr, `ca${x}r`, `10.199.${x}.2`);
    const [rs, s] = vethPair(rtr, `cb${y}r`, `10.199.${y}.1`, srv, `cb${y}s`, `10.199.${y}.2`);
    execSyncIn(rtr, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    ipSync(['-n', cli, 'route', 'add', 'default', 'via', rc.v4]);
    ipSync(['-n', srv, 'route', 'add', 'default', 'via', rs.v4]);
    if (opts.mtu) ipSync(['-n', rtr, 'link', 'set', rs.ifname, 'mtu', String(opts.mtu)]);
    return { cli, rtr, srv, cliIf: c.ifname, rtrCliIf: rc.ifname, rtrSrvIf: rs.ifname, srvIf: s.ifname, cliAddr: c.v4, rtrCliAddr: rc.v4, rtrSrvAddr: rs.v4, srvAddr: s.v4, destroy };
  } catch (err) {
    destroy();
    throw err;
  }
}

/** A process started in a namespace that we stop ourselves. */
export interface Running {
  readonly child: ChildProcess;
  out(): string;
  err(): string;
  /** resolves when `re` shows on stdout or stderr (rejects after ms) */
  waitFor(re: RegExp, ms?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function startIn(ns: string, cmd: readonly string[], lifetimeMs: number): Running {
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), lifetimeMs);
  const exited = new Promise<void>((res) => child.on('close', () => (clearTimeout(killer), res())));
  return {
    child,
    out: () => out,
    err: () => err,
    waitFor(re, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const poll = (): void => {
          if (re.test(out) || re.test(err)) return resolve();
          if (child.exitCode !== null || Date.now() - t0 > ms) return reject(new Error(`${cmd.join(' ')} in ${ns}: no ${re} (exit ${child.exitCode}): ${err.trim()}`));
          setTimeout(poll, 20);
        };
        poll();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/**
 * tcpdump on `iface` in `ns` writing `file` for as long as `body` runs (and a little
 * after, so the last packets are in). Packets are written as they come (-U).
 */
export async function captureWhile(ns: string, iface: string, file: string, body: () => Promise<void>, extra: readonly string[] = []): Promise<void> {
  // --immediate-mode: packets reach tcpdump as they come, not in ring blocks a SIGINT would leave unread
  const dump = startIn(ns, ['tcpdump', '-i', iface, '-w', file, '-U', '--immediate-mode', '-n', '-Z', 'root', '-s', '256', ...extra], 60_000);
  await dump.waitFor(/listening on/);
  try {
    await body();
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await dump.stop('SIGINT');
  }
}

/** python3 code run in `ns` with a hard timeout. */
export function python(ns: string, code: string, args: readonly (string | number)[], timeoutMs: number): Promise<ProcResult> {
  return runInNs(ns, [PYTHON, '-c', code, ...args.map(String)], timeoutMs);
}

/** A server in `ns`: `mode` drip (a byte every 100 ms), sink (reads everything) or stall (small buffer, never reads). */
export const SERVER_PY = `
import socket, sys, time
host, port, mode, life = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if mode == 'stall':
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.bind((host, port)); s.listen(8)
print('listening', flush=True)
end = time.time() + life
s.settimeout(life)
c, _ = s.accept()
c.settimeout(0.1)
while time.time() < end:
    try:
        if mode == 'drip':
            c.send(b'x'); time.sleep(0.1)
        elif mode == 'sink':
            if not c.recv(65536): break
        else:
            time.sleep(0.1)
    except socket.timeout:
        pass
    except OSError:
        break
`;

/** A client in `ns`: connects, then `send` N bytes (or reads when N is 0) until done or the timeout. */
export const CLIENT_PY = `
import socket, sys, time
host, port, n, life = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket()
s.settimeout(life)
try:
    s.connect((host, port))
    if n > 0:
        s.sendall(b'p' * n)
        print('sent', n, flush=True)
        s.shutdown(socket.SHUT_WR)  # and wait until the server has it all and closes
        while s.recv(4096):
            pass
    else:
        end = time.time() + life
        while time.time() < end and s.recv(4096):
            pass
    print('done', flush=True)
except Exception as e:
    print('error', type(e).__name__, e, flush=True)
`;

/** On the router: wait for one data packet from the server, then forge a reset to the client with TTL 99. */
export const INJECT_RST_PY = `
import sys
from scapy.all import IP, TCP, sniff, send
iface, srv, cli = sys.argv[1], sys.argv[2], sys.argv[3]
def hit(p):
    return IP in p and TCP in p and p[IP].src == srv and len(p[TCP].payload) > 0
pkts = sniff(iface=iface, lfilter=hit, count=1, timeout=8, started_callback=lambda: print('ready', flush=True))
if not pkts:
    print('nothing to answer', flush=True); sys.exit(1)
p = pkts[0]
rst = IP(src=srv, dst=cli, ttl=99, id=4321) / TCP(sport=p[TCP].sport, dport=p[TCP].dport, flags='RA', seq=p[TCP].seq + len(p[TCP].payload), ack=p[TCP].ack)
send(rst, verbose=0)
print('sent', flush=True)
`;
