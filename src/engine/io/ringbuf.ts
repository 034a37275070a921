/**
 * Reads a BPF ring buffer in place, from its mmap'd pages, with no native call per
 * record (the kernel's layout: include/uapi/linux/bpf.h BPF_RINGBUF_*).
 *
 * Record: 8-byte header { u32 len (bit 31 busy, bit 30 discard), u32 pgoff }, then
 * the payload, padded to 8 bytes. The data area is mapped twice back to back, so a
 * record that wraps around is still contiguous.
 */
import type { RingPages } from './native.js';

const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const LEN_MASK = 0x3fffffff;
const HDR = 8;

/** Called per record; return false to stop draining (e.g. catch count reached). */
export type RecordSink = (view: DataView, bytes: Uint8Array, off: number, len: number) => boolean | void;

export class RingReader {
  private readonly cons: BigUint64Array;
  private readonly prod: BigUint64Array;
  private readonly hdr: Int32Array;
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  private readonly size: number;
  private readonly base: number;
  private pos: number;

  constructor(pages: RingPages) {
    this.cons = new BigUint64Array(pages.consumer, 0, 1);
    this.prod = new BigUint64Array(pages.producer, 0, 1);
    this.hdr = new Int32Array(pages.producer);
    this.view = new DataView(pages.producer);
    this.bytes = new Uint8Array(pages.producer);
    this.size = pages.size;
    this.base = pages.pageSize;
    this.pos = Number(Atomics.load(this.cons, 0));
  }

  /** Bytes written by the kernel and not yet consumed. */
  pending(): number {
    return Number(Atomics.load(this.prod, 0)) - this.pos;
  }

  /**
   * Hands every committed record to `sink`, then releases their space to the kernel.
   * Returns the number of records read.
   */
  drain(sink: RecordSink): number {
    let n = 0;
    let stop = false;
    const size = this.size;
    while (!stop) {
      const prod = Number(Atomics.load(this.prod, 0));
      if (this.pos >= prod) break;
      let pos = this.pos;
      while (pos < prod) {
        const off = this.base + (pos % size);
        const h = Atomics.load(this.hdr, off >> 2) >>> 0;
        if (h & BUSY) break; // reserved, not yet submitted: stop here, keep order
        const len = h & LEN_MASK;
        pos += (len + HDR + 7) & ~7;
        if (!(h & DISCARD)) {
          n++;
          if (sink(this.view, this.bytes, off + HDR, len) === false) {
            stop = true;
            break;
          }
        }
      }
      const progressed = pos !== this.pos;
      this.pos = pos;
      Atomics.store(this.cons, 0, BigInt(pos));
      if (!progressed) break; // only a busy record left: the next wake-up brings it
    }
    return n;
  }
}
