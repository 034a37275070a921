import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../shared/errors.js';
import { haveCommand, interrupted, nsArgv, requireNamedNetns } from './exec.js';

test('nsArgv: as is in our namespace, under `ip netns exec` in a named one', () => {
  assert.deepEqual(nsArgv(null, ['nft', '-a', 'monitor', 'trace']), ['nft', ['-a', 'monitor', 'trace']]);
  assert.deepEqual(nsArgv('cli', ['nft', 'list', 'tables']), ['ip', ['netns', 'exec', 'cli', 'nft', 'list', 'tables']]);
});

test('requireNamedNetns: null passes; what is not a plain name under /run/netns is a UsageError', () => {
  assert.doesNotThrow(() => requireNamedNetns(null));
  for (const bad of ['', '.', '..', '../etc', 'a b', 'x;rm', 'pp-no-such-namespace-for-exec-test']) {
    assert.throws(() => requireNamedNetns(bad), UsageError, JSON.stringify(bad));
  }
});

test('haveCommand: looks on PATH', () => {
  assert.equal(haveCommand('sh'), true);
  assert.equal(haveCommand('pktpath-no-such-command'), false);
});

test('interrupted: the group signals of a terminal or a kill of the group, not a timeout kill or an exit', () => {
  for (const [signal, want] of [
    ['SIGINT', true],
    ['SIGTERM', true],
    ['SIGKILL', false],
    [null, false],
  ] as const) {
    assert.equal(interrupted(signal), want, String(signal));
  }
});
