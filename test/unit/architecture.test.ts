/**
 * The layout rule, checked instead of remembered: inside every subject folder of src/,
 * files outside an `io/` folder are pure (plain data in, plain data out). They may not
 * import what touches the OS (files, processes, sockets, the native addon) nor any
 * module that lives in an `io/` folder. `src/cli/` and `src/demo/` are the program's
 * entry points and may use everything. Test files are exempt: they may read fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { ROOT } from '../../src/shared/io/paths.js';

/** Node built-ins a pure file may use: they compute, they do not reach the OS. */
const PURE_BUILTINS = new Set(['node:path', 'node:url', 'node:util', 'node:buffer', 'node:events', 'node:string_decoder']);
const ENTRY_FOLDERS = ['src/cli/', 'src/demo/'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

export function isEdge(rel: string): boolean {
  return rel.split('/').includes('io') || ENTRY_FOLDERS.some((f) => rel.startsWith(f));
}

/** Import specifiers of a TypeScript source (static, dynamic and `export ... from`). */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** Why a pure file may not import `spec`, or null when it may. */
export function forbidden(rel: string, spec: string): string | null {
  if (spec.startsWith('node:')) return PURE_BUILTINS.has(spec) ? null : `imports ${spec}`;
  if (!spec.startsWith('.')) return /^(commander)$/.test(spec) ? `imports ${spec} (a command-line concern)` : null;
  const target = posix.normalize(posix.join(posix.dirname(rel), spec));
  if (isEdge(target)) return `imports ${target}, which is OS edge`;
  return null;
}

const srcFiles = sources(join(ROOT, 'src')).map((p) => relative(ROOT, p).split('\\').join('/'));

test('the rule itself: an io/ import, node:fs and node:child_process are refused; node:path is not', () => {
  assert.equal(forbidden('src/engine/decode.ts', 'node:fs'), 'imports node:fs');
  assert.equal(forbidden('src/engine/decode.ts', 'node:child_process'), 'imports node:child_process');
  assert.match(forbidden('src/output/format.ts', './io/resolver.js') ?? '', /OS edge/);
  assert.match(forbidden('src/output/format.ts', '../engine/io/native.js') ?? '', /OS edge/);
  assert.equal(forbidden('src/output/format.ts', '../engine/event.js'), null);
  assert.equal(forbidden('src/output/format.ts', 'node:path'), null);
  assert.deepEqual(importsOf("import type { A } from './a.js';\nexport { b } from '../b.js';\nconst m = await import('./io/c.js');\nimport './d.js';"), [
    './a.js',
    '../b.js',
    './d.js',
    './io/c.js',
  ]);
});

test('the tree is subject-first: no layer folders (core/, os/) are left in src/', () => {
  const top = readdirSync(join(ROOT, 'src'));
  assert.ok(!top.includes('core') && !top.includes('os'), `src/ still has ${top.join(', ')}`);
  assert.ok(srcFiles.length > 30, `only ${srcFiles.length} source files found: is ROOT right?`);
});

test('pure files import neither the OS nor an io/ module', () => {
  const bad: string[] = [];
  for (const rel of srcFiles.filter((f) => !isEdge(f))) {
    const text = readFileSync(join(ROOT, rel), 'utf8');
    for (const spec of importsOf(text)) {
      const why = forbidden(rel, spec);
      if (why) bad.push(`${rel} ${why}`);
    }
    if (/\bcreateRequire\b|\bprocess\.(?!hrtime)\w/.test(text)) bad.push(`${rel} uses process or createRequire`);
  }
  assert.deepEqual(bad, [], `pure files reaching the OS (move the OS part under an io/ folder):\n${bad.join('\n')}`);
});
