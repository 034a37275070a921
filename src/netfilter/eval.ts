/**
 * Netfilter evaluation functions (kernels with fexit): nft_do_chain returns the verdict
 * of one nftables base chain, ipt_do_table / ip6t_do_table that of one x_tables table.
 * The BPF side (bpf/pktpath.bpf.c, fexit_*) appends the table and chain names to the
 * event; this turns such an event into its `nf` step. Pure.
 */
import type { RawEvent } from '../engine/event.js';
import type { NfJson, NfVerdictName } from './model.js';
import { HOOK_CHAIN, NF_INET_HOOKS } from './legacy/observers.js';

/** NF_DROP .. NF_REPEAT, the low byte of a hook verdict (the rest carries an errno or queue number). */
const VERDICTS: readonly NfVerdictName[] = ['DROP', 'ACCEPT', 'STOLEN', 'QUEUE', 'REPEAT'];
const NF_STOLEN = 2;

/**
 * The verdict a hook function returned. Since Linux 6.7 nftables drops with
 * NF_DROP_REASON(): it frees the skb itself (kfree_skb, NETFILTER_DROP) and returns
 * NF_STOLEN with the errno in the upper 16 bits; plain NF_STOLEN has none. That is a drop.
 */
export function verdictOf(ret: number): NfVerdictName {
  const v = ret & 0xff;
  if (v === NF_STOLEN && ret >>> 16 !== 0) return 'DROP';
  return VERDICTS[v] ?? 'UNKNOWN';
}

/**
 * Function probes that --iptable's netfilter steps replace: an evaluation function's entry
 * says less than its step (table, chain, verdict), and nft_do_chain_* would also show the
 * chains of pktpath's own tracing table.
 */
export const REPLACED_BY_STEPS = /^(?:nft_do_chain(?:_\w+)?|ipt_do_table|ip6t_do_table|arpt_do_table)$/;

/** One fexit program per function, in the flavour the kernel's signature needs. */
export interface NfEvalProgram {
  readonly func: string;
  /** module that defines it, when not vmlinux */
  readonly module: string;
  readonly program: string;
}

/**
 * The programs to load. `firstParam(func, module)` gives the C type of the function's
 * first parameter from the kernel's BTF, or undefined when the function is not there.
 * ipt_do_table / ip6t_do_table took (skb, state, table) before Linux 5.16 and
 * (priv, skb, state) since.
 */
export function planNfEval(firstParam: (func: string, module: string) => string | undefined): { programs: NfEvalProgram[]; missing: string[] } {
  const programs: NfEvalProgram[] = [];
  const missing: string[] = [];
  const want: [string, string][] = [
    ['nft_do_chain', 'nf_tables'],
    ['ipt_do_table', 'ip_tables'],
    ['ip6t_do_table', 'ip6_tables'],
  ];
  for (const [func, module] of want) {
    const first = firstParam(func, module);
    if (first === undefined) {
      missing.push(`${func}: not in this kernel (module ${module} not loaded, or no BTF)`);
      continue;
    }
    const program = func === 'nft_do_chain' ? 'fexit_nft_do_chain' : `fexit_${func}_${/struct sk_buff/.test(first) ? 'skb' : 'priv'}`;
    programs.push({ func, module, program });
  }
  return { programs, missing };
}

/** The `nf` step of an evaluation function's event; null for any other event. */
export function nfOfEval(ev: RawEvent): NfJson | null {
  if (!ev.nfNames) return null;
  const hook = NF_INET_HOOKS[ev.aux2] ?? null;
  return {
    pf: ev.aux3 ?? 0,
    table: ev.nfNames.table,
    chain: ev.nfNames.chain || (hook ? HOOK_CHAIN[hook]! : `hook${ev.aux2}`),
    hook,
    verdict: verdictOf(ev.aux),
    rule: null,
  };
}
