/**
 * Reads a capture file (or standard input, "-") in 4 MiB chunks into a CaptureStream,
 * so a file of any size is analyzed in constant memory.
 */
import { open } from 'node:fs/promises';
import { UsageError } from '../../shared/errors.js';
import { CaptureStream } from '../stream.js';
import type { CaptureDescription, CaptureSink } from '../records.js';

const CHUNK = 4 * 1024 * 1024;

function readError(name: string, err: unknown): UsageError {
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
  return new UsageError(`cannot read ${name}: ${why}`, { cause: err });
}

async function readStdin(stream: CaptureStream): Promise<void> {
  try {
    for await (const chunk of process.stdin) stream.push(chunk as Buffer);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw readError('standard input', err);
  }
}

/** Reads ahead: the next chunk is being read while the current one is parsed. */
async function readFile(path: string, stream: CaptureStream): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw readError(path, err);
  }
  const read = (b: Buffer): Promise<number> =>
    fh.read(b, 0, CHUNK, null).then(
      (r) => r.bytesRead,
      (err: unknown) => Promise.reject(readError(path, err)),
    );
  try {
    const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)] as const;
    let k = 0;
    let pending = read(bufs[0]);
    for (;;) {
      const n = await pending;
      if (n === 0) return;
      const cur = bufs[k]!;
      k ^= 1;
      pending = read(bufs[k]!);
      try {
        stream.push(cur.subarray(0, n));
      } catch (err) {
        await pending.catch(() => 0); // let the read in flight end before the file closes
        throw err;
      }
    }
  } finally {
    await fh.close();
  }
}

/** Reads the whole capture at `path` ("-": standard input), handing its packets to `sink`. */
export async function readCapture(path: string, sink: CaptureSink): Promise<CaptureDescription> {
  const name = path === '-' ? 'standard input' : path;
  const stream = new CaptureStream(name, sink);
  if (path === '-') await readStdin(stream);
  else await readFile(path, stream);
  return stream.finish();
}
