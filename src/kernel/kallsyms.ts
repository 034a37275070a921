/**
 * /proc/kallsyms parsing and kernel address symbolization.
 *
 * Only text symbols (t, T, w, W) are kept. Addresses are 64-bit; they are held
 * as two Uint32Arrays (high and low halves) so that parsing and lookups need no
 * bigint arithmetic; the API speaks bigint.
 */

/** A symbolized address. */
export interface KernelSymbol {
  readonly name: string;
  /** Distance from the symbol's start. */
  readonly offset: bigint;
  /** Module name for module symbols ("nf_tables"); absent for vmlinux. */
  readonly module?: string;
}

function isTextType(c: number): boolean {
  return c === 0x74 /* t */ || c === 0x54 /* T */ || c === 0x77 /* w */ || c === 0x57 /* W */;
}

function toBig(hi: number, lo: number): bigint {
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

function hex64(addr: bigint): string {
  return `0x${BigInt.asUintN(64, addr).toString(16).padStart(16, '0')}`;
}

/** Parsed kernel text symbols, sorted by address. Create with {@link parseKallsyms}. */
/** No kernel function is larger than this; a bigger offset means the address is in no symbol. */
const MAX_SYMBOL_SIZE = 0x100000n;
const MAX_LAST_SYMBOL_SIZE = 0x10000n;

export class Kallsyms {
  /** Number of text symbols kept. */
  readonly size: number;
  /** True when every address read as zero (kptr_restrict / no CAP_SYSLOG): nothing can be symbolized. */
  readonly hidden: boolean;
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  /** every name, in address order, each followed by "\n": one flat string, not 100k small ones */
  private readonly names: string;
  /** where name i starts in `names` (count + 1 entries) */
  private readonly starts: Uint32Array;
  private readonly modIdx: Uint16Array;
  /** Module names; index 0 is vmlinux (undefined). */
  private readonly modules: readonly (string | undefined)[];
  /** name index (built at the first lookup): open addressing over `names`, slot = symbol index + 1 */
  private byName: Int32Array | undefined;

  /** @internal Use {@link parseKallsyms}. */
  constructor(
    hi: Uint32Array,
    lo: Uint32Array,
    /** every name in address order, each followed by "\n" */
    names: string,
    modIdx: Uint16Array,
    modules: readonly (string | undefined)[],
  ) {
    this.hi = hi;
    this.lo = lo;
    this.names = names;
    this.size = hi.length;
    this.starts = new Uint32Array(this.size + 1);
    for (let i = 0, at = 0; i < this.size; i++) this.starts[i + 1] = at = names.indexOf('\n', at) + 1;
    this.modIdx = modIdx;
    this.modules = modules;
    let hidden = true;
    for (let i = 0; i < hi.length && hidden; i++) if (hi[i] !== 0 || lo[i] !== 0) hidden = false;
    this.hidden = hidden;
  }

  /**
   * The symbol containing `addr`: the one with the highest start address <= addr
   * (the first listed, among aliases at the same address). Null below the first
   * symbol, outside 0..2^64-1, or when addresses are hidden.
   */
  symbolize(addr: bigint): KernelSymbol | null {
    if (this.hidden || this.size === 0 || addr < 0n || addr > 0xffff_ffff_ffff_ffffn) return null;
    const thi = Number(addr >> 32n);
    const tlo = Number(addr & 0xffff_ffffn);
    const hi = this.hi;
    const lo = this.lo;
    // Upper bound: first index whose address is > addr.
    let a = 0;
    let b = this.size;
    while (a < b) {
      const m = (a + b) >>> 1;
      const mh = hi[m]!;
      if (mh < thi || (mh === thi && lo[m]! <= tlo)) a = m + 1;
      else b = m;
    }
    let i = a - 1;
    if (i < 0) return null;
    while (i > 0 && hi[i - 1] === hi[i] && lo[i - 1] === lo[i]) i--;
    const offset = addr - toBig(hi[i]!, lo[i]!);
    // kallsyms has no symbol sizes: past the last symbol (JIT'ed BPF, vmalloc) nothing is known
    if (i === this.size - 1 && offset > MAX_LAST_SYMBOL_SIZE) return null;
    if (offset > MAX_SYMBOL_SIZE) return null;
    const module = this.modules[this.modIdx[i]!];
    const name = this.name(i);
    return module === undefined ? { name, offset } : { name, offset, module };
  }

  private name(i: number): string {
    return this.names.slice(this.starts[i]!, this.starts[i + 1]! - 1);
  }

  /** "tcp_v4_rcv+0x6d3", "nft_do_chain+0x0 [nf_tables]", or "0xffffffffc0a01234" when unknown. */
  format(addr: bigint): string {
    const s = this.symbolize(addr);
    if (!s) return hex64(addr);
    const base = `${s.name}+0x${s.offset.toString(16)}`;
    return s.module === undefined ? base : `${base} [${s.module}]`;
  }

  /** Start address of text symbol `name` (the lowest, if several); undefined when absent or hidden. */
  address(name: string): bigint | undefined {
    if (this.hidden) return undefined;
    const i = this.find(name);
    return i < 0 ? undefined : toBig(this.hi[i]!, this.lo[i]!);
  }

  /** Whether a text symbol `name` exists (true even when addresses are hidden). */
  has(name: string): boolean {
    return this.find(name) >= 0;
  }

  /** The lowest index of the symbol called `name`, or -1. */
  private find(name: string): number {
    const table = (this.byName ??= this.buildIndex());
    const mask = table.length - 1;
    for (let slot = hashOf(name, 0, name.length) & mask; ; slot = (slot + 1) & mask) {
      const i = table[slot]! - 1;
      if (i < 0) return -1;
      if (this.nameIs(i, name)) return i;
    }
  }

  private nameIs(i: number, name: string): boolean {
    const start = this.starts[i]!;
    return this.starts[i + 1]! - 1 - start === name.length && this.names.startsWith(name, start);
  }

  /** A table of twice the symbols or more; aliases keep the first (lowest) index. 1 MB, not a Map of 100k strings (7 MB). */
  private buildIndex(): Int32Array {
    let cap = 1;
    while (cap < this.size * 2) cap <<= 1;
    const table = new Int32Array(cap);
    for (let i = 0; i < this.size; i++) {
      const start = this.starts[i]!;
      const end = this.starts[i + 1]! - 1;
      let slot = hashOf(this.names, start, end) & (cap - 1);
      // a collision with a name of the same length is rare: only then is the name cut out
      for (; table[slot] !== 0; slot = (slot + 1) & (cap - 1)) {
        const j = table[slot]! - 1;
        if (this.starts[j + 1]! - this.starts[j]! === end + 1 - start && this.nameIs(j, this.name(i))) break;
      }
      if (table[slot] === 0) table[slot] = i + 1;
    }
    return table;
  }
}

/** 32-bit FNV-1a of s[start, end). */
function hashOf(s: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The value of the hex digits in b[start, end) (at most 8: 32 bits), or -1 when one is not hex. */
function hexValue(b: Uint8Array, start: number, end: number): number {
  let v = 0;
  for (let j = start; j < end; j++) {
    const c = b[j]!;
    const lc = c | 0x20;
    if (c >= 0x30 && c <= 0x39) v = v * 16 + (c - 0x30);
    else if (lc >= 0x61 && lc <= 0x66) v = v * 16 + (lc - 0x57);
    else return -1;
  }
  return v;
}

const latin1 = new TextDecoder('latin1');

/** Module names met so far; index 0 is vmlinux. */
class ModuleTable {
  readonly names: (string | undefined)[] = [undefined];
  private readonly ids = new Map<string, number>();

  /** The index of the "[module]" field in b[start, end) (0: not a module field). */
  indexOf(b: Uint8Array, start: number, end: number): number {
    const field = latin1.decode(b.subarray(start, end)).trim();
    if (field.length <= 2 || !field.startsWith('[') || !field.endsWith(']')) return 0;
    const module = field.slice(1, -1);
    let mi = this.ids.get(module) ?? 0;
    if (mi === 0) {
      mi = this.names.length;
      if (mi > 0xffff) throw new Error('kallsyms: more than 65535 modules');
      this.names.push(module);
      this.ids.set(module, mi);
    }
    return mi;
  }
}

/** The symbols as they are read, before the names are decoded. */
interface Table {
  hi: Uint32Array;
  lo: Uint32Array;
  mods: Uint16Array;
  /** every kept name followed by "\n" */
  names: Uint8Array;
  namesLen: number;
  count: number;
  sorted: boolean;
}

/** The first `c` in b[from, end), or -1 (within the line: indexOf would search the rest of the file). */
function indexOfByte(b: Uint8Array, c: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (b[i] === c) return i;
  return -1;
}

/** Reads the line b[start, end) into the table when it is a text symbol. */
function readLine(b: Uint8Array, start: number, end: number, t: Table, modules: ModuleTable): void {
  if (end > start && b[end - 1] === 0x0d) end--;
  // "<hex address> <type> <name>[\t[module]]"
  const sp = indexOfByte(b, 0x20, start, end);
  const len = sp - start;
  if (sp < 0 || len <= 0 || len > 16 || sp + 2 >= end || b[sp + 2] !== 0x20 || !isTextType(b[sp + 1]!)) return;
  // the address in two 32-bit halves
  const split = len > 8 ? sp - 8 : start;
  const h = hexValue(b, start, split);
  const l = hexValue(b, split, sp);
  if (h < 0 || l < 0) return;
  const sep = indexOfByte(b, 0x09, sp + 3, end);
  const nameEnd = sep < 0 ? end : sep;
  if (nameEnd === sp + 3 || indexOfByte(b, 0x20, sp + 3, nameEnd) >= 0) return;
  const i = t.count;
  if (i > 0 && (h < t.hi[i - 1]! || (h === t.hi[i - 1]! && l < t.lo[i - 1]!))) t.sorted = false;
  t.hi[i] = h;
  t.lo[i] = l;
  t.mods[i] = sep < 0 ? 0 : modules.indexOf(b, sep + 1, end);
  // byte by byte: a subarray per line would be 100k short-lived objects
  for (let j = sp + 3; j < nameEnd; j++) t.names[t.namesLen++] = b[j]!;
  t.names[t.namesLen++] = 0x0a;
  t.count++;
}

/**
 * Parses /proc/kallsyms ("ffffffff81000000 T _text", optionally followed by
 * "\t[module]"), as its bytes or as text. Keeps t/T/w/W symbols; skips malformed lines.
 * The bytes are read in place: no string per line (the file has about 200k lines).
 */
export function parseKallsyms(input: string | Uint8Array): Kallsyms {
  const b = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  let max = 1;
  for (let i = b.indexOf(0x0a); i >= 0; i = b.indexOf(0x0a, i + 1)) max++;
  const t: Table = { hi: new Uint32Array(max), lo: new Uint32Array(max), mods: new Uint16Array(max), names: new Uint8Array(b.length + 1), namesLen: 0, count: 0, sorted: true };
  const modules = new ModuleTable();
  for (let start = 0; start <= b.length; ) {
    let end = b.indexOf(0x0a, start);
    if (end < 0) end = b.length;
    readLine(b, start, end, t, modules);
    start = end + 1;
  }
  const names = latin1.decode(t.names.subarray(0, t.namesLen));
  const n = t.count;
  if (t.sorted) return new Kallsyms(t.hi.slice(0, n), t.lo.slice(0, n), names, t.mods.slice(0, n), modules.names);
  return sortedByAddress(t, names, modules.names);
}

/** The symbols in address order (stable: aliases keep their listed order). */
function sortedByAddress(t: Table, names: string, modules: readonly (string | undefined)[]): Kallsyms {
  const { hi, lo, mods, count } = t;
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((x, y) => hi[x]! - hi[y]! || lo[x]! - lo[y]! || x - y);
  const list = names.split('\n');
  const shi = new Uint32Array(count);
  const slo = new Uint32Array(count);
  const smods = new Uint16Array(count);
  const snames = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const j = order[i]!;
    shi[i] = hi[j]!;
    slo[i] = lo[j]!;
    smods[i] = mods[j]!;
    snames[i] = list[j]!;
  }
  return new Kallsyms(shi, slo, `${snames.join('\n')}\n`, smods, modules);
}
