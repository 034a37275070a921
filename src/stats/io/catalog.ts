/** The counters' meanings (src/stats/counters.json), read and checked once. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../shared/io/paths.js';
import { parseCounterCatalog } from '../meaning.js';
import type { CounterCatalog } from '../meaning.js';

let cached: CounterCatalog | undefined;

export function counterCatalog(): CounterCatalog {
  cached ??= parseCounterCatalog(JSON.parse(readFileSync(join(ROOT, 'src/stats/counters.json'), 'utf8')));
  return cached;
}
