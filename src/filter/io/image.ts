/**
 * The probes' BPF object with an expression in it: its ELF image with the placeholder
 * functions of bpf/pcap.h overwritten (src/filter/splice.ts), ready for openMem.
 */
import { readFileSync } from 'node:fs';
import { EnvironmentError } from '../../shared/errors.js';
import { BPF_OBJECT } from '../../shared/io/paths.js';
import { compileFilter, noFilterBodies, PLACEHOLDER } from '../filter.js';
import type { CompiledFilter } from '../filter.js';
import { findPlaceholder, splice } from '../splice.js';
import { pcapCompile } from './pcap.js';

const images = new Map<string, Uint8Array>();
function image(path: string): Uint8Array {
  let elf = images.get(path);
  if (!elf) {
    try {
      elf = new Uint8Array(readFileSync(path));
    } catch (err) {
      throw new EnvironmentError(`BPF object not built (${path}): run npm run setup`, { cause: err });
    }
    images.set(path, elf);
  }
  return elf;
}

function slots(elf: Uint8Array): { l2: number; l3: number } {
  return { l2: findPlaceholder(elf, PLACEHOLDER.l2).slots, l3: findPlaceholder(elf, PLACEHOLDER.l3).slots };
}

/**
 * Compiles a pcap-filter expression for the probes of the object at `path`.
 * @throws UsageError with libpcap's message, or saying why a probe cannot run it.
 */
export function compileExpression(expression: string, path: string = BPF_OBJECT): CompiledFilter {
  return compileFilter(expression, pcapCompile, slots(image(path)));
}

/**
 * The object's ELF image with `filter` spliced in; without one, with bodies that return at
 * once (the verifier would otherwise walk the placeholders' no-ops in every program).
 */
export function filteredImage(filter: CompiledFilter | undefined, path: string = BPF_OBJECT): Uint8Array {
  const elf = image(path);
  return splice(elf, filter ? filter.bodies : noFilterBodies(slots(elf)));
}
