/**
 * `pktpath stats`: the kernel's counters per namespace (SNMP/netstat MIBs, link and
 * driver statistics) and the host's softnet statistics, every interval, showing the ones
 * that moved with what they mean.
 */
import type { Command } from 'commander';
import { canEnterNamespaces, listNamespaces, namespacesToRead } from '../netlink/io/namespaces.js';
import { parseStatsOptions } from '../stats/options.js';
import type { RawStatsOptions } from '../stats/options.js';
import { counterCatalog } from '../stats/io/catalog.js';
import { watchStats } from '../stats/io/watch.js';

async function statsAction(raw: RawStatsOptions): Promise<number> {
  const opts = parseStatsOptions(raw);
  const fixed = opts.netns !== undefined;
  const first = namespacesToRead(opts.netns);
  const namespaces = fixed ? () => first : () => namespacesToRead(undefined);
  if (opts.netns === undefined && !canEnterNamespaces() && listNamespaces().length > 1) {
    process.stderr.write('pktpath: not root: only this namespace is read\n');
  }
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await watchStats(
      {
        namespaces,
        fixed,
        intervalMs: opts.intervalMs,
        ...(opts.count !== undefined ? { count: opts.count } : {}),
        all: opts.all,
        json: opts.json,
        catalog: counterCatalog(),
        out: process.stdout,
        err: process.stderr,
        onStart: () => process.stderr.write(`pktpath: reading ${fixed ? `namespace ${opts.netns}` : 'this namespace and those under /run/netns'} every ${opts.intervalMs} ms; ready\n`),
      },
      stop.signal,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}

/** Registers `pktpath stats`; the action's exit code goes to result.code. */
export function addStatsCommand(program: Command, result: { code: number }): void {
  program
    .command('stats')
    .description('kernel counters per namespace (nstat MIBs, links, drivers, softnet) that moved, each with its meaning')
    .option('-N, --netns <netns>', 'only this namespace (default: this one and every one under /run/netns)')
    .option('--interval <time>', 'time between reports, e.g. 500ms, 1s, 2m', '1s')
    .option('--duration <time>', 'stop after this long (then print the total)')
    .option('-c, --count <n>', 'stop after n reports (then print the total)')
    .option('--all', 'every counter, moved or not, and the gauges')
    .option('--json', 'one JSON object per report')
    .action(async (raw: RawStatsOptions) => {
      result.code = await statsAction(raw);
    });
}
