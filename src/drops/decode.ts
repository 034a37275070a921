/**
 * The kernel's drop table and samples as plain data (layouts: ./layout.ts, bpf/drops.h).
 * Pure: the bytes come in from src/drops/io/read.ts.
 */
import type { RawTuple } from '../engine/event.js';
import { decodeTuple } from '../engine/decode.js';
import { DROP_KEY, DROP_SAMPLE, DROP_VAL } from './layout.js';

/** One key of the kernel's table. */
export interface DropKey {
  readonly location: bigint;
  readonly reason: number;
  readonly netns: number;
  readonly ifindex: number;
  readonly l3proto: number;
  readonly l4proto: number;
  /** id in the stacks map (--stack), negative when none */
  readonly stackId: number;
}

/** A key and its counts summed over the CPUs, since the table was loaded. */
export interface DropEntry {
  readonly key: DropKey;
  readonly count: number;
  readonly bytes: number;
}

/** An example packet of a key, from the side channel. */
export interface DropSample {
  readonly key: DropKey;
  readonly tuple: RawTuple | null;
  readonly len: number;
  readonly ifname: string;
}

export function decodeKey(view: DataView, off: number): DropKey {
  return {
    location: view.getBigUint64(off + DROP_KEY.location, true),
    reason: view.getUint32(off + DROP_KEY.reason, true),
    netns: view.getUint32(off + DROP_KEY.netns, true),
    ifindex: view.getUint32(off + DROP_KEY.ifindex, true),
    l3proto: view.getUint16(off + DROP_KEY.l3proto, true),
    l4proto: view.getUint8(off + DROP_KEY.l4proto),
    stackId: view.getInt32(off + DROP_KEY.stack_id, true),
  };
}

/** Per-CPU value slots are the value rounded up to 8 bytes. */
export const PERCPU_SLOT = Math.ceil(DROP_VAL.size / 8) * 8;

/**
 * The entries of a whole-table read: `keys` holds `count` keys back to back, `values`
 * for each of them `cpus` per-CPU values, which are summed.
 */
export function decodeEntries(keys: ArrayBuffer, values: ArrayBuffer, count: number, cpus: number): DropEntry[] {
  const kv = new DataView(keys);
  const vv = new DataView(values);
  const stride = PERCPU_SLOT * cpus;
  const out: DropEntry[] = [];
  for (let i = 0; i < count; i++) {
    let n = 0;
    let bytes = 0;
    for (let c = 0; c < cpus; c++) {
      const at = i * stride + c * PERCPU_SLOT;
      n += Number(vv.getBigUint64(at + DROP_VAL.count, true));
      bytes += Number(vv.getBigUint64(at + DROP_VAL.bytes, true));
    }
    out.push({ key: decodeKey(kv, i * DROP_KEY.size), count: n, bytes });
  }
  return out;
}

const latin1 = new TextDecoder('latin1');

function cString(bytes: Uint8Array, off: number, max: number): string {
  let end = off;
  while (end < off + max && bytes[end] !== 0) end++;
  return latin1.decode(bytes.subarray(off, end));
}

/** One sample record as the ring buffer holds it; null when it is too short (a foreign record). */
export function decodeSample(view: DataView, bytes: Uint8Array, off: number, len: number): DropSample | null {
  if (len < DROP_SAMPLE.size) return null;
  const has = bytes[off + DROP_SAMPLE.has_tuple] !== 0;
  return {
    key: decodeKey(view, off + DROP_SAMPLE.key),
    tuple: has ? decodeTuple(view, bytes, off + DROP_SAMPLE.tuple) : null,
    len: view.getUint32(off + DROP_SAMPLE.len, true),
    ifname: cString(bytes, off + DROP_SAMPLE.ifname, 16),
  };
}

/** Per-CPU u64 counters summed (the drop_stats array, one index). */
export function sumPerCpu(value: ArrayBuffer): number {
  const v = new DataView(value);
  let n = 0;
  for (let at = 0; at + 8 <= v.byteLength; at += 8) n += Number(v.getBigUint64(at, true));
  return n;
}
