/**
 * `pktpath doctor` as data: the rows, their verdicts and the table's text, from the
 * outcomes of the real attempts that src/doctor/io/checks.ts makes.
 */
import { KERNEL_FLOORS, proofHolds, proofText } from '../kernel/features.js';
import type { KernelFacts, KernelFloor } from '../kernel/features.js';

export type Verdict = 'ok' | 'no' | 'warn' | 'info';

export interface DoctorRow {
  readonly check: string;
  readonly verdict: Verdict;
  readonly detail: string;
}

/** What a real attempt gave: its value, or the error's message. */
export type Attempt<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export function row(check: string, verdict: Verdict, detail: string): DoctorRow {
  return { check, verdict, detail };
}

/** A load and attach of one tracepoint in a flavour: `via` is the flavour the kernel took. */
export function flavourRow(flavour: string, r: Attempt<string | undefined>): DoctorRow {
  const check = `tracepoints via ${flavour}`;
  if (!r.ok) return row(check, 'no', r.error);
  return r.value === flavour ? row(check, 'ok', 'loaded and attached netif_receive_skb') : row(check, 'no', `the kernel took ${r.value} instead`);
}

/** A function backend attached to ip_rcv and detached (`value`: how long it took, ms); null: no ip_rcv to try. */
export function backendRow(backend: string, r: Attempt<number> | null): DoctorRow {
  const check = `backend ${backend}`;
  if (!r) return row(check, 'no', 'ip_rcv not in BTF: cannot test');
  if (r.ok) return row(check, 'ok', `attached to ip_rcv and detached (${r.value} ms)`);
  return row(check, 'no', r.error.replace(/^backend /, '').replace(/; see pktpath doctor$/, ''));
}

export function observersRow(r: Attempt<unknown>): DoctorRow {
  return r.ok ? row('netfilter observers', 'ok', 'BPF netfilter program loaded and hooked into ipv4 prerouting') : row('netfilter observers', 'no', r.error);
}

/** kernel.ftrace_enabled, or null when the kernel has no function tracing. */
export function ftraceRow(value: string | null): DoctorRow {
  if (value === null) return row('ftrace', 'no', 'no /proc/sys/kernel/ftrace_enabled: kernel built without function tracing');
  if (value !== '1') return row('ftrace', 'no', 'kernel.ftrace_enabled=0: fentry/fexit and kprobes on ftrace cannot attach');
  return row('ftrace', 'info', 'kernel.ftrace_enabled=1');
}

/** The catalogued tracepoints this kernel has, and one warning row per missing one. */
export function tracepointRows(present: readonly string[], missing: readonly string[]): DoctorRow[] {
  return [
    row('tracepoints', present.length ? 'ok' : 'no', `${present.length}/${present.length + missing.length} present`),
    ...missing.map((m) => row(`  ${m}`, 'warn', 'not in this kernel: skipped')),
  ];
}

/**
 * The kernel floors (src/kernel/features.ts), each judged on this kernel by its proof:
 * ok when present, no when a required one is missing, warn when an optional one is.
 * `facts` null: no BTF, so nothing BTF proves can be told.
 */
export function floorRows(facts: KernelFacts | null, floors: readonly KernelFloor[] = KERNEL_FLOORS): DoctorRow[] {
  return floors.map((f) => {
    const has = facts ? proofHolds(f.proof, facts) : null;
    const what = `${f.since ? `Linux ${f.since}+ ` : ''}${f.what}: ${proofText(f.proof)}; for ${f.usedFor}`;
    if (has === null) return row(`floor ${f.feature}`, 'info', `${what} (cannot tell here)`);
    if (has) return row(`floor ${f.feature}`, 'ok', what);
    return row(`floor ${f.feature}`, f.required ? 'no' : 'warn', `missing: ${what}`);
  });
}

/** How --iptable can work here. */
export function iptableMethodRow(nftVersion: string | null, legacySave: boolean, observersOk: boolean): DoctorRow {
  if (nftVersion === null) return row('--iptable method', 'no', 'needs nft (apt-get install nftables)');
  const legacy = !legacySave
    ? '; iptables-legacy-save missing: legacy rules not named'
    : observersOk
      ? '; iptables-legacy: BPF netfilter observers around each table, rules from counters'
      : '; iptables-legacy: drops only, named from rule counters (no BPF netfilter programs)';
  return row('--iptable method', 'ok', `nft trace (nftables, iptables-nft)${legacy}`);
}

export function nftablesRow(nftVersion: string | null): DoctorRow {
  return nftVersion === null ? row('nftables', 'warn', 'nft not found') : row('nftables', 'ok', nftVersion);
}

/** The last rows: the ring buffer and the summary of what works, from the rows before. */
export function closingRows(rows: readonly DoctorRow[], usable: boolean): DoctorRow[] {
  const fnBackends = rows.filter((r) => r.check.startsWith('backend ') && r.verdict === 'ok').map((r) => r.check.slice(8));
  const functions = fnBackends.length ? `, kernel functions via ${fnBackends.join(', ')}` : '; kernel functions: no backend on this kernel';
  return [
    row('ring buffer', usable ? 'ok' : 'info', usable ? 'BPF_MAP_TYPE_RINGBUF, read in place (mmap)' : 'not checked'),
    row('summary', usable ? 'ok' : 'no', usable ? `pktpath trace works here: tracepoints${functions}` : 'no BPF engine can run here (see the rows marked no)'),
  ];
}

/** The table as text. */
export function formatDoctor(rows: readonly DoctorRow[]): string {
  const w = Math.max(...rows.map((r) => r.check.length));
  return rows.map((r) => `${r.check.padEnd(w)}  ${r.verdict.padEnd(4)}  ${r.detail}`).join('\n');
}
