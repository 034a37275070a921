/**
 * Which kernel functions ftrace can hook, from tracefs `available_filter_functions`: the OS
 * edge under {@link parseFilterFunctions}. Never mounts anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseFilterFunctions, tracefsPaths } from '../funcs.js';

export interface Traceable {
  /**
   * Traceable functions as traceKeys ("ip_rcv", "veth_xmit [veth]"), or null when unknown:
   * then every BTF function is tried and the attach step reports the ones the kernel refuses.
   */
  readonly set: Set<string> | null;
  /** The file read, or "none". */
  readonly source: string;
  /** Why the set is unknown (only when `set` is null). */
  readonly reason?: string;
  /** Names listed more than once (ambiguous for attaching by name); empty when unknown. */
  readonly duplicates: Set<string>;
}

export const REASON_NOT_MOUNTED = 'tracefs not mounted: every BTF function is tried';

/** Whether the tracing directory holding `file` is mounted (a tracefs always has `trace`). */
function mounted(file: string): boolean {
  return existsSync(join(dirname(file), 'trace'));
}

/**
 * Reads the first readable `available_filter_functions` of {@link tracefsPaths}
 * (/sys/kernel/tracing first, then the debugfs copy). When tracefs is not mounted, the file
 * is unreadable or empty, returns `set: null` with the reason; it does not mount tracefs.
 * @param paths candidate files, for tests
 */
export function traceableFunctions(paths: readonly string[] = tracefsPaths()): Traceable {
  const problems: string[] = [];
  let anyMounted = false;
  for (const path of paths) {
    if (!mounted(path)) continue;
    anyMounted = true;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') problems.push(`${path} missing (kernel without dynamic ftrace?)`);
      else problems.push(`cannot read ${path}: ${e.code ?? e.message}`);
      continue;
    }
    const { names, duplicates } = parseFilterFunctions(text);
    if (names.size === 0) {
      problems.push(`${path} lists no functions`);
      continue;
    }
    return { set: names, source: path, duplicates };
  }
  const reason = anyMounted ? `${problems.join('; ')}: every BTF function is tried` : REASON_NOT_MOUNTED;
  return { set: null, source: 'none', reason, duplicates: new Set() };
}
