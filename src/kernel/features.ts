/**
 * What pktpath needs from the kernel, as one typed table: each feature with the first
 * Linux release that has it and the BTF type, enum value, tracepoint signature or symbol
 * that proves it on a running kernel (distribution kernels backport, so the proof is what
 * counts; the version is for people). `pktpath doctor` and the README show this table;
 * the loader explains a failed load with it.
 */
import type { Btf } from './btf.js';

export type FeatureId =
  | 'btf'
  | 'raw_tp'
  | 'tp_btf'
  | 'probe_read_kernel'
  | 'ringbuf'
  | 'fentry'
  | 'fexit'
  | 'func_ip'
  | 'func_ret'
  | 'kprobes'
  | 'kprobe_multi'
  | 'func_arg'
  | 'kprobe_session'
  | 'module_btf'
  | 'netfilter_prog'
  | 'fib6_result'
  | 'kfree_skb_reason'
  | 'consume_skb_location'
  | 'tcp_send_reset_reason'
  | 'kfree_skb_rx_sk'
  | 'xdp_redirect_index'
  | 'xdp_devmap_xmit_devs';

/** What proves a feature on the running kernel. */
export type Proof =
  | { readonly kind: 'btf' }
  | { readonly kind: 'enum'; readonly enum: string; readonly value: string }
  | { readonly kind: 'struct'; readonly name: string }
  | { readonly kind: 'member'; readonly struct: string; readonly member: string }
  | { readonly kind: 'tracepoint-args'; readonly tracepoint: string; readonly atLeast: number }
  | { readonly kind: 'tracepoint-arg'; readonly tracepoint: string; readonly index: number; readonly type: string }
  | { readonly kind: 'symbol'; readonly name: string };

export interface KernelFloor {
  readonly feature: FeatureId;
  /** what it is, for people */
  readonly what: string;
  /** first Linux release with it (absent: a build option, not a release) */
  readonly since?: string;
  readonly proof: Proof;
  /** which part of pktpath needs it */
  readonly usedFor: string;
  /** no trace runs without it */
  readonly required?: true;
}

const fn = (value: string): Proof => ({ kind: 'enum', enum: 'bpf_func_id', value });
const attachType = (value: string): Proof => ({ kind: 'enum', enum: 'bpf_attach_type', value });

/** The floors, oldest first. A trace as a whole needs the ring buffer, so Linux 5.8. */
export const KERNEL_FLOORS: readonly KernelFloor[] = [
  { feature: 'raw_tp', what: 'raw tracepoint programs', since: '4.17', proof: { kind: 'enum', enum: 'bpf_prog_type', value: 'BPF_PROG_TYPE_RAW_TRACEPOINT' }, usedFor: 'tracepoints (raw_tp flavour)' },
  { feature: 'fib6_result', what: 'fib6_table_lookup passes a struct fib6_result', since: '5.2', proof: { kind: 'tracepoint-arg', tracepoint: 'fib6_table_lookup', index: 1, type: 'struct fib6_result *' }, usedFor: '--route on IPv6' },
  { feature: 'btf', what: 'kernel BTF (/sys/kernel/btf/vmlinux)', since: '5.4', proof: { kind: 'btf' }, usedFor: 'CO-RE, tp_btf, finding functions and drop reasons', required: true },
  { feature: 'tp_btf', what: 'BTF-typed tracepoint programs', since: '5.5', proof: attachType('BPF_TRACE_RAW_TP'), usedFor: 'tracepoints (tp_btf flavour)' },
  { feature: 'probe_read_kernel', what: 'bpf_probe_read_kernel', since: '5.5', proof: fn('BPF_FUNC_probe_read_kernel'), usedFor: 'every program', required: true },
  { feature: 'fentry', what: 'fentry programs', since: '5.5', proof: attachType('BPF_TRACE_FENTRY'), usedFor: 'backend fentry' },
  { feature: 'fexit', what: 'fexit programs', since: '5.5', proof: attachType('BPF_TRACE_FEXIT'), usedFor: 'return values, nft_do_chain/ipt_do_table verdicts' },
  { feature: 'xdp_devmap_xmit_devs', what: 'xdp_devmap_xmit passes the two devices', since: '5.8', proof: { kind: 'tracepoint-arg', tracepoint: 'xdp_devmap_xmit', index: 0, type: 'struct net_device *' }, usedFor: 'XDP redirects a device dropped (evidence probes)' },
  { feature: 'ringbuf', what: 'BPF ring buffer', since: '5.8', proof: { kind: 'enum', enum: 'bpf_map_type', value: 'BPF_MAP_TYPE_RINGBUF' }, usedFor: 'every trace', required: true },
  { feature: 'module_btf', what: 'module BTF', since: '5.11', proof: { kind: 'member', struct: 'bpf_btf_info', member: 'kernel_btf' }, usedFor: 'functions in modules (nf_tables, ip_tables)' },
  { feature: 'xdp_redirect_index', what: 'xdp_redirect_err target index', since: '5.13', proof: { kind: 'tracepoint-args', tracepoint: 'xdp_redirect_err', atLeast: 7 }, usedFor: 'where a failed XDP redirect was going (evidence probes)' },
  { feature: 'func_ip', what: 'bpf_get_func_ip', since: '5.15', proof: fn('BPF_FUNC_get_func_ip'), usedFor: 'backends fentry and kprobe (naming the function), verdicts' },
  { feature: 'func_ret', what: 'bpf_get_func_ret', since: '5.17', proof: fn('BPF_FUNC_get_func_ret'), usedFor: 'return values (fexit, ret=)' },
  { feature: 'func_arg', what: 'bpf_get_func_arg', since: '5.17', proof: fn('BPF_FUNC_get_func_arg'), usedFor: "fentry: the namespace from a function's socket argument" },
  { feature: 'kfree_skb_reason', what: 'kfree_skb drop reason', since: '5.17', proof: { kind: 'tracepoint-args', tracepoint: 'kfree_skb', atLeast: 3 }, usedFor: 'drop reasons' },
  { feature: 'kprobe_multi', what: 'kprobe.multi links', since: '5.18', proof: attachType('BPF_TRACE_KPROBE_MULTI'), usedFor: 'backend kprobe.multi (needs CONFIG_FPROBE)' },
  { feature: 'consume_skb_location', what: 'consume_skb location', since: '6.3', proof: { kind: 'tracepoint-args', tracepoint: 'consume_skb', atLeast: 2 }, usedFor: 'where a packet was freed' },
  { feature: 'netfilter_prog', what: 'BPF netfilter programs', since: '6.4', proof: { kind: 'struct', name: 'bpf_nf_ctx' }, usedFor: '--iptable observers around iptables-legacy tables' },
  { feature: 'kprobe_session', what: 'kprobe session links', since: '6.10', proof: attachType('BPF_TRACE_KPROBE_SESSION'), usedFor: 'return values with kprobe.multi (one link, entry and return)' },
  { feature: 'tcp_send_reset_reason', what: 'tcp_send_reset reason', since: '6.10', proof: { kind: 'tracepoint-args', tracepoint: 'tcp_send_reset', atLeast: 3 }, usedFor: 'reset reasons' },
  { feature: 'kfree_skb_rx_sk', what: 'kfree_skb receiving socket', since: '6.11', proof: { kind: 'tracepoint-args', tracepoint: 'kfree_skb', atLeast: 4 }, usedFor: 'the namespace of socket-side drops (no device left)' },
  { feature: 'kprobes', what: 'kprobes (CONFIG_KPROBES)', proof: { kind: 'symbol', name: 'register_kprobe' }, usedFor: 'backend kprobe' },
];

/** What a running kernel offers, as the proofs need it. */
export interface KernelFacts {
  /** vmlinux BTF; null when the kernel has none */
  readonly btf: Btf | null;
  /** whether /proc/kallsyms lists this symbol */
  readonly hasSymbol: (name: string) => boolean;
}

/** The floor of a feature (every FeatureId has one). */
export function floorOf(feature: FeatureId): KernelFloor {
  const f = KERNEL_FLOORS.find((x) => x.feature === feature);
  if (!f) throw new Error(`no kernel floor for ${feature}`);
  return f;
}

/** Whether the kernel has the feature: true, false, or null when it cannot be told (no BTF). */
export function hasFeature(feature: FeatureId, facts: KernelFacts): boolean | null {
  return proofHolds(floorOf(feature).proof, facts);
}

/** Whether the proof holds on the kernel: true, false, or null when it cannot be told (no BTF). */
export function proofHolds(p: Proof, facts: KernelFacts): boolean | null {
  if (p.kind === 'symbol') return facts.hasSymbol(p.name);
  const btf = facts.btf;
  if (p.kind === 'btf' || !btf) return btf ? true : p.kind === 'btf' ? false : null;
  switch (p.kind) {
    case 'enum':
      return [...(btf.enumValues(p.enum)?.values() ?? [])].includes(p.value);
    case 'struct':
      return btf.findType('struct', p.name) !== undefined;
    case 'member': {
      const s = btf.findType('struct', p.struct);
      return s !== undefined && s.members.some((m) => m.name === p.member);
    }
    case 'tracepoint-args':
      return (btf.tracepointArgs(p.tracepoint)?.length ?? 0) >= p.atLeast;
    case 'tracepoint-arg': {
      const arg = btf.tracepointArgs(p.tracepoint)?.[p.index];
      return arg === undefined ? null : arg.replace(/^const /, '') === p.type;
    }
  }
}

/** The proof, in words ("BPF_FUNC_get_func_ip in enum bpf_func_id"). */
export function proofText(p: Proof): string {
  switch (p.kind) {
    case 'btf':
      return '/sys/kernel/btf/vmlinux';
    case 'enum':
      return `${p.value} in enum ${p.enum}`;
    case 'struct':
      return `struct ${p.name}`;
    case 'member':
      return `${p.struct}.${p.member}`;
    case 'tracepoint-args':
      return `${p.tracepoint} tracepoint with ${p.atLeast} arguments`;
    case 'tracepoint-arg':
      return `${p.tracepoint} argument ${p.index + 1} is ${p.type}`;
    case 'symbol':
      return `symbol ${p.name}`;
  }
}

/** "bpf_get_func_ret (Linux 5.17+)" */
export function floorText(f: KernelFloor): string {
  return `${f.what}${f.since ? ` (Linux ${f.since}+)` : ''}`;
}

/**
 * Why something that needs `features` cannot work on this kernel, from the first feature
 * the kernel provably lacks; null when none is provably missing.
 */
export function missingFeature(features: readonly FeatureId[], facts: KernelFacts): string | null {
  for (const feature of features) {
    if (hasFeature(feature, facts) !== false) continue;
    const f = floorOf(feature);
    return `needs ${floorText(f)}, and this kernel has no ${proofText(f.proof)}`;
  }
  return null;
}

/**
 * Tracepoint arguments this kernel lacks, for the tracepoints a run attached: the feature
 * ("kfree_skb drop reason") and why it is off. The trace runs without them.
 */
export function missingArguments(tracepoints: readonly string[], facts: KernelFacts): { what: string; reason: string }[] {
  return KERNEL_FLOORS.flatMap((f) => {
    if (f.proof.kind !== 'tracepoint-args' || !tracepoints.includes(f.proof.tracepoint)) return [];
    const reason = missingFeature([f.feature], facts);
    return reason ? [{ what: f.what, reason }] : [];
  });
}

/** Kernel feature flags in pp_config (bpf/event.h), from the tracepoint signatures the floors name. */
export function kernelFeatureFields(btf: Btf): Record<string, number> {
  const facts: KernelFacts = { btf, hasSymbol: () => false };
  const flag = (f: FeatureId): number => (hasFeature(f, facts) ? 1 : 0);
  return {
    has_kfree_reason: flag('kfree_skb_reason'),
    has_kfree_rx_sk: flag('kfree_skb_rx_sk'),
    has_consume_location: flag('consume_skb_location'),
    has_rst_reason: flag('tcp_send_reset_reason'),
    has_xdp_redirect_index: flag('xdp_redirect_index'),
  };
}

/** The table as Markdown (the README carries exactly this; a test compares them). */
export function floorsMarkdown(floors: readonly KernelFloor[] = KERNEL_FLOORS): string {
  const rows = floors.map((f) => `| ${f.what} | ${f.since ?? 'build option'} | \`${proofText(f.proof)}\` | ${f.usedFor} |`);
  return ['| feature | Linux | proven by | pktpath uses it for |', '|---|---|---|---|', ...rows].join('\n');
}
