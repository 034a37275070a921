/**
 * The live flows, bounded: when the table is full, the flow that has gone longest
 * without a packet (CLOCK: a flow touched since the hand last passed gets a second
 * chance) is finished early and handed to `evict`, so memory stays fixed however many
 * flows a capture holds. A flow that comes back after eviction starts a new entry.
 */
import type { Flow } from './flow.js';

/** Flows looked at per eviction before the oldest is taken regardless. */
const SECOND_CHANCES = 64;

export class FlowTable {
  private readonly flows = new Map<string, Flow>();
  evicted = 0;

  constructor(
    readonly max: number,
    private readonly evict: (f: Flow) => void,
  ) {}

  get size(): number {
    return this.flows.size;
  }

  get(key: string): Flow | undefined {
    return this.flows.get(key);
  }

  add(f: Flow): void {
    if (this.flows.size >= this.max) this.evictOne();
    this.flows.set(f.key, f);
  }

  private evictOne(): void {
    let chances = SECOND_CHANCES;
    for (const [key, f] of this.flows) {
      if (f.touched && chances-- > 0) {
        // move to the back: it had a packet since the hand last came by
        f.touched = false;
        this.flows.delete(key);
        this.flows.set(key, f);
        continue;
      }
      this.flows.delete(key);
      this.evicted++;
      this.evict(f);
      return;
    }
  }

  /** Every live flow, oldest first; the table is empty afterwards. */
  drain(): Flow[] {
    const all = [...this.flows.values()];
    this.flows.clear();
    return all;
  }
}
