import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nothingSeen, parseDiagnoseOptions, parseDuration } from './options.js';

test('durations', () => {
  const cases: [string, number | null][] = [['10s', 10_000], ['500ms', 500], ['2m', 120_000], ['3', 3000], ['1.5s', 1500], ['0s', null], ['-1s', null], ['10h', null], ['s', null], ['', null]];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('options: a command, or a duration; bad values are one line naming the option', () => {
  assert.deepEqual(parseDiagnoseOptions({}, ['curl', '-m', '5', 'http://x/']), { durationMs: null, graceMs: 1000, command: ['curl', '-m', '5', 'http://x/'], json: false });
  assert.equal(parseDiagnoseOptions({ duration: '10s', json: true }, []).durationMs, 10_000);
  const bad: [Parameters<typeof parseDiagnoseOptions>[0], string[], RegExp][] = [
    [{}, [], /needs a command after -- .* or --duration/],
    [{ duration: 'soon' }, [], /invalid --duration "soon"/],
    [{ grace: '-1' }, ['true'], /invalid --grace "-1"/],
    [{}, [''], /empty program name/],
  ];
  for (const [raw, cmd, re] of bad) assert.throws(() => parseDiagnoseOptions(raw, cmd), re);
});

test('nothing seen: the likely reasons, the filter and the command named', () => {
  const t = nothingSeen({ filters: '-H 10.0.0.2 -P 8080', command: ['curl', 'http://x/'], exit: 'exited with status 6', netns: null });
  assert.match(t, /^no packet of curl's flows was seen: \(1\) the filter \(-H 10\.0\.0\.2 -P 8080\) does not match/);
  assert.match(t, /curl exited with status 6 before it sent anything/);
  assert.match(t, /sent by another process than curl's/);
  assert.match(nothingSeen({ filters: '', command: null, exit: null, netns: 'srv' }), /^no packet matched: \(1\) the traffic runs in another namespace than srv/);
});
