import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fill } from './words.js';

/** What fill did before templates were split once: a regular expression per fill. */
const byRegExp = (template: string, ctx: Readonly<Record<string, string>>): string => template.replace(/\{([a-z0-9:_-]+)\}/gi, (m, k: string) => ctx[k] ?? m);

const CTX: Readonly<Record<string, string>> = { flow: 'tcp 10.0.0.1:1 -> 10.0.0.2:2', netns: 'cli', 'n:icmp': '3', Dev: 'eth0', dollar: '$& $1 $$', empty: '' };

test('fill: names filled, unknown ones kept as written, the text around untouched (as the regular expression did)', () => {
  const cases: readonly [string, string][] = [
    ['', ''],
    ['no names', 'no names'],
    ['{flow}', 'tcp 10.0.0.1:1 -> 10.0.0.2:2'],
    ['{flow} in netns {netns}: {n:icmp} times{empty}.', 'tcp 10.0.0.1:1 -> 10.0.0.2:2 in netns cli: 3 times.'],
    ['{netns}{netns}', 'clicli'],
    ['{typo} stays, {Dev} by its case', '{typo} stays, eth0 by its case'],
    ['{dollar}', '$& $1 $$'],
    ['{not a name} {} {{netns}} {netns', '{not a name} {} {cli} {netns'],
  ];
  for (const [template, want] of cases) {
    assert.equal(fill(template, CTX), want, template);
    assert.equal(fill(template, CTX), byRegExp(template, CTX), template);
  }
});
