/**
 * BPF netfilter hooks (Linux 6.4+): the observer programs nf_obs_<slot>, hooked with
 * BPF_LINK_CREATE into a family, hook and priority, in this or another network namespace.
 * Hooks are placed during the run (src/netfilter/io/path.ts), so besides the batch
 * `attach` there is `attachSpot`, which throws the kernel's error (EBUSY: the priority is
 * taken, try the next one).
 */
import { native } from '../native.js';
import type { ObjHandle } from '../native.js';
import type { ProbeStatus } from '../../backends.js';
import { messageOf } from './backend.js';
import type { AttachBackend, Attachment } from './backend.js';

/** The observer slots in bpf/pktpath.bpf.c (PP_NF_SLOT). */
export const OBSERVER_SLOTS = 10;

export interface NetfilterSpot {
  readonly slot: number;
  /** NFPROTO_* */
  readonly pf: number;
  /** NF_INET_* */
  readonly hookNum: number;
  readonly priority: number;
  /** the namespace to hook into (a /run/netns path), null: this one */
  readonly netnsPath: string | null;
}

const program = (slot: number): string => `nf_obs_${slot}`;

/** Hooks one observer in; the link's id. Throws the addon's error (errno 16: priority taken). */
export function attachSpot(h: ObjHandle, s: NetfilterSpot): number {
  return native().attachNetfilter(h, program(s.slot), s.pf, s.hookNum, s.priority, s.netnsPath);
}

export const netfilterBackend: AttachBackend<NetfilterSpot> = {
  name: 'netfilter',
  /** Every slot: spots are chosen during the run. */
  prepare(h) {
    const n = native();
    const names = Array.from({ length: OBSERVER_SLOTS }, (_, slot) => program(slot));
    for (const p of names) n.setNetfilter(h, p);
    return names;
  },
  attach(h: ObjHandle, targets: readonly NetfilterSpot[]): Attachment {
    const status: ProbeStatus[] = [];
    const links: number[] = [];
    for (const s of targets) {
      const probe = `${program(s.slot)} pf ${s.pf} hook ${s.hookNum} priority ${s.priority}`;
      try {
        links.push(attachSpot(h, s));
        status.push({ probe, attached: true, via: 'netfilter' });
      } catch (err) {
        status.push({ probe, attached: false, reason: `netfilter: ${messageOf(err)}` });
      }
    }
    return { status, links, usable: links.length > 0 || targets.length === 0 };
  },
};
