/**
 * A trace loaded in the test's own process (src/engine/io/loader.ts), its events decoded
 * into a flat, comparable form: for tests of the kernel side that need the tracker or
 * every field of an event, without the CLI in between.
 */
import { loadTrace } from '../../src/engine/io/loader.js';
import type { LoadedTrace, TraceRequest } from '../../src/engine/io/loader.js';
import { RingReader } from '../../src/engine/io/ringbuf.js';
import { decodeEvent } from '../../src/engine/decode.js';
import { catalog } from '../../src/engine/io/catalog.js';
import { probeNames } from '../../src/engine/catalog.js';
import { formatAddr } from '../../src/shared/addr.js';
import type { RawEvent, RawTuple } from '../../src/engine/event.js';

/** One event, flat. Addresses as text; flags as the TCP flag byte. */
export interface Ev {
  readonly probe: string;
  readonly netns: number;
  readonly ifname: string;
  readonly ifindex: number;
  readonly pid: number;
  readonly comm: string;
  readonly t: FlatTuple | null;
  readonly inner: FlatTuple | null;
  readonly related: boolean;
  readonly aux: number;
  readonly aux2: number;
  readonly aux3: number;
  readonly drop: number | null;
}

export interface FlatTuple {
  readonly proto: number;
  readonly saddr: string;
  readonly daddr: string;
  readonly sport: number;
  readonly dport: number;
  readonly flags: number;
  /** ICMP/ICMPv6 type (0 for other protocols) */
  readonly icmpType: number;
}

const flat = (t: RawTuple | null | undefined): FlatTuple | null =>
  t && t.family
    ? { proto: t.l4proto, saddr: formatAddr(t.saddr, t.family), daddr: formatAddr(t.daddr, t.family), sport: t.sport, dport: t.dport, flags: t.tcpFlags, icmpType: t.icmpType }
    : null;

function toEv(e: RawEvent, names: readonly string[]): Ev {
  return {
    probe: names[e.probe] ?? `probe#${e.probe}`,
    netns: e.netns,
    ifname: e.ifname,
    ifindex: e.ifindex,
    pid: e.pid,
    comm: e.comm,
    t: flat(e.tuple),
    inner: flat(e.inner),
    related: e.related === true,
    aux: e.aux,
    aux2: e.aux2,
    aux3: e.aux3 ?? 0,
    drop: e.flags & 1 ? e.dropReason : null,
  };
}

export interface Collector {
  readonly trace: LoadedTrace;
  /** the events so far */
  events(): Ev[];
  /** Reads what is left, detaches, and returns every event. */
  stop(): Promise<Ev[]>;
}

/** Loads and attaches a trace with these pp_config fields, and reads its ring every 20 ms. */
export function collect(fields: object, req: Omit<TraceRequest, 'ringBytes'> & { ringBytes?: number }): Collector {
  const trace = loadTrace(fields, { ringBytes: 8 << 20, ...req });
  const names = probeNames(catalog());
  const reader = new RingReader(trace.ring);
  const out: Ev[] = [];
  const drain = (): void => void reader.drain((view, bytes, off, len) => void out.push(toEv(decodeEvent(view, bytes, off, len), names)));
  const timer = setInterval(drain, 20);
  let stopped: Promise<Ev[]> | undefined;
  return {
    trace,
    events: () => (drain(), out),
    stop: () =>
      (stopped ??= (async () => {
        clearInterval(timer);
        drain();
        await trace.closeAsync();
        return out;
      })()),
  };
}

/** "10.0.0.1:80 > 10.0.0.2:5000" for messages */
export const tupleText = (t: FlatTuple | null): string => (t ? `${t.saddr}:${t.sport} > ${t.daddr}:${t.dport} p${t.proto}` : '-');

/** Whether t is a packet between a:ap and b:bp, in either direction. */
export function between(t: FlatTuple | null, a: string, ap: number, b: string, bp: number): boolean {
  if (!t) return false;
  return (t.saddr === a && t.sport === ap && t.daddr === b && t.dport === bp) || (t.saddr === b && t.sport === bp && t.daddr === a && t.dport === ap);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
