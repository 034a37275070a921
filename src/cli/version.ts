/**
 * `pktpath --version`: pktpath's version, the libbpf the addon runs with, and the running
 * kernel, one per line. A part that cannot be known says why instead of failing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../shared/io/paths.js';
import { native } from '../engine/io/native.js';
import { kernelRelease } from '../kernel/io/kernel.js';

export interface Versions {
  readonly pktpath: string;
  readonly libbpf: string;
  readonly kernel: string;
}

export function versionText(v: Versions): string {
  return `pktpath ${v.pktpath}\nlibbpf ${v.libbpf}\nkernel ${v.kernel}\n`;
}

/** `get()`, or "unknown (why)" when it throws. */
export function known(get: () => string): string {
  try {
    return get();
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  }
}

/** The versions of this installation and machine. */
export function versions(): Versions {
  return {
    pktpath: known(() => (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version),
    libbpf: known(() => native().libbpfVersion()),
    kernel: kernelRelease(),
  };
}
