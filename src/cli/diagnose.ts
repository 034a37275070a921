/**
 * `pktpath diagnose`: trace, run the command (or watch for --duration), and print the
 * diagnosis report instead of the events: the verdict, numbered findings, paths, latency
 * and what tcpdump would have shown; `--json` prints it as one JSON document.
 *
 * With `-- CMD` the run follows CMD's process tree (process-tree capture, bpf/track.h):
 * CMD starts held until the kernel tracks its pid, and every packet of the flows its
 * processes open is traced, in both directions, in every namespace, through NAT. The
 * trace filters given narrow which of those flows join.
 */
import { Writable } from 'node:stream';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { Report, TrackedFacts } from '../diagnose/model.js';
import { nothingSeen, parseDiagnoseOptions } from '../diagnose/options.js';
import type { DiagnoseOptions, RawDiagnoseOptions } from '../diagnose/options.js';
import { renderReport } from '../diagnose/render.js';
import { readQdiscs, readSocketFacts, watchCounters } from '../diagnose/io/facts.js';
import type { Facts } from '../diagnose/model.js';
import type { Tracker } from '../engine/io/loader.js';
import { exitText } from '../track/command.js';
import { checkProgram, trackCommand } from '../track/io/command.js';
import type { TrackedCommand } from '../track/io/command.js';
import { resolveNetns } from '../kernel/io/netns.js';
import { runTrace } from '../run/io/session.js';
import type { RunReady } from '../run/io/session.js';
import { parseTraceOptions } from './options.js';
import type { RawTraceOptions, TraceOptions } from './options.js';
import { DEFAULT_RING_MB, runRequest } from './request.js';
import { reportFiles } from './report.js';
import { openPcapngOut } from '../capture/io/pcapng-out.js';
import { UsageError } from '../shared/errors.js';
import { compileExpressionArg, refuseWithExpression } from './expression.js';

/** How long a command still running when the trace stops gets before it is killed. */
const KILL_WAIT_MS = 2000;

/** Discards the event lines: diagnose prints the report, not the trace. */
const discard = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

function filtersText(raw: RawTraceOptions): string {
  const parts: [string, unknown][] = [['-H', raw.ipaddr], ['-P', raw.port], ['--proto', raw.proto], ['-N', raw.netns], ['-i', raw.ifname]];
  return parts.filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => `${k} ${String(v)}`).join(' ');
}

interface Watch {
  /** the run is summing up: a command not yet let go must not start now */
  ending: boolean;
  /** settles once the command runs (or could not start) */
  starting: Promise<void> | null;
  command: TrackedCommand | null;
  startError: unknown;
  exit: string | null;
  tracker: Tracker | null;
}

/** The run ended (Ctrl-C) while the command was still held: it is let go without running. */
class Cancelled extends Error {}

/** Starts the command, tracked, once the probes are attached; resolves `stop` when the watch is over. */
function watcher(d: DiagnoseOptions, stop: () => void): { watch: Watch; onReady: (ready: RunReady) => void } {
  const watch: Watch = { ending: false, starting: null, command: null, startError: null, exit: null, tracker: null };
  const onReady = ({ tracker }: RunReady): void => {
    if (d.durationMs !== null) setTimeout(stop, d.durationMs).unref();
    if (!d.command) return;
    watch.tracker = tracker;
    const register = (pid: number): void => {
      if (watch.ending) throw new Cancelled();
      tracker!.track(pid);
    };
    // CMD's output goes to stderr: stdout is the report's
    watch.starting = trackCommand(d.command, { register, stdio: 'stderr' }).then(
      (cmd) => {
        watch.command = cmd;
        void cmd.exited.then((x) => {
          watch.exit = exitText(x);
          // replies, resets and retransmissions still come after the command gave up
          setTimeout(stop, d.graceMs).unref();
        });
      },
      (err: unknown) => {
        if (err instanceof Cancelled) watch.exit = 'did not start: the trace ended first';
        else watch.startError = err;
        stop();
      },
    );
  };
  return { watch, onReady };
}

/** The command outlived the trace (Ctrl-C, --duration): stop it, and say how it ended. */
async function settle(watch: Watch): Promise<void> {
  await watch.starting;
  const cmd = watch.command;
  if (!cmd || watch.exit !== null || watch.startError) return;
  cmd.kill('SIGTERM');
  const timer = setTimeout(() => cmd.kill('SIGKILL'), KILL_WAIT_MS);
  watch.exit = `${exitText(await cmd.exited)} (pktpath stopped it)`;
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

/** Facts for the report: counters watched from the start, sockets, qdiscs and what the command's tree opened read at the end. */
function factsWatch(watch: Watch): { start(): void; facts(): Facts } {
  let counters: ReturnType<typeof watchCounters> = null;
  const tracked = (): TrackedFacts | null => {
    const c = watch.tracker?.counts();
    return c ? { flows: c.flows, sockets: c.sockets, children: c.forks, untracked: c.untracked } : null;
  };
  return {
    start: () => void (counters = watchCounters()),
    facts: () => {
      watch.ending = true;
      const t = tracked();
      return { qdiscs: readQdiscs(), sockets: readSocketFacts(), ...(counters ? { counters: counters.moved() } : {}), ...(t ? { tracked: t } : {}) };
    },
  };
}

type RawDiagnose = RawTraceOptions & RawDiagnoseOptions & { ringMb?: string; html?: string; perfetto?: string };

/** Runs a diagnosis; returns the exit code (0: a report was made, whatever it says). */
export async function diagnoseAction(raw: RawDiagnose, command: readonly string[], expression: readonly string[] = []): Promise<number> {
  const opts = parseTraceOptions({ ...raw, json: false });
  const d = parseDiagnoseOptions(raw, command);
  const filter = compileExpressionArg(expression);
  refuseWithExpression(filter, opts);
  // -w: the packets as trace -w writes them, and at the end the findings on them (a file: it is rewritten)
  if (opts.write === '-') throw new UsageError('diagnose -w needs a file: standard output carries the report');
  const pcapng = opts.write !== null ? openPcapngOut(opts.write) : undefined;
  const netnsInode = opts.netns !== null ? resolveNetns(opts.netns) : 0;
  let stop: () => void = () => {};
  const until = new Promise<void>((resolve) => (stop = resolve));
  const { watch, onReady } = watcher(d, stop);
  const facts = factsWatch(watch);
  let result: { report: Report; netns: (i: number) => string } | null = null;
  const track = d.command !== null;
  if (d.command) checkProgram(d.command); // before anything is loaded or attached
  await runTrace(runRequest(opts, { netnsInode, ringMb: raw.ringMb, report: reportFiles(raw), track, evidence: true, events: false, ...(filter ? { filter } : {}) }), {
    out: discard(),
    err: process.stderr,
    ...(pcapng ? { pcapng } : {}),
    onReady: (ready) => {
      facts.start();
      onReady(ready);
    },
    until,
    diagnose: { facts: () => facts.facts(), done: (report: Report, netns: (i: number) => string) => (result = { report, netns }) },
  });
  await watch.starting;
  if (watch.startError) throw watch.startError;
  await settle(watch);
  if (!result) return 1;
  const r: { report: Report; netns: (i: number) => string } = result;
  printReport(r.report, r.netns, d, raw, watch, opts);
  return 0;
}

/** `pktpath diagnose`, registered on the program. */
/** `argv`: the command line, whose `--` tells the expression from the command. */
export function addDiagnoseCommand(program: Command, result: { code: number }, check: (opts: TraceOptions) => void, argv: readonly string[]): void {
  program
    .command('diagnose')
    .description('run a command (after --) or watch traffic (--duration), and tell what happened to its packets: verdict, findings, paths, latency')
    .usage('[filters] [--duration 10s] [--json] [EXPRESSION] [-- CMD [ARGS...]]')
    .option('-H, --ipaddr <addr>', 'IPv4 or IPv6 address, either side')
    .option('-P, --port <port>', 'TCP or UDP port, either side')
    .option('--proto <proto>', 'tcp|udp|icmp|any')
    .option('--icmpid <id>', 'ICMP echo identifier')
    .option('-N, --netns <netns>', 'network namespace: inode, name under /run/netns, or path')
    .option('-i, --ifname <name>', 'interface name')
    .option('--mark <value[/mask]>', 'skb mark, e.g. 0x10/0xff')
    .option('--route', 'trace route lookups too (reverse-path and no-route findings say more)')
    .option('--iptable', 'trace the netfilter path too (findings name the rule that decided)')
    .option('--backend <name>', 'kernel functions via auto|fentry|kprobe.multi|kprobe, or tracepoints only', 'auto')
    .option('--duration <time>', 'watch existing traffic this long (10s, 500ms, 2m)')
    .option('--grace <time>', 'keep tracing this long after the command exits', '1s')
    .option('--json', 'the report as one JSON document (README: Report)')
    .option('-w, --write <file>', 'also write the traced packets as pcapng (as trace -w), each packet that is evidence of a finding with the finding in its comment, and the verdict in the file\'s comment')
    .option('--snaplen <n>', 'with -w: packet bytes captured in the kernel per event, from the network header (64-4096, default 256)')
    .option('--html <file>', 'also write the report as an HTML page (path diagrams, timeline)')
    .option('--perfetto <file>', 'also write the run as Chrome trace event JSON (ui.perfetto.dev)')
    .option('--verbose', 'say which probes attached and why others did not')
    .addOption(new Option('--ring-mb <mb>', 'ring buffer size in MiB').default(String(DEFAULT_RING_MB)))
    .argument('[words...]', "a pcap-filter(7) expression as trace takes it, then -- and the command to run and diagnose")
    .action(async (words: string[], raw: RawDiagnose) => {
      check(parseTraceOptions({ ...raw, json: false }));
      const { expression, command } = splitOperands(words, argv);
      result.code = await diagnoseAction(raw, command, expression);
    });
}

/**
 * The operands before `--` are the expression, those after it the command: commander
 * hands both over as one list, so the words after the command line's `--` are counted.
 */
export function splitOperands(words: readonly string[], rawArgs: readonly string[]): { expression: string[]; command: string[] } {
  const dash = rawArgs.indexOf('--');
  const after = dash < 0 ? 0 : Math.min(rawArgs.length - dash - 1, words.length);
  return { expression: words.slice(0, words.length - after), command: words.slice(words.length - after) };
}
