import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { traceSocketState } from './nft-monitor.js';

test('traceSocketState: null for a process that is gone; not subscribed for one without a trace socket', (t) => {
  const gone = spawnSync('true').pid;
  assert.equal(traceSocketState(gone), null);
  // this process holds no NETLINK_NETFILTER socket in the trace group
  const self = traceSocketState(process.pid);
  if (self === null) {
    t.skip('/proc/self/net/netlink is not readable here');
    return;
  }
  assert.deepEqual(self, { subscribed: false, drops: 0, queued: 0 });
});
