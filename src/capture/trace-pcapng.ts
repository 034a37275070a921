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
import { packetComments } from './comment.js';
import type { PacketStory, StoryNetfilter, StoryStep } from './comment.js';
import { cookedV2, PcapngWriter, PKT_HOST, PKT_OUTGOING } from './pcapng.js';
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
  readonly summary: string;
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

  push(step: TraceStep): void {
    let life = this.lives.get(step.skb);
    if (!life) {
      if (this.lives.size >= this.maxLives) this.flushOldest();
      life = [];
      this.lives.set(step.skb, life);
    }
    if (life.length < this.maxSteps) life.push(step);
    else this.truncatedSteps++;
    if (step.last || step.skb === 0n) this.flush(step.skb);
  }

  private flushOldest(): void {
    const first = this.lives.keys().next();
    if (first.done) return;
    this.writtenEarly++;
    this.flush(first.value);
  }

  /** Writes every packet still waiting (end of the run). */
  finish(): void {
    for (const skb of [...this.lives.keys()]) this.flush(skb);
  }

  private flush(skb: bigint): void {
    const life = this.lives.get(skb);
    this.lives.delete(skb);
    if (!life?.length) return;
    const id = this.nextId++;
    for (const copy of copies(life)) this.write(copy, life, id);
  }

  private write(at: TraceStep, life: readonly TraceStep[], packetId: bigint): void {
    const t0 = life[0]!.tsNs;
    const step = (s: TraceStep): StoryStep => ({ probe: s.probe, netns: s.netns, dev: s.dev || '-', dtNs: Number(s.tsNs - t0) });
    const story: PacketStory = {
      summary: at.summary,
      at: { ...step(at), event: at.n },
      path: life.map(step),
      netfilter: life.flatMap((s) => (s.netfilter ? [s.netfilter] : [])),
      drop: life.find((s) => s.drop)?.drop ?? null,
      finding: life.find((s) => s.finding)?.finding ?? null,
    };
    const iface = this.writer.interfaceId({ netns: at.netns, dev: at.dev || '-', linkType: 276, snaplen: this.opts.snaplen + 20, description: `${at.dev || 'no device'} (ifindex ${at.ifindex}) in network namespace ${at.netns}` });
    const data = cookedV2(at.bytes!, { protocol: at.protocol, ifindex: at.ifindex, pktType: at.dir === 'out' ? PKT_OUTGOING : PKT_HOST, mac: at.mac ?? undefined });
    this.writer.packet({ iface, tsNs: at.tsNs, data, origLen: 20 + at.len, dir: at.dir ?? undefined, comments: packetComments(story), packetId });
  }
}

/** The step whose bytes stand for each (netns, device) the packet crossed, in order. */
export function copies(life: readonly TraceStep[]): TraceStep[] {
  const seen = new Map<string, TraceStep>();
  for (const s of life) {
    if (!s.bytes) continue;
    const key = `${s.netns}\0${s.dev}`;
    if (!seen.has(key)) seen.set(key, s);
  }
  return [...seen.values()];
}
