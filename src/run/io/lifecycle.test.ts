import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ownSignals, runPhases, StopRequest } from './lifecycle.js';

test('StopRequest: the first cause wins', async () => {
  const s = new StopRequest();
  s.request('catch-count');
  s.request('signal');
  assert.equal(await s.stopped, 'catch-count');
  assert.equal(s.cause, 'catch-count');
});

test('ownSignals: the first SIGINT or SIGTERM stops, any later one forces; release gives both back', () => {
  const cases: [string, ('SIGINT' | 'SIGTERM')[], string[]][] = [
    ['one SIGINT', ['SIGINT'], ['stop SIGINT']],
    ['SIGTERM then SIGINT', ['SIGTERM', 'SIGINT'], ['stop SIGTERM', 'force SIGINT']],
    ['three', ['SIGINT', 'SIGINT', 'SIGTERM'], ['stop SIGINT', 'force SIGINT', 'force SIGTERM']],
  ];
  for (const [what, sent, want] of cases) {
    const src = new EventEmitter();
    const seen: string[] = [];
    const release = ownSignals(src, (s) => void seen.push(`stop ${s}`), (s) => void seen.push(`force ${s}`));
    for (const s of sent) src.emit(s);
    assert.deepEqual(seen, want, what);
    release();
    release();
    assert.deepEqual([src.listenerCount('SIGINT'), src.listenerCount('SIGTERM')], [0, 0], what);
  }
});

test('runPhases: every phase runs in order whatever an earlier one threw; failures name their phase', async () => {
  const ran: string[] = [];
  const failures = await runPhases([
    { name: 'a', run: () => void ran.push('a') },
    { name: 'b', run: () => { ran.push('b'); throw new Error('sync'); } },
    { name: 'c', run: async () => { ran.push('c'); throw new Error('async'); } },
    { name: 'd', run: async () => void ran.push('d') },
  ]);
  assert.deepEqual(ran, ['a', 'b', 'c', 'd']);
  assert.deepEqual(failures.map((f) => `${f.phase}: ${(f.error as Error).message}`), ['b: sync', 'c: async']);
});
