/**
 * Runs INSIDE a guest kernel (scripts/vm/guest.sh) for test/guest/paths.test.ts: the
 * closed-port and OUTPUT DROP cases with a function backend and --iptable, recorded to a
 * JSON file the host side asserts on.
 *
 *   node dist/test/guest/path-scenarios.js BACKEND OUT.json
 *
 * An iptables-legacy table sits in the server (a rule that never matches), so ip_tables is
 * loaded and its verdicts are part of the path. Traces run side by side, started together:
 *
 *   json    --json --iptable --callstack -H <server>: the closed-port connect, then an
 *           iptables OUTPUT DROP in the client
 *   text    --iptable -H <server> -P <closed port>: the default text view of the
 *           closed-port connect alone
 *   module  (fentry only) --json --func '^(ipt_do_table|ip_rcv)$': a module function
 *           traced with fentry
 *
 * The runner only drives traffic and records; it checks nothing.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { kernelRelease } from '../../src/kernel/io/kernel.js';
import { createTopology, haveCommand, spawnTrace } from '../helpers/netns.js';
import type { TraceEvent, TraceResult, TraceRun } from '../helpers/netns.js';
import { CLOSED_PORT, DROP_PORT } from './constants.js';

export interface PathResults {
  backend: string;
  kernel: string;
  client: { ns: string; inode: number; v4: string };
  server: { ns: string; inode: number; v4: string };
  /** iptables-legacy rules were in place in the server (the guest has iptables-legacy) */
  legacy: boolean;
  runs: Record<'json' | 'text' | 'module', { args: string[]; readyMs: number; result: TraceResult } | undefined>;
  notes: string[];
}

const READY_MS = 300_000;
const STOP_MS = 180_000;

async function start(args: string[], json: boolean): Promise<{ run: TraceRun; args: string[]; readyMs: number }> {
  const t0 = Date.now();
  const run = await spawnTrace(args, { readyTimeoutMs: READY_MS, json });
  return { run, args, readyMs: Date.now() - t0 };
}

const isDrop = (reason: string) => (ev: TraceEvent): boolean => ev.probe === 'kfree_skb' && ev.drop_reason === reason;

async function main(): Promise<void> {
  const [backend, out] = process.argv.slice(2);
  if (!backend || !out) throw new Error('usage: path-scenarios.js BACKEND OUT.json');
  const topo = createTopology({ tag: 'gpath' });
  const srv = topo.server.v4;
  const res: PathResults = {
    backend,
    kernel: kernelRelease(),
    client: { ns: topo.client.ns, inode: topo.client.inode, v4: topo.client.v4 },
    server: { ns: topo.server.ns, inode: topo.server.inode, v4: srv },
    legacy: haveCommand('iptables-legacy'),
    runs: { json: undefined, text: undefined, module: undefined },
    notes: [],
  };
  try {
    if (res.legacy) {
      // the guest loads modules on demand, but iptables-legacy asks for its table before that
      execFileSync('modprobe', ['iptable_filter'], { stdio: 'ignore', timeout: 60_000 });
      await topo.exec(topo.server, ['iptables-legacy', '-A', 'INPUT', '-s', '10.199.250.250', '-j', 'DROP']);
    }
    const base = ['--backend', backend, '-H', srv, '--iptable'];
    const [json, text, module] = await Promise.all([
      start([...base, '--callstack'], true),
      start([...base, '-P', String(CLOSED_PORT)], false),
      backend === 'fentry' ? start(['--backend', 'fentry', '-H', srv, '--func', '^(ipt_do_table|ip_rcv)$'], true) : undefined,
    ]);
    // the closed port: a SYN answered by a reset
    const closed = await topo.connect(topo.client, srv, CLOSED_PORT, 5000);
    res.notes.push(`closed port: ${closed.outcome}`);
    await json.run.waitFor(isDrop('NO_SOCKET'), 20_000);
    await new Promise((r) => setTimeout(r, 1500)); // the text run's last lines (nft trace comes late)
    res.runs.text = { args: text.args, readyMs: text.readyMs, result: await text.run.stop(STOP_MS) };
    if (module) res.runs.module = { args: module.args, readyMs: module.readyMs, result: await module.run.stop(STOP_MS) };
    // an OUTPUT DROP in the client (iptables: nft or legacy, whatever the guest's iptables is)
    await topo.exec(topo.client, ['iptables', '-I', 'OUTPUT', '-d', srv, '-p', 'tcp', '--dport', String(DROP_PORT), '-j', 'DROP']);
    const dropped = await topo.connect(topo.client, srv, DROP_PORT, 700);
    res.notes.push(`output drop: ${dropped.outcome}`);
    await json.run.waitFor(isDrop('NETFILTER_DROP'), 20_000);
    await json.run.waitFor((ev) => (ev.nf as { verdict?: string } | undefined)?.verdict === 'DROP', 10_000);
    res.runs.json = { args: json.args, readyMs: json.readyMs, result: await json.run.stop(STOP_MS) };
  } finally {
    await topo.destroy();
    writeFileSync(out, JSON.stringify(res));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`path-scenarios: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
