/**
 * A run's functions may be attached by two backends at once (kprobe.multi, with fentry and
 * fexit beside it for the functions whose return is reported: src/engine/parts.ts). This
 * attaches the parts together and sets up what the function programs read at run time.
 */
import { kallsyms } from '../../../kernel/io/kernel.js';
import { native } from '../native.js';
import type { ObjHandle } from '../native.js';
import type { FuncTarget } from '../../backends.js';
import type { FunctionPart } from '../../parts.js';
import type { Attachment } from './backend.js';
import { fentryBackend } from './fentry.js';
import { kprobeMultiBackend } from './kprobe-multi.js';
import { kprobeBackend } from './kprobe.js';

const BACKENDS = { fentry: fentryBackend, 'kprobe.multi': kprobeMultiBackend, kprobe: kprobeBackend } as const;

/**
 * Every part's attach: the entry backend's decides whether the run can use it; a part
 * beside it (fentry/fexit for the returns) adds its links and its status.
 */
export function attachParts(h: ObjHandle, parts: readonly FunctionPart[]): Attachment {
  const [main, ...rest] = parts.map((p) => BACKENDS[p.backend].attach(h, p.targets));
  if (!main) return { status: [], links: [], usable: false, why: 'no function to attach' };
  const status = [...main.status, ...rest.flatMap((a) => a.status)];
  const links = [...main.links, ...rest.flatMap((a) => a.links)];
  return { ...main, status, links, usable: main.usable || (rest.some((a) => a.usable) && !main.error) };
}

/**
 * The functions' socket arguments into func_sk, by address (after load, before attach):
 * where a function's skb names no namespace (inside TCP's receive path), its socket does.
 */
export function fillFuncSockets(h: ObjHandle, funcs: readonly FuncTarget[]): void {
  const withSk = funcs.filter((f) => f.skArg);
  if (!withSk.length) return;
  const n = native();
  const fd = n.mapFd(h, 'func_sk');
  const syms = kallsyms();
  for (const f of withSk) {
    const addr = syms.address(f.name);
    if (addr === undefined) continue;
    n.mapUpdate(fd, new Uint8Array(new BigUint64Array([addr]).buffer), new Uint8Array([f.skArg!]));
  }
}
