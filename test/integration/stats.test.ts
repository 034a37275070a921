/**
 * Integration tests of `pktpath stats`, in two namespaces joined by a veth pair
 * (test/helpers/netns.ts), against the kernel's own tools run inside the namespace:
 *
 *   (1) real traffic makes drops in the server namespace: UDP to a closed port (IPv4 and
 *       IPv6: UdpNoPorts, Udp6NoPorts, ICMP unreachable sent), TCP to a closed port
 *       (TcpOutRsts), pings from a source the server has no route back to with rp_filter
 *       on (TcpExtIPReversePathFilter). Every counter pktpath reads lies between two
 *       `nstat -asz` runs bracketing it, and the traffic's counters moved by the same
 *       delta as nstat's, the expected one
 *   (2) link statistics lie between two reads of /sys/class/net/<veth>/statistics made
 *       inside the namespace, driver statistics between two `ethtool -S`
 *   (3) the CLI: --json reports whose UdpNoPorts deltas add up to the datagrams sent
 *       after it was ready, with the meaning and the drop reason, and the total on
 *       SIGTERM; --duration's number of intervals; the text rows, and the total on Ctrl-C
 *   (4) bad input: bad interval, unknown namespace (exit 2), not root with -N (exit 3)
 *
 * Needs root, nstat, ethtool, python3 and setpriv; otherwise skipped with the reason.
 */
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PKTPATH_BIN, REPO_ROOT, UNUSED_V4, execSyncIn, ipSync, requireRoot, runCli, withTopology } from '../helpers/netns.js';
import type { Topology } from '../helpers/netns.js';
import { runProc } from '../helpers/traffic.js';
import { namespaceCounters } from '../../src/stats/io/read.js';
import type { Counter } from '../../src/stats/snapshot.js';

const TEST_TIMEOUT = 60_000;
const NEEDS = { btf: false, bpfObject: false, commands: ['nstat', 'ethtool', 'python3', 'setpriv'] };

function nstat(ns: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of execSyncIn(ns, ['nstat', '-asz']).split('\n')) {
    const m = /^(\S+)\s+(\d+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

function ours(ns: string, group: Counter['group'], device?: string): Map<string, number> {
  const counters = namespaceCounters({ inode: 0, name: ns, path: `/run/netns/${ns}` });
  return new Map(counters.filter((c) => c.group === group && c.device === device).map((c) => [c.name, c.value]));
}

interface Bracket {
  before: Map<string, number>;
  ours: Map<string, number>;
  after: Map<string, number>;
}

/** reference, ours, reference again: counters only grow, so ours must lie between. */
function bracket(ref: () => Map<string, number>, read: () => Map<string, number>): Bracket {
  const before = ref();
  const mine = read();
  return { before, ours: mine, after: ref() };
}

function assertBetween(b: Bracket, what: string): void {
  assert.ok(b.before.size > 0, `${what}: the reference printed nothing`);
  assert.deepEqual([...b.ours.keys()].filter((k) => b.before.has(k)).length, b.before.size, `${what}: every reference counter is read`);
  for (const [name, ref] of b.before) {
    const v = b.ours.get(name)!;
    assert.ok(ref <= v && v <= b.after.get(name)!, `${what} ${name}: ${ref} <= ${v} <= ${b.after.get(name)} does not hold`);
  }
}

/** Sends `n` UDP datagrams from namespace `ns` to addr:port, 20 ms apart. */
async function udpTo(ns: string, addr: string, port: number, n: number): Promise<void> {
  const fam = addr.includes(':') ? 'AF_INET6' : 'AF_INET';
  const code = `import socket, time\ns = socket.socket(socket.${fam}, socket.SOCK_DGRAM)\nfor i in range(${n}):\n    s.sendto(b'x', ('${addr}', ${port})); time.sleep(0.02)`;
  const r = await runProc('ip', ['netns', 'exec', ns, 'python3', '-c', code], 10_000);
  assert.equal(r.code, 0, r.stderr);
}

/** rp_filter on in the server; the client gets a source the server has no route back to (and knows the server's MAC). */
function setUpRpFilter(topo: Topology): void {
  execSyncIn(topo.server.ns, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1', `net.ipv4.conf.${topo.server.ifname}.rp_filter=1`]);
  ipSync(['-n', topo.client.ns, 'addr', 'add', `${UNUSED_V4}/32`, 'dev', 'lo']);
  ipSync(['-n', topo.client.ns, 'neigh', 'replace', topo.server.v4, 'lladdr', topo.server.mac, 'dev', topo.client.ifname, 'nud', 'permanent']);
}

async function makeDrops(topo: Topology): Promise<void> {
  await udpTo(topo.client.ns, topo.server.v4, 9, 5);
  await udpTo(topo.client.ns, topo.server.v6, 9, 3);
  for (let i = 0; i < 2; i++) assert.equal((await topo.connect(topo.client, topo.server.v4, 10)).outcome, 'refused');
  await runProc('ip', ['netns', 'exec', topo.client.ns, 'ping', '-c', '3', '-i', '0.2', '-W', '1', '-I', UNUSED_V4, topo.server.v4], 10_000);
  await new Promise((r) => setTimeout(r, 200));
}

const EXPECTED: [string, number | null][] = [
  ['UdpNoPorts', 5],
  ['Udp6NoPorts', 3],
  ['TcpOutRsts', 2],
  ['TcpExtIPReversePathFilter', 3],
  ['IcmpOutDestUnreachs', null],
  ['Icmp6OutDestUnreachs', null],
  ['TcpInSegs', null],
];

function requireMe(t: TestContext): boolean {
  return requireRoot(t, NEEDS);
}

describe('pktpath stats', { timeout: TEST_TIMEOUT }, () => {
  test('the namespace\'s own counters: between two nstat runs, and the traffic\'s drops move by nstat\'s deltas', async (t) => {
    if (!requireMe(t)) return;
    await withTopology(
      async (topo) => {
        const ns = topo.server.ns;
        setUpRpFilter(topo);
        const first = bracket(() => nstat(ns), () => ours(ns, 'snmp'));
        await makeDrops(topo);
        const second = bracket(() => nstat(ns), () => ours(ns, 'snmp'));
        assertBetween(first, 'before');
        assertBetween(second, 'after');
        for (const [name, want] of EXPECTED) {
          const quiet = first.before.get(name) === first.after.get(name) && second.before.get(name) === second.after.get(name);
          assert.ok(quiet, `${name} moved while it was being read`);
          const theirs = second.before.get(name)! - first.before.get(name)!;
          const mine = second.ours.get(name)! - first.ours.get(name)!;
          assert.equal(mine, theirs, `${name}: pktpath delta ${mine}, nstat delta ${theirs}`);
          if (want !== null) assert.equal(mine, want, name);
          else assert.ok(mine > 0, `${name} did not move`);
        }
        const client = ours(topo.client.ns, 'snmp');
        assert.equal(client.get('UdpNoPorts'), 0, 'the client namespace has its own counters');
      },
      { tag: 'stats' },
    );
  });

  test('link statistics lie between two sysfs reads inside the namespace, driver statistics between two ethtool -S', async (t) => {
    if (!requireMe(t)) return;
    await withTopology(
      async (topo) => {
        await udpTo(topo.client.ns, topo.server.v4, 9, 3);
        const { ns, ifname } = topo.server;
        const sysfs = (): Map<string, number> =>
          new Map(
            execSyncIn(ns, ['sh', '-c', `cd /sys/class/net/${ifname}/statistics && grep . *`])
              .trim()
              .split('\n')
              .map((l) => l.split(':'))
              .map(([k, v]) => [k!, Number(v)]),
          );
        const link = bracket(sysfs, () => ours(ns, 'link', ifname));
        assertBetween(link, 'sysfs');
        assert.ok(link.ours.get('rx_packets')! >= 3);
        const ethtool = (): Map<string, number> =>
          new Map(
            execSyncIn(ns, ['ethtool', '-S', ifname])
              .split('\n')
              .slice(1)
              .filter((l) => l.includes(':'))
              .map((l) => l.trim().split(/:\s*/))
              .map(([k, v]) => [k!, Number(v)]),
          );
        const drv = bracket(ethtool, () => ours(ns, 'ethtool', ifname));
        assertBetween(drv, 'ethtool -S');
        assert.equal(drv.ours.get('peer_ifindex'), topo.client.ifindex);
      },
      { tag: 'stats' },
    );
  });

  test('the CLI: JSON reports whose UdpNoPorts deltas add up to what was sent, with the meaning; SIGTERM prints the total', async (t) => {
    if (!requireMe(t)) return;
    await withTopology(
      async (topo) => {
        const run = spawnStats(['-N', topo.server.ns, '--json', '--interval', '300ms']);
        await run.ready;
        await udpTo(topo.client.ns, topo.server.v4, 9, 4);
        const seen = (): number => jsonReports(run.stdout()).flatMap(noPorts).reduce((s, c) => s + c.delta, 0);
        await until(() => seen() >= 4, 10_000);
        run.kill('SIGTERM');
        const { code, stdout, stderr } = await run.done;
        assert.equal(code, 0, stderr);
        const reports = jsonReports(stdout);
        assert.deepEqual(reports.map((r) => r.type).slice(-1), ['total']);
        assert.equal(reports.slice(0, -1).flatMap(noPorts).reduce((s, c) => s + c.delta, 0), 4);
        const total = noPorts(reports.at(-1)!)[0]!;
        assert.deepEqual([total.delta, total.netns_label, total.level, total.reasons.includes('NO_SOCKET')], [4, topo.server.ns, 'drop', true]);
        assert.match(total.meaning ?? '', /nobody listens/);
      },
      { tag: 'stats' },
    );
  });

  test('the CLI: --duration gives that many intervals and the total; text rows with the meaning after Ctrl-C', async (t) => {
    if (!requireMe(t)) return;
    await withTopology(
      async (topo) => {
        const timed = await runCli(['stats', '-N', topo.server.ns, '--json', '--interval', '200ms', '--duration', '600ms']);
        assert.equal(timed.code, 0, timed.stderr);
        assert.deepEqual(jsonReports(timed.stdout).map((r) => r.type), ['interval', 'interval', 'interval', 'total']);
        const text = spawnStats(['-N', topo.server.ns, '--interval', '300ms']);
        await text.ready;
        await udpTo(topo.client.ns, topo.server.v4, 9, 2);
        await until(() => /UdpNoPorts/.test(text.stdout()), 10_000);
        text.kill('SIGINT');
        const out = await text.done;
        assert.equal(out.code, 0, out.stderr);
        const total = out.stdout.slice(out.stdout.lastIndexOf('total since the start'));
        assert.match(total, /^total since the start: [\d.]+ s, \d+ counters?$/m);
        assert.match(total, new RegExp(`^${topo.server.ns}\\s+snmp\\s+-\\s+UdpNoPorts\\s+2\\s+[\\d.]+\\s+drop\\s+UDP datagrams to a port nobody listens on`, 'm'));
      },
      { tag: 'stats' },
    );
  });

  test('bad input: one line, exit 2; another namespace without root: exit 3', async (t) => {
    if (!requireMe(t)) return;
    const table: [string[], number, RegExp][] = [
      [['stats', '--interval', 'fast'], 2, /^pktpath: invalid --interval "fast"/],
      [['stats', '--interval', '0s'], 2, /^pktpath: invalid --interval "0s"/],
      [['stats', '-c', '0'], 2, /^pktpath: invalid --count "0"/],
      [['stats', '-c', '2', '--duration', '2s'], 2, /exclusive/],
      [['stats', '-N', 'pp-no-such-ns'], 2, /^pktpath: unknown network namespace "pp-no-such-ns"/],
    ];
    for (const [args, code, msg] of table) {
      const r = await runCli(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), msg);
    }
    await withTopology(
      async (topo) => {
        const r = await runProc('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', PKTPATH_BIN, 'stats', '-N', topo.server.ns, '-c', '1']);
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr.trim(), /^pktpath: reading network namespace "[^"]+" needs root/);
      },
      { tag: 'stats' },
    );
  });
});

interface JsonReport {
  type: string;
  counters: { name: string; delta: number; netns_label: string; level: string; meaning?: string; reasons: string[] }[];
}

function jsonReports(stdout: string): JsonReport[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as JsonReport);
}

const noPorts = (r: JsonReport): JsonReport['counters'] => r.counters.filter((c) => c.name === 'UdpNoPorts');

/** Resolves once `pred` holds (checked every 50 ms); rejects after timeoutMs. */
async function until(pred: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface StatsRun {
  ready: Promise<void>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stdout(): string;
  kill(sig: NodeJS.Signals): void;
}

/** `pktpath stats ...`: ready once its first snapshot is taken, done when it exits (killed after 30 s). */
function spawnStats(args: string[]): StatsRun {
  const child = spawn(PKTPATH_BIN, ['stats', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  let stdout = '';
  let stderr = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/ready/.test(stderr)) resolve();
    });
    child.on('exit', () => reject(new Error(`pktpath stats exited before it was ready: ${stderr}`)));
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { ready, done, stdout: () => stdout, kill: (sig) => child.kill(sig) };
}
