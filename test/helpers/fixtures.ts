/** Captured fixtures under test/fixtures/, found from src/ or dist/ alike. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../src/shared/io/paths.js';

/** test/fixtures/<path> as bytes. */
export function fixtureBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(join(ROOT, 'test', 'fixtures', path)));
}

/** test/fixtures/<path> as text. */
export function fixtureText(path: string): string {
  return readFileSync(join(ROOT, 'test', 'fixtures', path), 'utf8');
}
