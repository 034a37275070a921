import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EV_DROP } from '../engine/event.js';
import type { RawEvent } from '../engine/event.js';
import { explainDrops } from './explain.js';
import { REASONS, RULES } from './rules/index.js';
import type { Resolver } from '../output/resolver.js';

const resolver: Resolver = {
  probeName: () => 'kfree_skb',
  probeFields: () => [],
  dropReason: (v) => (v === 2 ? 'NO_SOCKET' : v === 6 ? 'NETFILTER_DROP' : v === 99 ? 'BRAND_NEW' : String(v)),
  symbol: (a) => (a === 0xffffffff81000100n ? 'tcp_v4_rcv+0x91' : 'nft_do_chain+0x3e8'),
  netnsName: (ino) => (ino === 1 ? 'srv' : undefined),
  wallClockNs: (n) => n,
};

function drop(reason: number, netns: number, location: bigint, dport = 8080): RawEvent {
  return {
    tsNs: 1n, skb: 1n, location, netns, ifindex: 2, mark: 0, len: 60, pid: 1, dropReason: reason, aux: 0, aux2: 0,
    probe: 15, cpu: 0, pktType: 0, flags: EV_DROP, dstMac: new Uint8Array(6), ifname: 'eth0', comm: 'x',
    tuple: {
      family: 4, saddr: new Uint8Array([10, 0, 0, 1]), daddr: new Uint8Array([10, 0, 0, 2]), sport: 40000, dport,
      l3proto: 0x0800, l4proto: 6, tcpFlags: 2, icmpType: 0, icmpCode: 0, icmpId: 0,
    },
    stack: null,
  };
}

test('groups drops by reason, place and namespace, and explains each', () => {
  const f = explainDrops(
    [drop(2, 1, 0xffffffff81000100n), drop(2, 1, 0xffffffff81000100n, 8081), drop(6, 7, 0xffffffff82000000n)],
    resolver,
  );
  assert.equal(f.length, 2);
  assert.equal(f[0]!.reason, 'NO_SOCKET');
  assert.equal(f[0]!.count, 2);
  assert.equal(f[0]!.location, 'tcp_v4_rcv');
  assert.match(f[0]!.text, /no socket is bound to 10\.0\.0\.2:8080\/tcp/);
  assert.match(f[0]!.text, /netns srv \(1\)/);
  assert.match(f[0]!.text, /\(2 times\)/);
  assert.equal(f[1]!.reason, 'NETFILTER_DROP');
  assert.match(f[1]!.text, /netfilter rule/);
  assert.match(f[1]!.text, /netns 7, in nft_do_chain/);
});

test('a NETFILTER_DROP names the chain and rule that decided, when --iptable saw it', () => {
  const d = drop(6, 7, 0xffffffff82000000n);
  const step = { ...d, flags: 0, probe: 1024, nf: { pf: 2, table: 'filter', chain: 'OUTPUT', hook: 'output', verdict: 'DROP', rule: 'tcp dport 8080 drop # handle 2' } };
  const other = { ...step, netns: 8 };
  const [f] = explainDrops([d], resolver, [other, step]);
  assert.match(f!.text, /Decided in 2\.filter\.OUTPUT by: tcp dport 8080 drop # handle 2\./);
  const [g] = explainDrops([d], resolver, [other]);
  assert.doesNotMatch(g!.text, /Decided/);
});

test('a fexit verdict (no rule known) does not hide the step that names the rule, nor claim a policy', () => {
  const d = drop(6, 7, 0xffffffff82000000n);
  const nf = { pf: 2, table: 'filter', chain: 'OUTPUT', hook: 'output', verdict: 'DROP', rule: null };
  const fexit = { ...d, flags: 0x20, probe: 1030, nf, nfNames: { table: 'filter', chain: '' } };
  const counted = { ...d, flags: 0, probe: 1024, nf: { ...nf, rule: '-A OUTPUT -p tcp -m tcp --dport 8080 -j DROP' } };
  const [f] = explainDrops([d], resolver, [fexit, counted]);
  assert.match(f!.text, /Decided in 2\.filter\.OUTPUT by: -A OUTPUT -p tcp -m tcp --dport 8080 -j DROP\./);
  const [g] = explainDrops([d], resolver, [fexit]);
  assert.match(g!.text, /Decided in 2\.filter\.OUTPUT\. /);
  assert.doesNotMatch(g!.text, /policy/);
  // an nft trace step without a rule: the chain policy decided
  const [h] = explainDrops([d], resolver, [{ ...counted, nf }]);
  assert.match(h!.text, /Decided in 2\.filter\.OUTPUT by the chain policy\./);
});

test('a reason without a rule is still reported, honestly', () => {
  const [f] = explainDrops([drop(99, 1, 0xffffffff81000100n)], resolver);
  assert.match(f!.text, /no explanation for it yet/);
});

test('events that are not drops are ignored', () => {
  assert.deepEqual(explainDrops([{ ...drop(2, 1, 1n), flags: 0 }], resolver), []);
});

test('every reason and every rule has words and advice', () => {
  for (const [reason, r] of Object.entries(REASONS)) assert.ok(r.meaning.length > 10 && r.advice.length > 5, reason);
  for (const r of RULES) assert.ok(r.what.length > 10 && r.advice.length > 5 && r.verdict.length > 10, r.id);
});
