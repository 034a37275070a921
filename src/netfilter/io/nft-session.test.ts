/**
 * nftables tracing against the real kernel: two namespaces joined by a veth pair
 * (10.199.X.0/24 and fd00:199:X::/64, X in 180..189), iptables-nft and native nft rules,
 * bounded TCP connects. Needs root, `ip`, `nft` and iptables-nft; skips with the reason
 * printed otherwise. Every namespace is deleted in `finally`, and on exit.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execSyncIn, skipUnlessMet, withVethPair } from '../../../test/helpers/netns.js';
import type { VethPair } from '../../../test/helpers/netns.js';
import { UsageError } from '../../shared/errors.js';
import { formatNfStep, nfJson } from '../nft/path.js';
import { parseNftRuleList } from '../nft/listing.js';
import type { NfTrace, NftTraceRecord } from '../model.js';
import { nftRulesetHooks, reclaimStale, startNftTrace } from './nft-session.js';
import type { NftTraceSession } from './nft-session.js';
import { pidAlive } from '../../shared/io/process.js';

/* ------------------------------------------------------------------ prerequisites */

function have(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => d && existsSync(join(d, cmd)));
}

function missing(): string | null {
  if (process.getuid?.() !== 0) return `needs root (running as uid ${process.getuid?.() ?? '?'})`;
  for (const c of ['ip', 'nft', 'iptables', 'bash', 'timeout']) if (!have(c)) return `needs \`${c}\` on PATH`;
  try {
    const v = execFileSync('iptables', ['--version'], { encoding: 'utf8' });
    if (!v.includes('nf_tables')) return `needs iptables-nft (iptables is ${v.trim()})`;
  } catch {
    return 'iptables --version failed';
  }
  return null;
}

function gate(t: TestContext): boolean {
  return skipUnlessMet(t, missing());
}

/* ------------------------------------------------------------------ topology */

/** This file's subnets (test/helpers/netns.ts lock protocol): 10.199.180.0/24 .. 10.199.189.0/24. */
const SUBNETS = { min: 180, max: 189 };

/** Run in a namespace; throws with stderr on failure. */
function inNs(ns: string, cmd: string[], timeoutMs = 10_000): string {
  return execSyncIn(ns, cmd, { timeoutMs });
}

/** cli <== veth pn<X>c/pn<X>s ==> srv. */
function withTopo(fn: (t: VethPair) => Promise<void>): Promise<void> {
  return withVethPair({ tag: 'nft', ifPrefix: 'pn', range: SUBNETS }, fn);
}

/* ------------------------------------------------------------------ traffic and waiting */

/** One bounded TCP connect from `ns` (bash /dev/tcp under `timeout`): 'connected' or 'failed'. */
function connect(ns: string, addr: string, port: number, seconds = 2): Promise<'connected' | 'failed'> {
  return new Promise((resolve) => {
    const c = spawn('ip', ['netns', 'exec', ns, 'timeout', String(seconds), 'bash', '-c', `exec 3<>/dev/tcp/${addr}/${port}`], { stdio: 'ignore' });
    const kill = setTimeout(() => c.kill('SIGKILL'), (seconds + 3) * 1000);
    c.on('close', (code) => {
      clearTimeout(kill);
      resolve(code === 0 ? 'connected' : 'failed');
    });
  });
}

/** A TCP listener in `ns` that accepts and closes, for at most `seconds`. Resolves when listening. */
function listen(ns: string, addr: string, port: number, seconds = 20): Promise<ChildProcess> {
  const script = `const s=require('net').createServer(c=>c.end());s.listen(${port},${JSON.stringify(addr)},()=>console.log('up'));setTimeout(()=>process.exit(0),${seconds * 1000});`;
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const t = setTimeout(() => (c.kill('SIGKILL'), reject(new Error('listener not up after 5 s'))), 5000);
    c.stdout.once('data', () => (clearTimeout(t), resolve(c)));
    c.on('close', (code) => (clearTimeout(t), reject(new Error(`listener exited ${code}`))));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll until `pred` holds; fails after `ms`. */
async function until<T>(what: string, ms: number, pred: () => T | undefined | null | false): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** This process and the children it started: pktpath runs of other test files, which trace every namespace, are not ours to check. */
const ourPids = new Set<number>([process.pid]);

/** pktpath tables of ours in a namespace (null: this one). */
function pktpathTables(ns: string | null): string[] {
  const out = ns === null ? execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }) : inNs(ns, ['nft', 'list', 'tables']);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => {
      const m = /^table inet pktpath_(\d+)/.exec(l);
      return m !== null && ourPids.has(Number(m[1]));
    });
}

/** The user's ruleset, without pktpath's tables and without counter values. */
function userRuleset(ns: string): string {
  const text = inNs(ns, ['nft', '-a', 'list', 'ruleset']);
  return text
    .replace(/table inet pktpath_[^\n]*\{[\s\S]*?\n\}\n?/g, '')
    .replace(/counter packets \d+ bytes \d+/g, 'counter');
}

function handleOf(ns: string, family: string, table: string, chain: string, pred: (text: string) => boolean): number {
  const r = parseNftRuleList(inNs(ns, ['nft', '-a', 'list', 'ruleset'])).find((x) => x.family === family && x.table === table && x.chain === chain && pred(x.text));
  assert.ok(r, `no rule in ${family} ${table} ${chain}`);
  return r.handle;
}

interface Collected {
  session: NftTraceSession;
  traces: NfTrace[];
  records: NftTraceRecord[];
  errors: Error[];
}

async function trace(netns: string, filter: Parameters<typeof startNftTrace>[0]['filter']): Promise<Collected> {
  const c: Omit<Collected, 'session'> = { traces: [], records: [], errors: [] };
  const session = await startNftTrace({
    netns,
    filter,
    onTrace: (t) => c.traces.push(t),
    onRecord: (r) => c.records.push(r),
    onError: (e) => c.errors.push(e),
  });
  return { ...c, session };
}

const describe = (ts: NfTrace[]): string => ts.map((t) => `${t.traceId}: ${t.path.map(formatNfStep).join(' ')}`).join('\n');

/* ------------------------------------------------------------------ tests */

test('iptables-nft DROP in OUTPUT: 2.filter.OUTPUT.DROP with the rule and its handle; nothing left after stop', async (t) => {
  if (!gate(t)) return;
  await withTopo(async (topo) => {
    const port = 8080;
    inNs(topo.cli, ['iptables', '-I', 'OUTPUT', '-d', topo.srvV4, '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
    const handle = handleOf(topo.cli, 'ip', 'filter', 'OUTPUT', (x) => x.includes('drop'));
    const before = userRuleset(topo.cli);

    const c = await trace(topo.cli, { addr: topo.srvV4, port, l4proto: 'tcp' });
    try {
      assert.match(c.session.table, /^pktpath_\d+$/);
      assert.equal(c.session.table, `pktpath_${process.pid}`);
      assert.deepEqual(pktpathTables(topo.cli), [`table inet ${c.session.table}`]);
      const outcome = await connect(topo.cli, topo.srvV4, port, 2);
      assert.equal(outcome, 'failed');
      const dropped = await until('a DROP path', 5000, () => c.traces.find((x) => x.path.at(-1)?.verdict === 'DROP'));
      const last = dropped.path.at(-1)!;
      assert.equal(formatNfStep(last), '2.filter.OUTPUT.DROP', describe(c.traces));
      assert.equal(last.table, 'filter');
      assert.equal(last.chain, 'OUTPUT');
      assert.equal(last.hook, 'output');
      assert.equal(last.handle, handle);
      assert.match(last.rule ?? '', /drop/);
      assert.ok(last.rule?.endsWith(`# handle ${handle}`), last.rule ?? 'no rule');
      assert.deepEqual(nfJson(last), { pf: 2, table: 'filter', chain: 'OUTPUT', hook: 'output', verdict: 'DROP', rule: last.rule });
      assert.equal(dropped.packet?.daddr, topo.srvV4);
      assert.equal(dropped.packet?.dport, port);
      assert.equal(dropped.packet?.tcpFlags, 0x02);
      // pktpath's own chain is not in the path, but its records are there
      assert.ok(dropped.path.every((s) => !s.table.startsWith('pktpath_')));
      assert.ok(dropped.records.some((r) => r.table === c.session.table));
    } finally {
      const stats = await c.session.stop();
      t.diagnostic(`stats: ${JSON.stringify(stats)}`);
      assert.equal(stats.netlinkDrops, 0);
    }
    assert.deepEqual(c.errors, []);
    assert.deepEqual(pktpathTables(topo.cli), []);
    assert.equal(userRuleset(topo.cli), before, 'the user ruleset is unchanged');
    // the monitor is gone
    assert.equal(pidAlive(c.session.monitorPid), false);
  });
});

test('native nft table: inet usertbl out DROP, over IPv4 (pf 2) and IPv6 (pf 10)', async (t) => {
  if (!gate(t)) return;
  await withTopo(async (topo) => {
    const port = 8088;
    inNs(topo.cli, ['nft', 'add table inet usertbl']);
    inNs(topo.cli, ['nft', 'add chain inet usertbl out { type filter hook output priority 0; }']);
    inNs(topo.cli, ['nft', `add rule inet usertbl out tcp dport ${port} drop`]);
    const handle = handleOf(topo.cli, 'inet', 'usertbl', 'out', (x) => x.includes('drop'));
    for (const [addr, pf] of [
      [topo.srvV4, 2],
      [topo.srvV6, 10],
    ] as const) {
      const c = await trace(topo.cli, { addr, port });
      try {
        assert.equal(await connect(topo.cli, addr, port, 1), 'failed');
        const dropped = await until(`a DROP path to ${addr}`, 5000, () => c.traces.find((x) => x.path.at(-1)?.verdict === 'DROP'));
        const last = dropped.path.at(-1)!;
        assert.equal(formatNfStep(last), `${pf}.usertbl.out.DROP`, describe(c.traces));
        assert.equal(last.hook, 'output');
        assert.equal(last.rule, `tcp dport ${port} drop # handle ${handle}`);
        assert.equal(dropped.packet?.family, pf === 2 ? 4 : 6);
      } finally {
        await c.session.stop();
      }
      assert.deepEqual(pktpathTables(topo.cli), []);
    }
  });
});

test('accepted connection: mangle, nat, filter OUTPUT and mangle POSTROUTING ACCEPT on the way out, PREROUTING and INPUT at the server; a rule added mid-trace is named', async (t) => {
  if (!gate(t)) return;
  await withTopo(async (topo) => {
    const port = 8081;
    const ipt = (ns: string, ...args: string[]): string => inNs(ns, ['iptables', ...args]);
    ipt(topo.cli, '-t', 'mangle', '-A', 'OUTPUT', '-p', 'tcp', '--dport', String(port), '-j', 'MARK', '--set-mark', '5');
    ipt(topo.cli, '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', String(port), '-j', 'ACCEPT');
    // a conntrack match: with iptables-nft, nat chains only run when conntrack is in use
    ipt(topo.cli, '-A', 'OUTPUT', '-p', 'tcp', '--dport', String(port), '-m', 'conntrack', '--ctstate', 'NEW,ESTABLISHED', '-j', 'ACCEPT');
    ipt(topo.cli, '-t', 'mangle', '-A', 'POSTROUTING', '-p', 'tcp', '--dport', String(port), '-j', 'ACCEPT');
    ipt(topo.srv, '-t', 'mangle', '-A', 'PREROUTING', '-p', 'tcp', '--dport', String(port), '-j', 'ACCEPT');
    ipt(topo.srv, '-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'ACCEPT');
    const listener = await listen(topo.srv, topo.srvV4, port);
    const cli = await trace(topo.cli, { addr: topo.srvV4, port, l4proto: 'tcp' });
    const srv = await trace(topo.srv, { addr: topo.cliV4, port, l4proto: 'tcp' });
    try {
      assert.equal(await connect(topo.cli, topo.srvV4, port, 2), 'connected');
      const syn = await until('the SYN path', 5000, () => cli.traces.find((x) => x.packet?.tcpFlags === 0x02 && x.path.length > 0));
      // one trace id from output to postrouting: one path across both hooks
      assert.deepEqual(
        syn.path.map(formatNfStep),
        ['2.mangle.OUTPUT.ACCEPT', '2.nat.OUTPUT.ACCEPT', '2.filter.OUTPUT.ACCEPT', '2.mangle.POSTROUTING.ACCEPT'],
        describe(cli.traces),
      );
      assert.equal(syn.path[3]!.hook, 'postrouting');
      assert.equal(syn.path[0]!.byPolicy, true);
      assert.equal(syn.path[0]!.mark, 5);
      assert.equal(syn.path[1]!.hook, 'output');
      assert.match(syn.path[2]!.rule ?? '', /ct state (new,established|established,new) .*accept # handle \d+$/);
      // the server saw the SYN in its INPUT chain, accepted by the rule
      const srvSyn = await until('the server SYN path', 5000, () => srv.traces.find((x) => x.packet?.tcpFlags === 0x02 && x.path.length > 0));
      assert.deepEqual(srvSyn.path.map(formatNfStep), ['2.mangle.PREROUTING.ACCEPT', '2.filter.INPUT.ACCEPT'], describe(srv.traces));
      assert.deepEqual(
        srvSyn.path.map((x) => x.hook),
        ['prerouting', 'input'],
      );
      assert.match(srvSyn.path[1]!.rule ?? '', /tcp dport 8081 .*accept # handle \d+$/);
      // SYN-ACK leaves the server through pktpath's output chain only: an empty path
      await until('the SYN-ACK (empty path)', 5000, () => srv.traces.some((x) => x.packet?.tcpFlags === 0x12 && x.path.length === 0));

      // a rule added after the monitor started: nft prints "unknown rule handle N"; the session names it
      ipt(topo.cli, '-I', 'OUTPUT', '1', '-s', topo.cliV4, '-p', 'tcp', '--dport', String(port), '-j', 'ACCEPT');
      const later = handleOf(topo.cli, 'ip', 'filter', 'OUTPUT', (x) => x.startsWith(`ip saddr ${topo.cliV4} `));
      const n = cli.traces.length;
      assert.equal(await connect(topo.cli, topo.srvV4, port, 2), 'connected');
      const syn2 = await until('the second SYN path', 5000, () => cli.traces.slice(n).find((x) => x.packet?.tcpFlags === 0x02 && x.path.length > 0));
      assert.ok(cli.records.some((r) => r.unknownRule && r.handle === later), 'nft printed an unknown rule');
      const step = syn2.path.find((x) => x.table === 'filter')!;
      assert.equal(formatNfStep(step), '2.filter.OUTPUT.ACCEPT');
      assert.equal(step.handle, later);
      assert.match(step.rule ?? '', new RegExp(`^ip saddr ${topo.cliV4.replace(/\./g, '\\.')} tcp dport ${port} .*accept # handle ${later}$`));
    } finally {
      await cli.session.stop();
      await srv.session.stop();
      listener.kill('SIGKILL');
    }
    assert.deepEqual(cli.errors, []);
    assert.deepEqual(srv.errors, []);
    assert.deepEqual(pktpathTables(topo.cli), []);
    assert.deepEqual(pktpathTables(topo.srv), []);
  });
});

test('latency from sendto() to the trace line (diagnostic), and the async iterator', async (t) => {
  if (!gate(t)) return;
  if (!have('python3')) {
    process.stderr.write(`# ${t.name}: skipped: needs python3\n`);
    t.skip('needs python3');
    return;
  }
  await withTopo(async (topo) => {
    const port = 9999;
    const arrivals: { sport: number; at: bigint }[] = [];
    const s = await startNftTrace({
      netns: topo.cli,
      filter: { addr: topo.srvV4, port, l4proto: 'udp' },
      onRecord: (r) => {
        if (r.kind === 'packet' && r.packet?.sport !== undefined) arrivals.push({ sport: r.packet.sport, at: process.hrtime.bigint() });
      },
    });
    const iter = s.traces();
    try {
      const py = [
        'import socket, time',
        'for i in range(20):',
        '    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        `    s.bind(("${topo.cliV4}", 0))`,
        '    t = time.monotonic_ns()',
        `    s.sendto(b"x", ("${topo.srvV4}", ${port}))`,
        '    print(s.getsockname()[1], t, flush=True)',
        '    s.close()',
        '    time.sleep(0.02)',
      ].join('\n');
      const out = await new Promise<string>((resolve, reject) => {
        const c = spawn('ip', ['netns', 'exec', topo.cli, 'python3', '-c', py], { stdio: ['ignore', 'pipe', 'pipe'] });
        let o = '';
        const k = setTimeout(() => c.kill('SIGKILL'), 10_000);
        c.stdout.setEncoding('utf8').on('data', (d: string) => (o += d));
        c.on('close', (code) => (clearTimeout(k), code === 0 ? resolve(o) : reject(new Error(`python exit ${code}`))));
      });
      const sends = out.trim().split('\n').map((l) => l.split(' ')).map(([sp, at]) => ({ sport: Number(sp), at: BigInt(at!) }));
      await until('20 packets traced', 5000, () => sends.every((x) => arrivals.some((a) => a.sport === x.sport)));
      const lat = sends.map((x) => Number(arrivals.find((a) => a.sport === x.sport)!.at - x.at) / 1000).sort((a, b) => a - b);
      t.diagnostic(`sendto -> first trace line: min ${lat[0]!.toFixed(0)} us, median ${lat[10]!.toFixed(0)} us, max ${lat[19]!.toFixed(0)} us (n=20)`);
      assert.ok(lat[0]! > 0, 'a line cannot come before the packet');
    } finally {
      await s.stop();
    }
    // every UDP packet (no rule of the user) came through the iterator, with an empty path
    let n = 0;
    for await (const tr of iter) {
      if (tr.packet?.l4proto === 'udp') n++;
      assert.deepEqual(tr.path, []);
    }
    assert.equal(n, 20);
  });
});

test('bad input: unknown namespace, bad filter; a fresh namespace has no chains', async (t) => {
  if (!gate(t)) return;
  await assert.rejects(startNftTrace({ netns: 'pp-no-such-ns-for-nftrace', filter: {} }), UsageError);
  await assert.rejects(startNftTrace({ netns: '../etc', filter: {} }), UsageError);
  await assert.rejects(startNftTrace({ netns: null, filter: { addr: 'nope' } }), UsageError);
  await assert.rejects(startNftTrace({ netns: null, filter: { port: 1, l4proto: 'icmp' } }), UsageError);
  await withTopo(async (topo) => {
    const hooks = await nftRulesetHooks(topo.cli);
    assert.equal(hooks.size, 0); // a fresh namespace has no chains
  });
});

/* ------------------------------------------------------------------ killed runs */

/**
 * A run that owns its signals, as pktpath's session does (the trace module installs no
 * signal handler). On SIGTERM/SIGINT it ends the session as argv[4] says, then dies of
 * the signal: 'stop' (graceful), 'sync' (cleanupSync(), a forced exit), 'exit'
 * (process.exit without either: the exit-time cleanup is the last resort).
 */
const CHILD = `
const { startNftTrace } = await import(process.argv[2]);
const s = await startNftTrace({ netns: process.argv[3], filter: { port: 7 } });
const mode = process.argv[4] ?? 'stop';
const onSignal = async (sig) => {
  if (mode === 'exit') process.exit(3);
  if (mode === 'sync') s.cleanupSync();
  else await s.stop();
  process.kill(process.pid, sig);
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
process.stdout.write('ready ' + s.table + ' ' + s.monitorPid + '\\n');
setInterval(() => {}, 1 << 30);
`;

async function startChild(
  dir: string,
  ns: string,
  mode: 'stop' | 'sync' | 'exit' = 'stop',
): Promise<{ child: ChildProcess; table: string; monitorPid: number; exited: Promise<void> }> {
  const script = join(dir, 'child.mjs');
  writeFileSync(script, CHILD);
  const mod = join(fileURLToPath(new URL('.', import.meta.url)), 'nft-session.js');
  const child = spawn(process.execPath, [script, mod, ns, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) ourPids.add(child.pid);
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  exited.then(() => clearTimeout(killer), () => undefined);
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const m = await until('the child to be ready', 10_000, () => {
    if (child.exitCode !== null) throw new Error(`child exited ${child.exitCode}: ${err}`);
    return /ready (\S+) (\d+)/.exec(out);
  });
  return { child, table: m[1]!, monitorPid: Number(m[2]), exited };
}

test('SIGTERM: the table is removed and the monitor stops', async (t) => {
  if (!gate(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'pktpath-nftrace-'));
  try {
    await withTopo(async (topo) => {
      const c = await startChild(dir, topo.cli);
      assert.deepEqual(pktpathTables(topo.cli), [`table inet ${c.table}`]);
      c.child.kill('SIGTERM');
      await c.exited;
      assert.equal(c.child.signalCode, 'SIGTERM', 'dies of the signal when nobody else handles it');
      assert.deepEqual(pktpathTables(topo.cli), []);
      await until('the monitor to exit', 3000, () => !pidAlive(c.monitorPid));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a forced end without stop(): cleanupSync() on SIGINT, or process.exit alone; no table left, the monitor gone', async (t) => {
  if (!gate(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'pktpath-nftrace-'));
  try {
    await withTopo(async (topo) => {
      for (const { mode, signal, code } of [
        { mode: 'sync', signal: 'SIGINT', code: null },
        { mode: 'exit', signal: null, code: 3 },
      ] as const) {
        const c = await startChild(dir, topo.cli, mode);
        assert.deepEqual(pktpathTables(topo.cli), [`table inet ${c.table}`], mode);
        c.child.kill(signal ?? 'SIGTERM');
        await c.exited;
        assert.equal(c.child.signalCode, signal, mode);
        assert.equal(c.child.exitCode, code, mode);
        assert.deepEqual(pktpathTables(topo.cli), [], `${mode}: the table is gone`);
        await until(`the monitor to exit (${mode})`, 3000, () => !pidAlive(c.monitorPid));
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGKILL leaves the table; reclaimStale() removes it (and the monitor died with its parent)', async (t) => {
  if (!gate(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'pktpath-nftrace-'));
  try {
    await withTopo(async (topo) => {
      // Any pktpath start reclaims stale tables in every namespace: when a run of another
      // test file took this one first (it is gone, and this reclaimStale found nothing), try again.
      for (let attempt = 1; ; attempt++) {
        const c = await startChild(dir, topo.cli);
        c.child.kill('SIGKILL');
        await c.exited;
        assert.deepEqual(pktpathTables(topo.cli), [`table inet ${c.table}`], 'a killed run leaves its table');
        await until('the monitor to die with its parent (PR_SET_PDEATHSIG)', 3000, () => !pidAlive(c.monitorPid));
        const removed = await reclaimStale();
        const ours = removed.some((r) => r.netns !== null && r.table === c.table && r.pid === c.child.pid);
        if (!ours && attempt < 3 && pktpathTables(topo.cli).length === 0) {
          t.diagnostic(`attempt ${attempt}: another pktpath run reclaimed ${c.table} first`);
          continue;
        }
        assert.ok(ours, `reclaimStale removed ${JSON.stringify(removed)}`);
        break;
      }
      assert.deepEqual(pktpathTables(topo.cli), []);
      // the table of a live run (this process) is left alone
      const s = await startNftTrace({ netns: topo.cli, filter: { port: 9 } });
      try {
        const again = await reclaimStale();
        assert.ok(!again.some((r) => r.table === s.table));
        assert.deepEqual(pktpathTables(topo.cli), [`table inet ${s.table}`]);
      } finally {
        await s.stop();
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing of ours is left in the root namespace', (t) => {
  if (!gate(t)) return;
  assert.deepEqual(
    pktpathTables(null).filter((l) => l.includes(`pktpath_${process.pid}`)),
    [],
  );
});
