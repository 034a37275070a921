/**
 * The drop table as the user sees it: the kernel's keys (reason, location address,
 * namespace, device, protocol, stack) folded into rows (reason, location function,
 * namespace, device, protocol), each with its total since the start, its change since
 * the last report, a sample flow or two, its top stacks and the reason's meaning. Pure:
 * names come through a Namer, counts through update().
 */
import { pktInfo } from '../output/tuple.js';
import type { DropEntry, DropKey, DropSample } from './decode.js';
import { isHidden } from './hidden.js';
import { reasonMeaning } from './meaning.js';
import { protoLabel } from './proto.js';

/** Names for the numbers in a key (src/drops/io/names.ts builds the real one). */
export interface Namer {
  /** drop reason without SKB_DROP_REASON_ */
  reason(value: number): string;
  /** the function holding a kernel address ("nf_hook_slow", "nft_do_chain [nf_tables]") */
  location(addr: bigint): string;
  /** a namespace's name under /run/netns, "host", "pid N", or its inode */
  netns(inode: number): string;
  /** a device's name in a namespace, undefined when unknown */
  device(netns: number, ifindex: number): string | undefined;
  /** a stack's frames, innermost first; undefined when it is gone */
  stack(id: number): readonly string[] | undefined;
}

export interface StackCount {
  readonly count: number;
  /** innermost first; empty when the kernel could not record the stack */
  readonly frames: readonly string[];
}

export interface DropRow {
  readonly id: string;
  readonly reason: string;
  readonly location: string;
  readonly netns: number;
  readonly netnsLabel: string;
  readonly ifindex: number;
  readonly device: string;
  readonly proto: string;
  /** since the start */
  readonly total: number;
  readonly bytes: number;
  /** since the previous report */
  readonly delta: number;
  readonly rate: number;
  readonly samples: readonly string[];
  readonly stacks: readonly StackCount[];
  readonly hidden: boolean;
  readonly meaning: string;
}

interface RowState {
  readonly id: string;
  readonly reason: string;
  readonly location: string;
  readonly key: DropKey;
  total: number;
  bytes: number;
  reported: number;
  stacks: Map<number, number>;
  samples: string[];
  sampleIfname: string;
}

const SAMPLES_PER_ROW = 2;
const STACKS_PER_ROW = 3;
/** frames kept (and compared) per stack */
export const STACK_FRAMES = 8;

/** The key without its stack: which row it adds to. */
function rawId(k: DropKey): string {
  return `${k.reason}|${k.location}|${k.netns}|${k.ifindex}|${k.l3proto}|${k.l4proto}`;
}

export interface TableOptions {
  /** --all: show NOT_SPECIFIED and the benign frees */
  readonly all: boolean;
  /** the kernel gives drop reasons (5.17+) */
  readonly reasonsKnown: boolean;
}

export class DropTable {
  private readonly rows = new Map<string, RowState>();
  /** raw key -> row id: each location address is named once */
  private readonly rowOf = new Map<string, string>();
  /** the kernel's keys (with their stack) as last read */
  private readonly keys = new Map<string, { row: RowState; count: number; bytes: number }>();

  constructor(
    private readonly namer: Namer,
    private readonly opts: TableOptions,
  ) {}

  private rowFor(k: DropKey): RowState {
    const raw = rawId(k);
    let id = this.rowOf.get(raw);
    if (id === undefined) {
      const reason = this.namer.reason(k.reason);
      const location = k.location ? this.namer.location(k.location) : '?';
      id = `${reason}|${location}|${k.netns}|${k.ifindex}|${k.l3proto}|${k.l4proto}`;
      this.rowOf.set(raw, id);
      if (!this.rows.has(id)) {
        this.rows.set(id, { id, reason, location, key: k, total: 0, bytes: 0, reported: 0, stacks: new Map(), samples: [], sampleIfname: '' });
      }
    }
    return this.rows.get(id)!;
  }

  /**
   * The kernel's whole table, as read now (counts since each key went in). Each key adds
   * its change since the previous read to its row. A key that is gone (the table is an
   * LRU: a full table evicts its least recently used key) leaves what it had counted in
   * its row; one whose count went down was evicted and came back, and counts from 0.
   */
  update(entries: readonly DropEntry[]): void {
    const live = new Set<string>();
    for (const e of entries) {
      const id = `${rawId(e.key)}|${e.key.stackId}`;
      live.add(id);
      let k = this.keys.get(id);
      if (!k) {
        k = { row: this.rowFor(e.key), count: 0, bytes: 0 };
        this.keys.set(id, k);
      }
      const dc = e.count >= k.count ? e.count - k.count : e.count;
      k.row.total += dc;
      k.row.bytes += e.bytes >= k.bytes ? e.bytes - k.bytes : e.bytes;
      if (e.key.stackId !== -1 && dc) k.row.stacks.set(e.key.stackId, (k.row.stacks.get(e.key.stackId) ?? 0) + dc);
      k.count = e.count;
      k.bytes = e.bytes;
    }
    for (const id of this.keys.keys()) if (!live.has(id)) this.keys.delete(id);
  }

  /** The namespaces (inodes) that have had drops. */
  netnsWithDrops(): number[] {
    const out = new Set<number>();
    for (const r of this.rows.values()) if (r.total > 0 && r.key.netns) out.add(r.key.netns);
    return [...out];
  }

  /** Samples from the side channel: each row keeps its latest distinct flows. */
  addSamples(samples: readonly DropSample[]): void {
    for (const s of samples) {
      const r = this.rowFor(s.key);
      if (s.ifname) r.sampleIfname = s.ifname;
      if (!s.tuple) continue;
      const flow = pktInfo(s.tuple);
      const at = r.samples.indexOf(flow);
      if (at >= 0) r.samples.splice(at, 1);
      r.samples.unshift(flow);
      if (r.samples.length > SAMPLES_PER_ROW) r.samples.length = SAMPLES_PER_ROW;
    }
  }

  /**
   * Every row with drops. An 'interval' gives each row's change since the previous
   * interval (and starts the next one); a 'total' gives the totals as the change.
   */
  snapshot(seconds: number, mode: 'interval' | 'total'): DropRow[] {
    const out: DropRow[] = [];
    for (const r of this.rows.values()) {
      if (r.total === 0) continue;
      const delta = mode === 'total' ? r.total : r.total - r.reported;
      if (mode === 'interval') r.reported = r.total;
      out.push(this.view(r, delta, seconds));
    }
    return out.sort((a, b) => b.delta - a.delta || b.total - a.total || a.id.localeCompare(b.id));
  }

  private view(r: RowState, delta: number, seconds: number): DropRow {
    const k = r.key;
    return {
      id: r.id,
      reason: r.reason,
      location: r.location,
      netns: k.netns,
      netnsLabel: k.netns ? this.namer.netns(k.netns) : '?',
      ifindex: k.ifindex,
      device: k.ifindex ? (this.namer.device(k.netns, k.ifindex) ?? (r.sampleIfname || `if${k.ifindex}`)) : '-',
      proto: protoLabel(k.l3proto, k.l4proto),
      total: r.total,
      bytes: r.bytes,
      delta,
      rate: seconds > 0 ? delta / seconds : 0,
      samples: [...r.samples],
      stacks: this.topStacks(r),
      hidden: isHidden(r.reason, this.opts.all, this.opts.reasonsKnown),
      meaning: reasonMeaning(r.reason),
    };
  }

  /** Stacks told apart by their innermost STACK_FRAMES frames (deeper, they differ by how softirq was entered). */
  private topStacks(r: RowState): StackCount[] {
    const byFrames = new Map<string, StackCount>();
    for (const [id, count] of r.stacks) {
      const frames = id >= 0 ? (this.namer.stack(id) ?? []).slice(0, STACK_FRAMES) : [];
      const k = frames.join('<');
      byFrames.set(k, { count: (byFrames.get(k)?.count ?? 0) + count, frames });
    }
    return [...byFrames.values()].sort((a, b) => b.count - a.count).slice(0, STACKS_PER_ROW);
  }
}
