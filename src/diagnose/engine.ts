/**
 * The diagnosis engine: feed it every event of a trace (push), then ask for the report.
 * Streaming and bounded: per-flow summaries and open packet lives are capped (state.ts),
 * candidates per rule and flow too, so memory does not grow with the trace.
 *
 * @example
 *   const d = new Diagnoser(resolver);
 *   for (const ev of events) d.push(ev);
 *   const report = d.report({ sockets, counters });
 */
import type { RawEvent } from '../engine/event.js';
import type { DEvent, Facts, Finding, FlowId, Need, Report } from './model.js';
import { FlowTable, isPlainReturn, NameCache, normalize } from './normalize.js';
import type { Names } from './normalize.js';
import { FlowState, Lives, LIMITS } from './state.js';
import type { Life } from './state.js';
import { compileRules, eventCandidates, judge, lacking, lifeCandidates, newBucket } from './evaluate.js';
import type { Bucket, CandidateSink, Judged, RuleSet } from './evaluate.js';
import { FindingSet } from './findings.js';
import type { Hit } from './findings.js';
import { RULES } from './rules/index.js';
import type { Rule } from './rules/types.js';
import { flowReport, verdictOf } from './report.js';
import { QdiscWaits } from './qdisc.js';
import { IdQueue } from './queue.js';
import type { NameOf } from './words.js';

export interface DiagnoseOptions {
  readonly rules?: readonly Rule[];
  /** a stage "dominates" the latency when its median is at least this long (default 10 ms) */
  readonly dominantMs?: number;
}

/** The inputs noteInputs() looks for, in the order of its bits. */
const NOTED: readonly Need[] = ['ttl', 'ipid', 'tcpseq', 'gso', 'mtu', 'inner', 'iptable', 'route', 'xdp'];

/** Reports kept of flows let go early (the others are counted in inputs.flows). */
const MAX_EVICTED_REPORTS = 256;
/** How often (events) lives idle for LIFE_GAP_NS are closed. */
const SWEEP_EVERY = 4096;
/** Packets of a life more than this far apart are two packets that shared an address. */
const LIFE_GAP_NS = 5e9;

export class Diagnoser {
  private readonly rules: RuleSet;
  private readonly names: NameCache;
  private readonly flows = new FlowTable();
  private readonly states = new Map<number, FlowState>();
  /** the states' flow ids, oldest first (the next to let go) */
  private readonly stateOrder = new IdQueue(LIMITS.flows);
  /** the last flow asked for and its state: a packet's events, one after the other, are of one flow */
  private lastFlow: FlowId | null = null;
  private lastState: FlowState | undefined;
  private readonly lives = new Lives();
  /** flow id (0: events without a flow) -> its rules' candidates (a chain of buckets, one per rule) */
  private readonly buckets = new Map<number, Bucket>();
  private readonly has = new Set<Need>();
  private readonly qdiscs = new QdiscWaits();
  private findingSet: FindingSet | null = null;
  private readonly flowReports: ReturnType<typeof flowReport>[] = [];
  private readonly nameOf: NameOf;
  private events = 0;
  private flowsEvicted = 0;
  private flowsSeen = 0;

  constructor(resolver: Names, private readonly opts: DiagnoseOptions = {}) {
    this.rules = compileRules(opts.rules ?? RULES);
    this.names = new NameCache(resolver);
    this.nameOf = { netns: (i) => resolver.netnsName(i) ?? String(i) };
  }

  /**
   * Reads one event. Events should come in time order, as the ring buffer gives them.
   * `n`: its number in the run (the pipeline's, which counts events lost to back-pressure
   * too), so evidence names the event trace prints and -w indexes; default: the count.
   */
  push(ev: RawEvent, n?: number): void {
    const num = n ?? this.events + 1;
    this.events++;
    // a function's return repeats its entry's packet and place: on a path it would read as a step back
    if (isPlainReturn(ev)) return;
    const e = normalize(ev, num, this.names, this.flows);
    this.noteInputs(ev, e);
    const life = this.lifeOf(e);
    if (e.flow) {
      const st = this.stateOf(e.flow);
      st.add(e);
      if (e.stage === 'qdisc-in') this.qdiscs.enqueue(e);
      else if (e.stage === 'qdisc-out') {
        const wait = this.qdiscs.dequeue(e);
        if (wait !== null) st.sample(this.names.place('qdisc_enqueue', e.netns, e.dev), 'qdisc_enqueue', e.netns, e.dev, e, wait);
      }
    }
    if (!life) eventCandidates(e, this.rules, this.sink);
    else if (e.stage === 'drop' || e.stage === 'free') this.closeLife(this.lives.close(e.skb));
    const old = this.lives.overflow();
    if (old) this.closeLife(old);
    if (this.events % SWEEP_EVERY === 0) for (const l of this.lives.idle(e.ts - LIFE_GAP_NS)) this.closeLife(l);
  }

  private lifeOf(e: DEvent): Life | undefined {
    // a retransmission event's skb is the socket's queued copy, not a packet on the road
    if (e.skb === 0n || e.stage === 'nf' || e.stage === 'route' || e.stage === 'tcp-rst-recv' || e.stage === 'tcp-retrans') return undefined;
    const open = this.lives.get(e.skb) ?? null;
    if (open && this.isNewPacket(open, e)) {
      this.closeLife(this.lives.close(e.skb));
      return this.lives.add(e, null);
    }
    return this.lives.add(e, open);
  }

  /**
   * An skb address is reused once the packet is freed, and not every free is traced (its
   * headers may be gone): an event long after, in the other direction, or entering a
   * device the packet already entered, or with another IPv4 ID in the same flow and
   * direction (GSO segments reuse freed skbs while their head waits in a qdisc), belongs
   * to a new packet.
   */
  private isNewPacket(life: Life, e: DEvent): boolean {
    const last = life.events[life.events.length - 1];
    if (!last) return false;
    if (e.ts - last.ts > LIFE_GAP_NS) return true;
    if (e.flow && last.flow === e.flow && !e.related && e.stage !== 'tcp-rst-send' && e.stage !== 'icmp-send') {
      if (last.dir !== e.dir) return true;
      const id = e.ipId;
      if (id !== undefined && last.ipId !== undefined && id !== last.ipId) return true;
    }
    if (e.stage !== 'tx-queue' && e.stage !== 'rx') return false;
    // loops, not closures: this runs for every event of a packet
    const ev = life.events;
    let rxHere = false;
    for (let i = 0; i < ev.length; i++) {
      const x = ev[i]!;
      if (x.netns !== e.netns) continue;
      if (x.probe === e.probe && x.dev === e.dev) return true;
      if (x.stage === 'rx') rxHere = true;
    }
    // a packet is queued to send only where it was made or where it arrived
    return e.stage === 'tx-queue' && e.netns !== ev[0]!.netns && !rxHere;
  }

  /** The inputs seen so far, as bits (NEEDS order): the Set is written once per input, not per event. */
  private hasBits = 0;

  private noteInputs(ev: RawEvent, e: DEvent): void {
    const bits =
      (ev.ipTtl !== undefined ? 1 : 0) |
      (ev.ipId !== undefined ? 2 : 0) |
      (ev.tcpSeq !== undefined ? 4 : 0) |
      (ev.gsoSize !== undefined ? 8 : 0) |
      (ev.mtu !== undefined ? 16 : 0) |
      (ev.inner ? 32 : 0) |
      (e.nf ? 64 : 0) |
      (e.route ? 128 : 0) |
      (e.probe.charCodeAt(0) === 120 /* x */ && e.probe.startsWith('xdp') ? 256 : 0);
    const fresh = bits & ~this.hasBits;
    if (fresh === 0) return;
    this.hasBits |= fresh;
    for (let i = 0; i < NOTED.length; i++) if (fresh & (1 << i)) this.has.add(NOTED[i]!);
  }

  private stateOf(f: FlowId): FlowState {
    let s = this.heldState(f);
    if (!s) {
      this.flowsSeen++;
      if (this.states.size >= LIMITS.flows) this.evictOldestFlow();
      this.states.set(f.id, (s = new FlowState(f)));
      this.stateOrder.push(f.id);
      this.lastFlow = f;
      this.lastState = s;
    }
    return s;
  }

  /** The state of flow f while it is held. */
  private heldState(f: FlowId): FlowState | undefined {
    if (f === this.lastFlow) return this.lastState;
    const s = this.states.get(f.id);
    if (s) {
      this.lastFlow = f;
      this.lastState = s;
    }
    return s;
  }

  /** The candidates of one rule in the anchor's flow; a life's anchors are mostly of one flow. */
  private readonly sink: CandidateSink = (rule, anchor) => {
    const fid = anchor.flow?.id ?? 0;
    let head = fid === this.lastFid ? this.lastHead : this.buckets.get(fid);
    if (head === undefined) this.buckets.set(fid, (head = newBucket(rule)));
    this.lastFid = fid;
    this.lastHead = head;
    let b = head;
    while (b.rule !== rule) b = b.next ??= newBucket(rule);
    return b;
  };
  private lastFid = -1;
  private lastHead: Bucket | undefined;

  private closeLife(life: Life | undefined): void {
    if (!life || !life.events.length) return;
    const first = life.events[0]!;
    if (first.flow) this.heldState(first.flow)?.absorb(life);
    lifeCandidates(life.events, this.rules, this.sink);
  }

  /** Judges the candidates of one flow (0: events without a flow) into hits. */
  private judgeFlow(fid: number, env: Parameters<typeof judge>[2]): void {
    const head = this.buckets.get(fid);
    if (!head) return;
    this.buckets.delete(fid);
    if (fid === this.lastFid) this.lastFid = -1;
    const state = this.states.get(fid) ?? null;
    const hits: Hit[] = [];
    for (let b: Bucket | null = head; b !== null; b = b.next) {
      const lack = lacking(b.rule.rule, this.has);
      if (lack.length) {
        for (const n of lack) env.missing.add(n);
        continue;
      }
      const js: (Judged | null)[] = [];
      let held = 0;
      for (let c = b.first; c !== null; c = c.next) {
        const j = judge(c, state, env);
        js.push(j);
        if (j) held++;
      }
      const weight = held === js.length ? b.count / js.length : 1;
      let i = 0;
      for (let c = b.first; c !== null; c = c.next) {
        const j = js[i++];
        if (j) hits.push({ c, j, weight });
      }
    }
    this.findingsOf().add(hits);
  }

  private findingsOf(): FindingSet {
    return (this.findingSet ??= new FindingSet(this.nameOf, this.has));
  }

  private env(facts: Facts): Parameters<typeof judge>[2] {
    return { facts, names: this.nameOf, missing: this.pendingMissing, dominantNs: (this.opts.dominantMs ?? 10) * 1e6 };
  }
  private readonly pendingMissing = new Set<Need>();
  private evictFacts: Facts = {};

  private evictOldestFlow(): void {
    const fid = this.stateOrder.shift();
    if (fid === undefined) return;
    this.judgeFlow(fid, this.env(this.evictFacts));
    const s = this.states.get(fid)!;
    if (this.flowReports.length < MAX_EVICTED_REPORTS) this.flowReports.push(flowReport(s, this.nameOf));
    this.states.delete(fid);
    if (this.lastFlow === s.id) this.lastFlow = null;
    this.flows.delete(s.id);
    this.flowsEvicted++;
  }

  /** Closes what is open and returns the report. Call once, after the last push. */
  report(facts: Facts = {}): Report {
    for (const life of [...this.lives.open.values()]) this.closeLife(this.lives.close(life.skb));
    if (facts.sockets) this.has.add('sockets');
    if (facts.counters) this.has.add('counters');
    const env = this.env(facts);
    for (const fid of [...this.buckets.keys()]) this.judgeFlow(fid, env);
    const findings: Finding[] = this.findingsOf().findings();
    const flows = [...this.flowReports, ...[...this.states.values()].map((s) => flowReport(s, this.nameOf))].sort((x, y) => x.id - y.id);
    return {
      schema: 'pktpath.diagnosis/1',
      verdict: verdictOf(findings, this.events, this.flowsSeen),
      findings,
      flows,
      inputs: {
        events: this.events,
        lost: facts.lost ?? 0,
        flows: this.flowsSeen,
        flowsEvicted: this.flowsEvicted,
        packetsEvicted: this.lives.evicted,
        missing: [...this.pendingMissing].filter((n) => !this.has.has(n)).sort(),
        ...(facts.tracked ? { tracked: facts.tracked } : {}),
      },
    };
  }
}
