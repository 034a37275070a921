/**
 * One line per netfilter verdict (pure). With --iptable and a function backend, a
 * verdict is seen twice: at once, in the packet's order, by fexit on the evaluation
 * function (nft_do_chain, ipt_do_table: with the skb, but no rule), and later by the
 * source that names the rule: nft trace for nftables (a line with no skb, stamped when it
 * arrived), the rule counters for an iptables-legacy drop (looked up after the drop). The
 * fexit step waits here for that, takes its rule, and is printed once in its place as the
 * netfilter step (probe "netfilter", with the skb and time fexit saw); the other source's
 * step is then not printed.
 *
 * While a verdict waits, every later event waits behind it (whatever its skb), so the
 * output keeps the order events happened in: a reorder buffer that lets out its head as
 * soon as the head is ready. A verdict whose rule does not come within STEP_WAIT_NS of
 * being read (not of its kernel time: a reader that lags must not give up at once) goes
 * out without it. A step with no verdict waiting for it is printed as it is, and is
 * remembered for STEP_WAIT_NS: its own verdict, read after it (the ring lagged behind
 * the netlink socket), is then not printed a second time. Bounded: past MAX_QUEUED events
 * the oldest waiting verdict goes out without its rule; at most MAX_AHEAD steps are
 * remembered.
 */
import type { RawEvent, RawTuple } from '../engine/event.js';

/** How long a verdict waits for its rule (nft trace lines come late under load and emulation). */
export const STEP_WAIT_NS = 3_000_000_000n;
/** Events waiting behind verdicts, all together. */
export const MAX_QUEUED = 65_536;
/** Steps printed before their verdict was read, remembered (by key) at once. */
export const MAX_AHEAD = 4096;

const addr = (a: Uint8Array): string => Array.from(a).join('.');
function tupleKey(t: RawTuple | null): string {
  return t ? `${t.family}/${t.l4proto}/${addr(t.saddr)}:${t.sport}>${addr(t.daddr)}:${t.dport}` : '-';
}

/**
 * An nftables step's identity: namespace, chain, verdict and packet (not the family: nft
 * trace names an inet table's by the packet).
 */
export function nftKey(ev: RawEvent): string {
  const nf = ev.nf!;
  return `${ev.netns}|${nf.table}|${nf.chain}|${nf.verdict}|${tupleKey(ev.tuple)}`;
}

/** An iptables-legacy drop's identity: namespace and skb (the counters name the rule after the drop). */
export function legacyDropKey(netns: number, skb: bigint): string {
  return `legacy|${netns}|${skb}`;
}

/** Whether a step comes from fexit on ipt_do_table or ip6t_do_table (an x_tables table: no chain name). */
export function isXtEval(ev: RawEvent): boolean {
  return ev.nf !== undefined && ev.nfNames !== undefined && ev.nfNames !== null && ev.nfNames.chain === '';
}

/** Whether a step comes from fexit on nft_do_chain (nftables names a chain; x_tables does not). */
export function isNftEval(ev: RawEvent): boolean {
  return ev.nf !== undefined && ev.nfNames !== undefined && ev.nfNames !== null && ev.nfNames.chain !== '';
}

interface Entry {
  ev: RawEvent | null;
  /** a verdict waiting for its trace line: its key; null once ready */
  key: string | null;
  /** when the verdict started waiting (the clock expire() is given) */
  since: bigint;
}

/** Steps printed with no verdict waiting: how many, under one key, and when the last came. */
interface Ahead {
  count: number;
  lastNs: bigint;
}

export class StepJoin {
  private readonly queue: Entry[] = [];
  private readonly ahead = new Map<string, Ahead>();
  private waiting = 0;

  /** `maxQueued`: events that may wait behind verdicts, all together */
  constructor(private readonly maxQueued = MAX_QUEUED) {}

  /** verdicts waiting for their trace line */
  get size(): number {
    return this.waiting;
  }

  /** Whether events wait (behind a verdict): when none does, an event goes out at once without pass(). */
  get holding(): boolean {
    return this.queue.length > 0;
  }

  /** An event on its way out: the events that may go now (it, unless something waits before it). */
  pass(ev: RawEvent): RawEvent[] {
    if (!this.queue.length) return [ev];
    this.queue.push({ ev, key: null, since: 0n });
    return this.queue.length > this.maxQueued ? this.giveUpHead() : [];
  }

  /**
   * A verdict starts waiting for its rule, under `key`, at `sinceNs` (default: its kernel
   * time); what may go now (only when the queue is full).
   */
  wait(ev: RawEvent, key: string, sinceNs: bigint = ev.tsNs): RawEvent[] {
    this.queue.push({ ev, key, since: sinceNs });
    this.waiting++;
    return this.queue.length > this.maxQueued ? this.giveUpHead() : [];
  }

  /**
   * The verdict waiting under `key` is the netfilter step `probe` names, with `rule` (null:
   * none known): what may go now; null when no verdict waits there (print the other
   * source's step itself).
   */
  complete(key: string, rule: string | null, probe: number): RawEvent[] | null {
    return this.settle(key, (ev) => ({ ...ev, probe, nf: rule === null ? ev.nf! : { ...ev.nf!, rule } }));
  }

  /**
   * The step waiting under `key` becomes what `then` makes of it (null: it is not printed
   * at all): what may go now; null when nothing waits there.
   */
  settle(key: string, then: (ev: RawEvent) => RawEvent | null): RawEvent[] | null {
    const e = this.queue.find((x) => x.key === key);
    if (!e || !e.ev) return null;
    e.ev = then(e.ev);
    this.ready(e);
    return this.letOut();
  }

  /** Verdicts that waited longer than STEP_WAIT_NS by `nowNs` go without their rule; what may go now. */
  expire(nowNs: bigint): RawEvent[] {
    for (const e of this.queue) if (e.key !== null && e.ev && nowNs - e.since > STEP_WAIT_NS) this.ready(e);
    for (const [key, a] of this.ahead) if (nowNs - a.lastNs > STEP_WAIT_NS) this.ahead.delete(key);
    return this.letOut();
  }

  /** A step under `key` was printed at `nowNs` with no verdict waiting: its verdict may still be read. */
  printedAhead(key: string, nowNs: bigint): void {
    const a = this.ahead.get(key);
    if (a) {
      a.count++;
      a.lastNs = nowNs;
      return;
    }
    if (this.ahead.size >= MAX_AHEAD) this.ahead.delete(this.ahead.keys().next().value!);
    this.ahead.set(key, { count: 1, lastNs: nowNs });
  }

  /** Whether a verdict under `key` is one whose step was already printed (and it is then forgotten). */
  takeAhead(key: string): boolean {
    const a = this.ahead.get(key);
    if (!a) return false;
    if (--a.count === 0) this.ahead.delete(key);
    return true;
  }

  /** Everything, in order (the run ends). */
  drain(): RawEvent[] {
    for (const e of this.queue) this.ready(e);
    return this.letOut();
  }

  private ready(e: Entry): void {
    if (e.key === null) return;
    e.key = null;
    this.waiting--;
  }

  private giveUpHead(): RawEvent[] {
    const head = this.queue.find((e) => e.key !== null);
    if (head) this.ready(head);
    return this.letOut();
  }

  /** The ready entries at the head of the queue. */
  private letOut(): RawEvent[] {
    let n = 0;
    while (n < this.queue.length && this.queue[n]!.key === null) n++;
    return this.queue.splice(0, n).flatMap((e) => (e.ev ? [e.ev] : []));
  }
}
