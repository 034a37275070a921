/**
 * Writes the run configuration into the BPF object's .rodata image by field name,
 * using the object's own BTF for offsets and sizes: `struct pp_config` is defined
 * once, in bpf/event.h, and never mirrored by hand here.
 */
import type { Btf } from '../kernel/btf.js';

/** Field values by `struct pp_config` member name: numbers for integers, bytes for arrays. */
export type ConfigFields = Record<string, number | Uint8Array>;

/**
 * Returns a copy of `rodata` with the `varName` variable (a struct) filled from `fields`.
 * `varOffset` is the variable's offset in .rodata: clang leaves DATASEC offsets at 0 in
 * a .o (libbpf fixes them up from .symtab at load), so the caller passes the symbol's
 * value. Unknown field names and values that do not fit are programming errors and throw.
 */
export function encodeConfig(btf: Btf, rodata: Uint8Array, varName: string, fields: object, varOffset?: number): Uint8Array {
  const found = btf.datasecVars('.rodata')?.find((x) => x.name === varName);
  if (!found) throw new Error(`BPF object has no .rodata variable ${varName}`);
  const v = { ...found, offset: varOffset ?? found.offset };
  const layout = btf.structLayout(v.typeId);
  if (!layout) throw new Error(`${varName} is not a struct`);
  if (v.offset + layout.size > rodata.length) throw new Error(`${varName} does not fit in .rodata`);
  const out = rodata.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const [name, value] of Object.entries(fields) as [string, unknown][]) {
    const m = layout.members.find((x) => x.name === name);
    if (!m) throw new Error(`struct for ${varName} has no member ${name}`);
    const at = v.offset + m.offset;
    if (value instanceof Uint8Array) {
      if (value.length > m.size) throw new Error(`${name}: ${value.length} bytes do not fit in ${m.size}`);
      out.fill(0, at, at + m.size);
      out.set(value, at);
      continue;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= 2 ** (8 * Math.min(m.size, 4))) {
      throw new Error(`${name}: ${value} does not fit in ${m.size} bytes`);
    }
    if (m.size === 1) view.setUint8(at, value);
    else if (m.size === 2) view.setUint16(at, value, true);
    else if (m.size === 4) view.setUint32(at, value, true);
    else if (m.size === 8) view.setBigUint64(at, BigInt(value), true);
    else throw new Error(`${name}: unsupported member size ${m.size}`);
  }
  return out;
}
