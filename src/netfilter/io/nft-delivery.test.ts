import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncQueue } from './nft-delivery.js';

test('AsyncQueue: values before the first iterator() are not kept; then buffered, waited for, and the end ends iterators', async () => {
  const q = new AsyncQueue<number>();
  q.push(0); // nobody listens yet
  const it = q.iterator();
  q.push(1);
  q.push(2);
  assert.deepEqual(await it.next(), { value: 1, done: false });
  assert.deepEqual(await it.next(), { value: 2, done: false });
  const waiting = it.next();
  q.push(3);
  assert.deepEqual(await waiting, { value: 3, done: false });
  const last = it.next();
  q.push(4);
  q.end();
  assert.deepEqual(await last, { value: 4, done: false });
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  const seen: number[] = [];
  for await (const v of q.iterator()) seen.push(v);
  assert.deepEqual(seen, []);
});

test('AsyncQueue: end() releases a waiting reader', async () => {
  const q = new AsyncQueue<string>();
  const it = q.iterator();
  const waiting = it.next();
  q.end();
  assert.deepEqual(await waiting, { value: undefined, done: true });
});
