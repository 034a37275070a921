import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdQueue } from './queue.js';

test('IdQueue: first in, first out, across the ring end', () => {
  const q = new IdQueue(3);
  const out: (number | undefined)[] = [];
  const steps: readonly (['push', number] | ['shift'])[] = [['push', 1], ['push', 2], ['shift'], ['push', 3], ['push', 4], ['shift'], ['shift'], ['push', 5], ['shift'], ['shift'], ['shift']];
  for (const s of steps) {
    if (s[0] === 'push') assert.equal(q.push(s[1]), true);
    else out.push(q.shift());
  }
  assert.deepEqual(out, [1, 2, 3, 4, 5, undefined]);
  assert.equal(q.size, 0);
});

test('IdQueue: full refuses, and says so', () => {
  const q = new IdQueue(2);
  assert.deepEqual([q.push(7), q.push(8), q.push(9)], [true, true, false]);
  assert.deepEqual([q.size, q.shift(), q.shift()], [2, 7, 8]);
});
