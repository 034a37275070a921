/**
 * What a classic BPF program needs from the packet, found before it runs: which
 * instructions are reachable, how many leading bytes any load can touch (the window a
 * probe must copy), and whether it asks for something a probe cannot give. One forward
 * pass of interval analysis over A, X and M[]: libpcap's programs only jump forward
 * (except `protochain`, refused here), so instruction order is a topological order.
 */
import * as c from './cbpf.js';
import type { CInsn } from './cbpf.js';

/** An unsigned 32-bit value range, inclusive. */
type Range = readonly [number, number];
interface State {
  readonly a: Range;
  readonly x: Range;
  readonly m: readonly Range[];
}

const U32 = 0xffffffff;
const FULL: Range = [0, U32];
const ZERO: Range = [0, 0];
/** pcap_open_dead's snaplen bound: `len` never exceeds it. */
const MAX_WIRELEN = 262144;

export interface Analysis {
  /** instructions some path reaches (the translation emits only these) */
  readonly reachable: readonly boolean[];
  /** bytes from the start of the packet that the loads can touch */
  readonly need: number;
}

/** Why a probe cannot run this program: one line for the user. */
export class Refusal extends Error {
  override readonly name = 'Refusal';
}

const range = (lo: number, hi: number): Range => (hi > U32 || lo < 0 ? FULL : [lo, hi]);
const join = (p: Range, q: Range): Range => [Math.min(p[0], q[0]), Math.max(p[1], q[1])];
const joinState = (s: State | undefined, t: State): State =>
  s ? { a: join(s.a, t.a), x: join(s.x, t.x), m: s.m.map((r, i) => join(r, t.m[i]!)) } : t;
const bitsFill = (v: number): number => (v === 0 ? 0 : 2 ** Math.ceil(Math.log2(v + 1)) - 1);

/** The range of A after an ALU operation with operand range `b`. */
function alu(operation: number, a: Range, b: Range): Range {
  switch (operation) {
    case c.ADD:
      return range(a[0] + b[0], a[1] + b[1]);
    case c.SUB:
      return a[0] - b[1] >= 0 ? [a[0] - b[1], a[1] - b[0]] : FULL;
    case c.MUL:
      return range(a[0] * b[0], a[1] * b[1]);
    case c.DIV:
      return b[0] === 0 ? [0, a[1]] : [Math.floor(a[0] / b[1]), Math.floor(a[1] / b[0])];
    case c.MOD:
      return [0, Math.max(0, Math.min(a[1], b[1] - 1))];
    case c.AND:
      return [0, Math.min(a[1], b[1])];
    case c.OR:
    case c.XOR:
      return [0, bitsFill(Math.max(a[1], b[1]))];
    case c.LSH:
      return b[1] < 32 ? range(a[0] * 2 ** b[0], a[1] * 2 ** b[1]) : FULL;
    case c.RSH:
      return [b[1] < 32 ? Math.floor(a[0] / 2 ** b[1]) : 0, Math.floor(a[1] / 2 ** Math.min(b[0], 31))];
    case c.NEG:
      return a[1] === 0 ? ZERO : FULL;
    default:
      throw new Error(`classic BPF: unknown ALU operation 0x${operation.toString(16)}`);
  }
}

/** The first byte offsets a load may read, or null for a load that reads no packet bytes. */
function loadOffsets(i: CInsn, s: State): Range | null {
  const m = c.mode(i.code);
  if (m === c.ABS || m === c.MSH) return [i.k, i.k];
  if (m === c.IND) return range(s.x[0] + i.k, s.x[1] + i.k);
  return null;
}

function refuseExtension(i: CInsn): never {
  if (i.k - c.SKF_AD_OFF === c.SKF_AD_PKTTYPE) {
    throw new Refusal('`inbound` and `outbound` need the capture direction, which a probe inside the network stack does not have');
  }
  throw new Refusal(`the expression reads Linux socket-filter metadata (offset 0x${i.k.toString(16)}), which a probe does not have`);
}

/** The value a load puts in A or X. */
function loaded(i: CInsn, s: State): Range {
  switch (c.mode(i.code)) {
    case c.IMM:
      return [i.k, i.k];
    case c.LEN:
      return [0, MAX_WIRELEN];
    case c.MEM:
      return s.m[i.k] ?? FULL;
    case c.MSH:
      return [0, 60];
    default:
      return c.size(i.code) === c.B ? [0, 0xff] : c.size(i.code) === c.H ? [0, 0xffff] : FULL;
  }
}

/** The state after instruction i. */
function step(i: CInsn, s: State): State {
  const operand = (): Range => (c.src(i.code) === c.X ? s.x : [i.k, i.k]);
  switch (c.cls(i.code)) {
    case c.LD:
      return { ...s, a: loaded(i, s) };
    case c.LDX:
      return { ...s, x: loaded(i, s) };
    case c.ST:
      return { ...s, m: s.m.map((r, j) => (j === i.k ? s.a : r)) };
    case c.STX:
      return { ...s, m: s.m.map((r, j) => (j === i.k ? s.x : r)) };
    case c.ALU:
      return { ...s, a: alu(c.op(i.code), s.a, operand()) };
    case c.MISC:
      return (i.code & 0xf8) === c.TXA ? { ...s, a: s.x } : { ...s, x: s.a };
    default:
      return s;
  }
}

/** Indexes control goes to after instruction `at`. */
export function successors(prog: readonly CInsn[], at: number): number[] {
  const i = prog[at]!;
  const cl = c.cls(i.code);
  if (cl === c.RET) return [];
  if (cl !== c.JMP) return [at + 1];
  if (c.op(i.code) === c.JA) return [(at + 1 + (i.k | 0)) | 0];
  return [at + 1 + i.jt, at + 1 + i.jf];
}

function checkInsn(prog: readonly CInsn[], at: number): void {
  const i = prog[at]!;
  const cl = c.cls(i.code);
  if ((cl === c.ST || cl === c.STX || ((cl === c.LD || cl === c.LDX) && c.mode(i.code) === c.MEM)) && i.k >= c.MEMWORDS) {
    throw new Error(`classic BPF: scratch word M[${i.k}] out of range at ${at}`);
  }
  if (cl === c.ALU && c.src(i.code) === c.K && (c.op(i.code) === c.DIV || c.op(i.code) === c.MOD) && i.k === 0) {
    throw new Error(`classic BPF: division by zero at ${at}`);
  }
  if (cl === c.RET && c.size(i.code) === c.X) throw new Error(`classic BPF: "ret x" at ${at}`);
  for (const t of successors(prog, at)) {
    if (t <= at) throw new Refusal('the compiled expression loops (as `protochain` does): loops cannot run at a probe');
    if (t >= prog.length) throw new Error(`classic BPF: jump past the end at ${at}`);
  }
}

/**
 * Analyses a program for a probe that copies the first `window` bytes of the packet.
 * @throws Refusal when the program needs what a probe cannot give (direction, socket
 *   metadata, loops, bytes past the window); Error when it is not valid classic BPF.
 */
export function analyze(prog: readonly CInsn[], window: number): Analysis {
  if (!prog.length || c.cls(prog[prog.length - 1]!.code) !== c.RET) throw new Error('classic BPF: program does not end with ret');
  const states: (State | undefined)[] = new Array(prog.length);
  states[0] = { a: ZERO, x: ZERO, m: new Array<Range>(c.MEMWORDS).fill(ZERO) };
  let need = 0;
  for (let at = 0; at < prog.length; at++) {
    const s = states[at];
    if (!s) continue;
    checkInsn(prog, at);
    const i = prog[at]!;
    const cl = c.cls(i.code);
    const offs = cl === c.LD || cl === c.LDX ? loadOffsets(i, s) : null;
    if (offs) {
      if (c.mode(i.code) === c.ABS && i.k >= c.SKF_AD_OFF) refuseExtension(i);
      const end = offs[1] + (c.mode(i.code) === c.MSH ? 1 : c.bytesOf(i.code));
      if (end > window) {
        const what = c.mode(i.code) === c.IND ? `bytes at an offset it computes from the packet, up to byte ${end}` : `byte ${end}`;
        throw new Refusal(`the expression reads packet ${what}; a probe copies the first ${window} bytes`);
      }
      need = Math.max(need, end);
    }
    const out = step(i, s);
    for (const t of successors(prog, at)) states[t] = joinState(states[t], out);
  }
  return { reachable: Array.from(states, (s) => s !== undefined), need };
}
