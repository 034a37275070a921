/** kprobe: one link per function, through the kprobe perf PMU (CONFIG_KPROBES). */
import { existsSync } from 'node:fs';
import { native } from '../native.js';
import type { ObjHandle } from '../native.js';
import { byPosition, mechanismMissing } from '../../backends.js';
import type { FunctionTarget, ProbeStatus } from '../../backends.js';
import { messageOf } from './backend.js';
import type { AttachBackend, Attachment } from './backend.js';

/** Whether the kernel has the kprobe perf PMU (kprobes built in). */
export function hasKprobePmu(): boolean {
  return existsSync('/sys/bus/event_source/devices/kprobe');
}

export const kprobeBackend: AttachBackend<FunctionTarget> = {
  name: 'kprobe',
  prepare: (_h, targets) => [...byPosition(targets).keys()].map((pos) => `kprobe_skb_${pos}`),
  attach(h: ObjHandle, targets: readonly FunctionTarget[]): Attachment {
    const n = native();
    const status: ProbeStatus[] = [];
    const links: number[] = [];
    for (const [pos, fs] of byPosition(targets)) {
      for (const f of fs) {
        try {
          links.push(n.attachKprobe(h, `kprobe_skb_${pos}`, f.name, false));
          status.push({ probe: f.name, attached: true, via: 'kprobe' });
        } catch (err) {
          if (!links.length && mechanismMissing(err)) return { status, links, usable: false, why: messageOf(err), error: err };
          status.push({ probe: f.name, attached: false, reason: `kprobe: ${messageOf(err)}` });
        }
      }
    }
    if (!links.length) return { status, links, usable: false, why: 'no function could be attached' };
    return { status, links, usable: true };
  },
};
