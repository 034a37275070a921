/** nft monitor trace lines as records. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceLine } from './parse.js';
import { ruleWithHandle } from './path.js';

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
