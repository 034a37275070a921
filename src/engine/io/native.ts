/**
 * Typed face of build/pktpath.node (native/pktpath.c), the libbpf edge.
 * Loaded lazily so commands that need no BPF (help, usage errors) work without it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { EnvironmentError } from '../../shared/errors.js';
import { NATIVE_ADDON } from '../../shared/io/paths.js';

declare const objBrand: unique symbol;
declare const pollBrand: unique symbol;
/** An open BPF object (bpf_object plus its links). */
export type ObjHandle = { readonly [objBrand]: true };
/** A libuv poll registration. */
export type PollHandle = { readonly [pollBrand]: true };

/** Ring buffer pages: consumer page (rw) and producer page + data mapped twice (ro). */
export interface RingPages {
  consumer: ArrayBuffer;
  producer: ArrayBuffer;
  size: number;
  pageSize: number;
}

/** Error thrown by the addon: message "<what>: <strerror>", errno set. */
export interface NativeError extends Error {
  errno?: number;
  code?: string;
}

export interface Native {
  setVerbose(level: number): void;
  takeLog(): string;
  open(path: string): ObjHandle;
  programs(h: ObjHandle): { name: string; section: string }[];
  setAutoload(h: ObjHandle, prog: string, on: boolean): void;
  setAttachTarget(h: ObjHandle, prog: string, func: string): void;
  mapInitialValue(h: ObjHandle, map: string): ArrayBuffer;
  setMapInitialValue(h: ObjHandle, map: string, value: Uint8Array): void;
  setMaxEntries(h: ObjHandle, map: string, n: number): void;
  load(h: ObjHandle): void;
  /** Attaches a loaded program the way its section says; returns the link's id (for detach). */
  attach(h: ObjHandle, prog: string): number;
  /** One kprobe.multi link for these functions; `cookies[i]` is what bpf_get_attach_cookie gives for syms[i]. */
  attachKprobeMulti(h: ObjHandle, prog: string, syms: string[], retprobe: boolean, cookies?: number[]): number;
  attachKprobe(h: ObjHandle, prog: string, func: string, retprobe: boolean): number;
  /**
   * Loads a copy of a loaded fentry/fexit program for another kernel function and attaches
   * it: `btfId` in vmlinux BTF, or in `module`'s BTF when one is named.
   */
  attachClone(h: ObjHandle, prog: string, btfId: number, module?: string): number;
  /** Makes a kprobe.multi program a kprobe session program (Linux 6.10+); before load. */
  setKprobeSession(h: ObjHandle, prog: string): void;
  /** One kprobe session link for these functions: the program runs at entry and, when that returned 0, at return. */
  attachKprobeSession(h: ObjHandle, prog: string, syms: string[], cookies?: number[]): number;
  /** Makes a program a BPF netfilter hook program (kernel 6.4+); before load. */
  setNetfilter(h: ObjHandle, prog: string): void;
  /**
   * Hooks a loaded netfilter program into family `pf` (NFPROTO_*), hook `hook`
   * (NF_INET_*) at `priority`, in the network namespace at `netnsPath` (null: this one).
   */
  attachNetfilter(h: ObjHandle, prog: string, pf: number, hook: number, priority: number, netnsPath: string | null): number;
  /** The first 64 KiB of a file as seen from the network namespace at `netnsPath` (null: this one). */
  readInNetns(netnsPath: string | null, file: string): string;
  /** Destroys these links (ids from the attach calls), several at a time; ids already gone are ignored. */
  detach(h: ObjHandle, links: readonly number[]): void;
  /** Destroys every link (several at a time) and frees the object; idempotent. */
  close(h: ObjHandle): void;
  /**
   * close() on a worker thread: the event loop keeps running while the links detach
   * (fentry trampolines take long). The handle is unusable from the call on.
   */
  closeAsync(h: ObjHandle): Promise<void>;
  /** How many threads detach links at once (1: one after another); default 16. */
  setDetachThreads(n: number): void;
  mapFd(h: ObjHandle, map: string): number;
  progFd(h: ObjHandle, prog: string): number;
  mapLookup(fd: number, key: Uint8Array, valueSize: number): ArrayBuffer | null;
  /** Sets key to value in a map; flags 0 (any, the default), 1 (only a new key), 2 (only an existing one). */
  mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags?: number): void;
  ringbuf(fd: number): RingPages;
  pollStart(fd: number, cb: (status: number) => void): PollHandle;
  pollStop(p: PollHandle): void;
  libbpfVersion(): string;
  /** gives the C heap's free pages back to the system (malloc_trim) */
  trimHeap(): void;
  probeProgType(type: 'kprobe' | 'tracing' | 'raw_tracepoint' | 'tracepoint'): boolean;
  /**
   * libpcap's pcap_compile on a dead handle of `linktype` (DLT_*): classic BPF, 8 bytes an
   * instruction. Throws an Error with libpcap's message and code "EPCAP".
   */
  pcapCompile(expression: string, linktype: number, snaplen: number): Uint8Array;
  /** Opens a BPF object from an ELF image in memory (libbpf copies what it keeps). */
  openMem(elf: Uint8Array, name: string): ObjHandle;
  /**
   * Opens the object file at `path` with bodies[i] written at file offset offsets[i]
   * first, in memory that is freed once libbpf has opened it.
   */
  openPatched(path: string, name: string, offsets: number[], bodies: Uint8Array[]): ObjHandle;
  /** BPF_PROG_TEST_RUN: the program's return value and the mean ns per run over `repeat` runs. */
  testRun(progFd: number, data: Uint8Array, repeat: number): { retval: number; duration: number };
}

let cached: Native | undefined;

/** Loads the addon; an EnvironmentError with one clear line when it or libbpf is missing. */
export function native(): Native {
  if (cached) return cached;
  if (!existsSync(NATIVE_ADDON)) {
    throw new EnvironmentError(`native addon not built (${NATIVE_ADDON}): run npm run setup`);
  }
  try {
    cached = createRequire(import.meta.url)(NATIVE_ADDON) as Native;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const hint = /libbpf/.test(msg) ? 'libbpf is missing: apt-get install libbpf1 (or run npm run setup)' : msg.split('\n')[0];
    throw new EnvironmentError(`cannot load the native addon: ${hint}`, { cause: err });
  }
  return cached;
}
