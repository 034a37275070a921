/**
 * kprobe.multi: one link per position of the skb argument for all its functions (fprobe,
 * Linux 5.18+). One bad symbol fails a whole batch, so a failing batch is bisected to
 * find it.
 */
import { native } from '../native.js';
import type { ObjHandle } from '../native.js';
import { byPosition, mechanismMissing } from '../../backends.js';
import type { FunctionTarget, ProbeStatus } from '../../backends.js';
import { messageOf } from './backend.js';
import type { AttachBackend, Attachment } from './backend.js';

export const kprobeMultiBackend: AttachBackend<FunctionTarget> = {
  name: 'kprobe.multi',
  prepare: (_h, targets) => [...byPosition(targets).keys()].map((pos) => `kmulti_skb_${pos}`),
  attach(h: ObjHandle, targets: readonly FunctionTarget[]): Attachment {
    const out = { status: [] as ProbeStatus[], links: [] as number[] };
    for (const [pos, fs] of byPosition(targets)) {
      try {
        attachBatch(h, `kmulti_skb_${pos}`, fs, out);
      } catch (err) {
        return { ...out, usable: false, why: messageOf(err), error: err };
      }
    }
    if (!out.links.length) return { ...out, usable: false, why: 'no function could be attached' };
    return { ...out, usable: true };
  },
};

function attachBatch(h: ObjHandle, prog: string, batch: readonly FunctionTarget[], out: { status: ProbeStatus[]; links: number[] }): void {
  if (!batch.length) return;
  try {
    out.links.push(native().attachKprobeMulti(h, prog, batch.map((f) => f.name), false));
    for (const f of batch) out.status.push({ probe: f.name, attached: true, via: 'kprobe.multi' });
  } catch (err) {
    if (!out.links.length && mechanismMissing(err)) throw err;
    if (batch.length === 1) {
      out.status.push({ probe: batch[0]!.name, attached: false, reason: `kprobe.multi: ${messageOf(err)}` });
      return;
    }
    attachBatch(h, prog, batch.slice(0, batch.length >> 1), out);
    attachBatch(h, prog, batch.slice(batch.length >> 1), out);
  }
}
