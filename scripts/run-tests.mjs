#!/usr/bin/env node
// Runs every test with node's built-in runner, in three tiers:
//   unit        dist/src/**/*.test.js, dist/test/unit, dist/test/contracts (the backend contract: skips without root)
//   integration dist/test/integration/*     root + BTF, real namespaces, one file at a time
//   guest       dist/test/guest/*           guest kernels under QEMU (skips with a reason when it cannot run)
// Usage: node scripts/run-tests.mjs [unit|integration|guest ...]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

function find(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

const tiers = {
  unit: { files: find(join(dist, 'src')).concat(find(join(dist, 'test', 'unit')), find(join(dist, 'test', 'contracts'))), concurrency: 2 },
  integration: { files: find(join(dist, 'test', 'integration')), concurrency: 1 },
  guest: { files: find(join(dist, 'test', 'guest')), concurrency: 1 },
};
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(tiers);
let failed = false;
for (const name of wanted) {
  const tier = tiers[name];
  if (!tier) {
    console.error(`run-tests: unknown tier ${name} (unit, integration, guest)`);
    process.exit(2);
  }
  if (!tier.files.length) {
    console.log(`# tier ${name}: no test files`);
    continue;
  }
  console.log(`# tier ${name}: ${tier.files.length} files`);
  const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${tier.concurrency}`, ...tier.files], {
    stdio: 'inherit',
    cwd: root,
  });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
