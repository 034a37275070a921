/**
 * Classic BPF -> eBPF, as the body of a placeholder function in bpf/pcap.h:
 *
 *   int pp_pcap_l2(const struct pp_pcap_win *w, __u32 caplen, __u32 wirelen)
 *
 * returning 1 (match), 0 (no match) or 2 (a load past caplen: the probe could not see
 * the bytes). Registers: r1 window, r2 caplen, r3 wirelen, r4 A, r5 X, r0 scratch and
 * result; M[k] lives in the function's own stack at r10 - 64 + 4k. A and X are 32-bit
 * (ALU32 and JMP32), so wrap-around and compares behave as in classic BPF.
 *
 * Every packet load is bounds-checked against caplen (the classic semantics: a load past
 * the captured bytes rejects) and, for loads at a computed offset, against the window
 * size, which is what lets the verifier accept them. The function is padded to the
 * placeholder's size with no-ops that only the control-flow check sees: the last real
 * block jumps over them on a condition the verifier knows is true, so it never walks
 * them, and the kernel drops them as dead code.
 */
import * as c from './cbpf.js';
import type { CInsn } from './cbpf.js';
import * as e from './ebpf.js';
import type { EInsn, Label } from './ebpf.js';
import type { Analysis } from './bounds.js';

const R0 = 0;
const WIN = 1;
const CAP = 2;
const WLEN = 3;
const A = 4;
const XR = 5;
const FP = 10;
const memOff = (k: number): number => -64 + 4 * k;

/** What the translated function returns. */
export const RESULT = { reject: 0, match: 1, short: 2 } as const;

/** The translated program does not fit in the placeholder. */
export class TooLarge extends Error {
  override readonly name = 'TooLarge';
}

function loadInsns(i: CInsn, dst: number, window: number): EInsn[] {
  const n = c.bytesOf(i.code);
  const sz = n === 4 ? e.W : n === 2 ? e.H : e.B;
  const swap = n > 1 ? [e.toBe(dst, n === 4 ? 32 : 16)] : [];
  switch (c.mode(i.code)) {
    case c.IMM:
      return [e.alu32k(e.MOV, dst, i.k)];
    case c.LEN:
      return [e.alu32x(e.MOV, dst, WLEN)];
    case c.MEM:
      return [e.load(e.W, dst, FP, memOff(i.k))];
    case c.MSH:
      return [e.jmp64k(e.JLT, CAP, i.k + 1, 'short'), e.load(e.B, dst, WIN, i.k), e.alu32k(c.AND, dst, 0xf), e.alu32k(c.LSH, dst, 2)];
    case c.ABS:
      return [e.jmp64k(e.JLT, CAP, i.k + n, 'short'), e.load(sz, dst, WIN, i.k), ...swap];
    default: // IND: r0 = X + k + n, checked against caplen and (for the verifier) the window
      return [
        e.alu32x(e.MOV, R0, XR),
        e.alu64k(c.ADD, R0, i.k + n),
        e.jmp64x(c.JGT, R0, CAP, 'short'),
        e.jmp64k(c.JGT, R0, window, 'short'),
        e.alu64x(c.ADD, R0, WIN),
        e.load(sz, dst, R0, -n),
        ...swap,
      ];
  }
}

function aluInsns(i: CInsn): EInsn[] {
  const operation = c.op(i.code);
  if (operation === c.NEG) return [e.alu32k(c.NEG, A, 0)];
  if (c.src(i.code) === c.K) {
    // a shift by 32 or more clears A, as libpcap's interpreter does
    if ((operation === c.LSH || operation === c.RSH) && i.k >= 32) return [e.alu32k(e.MOV, A, 0)];
    return [e.alu32k(operation, A, i.k)];
  }
  if (operation === c.DIV || operation === c.MOD) return [e.jmp32k(c.JEQ, XR, 0, 'reject'), e.alu32x(operation, A, XR)];
  if (operation === c.LSH || operation === c.RSH) {
    return [e.insn(e.JMP32 | e.JLT | e.K, XR, 0, 2, 32), e.alu32k(e.MOV, A, 0), e.insn(e.JMP, 0, 0, 1, 0), e.alu32x(operation, A, XR)];
  }
  return [e.alu32x(operation, A, XR)];
}

const INVERSE: Record<number, number> = { [c.JEQ]: e.JNE, [c.JGT]: 0xb0 /* JLE */, [c.JGE]: e.JLT };

function jumpInsns(prog: readonly CInsn[], at: number, next: number): EInsn[] {
  const i = prog[at]!;
  if (c.op(i.code) === c.JA) {
    const t = at + 1 + i.k;
    return t === next ? [] : [e.ja(t)];
  }
  const t = at + 1 + i.jt;
  const f = at + 1 + i.jf;
  if (t === f) return t === next ? [] : [e.ja(t)];
  const cond = (operation: number, to: Label): EInsn =>
    c.src(i.code) === c.X ? e.jmp32x(operation, A, XR, to) : e.jmp32k(operation, A, i.k, to);
  const inverse = INVERSE[c.op(i.code)];
  if (t === next && inverse !== undefined) return [cond(inverse, f)];
  return f === next ? [cond(c.op(i.code), t)] : [cond(c.op(i.code), t), e.ja(f)];
}

function blockInsns(prog: readonly CInsn[], at: number, next: number, window: number): EInsn[] {
  const i = prog[at]!;
  switch (c.cls(i.code)) {
    case c.LD:
      return loadInsns(i, A, window);
    case c.LDX:
      return loadInsns(i, XR, window);
    case c.ST:
      return [e.store(e.W, FP, A, memOff(i.k))];
    case c.STX:
      return [e.store(e.W, FP, XR, memOff(i.k))];
    case c.ALU:
      return aluInsns(i);
    case c.JMP:
      return jumpInsns(prog, at, next);
    case c.RET:
      if (c.size(i.code) === c.RET_A) return [e.alu32x(e.MOV, R0, A), e.jmp32k(c.JEQ, R0, 0, 'out'), e.alu32k(e.MOV, R0, 1), e.ja('out')];
      return [e.alu32k(e.MOV, R0, i.k ? RESULT.match : RESULT.reject), e.ja('out')];
    default:
      return [(i.code & 0xf8) === c.TXA ? e.alu32x(e.MOV, A, XR) : e.alu32x(e.MOV, XR, A)];
  }
}

/** Resolves labels and pads to `slot` instructions, the last one the exit. */
function layout(blocks: readonly { label: Label; insns: readonly EInsn[] }[], slot: number): Uint8Array {
  const at = new Map<Label, number>();
  let n = 0;
  for (const b of blocks) {
    at.set(b.label, n);
    n += b.insns.length;
  }
  if (n + 1 > slot) throw new TooLarge(`the expression compiles to ${n + 1} eBPF instructions; a probe has room for ${slot}`);
  at.set('out', slot - 1);
  const flat = blocks.flatMap((b) => b.insns);
  const resolved = flat.map((i, pos) => {
    if (i.to === undefined) return i;
    const target = at.get(i.to);
    if (target === undefined) throw new Error(`eBPF translation: no label ${String(i.to)}`);
    return { ...i, off: target - (pos + 1) };
  });
  const pad = new Array<EInsn>(slot - 1 - flat.length).fill(e.NOP);
  return e.encode([...resolved, ...pad, e.exit()]);
}

/** The shared tail: "short" (when some load uses it) and "reject", whose last jump hides the padding. */
function tail(used: ReadonlySet<Label>): { label: Label; insns: EInsn[] }[] {
  const out: { label: Label; insns: EInsn[] }[] = [];
  if (used.has('short')) out.push({ label: 'short', insns: [e.alu32k(e.MOV, R0, RESULT.short), e.ja('out')] });
  out.push({ label: 'reject', insns: [e.alu32k(e.MOV, R0, RESULT.reject), e.jmp32k(c.JEQ, R0, 0, 'out')] });
  return out;
}

/**
 * The placeholder body for a program, `slot` instructions long (8 bytes each).
 * @throws TooLarge when it does not fit.
 */
export function translate(prog: readonly CInsn[], analysis: Analysis, slot: number, window: number): Uint8Array {
  const order = prog.map((_, i) => i).filter((i) => analysis.reachable[i]);
  const entry: EInsn[] = [
    e.jmp64k(c.JEQ, WIN, 0, 'reject'), // a global function's pointer argument may be NULL for the verifier
    e.alu32x(e.MOV, CAP, CAP),
    e.alu32x(e.MOV, WLEN, WLEN),
    e.alu32k(e.MOV, A, 0),
    e.alu32k(e.MOV, XR, 0),
  ];
  const blocks: { label: Label; insns: readonly EInsn[] }[] = [{ label: -1, insns: entry }];
  order.forEach((at, n) => blocks.push({ label: at, insns: blockInsns(prog, at, order[n + 1] ?? -1, window) }));
  const used = new Set(blocks.flatMap((b) => b.insns.map((i) => i.to)).filter((t): t is Label => t !== undefined));
  return layout([...blocks, ...tail(used)], slot);
}

/** A body that never matches (an expression with no raw-IP form, at an skb without its link-layer header). */
export function rejectAll(slot: number): Uint8Array {
  return layout(tail(new Set()), slot);
}
