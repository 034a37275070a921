/**
 * Host side of the function-backend benchmark: boots each guest kernel and runs
 * bench/guest-functions.ts inside it (this host's kernel has no function backend).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../src/shared/io/paths.js';
import type { GuestBench } from './guest-functions.js';

const GUEST = join(ROOT, 'scripts/vm/guest.sh');

export const GUEST_CASES = [
  { kernel: '6.12', backend: 'fentry' },
  { kernel: '6.12', backend: 'kprobe.multi' },
  { kernel: '6.1', backend: 'kprobe' },
] as const;

/** Why the guest benchmark cannot run, or null. */
export function guestUnavailable(): string | null {
  const r = spawnSync(GUEST, ['--check'], { encoding: 'utf8' });
  return r.status === 0 ? null : (r.stdout + r.stderr).trim() || `guest.sh --check exit ${r.status}`;
}

export function runGuestBench(kernel: string, backend: string): GuestBench {
  const dir = join(ROOT, '.guest-results');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `bench-${kernel}-${backend}.json`);
  rmSync(out, { force: true });
  const r = spawnSync(GUEST, ['--kernel', kernel, '--', 'node', join(ROOT, 'dist/bench/guest-functions.js'), backend, out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 40 * 60_000,
    env: { ...process.env, PKTPATH_VM_TIMEOUT: '2400' },
  });
  if (!existsSync(out)) throw new Error(`guest ${kernel} ${backend}: no results (exit ${r.status}): ${(r.stdout + r.stderr).slice(-1500)}`);
  return JSON.parse(readFileSync(out, 'utf8')) as GuestBench;
}
