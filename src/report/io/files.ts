/**
 * The report's OS edge: checks the output paths before a run starts, reads a saved
 * `trace --json` run line by line (a file, or stdin for "-"), and writes the page and
 * the Perfetto trace.
 */
import { createReadStream, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { EnvironmentError, UsageError } from '../../shared/errors.js';
import type { ReportDoc } from '../document.js';
import { renderHtml } from '../html.js';
import { chromeTrace } from '../perfetto.js';
import type { ReportReplay } from '../replay.js';

/** An output path that can be written: its folder exists, it is not a folder itself. */
export function checkOutput(flag: string, file: string | null | undefined): string | null {
  if (file === undefined || file === null) return null;
  if (!file) throw new UsageError(`invalid ${flag} "": expected a file name`);
  const dir = dirname(resolve(file));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    /* reported below */
  }
  if (!isDir) throw new UsageError(`invalid ${flag} "${file}": no such directory ${dir}`);
  try {
    if (statSync(file).isDirectory()) throw new UsageError(`invalid ${flag} "${file}": it is a directory`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
  }
  return file;
}

/** Feeds every line of `file` ("-": stdin) to the replay. */
export async function readEvents(file: string, replay: ReportReplay): Promise<void> {
  if (file !== '-') {
    let ok = false;
    try {
      ok = statSync(file).isFile();
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { cause: err });
    }
    if (!ok) throw new UsageError(`cannot read ${file}: not a file`);
  }
  const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) replay.push(line);
  } catch (err) {
    throw new EnvironmentError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function write(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (err) {
    throw new EnvironmentError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes the page and/or the Perfetto trace; returns one line per file written, for stderr. */
export function writeReport(doc: ReportDoc, out: { html: string | null; perfetto: string | null }): string[] {
  const said: string[] = [];
  const flows = `${doc.flows.length} flow${doc.flows.length === 1 ? '' : 's'}, ${doc.total} events`;
  if (out.html) {
    write(out.html, renderHtml(doc));
    said.push(`report written to ${out.html} (${flows}${doc.total > doc.events.length ? `; ${doc.events.length} drawn` : ''})`);
  }
  if (out.perfetto) {
    write(out.perfetto, JSON.stringify(chromeTrace(doc)));
    said.push(`Perfetto trace written to ${out.perfetto} (open it in ui.perfetto.dev or chrome://tracing)`);
  }
  return said;
}
