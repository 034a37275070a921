import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  NftTraceAssembler,
  aggregateTrace,
  buildNfPath,
  chainKey,
  formatNfStep,
  hookMapOf,
  nfJson,
  ownTableName,
  parseNftChainsJson,
  parseNftChainsText,
  parseNftRuleList,
  parsePacketFields,
  parsePriority,
  parseTraceLine,
  parseTraceText,
  ruleWithHandle,
  samePacket,
  traceMatchRules,
  traceTableScript,
} from './parse.js';
import type { NftTraceRecord } from './parse.js';
import { tcpFlagsText } from '../../output/tuple.js';

/** test/fixtures/nftrace/<name>, found by walking up from this file (works from src/ and dist/src/). */
function fixture(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'fixtures', 'nftrace', name);
    if (existsSync(candidate)) return readFileSync(candidate, 'utf8');
    const up = dirname(dir);
    if (up === dir) throw new Error(`fixture ${name} not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

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

/* ------------------------------------------------------------------ lines */

test('parseTraceLine: packet line', () => {
  const r = parseTraceLine(
    'trace id 2ba6f5c9 ip filter OUTPUT packet: oif "eth0" ip saddr 10.0.0.1 ip daddr 10.0.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 6151 ip length 60 tcp sport 40000 tcp dport 8080 tcp flags == syn tcp window 64240 ',
  );
  assert.ok(r);
  assert.equal(r.traceId, '2ba6f5c9');
  assert.equal(r.family, 'ip');
  assert.equal(r.table, 'filter');
  assert.equal(r.chain, 'OUTPUT');
  assert.equal(r.kind, 'packet');
  assert.deepEqual(r.packet, {
    oif: 'eth0',
    family: 4,
    saddr: '10.0.0.1',
    daddr: '10.0.0.2',
    ipId: 6151,
    length: 60,
    ttl: 64,
    l4proto: 'tcp',
    sport: 40000,
    dport: 8080,
    tcpFlags: 0x02,
  });
});

test('parseTraceLine: rule with handle, verdicts and targets', () => {
  const drop = parseTraceLine(
    'trace id 2ba6f5c9 ip filter OUTPUT rule ip daddr 10.0.0.2 tcp dport 8080 counter packets 0 bytes 0 drop # handle 2 (verdict drop)',
  );
  assert.deepEqual(drop, {
    traceId: '2ba6f5c9',
    family: 'ip',
    table: 'filter',
    chain: 'OUTPUT',
    kind: 'rule',
    verdict: 'drop',
    rule: 'ip daddr 10.0.0.2 tcp dport 8080 counter packets 0 bytes 0 drop',
    handle: 2,
  });
  assert.equal(ruleWithHandle(drop!), 'ip daddr 10.0.0.2 tcp dport 8080 counter packets 0 bytes 0 drop # handle 2');

  const jump = parseTraceLine('trace id 00000001 ip filter OUTPUT rule meta l4proto icmp counter packets 0 bytes 0 jump MYCHAIN # handle 4 (verdict jump MYCHAIN)');
  assert.equal(jump?.verdict, 'jump');
  assert.equal(jump?.target, 'MYCHAIN');
  assert.equal(jump?.handle, 4);
  const go = parseTraceLine('trace id 00000001 inet usertbl in rule udp dport 5353 goto sub2 # handle 5 (verdict goto sub2)');
  assert.equal(go?.verdict, 'goto');
  assert.equal(go?.target, 'sub2');
  for (const v of ['accept', 'continue', 'return', 'queue', 'stolen', 'repeat', 'break'] as const) {
    assert.equal(parseTraceLine(`trace id 0000000a ip t c rule counter # handle 3 (verdict ${v})`)?.verdict, v);
  }
  // a value nft could not name: no verdict, but still a rule record
  const odd = parseTraceLine('trace id 0000000a ip t c rule counter # handle 3 (verdict unknown verdict value 7)');
  assert.equal(odd?.kind, 'rule');
  assert.equal(odd?.verdict, undefined);
});

test('parseTraceLine: rule text keeps parentheses, quotes and the last (verdict ...)', () => {
  const r = parseTraceLine('trace id 0000000b ip filter MYCHAIN rule meta l4proto icmp log prefix "x (verdict drop) y" # handle 5 (verdict continue)');
  assert.equal(r?.rule, 'meta l4proto icmp log prefix "x (verdict drop) y"');
  assert.equal(r?.verdict, 'continue');
  assert.equal(r?.handle, 5);
});

test('parseTraceLine: rule without -a has no handle', () => {
  const r = parseTraceLine('trace id c9b1e280 ip filter OUTPUT rule ip daddr 10.199.185.2 tcp dport 8080 counter packets 0 bytes 0 drop (verdict drop)');
  assert.equal(r?.handle, undefined);
  assert.equal(r?.rule, 'ip daddr 10.199.185.2 tcp dport 8080 counter packets 0 bytes 0 drop');
  assert.equal(ruleWithHandle(r!), 'ip daddr 10.199.185.2 tcp dport 8080 counter packets 0 bytes 0 drop');
});

test('parseTraceLine: unknown rule handle', () => {
  const r = parseTraceLine('trace id b6b5a428 ip filter OUTPUT unknown rule handle 8 (verdict accept)');
  assert.deepEqual(r, {
    traceId: 'b6b5a428',
    family: 'ip',
    table: 'filter',
    chain: 'OUTPUT',
    kind: 'rule',
    verdict: 'accept',
    unknownRule: true,
    handle: 8,
  });
  assert.equal(ruleWithHandle(r!), null);
});

test('parseTraceLine: policy and verdict lines, with and without mark', () => {
  assert.deepEqual(parseTraceLine('trace id 8899f820 ip mangle OUTPUT policy accept meta mark 0x00000007 '), {
    traceId: '8899f820',
    family: 'ip',
    table: 'mangle',
    chain: 'OUTPUT',
    kind: 'policy',
    verdict: 'accept',
    mark: 7,
  });
  assert.deepEqual(parseTraceLine('trace id 8899f820 arp arpt out policy drop '), {
    traceId: '8899f820',
    family: 'arp',
    table: 'arpt',
    chain: 'out',
    kind: 'policy',
    verdict: 'drop',
  });
  const v = parseTraceLine('trace id 2ba6f5c9 inet pktpath_1 sub verdict continue ');
  assert.equal(v?.kind, 'verdict');
  assert.equal(v?.verdict, 'continue');
  const vm = parseTraceLine('trace id 2ba6f5c9 ip6 t sub verdict return meta mark 0x000000d4');
  assert.equal(vm?.verdict, 'return');
  assert.equal(vm?.mark, 0xd4);
});

test('parseTraceLine: every family; anything else is null', () => {
  for (const f of ['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']) {
    assert.equal(parseTraceLine(`trace id 00000001 ${f} t c policy accept`)?.family, f);
  }
  for (const line of [
    '',
    'garbage',
    '# Warning: table ip filter is managed by iptables-nft, do not touch!',
    'trace id 00000001 unknown t c policy accept',
    'trace id 0000001 ip t c policy accept', // 7 hex digits
    'trace id 00000001 ip filter OUTPUT conntrack: ct direction original ct state new ',
    'trace id 00000001 ip filter OUTPUT rule counter', // no verdict
  ]) {
    assert.equal(parseTraceLine(line), null, line);
  }
});

/* ------------------------------------------------------------------ packet fields */

test('parsePacketFields: TCP flag forms', () => {
  assert.equal(parsePacketFields('tcp flags == syn').tcpFlags, 0x02);
  assert.equal(parsePacketFields('tcp flags == 0x12 tcp window 5').tcpFlags, 0x12);
  assert.equal(parsePacketFields('tcp flags == syn | ack tcp window 5').tcpFlags, 0x12);
  assert.equal(parsePacketFields('tcp flags == syn,ack').tcpFlags, 0x12);
  assert.equal(tcpFlagsText(parsePacketFields('tcp flags == 0x11').tcpFlags!), 'ACK,FIN');
  assert.equal(parsePacketFields('tcp flags == bogus').tcpFlags, undefined);
});

test('parsePacketFields: IPv6, ICMPv6 echo id/sequence from nft 1.0.6 "parameter-problem"', () => {
  const p = parsePacketFields(
    'iif "ppx185s" ether saddr d2:91:4f:52:c9:a5 ether daddr fe:48:71:9c:56:46 ip6 saddr fd00:199:185::1 ip6 daddr fd00:199:185::2 ip6 dscp cs0 ip6 ecn not-ect ip6 hoplimit 64 ip6 flowlabel 76283 ip6 nexthdr ipv6-icmp ip6 length 64 icmpv6 type echo-request icmpv6 code no-route icmpv6 parameter-problem 1629487105 @th,64,96 0xf583036b0000000054660300 ',
  );
  assert.deepEqual(p, {
    iif: 'ppx185s',
    etherSaddr: 'd2:91:4f:52:c9:a5',
    etherDaddr: 'fe:48:71:9c:56:46',
    family: 6,
    saddr: 'fd00:199:185::1',
    daddr: 'fd00:199:185::2',
    length: 64,
    ttl: 64,
    flowLabel: 76283,
    l4proto: 'icmpv6',
    icmpType: 'echo-request',
    icmpCode: 'no-route',
    icmpId: 0x6120,
    icmpSeq: 1,
  });
});

test('parsePacketFields: ICMP echo, ICMP error, ARP, numeric iif, hop-by-hop, UDP', () => {
  const echo = parsePacketFields('oif "c" ip saddr 1.1.1.1 ip daddr 2.2.2.2 ip protocol icmp icmp type echo-request icmp code net-unreachable icmp id 23712 icmp sequence 1 @th,64,96 0xb983');
  assert.equal(echo.l4proto, 'icmp');
  assert.equal(echo.icmpId, 23712);
  assert.equal(echo.icmpSeq, 1);
  const err = parsePacketFields('ip saddr 1.1.1.1 ip daddr 2.2.2.2 icmp type destination-unreachable icmp code port-unreachable icmp id 0 icmp sequence 0');
  assert.equal(err.icmpCode, 'port-unreachable');
  assert.equal(err.icmpId, undefined);
  assert.deepEqual(parsePacketFields('oif "ppx185s" arp operation reply '), { oif: 'ppx185s', arpOp: 'reply' });
  assert.equal(parsePacketFields('iif 7 ip saddr 1.1.1.1 ip daddr 2.2.2.2').iif, '7');
  assert.equal(parsePacketFields('ip6 saddr fe80::1 ip6 daddr ff02::16 ip6 nexthdr ip ip6 length 56 @th,0,160 0x8f00').l4proto, 'hopopts');
  const udp = parsePacketFields('ip saddr 1.1.1.1 ip daddr 2.2.2.2 ip protocol udp ip length 31 udp sport 44590 udp dport 5353 udp length 11 @th,64,24 0x68690a');
  assert.deepEqual([udp.l4proto, udp.sport, udp.dport, udp.length], ['udp', 44590, 5353, 31]);
  assert.equal(parsePacketFields('vlan id 10 vlan type ip ip saddr 1.1.1.1 ip daddr 2.2.2.2 meta mark 0x10').vlanId, 10);
  assert.equal(parsePacketFields('ip saddr 1.1.1.1 ip daddr 2.2.2.2 meta mark 0x10').mark, 16);
});

/* ------------------------------------------------------------------ chains and rules */

test('parseNftChainsJson: base and regular chains of every family', () => {
  const chains = parseNftChainsJson(fixture('chains-server.json'));
  const by = hookMapOf(chains);
  const get = (f: string, t: string, c: string) => by.get(chainKey(f, t, c));
  assert.deepEqual(get('inet', 'usertbl', 'in'), { family: 'inet', table: 'usertbl', chain: 'in', handle: 1, type: 'filter', hook: 'input', priority: 0, policy: 'accept' });
  assert.deepEqual(get('inet', 'usertbl', 'sub'), { family: 'inet', table: 'usertbl', chain: 'sub', handle: 2 });
  assert.equal(get('netdev', 'ndt', 'ing')?.hook, 'ingress');
  assert.equal(get('bridge', 'brt', 'brfwd')?.priority, -200);
  assert.equal(get('bridge', 'brt', 'brfwd')?.policy, 'drop');
  assert.equal(get('ip6', 't6', 'post')?.priority, 100);
  assert.equal(get('arp', 'arpt', 'in')?.hook, 'input');
  assert.throws(() => parseNftChainsJson('nope'), /not JSON/);
  assert.throws(() => parseNftChainsJson('{}'), /no "nftables"/);
});

test('parseNftChainsText agrees with the JSON listing (named priorities resolved per family)', () => {
  for (const [txt, json] of [
    ['chains-server.txt', 'chains-server.json'],
    ['chains-client.txt', 'chains-client.json'],
  ] as const) {
    // nft 1.0.6's JSON leaves out a netdev chain's device; the text has it
    const fromText = parseNftChainsText(fixture(txt)).map(({ device: _d, ...c }) => c);
    const fromJson = parseNftChainsJson(fixture(json)).map(({ handle: _h, ...c }) => c);
    assert.deepEqual(fromText, fromJson, txt);
  }
  assert.equal(hookMapOf(parseNftChainsText(fixture('chains-server.txt'))).get(chainKey('netdev', 'ndt', 'ing'))?.device, 'ppx185s');
  // also from a ruleset listing with -a
  const fromRuleset = hookMapOf(parseNftChainsText(fixture('ruleset-client-a.txt')));
  assert.equal(fromRuleset.get(chainKey('ip', 'mangle', 'OUTPUT'))?.priority, -150);
  assert.equal(fromRuleset.get(chainKey('ip', 'filter', 'OUTPUT'))?.handle, 1);
});

test('parsePriority', () => {
  assert.equal(parsePriority('ip', 'filter'), 0);
  assert.equal(parsePriority('inet', '-500'), -500);
  assert.equal(parsePriority('ip', 'raw'), -300);
  assert.equal(parsePriority('ip', 'mangle - 5'), -155);
  assert.equal(parsePriority('ip6', 'srcnat + 10'), 110);
  assert.equal(parsePriority('bridge', 'filter'), -200);
  assert.equal(parsePriority('bridge', 'out'), 100);
  assert.equal(parsePriority('ip', 'out'), null);
  assert.equal(parsePriority('ip', '1 2'), null);
});

test('parseNftRuleList: rules of `nft -a list ruleset` by chain and handle', () => {
  const rules = parseNftRuleList(fixture('ruleset-client-a.txt'));
  const find = (t: string, c: string, h: number) => rules.find((r) => r.table === t && r.chain === c && r.handle === h)?.text;
  assert.equal(find('filter', 'OUTPUT', 8), 'meta l4proto icmp counter packets 1 bytes 84 accept');
  assert.equal(find('filter', 'OUTPUT', 2), 'ip daddr 10.199.185.2 tcp dport 8080 counter packets 4 bytes 240 drop');
  assert.equal(find('filter', 'MYCHAIN', 6), 'counter packets 8 bytes 728 return');
  assert.equal(find('mangle', 'OUTPUT', 2), 'meta l4proto icmp counter packets 9 bytes 812 meta mark set 0x7');
  assert.ok(rules.every((r) => !/type .* hook|policy/.test(r.text)));
  assert.equal(rules.length, 13);
  // sets and other objects inside a table are skipped
  const withSet = 'table inet t { # handle 9\n\tset s { # handle 3\n\t\ttype ipv4_addr\n\t\telements = { 1.1.1.1 }\n\t}\n\n\tchain c { # handle 1\n\t\tip saddr @s drop # handle 4\n\t}\n}\n';
  assert.deepEqual(parseNftRuleList(withSet), [{ family: 'inet', table: 't', chain: 'c', handle: 4, text: 'ip saddr @s drop' }]);
});

/* ------------------------------------------------------------------ paths from real captures */

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

/* ------------------------------------------------------------------ assembler */

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

/* ------------------------------------------------------------------ the tracing table */

test('traceMatchRules: address and port either side, protocol, family', () => {
  assert.deepEqual(traceMatchRules({}), ['']);
  assert.deepEqual(traceMatchRules({ addr: '10.0.0.2' }), ['ip saddr 10.0.0.2', 'ip daddr 10.0.0.2']);
  assert.deepEqual(traceMatchRules({ addr: 'fd00::2', port: 443, l4proto: 'tcp' }), [
    'ip6 saddr fd00::2 meta l4proto tcp th sport 443',
    'ip6 saddr fd00::2 meta l4proto tcp th dport 443',
    'ip6 daddr fd00::2 meta l4proto tcp th sport 443',
    'ip6 daddr fd00::2 meta l4proto tcp th dport 443',
  ]);
  assert.deepEqual(traceMatchRules({ port: 53 }), ['meta l4proto { tcp, udp } th sport 53', 'meta l4proto { tcp, udp } th dport 53']);
  assert.deepEqual(traceMatchRules({ l4proto: 'icmp' }), ['meta l4proto { icmp, ipv6-icmp }']);
  assert.deepEqual(traceMatchRules({ family: 6, l4proto: 'icmp' }), ['meta nfproto ipv6 meta l4proto ipv6-icmp']);
  assert.deepEqual(traceMatchRules({ addr: '10.0.0.2', l4proto: 'icmp' }), ['ip saddr 10.0.0.2 meta l4proto icmp', 'ip daddr 10.0.0.2 meta l4proto icmp']);
  assert.deepEqual(traceMatchRules({ family: 4, l4proto: 'udp' }), ['meta nfproto ipv4 meta l4proto udp']);
  assert.throws(() => traceMatchRules({ addr: '10.0.0.300' }), /not an IPv4 or IPv6 address/);
  assert.throws(() => traceMatchRules({ addr: '10.0.0.1; flush ruleset' }), /not an IPv4/);
  assert.throws(() => traceMatchRules({ addr: '10.0.0.1', family: 6 }), /not IPv6/);
  assert.throws(() => traceMatchRules({ port: 0 }), /port/);
  assert.throws(() => traceMatchRules({ port: 70000 }), /port/);
  assert.throws(() => traceMatchRules({ port: 1, l4proto: 'icmp' }), /icmp/);
  assert.throws(() => traceMatchRules({ l4proto: 'sctp' as 'tcp' }), /l4proto/);
  assert.throws(() => traceMatchRules({ family: 5 as 4 }), /family/);
});

test('traceTableScript: two base chains at -500 that only set nftrace', () => {
  assert.equal(ownTableName(1234), 'pktpath_1234');
  assert.equal(ownTableName(1234, 2), 'pktpath_1234_2');
  const s = traceTableScript('pktpath_1234', { addr: '10.0.0.2', port: 8080, l4proto: 'tcp' }, 'pktpath pid=1234 start=99');
  assert.equal(
    s,
    [
      'table inet pktpath_1234 {',
      '\tcomment "pktpath pid=1234 start=99"',
      '\tchain pre {',
      '\t\ttype filter hook prerouting priority -500; policy accept;',
      '\t\tip saddr 10.0.0.2 meta l4proto tcp th sport 8080 meta nftrace set 1',
      '\t\tip saddr 10.0.0.2 meta l4proto tcp th dport 8080 meta nftrace set 1',
      '\t\tip daddr 10.0.0.2 meta l4proto tcp th sport 8080 meta nftrace set 1',
      '\t\tip daddr 10.0.0.2 meta l4proto tcp th dport 8080 meta nftrace set 1',
      '\t}',
      '\tchain out {',
      '\t\ttype filter hook output priority -500; policy accept;',
      '\t\tip saddr 10.0.0.2 meta l4proto tcp th sport 8080 meta nftrace set 1',
      '\t\tip saddr 10.0.0.2 meta l4proto tcp th dport 8080 meta nftrace set 1',
      '\t\tip daddr 10.0.0.2 meta l4proto tcp th sport 8080 meta nftrace set 1',
      '\t\tip daddr 10.0.0.2 meta l4proto tcp th dport 8080 meta nftrace set 1',
      '\t}',
      '}',
      '',
    ].join('\n'),
  );
  // nothing but nftrace: no verdict statement anywhere
  for (const word of ['drop', 'reject', 'jump', 'goto', 'return', 'queue', ' accept\n']) assert.ok(!s.replace(/policy accept;/g, '').includes(word), word);
  assert.match(traceTableScript('pktpath_1', {}), /\t\tmeta nftrace set 1\n/);
  assert.throws(() => traceTableScript('filter', {}), /not a pktpath table/);
  assert.throws(() => traceTableScript('pktpath_1', {}, 'x" ; flush ruleset'), /unsafe/);
});
