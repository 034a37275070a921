import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawEvent } from '../engine/event.js';
import { EV_DROP, EV_HAS_TUPLE, EV_RET } from '../engine/event.js';
import { ShortView } from './view.js';
import { ev } from '../../test/helpers/formatting.js';

const CLI = 4026532177;
const SRV = 4026532229;
const SYN = 0xffff888004c818e8n;
const RST = 0xffff888004923000n;

/** Events named by probe; returns carry `failed` through the fake returnOf. */
function run(steps: [string, Partial<RawEvent>, boolean?][]): string[] {
  const names = steps.map(([n]) => n);
  const failed = new Set(steps.flatMap(([, , f], i) => (f ? [i] : [])));
  const view = new ShortView({
    probeName: (id) => names[id]!,
    returnOf: (id) => ({ value: 0, name: null, ...(failed.has(id) ? { failed: true as const } : {}) }),
  });
  return steps.flatMap(([name, over], i) => (view.shows(ev({ flags: EV_HAS_TUPLE, ...over, probe: i })) ? [name] : []));
}

test('the closed-port path (kprobe.multi, 6.12 guest, recorded order): its milestones, about as long as Mytracer', () => {
  const syn = { skb: SYN, netns: CLI };
  const synSrv = { skb: SYN, netns: SRV };
  const rst = { skb: RST, netns: SRV };
  const rstCli = { skb: RST, netns: CLI };
  const ret = EV_HAS_TUPLE | EV_RET;
  const shown = run([
    ['ip_local_out', syn], ['__ip_local_out', syn], ['nf_hook_slow', syn], ['nf_hook_slow', { ...syn, flags: ret }],
    ['ip_output', syn], ['ip_finish_output', syn], ['ip_finish_output2', syn], ['neigh_resolve_output', syn],
    ['__dev_queue_xmit', syn], ['net_dev_queue', syn], ['validate_xmit_skb', syn], ['dev_hard_start_xmit', syn], ['net_dev_start_xmit', syn],
    ['__netif_rx', synSrv], ['netif_rx', synSrv], ['enqueue_to_backlog', synSrv], ['enqueue_to_backlog', { ...synSrv, flags: ret }],
    ['net_dev_xmit', syn], ['__dev_queue_xmit', { ...syn, flags: ret }],
    ['__netif_receive_skb', synSrv], ['netif_receive_skb', synSrv], ['ip_rcv', synSrv], ['ip_rcv_core', synSrv],
    ['ip_route_input_noref', synSrv], ['ip_local_deliver', synSrv], ['ip_local_deliver_finish', synSrv], ['ip_protocol_deliver_rcu', synSrv],
    ['tcp_v4_rcv', synSrv], ['tcp_v4_send_reset', synSrv], ['tcp_send_reset', synSrv], ['ip_send_unicast_reply', synSrv],
    ['__ip_local_out', rst], ['ip_output', rst], ['ip_finish_output2', rst], ['__dev_queue_xmit', rst], ['net_dev_queue', rst],
    ['__netif_rx', rstCli], ['__netif_receive_skb', rstCli], ['ip_rcv', rstCli], ['tcp_v4_rcv', rstCli], ['tcp_add_backlog', rstCli],
    ['sk_skb_reason_drop', synSrv], ['kfree_skb', { ...synSrv, flags: EV_HAS_TUPLE | EV_DROP }], ['ip_rcv', { ...synSrv, flags: ret }],
    ['tcp_v4_do_rcv', rstCli], ['tcp_rcv_state_process', rstCli], ['tcp_reset', rstCli], ['tcp_receive_reset', { skb: 0n, netns: CLI }],
    ['__kfree_skb', { skb: RST, netns: 0 }], ['tcp_v4_do_rcv', { ...rstCli, flags: ret }],
  ]);
  assert.deepEqual(shown, [
    'ip_local_out', '__dev_queue_xmit', // out of the client, to its device
    '__netif_rx', 'tcp_v4_rcv', 'tcp_v4_send_reset', // into the server, socket lookup, reset
    '__ip_local_out', '__dev_queue_xmit', // the reset out of the server
    '__netif_rx', 'tcp_v4_rcv', // into the client
    'kfree_skb', // the SYN's drop (NO_SOCKET)
    'tcp_reset', 'tcp_receive_reset', // the client takes the reset
  ]);
});

test('steps, drops, failed returns and route lookups always show; other returns and repeats fold; a freed skb starts over', () => {
  const a = { skb: 0xan, netns: CLI };
  const shown = run([
    ['ip_local_out', a],
    ['netfilter', { ...a, nf: { pf: 2, table: 'filter', chain: 'OUTPUT', hook: 'output', verdict: 'DROP', rule: null } }],
    ['nf_hook_slow', { ...a, flags: EV_HAS_TUPLE | EV_RET }, true],
    ['ip_local_out', { ...a, flags: EV_HAS_TUPLE | EV_RET }],
    ['fib_table_lookup', { skb: 0n, netns: CLI }],
    ['__ip_local_out', a],
    ['consume_skb', a],
    ['ip_local_out', a],
    ['consume_skb', { skb: 0xcn, netns: CLI }], // a clone never seen before, freed after its transmit
  ]);
  assert.deepEqual(shown, ['ip_local_out', 'netfilter', 'nf_hook_slow', 'fib_table_lookup', 'ip_local_out']);
});

test('an event with no namespace known does not count as a new one', () => {
  const shown = run([
    ['tcp_v4_rcv', { skb: 0xbn, netns: CLI }],
    ['__kfree_skb', { skb: 0xbn, netns: 0 }],
  ]);
  assert.deepEqual(shown, ['tcp_v4_rcv']);
});

test('an evidence probe is shown whenever it fires, with or without an skb', () => {
  const names = { probeName: (id: number) => (id === 18 ? 'xdp_exception' : 'netif_rx') };
  const xdp = ev({ probe: 18, skb: 0n });
  assert.equal(new ShortView(names).shows(xdp), false, 'folded when not named as evidence');
  const view = new ShortView(names, new Set(['xdp_exception']));
  assert.equal(view.shows(xdp), true);
  assert.equal(view.shows(xdp), true, 'again');
});

test('an skb freed untraced (a UDP datagram its socket read) is a new packet when its IPv4 ID changes: each datagram shows its milestones', () => {
  const dgram = (id: number): [string, Partial<RawEvent>][] => [
    ['net_dev_queue', { skb: 0xdn, netns: CLI, ipId: id }],
    ['net_dev_start_xmit', { skb: 0xdn, netns: CLI, ipId: id }],
    ['netif_rx', { skb: 0xdn, netns: SRV, ipId: id }],
    ['netif_receive_skb', { skb: 0xdn, netns: SRV, ipId: id }],
  ];
  const shown = run([...dgram(7), ...dgram(8), ...dgram(8)]);
  assert.deepEqual(shown, ['net_dev_queue', 'netif_rx', 'net_dev_queue', 'netif_rx'], 'the third, with the same ID, is the same packet: folded');
  const noId = run([...dgram(7), ...dgram(8)].map(([n, o]): [string, Partial<RawEvent>] => [n, { ...o, ipId: undefined }]));
  assert.deepEqual(noId, ['net_dev_queue', 'netif_rx'], 'IPv6 and others (no ID): as before');
});
