/**
 * Guest-kernel tier of the attach backend contract (test/contracts/backend.suite.ts): the
 * function backends this host's kernel cannot run, run for real where they exist.
 *
 *   6.12: fentry, kprobe.multi, kprobe; fentry and kprobe.multi with return values (fexit, kprobe session)
 *   6.1:  kprobe (no kprobe.multi there)
 *
 * One boot per kernel runs the contract file with the backends named required, so in the
 * guest a skip is a failure. Short on purpose: QEMU TCG is about 25 times slower.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/netns.js';

const GUEST = join(REPO_ROOT, 'scripts/vm/guest.sh');
const CONTRACT = join(REPO_ROOT, 'dist/test/contracts/backend.test.js');

/** Why this tier cannot run here, or null. */
function cannotRun(): string | null {
  if (process.geteuid?.() !== 0) return 'needs root (QEMU and BPF inside the guest)';
  if (!existsSync(CONTRACT)) return 'dist/test/contracts/backend.test.js not built';
  if (!existsSync(join(REPO_ROOT, 'build/pktpath.bpf.o'))) return 'BPF object not built';
  const check = spawnSync(GUEST, ['--check'], { encoding: 'utf8' });
  if (check.status !== 0) return `guest harness cannot run: ${(check.stdout + check.stderr).trim() || `exit ${check.status}`}`;
  return null;
}

const why = cannotRun();

const CASES = [
  { kernel: '6.12', backends: ['fentry', 'fentry+returns', 'kprobe.multi', 'kprobe.multi+returns', 'kprobe'] },
  { kernel: '6.1', backends: ['kprobe'] },
] as const;

for (const c of CASES) {
  test(`guest ${c.kernel}: the backend contract holds for ${c.backends.join(', ')}`, { timeout: 15 * 60_000 }, (t) => {
    if (why) return t.skip(why);
    const only = c.backends.join(',');
    const r = spawnSync(GUEST, ['--kernel', c.kernel, '--', 'node', '--test', '--test-reporter=tap', CONTRACT], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 14 * 60_000,
      maxBuffer: 16 << 20,
      env: { ...process.env, PKTPATH_CONTRACT_ONLY: only, PKTPATH_CONTRACT_REQUIRE: only, PKTPATH_VM_ENV: 'PKTPATH_CONTRACT_ONLY PKTPATH_CONTRACT_REQUIRE' },
    });
    const out = `${r.stdout}${r.stderr}`;
    const count = (what: string): number => Number(new RegExp(`^# ${what} (\\d+)$`, 'm').exec(out)?.[1] ?? -1);
    for (const line of out.split('\n').filter((l) => /^(ok|not ok) /.test(l))) t.diagnostic(line);
    assert.equal(r.status, 0, `the contract in the ${c.kernel} guest (exit ${r.status}):\n${out.slice(-4000)}`);
    assert.equal(count('pass'), c.backends.length, `one passing contract per backend:\n${out.slice(-3000)}`);
    assert.equal(count('skipped'), 0, `nothing skipped in the guest:\n${out.slice(-3000)}`);
    for (const b of c.backends) assert.match(out, new RegExp(`^ok \\d+ - backend ${b.replace(/[.+]/g, '\\$&')}: `, 'm'), `backend ${b} ran`);
  });
}
