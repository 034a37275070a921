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
  /** each counter at the start (0 for a namespace made since) */
  private readonly base = new Map<string, Counter>();
  /** each counter's latest read, for the total */
  private readonly latest = new Map<string, Counter>();
  /** each counter's value at the last interval that read it */
  private readonly seen = new Map<string, Counter>();
  private readonly startNetns = new Set<number>();

  constructor(private readonly first: Snapshot) {
    for (const c of first.counters) {
      const key = counterKey(c);
      this.base.set(key, c);
      this.latest.set(key, c);
      this.seen.set(key, c);
      this.startNetns.add(c.netns);
    }
  }

  /** A counter's zero, the first time one of a namespace made after the start is read. */
  private zeroOf(c: Counter, key: string): Counter | undefined {
    if (this.startNetns.has(c.netns)) return undefined;
    let z = this.base.get(key);
    if (!z) {
      z = { ...c, value: 0 };
      this.base.set(key, z);
    }
    return z;
  }

  /**
   * The pair to diff for an interval's read made at `next.atMs`, the previous interval
   * having ended at `prevAtMs`: each counter from its value at the last interval that
   * read it. Only the counters that changed are in it (the others cannot have moved; a
   * thousand unchanged counters per namespace cost the diff more than the read).
   */
  interval(next: Snapshot, prevAtMs: number): [Snapshot, Snapshot] {
    const prev: Counter[] = [];
    const changed: Counter[] = [];
    for (const c of next.counters) {
      const key = counterKey(c);
      const b = this.seen.get(key) ?? this.zeroOf(c, key);
      this.seen.set(key, c);
      this.latest.set(key, c);
      if (b && b.value !== c.value) {
        prev.push(b);
        changed.push(c);
      }
    }
    return [{ atMs: prevAtMs, counters: prev }, { atMs: next.atMs, counters: changed }];
  }

  /** A read that is no interval (a scrape): it counts for the total only. */
  observe(next: Snapshot): void {
    for (const c of next.counters) {
      const key = counterKey(c);
      this.zeroOf(c, key);
      this.latest.set(key, c);
    }
  }

  /** The pair to diff for everything since the start, up to `atMs` (changed counters only). */
  total(atMs: number): [Snapshot, Snapshot] {
    const first: Counter[] = [];
    const last: Counter[] = [];
    for (const [key, c] of this.latest) {
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
