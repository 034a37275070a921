import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { BPF_OBJECT } from '../shared/io/paths.js';
import { UsageError } from '../shared/errors.js';
import { compileExpressionArg, expressionArgument, expressionOf, refuseWithExpression } from './expression.js';

test('the words make one expression, as tcpdump joins them', () => {
  const table: [string[] | undefined, string | null][] = [
    [undefined, null],
    [[], null],
    [['  '], null],
    [['tcp port 80'], 'tcp port 80'],
    [['tcp', 'port', '80', 'and', 'host', '10.0.0.2'], 'tcp port 80 and host 10.0.0.2'],
  ];
  for (const [words, want] of table) assert.equal(expressionOf(words), want);
});

test('commander hands the words over around options, and after --', async () => {
  const seen: string[][] = [];
  const cmd = new Command('t').exitOverride().option('--json').option('-c, --catch-count <n>').addArgument(expressionArgument());
  cmd.action((words: string[]) => void seen.push(words));
  for (const argv of [['tcp', 'port', '80', '--json'], ['--json', 'tcp port 80'], ['-c', '5', 'tcp', 'port', '80'], ['--', 'tcp', 'port', '80']]) {
    await cmd.parseAsync(argv, { from: 'user' });
  }
  assert.deepEqual(seen.map((w) => expressionOf(w)), ['tcp port 80', 'tcp port 80', 'tcp port 80', 'tcp port 80']);
});

test("compiling: none, a filter, or libpcap's message as a usage error", (t) => {
  if (!existsSync(BPF_OBJECT)) return t.skip(`${BPF_OBJECT} not built`);
  assert.equal(compileExpressionArg([]), undefined);
  assert.equal(compileExpressionArg(['udp', 'port', '53'])?.expression, 'udp port 53');
  assert.throws(() => compileExpressionArg(['tcp', 'port']), (e: unknown) => e instanceof UsageError && e.message === "can't parse filter expression: syntax error");
});

test('--route and --iptable are refused with an expression, not shown unfiltered', (t) => {
  if (!existsSync(BPF_OBJECT)) return t.skip(`${BPF_OBJECT} not built`);
  const f = compileExpressionArg(['tcp']);
  assert.doesNotThrow(() => refuseWithExpression(undefined, { route: true, iptable: true }));
  assert.doesNotThrow(() => refuseWithExpression(f, {}));
  assert.throws(() => refuseWithExpression(f, { route: true }), /^UsageError: --route with an expression: route lookups carry no packet/);
  assert.throws(() => refuseWithExpression(f, { iptable: true }), /^UsageError: --iptable with an expression: the netfilter path comes from nft trace/);
});
