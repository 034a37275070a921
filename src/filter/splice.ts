/**
 * Writes eBPF bodies over placeholder functions in a BPF object's ELF image, before
 * libbpf opens it. A placeholder is a function in .text whose body is only no-ops
 * (bpf/pcap.h): it has no relocations, so replacing its bytes in place, at the same
 * size, leaves every offset libbpf and the kernel use (relocations, BTF line and
 * function info, the other functions) valid.
 */
import { elfSections, elfSymbol } from '../kernel/elf.js';

const STT_FUNC = 2;
const SHT_REL = 9;
const REL_LEN = 16;

export interface Placeholder {
  /** byte offset of the body in the ELF image */
  readonly fileOffset: number;
  /** instructions */
  readonly slots: number;
}

/**
 * Finds placeholder function `name` in .text.
 * @throws Error when it is missing or something relocates inside it (the object was
 *   built from a different bpf/pcap.h).
 */
export function findPlaceholder(elf: Uint8Array, name: string): Placeholder {
  const sections = elfSections(elf);
  const sym = elfSymbol(elf, name);
  if (!sym || sym.type !== STT_FUNC || sym.section !== '.text') throw new Error(`BPF object has no placeholder function ${name} in .text`);
  const textIndex = sections.findIndex((s) => s.name === '.text');
  const text = sections[textIndex]!;
  const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  for (const rel of sections.filter((s) => s.type === SHT_REL && s.info === textIndex)) {
    for (let at = rel.offset; at + REL_LEN <= rel.offset + rel.size; at += REL_LEN) {
      const off = Number(v.getBigUint64(at, true));
      if (off >= sym.value && off < sym.value + sym.size) throw new Error(`placeholder ${name} has a relocation at +${off - sym.value}`);
    }
  }
  return { fileOffset: text.offset + sym.value, slots: sym.size / 8 };
}

/** A copy of `elf` with each named placeholder's bytes replaced by a body of the same size. */
export function splice(elf: Uint8Array, bodies: Readonly<Record<string, Uint8Array>>): Uint8Array {
  const out = elf.slice();
  for (const [name, body] of Object.entries(bodies)) {
    const p = findPlaceholder(elf, name);
    if (body.length !== p.slots * 8) throw new Error(`body for ${name} is ${body.length / 8} instructions; the placeholder has ${p.slots}`);
    out.set(body, p.fileOffset);
  }
  return out;
}
