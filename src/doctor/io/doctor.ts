/**
 * `pktpath doctor`: what this machine offers pktpath, as one table, each row with
 * a verdict and the reason. Every probe is a real attempt or a direct read, never
 * a guess from the kernel version.
 */
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { catalog } from '../../engine/io/catalog.js';
import { btfModules, kallsyms, kernelBtf, kernelRelease, VMLINUX_BTF } from '../../kernel/io/kernel.js';
import { native } from '../../engine/io/native.js';
import { FUNC_BACKENDS, requirePrivileges, startTracepoints } from '../../engine/io/loader.js';
import { BPF_OBJECT } from '../../shared/io/paths.js';

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
  let observersOk = false;
  if (nat.ok && priv.ok) {
    // the tracepoint engine in both flavours: a real load and attach of one tracepoint
    const flavours: string[] = [];
    for (const forceRaw of [false, true]) {
      const name = forceRaw ? 'raw_tp' : 'tp_btf';
      const r = attempt(() => startTracepoints({}, { ringBytes: 1 << 16, only: ['netif_receive_skb'], forceRaw }));
      if (r.ok) {
        const via = r.value.probes.find((p) => p.attached)?.via;
        r.value.close();
        if (via === name) flavours.push(name);
        rows.push(row(`tracepoints via ${name}`, via === name ? 'ok' : 'no', via === name ? 'loaded and attached netif_receive_skb' : `the kernel took ${via} instead`));
      } else {
        rows.push(row(`tracepoints via ${name}`, 'no', r.error));
      }
    }
    usable = flavours.length > 0;
    // each function backend: a real load and attach on one function (ip_rcv), then detach
    if (btf.ok) {
      const ipRcv = btf.value.findType('func', 'ip_rcv');
      for (const backend of FUNC_BACKENDS) {
        if (!ipRcv) {
          rows.push(row(`backend ${backend}`, 'no', 'ip_rcv not in BTF: cannot test'));
          continue;
        }
        const t0 = Date.now();
        const r = attempt(() =>
          startTracepoints({}, { ringBytes: 1 << 16, only: [], functions: { funcs: [{ name: 'ip_rcv', skbArg: 1, btfId: ipRcv.id }], backends: [backend], returns: new Set() } }),
        );
        if (r.ok) {
          r.value.close();
          rows.push(row(`backend ${backend}`, 'ok', `attached to ip_rcv and detached (${Date.now() - t0} ms)`));
        } else {
          rows.push(row(`backend ${backend}`, 'no', r.error.replace(/^backend /, '').replace(/; see pktpath doctor$/, '')));
        }
      }
    }
    // BPF netfilter observers (the iptables-legacy path): a real load, and a hook in this namespace
    const obs = attempt(() => startTracepoints({}, { ringBytes: 1 << 16, only: ['netif_receive_skb'], observers: true }));
    if (!obs.ok) rows.push(row('netfilter observers', 'no', obs.error));
    else {
      const t = obs.value;
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
      observersOk = hooked.ok;
      rows.push(row('netfilter observers', hooked.ok ? 'ok' : 'no', hooked.ok ? 'BPF netfilter program loaded and hooked into ipv4 prerouting' : hooked.error));
    }
    const ftrace = readFtraceState();
    rows.push(row('ftrace', ftrace.verdict, ftrace.detail));
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
  const legacy = spawnSync('iptables-legacy-save', ['--version'], { encoding: 'utf8' });
  rows.push(
    row(
      '--iptable method',
      nft.status === 0 ? 'ok' : 'no',
      nft.status === 0
        ? `nft trace (nftables, iptables-nft)${
            legacy.status !== 0
              ? '; iptables-legacy-save missing: legacy rules not named'
              : observersOk
                ? '; iptables-legacy: BPF netfilter observers around each table, rules from counters'
                : '; iptables-legacy: drops only, named from rule counters (no BPF netfilter programs)'
          }`
        : 'needs nft (apt-get install nftables)',
    ),
  );
  rows.push(row('ring buffer', usable ? 'ok' : 'info', usable ? 'BPF_MAP_TYPE_RINGBUF, read in place (mmap)' : 'not checked'));
  const fnBackends = rows.filter((r) => r.check.startsWith('backend ') && r.verdict === 'ok').map((r) => r.check.slice(8));
  rows.push(
    row(
      'summary',
      usable ? 'ok' : 'no',
      usable
        ? `pktpath trace works here: tracepoints${fnBackends.length ? `, kernel functions via ${fnBackends.join(', ')}` : '; kernel functions: no backend on this kernel'}`
        : 'no BPF engine can run here (see the rows marked no)',
    ),
  );
  return { rows, usable };
}

function readFtraceState(): { verdict: Verdict; detail: string } {
  try {
    const v = readFileSync('/proc/sys/kernel/ftrace_enabled', 'utf8').trim();
    if (v !== '1') return { verdict: 'no', detail: 'kernel.ftrace_enabled=0: fentry/fexit and kprobes on ftrace cannot attach' };
    return { verdict: 'info', detail: 'kernel.ftrace_enabled=1' };
  } catch {
    return { verdict: 'no', detail: 'no /proc/sys/kernel/ftrace_enabled: kernel built without function tracing' };
  }
}

/** The table as text. */
export function formatDoctor(rows: readonly DoctorRow[]): string {
  const w = Math.max(...rows.map((r) => r.check.length));
  return rows.map((r) => `${r.check.padEnd(w)}  ${r.verdict.padEnd(4)}  ${r.detail}`).join('\n');
}
