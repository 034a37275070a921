/**
 * The run's pipeline, pure: ring records and netfilter paths in, formatted lines out, in
 * the packet's order. It counts (events, drops per reason, records lost to back-pressure,
 * malformed records), stops taking events at the catch count, and joins netfilter steps
 * to the drops they explain (the explanation itself is the diagnosis', fed by onEvent):
 *
 * - an observer record (iptables-legacy, BPF netfilter) becomes the table step it proves,
 *   printed once the table's counters have named the rule; later events wait behind it
 *   (src/run/steps.ts), so the output keeps the order things happened in;
 * - a verdict that fexit saw on nft_do_chain / ipt_do_table waits for the rule its other
 *   source names (nft trace, legacy counters), and is printed once (src/run/steps.ts);
 * - a NETFILTER_DROP inside a legacy table, or in a namespace whose legacy tables only
 *   counters watch, is followed by the step that names the table, chain and rule.
 *
 * A slow consumer never turns into memory: when the output has no room, records are
 * counted as dropped for back-pressure without being decoded (drops are still decoded
 * and counted, for the summary).
 */
import { decodeEvent } from '../engine/decode.js';
import { EV_DROP, EV_RET } from '../engine/event.js';
import type { RawEvent } from '../engine/event.js';
import { EVENT } from '../engine/layout.js';
import { trimTracerFrames } from '../kernel/stack.js';
import { nfEvents } from '../netfilter/events.js';
import { nfOfEval } from '../netfilter/eval.js';
import type { LegacyStep } from '../netfilter/legacy/observers.js';
import { OWN_TABLE_RE } from '../netfilter/index.js';
import { StepJoin, isNftEval, isXtEval, legacyDropKey, nftKey } from './steps.js';
import type { NfJson, NfTrace } from '../netfilter/index.js';

/** Names the pipeline needs (src/output/io/resolver.ts RunResolver). */
export interface PipelineNames {
  dropReason(value: number): string;
  /** a probe id for the function at `ip` (entry or return) */
  functionProbe(ip: bigint, ret: boolean): number;
  /** a probe id for a source that is neither a tracepoint nor a function ("netfilter") */
  namedProbe(name: string): number;
  symbol(addr: bigint): string;
}

/** Where lines go. */
export interface LineSink {
  /** false while the consumer is behind: what comes meanwhile is counted, not queued */
  writable(): boolean;
  push(line: string): void;
}

/** The --iptable side the pipeline joins events with (src/netfilter/io/path.ts NetfilterPath). */
export interface NetfilterJoin {
  readonly tracker: {
    observe(ev: RawEvent): LegacyStep | null;
    freed(ev: RawEvent, reason: string | null): LegacyStep | null;
    watches(netns: number): boolean;
  };
  /** namespaces with iptables-legacy rules */
  readonly legacy: readonly string[];
  explainLegacyStep(netns: number, tsNs: bigint, step: LegacyStep): Promise<NfJson>;
  explainLegacyDrop(netns: number, tsNs: bigint, family: 4 | 6): Promise<NfJson | null>;
  /** whether nft trace runs in the namespace with this inode (its verdicts' rules will come) */
  tracesNft?(netns: number): boolean;
}

export interface PipelineOptions {
  readonly names: PipelineNames;
  readonly format: (ev: RawEvent) => string;
  readonly out: LineSink;
  /** probe id of the netfilter observer programs */
  readonly observerProbe: number;
  readonly catchCount?: number | null;
  /** lines were added outside a ring read (a rule named later, an nft trace): write them out */
  readonly onLate?: () => void;
  /**
   * every event the run takes (printed, folded by the short view, or lost to back-pressure),
   * numbered as its line in the full view would be: the diagnosis reads them all, -w
   * writes their packets. The event's packet bytes may be a view of the ring, valid only
   * during the call (RawEvent.bytes): copy what is kept.
   */
  readonly onEvent?: (ev: RawEvent, n: number) => void;
  readonly onError?: (message: string) => void;
  /** rule lookups in flight at once; beyond, a step is counted as lost to back-pressure */
  readonly maxInFlight?: number;
  /** events waiting behind netfilter steps for their rule, all together; beyond, the oldest step goes without it */
  readonly maxHeld?: number;
  /** which events are printed (the short view, src/output/view.ts); absent: every one */
  readonly shows?: (ev: RawEvent) => boolean;
  /** false: no event is printed or formatted (trace -w without --print, diagnose): each is counted, and handed to onEvent */
  readonly print?: boolean;
  /** the clock a verdict's wait for its rule is timed by, from when it is read (expire()'s); absent: the event's own time */
  readonly nowNs?: () => bigint;
}

const MAX_IN_FLIGHT = 4096;
const MAX_HELD = 65_536;

/** Whether a record is a drop, read without decoding it. */
export function isDropRecord(bytes: Uint8Array, off: number, len: number): boolean {
  return len >= EVENT.size && ((bytes[off + EVENT.flags] ?? 0) & EV_DROP) !== 0;
}


export class Pipeline {
  /** events printed */
  events = 0;
  /** events (and netfilter steps) not printed because the output was behind */
  backpressure = 0;
  /** ring records that could not be decoded or handled */
  malformed = 0;
  /** events the short view folded (counted, not printed) */
  folded = 0;
  /** what was wrong with the first of them */
  firstMalformed: string | undefined;
  readonly drops = new Map<string, number>();

  private readonly o: PipelineOptions;
  private readonly limit: number;
  private netfilter: NetfilterJoin | undefined;
  private nfProbe: number | undefined;
  private closed = false;
  /** observer steps so far, for their keys in the step join */
  private observed = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly steps: StepJoin;

  constructor(o: PipelineOptions) {
    this.o = o;
    this.limit = o.catchCount ?? Infinity;
    this.steps = new StepJoin(o.maxHeld ?? MAX_HELD);
  }

  /** The catch count is reached: nothing more is taken. */
  full(): boolean {
    return this.events >= this.limit;
  }

  /** Joins events with the netfilter path from now on (--iptable). */
  useNetfilter(nf: NetfilterJoin): void {
    this.netfilter = nf;
  }

  /** A ring buffer record (a RingReader sink); false once the catch count is reached. */
  readonly record = (view: DataView, bytes: Uint8Array, off: number, len: number): boolean => {
    if (this.full()) return false;
    if (!this.o.out.writable() && !isDropRecord(bytes, off, len)) {
      this.backpressure++;
      return true;
    }
    try {
      // without a netfilter join nothing holds an event past this call: its packet bytes can stay in the ring
      this.handle(decodeEvent(view, bytes, off, len, this.netfilter === undefined));
    } catch (err) {
      // a record the decoder or a formatter cannot take is counted, never fatal
      this.malformed++;
      this.firstMalformed ??= `${(err as Error).name}: ${(err as Error).message}`;
    }
    return !this.full();
  };

  /** A ring record counted as dropped for back-pressure, unread (the stop's time is up). */
  readonly skip = (): boolean => {
    if (this.full()) return false;
    this.backpressure++;
    return true;
  };

  /** A packet's netfilter path from nft trace, as events stamped `tsNs` (CLOCK_MONOTONIC). */
  nfTrace(trace: NfTrace, netns: number, tsNs: bigint): void {
    if (this.closed) return;
    for (const ev of nfEvents(trace, { tsNs, netns, probe: this.netfilterProbe() })) {
      if (this.full()) break;
      const key = nftKey(ev);
      const ready = this.steps.complete(key, ev.nf!.rule, ev.probe);
      if (ready) {
        this.emitAll(ready);
        continue;
      }
      this.steps.printedAhead(key, tsNs);
      this.deliver(ev);
    }
    this.o.onLate?.();
  }

  /** Prints the nftables verdicts that waited too long for their trace line (without its rule), and what waited behind them. */
  expire(nowNs: bigint): void {
    const ready = this.steps.expire(nowNs);
    this.emitAll(ready);
    if (ready.length) this.o.onLate?.();
  }

  /** nftables verdicts waiting for their trace line (the session checks them with expire()). */
  get waitingSteps(): number {
    return this.steps.size;
  }

  /** Resolves when every rule lookup in flight has been answered (and its lines pushed). */
  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  /** Late answers are ignored from now on; steps still waiting, and what waits behind them, are printed. */
  close(): void {
    this.emitAll(this.steps.drain());
    this.closed = true;
  }

  private netfilterProbe(): number {
    this.nfProbe ??= this.o.names.namedProbe('netfilter');
    return this.nfProbe;
  }

  private handle(ev: RawEvent): void {
    const names = this.o.names;
    if (ev.probe === this.o.observerProbe) {
      // a netfilter observer: printed only as the legacy table step it proves
      const step = this.netfilter?.tracker.observe(ev);
      if (step) this.legacyTableStep(ev, step, ev.tsNs);
      return;
    }
    if (ev.funcIp) ev.probe = names.functionProbe(ev.funcIp, (ev.flags & EV_RET) !== 0);
    if (ev.nfNames) {
      ev.nf = nfOfEval(ev) ?? undefined;
      // the chains of a pktpath run's own tracing table are instrumentation, not the path
      if (ev.nf && OWN_TABLE_RE.test(ev.nf.table)) return;
      if (ev.nf && this.joinStep(ev)) return;
    }
    if (ev.stack) ev.stack = trimTracerFrames(ev.stack, names.symbol);
    if (ev.flags & EV_DROP) this.linkDrop(ev);
    this.deliver(ev);
  }

  /**
   * A verdict from fexit on an evaluation function, when another source also gives it:
   * true when that source's step stands for it or it waits for that source's rule.
   * nftables: nft trace names the rule. iptables-legacy: where BPF netfilter observers
   * watch, their steps (ruled from counters) stand for the tables' verdicts; elsewhere the
   * counters name a drop's rule after the drop.
   */
  private joinStep(ev: RawEvent): boolean {
    const nf = this.netfilter;
    if (!nf) return false;
    if (isNftEval(ev) && nf.tracesNft?.(ev.netns)) {
      const key = nftKey(ev);
      // its trace line came first and was printed as its step
      if (this.steps.takeAhead(key)) return true;
      this.emitAll(this.steps.wait(ev, key, this.o.nowNs?.() ?? ev.tsNs));
      return true;
    }
    if (!isXtEval(ev)) return false;
    if (nf.tracker.watches(ev.netns)) return true;
    if (ev.nf!.verdict !== 'DROP' || !nf.legacy.length || !ev.skb) return false;
    this.emitAll(this.steps.wait(ev, legacyDropKey(ev.netns, ev.skb)));
    return true;
  }

  /** An event on its way out: printed now, or after the verdicts that wait before it. */
  private deliver(ev: RawEvent): void {
    if (this.steps.holding) this.emitAll(this.steps.pass(ev));
    else this.emit(ev); // the common case: no array per event
  }

  private emitAll(evs: readonly RawEvent[]): void {
    for (const ev of evs) this.emit(ev);
  }

  /** Counts, keeps what the summary needs, and pushes the formatted line (or counts it as lost to back-pressure). */
  private emit(ev: RawEvent): void {
    if (this.full()) return;
    // numbered as its line in the full view (--verbose, --json): folded events count too
    this.o.onEvent?.(ev, this.events + this.backpressure + this.folded + 1);
    if (ev.flags & EV_DROP) {
      const r = this.o.names.dropReason(ev.dropReason);
      this.drops.set(r, (this.drops.get(r) ?? 0) + 1);
    }
    if (this.o.print === false) {
      this.events++;
      return;
    }
    if (this.o.shows && !this.o.shows(ev)) {
      this.folded++;
      return;
    }
    if (!this.o.out.writable()) {
      this.backpressure++;
      return;
    }
    const line = this.o.format(ev);
    this.events++;
    this.o.out.push(line);
  }

  /** A drop as it comes off the ring: the legacy table that dropped it, named in order with the observers. */
  private linkDrop(ev: RawEvent): void {
    const nf = this.netfilter;
    if (!nf) return;
    const r = this.o.names.dropReason(ev.dropReason);
    const seen = nf.tracker.freed(ev, r);
    if (seen) this.legacyTableStep(ev, seen, ev.tsNs + 1n);
    else if (r === 'NETFILTER_DROP' && nf.legacy.length && !nf.tracker.watches(ev.netns) && ev.tuple && ev.tuple.family) {
      this.legacyDrop(ev, ev.tuple.family);
    }
  }

  /** Runs a rule lookup; `then` gets its answer unless the run has closed meanwhile. */
  private lookup<T>(ask: () => Promise<T>, then: (v: T) => void, after?: () => void): boolean {
    if (this.inFlight.size >= (this.o.maxInFlight ?? MAX_IN_FLIGHT)) {
      this.backpressure++; // the counters do not keep up: the step is lost, counted
      return false;
    }
    const p = ask()
      .then((v) => {
        if (!this.closed && !this.full()) then(v);
      })
      .catch((err: unknown) => this.o.onError?.(`iptables-legacy counters: ${(err as Error).message}`))
      .finally(() => {
        this.inFlight.delete(p);
        after?.();
        if (!this.closed) this.o.onLate?.();
      });
    this.inFlight.add(p);
    return true;
  }

  /** iptables-legacy: the rule behind a NETFILTER_DROP, from counters, as a netfilter event after the drop. */
  private legacyDrop(drop: RawEvent, family: 4 | 6): void {
    const nf = this.netfilter!;
    this.lookup(
      () => nf.explainLegacyDrop(drop.netns, drop.tsNs, family),
      (step) => {
        // the table's own verdict (fexit on ipt_do_table) waits for this rule: one line for the drop
        const ready = this.steps.complete(legacyDropKey(drop.netns, drop.skb), step?.rule ?? null, this.netfilterProbe());
        if (ready) this.emitAll(ready);
        else if (step) this.deliver({ ...drop, flags: drop.flags & ~EV_DROP, probe: this.netfilterProbe(), stack: null, nf: step, tsNs: drop.tsNs + 1n });
      },
    );
  }

  /**
   * iptables-legacy table step seen by the observers, emitted once the counters have named
   * its rule. An ACCEPT waits in its place (everything after it waits behind it); a DROP is
   * told at the drop, after it.
   */
  private legacyTableStep(ev: RawEvent, step: LegacyStep, tsNs: bigint): void {
    const nf = this.netfilter!;
    const base: RawEvent = {
      ...ev,
      flags: ev.flags & ~EV_DROP,
      probe: this.netfilterProbe(),
      stack: null,
      tsNs,
      ifname: step.ifname,
      ifindex: step.ifindex,
      tuple: step.tuple,
      location: 0n,
      dropReason: 0,
      aux: 0,
      aux2: 0,
      aux3: 0,
    };
    const key = step.verdict === 'ACCEPT' ? `observed|${++this.observed}` : null;
    const asked = this.lookup(
      () => nf.explainLegacyStep(ev.netns, ev.tsNs, step),
      (named) => {
        // a drop after a shared spot is the table's only if its counters say so
        if (step.verdict === 'DROP' && !step.exact && named.rule === null) return;
        if (key) this.emitAll(this.steps.settle(key, () => ({ ...base, nf: named })) ?? []);
        else this.deliver({ ...base, nf: named });
      },
      // an answer that never came: the step is not printed, what waited behind it is
      () => key && this.emitAll(this.steps.settle(key, () => null) ?? []),
    );
    if (asked && key) this.emitAll(this.steps.wait({ ...base, nf: { pf: step.pf, table: step.table, chain: step.chain, hook: step.hook, verdict: step.verdict, rule: null } }, key));
  }
}
