/**
 * pktpath command line. Turns argv into a run and every failure into one line on
 * stderr and an exit code (2 usage, 3 environment, 4 kernel, 1 internal), never a
 * stack trace (set PKTPATH_DEBUG=1 to see one).
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Command, CommanderError, Option } from 'commander';
import { exitCodeOf, PktpathError, UsageError } from '../shared/errors.js';
import { parseTraceOptions } from './options.js';
import { DEFAULT_RING_MB, runRequest } from './request.js';
import type { RawTraceOptions, TraceOptions } from './options.js';
import { runDoctorChecks } from '../doctor/io/checks.js';
import { formatDoctor } from '../doctor/report.js';
import { netnsNames, resolveNetns } from '../kernel/io/netns.js';
import { runTrace } from '../run/io/session.js';
import { addSocketsCommand } from './sockets.js';
import { addStatsCommand } from './stats.js';
import { addDiagnoseCommand } from './diagnose.js';
import { addReportCommand, reportFiles } from './report.js';
import { versions, versionText } from './version.js';
import { compileExpressionArg, expressionArgument, refuseWithExpression } from './expression.js';
import { addAnalyzeCommand, discard } from './analyze.js';
import { openPcapngOut } from '../capture/io/pcapng-out.js';
import { addDropsCommand } from './drops.js';

/** Checks that need the machine: the pid and the interface exist. */
function checkAgainstSystem(opts: TraceOptions): void {
  if (opts.pid !== null && !existsSync(`/proc/${opts.pid}`)) {
    throw new UsageError(`invalid --pid "${opts.pid}": no such process`);
  }
  if (opts.ifname !== null && !existsSync(`/sys/class/net/${opts.ifname}`)) {
    // not in our namespace: look in the named ones
    const found = [...netnsNames().values()].some(
      (ns) => spawnSync('ip', ['-n', ns, 'link', 'show', 'dev', opts.ifname!], { stdio: 'ignore' }).status === 0,
    );
    if (!found) {
      throw new UsageError(`invalid --ifname "${opts.ifname}": no such interface here or in any namespace under /run/netns`);
    }
  }
}

type RawTrace = RawTraceOptions & { ringMb?: string; html?: string; perfetto?: string };

async function traceAction(words: string[], raw: RawTrace): Promise<number> {
  const opts = parseTraceOptions(raw);
  const filter = compileExpressionArg(words);
  refuseWithExpression(filter, opts);
  const netnsInode = opts.netns !== null ? resolveNetns(opts.netns) : 0;
  checkAgainstSystem(opts);
  const report = reportFiles(raw);
  const req = runRequest(opts, { netnsInode, ringMb: raw.ringMb, ...(filter ? { filter } : {}), report });
  const pcapng = req.write ? openPcapngOut(req.write.file) : undefined;
  // -w -: standard output carries the pcapng, so the events are not printed
  const out = req.write?.file === '-' ? discard() : process.stdout;
  const summary = await runTrace(req, { out, err: process.stderr, ...(pcapng ? { pcapng } : {}) });
  // stdout's reader stopped reading: what it still holds is counted in the summary, not waited for
  // (a pending write would keep the process alive until the reader reads)
  if (summary.unwritten) process.exit(0);
  return 0;
}

function doctorAction(): number {
  const { rows, usable } = runDoctorChecks();
  process.stdout.write(`${formatDoctor(rows)}\n`);
  if (!usable) {
    process.stderr.write('pktpath: nothing usable: no BPF engine can run on this machine\n');
    return 3;
  }
  return 0;
}

function buildProgram(result: { code: number }, argv: readonly string[]): Command {
  const program = new Command('pktpath')
    .description('Trace any packet through the Linux network stack and tell why it was dropped, reset or delayed')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `pktpath: ${s}` : s),
    })
    .showSuggestionAfterError(true)
    .addOption(new Option('-V, --version', 'print the versions of pktpath, libbpf and the running kernel'));
  program.on('option:version', () => {
    process.stdout.write(versionText(versions()));
    throw new CommanderError(0, 'pktpath.version', ''); // run() turns it into exit 0
  });

  program
    .command('trace', { isDefault: true })
    .description('print every place in the kernel a matching packet passes, and where it is freed or dropped')
    .option('-H, --ipaddr <addr>', 'IPv4 or IPv6 address, either side')
    .option('-P, --port <port>', 'TCP or UDP port, either side')
    .option('--proto <proto>', 'tcp|udp|icmp|any')
    .option('--icmpid <id>', 'ICMP echo identifier')
    .option('-p, --pid <pid>', 'only packets handled while this process runs')
    .option('-N, --netns <netns>', 'network namespace: inode, name under /run/netns, or path')
    .option('-i, --ifname <name>', 'interface name')
    .option('--mark <value[/mask]>', 'skb mark, e.g. 0x10/0xff')
    .option('-c, --catch-count <n>', 'stop after n events')
    .option('-T, --time', 'date and time with microseconds')
    .option('-t, --timestamp', 'seconds since the start, microsecond resolution')
    .option('--json', 'one JSON object per line')
    .option('--dropstack', 'kernel stack on drops')
    .option('--callstack', 'kernel stack on every event')
    .option('--verbose', 'say which probes attached and why others did not')
    .option('--backend <name>', 'kernel functions via auto|fentry|kprobe.multi|kprobe, or tracepoints only', 'auto')
    .option('--all', 'every kernel function that takes an skb (function backends)')
    .option('--func <regex>', 'only kernel functions whose name matches')
    .option('--exclude <regex>', 'leave out kernel functions whose name matches')
    .option('--keep', 'once a packet matched, follow its skb to its end (NAT, encapsulation)')
    .option('--route', 'show each route lookup: table, type, output device, gateway, error')
    .option('--iptable', 'show the netfilter table/chain/verdict path and the rule that decided')
    .option('-w, --write <file>', 'write the traced packets as pcapng instead of printing the events, as tcpdump -w (- for standard output): one copy per device and namespace they crossed, with what the kernel did in each packet\'s comment')
    .option('--print', 'with -w FILE: print the events too, as tcpdump --print')
    .option('--snaplen <n>', 'with -w: packet bytes captured in the kernel per event, from the network header (64-4096, default 256)')
    .option('--evidence', 'also attach the probes the diagnosis reads: XDP errors, TCP state changes, SYN-ACK resends, full accept queues (XDP ones are not filtered by address or port)')
    .addOption(new Option('--ring-mb <mb>', 'ring buffer size in MiB').default(String(DEFAULT_RING_MB)))
    .option('--html <file>', 'also write the run as an HTML report (verdict, path diagrams, timeline)')
    .option('--perfetto <file>', 'also write the run as Chrome trace event JSON (ui.perfetto.dev)')
    .addArgument(expressionArgument())
    .action(async (words: string[], raw: RawTrace) => {
      result.code = await traceAction(words, raw);
    });

  program
    .command('doctor')
    .description('what this machine offers pktpath: kernel, BTF, libbpf, privileges, backends, tracepoints')
    .action(() => {
      result.code = doctorAction();
    });

  addSocketsCommand(program, result);
  addStatsCommand(program, result);
  addDropsCommand(program, result);
  addDiagnoseCommand(program, result, checkAgainstSystem, argv);
  addReportCommand(program, result);
  addAnalyzeCommand(program, result);

  program
    .command('demo')
    .description('build two namespaces, trace a refused connection and a firewall drop, clean up')
    .action(async () => {
      const { runDemo } = await import('../demo/main.js');
      result.code = await runDemo();
    });
  return program;
}

/** Runs the CLI; returns the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  const result = { code: 0 };
  try {
    await buildProgram(result, argv).parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its one line (help and version exit 0)
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof PktpathError) {
      process.stderr.write(`pktpath: ${err.message}\n`);
      if (process.env.PKTPATH_DEBUG && err.cause) process.stderr.write(`${String((err.cause as Error).stack ?? err.cause)}\n`);
      return exitCodeOf(err);
    }
    const e = err as Error;
    process.stderr.write(`pktpath: internal error: ${e?.message ?? String(err)}\n`);
    if (process.env.PKTPATH_DEBUG) process.stderr.write(`${e?.stack}\n`);
    return 1;
  }
}
