/**
 * The user side of `trace -w` alone: ring records of one UDP flow between two namespaces
 * (the five events a veth crossing gives each packet, as the pcapng bench's flow does),
 * replayed through the run's session (decoder, pipeline, short view, diagnosis, pcapng
 * writer) with a stand-in for the kernel side. The CPU time per event is the budget the
 * live bench spends on one core; unlike it, this figure does not move with the traffic
 * generator or the rest of the machine, so it tells a change of the user side apart.
 *
 *   node dist/bench/trace-replay.js [events]   ->   trace_replay_us_per_event=<x> (-w) and without -w
 */
import { Writable } from 'node:stream';
import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';
import { encodeEvent } from '../src/engine/decode.js';
import { EV_HAS_TUPLE } from '../src/engine/event.js';
import type { RawEvent } from '../src/engine/event.js';
import { EVENT, PKT } from '../src/engine/layout.js';
import type { RecordSink } from '../src/engine/io/ringbuf.js';
import { catalog } from '../src/engine/io/catalog.js';
import { runTrace } from '../src/run/io/session.js';
import type { RunEngine } from '../src/run/io/engine.js';
import type { RunResolver } from '../src/output/io/resolver.js';
import { parseTraceOptions } from '../src/cli/options.js';
import { runRequest } from '../src/cli/request.js';
import type { PcapngOut } from '../src/capture/io/pcapng-out.js';

const CLI_NS = 4026532177;
const SRV_NS = 4026532246;
/** One packet's events, in the order the veth pair gives them: [probe, namespace, device, length]. */
const PATH: readonly [string, number, string, number][] = [
  ['net_dev_queue', CLI_NS, 'pp1c', 106],
  ['net_dev_start_xmit', CLI_NS, 'pp1c', 106],
  ['netif_rx', SRV_NS, 'pp1s', 92],
  ['net_dev_xmit', CLI_NS, 'pp1c', 92],
  ['netif_receive_skb', SRV_NS, 'pp1s', 92],
];
/** skbs in use at once (a socket's receive queue of datagrams): lives end when their skb is reused */
const SKBS = 256;
const PROBES = catalog().tracepoints.map((t) => t.name);

function resolver(): RunResolver {
  return {
    probeName: (id) => PROBES[id] ?? `p${id}`,
    probeFields: (id) => catalog().tracepoints.find((t) => t.name === PROBES[id])?.info ?? [],
    dropReason: (v) => String(v),
    symbol: (a) => `0x${a.toString(16)}`,
    netnsName: (ino) => (ino === CLI_NS ? 'pp1-cli' : ino === SRV_NS ? 'pp1-srv' : undefined),
    wallClockNs: (ns) => ns + 1_700_000_000_000_000_000n,
    functionProbe: () => 9000,
    namedProbe: () => 9001,
  };
}

/** The records of `packets` packets, each packet's five made once and stamped as they are replayed. */
function template(): Uint8Array[] {
  const payload = new Uint8Array(92);
  payload.set([0x45, 0, 0, 92, 0, 0, 0x40, 0, 64, 17], 0);
  return PATH.map(([probe, netns, dev, len]) =>
    encodeEvent({
      tsNs: 0n, skb: 0n, location: 0n, netns, ifindex: netns === CLI_NS ? 2 : 3, mark: 0, len, pid: 4242, dropReason: 0, aux: 0, aux2: 0, aux3: 0,
      probe: PROBES.indexOf(probe), cpu: 0, pktType: 0, flags: EV_HAS_TUPLE, dstMac: new Uint8Array(6), ifname: dev, comm: 'iperf3',
      tuple: { family: 4, l3proto: 0x0800, l4proto: 17, saddr: Uint8Array.of(10, 199, 1, 1), daddr: Uint8Array.of(10, 199, 1, 2), sport: 40000, dport: 5201, tcpFlags: 0, icmpType: 0, icmpCode: 0, icmpId: 0 },
      stack: null, bytes: payload, ipTtl: 64, ipId: 0,
    } satisfies RawEvent),
  );
}

/** The kernel side: `total` records of the flow, handed out as the ring reader would. */
class ReplayEngine implements RunEngine {
  readonly probes = PATH.map(([probe]) => ({ probe, attached: true, via: 'tp_btf' }));
  readonly label = 'tracepoints';
  private readonly recs = template();
  private readonly views = this.recs.map((r) => new DataView(r.buffer, r.byteOffset, r.byteLength));
  private next = 0;
  private onReadable: (() => void) | null = null;
  constructor(private readonly total: number) {}
  startPolling(cb: () => void): void {
    this.onReadable = cb;
  }
  stopPolling(): void {
    this.onReadable = null;
  }
  drain(sink: RecordSink, max: number): number {
    let n = 0;
    for (; n < max && this.next < this.total; n++, this.next++) {
      const k = this.next % PATH.length;
      const pkt = Math.floor(this.next / PATH.length);
      const v = this.views[k]!;
      v.setBigUint64(EVENT.ts_ns, BigInt(1_000_000 + this.next * 2000), true);
      v.setBigUint64(EVENT.skb, 0xffff888104c60000n + BigInt((pkt % SKBS) * 256), true);
      v.setUint16(EVENT.pkt + PKT.ip_id, pkt & 0xffff, true); // each packet its own IP ID, as on the wire
      if (sink(v, this.recs[k]!, 0, this.recs[k]!.length) === false) break;
    }
    return n;
  }
  done(): boolean {
    return this.next >= this.total;
  }
  wake(): void {
    this.onReadable?.();
  }
  pending(): number {
    return 0;
  }
  lost(): number {
    return 0;
  }
  undecided(): number {
    return 0;
  }
  close(): void {}
}

const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

function nullPcapng(): PcapngOut & { bytes: number } {
  const o = { name: 'bench.pcapng', bytes: 0, write: (b: Buffer) => void (o.bytes += b.length), room: () => true, close: async () => {} };
  return o;
}

export interface ReplayResult {
  readonly events: number;
  readonly usPerEvent: number;
  readonly pcapngBytes: number;
}

/** Replays `events` records through a `trace` run (with -w when `write`); CPU time per event. */
export async function benchTraceReplay(events = 500_000, write = true): Promise<ReplayResult> {
  const engine = new ReplayEngine(events);
  const pcapng = nullPcapng();
  let stop!: () => void;
  const until = new Promise<void>((r) => (stop = r));
  const req = runRequest(parseTraceOptions({ backend: 'tracepoints', ...(write ? { write: 'bench.pcapng' } : {}) }));
  const deps = {
    startEngine: () => engine,
    startNetfilter: () => Promise.reject(new Error('no netfilter in this bench')),
    resolver,
    observerProbe: () => 900,
    signals: new EventEmitter(),
    forceExit: () => {},
    nowNs: () => process.hrtime.bigint(),
  };
  const t0 = process.cpuUsage();
  const run = runTrace(req, { out: sink(), err: sink(), until, ...(write ? { pcapng } : {}) }, deps);
  while (!engine.done()) {
    engine.wake();
    await new Promise((r) => setImmediate(r));
  }
  stop();
  await run;
  const u = process.cpuUsage(t0);
  return { events, usPerEvent: (u.user + u.system) / events, pcapngBytes: pcapng.bytes };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2] ?? 500_000);
  const w = await benchTraceReplay(n, true);
  const plain = await benchTraceReplay(n, false);
  process.stdout.write(`trace_replay_us_per_event=${w.usPerEvent.toFixed(2)} trace_replay_us_per_event_no_w=${plain.usPerEvent.toFixed(2)} trace_replay_pcapng_mb=${(w.pcapngBytes / 1e6).toFixed(1)}\n`);
}
