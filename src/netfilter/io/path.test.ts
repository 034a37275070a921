import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NfTrace, NftTraceRecord } from '../model.js';
import { markedByUs } from './path.js';

function rec(table: string, kind: NftTraceRecord['kind']): NftTraceRecord {
  return { traceId: '1', family: 'inet', table, chain: 'out', kind };
}
const trace = (records: NftTraceRecord[]): NfTrace => ({ traceId: '1', packet: null, path: [], records });

test('a packet belongs to this run only when its own tracing rule matched it', () => {
  assert.equal(markedByUs(trace([rec('pktpath_42', 'packet'), rec('pktpath_42', 'rule')]), 42), true);
  assert.equal(markedByUs(trace([rec('pktpath_42_1', 'rule')]), 42), true);
  // marked by another run: our chain only shows its policy
  assert.equal(markedByUs(trace([rec('pktpath_7', 'rule'), rec('pktpath_42', 'policy')]), 42), false);
  assert.equal(markedByUs(trace([rec('filter', 'rule')]), 42), false);
  assert.equal(markedByUs(trace([rec('pktpath_420', 'rule')]), 42), false);
});
