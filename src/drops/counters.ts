/**
 * The counters beside the drops, kept between reads that do not cover the same
 * namespaces each time: every namespace is read once at the start, then each interval
 * only this namespace and those with drops (src/drops/io/session.ts). A counter's change
 * is from its last known value: the start's read, or 0 for a namespace made after the
 * start (its counters began at 0). Pure.
 */
import { counterKey } from '../stats/snapshot.js';
import type { Counter, Snapshot } from '../stats/snapshot.js';

export class CounterBook {
  private readonly base = new Map<string, Counter>();
  private readonly last = new Map<string, Counter>();
  private readonly startNetns = new Set<number>();

  constructor(private readonly first: Snapshot) {
    for (const c of first.counters) {
      this.base.set(counterKey(c), c);
      this.last.set(counterKey(c), c);
      this.startNetns.add(c.netns);
    }
  }

  /**
   * The pair to diff for a read made at `next.atMs` after the previous interval ended at
   * `prevAtMs`, holding only the counters that changed (the others cannot have moved;
   * a thousand unchanged counters per namespace cost the diff more than the read).
   */
  interval(next: Snapshot, prevAtMs: number): [Snapshot, Snapshot] {
    const prev: Counter[] = [];
    const changed: Counter[] = [];
    for (const c of next.counters) {
      const key = counterKey(c);
      let b = this.last.get(key);
      if (!b && !this.startNetns.has(c.netns)) {
        b = { ...c, value: 0 }; // a namespace made after the start: its counters began at 0
        this.base.set(key, b);
      }
      this.last.set(key, c);
      if (b && b.value !== c.value) {
        prev.push(b);
        changed.push(c);
      }
    }
    return [{ atMs: prevAtMs, counters: prev }, { atMs: next.atMs, counters: changed }];
  }

  /** The pair to diff for everything since the start, up to `atMs` (changed counters only). */
  total(atMs: number): [Snapshot, Snapshot] {
    const first: Counter[] = [];
    const last: Counter[] = [];
    for (const [key, c] of this.last) {
      const b = this.base.get(key);
      if (b && b.value !== c.value) {
        first.push(b);
        last.push(c);
      }
    }
    return [
      { atMs: this.first.atMs, counters: first },
      { atMs, counters: last },
    ];
  }
}
