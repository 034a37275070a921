/** Captured fixtures under test/fixtures/, read from the package root (works from src/ and dist/ alike). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../src/shared/io/paths.js';

/** test/fixtures/<parts...> as bytes. */
export function fixtureBytes(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(join(ROOT, 'test', 'fixtures', ...parts)));
}

/** test/fixtures/<parts...> as text. */
export function fixtureText(...parts: string[]): string {
  return readFileSync(join(ROOT, 'test', 'fixtures', ...parts), 'utf8');
}
