/**
 * The run as Chrome trace event JSON (the format ui.perfetto.dev and chrome://tracing
 * open): a process per network namespace and a thread per device in it; a complete
 * slice ("X") for the time a packet spends at each stage (from its event there to its
 * next event), an instant ("i") for each drop and each free; flow events ("s", "t", "f")
 * joining one packet's slices into arrows; a "qdisc wait" slice for the time a dequeued packet
 * waited in its qdisc (measured per queue: a shaper's segments are not the skb that entered). Times are microseconds of CLOCK_MONOTONIC.
 *
 * Slices on one thread must not overlap, and packets on one device do (a qdisc holds
 * many at once): a device gets as many threads as it has packets in it at one time,
 * "dev", "dev (2)", ... each slice on the first that is free.
 */
import type { ReportDoc } from './document.js';
import type { Flow, Packet, Step } from './model.js';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 's' | 't' | 'f' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  id?: number;
  bp?: 'e';
  s?: 't';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns';
  otherData: Record<string, string | number>;
}

interface Slice {
  readonly step: Step;
  readonly start: number;
  readonly end: number;
  readonly packet: Packet;
  readonly flow: Flow;
  tid: number;
  pid: number;
  /** a qdisc wait (waits.ts), drawn before the dequeue that ended it */
  readonly wait?: boolean;
}

/** ns -> µs with ns precision. */
function us(ns: number): number {
  return Math.round(ns) / 1000;
}

/** A zero-length slice is given 1 ns: flow arrows bind to the slice around their time. */
const MIN_NS = 1;

function slicesOf(doc: ReportDoc): { slices: Slice[]; ends: { step: Step; packet: Packet; flow: Flow }[] } {
  const slices: Slice[] = [];
  const ends: { step: Step; packet: Packet; flow: Flow }[] = [];
  for (const flow of doc.flows) {
    for (const packet of flow.packets) {
      const timed = packet.steps.filter((s) => s.ts !== null).sort((a, b) => a.ts! - b.ts!);
      for (const s of timed) {
        if (s.waitNs) slices.push({ step: s, start: s.ts! - s.waitNs, end: s.ts!, packet, flow, tid: 0, pid: 0, wait: true });
      }
      for (let i = 0; i + 1 < timed.length; i++) {
        const s = timed[i]!;
        slices.push({ step: s, start: s.ts!, end: Math.max(timed[i + 1]!.ts!, s.ts! + MIN_NS), packet, flow, tid: 0, pid: 0 });
      }
      const last = timed[timed.length - 1];
      if (last) {
        if (last.kind === 'drop' || last.kind === 'free') ends.push({ step: last, packet, flow });
        else slices.push({ step: last, start: last.ts!, end: last.ts! + MIN_NS, packet, flow, tid: 0, pid: 0 });
      }
    }
  }
  return { slices, ends };
}

/** Tracks: pid per namespace, tid per device and slot; slices placed first-fit. */
class Tracks {
  readonly meta: TraceEvent[] = [];
  private readonly pids = new Map<number, number>();
  private readonly slots = new Map<string, { tid: number; free: number }[]>();
  private nextTid = 1;

  pid(netns: number, name: string): number {
    let p = this.pids.get(netns);
    if (p === undefined) {
      p = this.pids.size + 1;
      this.pids.set(netns, p);
      this.meta.push({ name: 'process_name', ph: 'M', pid: p, tid: 0, args: { name: `netns ${name} (${netns})` } });
      this.meta.push({ name: 'process_sort_index', ph: 'M', pid: p, tid: 0, args: { sort_index: p } });
    }
    return p;
  }

  /** A thread of `dev` in `pid` free from `start` on (its slices end by then). */
  tid(pid: number, dev: string, start: number, end: number): number {
    const key = `${pid}|${dev}`;
    let list = this.slots.get(key);
    if (!list) this.slots.set(key, (list = []));
    let slot = list.find((s) => s.free <= start);
    if (!slot) {
      slot = { tid: this.nextTid++, free: 0 };
      list.push(slot);
      const name = `${dev || '(no device)'}${list.length > 1 ? ` (${list.length})` : ''}`;
      this.meta.push({ name: 'thread_name', ph: 'M', pid, tid: slot.tid, args: { name } });
      this.meta.push({ name: 'thread_sort_index', ph: 'M', pid, tid: slot.tid, args: { sort_index: slot.tid } });
    }
    slot.free = end;
    return slot.tid;
  }

  /** The first thread of `dev` in `pid` (for instants), made if needed. */
  anyTid(pid: number, dev: string, at: number): number {
    const list = this.slots.get(`${pid}|${dev}`);
    return list?.[0]?.tid ?? this.tid(pid, dev, at, at);
  }
}

function netnsName(s: Step): string {
  return s.j.netns_name ?? String(s.netns);
}

function packetArgs(sl: { step: Step; packet: Packet; flow: Flow }): Record<string, unknown> {
  const { step, packet, flow } = sl;
  return { n: step.n, probe: step.j.probe, skb: step.j.skb ?? '0x0', flow: `${flow.proto} ${flow.a} -> ${flow.b}`, packet: `#${packet.id} ${packet.back ? 'b>a' : 'a>b'} ${packet.summary}` };
}

/** The Chrome trace of a report's flows. */
export function chromeTrace(doc: ReportDoc): ChromeTrace {
  const tracks = new Tracks();
  const { slices, ends } = slicesOf(doc);
  slices.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: TraceEvent[] = [];
  for (const sl of slices) {
    sl.pid = tracks.pid(sl.step.netns, netnsName(sl.step));
    sl.tid = tracks.tid(sl.pid, sl.step.dev, sl.start, sl.end);
    const name = sl.wait ? 'qdisc wait' : sl.step.kind;
    out.push({ name, cat: sl.wait ? 'wait' : 'packet', ph: 'X', pid: sl.pid, tid: sl.tid, ts: us(sl.start), dur: us(sl.end - sl.start), args: packetArgs(sl) });
  }
  for (const e of ends) {
    const pid = tracks.pid(e.step.netns, netnsName(e.step));
    const j = e.step.j;
    const name = e.step.kind === 'drop' ? `DROP ${j.drop_reason ?? '?'}` : 'freed';
    out.push({ name, cat: e.step.kind, ph: 'i', s: 't', pid, tid: tracks.anyTid(pid, e.step.dev, e.step.ts!), ts: us(e.step.ts!), args: { ...packetArgs(e), ...(j.drop_reason ? { reason: j.drop_reason } : {}), ...(j.location ? { location: j.location } : {}) } });
  }
  out.push(...flowArrows(slices));
  const verdict = doc.report?.verdict.text ?? '';
  return { traceEvents: [...tracks.meta, ...out], displayTimeUnit: 'ns', otherData: { source: doc.meta.source, events: doc.total, drawn: doc.events.length, verdict } };
}

/** One arrow per packet through its slices: "s" at the first, "t" at the middle ones, "f" (bound to the enclosing slice) at the last. */
function flowArrows(slices: readonly Slice[]): TraceEvent[] {
  const byPacket = new Map<string, Slice[]>();
  for (const sl of slices) {
    if (sl.wait) continue;
    const key = `${sl.flow.id}.${sl.packet.id}`;
    const list = byPacket.get(key) ?? [];
    list.push(sl);
    byPacket.set(key, list);
  }
  const out: TraceEvent[] = [];
  let id = 0;
  for (const list of byPacket.values()) {
    if (list.length < 2) continue;
    id++;
    list.forEach((sl, i) => {
      const ph = i === 0 ? 's' : i === list.length - 1 ? 'f' : 't';
      out.push({ name: 'packet', cat: 'packet', ph, id, pid: sl.pid, tid: sl.tid, ts: us(sl.start), ...(ph === 'f' ? { bp: 'e' as const } : {}) });
    });
  }
  return out;
}
