/**
 * The Perfetto export of recorded runs: valid trace event JSON (test/helpers/trace-event-check.ts),
 * and its slices are the events: each packet's consecutive timed events make one slice on the
 * track of the event's namespace and device, each drop an instant with its reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTrace } from '../../test/helpers/trace-event-check.js';
import { docOf } from '../../test/helpers/report-expect.js';
import { chromeTrace } from './perfetto.js';
import type { TraceEvent } from './perfetto.js';
import type { ReportDoc } from './document.js';

/** Checks that every packet's stage slices and drops are in the trace, on the right tracks. */
export function checkSlicesMatch(doc: ReportDoc, events: readonly TraceEvent[]): void {
  const procs = new Map(events.filter((e) => e.name === 'process_name').map((e) => [e.pid, String(e.args!.name)]));
  const threads = new Map(events.filter((e) => e.name === 'thread_name').map((e) => [`${e.pid}|${e.tid}`, String(e.args!.name)]));
  const byN = new Map(events.filter((e) => e.ph === 'X' && e.cat === 'packet').map((e) => [e.args!.n as number, e]));
  const drops = new Map(events.filter((e) => e.ph === 'i').map((e) => [e.args!.n as number, e]));
  for (const p of doc.flows.flatMap((f) => f.packets)) {
    const timed = p.steps.filter((s) => s.ts !== null).sort((a, b) => a.ts! - b.ts!);
    timed.forEach((s, i) => {
      const last = i === timed.length - 1;
      const e = last && (s.kind === 'drop' || s.kind === 'free') ? drops.get(s.n) : byN.get(s.n);
      assert.ok(e, `no slice or instant for event #${s.n} (${s.j.probe})`);
      assert.equal(e.ts, Math.round(s.ts!) / 1000, `#${s.n} starts at its event`);
      if (e.ph === 'X' && !last) assert.ok(Math.abs(e.dur! - Math.max(1, timed[i + 1]!.ts! - s.ts!) / 1000) < 1e-6, `#${s.n} lasts until the packet's next event`);
      if (e.ph === 'i' && s.kind === 'drop') assert.equal(e.name, `DROP ${s.j.drop_reason}`);
      assert.match(procs.get(e.pid) ?? '', new RegExp(`\\(${s.netns}\\)$`), `#${s.n} in its namespace's process`);
      assert.equal((threads.get(`${e.pid}|${e.tid}`) ?? '').replace(/ \(\d+\)$/, ''), s.dev || '(no device)', `#${s.n} on its device's thread`);
    });
  }
}

const FILES: readonly string[][] = [['report', 'forward-reject.jsonl'], ['report', 'pmtu.jsonl'], ['report', 'tc-delay.jsonl'], ['diagnose', 'nf.output-drop.jsonl']];

for (const f of FILES) {
  test(`Perfetto export of ${f.join('/')}: a valid trace whose slices are the events`, () => {
    const doc = docOf(...f);
    const trace = chromeTrace(doc);
    assert.deepEqual(checkTrace(JSON.parse(JSON.stringify(trace))), []);
    checkSlicesMatch(doc, trace.traceEvents);
    assert.ok(trace.traceEvents.some((e) => e.ph === 's') || f[1] === 'nf.output-drop.jsonl', 'flow arrows join the slices of a packet');
  });
}

test('the qdisc waits of the tbf run are slices of hundreds of ms on srv\u2019s device', () => {
  const trace = chromeTrace(docOf('report', 'tc-delay.jsonl'));
  const waits = trace.traceEvents.filter((e) => e.name === 'qdisc wait');
  assert.ok(waits.length > 10);
  assert.ok(waits.some((e) => e.dur! >= 100_000), 'a wait of at least 100 ms (in µs)');
});
