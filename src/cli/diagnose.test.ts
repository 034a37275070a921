import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitOperands } from './diagnose.js';

test('diagnose operands: the words before -- are the expression, those after it the command', () => {
  const cases: [string[], string[], string[], string[]][] = [
    // [argv, operands commander gives, expression, command]
    [['diagnose', '-P', '80', '--', 'curl', '-m', '3', 'http://x/'], ['curl', '-m', '3', 'http://x/'], [], ['curl', '-m', '3', 'http://x/']],
    [['diagnose', 'tcp', 'port', '80', '--', 'curl', 'x'], ['tcp', 'port', '80', 'curl', 'x'], ['tcp', 'port', '80'], ['curl', 'x']],
    [['diagnose', '--duration', '2s', 'icmp and host 10.0.0.2'], ['icmp and host 10.0.0.2'], ['icmp and host 10.0.0.2'], []],
    [['diagnose', '--duration', '2s'], [], [], []],
    [['diagnose', '--', 'sh', '-c', 'echo -- x'], ['sh', '-c', 'echo -- x'], [], ['sh', '-c', 'echo -- x']],
  ];
  for (const [argv, words, expression, command] of cases) {
    assert.deepEqual(splitOperands(words, argv), { expression, command }, argv.join(' '));
  }
});
