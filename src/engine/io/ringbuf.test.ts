import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingReader } from './ringbuf.js';
import type { RingPages } from './native.js';

const PAGE = 4096;
const SIZE = 4096; // data area; mapped twice after the producer page, as the kernel does

/** A fake ring in plain memory, laid out like the kernel's mmap of a BPF ring buffer. */
class FakeRing {
  readonly consumer = new ArrayBuffer(PAGE);
  readonly producer = new ArrayBuffer(PAGE + 2 * SIZE);
  private prod = 0;
  private readonly u8 = new Uint8Array(this.producer);
  private readonly dv = new DataView(this.producer);

  pages(): RingPages {
    return { consumer: this.consumer, producer: this.producer, size: SIZE, pageSize: PAGE };
  }
  consumerPos(): number {
    return Number(new BigUint64Array(this.consumer)[0]);
  }
  /** Writes a record (both mappings of the data area), returns its header offset. */
  write(payload: Uint8Array, flags: { busy?: boolean; discard?: boolean } = {}): number {
    const at = this.prod;
    const hdr = payload.length | (flags.busy ? 0x80000000 : 0) | (flags.discard ? 0x40000000 : 0);
    const rec = new Uint8Array(8 + payload.length);
    new DataView(rec.buffer).setUint32(0, hdr >>> 0, true);
    rec.set(payload, 8);
    for (let i = 0; i < rec.length; i++) {
      const pos = (at + i) % SIZE;
      this.u8[PAGE + pos] = rec[i]!;
      this.u8[PAGE + SIZE + pos] = rec[i]!;
    }
    this.prod += (rec.length + 7) & ~7;
    this.dv.setBigUint64(0, BigInt(this.prod), true);
    return at;
  }
  commit(at: number, len: number): void {
    for (const base of [PAGE, PAGE + SIZE]) this.dv.setUint32(base + (at % SIZE), len, true);
  }
}

function payload(n: number, len = 20): Uint8Array {
  return new Uint8Array(len).fill(n);
}

test('drains committed records in order and releases their space', () => {
  const ring = new FakeRing();
  ring.write(payload(1));
  ring.write(payload(2, 3));
  const seen: number[][] = [];
  const reader = new RingReader(ring.pages());
  const n = reader.drain((_v, bytes, off, len) => void seen.push([...bytes.subarray(off, off + len)]));
  assert.equal(n, 2);
  assert.deepEqual(seen, [[...payload(1)], [...payload(2, 3)]]);
  assert.equal(ring.consumerPos(), 32 + 16);
  assert.equal(reader.pending(), 0);
});

test('skips discarded records, stops at a busy one and resumes after its commit', () => {
  const ring = new FakeRing();
  ring.write(payload(1), { discard: true });
  const busyAt = ring.write(payload(2), { busy: true });
  ring.write(payload(3));
  const reader = new RingReader(ring.pages());
  const seen: number[] = [];
  const sink = (_v: DataView, bytes: Uint8Array, off: number): void => void seen.push(bytes[off]!);
  assert.equal(reader.drain(sink), 0);
  assert.equal(ring.consumerPos(), 32, 'the discarded record is released, the busy one is not');
  ring.commit(busyAt, 20);
  assert.equal(reader.drain(sink), 2);
  assert.deepEqual(seen, [2, 3]);
});

test('a record that wraps around the end is read whole', () => {
  const ring = new FakeRing();
  const reader = new RingReader(ring.pages());
  const sink = (): void => {};
  // fill to just before the end
  for (let i = 0; i < 127; i++) ring.write(payload(i % 250, 24));
  reader.drain(sink);
  const big = new Uint8Array(100).map((_, i) => i);
  ring.write(big);
  let got: number[] = [];
  reader.drain((_v, bytes, off, len) => void (got = [...bytes.subarray(off, off + len)]));
  assert.deepEqual(got, [...big]);
});

test('returning false stops the drain and keeps the rest for later', () => {
  const ring = new FakeRing();
  for (let i = 0; i < 5; i++) ring.write(payload(i));
  const reader = new RingReader(ring.pages());
  let count = 0;
  reader.drain(() => ++count < 2);
  assert.equal(count, 2);
  const rest: number[] = [];
  reader.drain((_v, bytes, off) => void rest.push(bytes[off]!));
  assert.deepEqual(rest, [2, 3, 4]);
});
