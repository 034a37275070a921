import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCatalog } from '../catalog.js';
import type { Catalog } from '../catalog.js';
import { ROOT } from '../../shared/io/paths.js';

let cached: Catalog | undefined;

/** The probe catalogue shipped with the package. */
export function catalog(): Catalog {
  cached ??= parseCatalog(JSON.parse(readFileSync(join(ROOT, 'src/engine/probes.json'), 'utf8')));
  return cached;
}
