/**
 * Reads what the kernel side counted: the whole drop table in one call per refresh, the
 * samples waiting in the ring (drained in place, no native call per record), the
 * per-CPU statistics, the program's recursion misses, and stacks by id.
 */
import { RingReader } from '../../engine/io/ringbuf.js';
import { decodeEntries, decodeSample, sumPerCpu } from '../decode.js';
import type { DropEntry, DropSample } from '../decode.js';
import { DROP_KEY, DROP_STATS, STACK_DEPTH } from '../layout.js';
import type { ProbeCounters } from '../report.js';
import { PERCPU_SLOT } from '../decode.js';
import type { LoadedDrops } from './load.js';
import { dropsNative } from './native.js';

export class ProbeReader {
  private readonly ring: RingReader;
  private readonly cpus: number;
  /** whether the last table read used BPF_MAP_LOOKUP_BATCH */
  batched = false;

  constructor(private readonly probe: LoadedDrops) {
    this.ring = new RingReader(probe.ring);
    this.cpus = dropsNative().possibleCpus();
  }

  /** Every key of the table with its counts summed over the CPUs. */
  entries(): DropEntry[] {
    const d = dropsNative().mapDump(this.probe.countsFd, DROP_KEY.size, PERCPU_SLOT * this.cpus, this.probe.tableSize);
    this.batched = d.batched;
    return decodeEntries(d.keys, d.values, d.count, this.cpus);
  }

  /** The samples written since the last call. */
  samples(): DropSample[] {
    const out: DropSample[] = [];
    this.ring.drain((view, bytes, off, len) => {
      const s = decodeSample(view, bytes, off, len);
      if (s) out.push(s);
    });
    return out;
  }

  private stat(idx: number): number {
    const v = dropsNative().mapLookup(this.probe.statsFd, new Uint8Array(new Uint32Array([idx]).buffer), 8 * this.cpus);
    return v ? sumPerCpu(v) : 0;
  }

  counters(): ProbeCounters {
    return {
      samples: this.stat(DROP_STATS.samples),
      samplesLost: this.stat(DROP_STATS.samplesLost),
      tableFull: this.stat(DROP_STATS.tableFull),
      filtered: this.stat(DROP_STATS.filtered),
      recursionMisses: dropsNative().progInfo(this.probe.progFd).recursionMisses,
    };
  }

  /** A stack's return addresses, innermost first; undefined when the id is unknown. */
  stack(id: number): bigint[] | undefined {
    const v = dropsNative().mapLookup(this.probe.stacksFd, new Uint8Array(new Int32Array([id]).buffer), STACK_DEPTH * 8);
    if (!v) return undefined;
    const all = [...new BigUint64Array(v)];
    const end = all.indexOf(0n);
    return end < 0 ? all : all.slice(0, end);
  }
}
