/** Grouping records into one group per packet. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NftTraceRecord } from '../model.js';
import { NftTraceAssembler, samePacket } from './assemble.js';

const rec = (over: Partial<NftTraceRecord> & Pick<NftTraceRecord, 'kind'>): NftTraceRecord => ({
  traceId: '0000abcd',
  family: 'ip',
  table: 'filter',
  chain: 'FORWARD',
  ...over,
});

test('assembler: idle timeout, reused ids, drops complete at once, bounds', () => {
  const out: NftTraceRecord[][] = [];
  const a = new NftTraceAssembler((g) => out.push(g), { idleMs: 100, maxOpen: 2 });
  const pkt = (id: string, ipId: number, chain = 'OUTPUT') => rec({ traceId: id, kind: 'packet', chain, packet: { family: 4, l4proto: 'tcp', ipId, tcpFlags: 2 } });
  a.push(pkt('00000001', 1), 0);
  a.push(rec({ traceId: '00000001', kind: 'policy', chain: 'OUTPUT', verdict: 'accept' }), 1);
  assert.equal(a.flushIdle(50), 0);
  assert.equal(a.flushIdle(102), 1);
  assert.equal(out.length, 1);

  // same id, another packet (ip id differs): the first group completes
  a.push(pkt('00000002', 5), 200);
  a.push(pkt('00000002', 6, 'POSTROUTING'), 201);
  assert.equal(out.length, 2);
  assert.equal(a.pending, 1);

  // a drop completes at once
  a.push(rec({ traceId: '00000002', kind: 'rule', chain: 'POSTROUTING', verdict: 'drop', rule: 'drop', handle: 1 }), 202);
  assert.equal(out.length, 3);
  assert.equal(out[2]!.length, 2);
  assert.equal(a.pending, 0);

  // more open groups than maxOpen: the oldest completes
  a.push(pkt('0000000a', 1), 300);
  a.push(pkt('0000000b', 1), 300);
  a.push(pkt('0000000c', 1), 300);
  assert.equal(out.length, 4);
  assert.equal(out[3]![0]!.traceId, '0000000a');
  a.flushAll();
  assert.equal(out.length, 6);
  assert.equal(a.pending, 0);
});

test('samePacket: NAT may change addresses and ports, not the ip id or flags', () => {
  assert.ok(samePacket({ saddr: '1.1.1.1', sport: 1, ipId: 5, tcpFlags: 2 }, { saddr: '9.9.9.9', sport: 2, ipId: 5, tcpFlags: 2 }));
  assert.ok(!samePacket({ ipId: 5 }, { ipId: 6 }));
  assert.ok(!samePacket({ tcpFlags: 2 }, { tcpFlags: 0x12 }));
  assert.ok(!samePacket({ icmpSeq: 1 }, { icmpSeq: 2 }));
  assert.ok(samePacket({}, { ipId: 6 }));
});
