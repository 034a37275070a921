/**
 * Hashing for the small direct-mapped caches of the hot paths (decoder, -w capture).
 *
 * mix32 is MurmurHash3's finalizer: every input bit moves every output bit. A cache slot
 * is the low bits of a hash, and a product (Math.imul) keeps a difference in the high
 * bytes of its input out of the low bits: two device names that differ in their 4th
 * byte, "pp1c" and "pp1s", would share a slot and evict each other at every event.
 */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Three 32-bit words into one hash (mix32 applied). */
export function hash3(a: number, b: number, c: number): number {
  return mix32(a ^ mix32(b ^ mix32(c)));
}
