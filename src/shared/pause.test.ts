import test from 'node:test';
import assert from 'node:assert/strict';
import { pause } from './pause.js';

test('pause: false after the time, true at once when stopped before or during', async () => {
  assert.equal(await pause(5, new AbortController().signal), false);
  const before = new AbortController();
  before.abort();
  assert.equal(await pause(60_000, before.signal), true);
  const during = new AbortController();
  setTimeout(() => during.abort(), 5);
  assert.equal(await pause(60_000, during.signal), true);
});
