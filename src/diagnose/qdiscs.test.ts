import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTcQdiscs } from './qdiscs.js';

test('tc -j qdisc show: kinds by device and handle, noqueue left out', () => {
  const text = '[{"kind":"noqueue","handle":"0:","dev":"lo","root":true},{"kind":"tbf","handle":"8001:","dev":"pp5s","root":true,"options":{"rate":37500}},{"kind":"ingress","handle":"ffff:","dev":"pp5s","parent":"ffff:fff1"}]';
  assert.deepEqual(parseTcQdiscs(text, 7), [
    { netns: 7, dev: 'pp5s', handle: '8001:', kind: 'tbf' },
    { netns: 7, dev: 'pp5s', handle: 'ffff:', kind: 'ingress' },
  ]);
  assert.deepEqual(parseTcQdiscs('not json', 7), []);
  assert.deepEqual(parseTcQdiscs('{}', 7), []);
});
