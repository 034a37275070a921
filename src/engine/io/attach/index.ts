/** The attach backends, behind one interface (./backend.ts). */
export { detach } from './backend.js';
export type { AttachBackend, Attachment, BackendName } from './backend.js';
export { tracepointBackend } from './tracepoint.js';
export type { TracepointTarget } from './tracepoint.js';
export { fentryBackend, fexitEvalBackend } from './fentry.js';
export { kprobeMultiBackend } from './kprobe-multi.js';
export { kprobeBackend, hasKprobePmu } from './kprobe.js';
export { netfilterBackend, attachSpot, OBSERVER_SLOTS } from './netfilter.js';
export type { NetfilterSpot } from './netfilter.js';

import type { FuncBackend, FunctionTarget } from '../../backends.js';
import type { AttachBackend } from './backend.js';
import { fentryBackend } from './fentry.js';
import { kprobeMultiBackend } from './kprobe-multi.js';
import { kprobeBackend } from './kprobe.js';

/** The backend of a function-level mechanism. */
export const FUNCTION_BACKENDS: Readonly<Record<FuncBackend, AttachBackend<FunctionTarget>>> = {
  fentry: fentryBackend,
  'kprobe.multi': kprobeMultiBackend,
  kprobe: kprobeBackend,
};
