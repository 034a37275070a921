/**
 * A tiny BTF encoder for tests: just enough to build fixtures (every kind, split BTF).
 * Shared by src/kernel/btf.test.ts and src/functions/funcs.test.ts.
 */

export const KIND = {
  int: 1, ptr: 2, array: 3, struct: 4, union: 5, enum: 6, fwd: 7, typedef: 8, volatile: 9, const: 10,
  restrict: 11, func: 12, func_proto: 13, var: 14, datasec: 15, float: 16, decl_tag: 17, type_tag: 18, enum64: 19,
} as const;

/** A string to add, or an existing string offset (e.g. in the base). */
export type Name = string | number;

/** Appends types in id order; {@link BtfWriter.build} returns the little-endian BTF blob. */
export class BtfWriter {
  private readonly strBytes: number[] = [0];
  private readonly strOffsets = new Map<string, number>();
  private readonly words: number[] = [];
  private nextId: number;

  /** For split BTF pass the base's endId and strEnd. */
  constructor(
    startId = 1,
    private readonly startStrOff = 0,
  ) {
    this.nextId = startId;
  }

  str(s: Name): number {
    if (typeof s === 'number') return s;
    if (s === '') return 0;
    const known = this.strOffsets.get(s);
    if (known !== undefined) return known;
    const off = this.startStrOff + this.strBytes.length;
    this.strBytes.push(...new TextEncoder().encode(s), 0);
    this.strOffsets.set(s, off);
    return off;
  }

  raw(kind: number, name: Name, vlen: number, kflag: boolean, sizeOrType: number, extra: readonly number[] = []): number {
    this.words.push(this.str(name), ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen, sizeOrType, ...extra);
    return this.nextId++;
  }

  int(name: string, size: number, bits: number, enc = 0, bitOff = 0): number {
    return this.raw(KIND.int, name, 0, false, size, [(enc << 24) | (bitOff << 16) | bits]);
  }
  ref(kind: 'ptr' | 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag', type: number, name: Name = ''): number {
    return this.raw(KIND[kind], name, 0, false, type);
  }
  array(elem: number, index: number, nelems: number): number {
    return this.raw(KIND.array, '', 0, false, 0, [elem, index, nelems]);
  }
  composite(kind: 'struct' | 'union', name: Name, size: number, members: [Name, number, number, number?][], kflag = false): number {
    const extra = members.flatMap(([n, t, off, bits]) => [this.str(n), t, kflag ? ((bits ?? 0) << 24) | off : off]);
    return this.raw(KIND[kind], name, members.length, kflag, size, extra);
  }
  enum(name: Name, size: number, values: [string, number][], signed = false): number {
    return this.raw(KIND.enum, name, values.length, signed, size, values.flatMap(([n, v]) => [this.str(n), v >>> 0]));
  }
  enum64(name: Name, size: number, values: [string, bigint][], signed = false): number {
    const extra = values.flatMap(([n, v]) => {
      const u = BigInt.asUintN(64, v);
      return [this.str(n), Number(u & 0xffffffffn), Number(u >> 32n)];
    });
    return this.raw(KIND.enum64, name, values.length, signed, size, extra);
  }
  fwd(name: Name, union = false): number {
    return this.raw(KIND.fwd, name, 0, union, 0);
  }
  proto(ret: number, params: [Name, number][]): number {
    return this.raw(KIND.func_proto, '', params.length, false, ret, params.flatMap(([n, t]) => [this.str(n), t]));
  }
  func(name: Name, proto: number, linkage = 1): number {
    return this.raw(KIND.func, name, linkage, false, proto);
  }
  var(name: Name, type: number, linkage = 1): number {
    return this.raw(KIND.var, name, 0, false, type, [linkage]);
  }
  datasec(name: Name, size: number, vars: [number, number, number][]): number {
    return this.raw(KIND.datasec, name, vars.length, false, size, vars.flat());
  }
  float(name: Name, size: number): number {
    return this.raw(KIND.float, name, 0, false, size);
  }
  declTag(name: Name, type: number, componentIdx: number): number {
    return this.raw(KIND.decl_tag, name, 0, false, type, [componentIdx >>> 0]);
  }

  build(): Uint8Array {
    const typeLen = this.words.length * 4;
    const out = new Uint8Array(24 + typeLen + this.strBytes.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, true);
    out[2] = 1; // version
    v.setUint32(4, 24, true);
    v.setUint32(8, 0, true);
    v.setUint32(12, typeLen, true);
    v.setUint32(16, typeLen, true);
    v.setUint32(20, this.strBytes.length, true);
    this.words.forEach((w, i) => v.setUint32(24 + i * 4, w >>> 0, true));
    out.set(this.strBytes, 24 + typeLen);
    return out;
  }
}
