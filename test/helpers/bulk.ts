/**
 * A large pcap made on the fly, chunk by chunk, for the bench and the memory-bound test:
 * TCP connections of `perFlow` packets each (handshake, data segments a to b and ACKs
 * b to a, FIN, FIN, ACK), `concurrent` of them taking turns, a new one starting where
 * one ends, every sequence number right. No checksums (the analysis does not read
 * them), so it generates hundreds of MB per second.
 */

export interface BulkOptions {
  readonly packets: number;
  /** connections open at once */
  readonly concurrent: number;
  /** packets per connection (at least 6) */
  readonly perFlow?: number;
  /** bytes of each data frame kept (the snaplen); other frames are kept whole */
  readonly caplen?: number;
  /** TCP payload of a data segment */
  readonly payload?: number;
  /** bytes per chunk yielded */
  readonly chunk?: number;
}

const ETH = 14;
const IP = 20;
const TCP = 20;
const A_ADDR = 0x0ac70001; // 10.199.0.1 (+ one per 50000 connections)
const B_ADDR = 0x0ac7ff02;

function template(): Buffer {
  const f = Buffer.alloc(ETH + IP + TCP);
  Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0]).copy(f, 0);
  f[ETH] = 0x45;
  f.writeUInt16BE(0x4000, ETH + 6);
  f[ETH + 8] = 64;
  f[ETH + 9] = 6;
  f[ETH + IP + 12] = 5 << 4;
  return f;
}

interface Conn {
  k: number;
  step: number;
  seqA: number;
  seqB: number;
}

/** Direction and flags of step `i` of `len`: [a to b, flags, carries data]. */
function stepOf(i: number, len: number): [boolean, number, boolean] {
  if (i === 0) return [true, 0x02, false];
  if (i === 1) return [false, 0x12, false];
  if (i === 2) return [true, 0x10, false];
  if (i === len - 3) return [true, 0x11, false];
  if (i === len - 2) return [false, 0x11, false];
  if (i === len - 1) return [true, 0x10, false];
  return i % 2 === 1 ? [true, 0x18, true] : [false, 0x10, false];
}

/** Writes one record at `at` in `out`; returns its size. */
function record(out: Buffer, at: number, tpl: Buffer, c: Conn, ts: number, o: Required<BulkOptions>): number {
  const [aToB, flags, data] = stepOf(c.step, o.perFlow);
  const len = data ? o.payload : 0;
  const wire = ETH + IP + TCP + len;
  const cap = Math.min(o.caplen, wire);
  out.writeUInt32LE(Math.floor(ts / 1e6), at);
  out.writeUInt32LE(ts % 1e6, at + 4);
  out.writeUInt32LE(cap, at + 8);
  out.writeUInt32LE(wire, at + 12);
  const f = at + 16;
  tpl.copy(out, f, 0, Math.min(cap, tpl.length));
  if (cap > tpl.length) out.fill(0, f + tpl.length, f + cap);
  const a = A_ADDR + Math.floor(c.k / 50000);
  const port = 10000 + (c.k % 50000);
  out.writeUInt16BE(IP + TCP + len, f + ETH + 2);
  out.writeUInt16BE((c.step + c.k) & 0xffff, f + ETH + 4);
  out.writeUInt32BE(aToB ? a : B_ADDR, f + ETH + 12);
  out.writeUInt32BE(aToB ? B_ADDR : a, f + ETH + 16);
  const t = f + ETH + IP;
  out.writeUInt16BE(aToB ? port : 443, t);
  out.writeUInt16BE(aToB ? 443 : port, t + 2);
  out.writeUInt32BE((aToB ? c.seqA : c.seqB) >>> 0, t + 4);
  out.writeUInt32BE(c.step === 0 ? 0 : (aToB ? c.seqB : c.seqA) >>> 0, t + 8);
  out[t + 13] = flags;
  out.writeUInt16BE(64240, t + 14);
  if (flags & 0x03) {
    if (aToB) c.seqA++;
    else c.seqB++;
  } else if (data) c.seqA += len;
  c.step++;
  return 16 + cap;
}

function pcapHeader(): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  return head;
}

/** The pcap, in chunks of about `chunk` bytes. */
export function* bulkPcap(opts: BulkOptions): Generator<Buffer> {
  const o: Required<BulkOptions> = { perFlow: 20, caplen: 96, payload: 1448, chunk: 1 << 20, ...opts };
  yield pcapHeader();
  const tpl = template();
  const fresh = (k: number): Conn => ({ k, step: 0, seqA: (k * 7919) >>> 0, seqB: (k * 104729) >>> 0 });
  const conns: Conn[] = Array.from({ length: o.concurrent }, (_, k) => fresh(k));
  let next = o.concurrent;
  const maxRec = 16 + ETH + IP + TCP + o.payload;
  let out = Buffer.allocUnsafe(o.chunk + maxRec);
  let at = 0;
  let ts = 1_700_000_000 * 1e6;
  for (let n = 0; n < o.packets; n++) {
    const slot = n % o.concurrent;
    const c = conns[slot]!;
    at += record(out, at, tpl, c, ts, o);
    if (c.step === o.perFlow) conns[slot] = fresh(next++);
    ts += 10;
    if (at >= o.chunk) {
      yield out.subarray(0, at);
      out = Buffer.allocUnsafe(o.chunk + maxRec);
      at = 0;
    }
  }
  if (at) yield out.subarray(0, at);
}
