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
  private readonly names: readonly string[];
  private readonly modIdx: Uint16Array;
  /** Module names; index 0 is vmlinux (undefined). */
  private readonly modules: readonly (string | undefined)[];
  private byName: Map<string, number> | undefined;

  /** @internal Use {@link parseKallsyms}. */
  constructor(
    hi: Uint32Array,
    lo: Uint32Array,
    names: readonly string[],
    modIdx: Uint16Array,
    modules: readonly (string | undefined)[],
  ) {
    this.hi = hi;
    this.lo = lo;
    this.names = names;
    this.modIdx = modIdx;
    this.modules = modules;
    this.size = names.length;
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
    return module === undefined ? { name: this.names[i]!, offset } : { name: this.names[i]!, offset, module };
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
    const i = this.index().get(name);
    return i === undefined ? undefined : toBig(this.hi[i]!, this.lo[i]!);
  }

  /** Whether a text symbol `name` exists (true even when addresses are hidden). */
  has(name: string): boolean {
    return this.index().has(name);
  }

  private index(): Map<string, number> {
    if (!this.byName) {
      const m = new Map<string, number>();
      for (let i = this.size - 1; i >= 0; i--) m.set(this.names[i]!, i);
      this.byName = m;
    }
    return this.byName;
  }
}

/** The value of the hex digits in line[start, end) (at most 8: 32 bits), or -1 when one is not hex. */
function hexValue(line: string, start: number, end: number): number {
  let v = 0;
  for (let j = start; j < end; j++) {
    const c = line.charCodeAt(j);
    const lc = c | 0x20;
    if (c >= 0x30 && c <= 0x39) v = v * 16 + (c - 0x30);
    else if (lc >= 0x61 && lc <= 0x66) v = v * 16 + (lc - 0x57);
    else return -1;
  }
  return v;
}

/** Module names met so far; index 0 is vmlinux. */
class ModuleTable {
  readonly names: (string | undefined)[] = [undefined];
  private readonly ids = new Map<string, number>();

  /** The index of the "[module]" field after the tab at `sep` (0: not a module field). */
  indexOf(line: string, sep: number): number {
    const field = line.slice(sep + 1).trim();
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

/**
 * Parses /proc/kallsyms text ("ffffffff81000000 T _text", optionally followed by
 * "\t[module]"). Keeps t/T/w/W symbols; skips malformed lines.
 */
export function parseKallsyms(text: string): Kallsyms {
  const lines = text.split('\n');
  const max = lines.length;
  const hi = new Uint32Array(max);
  const lo = new Uint32Array(max);
  const mods = new Uint16Array(max);
  const names: string[] = [];
  const modules = new ModuleTable();
  let count = 0;
  let sorted = true;
  let prevHi = 0;
  let prevLo = 0;

  for (let i = 0; i < max; i++) {
    let line = lines[i]!;
    if (line.charCodeAt(line.length - 1) === 0x0d) line = line.slice(0, -1);
    // "<hex address> <type> <name>[\t[module]]"
    const sp = line.indexOf(' ');
    if (sp <= 0 || sp > 16 || line.charCodeAt(sp + 2) !== 0x20 || !isTextType(line.charCodeAt(sp + 1))) continue;
    // the address in two 32-bit halves
    const split = sp > 8 ? sp - 8 : 0;
    const h = hexValue(line, 0, split);
    const l = hexValue(line, split, sp);
    if (h < 0 || l < 0) continue;
    const sep = line.indexOf('\t', sp + 3);
    const name = sep < 0 ? line.slice(sp + 3) : line.slice(sp + 3, sep);
    if (name.length === 0 || name.includes(' ')) continue;
    if (h < prevHi || (h === prevHi && l < prevLo)) sorted = false;
    prevHi = h;
    prevLo = l;
    hi[count] = h;
    lo[count] = l;
    mods[count] = sep < 0 ? 0 : modules.indexOf(line, sep);
    names.push(name);
    count++;
  }

  if (sorted) return new Kallsyms(hi.slice(0, count), lo.slice(0, count), names, mods.slice(0, count), modules.names);
  return sortedByAddress(hi, lo, mods, names, count, modules.names);
}

/** The symbols in address order (stable: aliases keep their listed order). */
function sortedByAddress(
  hi: Uint32Array,
  lo: Uint32Array,
  mods: Uint16Array,
  names: readonly string[],
  count: number,
  modules: readonly (string | undefined)[],
): Kallsyms {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((x, y) => hi[x]! - hi[y]! || lo[x]! - lo[y]! || x - y);
  const shi = new Uint32Array(count);
  const slo = new Uint32Array(count);
  const smods = new Uint16Array(count);
  const snames = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const j = order[i]!;
    shi[i] = hi[j]!;
    slo[i] = lo[j]!;
    smods[i] = mods[j]!;
    snames[i] = names[j]!;
  }
  return new Kallsyms(shi, slo, snames, smods, modules);
}
