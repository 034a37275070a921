/**
 * The diagnosis cases the guest tier runs with a function backend (issue 9): the same
 * case definitions as test/integration/diagnose.test.ts (test/helpers/diagnose-cases*.ts),
 * picked by name, each with the kernel function that must be seen on the packet the
 * finding is about. Shared by the guest-side runner and the host-side assertions.
 */
import type { TraceResult } from '../helpers/netns.js';
import { CASES } from '../helpers/diagnose-cases.js';
import type { Case } from '../helpers/diagnose-cases.js';
import { MORE_CASES } from '../helpers/diagnose-cases2.js';
import type { Role } from '../helpers/scenes.js';

/** Functions traced besides the tracepoints: few, so the guest attaches fast; each case's path crosses one. */
export const FUNC_REGEX = '^(ip_rcv|ip_forward|tcp_v4_rcv|__icmp_send|nf_hook_slow)$';
/** Every scene's addresses are 10.199.X.Y (test/helpers/scenes.ts): one trace sees all of them. */
export const SCENES_FILTER = 'net 10.199.0.0/16';

export interface GuestCase {
  readonly key: string;
  readonly c: Case;
  /** a function the function backend must show on the finding's dropped packet, in the finding's namespace */
  readonly func: string;
}

function pick(prefix: string): Case {
  const c = [...CASES, ...MORE_CASES].find((x) => x.name.startsWith(prefix));
  if (!c) throw new Error(`no diagnosis case named "${prefix}..."`);
  return c;
}

export const GUEST_CASES: readonly GuestCase[] = [
  { key: 'no-listener', c: pick('connect to a closed port (IPv4)'), func: 'tcp_v4_rcv' },
  { key: 'reject-icmp', c: pick('INPUT REJECT --reject-with icmp-admin-prohibited'), func: 'nf_hook_slow' },
  { key: 'reject-reset', c: pick('INPUT REJECT --reject-with tcp-reset'), func: 'nf_hook_slow' },
  { key: 'pmtu', c: pick('PMTU black hole: the ICMP "fragmentation needed" shown dropped at the sender'), func: 'ip_forward' },
];

export interface SceneRecord {
  readonly key: string;
  readonly port: number;
  readonly ns: Readonly<Record<Role, string>>;
  readonly inode: Readonly<Record<Role, number>>;
  /** what the client saw (errno name, "timeout", "sent"...) */
  outcome: string;
}

export interface BackendRun {
  args: string[];
  /** ms from the start of all traces to this one's ready line */
  readyMs: number;
  trace?: TraceResult;
}

export interface DiagnoseResults {
  kernel: string;
  /** one trace per backend, over the same traffic */
  runs: Record<string, BackendRun>;
  scenes: SceneRecord[];
  notes: string[];
}
