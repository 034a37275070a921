import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowTable, functionOf, NameCache } from './normalize.js';
import type { RawTuple } from '../engine/event.js';
import type { Names } from './normalize.js';

test('functionOf: the bare function of a location, whether built in or in a module', () => {
  const cases: [string, string][] = [
    ['tcp_v4_rcv+0x9e', 'tcp_v4_rcv'],
    ['tcp_v4_rcv+0x9e/0x1200', 'tcp_v4_rcv'],
    // distribution kernels: nf_tables and veth are modules (the 6.12 guest)
    ['nft_do_chain+0x40f [nf_tables]', 'nft_do_chain'],
    ['veth_xdp_rcv_skb+0x1f2 [veth]', 'veth_xdp_rcv_skb'],
    ['ipt_do_table+0x0 [ip_tables]', 'ipt_do_table'],
    ['skb_release_data.isra.0+0x12', 'skb_release_data.isra.0'],
    ['0xffffffffc0a01234', '0xffffffffc0a01234'],
    ['tcp_v4_rcv', 'tcp_v4_rcv'],
  ];
  for (const [sym, fn] of cases) assert.equal(functionOf(sym), fn, sym);
});

const NAMES: Names = { probeName: (id) => ['netif_rx', 'kfree_skb'][id] ?? '?', dropReason: () => 'X', symbol: () => '?', netnsName: () => undefined };
const MAC_A = Uint8Array.of(2, 0, 0, 0, 0, 1);
const MAC_B = Uint8Array.of(2, 0, 0, 0, 0, 2);

test('NameCache.spot: one Spot per probe, namespace, device, stage, protocol and MAC, whatever the order they come in', () => {
  const names = new NameCache(NAMES);
  const rx = names.probe(0);
  const free = names.probe(1);
  const a = names.spot(rx, 7, 'eth0', 'rx', 'tcp', MAC_A);
  const cases: [string, () => ReturnType<NameCache['spot']>, boolean][] = [
    ['same again', () => names.spot(rx, 7, 'eth0', 'rx', 'tcp', Uint8Array.from(MAC_A)), true],
    ['other MAC', () => names.spot(rx, 7, 'eth0', 'rx', 'tcp', MAC_B), false],
    ['same after another', () => names.spot(rx, 7, 'eth0', 'rx', 'tcp', MAC_A), true],
    ['other protocol', () => names.spot(rx, 7, 'eth0', 'rx', 'udp', MAC_A), false],
    ['other device', () => names.spot(rx, 7, 'eth1', 'rx', 'tcp', MAC_A), false],
    ['other namespace', () => names.spot(rx, 8, 'eth0', 'rx', 'tcp', MAC_A), false],
    ['other probe and stage', () => names.spot(free, 7, 'eth0', 'free', 'tcp', MAC_A), false],
    ['same after all of them', () => names.spot(rx, 7, 'eth0', 'rx', 'tcp', MAC_A), true],
  ];
  for (const [what, get, same] of cases) assert.equal(get() === a, same, what);
  const b = names.spot(rx, 7, 'eth0', 'drop', 'udp', MAC_B);
  assert.deepEqual([b.probe, b.netns, b.dev, b.place, b.stage, b.proto, b.macHi, b.macLo], ['netif_rx', 7, 'eth0', 'netif_rx@7/eth0', 'drop', 'udp', 0x020000, 2]);
  assert.equal(b.place, names.place('netif_rx', 7, 'eth0'));
});

test('NameCache.ended: one set of rare parts per drop reason and location, with nothing rarer in it', () => {
  const names = new NameCache(NAMES);
  const a = names.ended('NO_SOCKET', 'tcp_v4_rcv');
  assert.equal(names.ended('NO_SOCKET', 'tcp_v4_rcv'), a);
  assert.notEqual(names.ended('NO_SOCKET', 'tcp_v6_rcv'), a);
  assert.notEqual(names.ended(null, 'tcp_v4_rcv'), a);
  assert.equal(names.ended(null, 'tcp_v4_rcv'), names.ended(null, 'tcp_v4_rcv'));
  assert.deepEqual(a, { reason: 'NO_SOCKET', at: 'tcp_v4_rcv', nf: null, route: null, sent: null, related: false, fexit: false });
});

function tuple(family: 4 | 6, l4proto: number, s: number, d: number, sport: number, dport: number): RawTuple {
  const addr = (last: number): Uint8Array => {
    const a = new Uint8Array(family === 4 ? 4 : 16);
    a[0] = family === 4 ? 10 : 0xfd;
    a[a.length - 1] = last;
    return a;
  };
  return { family, saddr: addr(s), daddr: addr(d), sport, dport, l3proto: family === 4 ? 0x0800 : 0x86dd, l4proto, tcpFlags: 0, icmpType: -1, icmpCode: -1, icmpId: 0 };
}

test('FlowTable: one flow both ways, a -> b being the first sender; a deleted flow is forgotten, and its tuple makes a new one', () => {
  const cases: [string, 4 | 6, number][] = [['tcp over IPv4', 4, 6], ['udp over IPv6', 6, 17], ['tcp over IPv6', 6, 6]];
  for (const [what, fam, l4] of cases) {
    const flows = new FlowTable();
    const ab = tuple(fam, l4, 1, 2, 40000, 80);
    const ba = tuple(fam, l4, 2, 1, 80, 40000);
    const other = tuple(fam, l4, 1, 2, 40001, 80);
    const f = flows.lookup(ab, true)!;
    assert.equal(flows.dir, 0, what);
    const o = flows.lookup(other, true)!;
    assert.notEqual(o, f, what);
    assert.equal(flows.lookup(ba, true), f, what);
    assert.equal(flows.dir, 1, what);
    assert.equal(flows.lookup(ab, false), f, what);
    assert.equal(flows.dir, 0, what);
    flows.delete(f);
    assert.equal(flows.lookup(ba, false), null, `${what}: deleted`);
    assert.equal(flows.lookup(ab, false), null, `${what}: deleted`);
    assert.equal(flows.lookup(other, false), o, `${what}: the other flow stays`);
    const again = flows.lookup(ba, true)!;
    assert.ok(again !== f && again.id > o.id, `${what}: a new flow`);
    assert.equal(flows.dir, 0, `${what}: its first sender is a`);
  }
});
