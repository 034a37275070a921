/**
 * Drop-table fixtures for the unit tests of src/drops: keys, per-CPU values and samples
 * laid out as the kernel writes them (bpf/drops.h, through src/drops/layout.ts).
 */
import { DROP_KEY, DROP_SAMPLE, DROP_VAL } from '../../src/drops/layout.js';
import { PERCPU_SLOT } from '../../src/drops/decode.js';
import type { DropKey } from '../../src/drops/decode.js';
import type { Namer } from '../../src/drops/rows.js';
import { TUPLE } from '../../src/engine/layout.js';

export function key(over: Partial<DropKey> = {}): DropKey {
  return { location: 0xffffffff81000010n, reason: 2, netns: 4026532000, ifindex: 3, l3proto: 0x0800, l4proto: 17, stackId: -1, ...over };
}

function putKey(v: DataView, at: number, k: DropKey): void {
  v.setBigUint64(at + DROP_KEY.location, k.location, true);
  v.setUint32(at + DROP_KEY.reason, k.reason, true);
  v.setUint32(at + DROP_KEY.netns, k.netns, true);
  v.setUint32(at + DROP_KEY.ifindex, k.ifindex, true);
  v.setUint16(at + DROP_KEY.l3proto, k.l3proto, true);
  v.setUint8(at + DROP_KEY.l4proto, k.l4proto);
  v.setInt32(at + DROP_KEY.stack_id, k.stackId, true);
}

/** A whole-table read: keys back to back, then each key's [count, bytes] per CPU. */
export function tableBytes(rows: { key: DropKey; perCpu: [number, number][] }[], cpus: number): { keys: ArrayBuffer; values: ArrayBuffer } {
  const keys = new DataView(new ArrayBuffer(rows.length * DROP_KEY.size));
  const values = new DataView(new ArrayBuffer(rows.length * PERCPU_SLOT * cpus));
  rows.forEach((r, i) => {
    putKey(keys, i * DROP_KEY.size, r.key);
    r.perCpu.forEach(([count, bytes], c) => {
      const at = (i * cpus + c) * PERCPU_SLOT;
      values.setBigUint64(at + DROP_VAL.count, BigInt(count), true);
      values.setBigUint64(at + DROP_VAL.bytes, BigInt(bytes), true);
    });
  });
  return { keys: keys.buffer, values: values.buffer };
}

/** One sample record: a UDP/IPv4 packet from 10.0.0.1:sport to 10.0.0.2:dport. */
export function sampleBytes(k: DropKey, sport: number, dport: number, ifname = 'veth0'): Uint8Array {
  const b = new Uint8Array(DROP_SAMPLE.size);
  const v = new DataView(b.buffer);
  putKey(v, DROP_SAMPLE.key, k);
  const t = DROP_SAMPLE.tuple;
  b.set([10, 0, 0, 1], t + TUPLE.saddr);
  b.set([10, 0, 0, 2], t + TUPLE.daddr);
  v.setUint16(t + TUPLE.sport, sport, true);
  v.setUint16(t + TUPLE.dport, dport, true);
  v.setUint16(t + TUPLE.l3proto, 0x0800, true);
  v.setUint8(t + TUPLE.l4proto, 17);
  v.setUint32(DROP_SAMPLE.len, 29, true);
  v.setUint8(DROP_SAMPLE.has_tuple, 1);
  b.set(new TextEncoder().encode(ifname), DROP_SAMPLE.ifname);
  return b;
}

/** Names for the fixtures: reason 2 NO_SOCKET, 6 NETFILTER_DROP, 1 NOT_SPECIFIED (hidden); functions by address range. */
export const fakeNamer: Namer = {
  reason: (v) => ({ 1: 'NOT_SPECIFIED', 2: 'NO_SOCKET', 6: 'NETFILTER_DROP' })[v] ?? String(v),
  location: (a) => (a < 0xffffffff81000100n ? '__udp4_lib_rcv' : 'nf_hook_slow'),
  netns: (ino) => (ino === 4026532000 ? 'blue' : String(ino)),
  device: (ns, ifindex) => (ns === 4026532000 && ifindex === 3 ? 'veth0' : undefined),
  stack: (id) => (id === 7 ? ['nf_hook_slow+0x4f', 'ip_local_deliver+0x3a'] : undefined),
};
