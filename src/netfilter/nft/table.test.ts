/** pktpath's tracing table: its name and nft script. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownTableName, traceMatchRules, traceTableScript } from './table.js';

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
