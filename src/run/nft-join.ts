/**
 * One line per nftables verdict (pure). With --iptable and a function backend, a chain's
 * verdict is seen twice: at once, in the packet's order, by fexit on nft_do_chain (with
 * the skb, but no rule), and later by nft trace (with the rule that decided, but no skb,
 * stamped when its line arrived). The fexit step waits here for its trace step, takes its
 * rule, and is printed once; the trace step is then not printed. A step whose trace does
 * not come in time is printed without the rule; a trace step with no waiting counterpart
 * is printed as it is.
 */
import type { RawEvent, RawTuple } from '../engine/event.js';

/** How long a verdict waits for its nft trace line (trace lines come late under load and emulation). */
export const NFT_WAIT_NS = 3_000_000_000n;
/** Verdicts waiting at once; beyond, the oldest is let go without its rule. */
const MAX_WAITING = 4096;

const addr = (a: Uint8Array): string => Array.from(a).join('.');
function tupleKey(t: RawTuple | null): string {
  return t ? `${t.family}/${t.l4proto}/${addr(t.saddr)}:${t.sport}>${addr(t.daddr)}:${t.dport}` : '-';
}

/** The step's identity: namespace, chain, verdict and packet. */
function keyOf(ev: RawEvent): string {
  const nf = ev.nf!;
  return `${ev.netns}|${nf.table}|${nf.chain}|${nf.verdict}|${tupleKey(ev.tuple)}`;
}

/** Whether a step comes from fexit on nft_do_chain (nftables names a chain; x_tables does not). */
export function isNftEval(ev: RawEvent): boolean {
  return ev.nf !== undefined && ev.nfNames !== undefined && ev.nfNames !== null && ev.nfNames.chain !== '';
}

/** A verdict waiting for its rule. `queued`: it sits among its skb's held events (printed with them). */
export interface WaitingStep {
  readonly ev: RawEvent;
  readonly queued: boolean;
}

export class NftStepJoin {
  private readonly waiting: (WaitingStep & { key: string })[] = [];

  get size(): number {
    return this.waiting.length;
  }

  /** An nft_do_chain verdict starts waiting; the one it pushes out when too many wait, if any. */
  wait(step: WaitingStep): WaitingStep | undefined {
    this.waiting.push({ ...step, key: keyOf(step.ev) });
    return this.waiting.length > MAX_WAITING ? this.waiting.shift() : undefined;
  }

  /** The waiting verdict a trace step completes, now with the trace's rule; null: print the trace step. */
  complete(trace: RawEvent): WaitingStep | null {
    const key = keyOf(trace);
    const i = this.waiting.findIndex((w) => w.key === key);
    if (i < 0) return null;
    const [w] = this.waiting.splice(i, 1);
    w!.ev.nf = { ...w!.ev.nf!, rule: trace.nf!.rule }; // in place: a queued one is already in its skb's list
    return w!;
  }

  /** Verdicts that waited longer than NFT_WAIT_NS by `nowNs`, in order: printed without a rule. */
  expired(nowNs: bigint): WaitingStep[] {
    let n = 0;
    while (n < this.waiting.length && nowNs - this.waiting[n]!.ev.tsNs > NFT_WAIT_NS) n++;
    return this.waiting.splice(0, n);
  }

  /** Every verdict still waiting (the run ends). */
  drain(): WaitingStep[] {
    return this.waiting.splice(0);
  }
}
