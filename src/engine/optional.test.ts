import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadWithOptionalGroups } from './optional.js';
import type { OptionalGroup } from './optional.js';

const group = (name: string, on = true, mechanism?: string): OptionalGroup => ({ name, on, why: (err) => `${name}: ${(err as Error).message}`, ...(mechanism ? { mechanism } : {}) });

/**
 * A fake load: fails while any group in `bad` is on, or always when `broken`; records the
 * groups that were on at each attempt and which loads were discarded.
 */
function loader(groups: OptionalGroup[], bad: string[], broken = false) {
  const attempts: string[][] = [];
  const discarded: number[] = [];
  const load = (): number => {
    const on = groups.filter((g) => g.on).map((g) => g.name);
    attempts.push(on);
    const culprit = on.find((n) => bad.includes(n));
    if (broken) throw new Error('the base load fails');
    if (culprit) throw new Error(`${culprit} refused`);
    return attempts.length;
  };
  return { attempts, discarded, load, discard: (n: number) => void discarded.push(n) };
}

const cases: { what: string; groups: () => OptionalGroup[]; bad: string[]; broken?: boolean; attempts: string[][]; off: string[]; throws?: RegExp }[] = [
  { what: 'everything loads: one attempt', groups: () => [group('a'), group('b')], bad: [], attempts: [['a', 'b']], off: [] },
  { what: 'no group on: the error is the load\'s', groups: () => [group('a', false)], bad: [], broken: true, attempts: [[]], off: [], throws: /base load/ },
  { what: 'one group to blame, alone: two attempts', groups: () => [group('a')], bad: ['a'], attempts: [['a'], []], off: ['a'] },
  {
    what: 'two groups, one to blame: only that one goes off',
    groups: () => [group('a'), group('b')],
    bad: ['b'],
    attempts: [['a', 'b'], [], ['a'], ['a', 'b']],
    off: ['b'],
  },
  {
    what: 'two groups, the first to blame: the second stays on',
    groups: () => [group('a'), group('b')],
    bad: ['a'],
    attempts: [['a', 'b'], [], ['a'], ['b']],
    off: ['a'],
  },
  { what: 'not the groups\' fault: both stay on, the error is thrown', groups: () => [group('a'), group('b')], bad: [], broken: true, attempts: [['a', 'b'], []], off: [], throws: /base load/ },
];

for (const c of cases) {
  test(`loadWithOptionalGroups: ${c.what}`, () => {
    const groups = c.groups();
    const wanted = groups.filter((g) => g.on).map((g) => g.name);
    const l = loader(groups, c.bad, c.broken);
    if (c.throws) assert.throws(() => loadWithOptionalGroups(groups, l.load, l.discard), c.throws);
    else loadWithOptionalGroups(groups, l.load, l.discard);
    assert.deepEqual(l.attempts, c.attempts);
    assert.deepEqual(groups.filter((g) => !g.on && wanted.includes(g.name)).map((g) => g.name), c.off);
    for (const g of groups) assert.equal(g.problem !== undefined, c.off.includes(g.name), `${g.name}: a problem exactly when off`);
    for (const name of c.off) assert.match(groups.find((g) => g.name === name)!.problem!, new RegExp(`^${name}: ${name} refused`));
  });
}

test('loadWithOptionalGroups: a better load replaces the one before it, which is discarded', () => {
  const groups = [group('a'), group('b')];
  const l = loader(groups, ['b']);
  const got = loadWithOptionalGroups(groups, l.load, l.discard);
  assert.equal(got, 3, 'the load with a on (third attempt) is kept');
  assert.deepEqual(l.discarded, [2], 'the load without any group is discarded');
});

test('loadWithOptionalGroups: a refused group goes off with the reason and the error is thrown, without a second load', () => {
  const groups = [group('observers'), group('returns', true, 'fexit')];
  const l = loader(groups, ['returns']);
  assert.throws(
    () => loadWithOptionalGroups(groups, l.load, l.discard, (g) => g.mechanism === 'fexit'),
    /returns refused/,
  );
  assert.deepEqual(l.attempts, [['observers', 'returns']]);
  assert.deepEqual(groups.map((g) => [g.name, g.on, g.problem]), [
    ['observers', true, undefined],
    ['returns', false, 'returns: returns refused'],
  ]);
});
