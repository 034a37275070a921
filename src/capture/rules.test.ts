import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAPTURE_RULES, diagnosis } from './rules.js';
import { icmpWords } from './icmp.js';
import { RULES } from '../diagnose/rules/index.js';
import { icmpWords as diagnoseIcmpWords } from '../diagnose/words.js';

test('a finding analyze shares with the diagnosis has the diagnosis rule\'s level and title, and its shared sentences', () => {
  const shared = CAPTURE_RULES.filter((c) => RULES.some((r) => r.id === c.id)).map((c) => c.id);
  assert.deepEqual(shared, ['tcp.rst-injected', 'tcp.syn-unanswered', 'tcp.retransmit', 'pmtu.black-hole', 'pmtu.too-big']);
  for (const id of shared) {
    const c = CAPTURE_RULES.find((x) => x.id === id)!;
    const r = RULES.find((x) => x.id === id)!;
    assert.deepEqual([c.level, c.title], [r.level, r.title], id);
  }
  const byId = (id: string): { verdict: string; advice: string } => CAPTURE_RULES.find((x) => x.id === id)!;
  assert.equal(byId('tcp.rst-injected').verdict, RULES.find((r) => r.id === 'tcp.rst-injected')!.verdict);
  assert.equal(byId('pmtu.black-hole').advice, RULES.find((r) => r.id === 'pmtu.black-hole')!.advice);
  assert.throws(() => diagnosis('no.such-rule', 'title'), /no diagnosis rule no.such-rule/);
});

test('ICMP errors: analyze says what the diagnosis says (name, what the sender sees), and adds where to look', () => {
  const cases: [4 | 6, number, number, string][] = [
    [4, 3, 3, 'nothing listens on {dst}:{dport}/{proto}: start the service, or send to the right port'],
    [4, 3, 13, 'a firewall REJECT rule on {router} (iptables -S | grep REJECT, nft list ruleset)'],
    [4, 3, 4, 'see pmtu.too-big'],
    [4, 11, 0, 'look for a routing loop'],
    [6, 1, 4, 'nothing listens on {dst}:{dport}/{proto}: start the service, or send to the right port'],
    [6, 2, 0, 'see pmtu.too-big'],
    [4, 3, 15, 'look at {router}'],
    [4, 5, 1, 'look at {router}'],
  ];
  for (const [family, type, code, advice] of cases) {
    const a = icmpWords(family, type, code);
    const d = diagnoseIcmpWords(family, type, code);
    assert.deepEqual([a.icmp, a.sees, a.advice], [d.icmp, d.sees, advice], `${family} ${type}/${code}`);
  }
  assert.equal(icmpWords(4, 3, 3).sees, 'Connection refused (ECONNREFUSED)');
  assert.equal(icmpWords(4, 3, 13).meaning, 'admin prohibited');
});
