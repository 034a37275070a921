/**
 * Where -w writes: a file (written in 1 MiB batches with write(2), so memory does not
 * grow with a fast trace) or standard output ("-", for `| tshark -r -`). A pipe whose
 * reader is slower than the trace keeps at most MAX_QUEUED bytes waiting; past that,
 * packet blocks are counted as lost (never a section or interface block, which later
 * packets refer to).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { UsageError } from '../../shared/errors.js';
import { BLOCK } from '../format.js';

const BATCH = 1024 * 1024;
const MAX_QUEUED = 64 * 1024 * 1024;

export interface PcapngOut {
  readonly name: string;
  write(block: Buffer): void;
  /** Writes what is batched and closes (a file) or waits for the pipe to take it (bounded). */
  close(): Promise<void>;
  /** packet blocks not written: the reader of standard output was too slow */
  readonly lost: number;
}

function fileOut(path: string): PcapngOut {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (err) {
    throw new UsageError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (err as Error).message}`, { cause: err });
  }
  let parts: Buffer[] = [];
  let size = 0;
  const flush = (): void => {
    if (!size) return;
    const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    for (let at = 0; at < all.length; ) at += writeSync(fd, all, at, all.length - at);
    parts = [];
    size = 0;
  };
  return {
    name: path,
    lost: 0,
    write(block) {
      parts.push(block);
      size += block.length;
      if (size >= BATCH) flush();
    },
    async close() {
      try {
        flush();
      } finally {
        closeSync(fd);
      }
    },
  };
}

function stdoutOut(stream: NodeJS.WriteStream): PcapngOut {
  const out = {
    name: 'standard output',
    lost: 0,
    write(block: Buffer): void {
      const packet = block.readUInt32LE(0) === BLOCK.EPB;
      if (packet && stream.writableLength > MAX_QUEUED) {
        out.lost++;
        return;
      }
      stream.write(block);
    },
    async close(): Promise<void> {
      const by = Date.now() + 2000;
      while (stream.writableLength > 0 && !stream.destroyed && Date.now() < by) await new Promise((r) => setTimeout(r, 20));
    },
  };
  return out;
}

/** The output of -w FILE ("-": standard output). */
export function openPcapngOut(file: string): PcapngOut {
  return file === '-' ? stdoutOut(process.stdout) : fileOut(file);
}
