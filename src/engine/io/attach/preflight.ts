/**
 * Whether a function backend's mechanism works on this kernel at all, tried with its own
 * program for one function and nothing else loaded. `auto` asks before a full load: that
 * verifies every tracepoint program too (seconds each on a busy machine), and auto may
 * try three backends, each with its optional groups, before one works (an --iptable run
 * here took 56 s to be ready without this, against 1 s per refused backend with it).
 */
import type { FuncBackend, FunctionTarget } from '../../backends.js';
import { native } from '../native.js';
import { loadObject, openObject, selectPrograms } from '../object.js';
import { FUNCTION_BACKENDS } from './index.js';

/** null when the backend loaded and attached its program for `target`; else the error that showed it cannot. */
export function preflightBackend(backend: FuncBackend, target: FunctionTarget): unknown {
  const impl = FUNCTION_BACKENDS[backend];
  const h = openObject();
  try {
    selectPrograms(h, new Set(impl.prepare(h, [target])));
    loadObject(h);
    const a = impl.attach(h, [target]);
    return a.usable ? null : (a.error ?? new Error(a.why ?? `${backend} is not usable here`));
  } catch (err) {
    return err;
  } finally {
    native().close(h);
  }
}
