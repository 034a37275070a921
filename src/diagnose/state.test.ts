import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lives } from './state.js';
import type { DEvent } from './model.js';

const ev = (probe: string, netns: number, stage: string, dev = 'veth0'): DEvent =>
  ({ skb: 0xffff1n, probe, netns, stage, dev, place: `${probe}@${netns}/${dev}` }) as unknown as DEvent;

test('a packet first seen in a namespace at a receive function arrived there; at a send function it was made there', () => {
  const cases: [string, boolean][] = [
    ['__netif_rx', false],
    ['netif_rx', false],
    ['napi_gro_receive', false],
    ['ip_rcv', false],
    ['__ip_local_out', true],
    ['__dev_queue_xmit', true],
  ];
  for (const [probe, local] of cases) {
    const lives = new Lives();
    const e = ev(probe, 7, 'func');
    lives.add(e);
    assert.equal(e.local, local, probe);
  }
});
