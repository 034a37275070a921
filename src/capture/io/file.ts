/**
 * Streams a capture file (or standard input, "-") through a reader: one buffer, refilled
 * as records are consumed, grown only to the largest record (bounded by MAX_RECORD), so
 * a file of any size is read in constant memory.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { UsageError } from '../../shared/errors.js';
import { detect } from '../reader.js';
import type { CaptureDescription, CaptureSink, RecordParser } from '../records.js';

const CHUNK = 4 * 1024 * 1024;

type Source = { read(into: Buffer, at: number, len: number): Promise<number>; close(): Promise<void> };

function fileSource(fh: FileHandle): Source {
  return {
    read: async (into, at, len) => (await fh.read(into, at, len, null)).bytesRead,
    close: () => fh.close(),
  };
}

/** Standard input as a Source: chunks are copied into the reader's buffer as asked. */
function stdinSource(stream: NodeJS.ReadableStream): Source {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let pending: Buffer | null = null;
  return {
    async read(into, at, len) {
      if (!pending || pending.length === 0) {
        const r = await it.next();
        if (r.done) return 0;
        pending = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      }
      const n = pending.copy(into, at, 0, Math.min(len, pending.length));
      pending = pending.subarray(n);
      return n;
    },
    close: async () => undefined,
  };
}

async function openSource(path: string): Promise<Source> {
  if (path === '-') return stdinSource(process.stdin);
  try {
    return fileSource(await open(path, 'r'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new UsageError(`cannot read ${path}: ${why}`, { cause: err });
  }
}

/** Reads the whole capture at `path`, handing its packets to `sink`; returns what it was. */
export async function readCapture(path: string, sink: CaptureSink): Promise<CaptureDescription> {
  const src = await openSource(path);
  const name = path === '-' ? 'standard input' : path;
  let buf: Buffer = Buffer.allocUnsafe(CHUNK);
  let start = 0;
  let end = 0;
  let offset = 0; // file offset of buf[start]
  let parser: RecordParser | null = null;
  try {
    for (;;) {
      const n = await readInto(src, buf, end, name);
      end += n;
      if (!parser && (end >= 4 || n === 0)) parser = detect(buf.subarray(0, end), name, sink);
      if (parser) {
        const next = parser.parse(buf, start, end, offset);
        offset += next - start;
        start = next;
      }
      if (n === 0) break;
      buf = makeRoom(buf, start, end, parser?.needed() ?? 4);
      end -= start;
      start = 0;
    }
    parser!.finish(end - start, offset);
    return parser!.describe();
  } finally {
    await src.close();
  }
}

async function readInto(src: Source, buf: Buffer, at: number, name: string): Promise<number> {
  try {
    return await src.read(buf, at, buf.length - at);
  } catch (err) {
    throw new UsageError(`cannot read ${name}: ${(err as Error).message}`, { cause: err });
  }
}

/** Moves the unconsumed bytes to the front, in a bigger buffer when the next record needs one. */
function makeRoom(buf: Buffer, start: number, end: number, needed: number): Buffer {
  const size = Math.max(CHUNK, needed * 2);
  const out = size > buf.length ? Buffer.allocUnsafe(size) : buf;
  buf.copy(out, 0, start, end);
  return out;
}
