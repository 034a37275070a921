/**
 * Ring-buffer consumption benchmark: the same BPF producer (bench/flood.bpf.c), once
 * consumed by pktpath's in-place JavaScript reader and once by libbpf's C
 * ring_buffer__poll (build/flood-bench), in the same run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { decodeEvent } from '../src/engine/decode.js';
import { native } from '../src/engine/io/native.js';
import { BUILD_DIR } from '../src/shared/io/paths.js';
import { RingReader } from '../src/engine/io/ringbuf.js';

const OBJ = join(BUILD_DIR, 'flood.bpf.o');
const TOOL = join(BUILD_DIR, 'flood-bench');
const BATCH = 4096;

export interface RingResult {
  readonly eventsPerS: number;
  readonly lost: number;
}

/** libbpf's C consumer on the same object. */
export function cConsumer(total: number): RingResult {
  const r = spawnSync(TOOL, ['c', OBJ, String(total)], { encoding: 'utf8', timeout: 120_000 });
  const m = /^c (\d+) (\d+)/m.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) throw new Error(`flood-bench c failed: ${r.stderr || r.stdout}`);
  return { eventsPerS: Number(m[1]), lost: Number(m[2]) };
}

/**
 * pktpath's reader: the object is loaded here, the producer runs in build/flood-bench
 * with the program and ring fds inherited. `decode` also decodes every event fully.
 */
export function jsConsumer(total: number, decode: boolean): Promise<RingResult> {
  total -= total % BATCH;
  const n = native();
  const h = n.open(OBJ);
  n.load(h);
  const progFd = n.progFd(h, 'flood');
  const ringFd = n.mapFd(h, 'events');
  const statsFd = n.mapFd(h, 'stats');
  const reader = new RingReader(n.ringbuf(ringFd));
  let consumed = 0;
  const sink = decode
    ? (view: DataView, bytes: Uint8Array, off: number, len: number): void => {
        if (decodeEvent(view, bytes, off, len).probe) consumed++;
      }
    : (view: DataView, _bytes: Uint8Array, off: number): void => {
        if (view.getUint16(off + 56, true)) consumed++;
      };
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(TOOL, ['produce', String(total)], { stdio: ['ignore', 'inherit', 'inherit', progFd, ringFd] });
    child.on('error', reject);
    const poller = n.pollStart(ringFd, () => {
      reader.drain(sink);
      if (consumed >= total) {
        const dt = Number(process.hrtime.bigint() - t0) / 1e9;
        n.pollStop(poller);
        const lostBuf = n.mapLookup(statsFd, new Uint8Array(4), 8);
        const lost = lostBuf ? Number(new BigUint64Array(lostBuf)[0]) : 0;
        child.once('exit', () => {
          n.close(h);
          resolve({ eventsPerS: total / dt, lost });
        });
        if (child.exitCode !== null) child.emit('exit', child.exitCode);
      }
    });
  });
}
