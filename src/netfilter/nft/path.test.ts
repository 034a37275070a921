/** Paths from records: real captures (test/fixtures/nftrace) grouped as the live session does, and synthetic records. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hookMapOf } from '../model.js';
import type { NftTraceRecord } from '../model.js';
import { NftTraceAssembler } from './assemble.js';
import { parseNftChainsJson } from './listing.js';
import { parseTraceText } from './parse.js';
import { aggregateTrace, buildNfPath, formatNfStep, nfJson } from './path.js';
import { fixtureText as readFixture } from '../../../test/helpers/fixtures.js';

const fixture = (name: string): string => readFixture('nftrace', name);

/** Group records as the live session does, one record per millisecond (no idle split). */
function groups(records: readonly NftTraceRecord[], idleMs = 200): NftTraceRecord[][] {
  const out: NftTraceRecord[][] = [];
  const a = new NftTraceAssembler((g) => out.push(g), { idleMs });
  records.forEach((r, i) => a.push(r, i));
  a.flushAll();
  return out;
}

const clientHooks = hookMapOf(parseNftChainsJson(fixture('chains-client.json')));
const serverHooks = hookMapOf(parseNftChainsJson(fixture('chains-server.json')));

test('iptables-nft drop: Mytracer path 2.raw/mangle ACCEPT, 2.filter.OUTPUT.DROP with the rule', () => {
  const gs = groups(parseTraceText(fixture('trace-iptables-nft-drop.txt')));
  assert.equal(gs.length, 2); // the SYN and its retransmission
  for (const g of gs) {
    const t = aggregateTrace(g, clientHooks);
    assert.equal(t.packet?.dport, 8080);
    assert.deepEqual(t.path.map(formatNfStep), ['2.raw.OUTPUT.ACCEPT', '2.mangle.OUTPUT.ACCEPT', '2.filter.OUTPUT.DROP']);
    const last = t.path.at(-1)!;
    assert.deepEqual(nfJson(last), {
      pf: 2,
      table: 'filter',
      chain: 'OUTPUT',
      hook: 'output',
      verdict: 'DROP',
      rule: 'ip daddr 10.199.185.2 tcp dport 8080 counter packets 2 bytes 120 drop # handle 2',
    });
    assert.equal(last.handle, 2);
    assert.equal(last.byPolicy, false);
    assert.equal(last.priority, 0);
    assert.equal(t.path[0]!.byPolicy, true);
    assert.equal(t.path[0]!.rule, null);
    assert.equal(t.path[1]!.priority, -150);
  }
});

test('iptables-nft chains: nat, a jump into a user chain and back, mark on policy', () => {
  const gs = groups(parseTraceText(fixture('trace-iptables-nft-chains.txt')));
  const t = aggregateTrace(gs[0]!, clientHooks);
  assert.deepEqual(t.path.map(formatNfStep), ['2.raw.OUTPUT.ACCEPT', '2.mangle.OUTPUT.ACCEPT', '2.nat.OUTPUT.ACCEPT', '2.filter.OUTPUT.ACCEPT']);
  assert.equal(t.path[0]!.rule, 'meta l4proto icmp counter packets 3 bytes 252 accept # handle 2');
  assert.equal(t.path[1]!.mark, 7);
  assert.equal(t.path[2]!.hook, 'output');
  assert.equal(t.path[2]!.priority, -100);
  const filter = t.path[3]!;
  assert.deepEqual(filter.chains, ['OUTPUT', 'MYCHAIN']);
  assert.equal(filter.byPolicy, true);
  // the echo reply only crossed pktpath's own table: empty path, packet still known
  const reply = aggregateTrace(gs[1]!, clientHooks);
  assert.deepEqual(reply.path, []);
  assert.equal(reply.packet?.icmpType, 'echo-reply');
  // own tables are in the path when asked
  const all = buildNfPath(gs[1]!, clientHooks, { skipTable: () => false });
  assert.deepEqual(all.map(formatNfStep), ['2.pktpath_99999.pre.ACCEPT']);
  assert.equal(all[0]!.hook, 'prerouting');
});

test('nft native rules: jump and return, goto into a reject, interleaved with the ICMP error it sent', () => {
  const recs = parseTraceText(fixture('trace-inet-jump-goto-reject.txt'));
  const gs = groups(recs);
  const byId = new Map(gs.map((g) => [g[0]!.traceId, aggregateTrace(g, serverHooks)]));
  const udp = byId.get('5cd2e111')!;
  assert.deepEqual(udp.path.map(formatNfStep), ['2.usertbl.in.DROP']);
  const step = udp.path[0]!;
  assert.equal(step.hook, 'input');
  assert.equal(step.ruleChain, 'sub2');
  assert.deepEqual(step.chains, ['in', 'sub2']);
  assert.equal(step.rule, 'counter packets 0 bytes 0 reject # handle 7');
  // the ICMP error the reject sent is its own packet, printed in the middle
  const icmp = byId.get('5afe4030')!;
  assert.equal(icmp.packet?.icmpType, 'destination-unreachable');
  assert.deepEqual(icmp.path, []);
  // IPv6 TCP through jump sub (implicit return), accepted by the policy: pf 10
  const syn = byId.get('4bd4e30e')!;
  assert.deepEqual(syn.path.map(formatNfStep), ['10.usertbl.in.ACCEPT']);
  assert.deepEqual(syn.path[0]!.chains, ['in', 'sub']);
  assert.equal(syn.packet?.tcpFlags, 0x02);
});

test('unknown rule handle: verdict and handle, no text', () => {
  const [g] = groups(parseTraceText(fixture('trace-unknown-rule.txt')));
  const last = aggregateTrace(g!, clientHooks).path.at(-1)!;
  assert.equal(formatNfStep(last), '2.filter.OUTPUT.ACCEPT');
  assert.equal(last.handle, 8);
  assert.equal(last.rule, null);
  assert.equal(last.byPolicy, false);
});

test('iptables-legacy drop is invisible: the path just stops after nat', () => {
  const [g] = groups(parseTraceText(fixture('trace-legacy-drop-invisible.txt')));
  const t = aggregateTrace(g!, clientHooks);
  assert.deepEqual(t.path.map(formatNfStep), ['2.raw.OUTPUT.ACCEPT', '2.mangle.OUTPUT.ACCEPT', '2.nat.OUTPUT.ACCEPT']);
});

test('no -a: rule text without handle', () => {
  const gs = groups(parseTraceText(fixture('trace-no-handles.txt')));
  const t = aggregateTrace(gs[0]!);
  assert.deepEqual(t.path.map(formatNfStep), ['2.filter.OUTPUT.DROP']);
  assert.equal(t.path[0]!.rule, 'ip daddr 10.199.185.2 tcp dport 8080 counter packets 0 bytes 0 drop');
  assert.equal(t.path[0]!.handle, null);
  assert.equal(t.path[0]!.hook, null); // no chain listing given
});

test('arp and netdev families: pf 3 and 5; a reused trace id is split at a base chain entered again', () => {
  const gs = groups(parseTraceText(fixture('trace-arp-netdev.txt')));
  const paths = gs.map((g) => aggregateTrace(g).path.map(formatNfStep));
  assert.deepEqual(paths.filter((p) => p[0] === '3.arpt.out.DROP').length, 3);
  const requests = paths.filter((p) => p[0] === '5.ndt.ing.ACCEPT');
  assert.equal(requests.length, 3); // 910b3509 twice (reused), 73d3cfcd once
  for (const p of requests) assert.deepEqual(p, ['5.ndt.ing.ACCEPT', '3.arpt.in.ACCEPT']);
});

/* ------------------------------------------------------------------ synthetic paths */

const rec = (over: Partial<NftTraceRecord> & Pick<NftTraceRecord, 'kind'>): NftTraceRecord => ({
  traceId: '0000abcd',
  family: 'ip',
  table: 'filter',
  chain: 'FORWARD',
  ...over,
});

test('buildNfPath: explicit verdict lines, queue, missing packet lines, unfinished chains', () => {
  const hooks = hookMapOf([
    { family: 'ip', table: 'filter', chain: 'FORWARD', hook: 'forward', priority: 0, type: 'filter' },
    { family: 'ip', table: 'filter', chain: 'INPUT', hook: 'input', priority: 0, type: 'filter' },
    { family: 'ip', table: 'filter', chain: 'sub' },
  ]);
  const path = buildNfPath(
    [
      rec({ kind: 'rule', rule: 'jump sub', handle: 1, verdict: 'jump', target: 'sub' }),
      rec({ kind: 'verdict', chain: 'sub', verdict: 'continue' }),
      rec({ kind: 'verdict', verdict: 'drop', mark: 3 }),
      // no packet line, but INPUT is another base chain: a new step
      rec({ kind: 'rule', chain: 'INPUT', rule: 'queue', handle: 9, verdict: 'queue' }),
      rec({ kind: 'packet', chain: 'INPUT', packet: { family: 4 } }),
      rec({ kind: 'rule', chain: 'INPUT', rule: 'counter', handle: 2, verdict: 'continue' }),
    ],
    hooks,
  );
  assert.deepEqual(
    path.map((s) => [formatNfStep(s), s.hook, s.rule, s.byPolicy, s.chains.join('>')]),
    [
      ['2.filter.FORWARD.DROP', 'forward', null, false, 'FORWARD>sub'],
      ['2.filter.INPUT.QUEUE', 'input', 'queue # handle 9', false, 'INPUT'],
      ['2.filter.INPUT.UNKNOWN', 'input', null, false, 'INPUT'],
    ],
  );
  assert.equal(path[0]!.mark, 3);
});

test('buildNfPath: inet takes the packet family; unknown family is NFPROTO_INET', () => {
  const mk = (family?: 4 | 6) =>
    buildNfPath([
      rec({ kind: 'packet', family: 'inet', table: 't', chain: 'c', packet: family ? { family } : {} }),
      rec({ kind: 'policy', family: 'inet', table: 't', chain: 'c', verdict: 'accept' }),
    ])[0]!.pf;
  assert.equal(mk(4), 2);
  assert.equal(mk(6), 10);
  assert.equal(mk(), 1);
  const bridge = buildNfPath([rec({ kind: 'policy', family: 'bridge', table: 'b', chain: 'c', verdict: 'accept' })]);
  assert.equal(formatNfStep(bridge[0]!), '7.b.c.ACCEPT');
});
