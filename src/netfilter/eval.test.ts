import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nfOfEval, planNfEval, verdictOf } from './eval.js';
import type { RawEvent } from '../engine/event.js';

const base: RawEvent = {
  tsNs: 1n,
  skb: 2n,
  location: 0n,
  netns: 1,
  ifindex: 0,
  mark: 0,
  len: 0,
  pid: 0,
  dropReason: 0,
  aux: 0,
  aux2: 0,
  probe: 201,
  cpu: 0,
  pktType: 0,
  flags: 0,
  dstMac: new Uint8Array(6),
  ifname: '',
  comm: '',
  tuple: null,
  stack: null,
};

test('planNfEval: the flavour follows the first parameter; missing functions are named', () => {
  const sigs: Record<string, string> = { nft_do_chain: 'struct nft_pktinfo *', ipt_do_table: 'void *', ip6t_do_table: 'struct sk_buff *' };
  const { programs, missing } = planNfEval((f) => sigs[f]);
  assert.deepEqual(
    programs.map((p) => p.program),
    ['fexit_nft_do_chain', 'fexit_ipt_do_table_priv', 'fexit_ip6t_do_table_skb'],
  );
  assert.deepEqual(missing, []);
  const none = planNfEval(() => undefined);
  assert.equal(none.programs.length, 0);
  assert.equal(none.missing.length, 3);
  assert.match(none.missing[1]!, /ipt_do_table: not in this kernel \(module ip_tables/);
});

test('nfOfEval: nftables chain and x_tables table steps with their verdicts', () => {
  assert.equal(nfOfEval(base), null, 'not an evaluation event');
  // nft_do_chain: inet table, its own chain name; NF_DROP with an errno in the upper bits
  const nft = nfOfEval({ ...base, aux: (1 << 16) | 0, aux2: 3, aux3: 2, nfNames: { table: 'usertbl', chain: 'userout' } });
  assert.deepEqual(nft, { pf: 2, table: 'usertbl', chain: 'userout', hook: 'output', verdict: 'DROP', rule: null });
  // ipt_do_table: the chain is the hook's builtin chain
  const ipt = nfOfEval({ ...base, aux: 1, aux2: 2, aux3: 2, nfNames: { table: 'filter', chain: '' } });
  assert.deepEqual(ipt, { pf: 2, table: 'filter', chain: 'FORWARD', hook: 'forward', verdict: 'ACCEPT', rule: null });
  assert.equal(nfOfEval({ ...base, aux: 3, aux2: 0, aux3: 10, nfNames: { table: 'mangle', chain: '' } })?.verdict, 'QUEUE');
  assert.equal(nfOfEval({ ...base, aux: 9, aux2: 9, nfNames: { table: 'x', chain: '' } })?.chain, 'hook9');
  assert.equal(nfOfEval({ ...base, aux: 9, aux2: 1, nfNames: { table: 'x', chain: '' } })?.verdict, 'UNKNOWN');
});

test('verdictOf: NF_DROP_REASON (STOLEN with an errno) is a drop; plain STOLEN is not', () => {
  assert.equal(verdictOf((1 << 16) | 2), 'DROP', 'nft_do_chain on 6.12 returned 65538 for a drop rule (EPERM << 16 | NF_STOLEN)');
  assert.equal(verdictOf(2), 'STOLEN');
  assert.equal(verdictOf(0), 'DROP');
  assert.equal(verdictOf((1 << 16) | 0), 'DROP', 'NF_DROP_ERR');
  assert.equal(verdictOf(1), 'ACCEPT');
  assert.equal(verdictOf((7 << 16) | 3), 'QUEUE', 'queue number in the upper bits');
});
