/** The README's kernel floors table is the code's (src/kernel/features.ts), word for word. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { floorsMarkdown } from '../../src/kernel/features.js';
import { ROOT } from '../../src/shared/io/paths.js';

const BEGIN = '<!-- kernel-floors: generated from src/kernel/features.ts; test/unit/readme-floors.test.ts checks it -->';
const END = '<!-- /kernel-floors -->';

test('README: the kernel floors table agrees with KERNEL_FLOORS', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  assert.ok(start >= 0 && end > start, `README.md has the kernel floors table between\n${BEGIN}\n${END}`);
  const inReadme = readme.slice(start + BEGIN.length, end).trim();
  assert.equal(inReadme, floorsMarkdown(), 'update the README table from floorsMarkdown() (or the table in src/kernel/features.ts)');
});
