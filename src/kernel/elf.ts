/**
 * Minimal ELF64 little-endian section reader: enough to pull `.BTF` (and
 * friends) out of a clang-compiled BPF object.
 */

/** One section header. Offsets and sizes are byte counts within the file. */
export interface ElfSection {
  readonly name: string;
  /** sh_type (1 = PROGBITS, 8 = NOBITS, ...). */
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  /** sh_link (for `.symtab`: index of its string table). */
  readonly link: number;
  /** sh_info (for a relocation section: index of the section it applies to). */
  readonly info: number;
}

/** One `.symtab` entry. */
export interface ElfSymbol {
  readonly name: string;
  /** st_value: for a relocatable object, the offset within its section. */
  readonly value: number;
  readonly size: number;
  /** Name of the section the symbol is defined in; undefined for undefined/absolute/common symbols. */
  readonly section: string | undefined;
  /** STT_* (0 NOTYPE, 1 OBJECT, 2 FUNC, 3 SECTION, 4 FILE). */
  readonly type: number;
  /** STB_* (0 LOCAL, 1 GLOBAL, 2 WEAK). */
  readonly bind: number;
}

const ELF_HEADER_LEN = 64;
const SECTION_HEADER_LEN = 64;
const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;
const SYMBOL_LEN = 24;

const latin1 = new TextDecoder('latin1');

function toNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`ELF ${what} ${v} is too large`);
  return Number(v);
}

/**
 * Lists the sections of an ELF64 little-endian file, in header order (index 0,
 * the null section, included).
 * @throws Error for non-ELF input, ELF32, big-endian or truncated files.
 */
export function elfSections(file: Uint8Array): ElfSection[] {
  if (file.byteLength < 4 || file[0] !== 0x7f || file[1] !== 0x45 || file[2] !== 0x4c || file[3] !== 0x46) {
    throw new Error('not an ELF file (bad magic)');
  }
  if (file.byteLength < ELF_HEADER_LEN) throw new Error(`truncated ELF header (${file.byteLength} bytes)`);
  if (file[4] !== 2) throw new Error(`unsupported ELF class ${file[4]} (only ELF64 is supported)`);
  if (file[5] !== 1) throw new Error(`unsupported ELF data encoding ${file[5]} (only little endian is supported)`);
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const shoff = toNumber(v.getBigUint64(0x28, true), 'e_shoff');
  const shentsize = v.getUint16(0x3a, true);
  let shnum = v.getUint16(0x3c, true);
  let shstrndx = v.getUint16(0x3e, true);
  if (shoff === 0) return [];
  if (shentsize < SECTION_HEADER_LEN) throw new Error(`bad ELF section header size ${shentsize}`);
  const header = (i: number): number => {
    const at = shoff + i * shentsize;
    if (at + SECTION_HEADER_LEN > file.byteLength) throw new Error(`ELF section header ${i} is past the end of the file`);
    return at;
  };
  // Extended numbering: counts that do not fit live in section 0.
  if (shnum === 0) shnum = toNumber(v.getBigUint64(header(0) + 32, true), 'section count');
  if (shstrndx === SHN_XINDEX) shstrndx = v.getUint32(header(0) + 40, true);
  if (shstrndx >= shnum) throw new Error(`bad ELF section name table index ${shstrndx} (${shnum} sections)`);

  const raw: { nameOff: number; type: number; offset: number; size: number; link: number; info: number }[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const type = v.getUint32(h + 4, true);
    const offset = toNumber(v.getBigUint64(h + 24, true), 'section offset');
    const size = toNumber(v.getBigUint64(h + 32, true), 'section size');
    if (type !== SHT_NOBITS && i !== 0 && offset + size > file.byteLength) {
      throw new Error(`ELF section ${i} [${offset}, ${offset + size}) is past the end of the file (${file.byteLength} bytes)`);
    }
    raw.push({ nameOff: v.getUint32(h, true), type, offset, size, link: v.getUint32(h + 40, true), info: v.getUint32(h + 44, true) });
  }
  const strtab = raw[shstrndx]!;
  const names = file.subarray(strtab.offset, strtab.offset + strtab.size);
  return raw.map((s) => ({ name: cstr(names, s.nameOff), type: s.type, offset: s.offset, size: s.size, link: s.link, info: s.info }));
}

/** Where the section table lies, read from the ELF header alone; undefined when the header is short. */
export function elfSectionTablePlace(header: Uint8Array): { offset: number; size: number } | undefined {
  if (header.byteLength < ELF_HEADER_LEN) return undefined;
  const v = new DataView(header.buffer, header.byteOffset, header.byteLength);
  return { offset: toNumber(v.getBigUint64(0x28, true), 'e_shoff'), size: v.getUint16(0x3a, true) * v.getUint16(0x3c, true) };
}

/**
 * Where the section-name table lies, read from the ELF header and the section table alone
 * (for reading a file's sections without reading all of it); undefined when those are short.
 */
export function elfNameTablePlace(file: Uint8Array): { offset: number; size: number } | undefined {
  if (file.byteLength < ELF_HEADER_LEN) return undefined;
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const at = elfSectionTablePlace(file)!.offset + v.getUint16(0x3e, true) * v.getUint16(0x3a, true);
  if (at + SECTION_HEADER_LEN > file.byteLength) return undefined;
  return { offset: Number(v.getBigUint64(at + 24, true)), size: Number(v.getBigUint64(at + 32, true)) };
}

function cstr(table: Uint8Array, off: number): string {
  if (off >= table.length) return '';
  let end = table.indexOf(0, off);
  if (end < 0) end = table.length;
  return latin1.decode(table.subarray(off, end));
}

/**
 * Names of all sections, in header order (the null section's empty name omitted).
 * @throws Error for non-ELF or unsupported input (see {@link elfSections}).
 */
export function elfSectionNames(file: Uint8Array): string[] {
  return elfSections(file)
    .map((s) => s.name)
    .filter((n) => n !== '');
}

/**
 * Contents of the first section named `name` (a view into `file`, not a copy),
 * or null when there is none. A NOBITS section (e.g. `.bss`) reads as zeros.
 * @throws Error for non-ELF or unsupported input (see {@link elfSections}).
 */
export function readElfSection(file: Uint8Array, name: string): Uint8Array | null {
  const sec = elfSections(file).find((s, i) => i > 0 && s.name === name);
  if (!sec) return null;
  if (sec.type === SHT_NOBITS) return new Uint8Array(sec.size);
  return file.subarray(sec.offset, sec.offset + sec.size);
}

/**
 * Entries of `.symtab` (the null symbol omitted), or [] when there is none.
 * Useful because clang leaves the var offsets of BTF DATASECs (`.rodata`, `.bss`, ...)
 * at 0 in an object file; libbpf patches them from these symbols' values.
 * @throws Error for non-ELF or unsupported input (see {@link elfSections}).
 */
export function elfSymbols(file: Uint8Array): ElfSymbol[] {
  const sections = elfSections(file);
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) return [];
  const strsec = sections[symtab.link];
  if (!strsec) throw new Error(`ELF .symtab links to missing string table ${symtab.link}`);
  const strs = file.subarray(strsec.offset, strsec.offset + strsec.size);
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: ElfSymbol[] = [];
  for (let at = symtab.offset + SYMBOL_LEN; at + SYMBOL_LEN <= symtab.offset + symtab.size; at += SYMBOL_LEN) {
    const info = v.getUint8(at + 4);
    const shndx = v.getUint16(at + 6, true);
    out.push({
      name: cstr(strs, v.getUint32(at, true)),
      value: toNumber(v.getBigUint64(at + 8, true), 'symbol value'),
      size: toNumber(v.getBigUint64(at + 16, true), 'symbol size'),
      section: shndx === 0 || shndx >= SHN_LORESERVE ? undefined : sections[shndx]?.name,
      type: info & 0xf,
      bind: info >> 4,
    });
  }
  return out;
}

/**
 * The first `.symtab` entry named `name`, found without decoding the others (a BPF object
 * built with -g has tens of thousands of local labels), or undefined.
 * @throws Error for non-ELF or unsupported input (see {@link elfSections}).
 */
export function elfSymbol(file: Uint8Array, name: string): ElfSymbol | undefined {
  const sections = elfSections(file);
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  const strsec = symtab ? sections[symtab.link] : undefined;
  if (!symtab || !strsec) return undefined;
  const want = new TextEncoder().encode(`${name}\0`);
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const same = (at: number): boolean => {
    for (let i = 0; i < want.length; i++) if (file[at + i] !== want[i]) return false;
    return true;
  };
  for (let at = symtab.offset + SYMBOL_LEN; at + SYMBOL_LEN <= symtab.offset + symtab.size; at += SYMBOL_LEN) {
    const nameAt = strsec.offset + v.getUint32(at, true);
    if (nameAt + want.length > strsec.offset + strsec.size || !same(nameAt)) continue;
    const info = v.getUint8(at + 4);
    const shndx = v.getUint16(at + 6, true);
    return {
      name,
      value: toNumber(v.getBigUint64(at + 8, true), 'symbol value'),
      size: toNumber(v.getBigUint64(at + 16, true), 'symbol size'),
      section: shndx === 0 || shndx >= SHN_LORESERVE ? undefined : sections[shndx]?.name,
      type: info & 0xf,
      bind: info >> 4,
    };
  }
  return undefined;
}
