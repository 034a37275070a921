/**
 * A trace as a pcapng file: the events of one packet (one skb's life) are gathered until
 * the packet is freed, then written as one Enhanced Packet Block per (network namespace,
 * device) it crossed, each with the bytes captured there and the standard comment of the
 * whole life (comment.ts). Bounded: at most `maxLives` packets wait at once (the oldest
 * is written early), and at most `maxSteps` events of one life are kept.
 *
 * Per event the work is numbers: the place (probe, namespace, device) is a small id
 * (places.ts), the waiting lives are typed arrays (lives.ts), a copy's summary comes from
 * a cache (trace-step.ts); names and comment text are made once per packet written.
 */
import { Buffer } from 'node:buffer';
import type { RawEvent } from '../engine/event.js';
import { EV_DROP } from '../engine/event.js';
import { lifeComments, MAX_LINE, PATH_STEPS, pathText, vantageComment } from './comment.js';
import type { StoryNetfilter } from './comment.js';
import { LifeTable } from './lives.js';
import { cookedV2Header, PcapngWriter, PKT_HOST, PKT_OUTGOING } from './pcapng.js';
import { LineBytes, PATH } from './comment-bytes.js';
import type { SectionOptions, TsParts } from './pcapng.js';
import { Places } from './places.js';
import type { Place, PlaceNames } from './places.js';
import { protocolOf, SummaryCache } from './trace-step.js';

/** The names a capture writes: the run's resolver, the same the text and --json output use. */
export interface CaptureNames extends PlaceNames {
  dropReason(value: number): string;
  symbol(addr: bigint): string;
  /** CLOCK_MONOTONIC ns (the events' clock) to ns since the epoch */
  wallClockNs(monoNs: bigint): bigint;
}

export interface TracePcapngOptions {
  readonly section: SectionOptions;
  readonly names: CaptureNames;
  /** the sink copies what it keeps (PcapngOut.write): the writer reuses one buffer */
  readonly lend?: boolean;
  /** false while the output cannot take more (a slow pipe): packets are left out and counted (unwritten) */
  readonly room?: () => boolean;
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
  readonly drop: { readonly reason: string; readonly location: string } | null;
}

/** Bytes of packet copies a run holds at most while their lives wait (the copy pool). */
const COPY_BYTES = 16 << 20;

export class TracePcapng {
  private readonly lives: LifeTable;
  private readonly places: Places;
  private readonly summaries = new SummaryCache();
  private readonly writer: PcapngWriter;
  private nextId = 1;
  /** steps left out because a life was longer than maxSteps */
  truncatedSteps = 0;
  /** lives written before their end because too many were waiting */
  writtenEarly = 0;
  /** packet copies left out because the output had no room (room()) */
  unwritten = 0;
  /** cooked headers by place * 65536 + protocol */
  private readonly headers = new Map<number, Buffer>();
  /** a packet's comment lines as UTF-8 (comment-bytes.ts), reused from one packet to the next */
  private readonly lines = new LineBytes();
  /** place id -> interface id */
  private readonly placeIface: number[] = [];
  /** event number - 1 -> packet id (0: none); grows by doubling up to indexEvents */
  private index = new Uint32Array(0);
  /** events past indexEvents whose packet is not remembered */
  unindexed = 0;

  constructor(
    sink: (chunk: Buffer) => void,
    private readonly opts: TracePcapngOptions,
  ) {
    this.writer = new PcapngWriter(sink, opts.section, opts.lend ?? false);
    // a copy per (namespace, device) a packet crossed: room for four a life, the lives fewer when the snaplen is large
    const maxLives = Math.max(2, Math.min(opts.maxLives ?? 4096, Math.floor(COPY_BYTES / (4 * opts.snaplen))));
    const maxCopies = 4 * maxLives;
    this.lives = new LifeTable({ maxLives, maxSteps: opts.maxSteps ?? 64, maxCopies, snaplen: opts.snaplen });
    this.places = new Places(opts.names);
  }

  get packets(): number {
    return this.writer.packets;
  }

  /** The id of the packet that event `n` belongs to (its epb_packetid), if it was written and indexed. */
  packetOf(n: number): number | undefined {
    const id = n >= 1 && n <= this.index.length ? this.index[n - 1] : 0;
    return id ? id : undefined;
  }

  /** Index the events of a life and the packet that holds them, up to indexEvents. */
  private remember(slot: number, id: number): void {
    const max = this.opts.indexEvents ?? 0;
    for (let i = 0, count = this.lives.steps(slot); i < count; i++) {
      const n = this.lives.stepN(slot, i);
      if (n < 1 || n > max) {
        if (max) this.unindexed++;
        continue;
      }
      if (n > this.index.length) {
        const grown = new Uint32Array(Math.min(max, Math.max(n, this.index.length * 2, 1024)));
        grown.set(this.index);
        this.index = grown;
      }
      this.index[n - 1] = id;
    }
  }

  /** One event of the run, numbered `n` as its line in --json. */
  push(ev: RawEvent, n: number): void {
    const lives = this.lives;
    const skb = ev.skb;
    const id = this.places.id(ev.probe, ev.netns, ev.ifindex, ev.ifname);
    const place = this.places.list[id]!;
    // not every free is traced (a UDP datagram read by its socket is not): a step the life
    // has already passed is a new packet in the reused skb
    let slot = lives.slot(skb);
    if (slot >= 0 && place.dev && lives.passed(slot, id)) {
      this.flush(skb);
      slot = -1;
    }
    if (slot < 0) {
      if (lives.full()) this.flushOldest();
      slot = lives.open(skb, ev.tsNs);
    }
    const wantsCopy = !!ev.bytes && !lives.hasCopyAt(slot, place.where);
    // every copy in the pool is held by a waiting life: the oldest other one is written now
    if (wantsCopy && !lives.canCopy()) this.flushOldest(skb);
    const copy = wantsCopy ? { bytes: ev.bytes!, len: ev.len, protocol: protocolOf(ev), summary: this.summaries.of(ev) } : null;
    const drop = ev.flags & EV_DROP ? { reason: this.opts.names.dropReason(ev.dropReason), location: this.opts.names.symbol(ev.location) } : null;
    const netfilter = ev.nf ? { hook: `${ev.nf.pf}.${ev.nf.table}.${ev.nf.chain}`, verdict: ev.nf.verdict, rule: ev.nf.rule } : null;
    const extra: Extra | null = drop || netfilter ? { netfilter, drop } : null;
    if (!lives.add(slot, n, ev.tsNs, id, place.where, extra, copy)) this.truncatedSteps++;
    if (drop || place.end || skb === 0n) this.flush(skb);
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
    const lives = this.lives;
    const slot = lives.close(skb);
    if (slot < 0) return;
    const count = lives.steps(slot);
    if (count) this.writeLife(slot, count);
    lives.release(slot);
  }

  /** A closed life's copies, each with the comments of the whole life. */
  private writeLife(slot: number, count: number): void {
    const lives = this.lives;
    const id = this.nextId++;
    this.lines.reset();
    const shared = this.lifeLines(slot, count);
    const wall = this.opts.names.wallClockNs(lives.start(slot));
    const start = { hi: Number(wall >> 32n), lo: Number(wall & 0xffffffffn) };
    let written = 0;
    for (let i = 0; i < count; i++) {
      const copy = lives.stepCopy(slot, i);
      if (copy < 0) continue;
      if (this.write(slot, i, copy, start, shared, id)) written++;
      lives.releaseCopy(copy);
    }
    if (written) this.remember(slot, id);
  }

  /** What every copy says about the packet (its path, netfilter steps, drop), made once, as UTF-8 (the writer copies it). */
  private lifeLines(slot: number, count: number): (Buffer | string)[] {
    let drop: Extra['drop'] = null;
    const netfilter: StoryNetfilter[] = [];
    for (let i = 0; i < count; i++) {
      const x = this.lives.stepExtra(slot, i) as Extra | null;
      if (!x) continue;
      drop ??= x.drop;
      if (x.netfilter) netfilter.push(x.netfilter);
    }
    const path = this.pathBytes(slot, count);
    if (!path) return lifeComments({ pathLine: this.pathText(slot, count), netfilter, drop, finding: null });
    // netfilter steps and drops are few: their lines as text
    return netfilter.length || drop ? [path, ...lifeComments({ pathLine: '', netfilter, drop, finding: null })] : [path];
  }

  /** comment.ts pathText of a life, for a path line too long for pathBytes (comment.ts clips it). */
  private pathText(slot: number, count: number): string {
    const list = this.places.list;
    return pathText(
      Array.from({ length: count }, (_, i) => {
        const p = list[this.lives.stepPlace(slot, i)]!;
        return { probe: p.probe, netns: p.netns, dev: p.dev || '-', dtNs: this.lives.stepDt(slot, i) };
      }),
    );
  }

  /** The path line as comment-bytes.ts writes it; null when it is too long (then pathText, clipped). */
  private pathBytes(slot: number, count: number): Buffer | null {
    const list = this.places.list;
    const lines = this.lines;
    const n = Math.min(count, PATH_STEPS);
    if (!lines.fits(MAX_LINE + 64)) return null;
    lines.begin(PATH);
    let where = -1;
    for (let i = 0; i < n && !lines.over; i++) {
      const p = list[this.lives.stepPlace(slot, i)]!;
      lines.step(i, i === 0 || p.where !== where ? p.labelBytes : p.probeBytes, this.lives.stepDt(slot, i));
      where = p.where;
    }
    if (count > n) lines.text(` > ... ${count - n} more`);
    return lines.end();
  }

  /** Writes step i's copy; false when the output has no room for it (counted). */
  private write(slot: number, i: number, copy: number, t0: TsParts, shared: readonly (Buffer | string)[], packetId: number): boolean {
    if (this.opts.room && !this.opts.room()) {
      this.unwritten++;
      return false;
    }
    const c = this.lives.copy(copy);
    const place = this.lives.stepPlace(slot, i);
    const p = this.places.list[place]!;
    const dtNs = this.lives.stepDt(slot, i);
    const n = this.lives.stepN(slot, i);
    const vantage = this.lines.vantage(c.summary, p.seenAt, n) ?? vantageComment(c.summary, { probe: p.probe, netns: p.netns, dev: p.dev || '-', dtNs, event: n });
    // t0 + dt in 32-bit halves
    const lo = t0.lo + dtNs;
    const carry = Math.floor(lo / 4294967296);
    const tsNs = { hi: t0.hi + carry, lo: lo - carry * 4294967296 };
    this.writer.packet({ iface: this.ifaceOf(place, p), tsNs, head: this.cooked(place, p, c.protocol), data: c.bytes, origLen: 20 + c.len, dir: p.dir ?? undefined, comments: [vantage, ...shared], packetId });
    return true;
  }

  /** The interface id of a place's (namespace, device): the writer describes each once, the id is kept per place. */
  private ifaceOf(place: number, p: Place): number {
    let iface = this.placeIface[place];
    if (iface === undefined) {
      const dev = p.dev || '-';
      iface = this.writer.interfaceId({ netns: p.netns, dev, linkType: 276, snaplen: this.opts.snaplen + 20, description: `${p.dev || 'no device'} (ifindex ${p.ifindex}) in network namespace ${p.netns}` });
      this.placeIface[place] = iface;
    }
    return iface;
  }

  /** The cooked header of a copy: the same few for a whole run, so made once each (per place and protocol). */
  private cooked(place: number, p: Place, protocol: number): Buffer {
    const key = place * 65536 + protocol;
    let h = this.headers.get(key);
    if (!h) {
      if (this.headers.size >= 4096) this.headers.clear();
      // no MAC: the cooked header's address is the sender's, and the event has the destination's
      h = cookedV2Header({ protocol, ifindex: p.ifindex, pktType: p.dir === 'out' ? PKT_OUTGOING : PKT_HOST });
      this.headers.set(key, h);
    }
    return h;
  }
}
