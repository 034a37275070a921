import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawEvent } from './event.js';
import { routeOf } from './route.js';

function lookup(table: number, err: number, ifname = 'eth0', gw?: number[]): RawEvent {
  return {
    tsNs: 1n, skb: 0n, location: 0n, netns: 1, ifindex: 2, mark: 0, len: 0, pid: 1, dropReason: 0, aux: err, aux2: table,
    probe: 9, cpu: 0, pktType: 0, flags: 0x10, dstMac: new Uint8Array(6), ifname, comm: 'x', tuple: null, stack: null,
    auxAddr: gw ? { family: 4, bytes: Uint8Array.from(gw) } : null,
  };
}

test('the kernel route type wins when the BPF side read it (merged local/main tables)', () => {
  assert.equal(routeOf({ ...lookup(254, 0, 'veth0'), aux3: 2 }).type, 'local');
  assert.equal(routeOf({ ...lookup(255, 0, 'veth0'), aux3: 1 }).type, 'unicast');
  assert.equal(routeOf({ ...lookup(254, 0, 'veth0'), aux3: 3 }).type, 'broadcast');
});

test('route type follows the table and the error, as fib_props does', () => {
  const cases: [RawEvent, Partial<ReturnType<typeof routeOf>>][] = [
    [lookup(254, 0, 'eth0', [10, 0, 0, 1]), { table: 254, type: 'unicast', oif: 'eth0', gw: '10.0.0.1', err: 0 }],
    [lookup(255, 0, 'lo'), { table: 255, type: 'local', oif: 'lo', gw: '' }],
    [lookup(254, -113), { type: 'unreachable', oif: '' }],
    [lookup(254, -22), { type: 'blackhole' }],
    [lookup(254, -13), { type: 'prohibit' }],
    [lookup(255, -11), { type: 'no-match' }],
    [lookup(254, -5), { type: 'error -5', err: -5 }],
  ];
  for (const [ev, want] of cases) {
    const got = routeOf(ev);
    for (const [k, v] of Object.entries(want)) assert.equal(got[k as keyof typeof got], v, `${k} for table ${ev.aux2} err ${ev.aux}`);
  }
});
