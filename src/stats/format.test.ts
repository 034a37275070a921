import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReportJson, formatReportText } from './format.js';
import type { Report } from './format.js';
import type { Moved } from './snapshot.js';

const moved: Moved = {
  netns: 7, netnsLabel: 'srv', group: 'snmp', name: 'UdpNoPorts', value: 14, delta: 4, perSecond: 2, level: 'drop',
  meaning: 'no port', reasons: ['NO_SOCKET'], seeds: ['000'],
};

test('text: a title, then one aligned row per counter with its meaning, reasons and seeds', () => {
  const r: Report = { type: 'interval', index: 3, seconds: 2, moved: [moved, { ...moved, group: 'link', device: 'veth0', name: 'rx_bytes', delta: 1234, perSecond: 617, level: 'info', reasons: [], seeds: [] }] };
  const lines = formatReportText(r).split('\n');
  assert.equal(lines[0], 'interval 3: 2.00 s, 2 counters');
  assert.match(lines[1]!, /^NETNS\s+GROUP\s+DEVICE\s+COUNTER\s+DELTA\s+\/S\s+LEVEL\s+MEANING$/);
  assert.match(lines[2]!, /^srv\s+snmp\s+-\s+UdpNoPorts\s+4\s+2\.0\s+drop\s+no port \[NO_SOCKET\] \(seed 000\)$/);
  assert.match(lines[3]!, /veth0\s+rx_bytes\s+1234\s+617\s+info\s+no port$/);
  assert.equal(formatReportText({ type: 'total', index: 2, seconds: 2, moved: [] }), 'total since the start: 2.00 s, nothing moved');
});

test('JSON: one object per report, snake_case', () => {
  const j = JSON.parse(formatReportJson({ type: 'interval', index: 1, seconds: 1.0004, moved: [moved] })) as Record<string, unknown>;
  assert.deepEqual(j, {
    type: 'interval', index: 1, seconds: 1,
    counters: [{ netns: 7, netns_label: 'srv', group: 'snmp', name: 'UdpNoPorts', value: 14, delta: 4, per_second: 2, level: 'drop', meaning: 'no port', reasons: ['NO_SOCKET'], seeds: ['000'] }],
  });
});
