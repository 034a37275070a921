/**
 * `pktpath diagnose`: trace, run the command (or watch for --duration), and print the
 * diagnosis report instead of the events: the verdict, numbered findings, paths, latency
 * and what tcpdump would have shown; `--json` prints it as one JSON document.
 *
 * The command's flows are matched by the trace filters given (-H, -P, --proto...) for now;
 * matching them by process (the command's process tree) waits for the kernel side.
 */
import { Writable } from 'node:stream';
import type { Report } from '../diagnose/model.js';
import { nothingSeen, parseDiagnoseOptions } from '../diagnose/options.js';
import type { DiagnoseOptions, RawDiagnoseOptions } from '../diagnose/options.js';
import { renderReport } from '../diagnose/render.js';
import { readQdiscs } from '../diagnose/io/facts.js';
import { startCommand } from '../diagnose/io/command.js';
import type { CommandRun } from '../diagnose/io/command.js';
import { resolveNetns } from '../kernel/io/netns.js';
import { runTrace } from '../run/io/session.js';
import { configValues, parseTraceOptions } from './options.js';
import type { RawTraceOptions, TraceOptions } from './options.js';

/** How long a command still running when the trace stops gets before it is killed. */
const KILL_WAIT_MS = 2000;

/** Discards the event lines: diagnose prints the report, not the trace. */
const discard = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

function filtersText(raw: RawTraceOptions): string {
  const parts: [string, unknown][] = [['-H', raw.ipaddr], ['-P', raw.port], ['--proto', raw.proto], ['-N', raw.netns], ['-i', raw.ifname]];
  return parts.filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => `${k} ${String(v)}`).join(' ');
}

interface Watch {
  command: CommandRun | null;
  startError: unknown;
  exit: string | null;
}

/** Starts the command once the probes are attached; resolves `stop` when the watch is over. */
function watcher(d: DiagnoseOptions, stop: () => void): { watch: Watch; onReady: () => void } {
  const watch: Watch = { command: null, startError: null, exit: null };
  const onReady = (): void => {
    if (d.durationMs !== null) setTimeout(stop, d.durationMs).unref();
    if (!d.command) return;
    const cmd = startCommand(d.command);
    watch.command = cmd;
    cmd.started.catch((err: unknown) => {
      watch.startError = err;
      stop();
    });
    void cmd.exited.then((x) => {
      watch.exit = x.text;
      // replies, resets and retransmissions still come after the command gave up
      setTimeout(stop, d.graceMs).unref();
    });
  };
  return { watch, onReady };
}

/** The command outlived the trace (Ctrl-C, --duration): stop it, and say how it ended. */
async function settle(watch: Watch): Promise<void> {
  const cmd = watch.command;
  if (!cmd || watch.exit !== null || watch.startError) return;
  cmd.kill('SIGTERM');
  const timer = setTimeout(() => cmd.kill('SIGKILL'), KILL_WAIT_MS);
  watch.exit = (await cmd.exited).text + ' (pktpath stopped it)';
  clearTimeout(timer);
}

function printReport(report: Report, netns: (i: number) => string, d: DiagnoseOptions, raw: RawTraceOptions, watch: Watch, opts: TraceOptions): void {
  if (d.command) process.stderr.write(`pktpath: ${d.command.join(' ')} ${watch.exit ?? 'did not finish'}\n`);
  if (report.inputs.events === 0) {
    process.stderr.write(`pktpath: ${nothingSeen({ filters: filtersText(raw), command: d.command, exit: watch.exit, netns: opts.netns })}\n`);
  }
  if (d.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${renderReport(report, { netns })}\n`);
}

/** Runs a diagnosis; returns the exit code (0: a report was made, whatever it says). */
export async function diagnoseAction(raw: RawTraceOptions & RawDiagnoseOptions & { ringBytes: number }, command: readonly string[]): Promise<number> {
  const opts = parseTraceOptions({ ...raw, json: false });
  const d = parseDiagnoseOptions(raw, command);
  const inode = opts.netns !== null ? resolveNetns(opts.netns) : 0;
  let stop: () => void = () => {};
  const until = new Promise<void>((resolve) => (stop = resolve));
  const { watch, onReady } = watcher(d, stop);
  let result: { report: Report; netns: (i: number) => string } | null = null;
  await runTrace({
    config: configValues(opts, inode),
    route: opts.route,
    iptable: opts.iptable ? opts : undefined,
    json: true,
    time: 'default',
    stack: false,
    verbose: opts.verbose,
    ringBytes: raw.ringBytes,
    out: discard(),
    err: process.stderr,
    onReady,
    until,
    diagnose: { facts: () => ({ qdiscs: readQdiscs() }), done: (report, netns) => (result = { report, netns }) },
  });
  if (watch.startError) throw watch.startError;
  await settle(watch);
  if (!result) return 1;
  const r: { report: Report; netns: (i: number) => string } = result;
  printReport(r.report, r.netns, d, raw, watch, opts);
  return 0;
}
