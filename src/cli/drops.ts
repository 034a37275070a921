/**
 * `pktpath drops`: every drop on the host, counted in the kernel, as a refreshing table
 * (or JSON, or a Prometheus endpoint with --listen), with the counters that moved.
 *
 * Order of the checks, so each failure has its exit code and nothing is left behind:
 * options and the pcap-filter expression (2), the filter's namespace and interface (2), privileges (3), the listening
 * socket (3: port in use), the BPF load (4). SIGINT/SIGTERM stop the loop; the exporter
 * and every BPF link and program are closed on the way out.
 */
import type { Command } from 'commander';
import { UsageError } from '../shared/errors.js';
import { configValues, parseTraceOptions } from './options.js';
import type { RawTraceOptions, TraceOptions } from './options.js';
import { resolveNetns } from '../kernel/io/netns.js';
import { requirePrivileges } from '../kernel/io/privileges.js';
import { listNamespaces, namespaceFor, namespacesToRead } from '../netlink/io/namespaces.js';
import { readLinks } from '../netlink/io/request.js';
import { counterCatalog } from '../stats/io/catalog.js';
import { parseDropsOptions } from '../drops/options.js';
import type { DropsOptions, RawDropsOptions } from '../drops/options.js';
import { startExporter } from '../drops/io/exporter.js';
import type { Exporter } from '../drops/io/exporter.js';
import { loadDrops } from '../drops/io/load.js';
import { DropsSession, runSession } from '../drops/io/session.js';
import { DROPS_OBJECT } from '../drops/io/load.js';
import { compileExpression } from '../filter/io/image.js';
import type { CompiledFilter } from '../filter/filter.js';
import { expressionArgument, expressionOf } from './expression.js';
import type { SessionOptions } from '../drops/io/session.js';

type RawOptions = RawDropsOptions & Pick<RawTraceOptions, 'netns' | 'ifname' | 'proto' | 'ipaddr' | 'port'>;

/** Keys per CPU-summed table (each a reason x location x namespace x device x protocol [x stack]). */
const TABLE_SIZE = 16384;
const STACKS = 16384;
const RING_BYTES = 256 << 10;
/** Samples: bursts of 4 per key and CPU, then one every 250 ms. */
const SAMPLE_PERIOD_NS = 250_000_000;
const SAMPLE_BURST = 4;

/** -i names an interface of some namespace we can see (this one, the named ones, the processes'). */
function checkInterface(ifname: string): void {
  for (const ns of listNamespaces({ processes: true })) {
    try {
      if (readLinks(ns).some((l) => l.name === ifname)) return;
    } catch {
      /* gone, or not ours to enter */
    }
  }
  throw new UsageError(`invalid --ifname "${ifname}": no such interface in any network namespace here`);
}

interface Filter {
  readonly trace: TraceOptions;
  readonly fields: object;
  readonly expression?: CompiledFilter;
  readonly filtered: boolean;
}

/** The flags and the pcap-filter expression (compiled for drops' own object: exit 2 before anything loads). */
function filterOf(raw: RawOptions, words: readonly string[]): Filter {
  const trace = parseTraceOptions({ netns: raw.netns, ifname: raw.ifname, proto: raw.proto, ipaddr: raw.ipaddr, port: raw.port });
  const text = expressionOf(words);
  const expression = text === null ? undefined : compileExpression(text, DROPS_OBJECT);
  const inode = trace.netns !== null ? resolveNetns(trace.netns) : 0;
  const c = configValues(trace, inode);
  const fields = { addr: c.addr, addr_family: c.addr_family, l4proto: c.l4proto, port: c.port, netns: c.netns, has_ifname: c.has_ifname, ifname: c.ifname };
  const flags = trace.netns !== null || trace.ifname !== null || trace.proto !== 'any' || trace.addr !== null || trace.port !== null;
  return { trace, fields, filtered: flags || expression !== undefined, ...(expression ? { expression } : {}) };
}

function sessionOptions(opts: DropsOptions, trace: TraceOptions, filtered: boolean): SessionOptions {
  const fixed = trace.netns !== null ? [namespaceFor(trace.netns)] : undefined;
  const tty = process.stdout.isTTY === true;
  return {
    opts,
    filtered,
    namespaces: () => fixed ?? namespacesToRead(undefined),
    fixedNetns: fixed !== undefined,
    catalog: counterCatalog(),
    out: process.stdout,
    err: process.stderr,
    screen: () => (tty ? { columns: process.stdout.columns ?? 120, rows: process.stdout.rows ?? 40 } : null),
  };
}

async function dropsAction(words: readonly string[], raw: RawOptions): Promise<number> {
  const opts = parseDropsOptions(raw);
  const { trace, fields, filtered, expression } = filterOf(raw, words);
  if (trace.ifname !== null) checkInterface(trace.ifname);
  requirePrivileges();
  const so = sessionOptions(opts, trace, filtered);
  let session: DropsSession | undefined;
  let exporter: Exporter | undefined;
  if (opts.listen) exporter = await startExporter(opts.listen, () => session?.families() ?? []);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // the reader went away (EPIPE, `| head`): stop as on a signal, what is left unwritten is dropped
  process.stdout.on('error', onSignal);
  const probe = (() => {
    try {
      const stacks = opts.stack ? STACKS : 0;
      return loadDrops({ filter: fields, tableSize: TABLE_SIZE, ringBytes: RING_BYTES, samplePeriodNs: SAMPLE_PERIOD_NS, sampleBurst: SAMPLE_BURST, stacks, ...(expression ? { expression } : {}) });
    } catch (err) {
      void exporter?.close();
      throw err;
    }
  })();
  try {
    session = new DropsSession(probe, so);
    const where = exporter ? `; serving http://${exporter.address}/metrics` : '';
    process.stderr.write(`pktpath: counting drops on kfree_skb (${probe.flavour}) every ${opts.intervalMs} ms${where}; ready\n`);
    await runSession(session, so, stop.signal, exporter !== undefined && !opts.json && !process.stdout.isTTY);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    session?.close();
    if (!stop.signal.aborted) process.stdout.off('error', onSignal);
    probe.close();
    await exporter?.close();
  }
  return 0;
}

/** Registers `pktpath drops`; the action's exit code goes to result.code. */
export function addDropsCommand(program: Command, result: { code: number }): void {
  program
    .command('drops')
    .description('every drop on the host, counted in the kernel: reason x location x netns x device x protocol, with the counters that moved')
    .option('--interval <time>', 'time between refreshes, e.g. 500ms, 1s, 2m', '1s')
    .option('--duration <time>', 'stop after this long, then print the summary')
    .option('-c, --count <n>', 'stop after n refreshes, then print the summary')
    .option('--json', 'one JSON object per refresh (schema in the README)')
    .option('--all', 'also NOT_SPECIFIED and the benign frees hidden by default')
    .option('--stack', 'top kernel stacks of each row')
    .option('--listen <addr:port>', 'serve Prometheus metrics on http://ADDR:PORT/metrics until SIGTERM')
    .option('--top <n>', 'with --listen: rows with series of their own (the rest: location="other")')
    .option('-N, --netns <netns>', 'only drops in this namespace: inode, name under /run/netns, or path')
    .option('-i, --ifname <name>', 'only drops of packets on this interface')
    .option('--proto <proto>', 'tcp|udp|icmp|any')
    .option('-H, --ipaddr <addr>', 'IPv4 or IPv6 address, either side')
    .option('-P, --port <port>', 'TCP or UDP port, either side')
    .addArgument(expressionArgument())
    .action(async (words: string[], raw: RawOptions) => {
      result.code = await dropsAction(words, raw);
    });
}
