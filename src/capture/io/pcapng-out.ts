/**
 * Where -w writes: a file (written with write(2) as the writer hands its batches over, so
 * memory does not grow with a fast trace) or standard output ("-", for `| tshark -r -`).
 * A pipe whose reader is slower than the trace keeps at most MAX_QUEUED bytes waiting;
 * past that, room() says no, and the writer counts the packets it leaves out (it never
 * leaves out a section or interface block, which later packets refer to).
 */
import { closeSync, fstatSync, openSync, rmSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { UsageError } from '../../shared/errors.js';
import { BlockSplitter } from '../annotate.js';

const BATCH = 1024 * 1024;
const MAX_QUEUED = 64 * 1024 * 1024;

export interface PcapngOut {
  readonly name: string;
  /** Writes whole blocks; `blocks` is valid during the call only (the writer reuses it): a copy is kept if they wait. */
  write(blocks: Buffer): void;
  /** false while the reader is behind (a pipe): packets are left out, counted by the writer */
  room(): boolean;
  /** Closes (a file) or waits for the pipe to take what waits (bounded). */
  close(): Promise<void>;
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
  return {
    name: path,
    ...(regular ? { rewrite: (each: (block: Buffer) => Buffer) => rewriteFile(path, each) } : {}),
    write(blocks) {
      for (let at = 0; at < blocks.length; ) at += writeSync(fd, blocks, at, blocks.length - at);
    },
    room: () => true,
    async close() {
      closeSync(fd);
    },
  };
}

/** Standard output, or any stream: what waits in it is a copy, at most `maxQueued` bytes before room() says no. */
export function streamOut(stream: NodeJS.WritableStream & { readonly writableLength: number; readonly destroyed: boolean }, maxQueued = MAX_QUEUED): PcapngOut {
  const out = {
    name: 'standard output',
    write(blocks: Buffer): void {
      stream.write(Buffer.from(blocks)); // it waits in the stream: a copy
    },
    room: () => stream.writableLength <= maxQueued,
    async close(): Promise<void> {
      const by = Date.now() + 2000;
      while (stream.writableLength > 0 && !stream.destroyed && Date.now() < by) await new Promise((r) => setTimeout(r, 20));
    },
  };
  return out;
}

/** The output of -w FILE ("-": standard output). */
export function openPcapngOut(file: string): PcapngOut {
  return file === '-' ? streamOut(process.stdout) : fileOut(file);
}
