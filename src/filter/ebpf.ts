/**
 * The few eBPF instructions the translation emits, built as data with symbolic jump
 * targets, then laid out and encoded (struct bpf_insn: u8 code, u8 dst:4 src:4, s16 off,
 * s32 imm; little endian).
 */

// classes
export const LDX = 0x01;
export const STX = 0x03;
export const ALU = 0x04;
export const JMP = 0x05;
export const JMP32 = 0x06;
export const ALU64 = 0x07;
// sizes and modes
export const W = 0x00;
export const H = 0x08;
export const B = 0x10;
export const MEM = 0x60;
// operations beyond classic BPF's
export const MOV = 0xb0;
export const END = 0xd0;
export const JNE = 0x50;
export const JLT = 0xa0;
export const EXIT = 0x90;
// sources
export const K = 0x00;
export const X = 0x08;
/** BPF_END: convert to big endian */
export const TO_BE = 0x08;

/** A jump target: an index into the classic program, or one of the shared exits. */
export type Label = number | 'short' | 'reject' | 'out';

export interface EInsn {
  readonly code: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
  /** jump target, resolved into `off` at layout */
  readonly to?: Label;
}

export const insn = (code: number, dst: number, srcReg: number, off: number, imm: number, to?: Label): EInsn =>
  to === undefined ? { code, dst, src: srcReg, off, imm } : { code, dst, src: srcReg, off, imm, to };

/** 32-bit ALU with an immediate / a register: w<dst> op= imm / w<src>. */
export const alu32k = (operation: number, dst: number, imm: number): EInsn => insn(ALU | operation | K, dst, 0, 0, imm | 0);
export const alu32x = (operation: number, dst: number, s: number): EInsn => insn(ALU | operation | X, dst, s, 0, 0);
export const alu64k = (operation: number, dst: number, imm: number): EInsn => insn(ALU64 | operation | K, dst, 0, 0, imm | 0);
export const alu64x = (operation: number, dst: number, s: number): EInsn => insn(ALU64 | operation | X, dst, s, 0, 0);
/** r<dst> = *(size *)(r<s> + off) */
export const load = (sz: number, dst: number, s: number, off: number): EInsn => insn(LDX | MEM | sz, dst, s, off, 0);
/** *(size *)(r<dst> + off) = r<s> */
export const store = (sz: number, dst: number, s: number, off: number): EInsn => insn(STX | MEM | sz, dst, s, off, 0);
/** r<dst> = be16/be32 r<dst> */
export const toBe = (dst: number, bits: 16 | 32): EInsn => insn(ALU | END | TO_BE, dst, 0, 0, bits);
/** if (w<dst> op imm) goto to / if (w<dst> op w<s>) goto to (32-bit compares) */
export const jmp32k = (operation: number, dst: number, imm: number, to: Label): EInsn => insn(JMP32 | operation | K, dst, 0, 0, imm | 0, to);
export const jmp32x = (operation: number, dst: number, s: number, to: Label): EInsn => insn(JMP32 | operation | X, dst, s, 0, 0, to);
/** if (r<dst> op imm) goto to (64-bit compare; imm sign-extended) */
export const jmp64k = (operation: number, dst: number, imm: number, to: Label): EInsn => insn(JMP | operation | K, dst, 0, 0, imm | 0, to);
export const jmp64x = (operation: number, dst: number, s: number, to: Label): EInsn => insn(JMP | operation | X, dst, s, 0, 0, to);
export const ja = (to: Label): EInsn => insn(JMP, 0, 0, 0, 0, to);
export const NOP = insn(JMP, 0, 0, 0, 0);
export const exit = (): EInsn => insn(JMP | EXIT, 0, 0, 0, 0);

/** Encodes instructions whose `to` was resolved into `off`. */
export function encode(insns: readonly EInsn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const v = new DataView(out.buffer);
  insns.forEach((i, n) => {
    if (i.off < -32768 || i.off > 32767) throw new Error(`eBPF jump offset ${i.off} out of range`);
    v.setUint8(n * 8, i.code);
    v.setUint8(n * 8 + 1, ((i.src & 0xf) << 4) | (i.dst & 0xf));
    v.setInt16(n * 8 + 2, i.off, true);
    v.setInt32(n * 8 + 4, i.imm | 0, true);
  });
  return out;
}
