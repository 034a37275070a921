/**
 * `nft -a monitor trace`, one process per namespace: started, watched until its netlink
 * socket has joined the trace group, read line by line, drained and stopped.
 *
 * Trace messages are queued to the monitor's socket by the kernel while the packet is
 * processed, so once pktpath's table is gone no new one comes for the packets not yet
 * marked; what is queued (Rmem in /proc/PID/net/netlink) and what nft has not printed
 * yet is still to come. drain() waits for both before stop() ends the process.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { EnvironmentError } from '../../shared/errors.js';
import { haveCommand, nsArgv } from './exec.js';
import { firstError } from './nft-cli.js';

const NETLINK_NETFILTER = 12;
const NFNLGRP_NFTRACE_BIT = 1 << (9 - 1);

/** The monitor's trace socket, from /proc/PID/net/netlink. */
export interface TraceSocket {
  /** joined NFNLGRP_NFTRACE */
  subscribed: boolean;
  /** messages the kernel could not queue (socket full) */
  drops: number;
  /** bytes queued, not read by nft yet */
  queued: number;
}

/** Inodes of the sockets a process holds. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

/** The trace socket of process `pid`; null when the process is gone. */
export function traceSocketState(pid: number): TraceSocket | null {
  let inodes: Set<string>;
  let table: string;
  try {
    inodes = socketInodes(pid);
    table = readFileSync(`/proc/${pid}/net/netlink`, 'utf8');
  } catch {
    return null;
  }
  for (const line of table.split('\n').slice(1)) {
    // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
    const c = line.trim().split(/\s+/);
    if (c.length < 10 || Number(c[1]) !== NETLINK_NETFILTER || !inodes.has(c[9]!)) continue;
    if ((parseInt(c[3]!, 16) & NFNLGRP_NFTRACE_BIT) === 0) continue;
    return { subscribed: true, drops: Number(c[8]) || 0, queued: Number(c[4]) || 0 };
  }
  return { subscribed: false, drops: 0, queued: 0 };
}

/** A process's scheduler state (/proc/PID/stat field 3: R running or runnable, S sleeping, ...); null if gone. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface DrainOptions {
  /** wait at least this long: packets still on their way through the stack (default 50 ms) */
  minMs?: number;
  /** the monitor has caught up when nothing is queued for it, it sleeps, and no line came for this long (default 30 ms) */
  quietMs?: number;
  /** give up after this long (default 3000 ms) */
  maxMs?: number;
}

/** Result of a drain: whether the monitor caught up, and how long it took. */
export interface Drained {
  complete: boolean;
  ms: number;
}

export class TraceMonitor {
  private readonly child: ChildProcess;
  private partial = '';
  private stderr = '';
  private lastDataMs = -Infinity;
  private exited = false;
  private stopping = false;
  private readonly closed: Promise<void>;

  /**
   * Starts the monitor in `netns` (null: ours). `onLine` gets every line it prints;
   * `onExit` hears when it exits on its own (not through stop()).
   */
  constructor(
    readonly netns: string | null,
    private readonly onLine: (line: string) => void,
    private readonly onExit: (why: string) => void,
  ) {
    // the monitor dies with us (PR_SET_PDEATHSIG) when setpriv is there
    const mon = [...(haveCommand('setpriv') ? ['setpriv', '--pdeathsig', 'KILL'] : []), 'nft', '-a', 'monitor', 'trace'];
    const [file, argv] = nsArgv(netns, mon);
    this.child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.closed = new Promise<void>((resolve) => this.child.on('close', (code, signal) => this.onClose(code, signal, resolve)));
    this.child.on('error', () => undefined); // reported through 'close' and the readiness check
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (this.stderr.length < 8192) this.stderr += d;
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => this.onData(d));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The trace socket now; null once the monitor is gone. */
  socket(): TraceSocket | null {
    return this.child.pid !== undefined && !this.exited ? traceSocketState(this.child.pid) : null;
  }

  /** Resolves once the monitor listens: no packet sent after that is missed. Throws EnvironmentError otherwise. */
  async subscribed(timeoutMs: number): Promise<void> {
    const by = performance.now() + timeoutMs;
    for (;;) {
      if (this.exited) {
        throw new EnvironmentError(`nft monitor trace did not start${this.netns === null ? '' : ` in netns ${this.netns}`}: ${firstError(this.stderr) || 'it exited'}`);
      }
      if (this.socket()?.subscribed) return;
      if (performance.now() > by) throw new EnvironmentError(`nft monitor trace did not subscribe to trace events within ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  /** Waits until the monitor has printed what the kernel queued for it (see DrainOptions); the start of stopping. */
  async drain(opts: DrainOptions = {}): Promise<Drained> {
    this.stopping = true; // an exit from here on is no failure worth a report
    const start = performance.now();
    const { minMs = 50, quietMs = 30, maxMs = 3000 } = opts;
    for (;;) {
      const now = performance.now();
      const sock = this.socket();
      if (sock === null) return { complete: true, ms: now - start }; // gone: its pipe is read to the end on close
      // caught up: nothing queued for it, asleep (waiting for more; a preempted one is runnable), nothing printed lately
      const idle = sock.queued === 0 && procState(this.child.pid!) === 'S' && now - this.lastDataMs >= quietMs;
      if (now - start >= minMs && idle) return { complete: true, ms: now - start };
      if (now - start >= maxMs) return { complete: false, ms: now - start };
      await sleep(10);
    }
  }

  /** Ends the monitor (SIGTERM, SIGKILL after 1 s) and resolves once its output is read. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.exited) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 1000);
      await this.closed;
      clearTimeout(t);
    }
  }

  /** For the exit path: kill now, read nothing more. */
  killSync(): void {
    this.stopping = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private onData(d: string): void {
    this.lastDataMs = performance.now();
    const parts = (this.partial + d).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.onLine(line);
  }

  private onClose(code: number | null, signal: NodeJS.Signals | null, resolve: () => void): void {
    this.exited = true;
    if (this.partial) this.onLine(this.partial);
    this.partial = '';
    if (!this.stopping) this.onExit(`nft monitor trace exited (${signal ?? `code ${code}`})${this.stderr.trim() ? `: ${firstError(this.stderr)}` : ''}`);
    resolve();
  }
}
