/**
 * A capture as a stream of chunks: bytes are appended to one buffer, complete records are
 * parsed out of it at once, and the remainder waits for the next chunk. The buffer only
 * grows to the largest record (bounded by MAX_RECORD), so any file is read in constant
 * memory, and chunk boundaries may fall anywhere.
 */
import { detect } from './reader.js';
import type { CaptureDescription, CaptureSink, RecordParser } from './records.js';

const INITIAL = 4 * 1024 * 1024;

export class CaptureStream {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL);
  private start = 0;
  private end = 0;
  /** file offset of buf[start] */
  private offset = 0;
  private parser: RecordParser | null = null;

  constructor(
    private readonly name: string,
    private readonly sink: CaptureSink,
  ) {}

  push(chunk: Uint8Array): void {
    this.room(chunk.length);
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
    if (!this.parser) {
      if (this.end - this.start < 4) return;
      this.parser = detect(this.buf.subarray(this.start, this.end), this.name, this.sink);
    }
    const next = this.parser.parse(this.buf, this.start, this.end, this.offset);
    this.offset += next - this.start;
    this.start = next;
  }

  /** Makes room for `n` more bytes: moves the unparsed tail to the front, in a bigger buffer if needed. */
  private room(n: number): void {
    if (this.end + n <= this.buf.length) return;
    const left = this.end - this.start;
    const size = Math.max(this.buf.length, left + n, this.parser?.needed() ?? 0);
    const out = size > this.buf.length ? Buffer.allocUnsafe(size) : this.buf;
    this.buf.copy(out, 0, this.start, this.end);
    this.buf = out;
    this.start = 0;
    this.end = left;
  }

  /** End of input: throws if it cut a record short; returns what the capture was. */
  finish(): CaptureDescription {
    if (!this.parser) this.parser = detect(this.buf.subarray(this.start, this.end), this.name, this.sink);
    this.parser.finish(this.end - this.start, this.offset);
    return this.parser.describe();
  }
}
