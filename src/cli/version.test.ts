import { test } from 'node:test';
import assert from 'node:assert/strict';
import { known, versionText } from './version.js';

test('versionText: one line per part', () => {
  assert.equal(versionText({ pktpath: '0.1.0', libbpf: '1.1', kernel: '6.12.0-1-amd64' }), 'pktpath 0.1.0\nlibbpf 1.1\nkernel 6.12.0-1-amd64\n');
});

test('known: a part that cannot be read says why instead of failing', () => {
  assert.equal(known(() => '1.4'), '1.4');
  assert.equal(known(() => { throw new Error('native addon not built'); }), 'unknown (native addon not built)');
});
