import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest directory above this file holding package.json. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bpf'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('pktpath: cannot find the package root');
    dir = up;
  }
}

export const ROOT = findRoot();
export const BUILD_DIR = join(ROOT, 'build');
export const BPF_OBJECT = join(BUILD_DIR, 'pktpath.bpf.o');
export const NATIVE_ADDON = join(BUILD_DIR, 'pktpath.node');
