import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawEvent } from '../engine/event.js';
import { ROUTE_PROBES, routeOf } from './route.js';
import { makeJsonFormatter, makeTextFormatter } from '../output/index.js';
import { catalogFields } from '../../test/helpers/formatting.js';
import type { Resolver } from '../output/resolver.js';

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

/** A fib6_table_lookup event as the BPF side sends it: aux = err, aux2 = table, aux3 = RTN_* (0 for the null entry). */
function lookup6(table: number, err: number, type: number, ifname = '', gw?: string): RawEvent {
  return {
    ...lookup(table, err, ifname),
    probe: 17,
    aux3: type,
    auxAddr: gw ? { family: 6, bytes: v6(gw) } : null,
  };
}

/** fd00:199:7::1 style addresses (no embedded IPv4) to bytes. */
function v6(addr: string): Uint8Array {
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  });
  return out;
}

test('IPv6 lookups (fib6_table_lookup): the type is the kernel\'s fib6_type, the error derived from it', () => {
  const cases: [RawEvent, ReturnType<typeof routeOf>][] = [
    // on-link: the veth, no gateway
    [lookup6(254, 0, 1, 'pp7c'), { table: 254, type: 'unicast', oif: 'pp7c', gw: '', err: 0 }],
    // via a gateway (RTN_UNICAST, nhc_gw_family AF_INET6)
    [lookup6(254, 0, 1, 'eth0', 'fe80::1'), { table: 254, type: 'unicast', oif: 'eth0', gw: 'fe80::1', err: 0 }],
    [lookup6(255, 0, 2, 'pp7s'), { table: 255, type: 'local', oif: 'pp7s', gw: '', err: 0 }],
    [lookup6(255, 0, 5, 'lo'), { table: 255, type: 'multicast', oif: 'lo', gw: '', err: 0 }],
    // reject routes (ip -6 route add unreachable|prohibit|blackhole|throw ...): ip6_rt_type_to_error
    [lookup6(254, -113, 7), { table: 254, type: 'unreachable', oif: '', gw: '', err: -113 }],
    [lookup6(254, -13, 8), { table: 254, type: 'prohibit', oif: '', gw: '', err: -13 }],
    [lookup6(254, -22, 6), { table: 254, type: 'blackhole', oif: '', gw: '', err: -22 }],
    [lookup6(100, -11, 9), { table: 100, type: 'throw', oif: '', gw: '', err: -11 }],
    // the null entry: nothing in this table, the next one is tried
    [lookup6(255, -11, 0), { table: 255, type: 'no-match', oif: '', gw: '', err: -11 }],
    [lookup6(254, -11, 0), { table: 254, type: 'no-match', oif: '', gw: '', err: -11 }],
  ];
  for (const [ev, want] of cases) assert.deepEqual(routeOf(ev), want, `table ${ev.aux2} err ${ev.aux} type ${ev.aux3}`);
});

test('ROUTE_PROBES names both route lookup tracepoints', () => {
  assert.deepEqual([...ROUTE_PROBES].sort(), ['fib6_table_lookup', 'fib_table_lookup']);
});

test('an IPv6 lookup prints its route in text and JSON like an IPv4 one', () => {
  const names: Record<number, string> = { 9: 'fib_table_lookup', 17: 'fib6_table_lookup' };
  const resolver: Resolver = {
    probeName: (id) => names[id] ?? `probe${id}`,
    probeFields: (id) => catalogFields(names[id]),
    dropReason: String,
    symbol: (a) => '0x' + a.toString(16),
    netnsName: () => undefined,
    wallClockNs: (mono) => mono,
  };
  const tuple = {
    family: 6 as const, saddr: v6('fd00:199:7::1'), daddr: v6('fd00:199:7::2'), sport: 0, dport: 0,
    l3proto: 0x86dd, l4proto: 58, tcpFlags: 0, icmpType: 128, icmpCode: 0, icmpId: 0,
  };
  const ok = { ...lookup6(254, 0, 1, 'pp7c'), netns: 4026532000, flags: 0x12, tuple };
  const miss = { ...lookup6(255, -11, 0), netns: 4026532000, flags: 0x12, tuple, ifname: '', ifindex: 0 };
  const json = makeJsonFormatter(resolver, { time: 'default', stack: false });
  const a = JSON.parse(json.format(ok)) as Record<string, unknown>;
  assert.equal(a.probe, 'fib6_table_lookup');
  assert.deepEqual(a.route, { table: 254, type: 'unicast', oif: 'pp7c', gw: '', err: 0 });
  assert.deepEqual(a.info, { table: 254, err: 0 });
  assert.equal((a.tuple as { daddr: string }).daddr, 'fd00:199:7::2');
  const b = JSON.parse(json.format(miss)) as Record<string, unknown>;
  assert.deepEqual(b.route, { table: 255, type: 'no-match', oif: '', gw: '', err: -11 });
  const text = makeTextFormatter(resolver, { time: 'default', stack: false });
  assert.match(text.format(ok), /:fib6_table_lookup table=254 err=0 type=unicast oif=pp7c$/);
  assert.match(text.format({ ...ok, auxAddr: { family: 6, bytes: v6('fe80::1') } }), /:fib6_table_lookup table=254 err=0 gw=fe80::1 type=unicast oif=pp7c$/);
  assert.match(text.format(miss), /:fib6_table_lookup table=255 err=-11 type=no-match$/);
});
