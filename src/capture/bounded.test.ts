import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import { Analyzer } from './analyze.js';
import { CaptureStream } from './stream.js';
import { bulkPcap } from '../../test/helpers/bulk.js';

test('a 3 GB-equivalent capture streams through in bounded memory: 5M packets, 130k connections (10k at once), a table of 20k', () => {
  const a = new Analyzer({ maxFlows: 20_000, listFlows: 500 });
  const s = new CaptureStream('bulk', a);
  const base = getHeapStatistics().used_heap_size;
  let peak = 0;
  let wire = 0;
  let chunks = 0;
  for (const chunk of bulkPcap({ packets: 5_000_000, concurrent: 10_000, perFlow: 40 })) {
    s.push(chunk);
    if (++chunks % 32 === 0) {
      peak = Math.max(peak, getHeapStatistics().used_heap_size - base);
      assert.ok(a.liveFlows <= 20_000);
    }
  }
  const r = a.report(s.finish(), 'bulk');
  wire = r.capture.bytes;
  assert.equal(r.capture.packets, 5_000_000);
  assert.ok(wire > 3e9, `${wire} bytes on the wire`);
  assert.equal(r.flows.total, 130_000, 'each connection is one flow: closed ones were let go first');
  assert.ok(r.flows.evicted >= 100_000, `${r.flows.evicted} flows judged early`);
  assert.equal(r.flows.list.length, 500);
  assert.equal(r.flows.notListed, 129_500);
  assert.deepEqual(r.findings.map((f) => f.id), [], 'a clean transfer: evicted flows are not mistaken for trouble');
  // 20k live flows with their segment rings, plus the summaries: well under 200 MB whatever the file size
  assert.ok(peak < 200 * 1024 * 1024, `heap grew by ${Math.round(peak / 1048576)} MB`);
});
