/**
 * Traffic generators that run inside a network namespace: a TCP listener, a TCP
 * connector with a hard timeout, and ICMP echo (ping).
 *
 * Every helper is bounded: each child has a kill timer, and every child still alive
 * when the process exits is killed. They only ever talk to the address they are given;
 * callers pass addresses of namespaces they created themselves (see netns.ts).
 *
 * Children are started as `ip netns exec NS <program>`; `ip netns exec` execs the
 * program in place, so the child's pid is the pid of the traffic generator (useful
 * for `--pid` filters).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Children still running; killed by {@link killAllTraffic} and on process exit. */
const live = new Set<ChildProcess>();

/** Kill every traffic child still running (SIGKILL). Safe to call more than once. */
export function killAllTraffic(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
}
process.once('exit', killAllTraffic);

/** Result of a finished child. */
export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** true when our kill timer fired */
  timedOut: boolean;
  pid: number | undefined;
}

/** Start `ip netns exec NS cmd...` and resolve when it ends (killed after timeoutMs). */
export function runInNs(ns: string, cmd: readonly string[], timeoutMs = 10_000): Promise<ProcResult> {
  return runProc('ip', ['netns', 'exec', ns, ...cmd], timeoutMs);
}

/** Run a program with a hard timeout; never rejects for a non-zero exit. */
export function runProc(file: string, args: readonly string[], timeoutMs = 10_000): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      live.delete(child);
      reject(new Error(`cannot run ${file}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut, pid: child.pid });
    });
  });
}

/** True when `name` is an executable on PATH. */
export function haveCommand(name: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), fsConstants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

// ---------------------------------------------------------------- TCP

/** Outcome of one TCP connect attempt. */
export type ConnectOutcome = 'connected' | 'refused' | 'timeout' | 'error';

export interface ConnectResult {
  outcome: ConnectOutcome;
  /** error code or message for 'error' (and the code for 'refused') */
  detail: string;
  /** pid of the process that made the connection */
  pid: number | undefined;
  /** local port the kernel picked, when known (connected only) */
  localPort?: number;
}

const CONNECT_SCRIPT = `
const net = require('node:net');
const [host, port, ms] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port) });
let done = false;
const finish = (m) => { if (!done) { done = true; process.stdout.write(m + '\\n'); s.destroy(); process.exit(0); } };
s.setTimeout(Number(ms), () => finish('timeout'));
s.on('connect', () => finish('connected ' + s.localPort));
s.on('error', (e) => finish(e.code === 'ECONNREFUSED' ? 'refused ECONNREFUSED' : 'error ' + (e.code || e.message)));
`;

/**
 * One TCP connect from inside `ns` to host:port. Gives up after `timeoutMs`
 * (outcome 'timeout'); the child is killed at timeoutMs + 3 s whatever happens.
 * Closes the connection immediately when it succeeds.
 */
export async function tcpConnect(ns: string, host: string, port: number, timeoutMs = 2000): Promise<ConnectResult> {
  const r = await runInNs(ns, [process.execPath, '-e', CONNECT_SCRIPT, host, String(port), String(timeoutMs)], timeoutMs + 3000);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const [word = '', rest = ''] = line.split(' ', 2);
  if (r.timedOut) return { outcome: 'timeout', detail: 'killed', pid: r.pid };
  switch (word) {
    case 'connected':
      return { outcome: 'connected', detail: '', pid: r.pid, localPort: Number(rest) };
    case 'refused':
    case 'timeout':
      return { outcome: word, detail: rest, pid: r.pid };
    default:
      return { outcome: 'error', detail: rest || r.stderr.trim() || `exit ${r.code}`, pid: r.pid };
  }
}

const LISTEN_SCRIPT = `
const net = require('node:net');
const [host, port, ms] = process.argv.slice(1);
const srv = net.createServer((c) => { c.on('error', () => {}); c.end('pktpath\\n'); });
srv.on('error', (e) => { process.stderr.write('listen: ' + e.message + '\\n'); process.exit(1); });
srv.listen({ host, port: Number(port) }, () => process.stdout.write('listening ' + srv.address().port + '\\n'));
setTimeout(() => process.exit(0), Number(ms)).unref();
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);
`;

export interface TcpListener {
  host: string;
  port: number;
  pid: number | undefined;
  /** Stop listening (SIGTERM, then SIGKILL); resolves when the process is gone. */
  close(): Promise<void>;
}

/**
 * A TCP server inside `ns` on host:port (port 0: the kernel picks one) that writes a
 * line and closes each connection. Exits by itself after `lifetimeMs`.
 */
export function tcpListen(ns: string, host: string, port = 0, lifetimeMs = 60_000): Promise<TcpListener> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', LISTEN_SCRIPT, host, String(port), String(lifetimeMs)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    let out = '';
    let err = '';
    let settled = false;
    const exited = new Promise<void>((res) => child.on('close', () => (live.delete(child), res())));
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(new Error(`tcpListen ${ns} ${host}:${port}: ${why}${err ? `: ${err.trim()}` : ''}`));
    };
    const timer = setTimeout(() => fail('not listening after 10 s'), 10_000);
    child.on('error', (e) => (clearTimeout(timer), fail(e.message)));
    child.on('close', (code) => (clearTimeout(timer), fail(`exited with ${code}`)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (!m || settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        host,
        port: Number(m[1]),
        pid: child.pid,
        async close() {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 2000);
            await exited;
            clearTimeout(t);
          }
        },
      });
    });
  });
}

// ---------------------------------------------------------------- ICMP

export interface PingResult {
  sent: number;
  received: number;
  /** the tool that sent it: 'ping' (iputils) or 'python3' (fallback) */
  tool: 'ping' | 'python3';
  /** ICMP echo identifiers used (known with the python3 fallback; empty for ping) */
  ids: number[];
  stdout: string;
  stderr: string;
}

/*
 * Fallback when iputils ping is not installed: ICMP "ping sockets"
 * (SOCK_DGRAM/IPPROTO_ICMP), the same kind modern ping uses. The kernel picks the
 * echo id (the socket's "port") and matches replies to the socket, so replies are
 * consumed rather than dropped. Needs net.ipv4.ping_group_range to include our gid;
 * netns.ts sets it in the namespaces it creates.
 */
const PING_PY = `
import socket, struct, sys, time
dst, count, interval, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
v6 = ':' in dst
fam = socket.AF_INET6 if v6 else socket.AF_INET
proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
s = socket.socket(fam, socket.SOCK_DGRAM, proto)
s.settimeout(wait)
sent = recv = 0
ids = set()
for seq in range(1, count + 1):
    pkt = struct.pack('!BBHHH', 128 if v6 else 8, 0, 0, 0, seq) + b'pktpath-test-ping'
    s.sendto(pkt, (dst, 0))
    sent += 1
    ids.add(s.getsockname()[1])
    deadline = time.time() + wait
    while time.time() < deadline:
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            break
        if data[0] == (129 if v6 else 0) and struct.unpack('!H', data[6:8])[0] == seq:
            recv += 1
            break
    if seq < count:
        time.sleep(interval)
print('sent %d received %d ids %s' % (sent, recv, ','.join(str(i) for i in sorted(ids))))
`;

export interface PingOptions {
  /** echo requests to send (1..50, default 2) */
  count?: number;
  /** seconds between requests (default 0.2) */
  intervalS?: number;
  /** seconds to wait for each reply (default 1) */
  waitS?: number;
  /** force a sender; default: iputils ping when on PATH, else python3 */
  tool?: 'ping' | 'python3';
}

/**
 * `ping -c count -i interval -W wait dst` from inside `ns` (iputils ping when
 * installed, otherwise an equivalent python3 ping-socket loop). Always bounded:
 * killed after count * (interval + wait) + 5 s.
 */
export async function ping(
  ns: string,
  dst: string,
  opts: PingOptions = {},
): Promise<PingResult> {
  const count = Math.max(1, Math.min(opts.count ?? 2, 50));
  const intervalS = opts.intervalS ?? 0.2;
  const waitS = opts.waitS ?? 1;
  const bound = Math.ceil((count * (intervalS + waitS) + 5) * 1000);
  const tool = opts.tool ?? (haveCommand('ping') ? 'ping' : 'python3');
  if (tool === 'ping') {
    const args = ['ping', '-n', '-c', String(count), '-i', String(intervalS), '-W', String(waitS), dst];
    const r = await runInNs(ns, args, bound);
    const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(r.stdout);
    return {
      sent: m ? Number(m[1]) : 0,
      received: m ? Number(m[2]) : 0,
      tool: 'ping',
      ids: [],
      stdout: r.stdout,
      stderr: r.stderr,
    };
  }
  const r = await runInNs(ns, ['python3', '-c', PING_PY, dst, String(count), String(intervalS), String(waitS)], bound);
  const m = /sent (\d+) received (\d+) ids ([\d,]*)/.exec(r.stdout);
  return {
    sent: m ? Number(m[1]) : 0,
    received: m ? Number(m[2]) : 0,
    tool: 'python3',
    ids: m && m[3] ? m[3].split(',').map(Number) : [],
    stdout: r.stdout,
    stderr: r.stderr,
  };
}

/** Synchronous check, for skip reasons: can we run python3 at all? */
export function havePython3(): boolean {
  return spawnSync('python3', ['-c', 'pass'], { stdio: 'ignore', timeout: 5000 }).status === 0;
}
