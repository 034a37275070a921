/** The `analyze` command: options in, src/capture/io/analyze.ts does the work. */
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { UsageError } from '../shared/errors.js';
import { analyzeCommand } from '../capture/io/analyze.js';

interface RawAnalyzeOptions {
  json?: boolean;
  maxFlows?: string;
}

function maxFlows(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000_000) throw new UsageError(`invalid --max-flows "${v}": expected a whole number from 1 to 10000000`);
  return n;
}

export function addAnalyzeCommand(program: Command, result: { code: number }): void {
  program
    .command('analyze')
    .description('read a pcap or pcapng capture made anywhere and tell what went wrong: resets and who sent them, retransmissions, zero windows, MTU trouble, ICMP errors (no root needed)')
    .argument('<file>', 'pcap or pcapng file, or - for standard input')
    .option('--json', 'the report as one JSON document (schema in the README)')
    .option('--max-flows <n>', 'flows followed at once; older ones are judged early so memory stays bounded (default 20000)')
    .action(async (file: string, raw: RawAnalyzeOptions) => {
      result.code = await analyzeCommand({ file, json: raw.json === true, maxFlows: maxFlows(raw.maxFlows), out: process.stdout });
    });
}

/** A stdout stand-in that takes every line and keeps none (trace -w -: stdout is the pcapng). */
export function discard(): Writable {
  return new Writable({ write: (_chunk, _enc, done) => done() });
}
