/**
 * Guest-kernel tier, a smoke test of `pktpath drops` on Debian 6.12 (kfree_skb with its
 * reason and receiving socket): one boot runs test/guest/drops-smoke.ts, the workload of
 * the integration test under `pktpath drops --json --listen`, and here the total is held
 * to the kernel's own counts, row by row, and /metrics to promtool.
 *
 * Skipped with the reason when not root, not built, or when the guest harness cannot run
 * here (scripts/vm/can-run.sh). Run: node --test dist/test/guest/drops.test.js
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_ENTRY, REPO_ROOT, skipUnlessMet } from '../helpers/netns.js';
import type { DropsGuestResult } from './drops-smoke.js';

const GUEST = join(REPO_ROOT, 'scripts/vm/guest.sh');
const RUNNER = join(REPO_ROOT, 'dist/test/guest/drops-smoke.js');

function cannotRun(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (QEMU, namespaces and BPF inside the guest)';
  if (!existsSync(RUNNER) || !existsSync(CLI_ENTRY)) return 'not built (npm run build)';
  if (!existsSync(join(REPO_ROOT, 'build/drops.bpf.o'))) return 'build/drops.bpf.o not built (npm run build)';
  if (spawnSync('promtool', ['--version']).status !== 0) return 'promtool not installed (npm run setup)';
  const check = spawnSync(GUEST, ['--kernel', '6.12', '--check'], { encoding: 'utf8', timeout: 120_000 });
  return check.status === 0 ? null : `guest harness cannot run: ${(check.stdout + check.stderr).trim().split('\n')[0]}`;
}

interface Total {
  type: string;
  rows: { reason: string; netns: string; device: string; proto: string; total: number }[];
  lost: { samples: number; uncounted: number };
}

test('pktpath drops in the 6.12 guest: every kind of drop counted as the kernel counted it; /metrics passes promtool', { timeout: 15 * 60_000 }, (t) => {
  if (!skipUnlessMet(t, cannotRun())) return;
  const out = join(REPO_ROOT, '.guest-results', 'drops-6.12.json');
  mkdirSync(join(REPO_ROOT, '.guest-results'), { recursive: true });
  rmSync(out, { force: true });
  const g = spawnSync(GUEST, ['--kernel', '6.12', '--', 'node', RUNNER, out], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 14 * 60_000 });
  assert.ok(existsSync(out), `the guest wrote no results (guest.sh exit ${g.status}):\n${(g.stdout + g.stderr).slice(-3000)}`);
  const r = JSON.parse(readFileSync(out, 'utf8')) as DropsGuestResult;
  assert.match(r.kernel, /^6\.12\./);
  assert.equal(r.code, 0, r.stderr);
  const total = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Total;
  assert.equal(total.type, 'total');
  assert.deepEqual(total.lost, { samples: 0, uncounted: 0 });
  const k = r.kernelCounts;
  const want: [string, string, string, string, number][] = [
    ['NO_SOCKET', r.server.ns, r.server.ifname, 'udp', k.udp4NoSocket],
    ['NO_SOCKET', r.server.ns, r.server.ifname, 'udp6', k.udp6NoSocket],
    ['NO_SOCKET', r.server.ns, r.server.ifname, 'tcp', k.tcpNoSocket],
    ['NETFILTER_DROP', r.server.ns, r.server.ifname, 'udp', k.nftDrops],
    ['IP_RPFILTER', r.server.ns, r.server.ifname, 'icmp', k.rpFilter],
    ['QDISC_DROP', r.client.ns, r.client.ifname, 'udp', k.qdiscDrops],
  ];
  for (const [reason, ns, device, proto, count] of want) {
    const rows = total.rows.filter((x) => x.reason === reason && x.netns === ns && x.proto === proto);
    assert.ok(count > 0, `${reason} ${proto}: the kernel counted nothing`);
    assert.deepEqual(rows.map((x) => x.device), rows.map(() => device), `${reason} ${proto}: device`);
    assert.equal(rows.reduce((s, x) => s + x.total, 0), count, `${reason} ${proto} in ${ns}`);
  }
  const check = spawnSync('promtool', ['check', 'metrics'], { input: r.metrics, encoding: 'utf8' });
  assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  assert.match(r.metrics, new RegExp(`^pktpath_drops_total\\{reason="NETFILTER_DROP",location="[^"]+",netns="${r.server.ns}",device="${r.server.ifname}",proto="udp"\\} ${k.nftDrops}$`, 'm'));
});
