/**
 * kprobe.multi: one link for every function (fprobe, Linux 5.18+), each function's cookie
 * telling the program where its skb argument is. Functions whose return value is reported
 * go to one kprobe session link instead (Linux 6.10+): its program runs at the entry,
 * keeps the entry's event, and runs again at the return. Two links at most: taking one
 * down costs about as much for a hundred functions as for one, so the exit stays short.
 * One bad symbol fails a whole batch, so a failing batch is bisected to find it.
 */
import { native } from '../native.js';
import type { ObjHandle } from '../native.js';
import { mechanismMissing } from '../../backends.js';
import type { FunctionTarget, ProbeStatus } from '../../backends.js';
import { messageOf } from './backend.js';
import type { AttachBackend, Attachment } from './backend.js';

const ENTRY_PROGRAM = 'kmulti_skb';
const SESSION_PROGRAM = 'ksession_skb';

interface Batch {
  readonly prog: string;
  readonly session: boolean;
  readonly fs: readonly FunctionTarget[];
}

/** The links to make: the plain functions, and the ones with a return. */
function batches(targets: readonly FunctionTarget[]): Batch[] {
  const plain = targets.filter((f) => !f.ret);
  const ret = targets.filter((f) => f.ret);
  return [
    ...(plain.length ? [{ prog: ENTRY_PROGRAM, session: false, fs: plain }] : []),
    ...(ret.length ? [{ prog: SESSION_PROGRAM, session: true, fs: ret }] : []),
  ];
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
    const cookies = fs.map((f) => f.skbArg); // the program reads the skb from this argument
    out.links.push(b.session ? n.attachKprobeSession(h, b.prog, syms, cookies) : n.attachKprobeMulti(h, b.prog, syms, false, cookies));
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
