/**
 * `pktpath doctor`: what this machine offers pktpath, as one table, each row with
 * a verdict and the reason. Every probe is a real attempt or a direct read, never
 * a guess from the kernel version.
 */
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { catalog } from './catalog.js';
import { btfModules, kallsyms, kernelBtf, kernelRelease, VMLINUX_BTF } from './kernel.js';
import { native } from './native.js';
import { requirePrivileges } from './tracepoints.js';
import { BPF_OBJECT } from './paths.js';

export type Verdict = 'ok' | 'no' | 'warn' | 'info';

export interface DoctorRow {
  readonly check: string;
  readonly verdict: Verdict;
  readonly detail: string;
}

function row(check: string, verdict: Verdict, detail: string): DoctorRow {
  return { check, verdict, detail };
}

function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: string } {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Collects the rows. `usable` is false when no engine can run here. */
export function diagnose(): { rows: DoctorRow[]; usable: boolean } {
  const rows: DoctorRow[] = [];
  rows.push(row('kernel', 'info', kernelRelease()));

  const btf = attempt(() => kernelBtf());
  rows.push(btf.ok ? row('BTF (vmlinux)', 'ok', VMLINUX_BTF) : row('BTF (vmlinux)', 'no', btf.error));
  const mods = btfModules();
  rows.push(row('BTF (modules)', mods.length ? 'ok' : 'info', mods.length ? `${mods.length} modules` : 'none loaded with BTF'));

  const priv = attempt(() => requirePrivileges());
  rows.push(priv.ok ? row('privileges', 'ok', 'may load BPF programs') : row('privileges', 'no', priv.error));

  const nat = attempt(() => native());
  rows.push(nat.ok ? row('libbpf', 'ok', `libbpf ${nat.value.libbpfVersion()} (native addon)`) : row('libbpf', 'no', nat.error));
  rows.push(existsSync(BPF_OBJECT) ? row('BPF object', 'ok', BPF_OBJECT) : row('BPF object', 'no', 'not built: run npm run setup'));

  let usable = false;
  if (nat.ok && priv.ok) {
    const n = nat.value;
    const tracing = n.probeProgType('tracing');
    const rawtp = n.probeProgType('raw_tracepoint');
    const kprobe = n.probeProgType('kprobe');
    rows.push(row('prog type tracing', tracing ? 'ok' : 'no', tracing ? 'tp_btf/fentry programs load' : 'kernel refuses BPF_PROG_TYPE_TRACING'));
    rows.push(row('prog type raw_tracepoint', rawtp ? 'ok' : 'no', rawtp ? 'raw_tp programs load' : 'kernel refuses raw tracepoints'));
    rows.push(row('prog type kprobe', kprobe ? 'ok' : 'no', kprobe ? 'kprobe programs load' : 'kernel refuses kprobe programs'));
    const kprobes = existsSync('/sys/bus/event_source/devices/kprobe');
    rows.push(
      row('kprobes', kprobes ? 'ok' : 'no', kprobes ? 'kprobe PMU present' : 'kernel built without CONFIG_KPROBES: no kprobe backend'),
    );
    const ftrace = readFtraceState();
    rows.push(row('ftrace (fentry/fexit)', ftrace.verdict, ftrace.detail));
    usable = tracing || rawtp;
  }

  if (btf.ok) {
    const syms = attempt(() => kallsyms());
    const present: string[] = [];
    const missing: string[] = [];
    for (const tp of catalog().tracepoints) {
      const has = btf.value.tracepointArgs(tp.name) !== null || (syms.ok && syms.value.has(`__tracepoint_${tp.name}`));
      (has ? present : missing).push(tp.name);
    }
    rows.push(row('tracepoints', present.length ? 'ok' : 'no', `${present.length}/${present.length + missing.length} present`));
    for (const m of missing) rows.push(row(`  ${m}`, 'warn', 'not in this kernel: skipped'));
  } else {
    usable = false;
  }

  const nft = spawnSync('nft', ['--version'], { encoding: 'utf8' });
  rows.push(row('nftables', nft.status === 0 ? 'ok' : 'warn', nft.status === 0 ? nft.stdout.trim() : 'nft not found'));
  rows.push(row('ring buffer', usable ? 'ok' : 'info', usable ? 'BPF_MAP_TYPE_RINGBUF, read in place (mmap)' : 'not checked'));
  return { rows, usable };
}

function readFtraceState(): { verdict: Verdict; detail: string } {
  try {
    const v = readFileSync('/proc/sys/kernel/ftrace_enabled', 'utf8').trim();
    if (v !== '1') return { verdict: 'no', detail: 'kernel.ftrace_enabled=0: fentry/fexit cannot attach' };
    return { verdict: 'info', detail: 'ftrace enabled; fentry attach is tried at trace time' };
  } catch {
    return { verdict: 'no', detail: 'no /proc/sys/kernel/ftrace_enabled: kernel built without function tracing' };
  }
}

/** The table as text. */
export function formatDoctor(rows: readonly DoctorRow[]): string {
  const w = Math.max(...rows.map((r) => r.check.length));
  return rows.map((r) => `${r.check.padEnd(w)}  ${r.verdict.padEnd(4)}  ${r.detail}`).join('\n');
}
