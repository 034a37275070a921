import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowState, Lives } from './state.js';
import type { DEvent, FlowId } from './model.js';

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

test('a flow lists its hops by from-place, then destination in order of first sight, a>b before b>a, whatever the order they came in', () => {
  const to = (probe: string, dir: 0 | 1): DEvent => ({ ...ev(probe, 7, 'rx'), dir }) as DEvent;
  const f = new FlowState({ id: 1 } as FlowId);
  const samples: [string, DEvent, number][] = [
    ['a@7/veth0', to('x', 1), 10],
    ['b@7/veth0', to('x', 0), 20],
    ['a@7/veth0', to('y', 0), 30],
    ['a@7/veth0', to('x', 0), 40],
    ['a@7/veth0', to('x', 1), 50],
    ['a@7/veth0', to('y', 1), 60],
  ];
  for (const [from, b, ns] of samples) f.sample(from, from.slice(0, 1), 7, 'veth0', b, ns);
  const list = f.hopList().map((h) => `${h.from}>${h.to}:${h.dir}:${h.count}:${h.max}`);
  assert.deepEqual(list, ['a>x:0:1:40', 'a>x:1:2:50', 'a>y:0:1:30', 'a>y:1:1:60', 'b>x:0:1:20']);
});

test('Lives.get answers from the last life looked up only while it is open (closed, gone idle or replaced)', () => {
  const at = (skb: bigint, ts: number): DEvent => ({ ...ev('netif_receive_skb', 7, 'rx'), skb, ts }) as unknown as DEvent;
  const lives = new Lives();
  const steps: [string, () => unknown, unknown][] = [
    ['a first event opens a life', () => lives.add(at(1n, 10)).skb, 1n],
    ['the same skb, again', () => lives.get(1n)?.total, 1],
    ['another skb has none', () => lives.get(2n), undefined],
    ['closed: gone', () => (lives.close(1n), lives.get(1n)), undefined],
    ['a new life on the reused skb', () => lives.add(at(1n, 20)).total, 1],
    ['a second skb', () => lives.add(at(2n, 30)).skb, 2n],
    ['the first, looked up after the second', () => lives.get(1n)?.total, 1],
    ['idle: the first goes', () => lives.idle(25).map((l) => l.skb), [1n]],
    ['and is not answered from memory', () => lives.get(1n), undefined],
    ['the second stays', () => lives.get(2n)?.skb, 2n],
  ];
  for (const [what, run, want] of steps) assert.deepEqual(run(), want, what);
});
