import { test } from 'node:test';
import assert from 'node:assert/strict';

// Local time in the text formatter: pin the zone before any Date is made.
process.env.TZ = 'UTC';

import type { RawEvent } from '../engine/event.js';
import { EV_DROP, EV_HAS_TUPLE, EV_RET, EV_STACK, RET_NO_ENTRY } from '../engine/event.js';
import { returnValue } from '../functions/returns.js';
import type { ReturnSpec } from '../functions/returns.js';
import { makeJsonFormatter } from './json.js';
import { makeTextFormatter } from './text.js';
import { MONO0, addr, ev, resolver, tcp } from '../../test/helpers/formatting.js';

const pad40 = (s: string) => s.padEnd(40);
const PAD_SYN = 'T_SYN:192.168.88.154:34060->192.168.40.230:8080'; // longer than 40, not padded
const COMM = ' swapper/1      ';
const LINE_TAIL = `[4026531992]${COMM} eth1         00163e0cb838 ${PAD_SYN} ffff9fdef19eb600.0:netif_receive_skb`;

test('text header per time mode', () => {
  const cases: [('default' | 'datetime' | 'relative'), string][] = [
    ['default', 'time              NETWORK_NS   COMMAND         INTERFACE    DEST_MAC     PKT_INFO                                 TRACE_INFO'],
    ['datetime', 'time                         NETWORK_NS   COMMAND         INTERFACE    DEST_MAC     PKT_INFO                                 TRACE_INFO'],
    ['relative', 'time           NETWORK_NS   COMMAND         INTERFACE    DEST_MAC     PKT_INFO                                 TRACE_INFO'],
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
      netns: 4026533234, ifname: '', comm: 'curl', dstMac: Uint8Array.from([0x65, 0x73, 0x22, 0x3a, 0x20, 0x31]), skb: 0xffff9fdef19eb700n,
      tuple: tcp({ saddr: addr('192.168.40.230'), daddr: addr('192.168.88.154'), sport: 8080, dport: 34060, tcpFlags: 0x14 }),
    }, '[4026533234] curl            nil          6573223a2031 T_ACK,RST:192.168.40.230:8080->192.168.88.154:34060 ffff9fdef19eb700.0:netif_receive_skb netns=pod-a'],
    ['short pkt info padded, pkt_type', { pktType: 4, tuple: tcp({ saddr: addr('10.0.0.1'), daddr: addr('10.0.0.2'), sport: 1, dport: 2 }) },
      '[4026531992]' + COMM + ' eth1         00163e0cb838 ' + pad40('T_SYN:10.0.0.1:1->10.0.0.2:2') + ' ffff9fdef19eb600.4:netif_receive_skb'],
    ['no tuple', { tuple: null, flags: 0, skb: 0n },
      '[4026531992]' + COMM + ' eth1         00163e0cb838 ' + pad40('-') + ' 0.0:netif_receive_skb'],
    ['ipv6 icmp', { tuple: { ...tcp(), family: 6, l3proto: 0x86dd, l4proto: 58, saddr: addr('fd00::1'), daddr: addr('fd00::2'), icmpType: 128, icmpId: 7 } },
      '[4026531992]' + COMM + ' eth1         00163e0cb838 ' + pad40('I_request:fd00::1->fd00::2 id=7') + ' ffff9fdef19eb600.0:netif_receive_skb'],
    ['ifname with blanks and controls', { ifname: 'a b\u0001' },
      '[4026531992]' + COMM + ' a\\x20b\\x01   00163e0cb838 ' + PAD_SYN + ' ffff9fdef19eb600.0:netif_receive_skb'],
    ['long ifname', { ifname: 'verylongname123' },
      '[4026531992]' + COMM + ' verylongname123 00163e0cb838 ' + PAD_SYN + ' ffff9fdef19eb600.0:netif_receive_skb'],
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
    ['tcp seq and ack', { tcpSeq: 3349821034, tcpAck: 0, tcpWin: 64240 }, LINE_TAIL + ' seq=3349821034 ack=0'],
    ['no command (a netfilter hook program)', { comm: '' }, LINE_TAIL.replace(COMM, ' -              ')],
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

test('text function returns: ret named from the type, else its value; an unjoined return says so', () => {
  const specs: Record<number, ReturnSpec> = {
    300: { kind: 'ptr', type: 'struct sk_buff *', bits: 64 },
    301: { kind: 'int', type: 'int', bits: 32 },
  };
  const r = { ...resolver(), returnOf: (id: number, raw: bigint) => (specs[id] ? returnValue(specs[id]!, raw, (n) => (n === 1 ? 'EPERM' : undefined)) : undefined) };
  const f = makeTextFormatter(r, { time: 'datetime', stack: false });
  const ret = EV_HAS_TUPLE | EV_RET;
  const cases: [string, Partial<RawEvent>, string][] = [
    ['pointer', { probe: 300, flags: ret, location: 0xffff888004bd76e8n }, ' ret=0xffff888004bd76e8'],
    ['NULL', { probe: 300, flags: ret, location: 0n }, ' ret=NULL'],
    ['errno', { probe: 301, flags: ret, location: 0xffffffffn }, ' ret=-EPERM'],
    ['unjoined', { probe: 301, flags: ret, location: 0n, aux3: RET_NO_ENTRY }, ' ret=0 (entry not seen)'],
  ];
  for (const [name, over, tail] of cases) assert.ok(f.format(ev(over)).endsWith(`:probe${over.probe}${tail}`), `${name}: ${f.format(ev(over))}`);
});
