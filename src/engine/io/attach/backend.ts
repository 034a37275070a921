/**
 * One interface for every way pktpath hooks a BPF program into the kernel: tracepoints,
 * fentry (with fexit), kprobe.multi, kprobe, and BPF netfilter hooks. A backend takes
 * part in two phases of the loader (src/engine/io/loader.ts): before load it names (and
 * sets up) the programs its targets need; after load it attaches them and says, target
 * by target, what happened. Every backend runs the same contract test
 * (test/contracts/backend.suite.ts).
 */
import { native } from '../native.js';
import type { ObjHandle } from '../native.js';
import type { ProbeStatus } from '../../backends.js';

export type BackendName = 'tracepoint' | 'fentry' | 'kprobe.multi' | 'kprobe' | 'netfilter';

/** What attaching a backend's targets did. */
export interface Attachment {
  /** one entry per target (or per function and its return, for fentry) */
  readonly status: readonly ProbeStatus[];
  /** the links made, for detach */
  readonly links: readonly number[];
  /** false when the mechanism itself does not work here (not just one target); `why` says why */
  readonly usable: boolean;
  readonly why?: string;
  /** the error that showed the mechanism does not work (for backendReason) */
  readonly error?: unknown;
}

export interface AttachBackend<T> {
  readonly name: BackendName;
  /** Before load: switches on, and points, the programs these targets need; returns their names. */
  prepare(h: ObjHandle, targets: readonly T[]): string[];
  /** After load: attaches every target. Only a failure of the mechanism as a whole makes it unusable. */
  attach(h: ObjHandle, targets: readonly T[]): Attachment;
}

/** Takes an attachment's links down again (the object stays loaded). */
export function detach(h: ObjHandle, a: Attachment): void {
  if (a.links.length) native().detach(h, a.links);
}

/** The message of an error from the addon. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
