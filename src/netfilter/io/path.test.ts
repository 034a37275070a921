/**
 * markedByUs (pure), and stop() against the real kernel: a veth pair of namespaces
 * (10.199.X.0/24, X in 220..229) with an nft rule and an iptables-legacy rule that drop
 * UDP, a burst, stop() right after it. Needs root, `ip`, `nft`, `iptables-legacy` and
 * python3; skips with the reason printed otherwise. The namespaces (and every rule in
 * them) are deleted in `finally`, and on exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { execSyncIn, missingPrereq, netnsInode, skipUnlessMet, withVethPair } from '../../../test/helpers/netns.js';
import { parseTraceOptions } from '../../cli/options.js';
import type { NfJson, NfTrace, NftTraceRecord } from '../model.js';
import { formatNfStep } from '../nft/path.js';
import { markedByUs, startNetfilterPath } from './path.js';

function rec(table: string, kind: NftTraceRecord['kind']): NftTraceRecord {
  return { traceId: '1', family: 'inet', table, chain: 'out', kind };
}
const trace = (records: NftTraceRecord[]): NfTrace => ({ traceId: '1', packet: null, path: [], records });

test('a packet belongs to this run only when its own tracing rule matched it', () => {
  assert.equal(markedByUs(trace([rec('pktpath_42', 'packet'), rec('pktpath_42', 'rule')]), 42), true);
  assert.equal(markedByUs(trace([rec('pktpath_42_1', 'rule')]), 42), true);
  // marked by another run: our chain only shows its policy
  assert.equal(markedByUs(trace([rec('pktpath_7', 'rule'), rec('pktpath_42', 'policy')]), 42), false);
  assert.equal(markedByUs(trace([rec('filter', 'rule')]), 42), false);
  assert.equal(markedByUs(trace([rec('pktpath_420', 'rule')]), 42), false);
});

/* ------------------------------------------------------------------ stop() drains */

const NFT_PORT = 7101;
const LEGACY_PORT = 7102;
/** packets of the burst: every fourth one to the legacy rule's port, the others to the nft rule's */
const BURST = 400;

/**
 * Sends the burst from `ns` as fast as it can (each send fails with EPERM: the packet was
 * dropped on output), printing CLOCK_MONOTONIC after each legacy-dropped one, as the
 * kfree_skb event of the drop would give it. `onLegacyDrop` hears each as it comes.
 */
function burst(ns: string, dst: string, onLegacyDrop: (tsNs: bigint) => void): Promise<void> {
  const py = [
    'import socket, time, sys',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    `for i in range(${BURST}):`,
    `    port = ${LEGACY_PORT} if i % 4 == 0 else ${NFT_PORT}`,
    '    try:',
    `        s.sendto(b"x", ("${dst}", port))`,
    '    except PermissionError:',
    '        pass',
    `    if port == ${LEGACY_PORT}:`,
    '        print(time.monotonic_ns(), flush=True)',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', py], { stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = setTimeout(() => c.kill('SIGKILL'), 20_000);
    let partial = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) onLegacyDrop(BigInt(l.trim()));
    });
    c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    c.on('close', (code) => {
      clearTimeout(kill);
      if (code === 0) resolve();
      else reject(new Error(`burst: python3 exited ${code}: ${err}`));
    });
  });
}

/** Packets a rule counted: the `counter packets N` of the only rule in `nft list table`, or the `[N:bytes]` of an iptables-save -c rule. */
function nftCounter(ns: string): number {
  const m = /counter packets (\d+) bytes \d+ drop/.exec(execSyncIn(ns, ['nft', 'list', 'table', 'inet', 'usertbl']));
  assert.ok(m, 'the nft rule has a counter');
  return Number(m[1]);
}
function legacyCounter(ns: string): number {
  const m = new RegExp(`^\\[(\\d+):\\d+\\] -A OUTPUT .*--dport ${LEGACY_PORT} .*-j DROP$`, 'm').exec(execSyncIn(ns, ['iptables-legacy-save', '-c', '-t', 'filter']));
  assert.ok(m, 'the legacy rule is listed with its counter');
  return Number(m[1]);
}

test('stop() right after a burst delivers every step: nft DROP paths and iptables-legacy drops, as many as their rules counted', async (t) => {
  if (!skipUnlessMet(t, missingPrereq({ btf: false, cli: false, bpfObject: false, commands: ['nft', 'iptables-legacy', 'iptables-legacy-save', 'python3'] }))) return;
  await withVethPair({ tag: 'nfp', ifPrefix: 'pq', range: { min: 220, max: 229 } }, async (topo) => {
    execSyncIn(topo.cli, ['nft', `add table inet usertbl; add chain inet usertbl out { type filter hook output priority 0; }; add rule inet usertbl out udp dport ${NFT_PORT} counter drop`]);
    execSyncIn(topo.cli, ['iptables-legacy', '-A', 'OUTPUT', '-p', 'udp', '--dport', String(LEGACY_PORT), '-j', 'DROP']);
    const inode = netnsInode(topo.cli);
    const nftDrops: NfTrace[] = [];
    const legacyDrops: NfJson[] = [];
    const errors: string[] = [];
    const path = await startNetfilterPath(
      parseTraceOptions({ ipaddr: topo.srvV4, proto: 'udp', netns: topo.cli, iptable: true }),
      (tr, ns) => {
        if (ns === inode && tr.path.some((s) => formatNfStep(s) === '2.usertbl.out.DROP')) nftDrops.push(tr);
      },
      (msg) => errors.push(msg),
    );
    let stopped = false;
    try {
      assert.deepEqual(path.problems, []);
      assert.deepEqual(path.namespaces, [topo.cli]);
      assert.deepEqual(path.legacy, [topo.cli]);
      // as the session does for each NETFILTER_DROP of a namespace with legacy rules
      await burst(topo.cli, topo.srvV4, (tsNs) => {
        void path.explainLegacyDrop(inode, tsNs, 4).then((nf) => {
          if (nf) legacyDrops.push(nf);
        });
      });
      const t0 = performance.now();
      await path.stop();
      stopped = true;
      t.diagnostic(`stop() took ${Math.round(performance.now() - t0)} ms`);
    } finally {
      if (!stopped) path.cleanupSync();
    }
    // positive control: the rules counted the whole burst
    assert.equal(nftCounter(topo.cli), (BURST * 3) / 4);
    assert.equal(legacyCounter(topo.cli), BURST / 4);
    // every step was delivered by the time stop() resolved
    assert.equal(nftDrops.length, (BURST * 3) / 4, `nft DROP paths delivered by stop() (errors: ${errors.join('; ') || 'none'})`);
    assert.equal(legacyDrops.length, BURST / 4, 'iptables-legacy drops named by stop()');
    for (const nf of legacyDrops) assert.deepEqual([nf.table, nf.chain, nf.verdict, nf.rule?.includes(`--dport ${LEGACY_PORT}`)], ['filter', 'OUTPUT', 'DROP', true]);
    assert.deepEqual(errors, []);
    // (other pktpath runs, of other test files, may trace this namespace too)
    assert.doesNotMatch(execSyncIn(topo.cli, ['nft', 'list', 'tables']), new RegExp(`pktpath_${process.pid}\\b`), 'the tracing table is gone');
  });
});
