import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCatalog } from '../core/catalog.js';
import type { Catalog } from '../core/catalog.js';
import { ROOT } from './paths.js';

let cached: Catalog | undefined;

/** The probe catalogue shipped with the package. */
export function catalog(): Catalog {
  cached ??= parseCatalog(JSON.parse(readFileSync(join(ROOT, 'src/core/probes.json'), 'utf8')));
  return cached;
}
