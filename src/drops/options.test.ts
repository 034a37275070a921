import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TOP, parseDropsOptions, parseListen } from './options.js';
import { UsageError } from '../shared/errors.js';

test('--listen: IPv4, [IPv6], localhost, :PORT (every address), port 0', () => {
  const cases: [string, { host: string; port: number }][] = [
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['[::]:1', { host: '::', port: 1 }],
    ['localhost:9464', { host: 'localhost', port: 9464 }],
    [':9464', { host: '::', port: 9464 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseListen(text), want, text);
});

test('--listen: a bad address or port is one UsageError naming the value', () => {
  for (const text of ['9464', '127.0.0.1', '127.0.0.1:', '127.0.0.1:65536', '300.1.1.1:80', '::1:9464', '[10.0.0.1]:80', 'example.com:80', 'host:-1', '[::1]9464', '']) {
    assert.throws(() => parseListen(text), (e: unknown) => e instanceof UsageError && e.message.startsWith(`invalid --listen ${JSON.stringify(text)}: expected ADDR:PORT`), text);
  }
});

test('interval, duration and count as pktpath stats takes them; --top needs --listen', () => {
  assert.deepEqual(parseDropsOptions({}), { intervalMs: 1000, top: DEFAULT_TOP, stack: false, all: false, json: false });
  assert.deepEqual(parseDropsOptions({ interval: '500ms', duration: '3s', json: true, all: true, stack: true, listen: ':9', top: '5' }), {
    intervalMs: 500, count: 6, listen: { host: '::', port: 9 }, top: 5, stack: true, all: true, json: true,
  });
  const bad: [Parameters<typeof parseDropsOptions>[0], RegExp][] = [
    [{ interval: 'fast' }, /^invalid --interval "fast"/],
    [{ interval: '10ms' }, /^invalid --interval "10ms"/],
    [{ count: '0' }, /^invalid --count "0"/],
    [{ count: '2', duration: '1s' }, /exclusive/],
    [{ top: '5' }, /needs|give --listen/],
    [{ listen: ':9', top: '0' }, /^invalid --top "0"/],
  ];
  for (const [raw, msg] of bad) assert.throws(() => parseDropsOptions(raw), (e: unknown) => e instanceof UsageError && msg.test(e.message), JSON.stringify(raw));
});
