/**
 * `npm run demo`: Mytracer's first two investigations, for real, in under 30 s.
 * Builds two network namespaces joined by a veth pair, traces (1) a TCP connect to
 * a port nobody listens on and (2) the same connect with an iptables OUTPUT DROP in
 * the client: with iptables-nft, then, where the kernel has BPF netfilter programs, with
 * iptables-legacy as in Mytracer's notes (raw, mangle, nat, filter). Prints the paths
 * and the explanations, removes everything, exits 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { PktpathError, EnvironmentError } from '../shared/errors.js';
import { parseTraceOptions } from '../cli/options.js';
import { runRequest } from '../cli/request.js';
import { resolveNetns } from '../kernel/io/netns.js';
import { runTrace } from '../run/io/session.js';
import type { TraceSummary } from '../run/io/session.js';

const TAG = `ppdemo${process.pid}`;
const CLIENT = `${TAG}-cli`;
const SERVER = `${TAG}-srv`;
const CLIENT_IP = '10.199.77.1';
const SERVER_IP = '10.199.77.2';
const PORT = 8080;

function sh(args: readonly string[]): void {
  execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}

function inNs(ns: string, args: readonly string[]): void {
  sh(['ip', 'netns', 'exec', ns, ...args]);
}

function setUp(): void {
  sh(['ip', 'netns', 'add', CLIENT]);
  sh(['ip', 'netns', 'add', SERVER]);
  sh(['ip', 'link', 'add', 'eth0', 'netns', CLIENT, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', SERVER]);
  for (const [ns, ip] of [
    [CLIENT, CLIENT_IP],
    [SERVER, SERVER_IP],
  ] as const) {
    inNs(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    inNs(ns, ['ip', 'link', 'set', 'eth0', 'up']);
    inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
  }
}

function tearDown(): void {
  for (const ns of [CLIENT, SERVER]) {
    try {
      sh(['ip', 'netns', 'del', ns]); // removes the veth pair and the namespace's iptables rules with it
    } catch {
      /* already gone */
    }
  }
}

/** One bounded TCP connect from the client namespace; resolves with how it ended. */
function connect(timeoutS: number): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn(
      'ip',
      ['netns', 'exec', CLIENT, 'timeout', String(timeoutS), 'bash', '-c', `exec 3<>/dev/tcp/${SERVER_IP}/${PORT}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => resolve(code === 124 ? 'timed out (no answer)' : /refused/i.test(err) ? 'connection refused' : `exit ${code}`));
  });
}

const out = process.stdout;

function heading(text: string): void {
  out.write(`\n\x1b[1m== ${text}\x1b[0m\n`);
}

async function traceWhile(args: Record<string, string | boolean>, action: () => Promise<void>): Promise<TraceSummary> {
  // tracepoints only, date-time stamps, a 4 MiB ring
  const opts = parseTraceOptions({ ...args, time: true, backend: 'tracepoints' });
  const req = runRequest(opts, { netnsInode: opts.netns !== null ? resolveNetns(opts.netns) : 0, ringMb: '4' });
  let ready: () => void = () => {};
  const isReady = new Promise<void>((r) => (ready = r));
  let end: () => void = () => {};
  const until = new Promise<void>((r) => (end = r));
  const err = new PassThrough();
  err.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.startsWith('pktpath: why:') || /events, \d+ lost/.test(line)) out.write(`  ${line}\n`);
  });
  const run = runTrace(req, { out, err, onReady: ready, until });
  await Promise.race([isReady, run]); // a run that fails before it is ready rejects here
  await action();
  await new Promise((r) => setTimeout(r, 300)); // let the last packets land
  end();
  return run;
}

/** Why the iptables-legacy part cannot run here, or null. */
function legacyUnavailable(): string | null {
  try {
    if (!readFileSync('/sys/kernel/btf/vmlinux').includes('bpf_nf_ctx')) return 'the kernel has no BPF netfilter programs (Linux 6.4+)';
  } catch {
    return 'no kernel BTF';
  }
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  if (!dirs.some((d) => existsSync(`${d}/iptables-legacy`))) return 'iptables-legacy is not installed';
  return null;
}

/** Runs the demo; returns the exit code. */
export async function runDemo(): Promise<number> {
  if (process.geteuid?.() !== 0) throw new EnvironmentError('the demo creates network namespaces: run it as root');
  const cleanup = (): void => tearDown();
  process.once('exit', cleanup);
  try {
    setUp();
    out.write(`pktpath demo: namespaces ${CLIENT} (${CLIENT_IP}) and ${SERVER} (${SERVER_IP}), joined by a veth pair.\n`);

    heading(`1. TCP to a port nobody listens on: ${CLIENT_IP} -> ${SERVER_IP}:${PORT}`);
    out.write(`   pktpath trace -T --proto tcp -H ${SERVER_IP} -P ${PORT}\n`);
    const s1 = await traceWhile({ proto: 'tcp', ipaddr: SERVER_IP, port: String(PORT) }, async () => {
      out.write(`   (client: ${await connect(2)})\n`);
    });

    heading(`2. iptables -I OUTPUT -d ${SERVER_IP} -p tcp --dport ${PORT} -j DROP in ${CLIENT}`);
    inNs(CLIENT, ['iptables', '-I', 'OUTPUT', '-d', SERVER_IP, '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP']);
    out.write(`   pktpath trace -T --iptable --proto tcp -H ${SERVER_IP} -P ${PORT} -N ${CLIENT}\n`);
    const s2 = await traceWhile({ proto: 'tcp', ipaddr: SERVER_IP, port: String(PORT), netns: CLIENT, iptable: true }, async () => {
      out.write(`   (client: ${await connect(1)})\n`);
    });

    // 2b. the same drop by an iptables-legacy rule, table by table, as Mytracer printed it
    const legacyWhy = legacyUnavailable();
    let s3: TraceSummary | null = null;
    if (legacyWhy) {
      heading(`2b. iptables-legacy: skipped (${legacyWhy})`);
    } else {
      heading(`2b. the same rule with iptables-legacy, next to raw, mangle and nat tables, in ${CLIENT}`);
      inNs(CLIENT, ['iptables', '-D', 'OUTPUT', '-d', SERVER_IP, '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP']);
      for (const table of ['raw', 'mangle']) inNs(CLIENT, ['iptables-legacy', '-t', table, '-L', '-n']);
      // a NAT rule (for an address nobody uses) turns conntrack on, so nat is consulted too
      inNs(CLIENT, ['iptables-legacy', '-t', 'nat', '-A', 'OUTPUT', '-d', '10.199.77.99', '-p', 'udp', '-j', 'DNAT', '--to-destination', '10.199.77.98']);
      inNs(CLIENT, ['iptables-legacy', '-I', 'OUTPUT', '-d', SERVER_IP, '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP']);
      out.write(`   pktpath trace -T --iptable --proto tcp -H ${SERVER_IP} -P ${PORT} -N ${CLIENT}\n`);
      s3 = await traceWhile({ proto: 'tcp', ipaddr: SERVER_IP, port: String(PORT), netns: CLIENT, iptable: true }, async () => {
        out.write(`   (client: ${await connect(1)})\n`);
      });
    }

    heading('What it means');
    out.write(
      `1. The SYN crossed the veth into ${SERVER}, found no socket and was dropped (NO_SOCKET); the kernel answered with ACK,RST,\n` +
        `   which travelled back: that is the "connection refused" the client saw. ${s1.events} events.\n` +
        `2. The SYN never reached the device: the filter table's OUTPUT chain dropped it in ${CLIENT} (2.filter.OUTPUT.DROP,\n` +
        `   the rule is printed), before any transmit tracepoint and before tcpdump's capture point; the client\n` +
        `   retransmits until it gives up. ${s2.events} events.\n` +
        (s3
          ? `2b. iptables-legacy rules are invisible to nft trace: BPF netfilter observers around each table show the SYN\n` +
            `   accepted by raw, mangle and nat and dropped by filter, and the counters name the rule. ${s3.events} events.\n`
          : ''),
    );
    return 0;
  } finally {
    tearDown();
    process.off('exit', cleanup);
  }
}

// npm run demo runs this file directly
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runDemo().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`pktpath demo: ${err instanceof PktpathError ? err.message : (err as Error).message}\n`);
      process.exit(err instanceof PktpathError ? err.exitCode : 1);
    },
  );
}
