/**
 * Runs a pcap-filter expression, translated and spliced as the probes get it, on packet
 * bytes in the kernel: build/pcap-run.bpf.o (test/bpf/pcap-run.bpf.c) through
 * BPF_PROG_TEST_RUN. Needs root.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../../src/engine/io/native.js';
import type { ObjHandle } from '../../src/engine/io/native.js';
import { BUILD_DIR } from '../../src/shared/io/paths.js';
import { compileFilter, LINKTYPE, PLACEHOLDER } from '../../src/filter/filter.js';
import type { CompiledFilter } from '../../src/filter/filter.js';
import { findPlaceholder, splice } from '../../src/filter/splice.js';
import { pcapCompile } from '../../src/filter/io/pcap.js';
import { elfSymbols } from '../../src/kernel/elf.js';

export const PCAP_RUN_OBJECT = join(BUILD_DIR, 'pcap-run.bpf.o');

/**
 * run_l2: a frame; run_l3: a frame seen from its network header; run_l2_vlan: TPID+TCI then
 * an untagged frame; run_l2_linear: a big-endian u16 (bytes of the frame that are linear)
 * then the frame; run_interp: a frame, through the bpf_loop interpreter instead.
 */
export type Variant = 'run_l2' | 'run_l3' | 'run_l2_vlan' | 'run_l2_linear' | 'run_interp' | 'run_nothing';

export interface FilterRunner {
  readonly filter: CompiledFilter;
  /** 1 match, 0 no match */
  run(variant: Variant, packet: Uint8Array): number;
  /** mean ns per run of the program over `repeat` runs */
  time(variant: Variant, packet: Uint8Array, repeat: number): number;
  /** pcap_stats[0]: packets the expression could not be decided on */
  undecided(): number;
  close(): void;
}

let elfCache: Uint8Array | undefined;

/** `interp`: also load run_interp (slow to verify: only the bench wants it). */
export function loadFilter(expression: string, opts: { interp?: boolean } = {}): FilterRunner {
  const elf = (elfCache ??= new Uint8Array(readFileSync(PCAP_RUN_OBJECT)));
  const slots = { l2: findPlaceholder(elf, PLACEHOLDER.l2).slots, l3: findPlaceholder(elf, PLACEHOLDER.l3).slots };
  const filter = compileFilter(expression, pcapCompile, slots);
  const n = native();
  const h: ObjHandle = n.openMem(splice(elf, filter.bodies), 'pcap-run');
  try {
    n.setAutoload(h, 'run_interp', opts.interp === true);
    const ro = new Uint8Array(n.mapInitialValue(h, '.rodata'));
    const view = new DataView(ro.buffer, ro.byteOffset, ro.byteLength);
    for (const s of elfSymbols(elf).filter((x) => x.section === '.rodata')) {
      if (s.name === 'need_l2') view.setUint32(s.value, filter.needL2, true);
      if (s.name === 'need_l3') view.setUint32(s.value, filter.needL3, true);
      // the interpreter the translation is measured against runs libpcap's own program
      const cbpf = s.name === 'interp_prog' ? pcapCompile(expression, LINKTYPE.ethernet) : undefined;
      if (cbpf && cbpf.length <= s.size) ro.set(cbpf, s.value);
    }
    n.setMapInitialValue(h, '.rodata', ro);
    n.takeLog();
    n.load(h);
  } catch (err) {
    const log = n.takeLog().trim().split('\n').slice(-6).join(' | ');
    n.close(h);
    throw new Error(`${(err as Error).message}: ${log}`, { cause: err });
  }
  const fds = new Map<Variant, number>();
  const fd = (v: Variant): number => fds.get(v) ?? (fds.set(v, n.progFd(h, v)), fds.get(v)!);
  return {
    filter,
    run: (v, packet) => n.testRun(fd(v), packet, 1).retval,
    time: (v, packet, repeat) => n.testRun(fd(v), packet, repeat).duration,
    undecided: () => {
      const v = n.mapLookup(n.mapFd(h, 'pcap_stats'), new Uint8Array(4), 8);
      return v ? Number(new BigUint64Array(v)[0]) : 0;
    },
    close: () => n.close(h),
  };
}
