/**
 * The addon functions `pktpath drops` uses (native/pktpath.c): a whole map in one call
 * (BPF_MAP_LOOKUP_BATCH where the kernel has it, 5.6+; key by key before), a program's
 * statistics, and the number of possible CPUs (slots of a per-CPU value).
 */
import { native } from '../../engine/io/native.js';

export interface MapDump {
  /** count keys back to back */
  keys: ArrayBuffer;
  /** count values back to back (per-CPU maps: every CPU's slot of each) */
  values: ArrayBuffer;
  count: number;
  /** read with BPF_MAP_LOOKUP_BATCH */
  batched: boolean;
}

export interface ProgInfo {
  id: number;
  /** run_cnt / run_time_ns: only while kernel.bpf_stats_enabled is 1 */
  runCount: number;
  runTimeNs: number;
  /** runs skipped because the program was already running on that CPU (5.12+) */
  recursionMisses: number;
}

export interface DropsNative {
  mapDump(fd: number, keySize: number, valueSize: number, maxEntries: number): MapDump;
  progInfo(progFd: number): ProgInfo;
  possibleCpus(): number;
  mapLookup(fd: number, key: Uint8Array, valueSize: number): ArrayBuffer | null;
}

export function dropsNative(): DropsNative {
  return native() as unknown as DropsNative;
}
