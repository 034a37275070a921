import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawEvent } from '../engine/event.js';
import { MAX_QUEUED, StepJoin, nftKey } from './steps.js';
import { ev } from '../../test/helpers/formatting.js';

const verdict = (tsNs: bigint, chain = 'OUTPUT'): RawEvent =>
  ev({ tsNs, nf: { pf: 2, table: 'filter', chain, hook: 'output', verdict: 'ACCEPT', rule: null }, nfNames: { table: 'filter', chain } });
const line = (chain = 'OUTPUT', rule = 'r'): RawEvent => ev({ skb: 0n, nf: { pf: 2, table: 'filter', chain, hook: 'output', verdict: 'ACCEPT', rule } });

test('the reorder buffer: events pass while nothing waits, queue behind a waiting verdict, go out with it', () => {
  const j = new StepJoin();
  const a = ev({ tsNs: 1n });
  assert.deepEqual(j.pass(a), [a]);
  const v = verdict(2n);
  assert.deepEqual(j.wait(v, nftKey(v)), []);
  const b = ev({ tsNs: 3n });
  assert.deepEqual(j.pass(b), []);
  assert.equal(j.complete(nftKey(line('INPUT')), 'x', 1000), null, 'a line no verdict waits for');
  const out = j.complete(nftKey(line('OUTPUT')), 'accept rule', 1000)!;
  assert.equal(out.length, 2);
  assert.equal(out[0]!.nf?.rule, 'accept rule');
  assert.equal(out[0]!.probe, 1000, 'now the netfilter step');
  assert.equal(out[0]!.tsNs, v.tsNs, 'in its place, at its time');
  assert.equal(out[1], b);
  assert.equal(j.size, 0);
});

test('the reorder buffer is bounded: past MAX_QUEUED the oldest waiting verdict goes without its rule', () => {
  const j = new StepJoin();
  j.wait(verdict(1n), 'k');
  let out: RawEvent[] = [];
  for (let i = 0; i < MAX_QUEUED; i++) out = j.pass(ev({ tsNs: BigInt(i + 2) }));
  assert.equal(out.length, MAX_QUEUED + 1, 'the verdict and everything behind it');
  assert.equal(out[0]!.nf?.rule, null);
});

test('settle: a waiting step replaced, or dropped (null) while what waited behind it goes', () => {
  const j = new StepJoin();
  j.wait(verdict(1n), 'a');
  const b = ev({ tsNs: 2n });
  j.pass(b);
  assert.deepEqual(j.settle('a', () => null), [b]);
  assert.equal(j.settle('a', () => null), null, 'nothing waits there any more');
});
