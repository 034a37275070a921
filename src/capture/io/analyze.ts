/** `pktpath analyze FILE`: read the capture, print the report (text or --json). */
import { Analyzer } from '../analyze.js';
import { renderReport } from '../render.js';
import { UsageError } from '../../shared/errors.js';
import { linkTypeName } from '../format.js';
import { readCapture } from './file.js';
import type { AnalysisReport } from '../report.js';

export interface AnalyzeCommand {
  readonly file: string;
  readonly json: boolean;
  readonly maxFlows?: number;
  readonly out: NodeJS.WritableStream;
}

export async function analyzeFile(file: string, opts: { maxFlows?: number } = {}): Promise<AnalysisReport> {
  const a = new Analyzer({ maxFlows: opts.maxFlows });
  const desc = await readCapture(file, a);
  const bad = a.undecodable();
  if (bad) {
    const names = bad.map((lt) => `${lt} (${linkTypeName(lt)})`).join(', ');
    throw new UsageError(`${file === '-' ? 'standard input' : file}: unsupported link type ${names}; pktpath analyze reads Ethernet, Linux cooked v1/v2 (tcpdump -i any), raw IP and loopback captures`);
  }
  return a.report(desc, file);
}

export async function analyzeCommand(cmd: AnalyzeCommand): Promise<number> {
  const report = await analyzeFile(cmd.file, { maxFlows: cmd.maxFlows });
  cmd.out.write(cmd.json ? `${JSON.stringify(report)}\n` : `${renderReport(report)}\n`);
  return 0;
}
