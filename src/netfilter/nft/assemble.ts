/**
 * Groups `nft monitor trace` records, as they come, into one group per packet. Lines of
 * packets interleave and trace ids are reused by later packets (the id is derived from
 * the skb's address), so a group ends on a drop, on idleness, or when a `packet:` line
 * shows another packet under the same id. Pure: the caller gives the clock.
 */
import { chainKey } from '../model.js';
import type { NftTracePacket, NftTraceRecord } from '../model.js';

export interface AssemblerOptions {
  /** a group with no new line for this long is complete (default 200 ms) */
  idleMs?: number;
  /** at most this many records per group; later ones start a new group (default 4096) */
  maxRecords?: number;
  /** at most this many open groups; the oldest is completed first (default 4096) */
  maxOpen?: number;
}

interface OpenGroup {
  records: NftTraceRecord[];
  first: NftTracePacket | null;
  /** base chains that printed a packet: line in this group */
  entered: Set<string>;
  dropped: boolean;
  lastMs: number;
}

/** Two `packet:` lines of one trace id describe the same packet (NAT may change addresses and ports, not these). */
export function samePacket(a: NftTracePacket, b: NftTracePacket): boolean {
  const differ = <T>(x: T | undefined, y: T | undefined): boolean => x !== undefined && y !== undefined && x !== y;
  return !(
    differ(a.family, b.family) ||
    differ(a.l4proto, b.l4proto) ||
    differ(a.ipId, b.ipId) ||
    differ(a.tcpFlags, b.tcpFlags) ||
    differ(a.icmpType, b.icmpType) ||
    differ(a.icmpSeq, b.icmpSeq) ||
    differ(a.arpOp, b.arpOp)
  );
}

/**
 * Groups records, as they come, into one group per packet. A trace id's group is
 * complete when the packet was dropped, when no line came for `idleMs`, or when a
 * `packet:` line shows another packet under the same id: other header fields, or a base
 * chain the group already entered (the kernel derives the id from the skb's address,
 * which later packets reuse).
 */
export class NftTraceAssembler {
  private readonly open = new Map<string, OpenGroup>();
  private readonly idleMs: number;
  private readonly maxRecords: number;
  private readonly maxOpen: number;

  constructor(
    private readonly onGroup: (records: NftTraceRecord[]) => void,
    opts: AssemblerOptions = {},
  ) {
    this.idleMs = opts.idleMs ?? 200;
    this.maxRecords = opts.maxRecords ?? 4096;
    this.maxOpen = opts.maxOpen ?? 4096;
  }

  /** Groups still open. */
  get pending(): number {
    return this.open.size;
  }

  push(rec: NftTraceRecord, nowMs: number): void {
    let g = this.open.get(rec.traceId);
    if (g) {
      const other =
        g.dropped ||
        nowMs - g.lastMs > this.idleMs ||
        g.records.length >= this.maxRecords ||
        (rec.kind === 'packet' &&
          (g.entered.has(chainKey(rec.family, rec.table, rec.chain)) ||
            (rec.packet !== undefined && g.first !== null && !samePacket(g.first, rec.packet))));
      if (other) {
        this.complete(rec.traceId);
        g = undefined;
      }
    }
    if (!g) {
      if (this.open.size >= this.maxOpen) {
        const oldest = this.open.keys().next().value;
        if (oldest !== undefined) this.complete(oldest);
      }
      g = { records: [], first: null, entered: new Set(), dropped: false, lastMs: nowMs };
      this.open.set(rec.traceId, g);
    }
    g.records.push(rec);
    g.lastMs = nowMs;
    if (rec.packet && g.first === null) g.first = rec.packet;
    if (rec.kind === 'packet') g.entered.add(chainKey(rec.family, rec.table, rec.chain));
    if (rec.verdict === 'drop' && rec.kind !== 'packet') {
      g.dropped = true;
      this.complete(rec.traceId); // a dropped skb has no more events
    }
  }

  /** Complete every group idle for longer than idleMs. Returns how many. */
  flushIdle(nowMs: number): number {
    let n = 0;
    for (const [id, g] of [...this.open]) {
      if (nowMs - g.lastMs > this.idleMs) {
        this.complete(id);
        n++;
      }
    }
    return n;
  }

  /** Complete every open group (at the end of a session). */
  flushAll(): void {
    for (const id of [...this.open.keys()]) this.complete(id);
  }

  private complete(id: string): void {
    const g = this.open.get(id);
    if (!g) return;
    this.open.delete(id);
    if (g.records.length) this.onGroup(g.records);
  }
}
