/**
 * kprobe.multi: one link per position of the skb argument for all its functions (fprobe,
 * Linux 5.18+). Functions whose return value is reported go to one kprobe session link
 * per position instead (Linux 6.10+): its program runs at the entry, keeps the entry's
 * event, and runs again at the return. One bad symbol fails a whole batch, so a failing
 * batch is bisected to find it.
 */
import { native } from '../native.js';
import type { ObjHandle } from '../native.js';
import { byPosition, mechanismMissing } from '../../backends.js';
import type { FunctionTarget, ProbeStatus } from '../../backends.js';
import { messageOf } from './backend.js';
import type { AttachBackend, Attachment } from './backend.js';

const entryProgram = (pos: number): string => `kmulti_skb_${pos}`;
const sessionProgram = (pos: number): string => `ksession_skb_${pos}`;

interface Batch {
  readonly prog: string;
  readonly session: boolean;
  readonly fs: readonly FunctionTarget[];
}

/** The links to make: per position, the plain functions and the ones with a return. */
function batches(targets: readonly FunctionTarget[]): Batch[] {
  const out: Batch[] = [];
  for (const [pos, fs] of byPosition(targets)) {
    const plain = fs.filter((f) => !f.ret);
    const ret = fs.filter((f) => f.ret);
    if (plain.length) out.push({ prog: entryProgram(pos), session: false, fs: plain });
    if (ret.length) out.push({ prog: sessionProgram(pos), session: true, fs: ret });
  }
  return out;
}

export const kprobeMultiBackend: AttachBackend<FunctionTarget> = {
  name: 'kprobe.multi',
  prepare(h, targets) {
    const bs = batches(targets);
    for (const b of bs) if (b.session) native().setKprobeSession(h, b.prog);
    return bs.map((b) => b.prog);
  },
  attach(h: ObjHandle, targets: readonly FunctionTarget[]): Attachment {
    const out = { status: [] as ProbeStatus[], links: [] as number[] };
    for (const b of batches(targets)) {
      try {
        attachBatch(h, b, b.fs, out);
      } catch (err) {
        return { ...out, usable: false, why: messageOf(err), error: err };
      }
    }
    if (!out.links.length) return { ...out, usable: false, why: 'no function could be attached' };
    return { ...out, usable: true };
  },
};

function attachBatch(h: ObjHandle, b: Batch, fs: readonly FunctionTarget[], out: { status: ProbeStatus[]; links: number[] }): void {
  if (!fs.length) return;
  const n = native();
  const via = b.session ? 'kprobe.session' : 'kprobe.multi';
  try {
    const syms = fs.map((f) => f.name);
    out.links.push(b.session ? n.attachKprobeSession(h, b.prog, syms) : n.attachKprobeMulti(h, b.prog, syms, false));
    for (const f of fs) out.status.push({ probe: f.name, attached: true, via });
  } catch (err) {
    if (!out.links.length && mechanismMissing(err)) throw err;
    if (fs.length === 1) {
      out.status.push({ probe: fs[0]!.name, attached: false, reason: `${via}: ${messageOf(err)}` });
      return;
    }
    attachBatch(h, b, fs.slice(0, fs.length >> 1), out);
    attachBatch(h, b, fs.slice(fs.length >> 1), out);
  }
}
