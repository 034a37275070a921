import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { LineOutput } from './output.js';

/** A stream whose consumer takes nothing until release() (a pipe nobody reads). */
function stalled(): { stream: Writable; written: string[]; release: () => void } {
  const written: string[] = [];
  const waiting: (() => void)[] = [];
  let open = false;
  const stream = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk.toString());
      if (open) cb();
      else waiting.push(cb);
    },
  });
  return { stream, written, release: () => ((open = true), waiting.splice(0).forEach((cb) => cb())) };
}

test('lines go out in one write per flush, in order', () => {
  const s = stalled();
  s.release();
  const out = new LineOutput(s.stream);
  out.push('a');
  out.push('b');
  assert.deepEqual(s.written, []);
  out.flush();
  out.push('c');
  out.flush();
  out.flush();
  assert.deepEqual(s.written, ['a\nb\n', 'c\n']);
});

test('a consumer that does not read: writable() turns false at the bound, what it holds stays bounded', () => {
  const s = stalled();
  const out = new LineOutput(s.stream, 10_000);
  let pushed = 0;
  for (let i = 0; i < 100_000 && out.writable(); i++) {
    out.push('x'.repeat(99));
    pushed++;
    if (pushed % 10 === 0) out.flush();
  }
  assert.ok(!out.writable());
  assert.ok(pushed <= 101, `${pushed} lines taken by a stalled consumer`);
  assert.ok((s.stream.writableLength ?? 0) <= 10_100);
  s.release();
  assert.ok(out.writable(), 'room again once the consumer reads');
});

test('settle: waits for the consumer at most so long, and says how many lines it still holds', async () => {
  const s = stalled();
  const out = new LineOutput(s.stream);
  out.push('a');
  out.push('b');
  out.flush();
  out.push('c');
  assert.equal(await out.settle(30), 3);
  const s2 = stalled();
  const out2 = new LineOutput(s2.stream);
  out2.push('a');
  const settled = out2.settle(10_000);
  s2.release();
  assert.equal(await settled, 0);
});

test('a broken consumer (EPIPE): nothing more is written, every line not written is counted', async () => {
  const stream = new Writable({ write: (_c, _e, cb) => cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) });
  stream.on('error', () => {});
  const out = new LineOutput(stream);
  out.push('a');
  out.flush();
  await new Promise((r) => setImmediate(r));
  out.markBroken();
  assert.equal(out.writable(), false);
  out.push('b');
  out.push('c');
  out.flush();
  assert.equal(out.lost, 3);
});
