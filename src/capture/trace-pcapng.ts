/**
 * A trace as a pcapng file: the events of one packet (one skb's life) are gathered until
 * the packet is freed, then written as one Enhanced Packet Block per (network namespace,
 * device) it crossed, each with the bytes captured there and the standard comment of the
 * whole life (comment.ts). Bounded: at most `maxLives` packets wait at once (the oldest
 * is written early), and at most `maxSteps` events of one life are kept.
 *
 * The events are plain data (TraceStep), so the run's event decoder maps to them and
 * this stays pure.
 */
import { lifeComments, pathText, vantageComment } from './comment.js';
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

export class TracePcapng {
  private readonly lives = new Map<bigint, TraceStep[]>();
  private readonly writer: PcapngWriter;
  private readonly maxLives: number;
  private readonly maxSteps: number;
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
    this.maxLives = opts.maxLives ?? 4096;
    this.maxSteps = opts.maxSteps ?? 64;
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
  private remember(life: readonly TraceStep[], id: bigint): void {
    const max = this.opts.indexEvents ?? 0;
    for (const st of life) {
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
    let life = this.lives.get(step.skb);
    // not every free is traced (a UDP datagram read by its socket is not): a step the life
    // has already passed is a new packet in the reused skb
    if (life && step.dev && repeats(life, step)) {
      this.flush(step.skb);
      life = undefined;
    }
    if (!life) {
      if (this.lives.size >= this.maxLives) this.flushOldest();
      life = [];
      this.lives.set(step.skb, life);
    }
    if (life.length < this.maxSteps) life.push(kept(life, step));
    else this.truncatedSteps++;
    if (step.last || step.skb === 0n) this.flush(step.skb);
  }

  private flushOldest(): void {
    const first = this.lives.keys().next();
    if (first.done) return;
    this.writtenEarly++;
    this.flush(first.value);
  }

  /** Writes every packet still waiting (end of the run), and hands everything to the sink. */
  finish(): void {
    for (const skb of [...this.lives.keys()]) this.flush(skb);
    this.writer.flush();
  }

  /** Hands what was written so far to the sink (after each read of the ring: a pipe reader sees packets as they come). */
  flushOut(): void {
    this.writer.flush();
  }

  private flush(skb: bigint): void {
    const life = this.lives.get(skb);
    this.lives.delete(skb);
    if (!life?.length) return;
    const id = this.nextId++;
    const t0 = life[0]!.tsNs;
    // what every copy says about the packet, made once
    let drop: TraceStep['drop'] = null;
    let finding: TraceStep['finding'] = null;
    const netfilter: StoryNetfilter[] = [];
    for (const st of life) {
      drop ??= st.drop ?? null;
      finding ??= st.finding ?? null;
      if (st.netfilter) netfilter.push(st.netfilter);
    }
    const shared = lifeComments({ pathLine: pathOf(life, t0), netfilter, drop, finding });
    const written = copies(life);
    for (const copy of written) this.write(copy, Number(copy.tsNs - t0), shared, id);
    if (written.length) this.remember(life, id);
  }

  private write(at: TraceStep, dtNs: number, shared: readonly string[], packetId: bigint): void {
    const dev = at.dev || '-';
    const key = `${at.netns}\0${dev}`;
    let iface = this.ifaces.get(key);
    if (iface === undefined) {
      iface = this.writer.interfaceId({ netns: at.netns, dev, linkType: 276, snaplen: this.opts.snaplen + 20, description: `${at.dev || 'no device'} (ifindex ${at.ifindex}) in network namespace ${at.netns}` });
      this.ifaces.set(key, iface);
    }
    const comments = [vantageComment(at.summary(), { probe: at.probe, netns: at.netns, dev, dtNs, event: at.n }), ...shared];
    this.writer.packet({ iface, tsNs: at.tsNs, head: this.cooked(at), data: at.bytes!, origLen: 20 + at.len, dir: at.dir ?? undefined, comments, packetId });
  }

  /** The cooked header of a copy: the same few for a whole run, so made once each. */
  private cooked(at: TraceStep): Buffer {
    const pktType = at.dir === 'out' ? PKT_OUTGOING : PKT_HOST;
    const key = `${at.ifindex}/${pktType}/${at.protocol}`;
    let h = this.headers.get(key);
    if (!h) {
      if (this.headers.size >= 4096) this.headers.clear();
      h = cookedV2Header({ protocol: at.protocol, ifindex: at.ifindex, pktType, mac: at.mac ?? undefined });
      if (!at.mac) this.headers.set(key, h);
    }
    return h;
  }
}

/** The packet's steps as the path comment's text. */
function pathOf(life: readonly TraceStep[], t0: bigint): string {
  return pathText(life.map((st) => ({ probe: st.probe, netns: st.netns, dev: st.dev || '-', dtNs: Number(st.tsNs - t0) })));
}

const NO_SUMMARY = (): string => '';

/**
 * What a life keeps of a step until it is written: only the first bytes at a (namespace,
 * device) become a copy, and the rest of the step is plain values, not the decoded event
 * (its addresses, MAC and bytes: buffers of their own) that `summary` would hold on to.
 */
function kept(life: readonly TraceStep[], st: TraceStep): TraceStep {
  const copy = st.bytes !== null && !hasCopyAt(life, st);
  const text = copy ? st.summary() : '';
  return {
    n: st.n,
    tsNs: st.tsNs,
    skb: st.skb,
    probe: st.probe,
    netns: st.netns,
    dev: st.dev,
    ifindex: st.ifindex,
    dir: st.dir,
    bytes: copy ? st.bytes : null,
    len: st.len,
    protocol: st.protocol,
    mac: st.mac ?? null,
    summary: copy ? () => text : NO_SUMMARY,
    netfilter: st.netfilter ?? null,
    drop: st.drop ?? null,
    finding: st.finding ?? null,
    last: st.last,
  };
}

/** Whether the life has passed `at`'s probe at its namespace and device already. */
function repeats(life: readonly TraceStep[], at: TraceStep): boolean {
  for (const s of life) if (s.probe === at.probe && s.dev === at.dev && s.netns === at.netns) return true;
  return false;
}

/** Whether a step of the life already holds the packet's bytes at `at`'s namespace and device. */
function hasCopyAt(life: readonly TraceStep[], at: TraceStep): boolean {
  for (const s of life) if (s.bytes && s.netns === at.netns && s.dev === at.dev) return true;
  return false;
}

/** The step whose bytes stand for each (netns, device) the packet crossed, in order (few: a linear scan). */
export function copies(life: readonly TraceStep[]): TraceStep[] {
  const out: TraceStep[] = [];
  for (const s of life) {
    if (s.bytes && !out.some((o) => o.netns === s.netns && o.dev === s.dev)) out.push(s);
  }
  return out;
}
