/** Test fixtures: test/fixtures/<dir>/<name>, read from the package root (works from src/ and dist/). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../src/shared/io/paths.js';

export function fixture(...parts: string[]): string {
  return readFileSync(join(ROOT, 'test', 'fixtures', ...parts), 'utf8');
}
