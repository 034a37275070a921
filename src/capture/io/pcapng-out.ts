/**
 * Where -w writes: a file (written in 1 MiB batches with write(2), so memory does not
 * grow with a fast trace) or standard output ("-", for `| tshark -r -`). A pipe whose
 * reader is slower than the trace keeps at most MAX_QUEUED bytes waiting; past that,
 * packet blocks are counted as lost (never a section or interface block, which later
 * packets refer to).
 */
import { closeSync, fstatSync, openSync, rmSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { UsageError } from '../../shared/errors.js';
import { BlockSplitter } from '../annotate.js';
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
  /**
   * After close, a regular file only: rewrites it block by block through `each` (a new
   * file beside it, renamed over it, so the old one stays whole until the new one is).
   * Absent for standard output, a pipe or a device.
   */
  readonly rewrite?: (each: (block: Buffer) => Buffer) => Promise<void>;
}

/**
 * Rewrites `path` through `each`, reading and writing BATCH bytes at a time. The new file
 * keeps the old one's mode and owner (a file the user made for -w stays theirs); a forced
 * exit in the middle (a second Ctrl-C) removes it and leaves the old one.
 */
async function rewriteFile(path: string, each: (block: Buffer) => Buffer): Promise<void> {
  const tmp = `${path}.pktpath-${process.pid}.tmp`;
  const src = await open(path, 'r');
  let dst: Awaited<ReturnType<typeof open>> | null = null;
  const onExit = (): void => void rmSync(tmp, { force: true });
  process.once('exit', onExit);
  try {
    const st = await src.stat();
    dst = await open(tmp, 'wx', st.mode & 0o7777);
    await dst.chmod(st.mode & 0o7777); // open's mode passes through the umask
    await dst.chown(st.uid, st.gid).catch(() => {});
    const split = new BlockSplitter();
    for (;;) {
      const { bytesRead, buffer } = await src.read(Buffer.allocUnsafe(BATCH), 0, BATCH, null);
      if (!bytesRead) break;
      const out = split.push(buffer.subarray(0, bytesRead)).map(each);
      if (out.length) await dst.write(Buffer.concat(out));
    }
    split.end();
    await dst.close();
    dst = null;
    await rename(tmp, path);
  } catch (err) {
    await dst?.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw new Error(`cannot rewrite ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    process.off('exit', onExit);
    await src.close();
  }
}

function fileOut(path: string): PcapngOut {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (err) {
    throw new UsageError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (err as Error).message}`, { cause: err });
  }
  const regular = fstatSync(fd).isFile();
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
    ...(regular ? { rewrite: (each: (block: Buffer) => Buffer) => rewriteFile(path, each) } : {}),
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
