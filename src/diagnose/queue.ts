/**
 * A bounded FIFO of small integers (flow ids in the order their state was made): the
 * engine lets go of the oldest flow without asking a Map for its first key, which walks
 * past every entry deleted since the Map last compacted (up to thousands, once per flow).
 */
export class IdQueue {
  private readonly ring: Int32Array;
  private head = 0;
  private count = 0;

  constructor(capacity: number) {
    this.ring = new Int32Array(Math.max(1, capacity));
  }

  get size(): number {
    return this.count;
  }

  /** Adds `id` at the back; false when full (nothing added). */
  push(id: number): boolean {
    if (this.count === this.ring.length) return false;
    this.ring[(this.head + this.count++) % this.ring.length] = id;
    return true;
  }

  /** Takes the front id, or undefined when empty. */
  shift(): number | undefined {
    if (this.count === 0) return undefined;
    const id = this.ring[this.head]!;
    this.head = (this.head + 1) % this.ring.length;
    this.count--;
    return id;
  }
}
