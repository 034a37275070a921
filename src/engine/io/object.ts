/**
 * The compiled BPF object (build/pktpath.bpf.o) and the first phases of a load on it:
 * open, select (which programs load), configure (.rodata, ring size), load. Each phase
 * fails with a KernelError that names it; the loader (./loader.ts) and the backend
 * contract test compose them.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { parseBtf } from '../../kernel/btf.js';
import type { Btf } from '../../kernel/btf.js';
import { elfNameTablePlace, elfSectionTablePlace, elfSections, elfSymbols, readElfSection } from '../../kernel/elf.js';
import { encodeConfig } from '../config.js';
import { EnvironmentError, KernelError } from '../../shared/errors.js';
import type { LoadPhase } from '../../shared/errors.js';
import { BPF_OBJECT } from '../../shared/io/paths.js';
import { native } from './native.js';
import { filterPatches } from '../../filter/io/image.js';
import type { CompiledFilter } from '../../filter/filter.js';
import type { ObjHandle } from './native.js';

/** A compiled BPF object's BTF and the .rodata offset of its CFG variable. */
export interface ObjectInfo {
  readonly btf: Btf;
  readonly cfgOffset: number;
}

const objectInfos = new Map<string, ObjectInfo>();
/** BTF of a compiled BPF object, for the layout of its .rodata. */
export function objectInfo(path: string = BPF_OBJECT): ObjectInfo {
  const known = objectInfos.get(path);
  if (known) return known;
  const file = readSectionsOf(path, ['.BTF', '.symtab', '.strtab']);
  const sec = readElfSection(file, '.BTF');
  if (!sec) throw new EnvironmentError(`BPF object ${path} has no BTF: rebuild with npm run setup`);
  const cfg = elfSymbols(file).find((s) => s.name === 'CFG' && s.section === '.rodata');
  // a copy of the section: a view would keep the whole 20 MB object file alive for the run
  const info = { btf: parseBtf(Uint8Array.from(sec)), cfgOffset: cfg?.value ?? 0 };
  objectInfos.set(path, info);
  return info;
}

/**
 * The object file as an image where only the ELF header, the section table, the section
 * names and the sections named are read; the rest stays zero pages never touched, so the
 * 20 MB of program text and line info cost no memory (they did for the whole run once).
 */
function readSectionsOf(path: string, names: readonly string[]): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const image = new Uint8Array(fstatSync(fd).size);
    const fill = (off: number, len: number): void => {
      for (let done = 0; done < len; ) {
        const n = readSync(fd, image, off + done, len - done, off + done);
        if (n === 0) return; // truncated: the ELF reader says so
        done += n;
      }
    };
    fill(0, Math.min(64, image.length));
    const table = elfSectionTablePlace(image);
    if (table) fill(table.offset, table.size);
    const shstr = elfNameTablePlace(image);
    if (shstr) fill(shstr.offset, shstr.size);
    for (const s of elfSections(image)) if (names.includes(s.name)) fill(s.offset, s.size);
    return image;
  } finally {
    closeSync(fd);
  }
}

/** A KernelError naming the phase (and the probe, when one is to blame): "load fentry_skb_1: ...". */
export function phaseError(phase: LoadPhase, probe: string | undefined, detail: string, cause?: unknown): KernelError {
  return new KernelError(`${phase}${probe ? ` ${probe}` : ''}: ${detail}`, { cause, phase, ...(probe ? { probe } : {}) });
}

/**
 * Phase open: the object, opened by libbpf from its ELF image with the run's pcap-filter
 * expression written over bpf/pcap.h's placeholders (without one, bodies that return at once).
 */
export function openObject(filter?: CompiledFilter): ObjHandle {
  if (!existsSync(BPF_OBJECT)) throw new EnvironmentError(`BPF object not built (${BPF_OBJECT}): run npm run setup`);
  try {
    const { offsets, bodies } = filterPatches(filter);
    return native().openPatched(BPF_OBJECT, 'pktpath', offsets, bodies);
  } catch (err) {
    throw phaseError('open', undefined, `${BPF_OBJECT}: ${(err as Error).message}`, err);
  }
}

/** Phase select: exactly the programs in `on` load; every other one stays out. */
export function selectPrograms(h: ObjHandle, on: ReadonlySet<string>): void {
  const n = native();
  for (const p of n.programs(h)) {
    try {
      n.setAutoload(h, p.name, on.has(p.name));
    } catch (err) {
      throw phaseError('select', p.name, (err as Error).message, err);
    }
  }
}

/** Phase configure: the run's filter into .rodata (frozen at load) and the ring buffer's size. */
export function configureObject(h: ObjHandle, fields: object, ringBytes: number): void {
  const n = native();
  const obj = objectInfo();
  try {
    const rodata = new Uint8Array(n.mapInitialValue(h, '.rodata'));
    n.setMapInitialValue(h, '.rodata', encodeConfig(obj.btf, rodata, 'CFG', fields, obj.cfgOffset));
  } catch (err) {
    throw phaseError('configure', 'CFG', (err as Error).message, err);
  }
  try {
    n.setMaxEntries(h, 'events', ringBytes);
  } catch (err) {
    throw phaseError('configure', 'events', `ring buffer of ${ringBytes} bytes: ${(err as Error).message}`, err);
  }
}

/** Phase load: libbpf loads (the verifier checks) every selected program; the error names the program libbpf blamed. */
export function loadObject(h: ObjHandle): void {
  const n = native();
  n.takeLog();
  try {
    n.load(h);
  } catch (err) {
    throw loadError(err, n.takeLog());
  }
}

/** "load fentry_skb_1: Permission denied (<the verifier's last lines>); see pktpath doctor" */
function loadError(err: unknown, log: string): KernelError {
  const tail = log.trim().split('\n').slice(-4).join(' | ');
  const prog = /prog '(\w+)'/.exec(log)?.[1];
  const what = (err as Error).message.replace(/^load BPF object: /, '');
  const detail = `${what}${tail ? ` (${tail})` : ''}; see pktpath doctor`;
  return new KernelError(`load ${prog ?? 'BPF programs'}: ${detail}`, { cause: err, phase: 'load', ...(prog ? { probe: prog } : {}) });
}
