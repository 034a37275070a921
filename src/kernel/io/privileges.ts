/** Whether this process may load BPF programs. */
import { readFileSync } from 'node:fs';
import { EnvironmentError } from '../../shared/errors.js';

const CAP_SYS_ADMIN = 21;
const CAP_PERFMON = 38;
const CAP_BPF = 39;

/** Fails with one line unless the process may load BPF programs. */
export function requirePrivileges(): void {
  if (process.geteuid?.() === 0) return;
  let capEff = 0n;
  try {
    const m = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1]) capEff = BigInt(`0x${m[1]}`);
  } catch {
    /* treated as no capabilities */
  }
  const has = (bit: number): boolean => ((capEff >> BigInt(bit)) & 1n) === 1n;
  if (has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) return;
  throw new EnvironmentError('needs root (or CAP_BPF and CAP_PERFMON) to load BPF programs: run it with sudo');
}
