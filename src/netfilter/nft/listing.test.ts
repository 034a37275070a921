/** Chain and rule listings of nft, from captured output (test/fixtures/nftrace). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainKey, hookMapOf } from '../model.js';
import { parseNftChainsJson, parseNftChainsText, parseNftRuleList, parsePriority } from './listing.js';
import { fixtureText as readFixture } from '../../../test/helpers/fixtures.js';

const fixture = (name: string): string => readFixture('nftrace', name);

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
