/**
 * Classic BPF as libpcap emits it (struct bpf_insn: u16 code, u8 jt, u8 jf, u32 k; host
 * order): decoding, the opcode fields, and a one-line disassembly for messages.
 */

/** One classic BPF instruction. */
export interface CInsn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  /** unsigned 32-bit */
  readonly k: number;
}

// instruction classes
export const LD = 0x00;
export const LDX = 0x01;
export const ST = 0x02;
export const STX = 0x03;
export const ALU = 0x04;
export const JMP = 0x05;
export const RET = 0x06;
export const MISC = 0x07;
// load sizes
export const W = 0x00;
export const H = 0x08;
export const B = 0x10;
// load modes
export const IMM = 0x00;
export const ABS = 0x20;
export const IND = 0x40;
export const MEM = 0x60;
export const LEN = 0x80;
export const MSH = 0xa0;
// ALU and jump operations (the same bits as eBPF's)
export const ADD = 0x00;
export const SUB = 0x10;
export const MUL = 0x20;
export const DIV = 0x30;
export const OR = 0x40;
export const AND = 0x50;
export const LSH = 0x60;
export const RSH = 0x70;
export const NEG = 0x80;
export const MOD = 0x90;
export const XOR = 0xa0;
export const JA = 0x00;
export const JEQ = 0x10;
export const JGT = 0x20;
export const JGE = 0x30;
export const JSET = 0x40;
// operand source (ALU, JMP) and return value (RET)
export const K = 0x00;
export const X = 0x08;
export const RET_A = 0x10;
// MISC operations
export const TAX = 0x00;
export const TXA = 0x80;

/** Scratch memory words (M[0..15]). */
export const MEMWORDS = 16;
/** Loads at or above this offset are Linux socket-filter extensions (SKF_AD_OFF = -0x1000 as u32). */
export const SKF_AD_OFF = 0xfffff000;
/** SKF_AD_PKTTYPE: libpcap's `inbound` / `outbound` on Linux. */
export const SKF_AD_PKTTYPE = 4;

export const cls = (code: number): number => code & 0x07;
export const size = (code: number): number => code & 0x18;
export const mode = (code: number): number => code & 0xe0;
export const op = (code: number): number => code & 0xf0;
export const src = (code: number): number => code & 0x08;
/** Bytes a load of this size reads. */
export const bytesOf = (code: number): number => (size(code) === W ? 4 : size(code) === H ? 2 : 1);

/** Decodes libpcap's bf_insns (8 bytes each, little endian on the hosts pktpath runs on). */
export function decodeCbpf(bytes: Uint8Array): CInsn[] {
  if (bytes.length % 8) throw new Error(`classic BPF program of ${bytes.length} bytes is not a whole number of instructions`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: CInsn[] = [];
  for (let at = 0; at < bytes.length; at += 8) {
    out.push({ code: v.getUint16(at, true), jt: v.getUint8(at + 2), jf: v.getUint8(at + 3), k: v.getUint32(at + 4, true) });
  }
  return out;
}

const SIZE_SUFFIX: Record<number, string> = { [W]: '', [H]: 'h', [B]: 'b' };
const ALU_NAME: Record<number, string> = {
  [ADD]: 'add', [SUB]: 'sub', [MUL]: 'mul', [DIV]: 'div', [OR]: 'or', [AND]: 'and',
  [LSH]: 'lsh', [RSH]: 'rsh', [NEG]: 'neg', [MOD]: 'mod', [XOR]: 'xor',
};
const JMP_NAME: Record<number, string> = { [JA]: 'ja', [JEQ]: 'jeq', [JGT]: 'jgt', [JGE]: 'jge', [JSET]: 'jset' };

/** tcpdump -d style text of one instruction, e.g. "ldh [x + 14]". */
export function disasm(i: CInsn): string {
  const operand = src(i.code) === X ? 'x' : `#0x${i.k.toString(16)}`;
  switch (cls(i.code)) {
    case LD:
    case LDX: {
      const reg = cls(i.code) === LDX ? 'ldx' : 'ld';
      const m = mode(i.code);
      if (m === IMM) return `${reg} #0x${i.k.toString(16)}`;
      if (m === LEN) return `${reg} #len`;
      if (m === MEM) return `${reg} M[${i.k}]`;
      if (m === MSH) return `ldxb 4*([${i.k}]&0xf)`;
      return `${reg}${SIZE_SUFFIX[size(i.code)] ?? '?'} [${m === IND ? 'x + ' : ''}${i.k}]`;
    }
    case ST:
      return `st M[${i.k}]`;
    case STX:
      return `stx M[${i.k}]`;
    case ALU:
      return op(i.code) === NEG ? 'neg' : `${ALU_NAME[op(i.code)] ?? '?'} ${operand}`;
    case JMP:
      return op(i.code) === JA ? `ja +${i.k}` : `${JMP_NAME[op(i.code)] ?? '?'} ${operand} jt +${i.jt} jf +${i.jf}`;
    case RET:
      return size(i.code) === RET_A ? 'ret a' : `ret #${i.k}`;
    default:
      return (i.code & 0xf8) === TXA ? 'txa' : 'tax';
  }
}
