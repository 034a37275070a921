/**
 * A strict checker of the Chrome trace event format ("Trace Event Format", the JSON
 * object form that chrome://tracing and ui.perfetto.dev import), written from its
 * specification for the phases pktpath writes: complete events (X), instant events (i/I),
 * flow events (s, t, f) and metadata (M). No checker is packaged for npm or Debian
 * (Perfetto's trace_processor ships as a download), so this one is ours; its own tests
 * (trace-event-check.test.ts, under test/unit) feed it broken traces.
 *
 * Checked: the container's keys and types; per event the keys its phase allows, and
 * their types (name, ph, ts in µs, pid/tid integers, dur >= 0, instant scope, flow id and
 * binding point, metadata names and args); complete events on one thread nest (never
 * overlap partly); a flow is s, t..., f in time order, each step inside a slice of its
 * thread (f with bp "e": the enclosing slice); every thread and process that has events
 * is named.
 */

const COMMON = ['name', 'cat', 'ph', 'ts', 'pid', 'tid', 'args', 'tts', 'cname'];
const KEYS: Readonly<Record<string, readonly string[]>> = {
  X: [...COMMON, 'dur', 'tdur', 'sf', 'stack', 'esf', 'estack'],
  i: [...COMMON, 's', 'sf', 'stack'],
  I: [...COMMON, 's', 'sf', 'stack'],
  s: [...COMMON, 'id', 'bp'],
  t: [...COMMON, 'id', 'bp'],
  f: [...COMMON, 'id', 'bp'],
  M: ['name', 'ph', 'pid', 'tid', 'args', 'ts', 'cat'],
};
const META_NAMES = new Set(['process_name', 'process_labels', 'process_sort_index', 'thread_name', 'thread_sort_index']);
const TOP_KEYS = new Set(['traceEvents', 'displayTimeUnit', 'otherData', 'stackFrames', 'samples', 'systemTraceEvents', 'controllerTraceDataKey', 'metadata']);
/** Slack for sums of µs floats (ns precision is the format's best). */
const EPS = 1e-4;

type Ev = Record<string, unknown>;

const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function checkEvent(e: Ev, i: number, errors: string[]): void {
  const at = `traceEvents[${i}]`;
  const ph = e.ph;
  if (typeof ph !== 'string' || !KEYS[ph]) {
    errors.push(`${at}: ph ${JSON.stringify(ph)} is not a phase this checker knows (X, i, I, s, t, f, M)`);
    return;
  }
  for (const k of Object.keys(e)) if (!KEYS[ph]!.includes(k)) errors.push(`${at}: key "${k}" is not allowed in a "${ph}" event`);
  if (typeof e.name !== 'string') errors.push(`${at}: name must be a string`);
  if (e.cat !== undefined && typeof e.cat !== 'string') errors.push(`${at}: cat must be a string`);
  if (!isInt(e.pid) || !isInt(e.tid)) errors.push(`${at}: pid and tid must be integers`);
  if (e.args !== undefined && (typeof e.args !== 'object' || e.args === null || Array.isArray(e.args))) errors.push(`${at}: args must be an object`);
  if (ph !== 'M' && (!isNum(e.ts) || e.ts < 0)) errors.push(`${at}: ts must be a non-negative number of microseconds`);
  if (ph === 'X' && (!isNum(e.dur) || e.dur < 0)) errors.push(`${at}: a complete event needs dur >= 0`);
  if ((ph === 'i' || ph === 'I') && e.s !== undefined && !['g', 'p', 't'].includes(e.s as string)) errors.push(`${at}: instant scope must be g, p or t`);
  if (ph === 's' || ph === 't' || ph === 'f') {
    if (typeof e.id !== 'number' && typeof e.id !== 'string') errors.push(`${at}: a flow event needs an id`);
    if (typeof e.cat !== 'string') errors.push(`${at}: a flow event needs a cat (flows are matched by cat and id)`);
    if (e.bp !== undefined && e.bp !== 'e') errors.push(`${at}: bp must be "e"`);
  }
  if (ph === 'M') checkMeta(e, at, errors);
}

function checkMeta(e: Ev, at: string, errors: string[]): void {
  if (!META_NAMES.has(e.name as string)) {
    errors.push(`${at}: metadata name "${String(e.name)}" is not one of ${[...META_NAMES].join(', ')}`);
    return;
  }
  const args = (e.args ?? {}) as Ev;
  if (String(e.name).endsWith('_name') && typeof args.name !== 'string') errors.push(`${at}: ${String(e.name)} needs args.name`);
  if (String(e.name).endsWith('_sort_index') && !isInt(args.sort_index)) errors.push(`${at}: ${String(e.name)} needs an integer args.sort_index`);
}

/** Complete events of one thread must nest: sorted by start (longest first), each ends inside the one it starts in. */
function checkNesting(slices: readonly Ev[], where: string, errors: string[]): void {
  const sorted = [...slices].sort((a, b) => (a.ts as number) - (b.ts as number) || (b.dur as number) - (a.dur as number));
  const open: number[] = [];
  for (const s of sorted) {
    const start = s.ts as number;
    const end = start + (s.dur as number);
    while (open.length && open[open.length - 1]! <= start + EPS) open.pop();
    const parent = open[open.length - 1];
    if (parent !== undefined && end > parent + EPS) {
      errors.push(`${where}: slice "${String(s.name)}" at ${start} overlaps the slice it starts in (ends ${end} > ${parent})`);
      return;
    }
    open.push(end);
  }
}

function inSlice(slices: readonly Ev[], ts: number): boolean {
  return slices.some((s) => (s.ts as number) <= ts + EPS && ts <= (s.ts as number) + (s.dur as number) + EPS);
}

function checkFlows(events: readonly Ev[], byThread: Map<string, Ev[]>, errors: string[]): void {
  const flows = new Map<string, Ev[]>();
  for (const e of events) {
    if (e.ph !== 's' && e.ph !== 't' && e.ph !== 'f') continue;
    const key = `${String(e.cat)}|${String(e.id)}`;
    flows.set(key, [...(flows.get(key) ?? []), e]);
  }
  for (const [key, list] of flows) {
    const phases = list.map((e) => e.ph).join('');
    if (!/^st*f$/.test(phases)) errors.push(`flow ${key}: steps ${phases}, expected s, t..., f in order`);
    for (let i = 1; i < list.length; i++) if ((list[i]!.ts as number) < (list[i - 1]!.ts as number)) errors.push(`flow ${key}: steps go back in time`);
    for (const e of list) {
      const slices = byThread.get(`${String(e.pid)}|${String(e.tid)}`) ?? [];
      const ok = e.ph === 'f' && e.bp !== 'e' ? slices.some((s) => (s.ts as number) >= (e.ts as number) - EPS) : inSlice(slices, e.ts as number);
      if (!ok) errors.push(`flow ${key}: its "${String(e.ph)}" at ${String(e.ts)} binds to no slice of pid ${String(e.pid)} tid ${String(e.tid)}`);
    }
  }
}

function checkNames(events: readonly Ev[], errors: string[]): void {
  const procs = new Set(events.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.pid));
  const threads = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => `${String(e.pid)}|${String(e.tid)}`));
  for (const e of events) {
    if (e.ph === 'M') continue;
    if (!procs.has(e.pid)) errors.push(`pid ${String(e.pid)} has events but no process_name`);
    if (!threads.has(`${String(e.pid)}|${String(e.tid)}`)) errors.push(`pid ${String(e.pid)} tid ${String(e.tid)} has events but no thread_name`);
  }
}

/** The problems of a trace in the JSON object format; [] when it is valid. */
export function checkTrace(trace: unknown): string[] {
  const errors: string[] = [];
  if (typeof trace !== 'object' || trace === null || Array.isArray(trace)) return ['the trace must be a JSON object with traceEvents'];
  const t = trace as Ev;
  for (const k of Object.keys(t)) if (!TOP_KEYS.has(k)) errors.push(`unknown top-level key "${k}"`);
  if (!Array.isArray(t.traceEvents)) return [...errors, 'traceEvents must be an array'];
  if (t.displayTimeUnit !== undefined && t.displayTimeUnit !== 'ms' && t.displayTimeUnit !== 'ns') errors.push('displayTimeUnit must be "ms" or "ns"');
  if (t.otherData !== undefined && (typeof t.otherData !== 'object' || t.otherData === null)) errors.push('otherData must be an object');
  const events = t.traceEvents as unknown[];
  events.forEach((e, i) => (typeof e === 'object' && e !== null && !Array.isArray(e) ? checkEvent(e as Ev, i, errors) : errors.push(`traceEvents[${i}] is not an object`)));
  if (errors.length) return errors;
  const evs = events as Ev[];
  const byThread = new Map<string, Ev[]>();
  for (const e of evs.filter((x) => x.ph === 'X')) {
    const k = `${String(e.pid)}|${String(e.tid)}`;
    byThread.set(k, [...(byThread.get(k) ?? []), e]);
  }
  for (const [k, list] of byThread) checkNesting(list, `pid|tid ${k}`, errors);
  checkFlows(evs, byThread, errors);
  checkNames(evs, errors);
  return errors;
}
