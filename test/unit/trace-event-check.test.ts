/** The trace event checker itself: a valid trace passes, each kind of broken one fails with its reason. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTrace } from '../helpers/trace-event-check.js';

const meta = [
  { name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: 'netns a' } },
  { name: 'thread_name', ph: 'M', pid: 1, tid: 1, args: { name: 'eth0' } },
  { name: 'thread_name', ph: 'M', pid: 1, tid: 2, args: { name: 'eth1' } },
];
const good = (): { traceEvents: Record<string, unknown>[]; displayTimeUnit: string } => structuredClone({
  displayTimeUnit: 'ns',
  traceEvents: [
    ...meta,
    { name: 'receive', cat: 'packet', ph: 'X', pid: 1, tid: 1, ts: 10, dur: 5 },
    { name: 'inner', cat: 'packet', ph: 'X', pid: 1, tid: 1, ts: 11, dur: 2 },
    { name: 'transmit', cat: 'packet', ph: 'X', pid: 1, tid: 2, ts: 15, dur: 1 },
    { name: 'DROP X', cat: 'drop', ph: 'i', s: 't', pid: 1, tid: 2, ts: 16 },
    { name: 'packet', cat: 'packet', ph: 's', id: 1, pid: 1, tid: 1, ts: 10 },
    { name: 'packet', cat: 'packet', ph: 'f', bp: 'e', id: 1, pid: 1, tid: 2, ts: 15 },
  ],
});

test('a valid trace passes', () => assert.deepEqual(checkTrace(good()), []));

const BROKEN: readonly [string, (t: ReturnType<typeof good>) => unknown, RegExp][] = [
  ['not an object', () => [], /JSON object/],
  ['no traceEvents', () => ({ events: [] }), /unknown top-level key|traceEvents must be an array/],
  ['a bad displayTimeUnit', (t) => ({ ...t, displayTimeUnit: 'us' }), /displayTimeUnit/],
  ['an unknown phase', (t) => (t.traceEvents.push({ name: 'x', ph: 'Q', pid: 1, tid: 1, ts: 1 }), t), /phase/],
  ['a key the phase does not allow', (t) => ((t.traceEvents[3]!.bp = 'e'), t), /key "bp" is not allowed/],
  ['a negative duration', (t) => ((t.traceEvents[3]!.dur = -1), t), /dur >= 0/],
  ['a string timestamp', (t) => ((t.traceEvents[3]!.ts = '10'), t), /ts must be/],
  ['a fractional pid', (t) => ((t.traceEvents[3]!.pid = 1.5), t), /integers/],
  ['a bad instant scope', (t) => ((t.traceEvents[6]!.s = 'x'), t), /scope/],
  ['slices that overlap partly', (t) => ((t.traceEvents[4]!.dur = 10), t), /overlaps/],
  ['a flow without its end', (t) => (t.traceEvents.pop(), t), /expected s, t\.\.\., f/],
  ['a flow step outside every slice', (t) => ((t.traceEvents[7]!.ts = 30), t), /binds to no slice/],
  ['a flow without an id', (t) => (delete t.traceEvents[7]!.id, t), /needs an id/],
  ['an unknown metadata name', (t) => ((t.traceEvents[0]!.name = 'process_title'), t), /metadata name/],
  ['a thread with no name', (t) => (t.traceEvents.splice(2, 1), t), /no thread_name/],
  ['a process with no name', (t) => (t.traceEvents.splice(0, 1), t), /no process_name/],
];

for (const [what, breakIt, why] of BROKEN) {
  test(`fails: ${what}`, () => {
    const errors = checkTrace(breakIt(good()));
    assert.ok(errors.some((e) => why.test(e)), `expected ${why}, got ${JSON.stringify(errors)}`);
  });
}
