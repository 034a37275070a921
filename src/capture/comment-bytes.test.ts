import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fragment, LineBytes, PATH } from './comment-bytes.js';
import { vantageComment } from './comment.js';

test('LineBytes: fragments and text as UTF-8, ASCII or not; lines one after the other until reset', () => {
  const lines = new LineBytes(4096);
  lines.begin(PATH);
  lines.put(fragment('net_dev_queue [ns-é/veth0]'));
  lines.text(' +1.2us ');
  lines.text('ß→x');
  const first = lines.end()!;
  assert.equal(first.toString(), 'path: net_dev_queue [ns-é/veth0] +1.2us ß→x');
  const v = lines.vantage('udp 10.0.0.1:1 -> 10.0.0.2:2', fragment('; seen at netif_rx on veth1 in netns ns-é (event '), 42)!;
  assert.equal(v.toString(), vantageComment('udp 10.0.0.1:1 -> 10.0.0.2:2', { probe: 'netif_rx', dev: 'veth1', netns: 'ns-é', dtNs: 0, event: 42 }));
  assert.equal(first.toString(), 'path: net_dev_queue [ns-é/veth0] +1.2us ß→x', 'the first line stays until reset');
});

test('LineBytes: a line over comment.ts MAX_LINE characters is given back as null, its room reused', () => {
  const lines = new LineBytes(64 * 1024);
  lines.begin(PATH);
  lines.text('x'.repeat(4000));
  assert.equal(lines.over, true);
  assert.equal(lines.end(), null);
  lines.begin(PATH);
  lines.text('ok');
  assert.equal(lines.end()!.toString(), 'path: ok');
  assert.equal(lines.fits(100_000), false);
});
