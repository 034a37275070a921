/**
 * `pktpath doctor`: what this machine offers pktpath, as one table, each row with a
 * verdict and the reason. Every check here is a real attempt or a direct read, never a
 * guess from the kernel version; the rows and verdicts are src/doctor/report.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import type { Btf } from '../../kernel/btf.js';
import { catalog } from '../../engine/io/catalog.js';
import { btfModules, kallsyms, kernelBtf, kernelRelease, VMLINUX_BTF } from '../../kernel/io/kernel.js';
import { requirePrivileges } from '../../kernel/io/privileges.js';
import { native } from '../../engine/io/native.js';
import { FUNC_BACKENDS } from '../../engine/backends.js';
import { loadTrace } from '../../engine/io/loader.js';
import { BPF_OBJECT } from '../../shared/io/paths.js';
import {
  backendRow,
  closingRows,
  flavourRow,
  floorRows,
  ftraceRow,
  iptableMethodRow,
  nftablesRow,
  observersRow,
  row,
  tracepointRows,
} from '../report.js';
import type { Attempt, DoctorRow } from '../report.js';

function attempt<T>(fn: () => T): Attempt<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Runs every check. `usable` is false when no engine can run here. */
export function runDoctorChecks(): { rows: DoctorRow[]; usable: boolean } {
  const btf = attempt(() => kernelBtf());
  const priv = attempt(() => requirePrivileges());
  const nat = attempt(() => native());
  const rows: DoctorRow[] = [row('kernel', 'info', kernelRelease()), ...basicRows(btf, priv, nat)];
  const engine = nat.ok && priv.ok ? engineRows(btf) : { rows: [], usable: false, observersOk: false };
  rows.push(...engine.rows);
  const syms = attempt(() => kallsyms());
  const hasSymbol = (s: string): boolean => syms.ok && syms.value.has(s);
  if (btf.ok) rows.push(...presentTracepoints(btf.value, hasSymbol));
  rows.push(...floorRows(btf.ok ? { btf: btf.value, hasSymbol } : null));
  rows.push(...toolRows(engine.observersOk));
  const usable = engine.usable && btf.ok;
  rows.push(...closingRows(rows, usable));
  return { rows, usable };
}

function basicRows(btf: Attempt<Btf>, priv: Attempt<void>, nat: Attempt<ReturnType<typeof native>>): DoctorRow[] {
  const mods = btfModules();
  return [
    btf.ok ? row('BTF (vmlinux)', 'ok', VMLINUX_BTF) : row('BTF (vmlinux)', 'no', btf.error),
    row('BTF (modules)', mods.length ? 'ok' : 'info', mods.length ? `${mods.length} modules` : 'none loaded with BTF'),
    priv.ok ? row('privileges', 'ok', 'may load BPF programs') : row('privileges', 'no', priv.error),
    nat.ok ? row('libbpf', 'ok', `libbpf ${nat.value.libbpfVersion()} (native addon)`) : row('libbpf', 'no', nat.error),
    existsSync(BPF_OBJECT) ? row('BPF object', 'ok', BPF_OBJECT) : row('BPF object', 'no', 'not built: run npm run setup'),
  ];
}

/** Real loads: the tracepoint engine in both flavours, each function backend, the netfilter observers. */
function engineRows(btf: Attempt<Btf>): { rows: DoctorRow[]; usable: boolean; observersOk: boolean } {
  const rows = (['tp_btf', 'raw_tp'] as const).map((flavour) => flavourRow(flavour, tryFlavour(flavour)));
  const usable = rows.some((r) => r.verdict === 'ok');
  if (btf.ok) rows.push(...FUNC_BACKENDS.map((b) => backendRow(b, tryBackend(btf.value, b))));
  const observers = tryObservers();
  rows.push(observersRow(observers), ftraceRow(readFtraceEnabled()));
  return { rows, usable, observersOk: observers.ok };
}

/** Loads and attaches netif_receive_skb in a flavour; the flavour the kernel took. */
function tryFlavour(flavour: 'tp_btf' | 'raw_tp'): Attempt<string | undefined> {
  return attempt(() => {
    const t = loadTrace({}, { ringBytes: 1 << 16, only: ['netif_receive_skb'], forceRaw: flavour === 'raw_tp' });
    const via = t.probes.find((p) => p.attached)?.via;
    t.close();
    return via;
  });
}

/** A backend on one function (ip_rcv), attached and detached; how long that took (ms). */
function tryBackend(btf: Btf, backend: (typeof FUNC_BACKENDS)[number]): Attempt<number> | null {
  const ipRcv = btf.findType('func', 'ip_rcv');
  if (!ipRcv) return null;
  const t0 = Date.now();
  return attempt(() => {
    const funcs = [{ name: 'ip_rcv', skbArg: 1, btfId: ipRcv.id }];
    loadTrace({}, { ringBytes: 1 << 16, only: [], functions: { funcs, backends: [backend], returns: new Set() } }).close();
    return Date.now() - t0;
  });
}

/** BPF netfilter observers (the iptables-legacy path): a real load, and a hook in this namespace. */
function tryObservers(): Attempt<unknown> {
  const loaded = attempt(() => loadTrace({}, { ringBytes: 1 << 16, only: ['netif_receive_skb'], observers: true }));
  if (!loaded.ok) return loaded;
  const t = loaded.value;
  const hooked = attempt(() => {
    if (!t.observers) throw new Error(t.observerProblem ?? 'not loaded');
    // any free priority near the middle of prerouting (EBUSY: taken by another hook)
    for (let prio = -451; prio > -470; prio--) {
      try {
        return t.observers.attach(0, 2, 0, prio, null);
      } catch (err) {
        if ((err as { errno?: number }).errno !== 16) throw err;
      }
    }
    throw new Error('no free priority');
  });
  t.close();
  return hooked;
}

/** kernel.ftrace_enabled, or null when the kernel has no function tracing. */
function readFtraceEnabled(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/ftrace_enabled', 'utf8').trim();
  } catch {
    return null;
  }
}

function presentTracepoints(btf: Btf, hasSymbol: (s: string) => boolean): DoctorRow[] {
  const names = catalog().tracepoints.map((tp) => tp.name);
  const has = (name: string): boolean => btf.tracepointArgs(name) !== null || hasSymbol(`__tracepoint_${name}`);
  return tracepointRows(names.filter(has), names.filter((n) => !has(n)));
}

/** nftables and iptables-legacy-save: how --iptable can work here. */
function toolRows(observersOk: boolean): DoctorRow[] {
  const nft = spawnSync('nft', ['--version'], { encoding: 'utf8' });
  const nftVersion = nft.status === 0 ? nft.stdout.trim() : null;
  const legacy = spawnSync('iptables-legacy-save', ['--version'], { encoding: 'utf8' });
  return [nftablesRow(nftVersion), iptableMethodRow(nftVersion, legacy.status === 0, observersOk)];
}
