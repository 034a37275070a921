/**
 * Tracepoints: one program per catalogued tracepoint, in the flavour chosen for this
 * kernel (src/engine/flavours.ts); each attaches on its own, and one that fails is skipped
 * with the reason.
 */
import { native } from '../native.js';
import type { ObjHandle } from '../native.js';
import { tracepointProgram } from '../../flavours.js';
import type { Flavour } from '../../flavours.js';
import type { ProbeStatus } from '../../backends.js';
import { messageOf } from './backend.js';
import type { AttachBackend, Attachment } from './backend.js';

export interface TracepointTarget {
  readonly probe: string;
  readonly flavour: Flavour;
}

export const tracepointBackend: AttachBackend<TracepointTarget> = {
  name: 'tracepoint',
  prepare: (_h, targets) => targets.map((t) => tracepointProgram(t.probe, t.flavour)),
  attach(h: ObjHandle, targets: readonly TracepointTarget[]): Attachment {
    const n = native();
    const status: ProbeStatus[] = [];
    const links: number[] = [];
    for (const t of targets) {
      try {
        links.push(n.attach(h, tracepointProgram(t.probe, t.flavour)));
        status.push({ probe: t.probe, attached: true, via: t.flavour });
      } catch (err) {
        status.push({ probe: t.probe, attached: false, reason: `attach ${t.flavour} failed: ${messageOf(err)}` });
      }
    }
    return { status, links, usable: links.length > 0 || targets.length === 0 };
  },
};
