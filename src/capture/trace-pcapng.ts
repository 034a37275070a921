/**
 * A trace as a pcapng file: the events of one packet (one skb's life) are gathered until
 * the packet is freed, then written as one Enhanced Packet Block per (network namespace,
 * device) it crossed, each with the bytes captured there and the standard comment of the
 * whole life (comment.ts). Bounded: at most `maxLives` packets wait at once (the oldest
 * is written early), and at most `maxSteps` events of one life are kept. The waiting
 * lives are numbers in typed arrays (lives.ts).
 *
 * The events are plain data (TraceStep), so the run's event decoder maps to them and
 * this stays pure.
 */
import { lifeComments, pathText, vantageComment } from './comment.js';
import { LifeTable } from './lives.js';
import type { CopyIn, StepOut } from './lives.js';
import type { PacketStory, StoryNetfilter } from './comment.js';
import { cookedV2Header, PcapngWriter, PKT_HOST, PKT_OUTGOING } from './pcapng.js';
import type { Direction, SectionOptions } from './pcapng.js';

export interface TraceStep {
  /** the event's number in the run (its line in --json) */
  readonly n: number;
  /** wall-clock time, ns since the epoch */
  readonly tsNs: bigint;
  readonly skb: bigint;
  readonly probe: string;
  /** namespace name (or inode as text) and device; '' when the skb has no device */
  readonly netns: string;
  readonly dev: string;
  readonly ifindex: number;
  /** in: received on dev; out: leaving by dev; null when the probe does not say */
  readonly dir: Direction | null;
  /** the packet from its network header on, as captured at this event (snaplen), or null */
  readonly bytes: Uint8Array | null;
  /** the packet's length from the network header on */
  readonly len: number;
  /** EtherType of the network header (0x0800, 0x86dd...) */
  readonly protocol: number;
  /** the source MAC when the skb had one */
  readonly mac?: Uint8Array | null;
  /** the packet as one line (made only for the steps that become a copy) */
  readonly summary: () => string;
  readonly netfilter?: StoryNetfilter | null;
  readonly drop?: { readonly reason: string; readonly location: string } | null;
  readonly finding?: PacketStory['finding'];
  /** the packet's life ends here (freed, consumed or dropped) */
  readonly last: boolean;
}

export interface TracePcapngOptions {
  readonly section: SectionOptions;
  readonly snaplen: number;
  readonly maxLives?: number;
  readonly maxSteps?: number;
  /**
   * Remember which packet (epb_packetid) holds each of the first `indexEvents` events,
   * 4 bytes per event, so findings known only at the end can be written on the packets
   * that are their evidence (annotate.ts); 0 (the default): no index.
   */
  readonly indexEvents?: number;
}

/** What a step carries beyond its place, kept only for the steps that have any. */
interface Extra {
  readonly netfilter: StoryNetfilter | null;
  readonly drop: TraceStep['drop'];
  readonly finding: TraceStep['finding'];
}

const DIRS: readonly (Direction | undefined)[] = [undefined, 'in', 'out'];

/** Bytes of packet copies a run holds at most while their lives wait (the copy pool). */
const COPY_BYTES = 16 << 20;

export class TracePcapng {
  private readonly lives: LifeTable;
  private readonly writer: PcapngWriter;
  private nextId = 1n;
  /** steps left out because a life was longer than maxSteps */
  truncatedSteps = 0;
  /** lives written before their end because too many were waiting */
  writtenEarly = 0;
  private readonly headers = new Map<string, Buffer>();
  private readonly ifaces = new Map<string, number>();
  /** event number - 1 -> packet id (0: none); grows by doubling up to indexEvents */
  private index = new Uint32Array(0);
  /** events past indexEvents whose packet is not remembered */
  unindexed = 0;

  constructor(
    sink: (chunk: Buffer) => void,
    private readonly opts: TracePcapngOptions,
  ) {
    this.writer = new PcapngWriter(sink, opts.section);
    // a copy per (namespace, device) a packet crossed: room for four a life, the lives fewer when the snaplen is large
    const maxLives = Math.max(2, Math.min(opts.maxLives ?? 4096, Math.floor(COPY_BYTES / (4 * opts.snaplen))));
    const maxCopies = 4 * maxLives;
    this.lives = new LifeTable({ maxLives, maxSteps: opts.maxSteps ?? 64, maxCopies, snaplen: opts.snaplen });
  }

  get packets(): number {
    return this.writer.packets;
  }

  /** The id of the packet that event `n` belongs to (its epb_packetid), if it was written and indexed. */
  packetOf(n: number): number | undefined {
    const id = n >= 1 && n <= this.index.length ? this.index[n - 1] : 0;
    return id ? id : undefined;
  }

  /** Index events and the packet that holds them, up to indexEvents. */
  private remember(steps: readonly StepOut[], id: bigint): void {
    const max = this.opts.indexEvents ?? 0;
    for (const st of steps) {
      if (st.n < 1 || st.n > max) {
        if (max) this.unindexed++;
        continue;
      }
      if (st.n > this.index.length) {
        const grown = new Uint32Array(Math.min(max, Math.max(st.n, this.index.length * 2, 1024)));
        grown.set(this.index);
        this.index = grown;
      }
      this.index[st.n - 1] = Number(id);
    }
  }

  push(step: TraceStep): void {
    const lives = this.lives;
    const place = lives.place(step.probe, step.netns, step.dev);
    // not every free is traced (a UDP datagram read by its socket is not): a step the life
    // has already passed is a new packet in the reused skb
    if (step.dev && lives.passed(step.skb, place)) this.flush(step.skb);
    if (!lives.has(step.skb)) {
      if (lives.full()) this.flushOldest();
      lives.open(step.skb, step.tsNs);
    }
    const wantsCopy = step.bytes !== null && !lives.hasCopyAt(step.skb, place);
    // every copy in the pool is held by a waiting life: the oldest other one is written now
    if (wantsCopy && !lives.canCopy()) this.flushOldest(step.skb);
    const copy = wantsCopy ? copyOf(step) : null;
    const extra = step.netfilter || step.drop || step.finding ? { netfilter: step.netfilter ?? null, drop: step.drop ?? null, finding: step.finding ?? null } : null;
    if (!lives.add(step.skb, { n: step.n, tsNs: step.tsNs, place, extra }, copy)) this.truncatedSteps++;
    if (step.last || step.skb === 0n) this.flush(step.skb);
  }

  private flushOldest(except?: bigint): void {
    const skb = this.lives.oldest(except);
    if (skb === undefined) return;
    this.writtenEarly++;
    this.flush(skb);
  }

  /** Writes every packet still waiting (end of the run), and hands everything to the sink. */
  finish(): void {
    for (const skb of this.lives.skbs()) this.flush(skb);
    this.writer.flush();
  }

  /** Hands what was written so far to the sink (after each read of the ring: a pipe reader sees packets as they come). */
  flushOut(): void {
    this.writer.flush();
  }

  private flush(skb: bigint): void {
    const life = this.lives.close(skb);
    if (!life?.steps.length) return;
    const { t0, steps } = life;
    const id = this.nextId++;
    // what every copy says about the packet, made once
    let drop: TraceStep['drop'] = null;
    let finding: TraceStep['finding'] = null;
    const netfilter: StoryNetfilter[] = [];
    for (const st of steps) {
      const x = st.extra as Extra | null;
      if (!x) continue;
      drop ??= x.drop ?? null;
      finding ??= x.finding ?? null;
      if (x.netfilter) netfilter.push(x.netfilter);
    }
    const shared = lifeComments({ pathLine: pathText(steps.map((st) => (st.dev ? st : { ...st, dev: '-' }))), netfilter, drop, finding });
    let written = 0;
    for (const st of steps) {
      if (st.copy < 0) continue;
      this.write(st, t0, shared, id);
      this.lives.releaseCopy(st.copy);
      written++;
    }
    if (written) this.remember(steps, id);
  }

  private write(at: StepOut, t0: bigint, shared: readonly string[], packetId: bigint): void {
    const c = this.lives.copy(at.copy);
    const dev = at.dev || '-';
    const key = `${at.netns}\0${dev}`;
    let iface = this.ifaces.get(key);
    if (iface === undefined) {
      iface = this.writer.interfaceId({ netns: at.netns, dev, linkType: 276, snaplen: this.opts.snaplen + 20, description: `${at.dev || 'no device'} (ifindex ${c.ifindex}) in network namespace ${at.netns}` });
      this.ifaces.set(key, iface);
    }
    const comments = [vantageComment(c.summary, { probe: at.probe, netns: at.netns, dev, dtNs: at.dtNs, event: at.n }), ...shared];
    const dir = DIRS[c.dir];
    this.writer.packet({ iface, tsNs: t0 + BigInt(at.dtNs), head: this.cooked(c.ifindex, dir, c.protocol, c.mac), data: c.bytes, origLen: 20 + c.len, dir, comments, packetId });
  }

  /** The cooked header of a copy: the same few for a whole run, so made once each. */
  private cooked(ifindex: number, dir: Direction | undefined, protocol: number, mac: Uint8Array | null): Buffer {
    const pktType = dir === 'out' ? PKT_OUTGOING : PKT_HOST;
    const key = `${ifindex}/${pktType}/${protocol}`;
    let h = this.headers.get(key);
    if (!h) {
      if (this.headers.size >= 4096) this.headers.clear();
      h = cookedV2Header({ protocol, ifindex, pktType, mac: mac ?? undefined });
      if (!mac) this.headers.set(key, h);
    }
    return h;
  }
}

/** The part of a step that becomes a copy: its bytes, and the packet as one line (made now: the event goes). */
function copyOf(st: TraceStep): CopyIn {
  return { bytes: st.bytes!, len: st.len, protocol: st.protocol, ifindex: st.ifindex, dir: st.dir === 'in' ? 1 : st.dir === 'out' ? 2 : 0, mac: st.mac ?? null, summary: st.summary() };
}
