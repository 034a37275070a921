import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawEvent } from '../engine/event.js';
import { EV_DROP, EV_HAS_TUPLE, EV_RET, EV_STACK, RET_NO_ENTRY } from '../engine/event.js';
import { returnValue } from '../functions/returns.js';
import type { ReturnSpec } from '../functions/returns.js';
import { makeJsonFormatter } from './json.js';
import { MONO0, WALL0, addr, ev, resolver, tcp } from '../../test/helpers/formatting.js';

const JSON_BASE = {
  time: '2022-11-04T10:26:26.103401Z', ts_ns: 1000103401000, cpu: 1, pid: 0, comm: 'swapper/1', netns: 4026531992,
  ifname: 'eth1', ifindex: 2, dst_mac: '00:16:3e:0c:b8:38', skb: '0xffff9fdef19eb600', pkt_type: 0, mark: 0, len: 60,
  probe: 'netif_receive_skb',
  tuple: { proto: 'tcp', saddr: '192.168.88.154', daddr: '192.168.40.230', sport: 34060, dport: 8080, flags: 'SYN' },
};

test('json lines', () => {
  const drop = EV_HAS_TUPLE | EV_DROP;
  const cases: [string, Partial<RawEvent>, boolean, Record<string, unknown>][] = [
    ['syn', {}, false, JSON_BASE],
    ['netns name, rst, mark u32', {
      netns: 4026533234, mark: -1, pid: 4242, comm: 'curl', ifname: '',
      tuple: tcp({ tcpFlags: 0x14 }),
    }, false, {
      time: JSON_BASE.time, ts_ns: JSON_BASE.ts_ns, cpu: 1, pid: 4242, comm: 'curl', netns: 4026533234, netns_name: 'pod-a',
      ifname: '', ifindex: 2, dst_mac: JSON_BASE.dst_mac, skb: JSON_BASE.skb, pkt_type: 0, mark: 4294967295, len: 60,
      probe: 'netif_receive_skb', tuple: { ...JSON_BASE.tuple, flags: 'ACK,RST' },
    }],
    ['no tuple', { tuple: null, flags: 0 }, false, { ...JSON_BASE, tuple: null }],
    ['udp v6', { tuple: tcp({ family: 6, l3proto: 0x86dd, l4proto: 17, saddr: addr('fd00::1'), daddr: addr('::ffff:10.0.0.1'), sport: 53, dport: 5353 }) },
      false, { ...JSON_BASE, tuple: { proto: 'udp', saddr: 'fd00::1', daddr: '::ffff:10.0.0.1', sport: 53, dport: 5353, flags: '' } }],
    ['icmp', { tuple: tcp({ l4proto: 1, sport: 0, dport: 0, tcpFlags: 0, icmpType: 8, icmpCode: 0, icmpId: 17 }) }, false,
      { ...JSON_BASE, tuple: { proto: 'icmp', saddr: '192.168.88.154', daddr: '192.168.40.230', sport: 0, dport: 0, flags: '', icmp_type: 8, icmp_code: 0, icmp_id: 17 } }],
    ['drop', { probe: 15, flags: drop, dropReason: 2, location: 0xffffffff81000010n }, false,
      { ...JSON_BASE, probe: 'kfree_skb', drop_reason: 'NO_SOCKET', location: 'tcp_v4_rcv+0x6d3' }],
    ['drop no location', { probe: 15, flags: drop, dropReason: 2 }, false, { ...JSON_BASE, probe: 'kfree_skb', drop_reason: 'NO_SOCKET' }],
    ['stack asked', { flags: EV_HAS_TUPLE | EV_STACK, stack: [0xffffffff81000020n, 0x10n] }, true,
      { ...JSON_BASE, stack: ['ip_rcv+0x3d', '0x10'] }],
    ['stack not asked', { flags: EV_HAS_TUPLE | EV_STACK, stack: [0xffffffff81000020n] }, false, JSON_BASE],
    ['extras', { probe: 9, aux: -101, aux2: 254 }, false, { ...JSON_BASE, probe: 'fib_table_lookup', info: { table: 254, err: -101 },
      route: { table: 254, type: 'unreachable', oif: '', gw: '', err: -101 } }],
    ['gw extra', { probe: 9, aux: 0, aux2: 254, auxAddr: { family: 4, bytes: addr('10.0.0.254') } }, false,
      { ...JSON_BASE, probe: 'fib_table_lookup', info: { table: 254, err: 0, gw: '10.0.0.254' },
        route: { table: 254, type: 'unicast', oif: JSON_BASE.ifname, gw: '10.0.0.254', err: 0 } }],
    ['hex extras', { probe: 5, aux: 0x10000, aux2: 0xffff0000 | 0 }, false,
      { ...JSON_BASE, probe: 'qdisc_enqueue', info: { handle: '0x10000', parent: '0xffff0000' } }],
    ['icmp_send', { probe: 14, aux: (3 << 8) | 1 }, false, { ...JSON_BASE, probe: 'icmp_send', info: { type: 3, code: 1 } }],
    ['odd strings', { probe: 99, comm: 'a"b\\c\n\u0000\u00ff\ud800x', ifname: 'eth\u001b0\u2028' }, false,
      { ...JSON_BASE, probe: 'we"ird', comm: 'a"b\\c\n\u0000\u00ff\ud800x', ifname: 'eth\u001b0\u2028' }],
  ];
  for (const [name, over, stack, want] of cases) {
    const line = makeJsonFormatter(resolver(), { time: 'default', stack }).format(ev(over));
    assert.ok(!line.includes('\n'), `${name}: one line`);
    assert.ok(!/[\ud800-\udfff]/.test(line), `${name}: no raw surrogates`);
    const obj = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(obj, want, name);
    assert.deepEqual(Object.keys(obj), Object.keys(want), `${name}: key order`);
  }
});

test('json keeps ts_ns exact and time in UTC with microseconds', () => {
  const f = makeJsonFormatter(resolver(), { time: 'datetime', stack: false });
  const big = (1n << 60n) + 123n; // beyond 2^53
  const line = f.format(ev({ tsNs: big }));
  assert.match(line, new RegExp(`"ts_ns":${big},`));
  const obj = JSON.parse(line) as { time: string };
  const wall = big - MONO0 + WALL0;
  const ms = Number(wall / 1_000_000n);
  const us = String((wall / 1000n) % 1000n).padStart(3, '0');
  assert.equal(obj.time, new Date(ms).toISOString().replace('Z', us + 'Z'));
});

test('json function returns: ret (pointers as hex text), ret_name from the type, entry_seen false when unjoined', () => {
  const specs: Record<number, ReturnSpec> = {
    300: { kind: 'ptr', type: 'struct sk_buff *', bits: 64 },
    301: { kind: 'int', type: 'int', bits: 32 },
    302: { kind: 'uint', type: 'unsigned int', bits: 32, convention: 'verdict' },
  };
  const r = { ...resolver(), returnOf: (id: number, raw: bigint) => (specs[id] ? returnValue(specs[id]!, raw, (n) => (n === 1 ? 'EPERM' : undefined)) : undefined) };
  const ret = EV_HAS_TUPLE | EV_RET;
  const cases: [string, Partial<RawEvent>, Record<string, unknown>][] = [
    ['pointer', { probe: 300, flags: ret, location: 0xffff888004bd76e8n, aux: 0x4bd76e8 }, { ret: '0xffff888004bd76e8', ret_name: null }],
    ['NULL', { probe: 300, flags: ret, location: 0n }, { ret: '0x0', ret_name: 'NULL' }],
    ['errno', { probe: 301, flags: ret, location: 0xffffffffffffffffn, aux: -1 }, { ret: -1, ret_name: '-EPERM' }],
    ['verdict', { probe: 302, flags: ret, location: 0n }, { ret: 0, ret_name: 'NF_DROP' }],
    ['unjoined', { probe: 301, flags: ret, location: 0n, aux3: RET_NO_ENTRY }, { ret: 0, ret_name: null, entry_seen: false }],
    ['no resolver type: the int', { probe: 303, flags: ret, location: 7n, aux: 7 }, { ret: 7, ret_name: null }],
  ];
  for (const [name, over, want] of cases) {
    const obj = JSON.parse(makeJsonFormatter(r, { time: 'default', stack: false }).format(ev(over))) as Record<string, unknown>;
    const got = Object.fromEntries(Object.entries(obj).filter(([k]) => k === 'ret' || k === 'ret_name' || k === 'entry_seen'));
    assert.deepEqual(got, want, name);
  }
  const plain = JSON.parse(makeJsonFormatter(r, { time: 'default', stack: false }).format(ev())) as Record<string, unknown>;
  assert.ok(!('ret' in plain), 'no ret on an entry');
});
