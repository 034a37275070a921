/**
 * What the running kernel offers, read from its BTF and /proc: the thin OS edge
 * under the pure BTF and kallsyms parsers.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { parseBtf } from '../btf.js';
import type { Btf } from '../btf.js';
import { EnvironmentError } from '../../shared/errors.js';
import { parseKallsyms } from '../kallsyms.js';
import type { Kallsyms } from '../kallsyms.js';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

let vmlinux: Btf | undefined;
let ksyms: Kallsyms | undefined;

/** The kernel's BTF; EnvironmentError when the kernel has none. */
export function kernelBtf(): Btf {
  if (vmlinux) return vmlinux;
  if (!existsSync(VMLINUX_BTF)) {
    throw new EnvironmentError(`kernel has no BTF (${VMLINUX_BTF} missing): pktpath needs CONFIG_DEBUG_INFO_BTF=y; see pktpath doctor`);
  }
  try {
    vmlinux = parseBtf(readFileSync(VMLINUX_BTF));
  } catch (err) {
    throw new EnvironmentError(`cannot read kernel BTF ${VMLINUX_BTF}: ${(err as Error).message}`, { cause: err });
  }
  return vmlinux;
}

/** Module BTF (split on vmlinux), or undefined when the module has none. */
export function moduleBtf(module: string): Btf | undefined {
  const path = `/sys/kernel/btf/${module}`;
  if (!existsSync(path)) return undefined;
  return parseBtf(readFileSync(path), kernelBtf());
}

/** Names of modules with BTF. */
export function btfModules(): string[] {
  try {
    return readdirSync('/sys/kernel/btf').filter((n) => n !== 'vmlinux');
  } catch {
    return [];
  }
}

/** /proc/kallsyms, parsed once. Addresses read as zero without CAP_SYSLOG. */
export function kallsyms(): Kallsyms {
  if (!ksyms) ksyms = parseKallsyms(readFileSync('/proc/kallsyms'));
  return ksyms;
}

/** Reads /proc/kallsyms again (modules loaded since the first read). */
export function reloadKallsyms(): Kallsyms {
  ksyms = parseKallsyms(readFileSync('/proc/kallsyms'));
  return ksyms;
}

/** Kernel release, e.g. "6.18.44". */
export function kernelRelease(): string {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
