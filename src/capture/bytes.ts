/**
 * Unchecked integer reads for the per-packet paths: Buffer's readUInt*() validate their
 * offset on every call (about 5% of the analysis); callers here have checked lengths.
 */

export function u16be(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u32be(b: Uint8Array, o: number): number {
  return b[o]! * 16777216 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

export function u32le(b: Uint8Array, o: number): number {
  return b[o + 3]! * 16777216 + ((b[o + 2]! << 16) | (b[o + 1]! << 8) | b[o]!);
}
