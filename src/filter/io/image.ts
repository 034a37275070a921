/**
 * The probes' BPF object with an expression in it: where bpf/pcap.h's placeholder
 * functions are in the object file, and what to write over them (the addon's openPatched
 * reads the file into memory it frees after the open, so the 13 MB image never sits in
 * the JavaScript heap).
 */
import { readFileSync } from 'node:fs';
import { EnvironmentError } from '../../shared/errors.js';
import { BPF_OBJECT } from '../../shared/io/paths.js';
import { compileFilter, noFilterBodies, PLACEHOLDER } from '../filter.js';
import type { CompiledFilter } from '../filter.js';
import { findPlaceholder } from '../splice.js';
import type { Placeholder } from '../splice.js';
import { pcapCompile } from './pcap.js';

function readObject(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new EnvironmentError(`BPF object not built (${path}): run npm run setup`, { cause: err });
  }
}

/** Where the placeholders are in each object (a few numbers; the object itself is not kept). */
const known = new Map<string, Record<string, Placeholder>>();
function placeholders(path: string): Record<string, Placeholder> {
  let found = known.get(path);
  if (!found) {
    const image = readObject(path);
    found = { [PLACEHOLDER.l2]: findPlaceholder(image, PLACEHOLDER.l2), [PLACEHOLDER.l3]: findPlaceholder(image, PLACEHOLDER.l3) };
    known.set(path, found);
  }
  return found;
}

function slots(path: string): { l2: number; l3: number } {
  const p = placeholders(path);
  return { l2: p[PLACEHOLDER.l2]!.slots, l3: p[PLACEHOLDER.l3]!.slots };
}

/**
 * Compiles a pcap-filter expression for the probes of the object at `path`.
 * @throws UsageError with libpcap's message, or saying why a probe cannot run it.
 */
export function compileExpression(expression: string, path: string = BPF_OBJECT): CompiledFilter {
  return compileFilter(expression, pcapCompile, slots(path));
}

/**
 * Where to write what in the object file for `filter`: each placeholder's file offset and
 * its body; without an expression, bodies that return at once (the verifier would
 * otherwise walk the placeholders' no-ops in every program). For the addon's openPatched.
 */
export function filterPatches(filter: CompiledFilter | undefined, path: string = BPF_OBJECT): { offsets: number[]; bodies: Uint8Array[] } {
  const found = placeholders(path);
  const bodies = filter ? filter.bodies : noFilterBodies(slots(path));
  const names = Object.keys(bodies);
  for (const name of names) {
    const p = found[name];
    if (!p) throw new Error(`BPF object has no placeholder function ${name}`);
    if (bodies[name]!.length !== p.slots * 8) throw new Error(`body for ${name} is ${bodies[name]!.length / 8} instructions; the placeholder has ${p.slots}`);
  }
  return { offsets: names.map((n) => found[n]!.fileOffset), bodies: names.map((n) => bodies[n]!) };
}
