/**
 * iptables-legacy drops named by counters, against the real kernel: two namespaces
 * joined by a veth pair (10.199.X.0/24 and fd00:199:X::/64, X in 210..219), legacy rules
 * in them, bounded TCP connects and pings. Needs root, `ip`, `iptables-legacy`,
 * `ip6tables-legacy`, bash, timeout and ping; skips with the reason printed otherwise.
 * Only namespaces created here get rules; every rule is flushed and every namespace
 * deleted in `finally`, and on exit. The root namespace's rules are only read.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execSyncIn, skipUnlessMet, withVethPair } from '../../../test/helpers/netns.js';
import type { VethPair } from '../../../test/helpers/netns.js';
import { UsageError } from '../../shared/errors.js';
import { LegacyWatcher, legacyRulesIn, legacySnapshot } from './legacy-counters.js';
import type { LegacyDrop } from './legacy-counters.js';

/* ------------------------------------------------------------------ prerequisites */

const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

function have(cmd: string): boolean {
  return PATH.split(':').some((d) => d && existsSync(join(d, cmd)));
}

function missing(): string | null {
  if (process.getuid?.() !== 0) return `needs root (running as uid ${process.getuid?.() ?? '?'})`;
  for (const c of ['ip', 'iptables-legacy', 'iptables-legacy-save', 'ip6tables-legacy', 'ip6tables-legacy-save', 'bash', 'timeout', 'ping', 'sh']) {
    if (!have(c)) return `needs \`${c}\` on PATH (Debian: iptables, iproute2, iputils-ping)`;
  }
  return null;
}

function gate(t: TestContext): boolean {
  return skipUnlessMet(t, missing());
}

/* ------------------------------------------------------------------ topology */

/** This file's subnets (test/helpers/netns.ts lock protocol): 10.199.210.0/24 .. 10.199.219.0/24. */
const SUBNETS = { min: 210, max: 219 };

/** Run in a namespace; throws with stderr on failure. */
function inNs(ns: string, cmd: string[], timeoutMs = 10_000): string {
  return execSyncIn(ns, cmd, { timeoutMs, env: { ...process.env, PATH } });
}

/** Flush every legacy table in `ns` (both families), set builtin policies back to ACCEPT. Best effort. */
function flushLegacy(ns: string): void {
  for (const [tool, names] of [
    ['iptables-legacy', '/proc/net/ip_tables_names'],
    ['ip6tables-legacy', '/proc/net/ip6_tables_names'],
  ] as const) {
    let tables: string[] = [];
    try {
      tables = inNs(ns, ['cat', names]).split('\n').filter(Boolean);
    } catch {
      continue;
    }
    for (const table of tables) {
      for (const args of [['-F'], ['-X'], ['-Z']]) {
        try {
          inNs(ns, [tool, '-t', table, ...args]);
        } catch {
          /* best effort: the namespace is deleted next */
        }
      }
      try {
        const chains = inNs(ns, [`${tool}-save`, '-t', table])
          .split('\n')
          .map((l) => /^:(\S+) (\S+)/.exec(l))
          .filter((m): m is RegExpExecArray => m !== null && m[2] !== '-');
        for (const m of chains) inNs(ns, [tool, '-t', table, '-P', m[1]!, 'ACCEPT']);
      } catch {
        /* best effort */
      }
    }
  }
}

/** cli <== veth pl<X>c/pl<X>s ==> srv; every legacy table in them is flushed before they go. */
function withTopo(fn: (t: VethPair) => Promise<void>): Promise<void> {
  return withVethPair({ tag: 'lgc', ifPrefix: 'pl', range: SUBNETS, beforeDelete: flushLegacy }, fn);
}

/* ------------------------------------------------------------------ traffic */

function run(ns: string, cmd: string[], killAfterMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: 'ignore', env: { ...process.env, PATH } });
    const kill = setTimeout(() => c.kill('SIGKILL'), killAfterMs);
    c.on('close', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
  });
}

/** One bounded TCP connect from `ns` (bash /dev/tcp under `timeout`): 'connected' or 'failed'. */
async function connect(ns: string, addr: string, port: number, seconds = 2): Promise<'connected' | 'failed'> {
  const code = await run(ns, ['timeout', String(seconds), 'bash', '-c', `exec 3<>/dev/tcp/${addr}/${port}`], (seconds + 3) * 1000);
  return code === 0 ? 'connected' : 'failed';
}

/** One echo request, waiting at most a second for the reply: true when answered. */
async function ping1(ns: string, addr: string): Promise<boolean> {
  return (await run(ns, ['ping', '-n', '-q', '-c', '1', '-W', '1', addr], 5000)) === 0;
}

function tablesNames(ns: string | null, file = '/proc/net/ip_tables_names'): string {
  return ns === null ? readFileSync(file, 'utf8') : inNs(ns, ['cat', file]);
}

const show = (d: LegacyDrop | null): string => JSON.stringify(d, null, 1);

/** The root namespace's legacy tables (readable by root only), to check they are left alone. */
function rootNames(): string | null {
  try {
    return readFileSync('/proc/net/ip_tables_names', 'utf8');
  } catch {
    return null;
  }
}
const rootNamesBefore = rootNames();

/* ------------------------------------------------------------------ tests */

test('no legacy tables: legacyRulesIn is false, start() is null, and checking creates no table', async (t) => {
  if (!gate(t)) return;
  await withTopo(async (topo) => {
    assert.equal(tablesNames(topo.cli), '');
    assert.equal(await legacyRulesIn(topo.cli), false);
    assert.equal(await LegacyWatcher.start(topo.cli), null);
    const s = await legacySnapshot(topo.cli);
    assert.deepEqual([s.names, s.ipv4, s.ipv6], [{ ipv4: [], ipv6: [] }, [], []]);
    assert.ok(s.endNs > s.startNs);
    assert.equal(tablesNames(topo.cli), '', 'the check instantiated no table');
    assert.equal(tablesNames(topo.cli, '/proc/net/ip6_tables_names'), '');

    // `iptables-legacy -L` instantiates filter with empty chains: a table, but no rules
    inNs(topo.cli, ['iptables-legacy', '-n', '-L']);
    assert.equal(tablesNames(topo.cli).trim(), 'filter');
    assert.equal(await legacyRulesIn(topo.cli), false);
    inNs(topo.cli, ['iptables-legacy', '-A', 'OUTPUT', '-p', 'udp', '--dport', '9', '-j', 'ACCEPT']);
    assert.equal(await legacyRulesIn(topo.cli), true);
    // one family is enough
    inNs(topo.srv, ['ip6tables-legacy', '-P', 'FORWARD', 'DROP']);
    assert.equal(await legacyRulesIn(topo.srv), true);
    assert.deepEqual((await legacySnapshot(topo.srv)).names, { ipv4: [], ipv6: ['filter'] });
  });
});

test('bad namespace names are a UsageError; our own namespace is only read', async (t) => {
  if (!gate(t)) return;
  await assert.rejects(legacyRulesIn('no-such-ns-pktpath'), UsageError);
  await assert.rejects(legacyRulesIn('../etc'), UsageError);
  await assert.rejects(LegacyWatcher.start('a b'), UsageError);
  assert.equal(typeof (await legacyRulesIn(null)), 'boolean');
  assert.equal(rootNames(), rootNamesBefore);
});

test('OUTPUT DROP rule in the client: explainDrop names filter/OUTPUT and the rule', async (t) => {
  if (!gate(t)) return;
  await withTopo(async (topo) => {
    const port = 8081;
    inNs(topo.cli, ['iptables-legacy', '-I', 'OUTPUT', '-d', topo.srvV4, '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
    const w = await LegacyWatcher.start(topo.cli);
    assert.ok(w, 'legacy rules are there');
    assert.equal(await w.explainDrop(), null, 'nothing dropped yet');

    const t0 = process.hrtime.bigint();
    assert.equal(await connect(topo.cli, topo.srvV4, port, 2), 'failed');
    const tBefore = process.hrtime.bigint();
    const d = await w.explainDrop({ atNs: t0 + 1n, family: 4 });
    t.diagnostic(`explainDrop took ${Number(process.hrtime.bigint() - tBefore) / 1e6} ms`);
    assert.ok(d, 'a drop is explained');
    assert.equal(d.table, 'filter', show(d));
    assert.equal(d.chain, 'OUTPUT');
    assert.equal(d.hook, 'output');
    assert.equal(d.rule, `-A OUTPUT -d ${topo.srvV4}/32 -p tcp -m tcp --dport ${port} -j DROP`);
    assert.equal(d.index, 1);
    assert.equal(d.byPolicy, false);
    assert.equal(d.target, 'DROP');
    assert.equal(d.verdict, 'DROP');
    assert.equal(d.family, 'ipv4');
    assert.equal(d.pf, 2);
    assert.ok(d.packets >= 1, `the SYN, and retransmissions within 2 s: ${d.packets}`);
    assert.deepEqual(d.ambiguous, []);

    // the same drop again (a burst of kfree_skb events): answered from the diff, no new snapshot
    const n = w.stats().snapshots;
    assert.deepEqual(await w.explainDrop({ atNs: t0 + 2n }), d);
    assert.equal(w.stats().snapshots, n);
    // a later drop that nothing counted
    assert.equal(await w.explainDrop(), null);
    assert.equal(await w.explainDrop({ atNs: process.hrtime.bigint(), family: 4 }), null);
    // the other family's counters did not move
    const again = await connect(topo.cli, topo.srvV4, port, 1);
    assert.equal(again, 'failed');
    assert.equal(await w.explainDrop({ family: 6 }), null);
    t.diagnostic(`watcher: ${JSON.stringify(w.stats())}`);
  });
});

test('INPUT policy DROP in the server (lo accepted): a ping names the policy', async (t) => {
  if (!gate(t)) return;
  await withTopo(async (topo) => {
    inNs(topo.srv, ['iptables-legacy', '-A', 'INPUT', '-i', 'lo', '-j', 'ACCEPT']);
    inNs(topo.srv, ['iptables-legacy', '-P', 'INPUT', 'DROP']);
    const w = await LegacyWatcher.start(topo.srv);
    assert.ok(w);
    assert.equal(await ping1(topo.cli, topo.srvV4), false, 'the echo request is dropped');
    const d = await w.explainDrop({ family: 4 });
    assert.ok(d, 'a drop is explained');
    assert.deepEqual(
      { table: d.table, chain: d.chain, hook: d.hook, rule: d.rule, byPolicy: d.byPolicy, target: d.target, index: d.index, ambiguous: d.ambiguous },
      { table: 'filter', chain: 'INPUT', hook: 'input', rule: null, byPolicy: true, target: 'DROP', index: null, ambiguous: [] },
      show(d),
    );
    assert.equal(d.packets, 1);
    // lo traffic is accepted by the rule, not counted by the policy
    assert.equal(await ping1(topo.srv, '127.0.0.1'), true);
    assert.equal(await w.explainDrop(), null);
  });
});

test('REJECT in a user chain jumped to from INPUT: the chain, hook input, the rule', async (t) => {
  if (!gate(t)) return;
  await withTopo(async (topo) => {
    const port = 8082;
    inNs(topo.srv, ['iptables-legacy', '-N', 'BLOCK']);
    inNs(topo.srv, ['iptables-legacy', '-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'BLOCK']);
    inNs(topo.srv, ['iptables-legacy', '-A', 'BLOCK', '-s', topo.cliV4, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset']);
    const w = await LegacyWatcher.start(topo.srv);
    assert.ok(w);
    assert.equal(await connect(topo.cli, topo.srvV4, port, 2), 'failed');
    const d = await w.explainDrop();
    assert.ok(d);
    assert.deepEqual(
      { table: d.table, chain: d.chain, hook: d.hook, rule: d.rule, target: d.target, index: d.index, ambiguous: d.ambiguous, packets: d.packets },
      {
        table: 'filter',
        chain: 'BLOCK',
        hook: 'input',
        rule: `-A BLOCK -s ${topo.cliV4}/32 -p tcp -j REJECT --reject-with tcp-reset`,
        target: 'REJECT',
        index: 1,
        ambiguous: [],
        packets: 1,
      },
      show(d),
    );
  });
});

test('two rules dropped between snapshots: ambiguous lists both; ip6tables-legacy rules are seen (pf 10)', async (t) => {
  if (!gate(t)) return;
  await withTopo(async (topo) => {
    const [p1, p2, p6] = [8083, 8084, 8085];
    inNs(topo.cli, ['iptables-legacy', '-A', 'OUTPUT', '-d', topo.srvV4, '-p', 'tcp', '--dport', String(p1), '-j', 'DROP']);
    inNs(topo.cli, ['iptables-legacy', '-A', 'OUTPUT', '-d', topo.srvV4, '-p', 'tcp', '--dport', String(p2), '-j', 'REJECT', '--reject-with', 'tcp-reset']);
    inNs(topo.cli, ['ip6tables-legacy', '-A', 'OUTPUT', '-d', topo.srvV6, '-p', 'tcp', '--dport', String(p6), '-j', 'DROP']);
    const w = await LegacyWatcher.start(topo.cli);
    assert.ok(w);
    assert.deepEqual(w.snapshot.names, { ipv4: ['filter'], ipv6: ['filter'] });

    const [a, b] = await Promise.all([connect(topo.cli, topo.srvV4, p1, 1), connect(topo.cli, topo.srvV4, p2, 1)]);
    assert.deepEqual([a, b], ['failed', 'failed']);
    const d = await w.explainDrop({ family: 4 });
    assert.ok(d);
    assert.equal(d.ambiguous.length, 2, show(d));
    assert.match(d.ambiguous.join('\n'), new RegExp(`ipv4 filter OUTPUT #1: -A OUTPUT -d ${topo.srvV4}/32 -p tcp -m tcp --dport ${p1} -j DROP \\(\\+\\d+ packets?\\)`));
    assert.match(d.ambiguous.join('\n'), new RegExp(`ipv4 filter OUTPUT #2: -A OUTPUT .*--dport ${p2} -j REJECT --reject-with tcp-reset \\(\\+1 packet\\)`));
    assert.deepEqual(
      d.candidates.map((c) => [c.index, c.target]),
      [
        [1, 'DROP'],
        [2, 'REJECT'],
      ],
    );

    assert.equal(await connect(topo.cli, topo.srvV6, p6, 1), 'failed');
    const d6 = await w.explainDrop();
    assert.ok(d6);
    assert.deepEqual(
      [d6.family, d6.pf, d6.table, d6.chain, d6.hook, d6.rule, d6.ambiguous],
      ['ipv6', 10, 'filter', 'OUTPUT', 'output', `-A OUTPUT -d ${topo.srvV6}/128 -p tcp -m tcp --dport ${p6} -j DROP`, []],
      show(d6),
    );
  });
});

test('timing: one snapshot (iptables-legacy-save -c in a netns)', async (t) => {
  if (!gate(t)) return;
  await withTopo(async (topo) => {
    const ns = topo.cli;
    const stats = (xs: number[]): string => {
      const s = [...xs].sort((p, q) => p - q);
      const at = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))]!.toFixed(1);
      return `median ${at(0.5)} ms, min ${s[0]!.toFixed(1)}, p90 ${at(0.9)}, max ${s.at(-1)!.toFixed(1)} (n=${s.length})`;
    };
    const timeIt = async (fn: () => Promise<unknown>, n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const a = process.hrtime.bigint();
        await fn();
        out.push(Number(process.hrtime.bigint() - a) / 1e6);
      }
      return out;
    };
    const exec = (file: string, args: string[]) =>
      new Promise<void>((resolve, reject) => {
        const c = spawn(file, args, { stdio: 'ignore', env: { ...process.env, PATH } });
        c.on('error', reject);
        c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')}: exit ${code}`))));
      });
    const report = (what: string, xs: number[]) => {
      t.diagnostic(`${what}: ${stats(xs)}`);
    };
    report('snapshot, no legacy table (names check only)', await timeIt(() => legacySnapshot(ns), 20));
    inNs(ns, ['iptables-legacy', '-A', 'OUTPUT', '-d', topo.srvV4, '-p', 'tcp', '--dport', '8086', '-j', 'DROP']);
    inNs(ns, ['iptables-legacy', '-P', 'FORWARD', 'DROP']);
    report('snapshot, 1 rule (v4 filter)', await timeIt(() => legacySnapshot(ns), 30));
    report('  bare `ip netns exec NS iptables-legacy-save -c`', await timeIt(() => exec('ip', ['netns', 'exec', ns, 'iptables-legacy-save', '-c']), 30));
    report('  bare `nsenter --net=/run/netns/NS iptables-legacy-save -c`', await timeIt(() => exec('nsenter', [`--net=/run/netns/${ns}`, 'iptables-legacy-save', '-c']), 30));
    // a bigger ruleset: 2000 rules in filter, 500 in nat, loaded in one restore
    const rules = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]'];
    for (let i = 0; i < 2000; i++) rules.push(`-A OUTPUT -d 10.${(i >> 8) & 255}.${i & 255}.9/32 -p tcp -m tcp --dport ${1000 + (i % 5000)} -j DROP`);
    rules.push('COMMIT', '*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]');
    for (let i = 0; i < 500; i++) rules.push(`-A OUTPUT -d 10.77.${(i >> 8) & 255}.${i & 255}/32 -p udp -j DNAT --to-destination 10.78.0.1`);
    rules.push('COMMIT', '');
    await new Promise<void>((resolve, reject) => {
      const c = spawn('ip', ['netns', 'exec', ns, 'iptables-legacy-restore'], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, PATH } });
      let err = '';
      c.stderr.on('data', (b: Buffer) => (err += b.toString()));
      c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`iptables-legacy-restore: ${code}: ${err}`))));
      c.stdin.end(rules.join('\n'));
    });
    const big = await legacySnapshot(ns);
    assert.equal(big.ipv4.find((x) => x.table === 'filter')!.rules.length, 2000);
    report('snapshot, 2500 rules (filter 2000 + nat 500)', await timeIt(() => legacySnapshot(ns), 10));
    const w = await LegacyWatcher.start(ns);
    assert.ok(w);
    report('explainDrop, 2500 rules (snapshot + parse + diff)', await timeIt(() => w.explainDrop(), 10));
  });
});

test('the root namespace kept its legacy tables as they were', (t) => {
  if (!gate(t)) return;
  assert.equal(rootNames(), rootNamesBefore);
});
