/**
 * A rule's relations (evaluate.ts compiles them to one shape): each choice of direction,
 * namespace, order, count, absence and option, on one small trace, and the evidence they
 * name. The anchor is a drop of a reply (b>a) in the client's namespace; around it:
 *   #1 net_dev_queue a>b cli, #2 netif_receive_skb a>b srv, #3 consume_skb srv (packet 0x1)
 *   #4 net_dev_queue b>a srv, #5 netif_receive_skb b>a cli, #6 kfree_skb b>a cli (packet 0x2, the anchor)
 *   #7 net_dev_queue a>b cli (packet 0x3)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Diagnoser } from './engine.js';
import { ReplayResolver, rawOfJson } from './replay.js';
import type { JsonEvent, JsonTuple } from './replay.js';
import type { Relation, Rule } from './rules/types.js';

const CLI = 2001;
const SRV = 2002;
const AB: JsonTuple = { proto: 'tcp', saddr: '10.0.0.1', daddr: '10.0.1.2', sport: 40000, dport: 80, flags: 'ACK' };
const BA: JsonTuple = { proto: 'tcp', saddr: '10.0.1.2', daddr: '10.0.0.1', sport: 80, dport: 40000, flags: 'ACK' };

function trace(): JsonEvent[] {
  const steps: [string, number, string, JsonTuple, Partial<JsonEvent>?][] = [
    ['net_dev_queue', CLI, '0x1', AB],
    ['netif_receive_skb', SRV, '0x1', AB],
    ['consume_skb', SRV, '0x1', AB],
    ['net_dev_queue', SRV, '0x2', BA],
    ['netif_receive_skb', CLI, '0x2', BA],
    ['kfree_skb', CLI, '0x2', BA, { drop_reason: 'NO_SOCKET', location: 'tcp_v4_rcv+0x1' }],
    ['net_dev_queue', CLI, '0x3', AB],
  ];
  return steps.map(([probe, netns, skb, tuple, extra], i) => ({ ts_ns: 1_000_000_000 + i * 10_000, netns, ifname: 'eth0', skb, probe, tuple, len: 60, dst_mac: '02:00:00:00:00:01', ...extra }));
}

/** The evidence numbers of the finding of a rule anchored on the drop with one relation, or null when it does not hold. */
function evidence(rel: Omit<Relation, 'role'>): number[] | null {
  const rule: Rule = { id: 'test.rel', level: 'error', title: 't', priority: 99, anchor: { reason: ['NO_SOCKET'] }, with: [{ role: 'r', ...rel }], verdict: 'v', what: 'w', advice: 'a' };
  const r = new ReplayResolver();
  const d = new Diagnoser(r, { rules: [rule] });
  for (const e of trace()) d.push(rawOfJson(e, r));
  const f = d.report().findings.find((x) => x.rule === 'test.rel');
  return f ? f.evidence.filter((e) => e.role === 'r').map((e) => e.n) : null;
}

const QUEUE = { probe: ['net_dev_queue'] };
const RECV = { probe: ['netif_receive_skb'] };

const CASES: readonly { what: string; rel: Omit<Relation, 'role'>; want: number[] | null }[] = [
  // #7 is of #1's kind (place, direction, flags): one piece of evidence, counted twice
  { what: 'flow, any direction', rel: { scope: 'flow', match: QUEUE }, want: [1, 4] },
  { what: 'flow, same direction', rel: { scope: 'flow', dir: 'same', match: QUEUE }, want: [4] },
  { what: 'flow, reverse direction', rel: { scope: 'flow', dir: 'reverse', match: QUEUE }, want: [1] },
  { what: 'flow, same namespace', rel: { scope: 'flow', netns: 'same', match: QUEUE }, want: [1] },
  { what: 'flow, other namespace', rel: { scope: 'flow', netns: 'other', match: QUEUE }, want: [4] },
  { what: 'flow, before', rel: { scope: 'flow', order: 'before', dir: 'same', match: QUEUE }, want: [4] },
  { what: 'flow, after, same direction: none', rel: { scope: 'flow', order: 'after', dir: 'same', match: QUEUE }, want: null },
  { what: 'flow, after: the kind\'s last', rel: { scope: 'flow', order: 'after', dir: 'reverse', netns: 'same', match: QUEUE }, want: [7] },
  { what: 'flow, min met', rel: { scope: 'flow', min: 3, match: QUEUE }, want: [1, 4] },
  { what: 'flow, min not met', rel: { scope: 'flow', min: 4, match: QUEUE }, want: null },
  { what: 'flow, absent and none', rel: { scope: 'flow', absent: true, match: { probe: ['tcp_retransmit_skb'] } }, want: [] },
  { what: 'flow, absent but there', rel: { scope: 'flow', absent: true, match: QUEUE }, want: null },
  { what: 'flow, optional and none', rel: { scope: 'flow', optional: true, match: { probe: ['tcp_retransmit_skb'] } }, want: [] },
  { what: 'skb, before, same namespace', rel: { scope: 'skb', order: 'before', netns: 'same', match: RECV }, want: [5] },
  { what: 'skb, other namespace', rel: { scope: 'skb', netns: 'other', match: QUEUE }, want: [4] },
  { what: 'skb, after: none', rel: { scope: 'skb', order: 'after', match: RECV }, want: null },
  { what: 'skb, absent and none', rel: { scope: 'skb', absent: true, match: { probe: ['consume_skb'] } }, want: [] },
];

for (const c of CASES) {
  test(`relation: ${c.what}`, () => {
    assert.deepEqual(evidence(c.rel), c.want);
  });
}
