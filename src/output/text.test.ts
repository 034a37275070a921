import { test } from 'node:test';
import assert from 'node:assert/strict';

// Local time in the text formatter: pin the zone before any Date is made.
process.env.TZ = 'UTC';

import type { RawEvent, RawTuple } from '../engine/event.js';
import { EV_DROP, EV_HAS_TUPLE, EV_STACK } from '../engine/event.js';
import type { Resolver } from './resolver.js';
import { makeJsonFormatter, makeTextFormatter, probeInfo, jsonString } from './text.js';
import { parseAddr } from './tuple.js';

const PROBES: Record<number, string> = {
  3: 'netif_receive_skb', 5: 'qdisc_enqueue', 6: 'qdisc_dequeue', 8: 'net_dev_xmit', 9: 'fib_table_lookup',
  11: 'tcp_send_reset', 14: 'icmp_send', 15: 'kfree_skb', 99: 'we"ird',
};
const MONO0 = 1_000_000_000_000n; // 1000 s after boot
const WALL0 = BigInt(Date.UTC(2022, 10, 4, 10, 26, 26)) * 1_000_000n; // 2022-11-04 10:26:26 UTC

function resolver(names: Map<number, string> = new Map([[4026533234, 'pod-a']])): Resolver & { netnsAsks: number } {
  const r = {
    netnsAsks: 0,
    probeName: (id: number) => PROBES[id] ?? `probe${id}`,
    dropReason: (v: number) => (v === 2 ? 'NO_SOCKET' : String(v)),
    symbol: (a: bigint) => (a === 0xffffffff81000010n ? 'tcp_v4_rcv+0x6d3' : a === 0xffffffff81000020n ? 'ip_rcv+0x3d' : '0x' + a.toString(16)),
    netnsName(inode: number) {
      r.netnsAsks++;
      return names.get(inode);
    },
    wallClockNs: (mono: bigint) => mono - MONO0 + WALL0,
  };
  return r;
}

const addr = (s: string) => parseAddr(s)!.bytes;

function tcp(over: Partial<RawTuple> = {}): RawTuple {
  return {
    family: 4, saddr: addr('192.168.88.154'), daddr: addr('192.168.40.230'), sport: 34060, dport: 8080,
    l3proto: 0x0800, l4proto: 6, tcpFlags: 0x02, icmpType: 0, icmpCode: 0, icmpId: 0, ...over,
  };
}

function ev(over: Partial<RawEvent> = {}): RawEvent {
  return {
    tsNs: MONO0 + 103_401_000n, skb: 0xffff9fdef19eb600n, location: 0n, netns: 4026531992, ifindex: 2,
    mark: 0, len: 60, pid: 0, dropReason: 0, aux: 0, aux2: 0, probe: 3, cpu: 1, pktType: 0,
    flags: EV_HAS_TUPLE, dstMac: Uint8Array.from([0x00, 0x16, 0x3e, 0x0c, 0xb8, 0x38]), ifname: 'eth1',
    comm: 'swapper/1', tuple: tcp(), stack: null, ...over,
  };
}

const pad40 = (s: string) => s.padEnd(40);
const PAD_SYN = 'T_SYN:192.168.88.154:34060->192.168.40.230:8080'; // longer than 40, not padded
const LINE_TAIL = `[4026531992] eth1         00163e0cb838 ${PAD_SYN} ffff9fdef19eb600.0:netif_receive_skb`;

test('text header per time mode', () => {
  const cases: [('default' | 'datetime' | 'relative'), string][] = [
    ['default', 'time              NETWORK_NS   INTERFACE    DEST_MAC     PKT_INFO                                 TRACE_INFO'],
    ['datetime', 'time                         NETWORK_NS   INTERFACE    DEST_MAC     PKT_INFO                                 TRACE_INFO'],
    ['relative', 'time           NETWORK_NS   INTERFACE    DEST_MAC     PKT_INFO                                 TRACE_INFO'],
  ];
  for (const [time, want] of cases) {
    assert.equal(makeTextFormatter(resolver(), { time, stack: false }).header(), want, time);
  }
  assert.equal(makeJsonFormatter(resolver(), { time: 'default', stack: false }).header(), null);
});

test('text time column', () => {
  const cases: [string, 'default' | 'datetime' | 'relative', bigint | undefined, bigint[], string[]][] = [
    ['default', 'default', undefined, [MONO0 + 103_401_999n], ['[10:26:26.103401 ]']],
    ['datetime', 'datetime', undefined, [MONO0 + 103_401_000n], ['[2022-11-04 10:26:26.103401 ]']],
    ['datetime second rollover', 'datetime', undefined, [MONO0 + 999_999_999n, MONO0 + 1_000_000_000n, MONO0 + 61_000_000_001n],
      ['[2022-11-04 10:26:26.999999 ]', '[2022-11-04 10:26:27.000000 ]', '[2022-11-04 10:27:27.000000 ]']],
    ['datetime going back', 'datetime', undefined, [MONO0 + 2_000_000_000n, MONO0 + 5n],
      ['[2022-11-04 10:26:28.000000 ]', '[2022-11-04 10:26:26.000000 ]']],
    ['relative from first event', 'relative', undefined, [MONO0 + 5n, MONO0 + 1_500_000_000n, MONO0 + 12_345_678_901_234n],
      ['[    0.000000 ]', '[    1.499999 ]', '[12345.678901 ]']],
    ['relative from startNs', 'relative', MONO0, [MONO0 + 2_000_001_000n], ['[    2.000001 ]']],
    ['relative before start', 'relative', MONO0, [MONO0 - 1_500_000n], ['[   -0.001500 ]']],
    ['relative huge', 'relative', 0n, [123_456_789_000_000_000n], ['[123456789.000000 ]']],
  ];
  for (const [name, time, startNs, stamps, wants] of cases) {
    const f = makeTextFormatter(resolver(), { time, stack: false, ...(startNs === undefined ? {} : { startNs }) });
    stamps.forEach((ts, i) => {
      const line = f.format(ev({ tsNs: ts }));
      assert.equal(line.slice(0, line.indexOf('[4026531992]')), wants[i], `${name} #${i}`);
    });
  }
});

test('text lines', () => {
  const drop = EV_HAS_TUPLE | EV_DROP;
  const cases: [string, Partial<RawEvent>, string][] = [
    ['syn', {}, LINE_TAIL],
    ['rst, nil ifname, named netns', {
      netns: 4026533234, ifname: '', dstMac: Uint8Array.from([0x65, 0x73, 0x22, 0x3a, 0x20, 0x31]), skb: 0xffff9fdef19eb700n,
      tuple: tcp({ saddr: addr('192.168.40.230'), daddr: addr('192.168.88.154'), sport: 8080, dport: 34060, tcpFlags: 0x14 }),
    }, '[4026533234] nil          6573223a2031 T_ACK,RST:192.168.40.230:8080->192.168.88.154:34060 ffff9fdef19eb700.0:netif_receive_skb netns=pod-a'],
    ['short pkt info padded, pkt_type', { pktType: 4, tuple: tcp({ saddr: addr('10.0.0.1'), daddr: addr('10.0.0.2'), sport: 1, dport: 2 }) },
      '[4026531992] eth1         00163e0cb838 ' + pad40('T_SYN:10.0.0.1:1->10.0.0.2:2') + ' ffff9fdef19eb600.4:netif_receive_skb'],
    ['no tuple', { tuple: null, flags: 0, skb: 0n },
      '[4026531992] eth1         00163e0cb838 ' + pad40('-') + ' 0.0:netif_receive_skb'],
    ['ipv6 icmp', { tuple: { ...tcp(), family: 6, l3proto: 0x86dd, l4proto: 58, saddr: addr('fd00::1'), daddr: addr('fd00::2'), icmpType: 128, icmpId: 7 } },
      '[4026531992] eth1         00163e0cb838 ' + pad40('I_request:fd00::1->fd00::2 id=7') + ' ffff9fdef19eb600.0:netif_receive_skb'],
    ['ifname with blanks and controls', { ifname: 'a b\u0001' },
      '[4026531992] a\\x20b\\x01   00163e0cb838 ' + PAD_SYN + ' ffff9fdef19eb600.0:netif_receive_skb'],
    ['long ifname', { ifname: 'verylongname123' },
      '[4026531992] verylongname123 00163e0cb838 ' + PAD_SYN + ' ffff9fdef19eb600.0:netif_receive_skb'],
    ['drop with location', { probe: 15, flags: drop, dropReason: 2, location: 0xffffffff81000010n },
      LINE_TAIL.replace('netif_receive_skb', 'kfree_skb') + ' reason=NO_SOCKET at tcp_v4_rcv+0x6d3'],
    ['drop unknown reason, no location', { probe: 15, flags: drop, dropReason: 77 },
      LINE_TAIL.replace('netif_receive_skb', 'kfree_skb') + ' reason=77'],
    ['net_dev_xmit rc', { probe: 8, aux: -16 }, LINE_TAIL.replace('netif_receive_skb', 'net_dev_xmit rc=-16')],
    ['tcp_send_reset reason', { probe: 11, aux: 2 }, LINE_TAIL.replace('netif_receive_skb', 'tcp_send_reset reason=2')],
    ['fib_table_lookup', { probe: 9, aux: -101, aux2: 254 }, LINE_TAIL.replace('netif_receive_skb', 'fib_table_lookup table=254 err=-101 type=unreachable')],
    ['fib_table_lookup gw', { probe: 9, aux: 0, aux2: 254, auxAddr: { family: 6, bytes: addr('fe80::1') } },
      LINE_TAIL.replace('netif_receive_skb', 'fib_table_lookup table=254 err=0 gw=fe80::1 type=unicast oif=eth1')],
    ['qdisc_enqueue', { probe: 5, aux: 0x10000, aux2: -1 }, LINE_TAIL.replace('netif_receive_skb', 'qdisc_enqueue handle=0x10000 parent=0xffffffff')],
    ['qdisc_dequeue', { probe: 6, aux: 0x80010000 | 0, aux2: 0 }, LINE_TAIL.replace('netif_receive_skb', 'qdisc_dequeue handle=0x80010000 parent=0x0')],
    ['icmp_send', { probe: 14, aux: (3 << 8) | 4 }, LINE_TAIL.replace('netif_receive_skb', 'icmp_send type=3 code=4')],
  ];
  const f = makeTextFormatter(resolver(), { time: 'datetime', stack: false });
  for (const [name, over, want] of cases) {
    assert.equal(f.format(ev(over)), '[2022-11-04 10:26:26.103401 ]' + want, name);
  }
});

test('text stack frames only when asked', () => {
  const e = ev({ flags: EV_HAS_TUPLE | EV_STACK, stack: [0xffffffff81000020n, 0xffffffff81000010n, 0x1234n] });
  const withStack = makeTextFormatter(resolver(), { time: 'datetime', stack: true }).format(e);
  assert.equal(withStack, '[2022-11-04 10:26:26.103401 ]' + LINE_TAIL + '\n    ip_rcv+0x3d\n    tcp_v4_rcv+0x6d3\n    0x1234');
  const without = makeTextFormatter(resolver(), { time: 'datetime', stack: false }).format(e);
  assert.equal(without, '[2022-11-04 10:26:26.103401 ]' + LINE_TAIL);
  assert.equal(makeTextFormatter(resolver(), { time: 'datetime', stack: true }).format(ev()), '[2022-11-04 10:26:26.103401 ]' + LINE_TAIL);
});

test('netns names are looked up again later, not per event', () => {
  const names = new Map<number, string>();
  const r = resolver(names);
  const f = makeTextFormatter(r, { time: 'default', stack: false });
  for (let i = 0; i < 100; i++) assert.ok(!f.format(ev()).includes('netns='));
  assert.equal(r.netnsAsks, 1);
  names.set(4026531992, 'late');
  let seen = -1;
  for (let i = 0; i < 10000 && seen < 0; i++) if (f.format(ev()).endsWith(' netns=late')) seen = i;
  assert.ok(seen >= 0 && seen < 5000, `name picked up after ${seen} events`);
  const asks = r.netnsAsks;
  for (let i = 0; i < 10000; i++) f.format(ev());
  assert.equal(r.netnsAsks, asks, 'known names are not asked again');
});

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

test('probeInfo and jsonString', () => {
  assert.deepEqual(probeInfo('fib_table_lookup', ev({ aux: -1, aux2: 255 })), { table: 255, err: -1 });
  assert.deepEqual(probeInfo('ip_rcv', ev()), {});
  const strs = ['', 'plain', 'q"', 'b\\', '\u0000\u001f', '\ud83d\ude00', '\udc00', 'é'];
  for (const s of strs) assert.equal(JSON.parse(jsonString(s)), s, JSON.stringify(s));
});

test('caches are not fooled by arrays the decoder reuses', () => {
  const t = tcp();
  const mac = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  const e = ev({ tuple: t, dstMac: mac });
  const text = makeTextFormatter(resolver(), { time: 'default', stack: false });
  const json = makeJsonFormatter(resolver(), { time: 'default', stack: false });
  const a1 = text.format(e);
  const j1 = JSON.parse(json.format(e)) as { tuple: { saddr: string; sport: number }; dst_mac: string };
  t.saddr[3] = 1;
  t.sport = 1;
  mac[5] = 0xff;
  const a2 = text.format(e);
  const j2 = JSON.parse(json.format(e)) as typeof j1;
  assert.match(a1, / 010203040506 T_SYN:192\.168\.88\.154:34060->/);
  assert.match(a2, / 0102030405ff T_SYN:192\.168\.88\.1:1->/);
  assert.equal(j1.tuple.saddr, '192.168.88.154');
  assert.equal(j2.tuple.saddr, '192.168.88.1');
  assert.equal(j2.tuple.sport, 1);
  assert.equal(j2.dst_mac, '01:02:03:04:05:ff');
  // a different skb with the same tuple formats the same tuple text
  assert.ok(text.format(ev({ tuple: tcp(), skb: 1n })).includes('T_SYN:192.168.88.154:34060->192.168.40.230:8080 1.0:'));
});

test('probeInfo with gateway', () => {
  assert.deepEqual(probeInfo('fib_table_lookup', ev({ aux: 0, aux2: 254, auxAddr: null })), { table: 254, err: 0 });
  assert.deepEqual(probeInfo('fib_table_lookup', ev({ aux: 0, aux2: 254, auxAddr: { family: 4, bytes: addr('10.0.0.1') } })),
    { table: 254, err: 0, gw: '10.0.0.1' });
});
