/**
 * Runs a translated placeholder body (src/filter/translate.ts) on packet bytes without a
 * kernel, for the unit tier: only the instructions the translation emits, with the same
 * calling convention (r1 window, r2 caplen, r3 wirelen; M[] below r10). Any other
 * instruction, or a memory access outside the window or the stack, throws, so the test
 * fails instead of guessing. The kernel runs the same bodies in
 * test/integration/pcapfilter-kernel.test.ts.
 */
const U32 = 0xffffffffn;
const U64 = (1n << 64n) - 1n;
const WINDOW_BASE = 1n << 40n;
const STACK_TOP = 1n << 50n;

function alu(op: number, a: bigint, b: bigint, bits: 32 | 64): bigint {
  const mask = bits === 32 ? U32 : U64;
  a &= mask;
  b &= mask;
  switch (op) {
    case 0x00: return (a + b) & mask;
    case 0x10: return (a - b) & mask;
    case 0x20: return (a * b) & mask;
    case 0x30: return b === 0n ? 0n : a / b;
    case 0x40: return a | b;
    case 0x50: return a & b;
    case 0x60: return (a << (b & BigInt(bits - 1))) & mask;
    case 0x70: return a >> (b & BigInt(bits - 1));
    case 0x80: return -a & mask;
    case 0x90: return b === 0n ? a : a % b;
    case 0xa0: return a ^ b;
    case 0xb0: return b;
    default: throw new Error(`ebpf-vm: ALU op 0x${op.toString(16)}`);
  }
}

function cond(op: number, a: bigint, b: bigint): boolean {
  switch (op) {
    case 0x10: return a === b;
    case 0x20: return a > b;
    case 0x30: return a >= b;
    case 0x40: return (a & b) !== 0n;
    case 0x50: return a !== b;
    case 0xa0: return a < b;
    case 0xb0: return a <= b;
    default: throw new Error(`ebpf-vm: jump op 0x${op.toString(16)}`);
  }
}

function bswap(v: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Returns r0 after `exit`. `window` is what the probe copied (caplen = its length unless given). */
export function runBody(body: Uint8Array, window: Uint8Array, wirelen: number, caplen = window.length): number {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const r = new Array<bigint>(11).fill(0n);
  const stack = new Map<bigint, number>();
  r[1] = WINDOW_BASE;
  r[2] = BigInt(caplen);
  r[3] = BigInt(wirelen);
  r[10] = STACK_TOP;
  const bytesAt = (addr: bigint, n: number): bigint => {
    let out = 0n;
    for (let i = n - 1; i >= 0; i--) {
      const a = addr + BigInt(i);
      const off = Number(a - WINDOW_BASE);
      const byte = a >= WINDOW_BASE && off < window.length ? window[off]! : stack.get(a);
      if (byte === undefined) throw new Error(`ebpf-vm: read outside the window and the stack at 0x${a.toString(16)}`);
      out = (out << 8n) | BigInt(byte);
    }
    return out;
  };
  for (let pc = 0, steps = 0; steps < 1_000_000; steps++) {
    const code = v.getUint8(pc * 8);
    const regs = v.getUint8(pc * 8 + 1);
    const dst = regs & 0xf;
    const src = regs >> 4;
    const off = v.getInt16(pc * 8 + 2, true);
    const imm = BigInt(v.getInt32(pc * 8 + 4, true));
    const cls = code & 7;
    const op = code & 0xf0;
    const operand = code & 8 ? r[src]! : imm & U64;
    pc++;
    if (cls === 0x04 || cls === 0x07) {
      if (op === 0xd0) r[dst] = bswap(r[dst]!, Number(imm)); // BPF_END to big endian, on a little-endian host
      else r[dst] = alu(op, r[dst]!, cls === 0x04 ? operand & U32 : operand, cls === 0x04 ? 32 : 64);
    } else if (cls === 0x01) {
      const n = [4, 2, 1, 8][(code >> 3) & 3]!;
      r[dst] = bytesAt((r[src]! + BigInt(off)) & U64, n);
    } else if (cls === 0x03) {
      const addr = (r[dst]! + BigInt(off)) & U64;
      if (addr >= STACK_TOP || addr < STACK_TOP - 512n) throw new Error('ebpf-vm: store outside the stack');
      for (let i = 0; i < 4; i++) stack.set(addr + BigInt(i), Number((r[src]! >> BigInt(8 * i)) & 0xffn));
    } else if (cls === 0x05 || cls === 0x06) {
      if (op === 0x90) return Number(r[0]! & U32);
      if (op === 0x00) pc += off;
      else if (cls === 0x06 ? cond(op, r[dst]! & U32, operand & U32) : cond(op, r[dst]!, operand)) pc += off;
    } else {
      throw new Error(`ebpf-vm: instruction class ${cls}`);
    }
  }
  throw new Error('ebpf-vm: no exit after a million steps');
}
