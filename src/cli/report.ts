/**
 * `pktpath report EVENTS.jsonl -o FILE.html [--perfetto FILE]`: the picture of a saved
 * `trace --json` run (read line by line; "-" reads stdin), diagnosed again from its events;
 * and the --html / --perfetto options that trace and diagnose share.
 */
import type { Command } from 'commander';
import { UsageError } from '../shared/errors.js';
import type { ReportFiles } from '../report/live.js';
import { ReportReplay } from '../report/replay.js';
import { checkOutput, readEvents, writeReport } from '../report/io/files.js';

/** The --html / --perfetto files of a run, checked before it starts; null when neither is asked for. */
export function reportFiles(raw: { html?: string; perfetto?: string }): ReportFiles | null {
  const html = checkOutput('--html', raw.html);
  const perfetto = checkOutput('--perfetto', raw.perfetto);
  if (!html && !perfetto) return null;
  return { html, perfetto, source: `pktpath ${process.argv.slice(2).join(' ')}` };
}

async function reportAction(file: string, raw: { output?: string; perfetto?: string }): Promise<number> {
  if (!raw.output && !raw.perfetto) throw new UsageError('report: say where to write it: -o FILE.html and/or --perfetto FILE');
  const html = checkOutput('-o', raw.output);
  const perfetto = checkOutput('--perfetto', raw.perfetto);
  const replay = new ReportReplay();
  await readEvents(file, replay);
  if (replay.events === 0) throw new UsageError(`${file}: no event in it (expected the output of pktpath trace --json)`);
  const doc = replay.finish({ source: file === '-' ? 'events read from stdin' : file, made: new Date().toISOString() });
  for (const line of writeReport(doc, { html, perfetto })) process.stderr.write(`pktpath: ${line}\n`);
  return 0;
}

/** `pktpath report`, registered on the program. */
export function addReportCommand(program: Command, result: { code: number }): void {
  program
    .command('report')
    .description('draw a saved `trace --json` run: an HTML page (verdict, findings, path diagrams, timeline, latency) and/or a Perfetto trace')
    .argument('<events>', 'the events, as pktpath trace --json printed them ("-": stdin)')
    .option('-o, --output <file>', 'write the HTML report here')
    .option('--perfetto <file>', 'write the run as Chrome trace event JSON here (ui.perfetto.dev, chrome://tracing)')
    .action(async (file: string, raw: { output?: string; perfetto?: string }) => {
      result.code = await reportAction(file, raw);
    });
}
