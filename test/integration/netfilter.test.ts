/**
 * Integration tests of `pktpath trace --iptable` (netfilter table/chain/verdict/rule per
 * packet, from nftables tracing) and `--route` (route lookups), against real rules in
 * real namespaces, asserted on --json.
 *
 * Every netfilter scenario runs three times: with iptables-nft rules (Debian's
 * `iptables`), whose tables are nftables tables named filter/nat/raw; with native
 * nftables rules in a table of our own (`inet usertbl`); and with iptables-legacy rules
 * (x_tables, which nft trace cannot see: BPF netfilter observers and rule counters give
 * their path, docs/netfilter.md). The nft variants' rules carry `# handle N`, the legacy
 * ones are in iptables-save form (`-A OUTPUT ... -j DROP`).
 *
 *   (1) OUTPUT DROP of a SYN in the client namespace
 *   (2) INPUT DROP of TCP resets in the namespace that receives them
 *   (3) FORWARD REJECT (icmp admin-prohibited) in a router between two namespaces
 *   (4) DNAT in nat OUTPUT: the nat step, and the translated SYN on the wire
 *   (5) reverse-path filtering: sysctl rp_filter (kernel drop, failed reverse lookup),
 *       and the same check as an iptables-nft rpfilter / nftables fib rule
 *   (6) cleanup after SIGINT, SIGTERM and SIGKILL + restart: no pktpath_* table left,
 *       the user's rules unchanged
 *   (7) two runs at once: each prints only the paths of packets its own filter matched
 *   (8) --route: route.type follows the route found: "local" for local delivery, not for a
 *       remote address
 *   (9) namespaces created and iptables-legacy rules loaded after the trace started
 *  (10) Ctrl-C as a terminal sends it (SIGINT to the process group) right after a burst of
 *       nft and iptables-legacy drops: every DROP step printed, as many as the rules counted
 *
 * Namespaces are pp-nf<tag>-<pid>-<n>-cli|srv|rtr. All addresses are in 10.199.X.0/24
 * with X in 200..209, taken with allocateSubnet of test/helpers/netns.ts (its lock files), so
 * no other test file uses them at the same time. Traffic only goes to namespaces made here.
 *
 * Needs root, a kernel with BTF, a built CLI, nft and iptables; otherwise skipped with
 * the reason.
 */
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RECEIVE_PROBES,
  TRANSMIT_PROBES,
  allocateSubnet,
  deleteNetnsSync,
  describeEvents,
  exec,
  ipSync,
  netnsInode,
  PKTPATH_BIN,
  reclaimStaleNetns,
  recordNamespaces,
  releaseSubnet,
  requireRoot,
  spawnTrace,
  tcpConnect,
  tcpFlags,
  tcpListen,
  UNUSED_V4,
  vethPair,
} from '../helpers/netns.js';
import type { SpawnTraceOptions, TcpListener, TraceEvent, TraceResult, TraceRun, VethEnd } from '../helpers/netns.js';
import { assertCleanRun, isInt, TRACEPOINT_PROBES } from '../helpers/events.js';
import { netfilterLinks } from '../helpers/bpf.js';

// ------------------------------------------------------------------ constants

/** Let late events arrive before stopping: nft trace delivers an ACCEPT path ~200 ms after its last line. */
const SETTLE_MS = 600;
/** How long to wait for an expected event. */
const EXPECT_MS = 5000;
const TEST_TIMEOUT = 60_000;
/** What every netfilter test needs besides root/BTF/CLI. */
const NEEDS = { commands: ['nft', 'iptables', 'iptables-legacy'] };

/** Why the iptables-legacy path cannot be traced on this kernel (BPF netfilter programs, 6.4+), or null. */
function legacyPathMissing(): string | null {
  try {
    return readFileSync('/sys/kernel/btf/vmlinux').includes('bpf_nf_ctx') ? null : 'the kernel has no BPF netfilter programs (6.4+): no iptables-legacy path';
  } catch {
    return 'no kernel BTF';
  }
}

/** requireRoot, and for the legacy variant a kernel that can show its path. */
function ready(t: TestContext, v: Variant, needs: { commands: readonly string[] } = NEEDS): boolean {
  if (!requireRoot(t, { commands: [...needs.commands] })) return false;
  const why = v === 'legacy' ? legacyPathMissing() : null;
  if (why) {
    t.diagnostic(`skipped: ${why}`);
    t.skip(why);
    return false;
  }
  return true;
}

const PROBES: ReadonlySet<string> = new Set([...TRACEPOINT_PROBES, 'netfilter']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A port in 40000..49999, different on every call in this process. */
const usedPorts = new Set<number>();
function freshPort(): number {
  for (;;) {
    const p = 40000 + Math.floor(Math.random() * 10000);
    if (!usedPorts.has(p)) {
      usedPorts.add(p);
      return p;
    }
  }
}

// ------------------------------------------------------------------ namespaces of our own

/** This file's subnets (test/helpers/netns.ts lock protocol): 10.199.200.0/24 .. 10.199.209.0/24. */
const SUBNETS = { min: 200, max: 209 };
/** Namespaces this file makes. */
const OUR_NS = /^pp-nf[a-z0-9]*-(\d+)-\d+-(?:cli|srv|rtr)$/;

/** Namespaces of ours that a killed run of this file left behind. */
let reclaimed = false;
function reclaimOurStale(): void {
  if (reclaimed) return;
  reclaimed = true;
  reclaimStaleNetns(OUR_NS);
}

/** One end of a veth pair. */
type End = VethEnd;

const liveLabs = new Set<Lab>();
process.on('exit', () => {
  for (const lab of [...liveLabs]) lab.destroySync();
});

let labCounter = 0;

/** Namespaces, veth pairs and subnets of one test; everything goes in destroySync(). */
class Lab {
  readonly namespaces: string[] = [];
  readonly subnets: number[] = [];
  readonly listeners: TcpListener[] = [];
  private readonly base: string;
  private destroyed = false;

  constructor(tag: string) {
    reclaimOurStale();
    this.base = `pp-nf${tag.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8)}-${process.pid}-${++labCounter}`;
    liveLabs.add(this);
  }

  private writeLocks(): void {
    for (const x of this.subnets) recordNamespaces(x, this.namespaces);
  }

  subnet(): number {
    const x = allocateSubnet(SUBNETS);
    this.subnets.push(x);
    this.writeLocks();
    return x;
  }

  netns(role: 'cli' | 'srv' | 'rtr'): string {
    const name = `${this.base}-${role}`;
    ipSync(['netns', 'add', name]);
    this.namespaces.push(name);
    this.writeLocks();
    ipSync(['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** veth pair nsA/ifA (addrA/24) <-> nsB/ifB (addrB/24), both up. */
  veth(nsA: string, ifA: string, addrA: string, nsB: string, ifB: string, addrB: string): [End, End] {
    return vethPair(nsA, ifA, addrA, nsB, ifB, addrB);
  }

  async listen(end: End, port: number): Promise<TcpListener> {
    const l = await tcpListen(end.ns, end.v4, port, 30_000);
    this.listeners.push(l);
    return l;
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveLabs.delete(this);
    const errors: string[] = [];
    for (const ns of [...this.namespaces].reverse()) {
      try {
        deleteNetnsSync(ns);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    for (const x of this.subnets) releaseSubnet(x);
    if (errors.length) throw new Error(`lab ${this.base}: cleanup failed: ${errors.join('; ')}`);
  }

  async destroy(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.close().catch(() => undefined)));
    this.destroySync();
  }
}

/** Two namespaces: cli 10.199.X.1/24 <== veth ==> srv 10.199.X.2/24. */
interface Pair {
  lab: Lab;
  x: number;
  cli: End;
  srv: End;
}

/** client 10.199.X.1 - 10.199.X.254 router 10.199.Z.254 - 10.199.Z.2 server, forwarding on. */
interface Routed {
  lab: Lab;
  cli: End;
  rtrC: End;
  rtrS: End;
  srv: End;
}

function makePair(lab: Lab): Pair {
  const x = lab.subnet();
  const nsC = lab.netns('cli');
  const nsS = lab.netns('srv');
  const [cli, srv] = lab.veth(nsC, `pn${x}c`, `10.199.${x}.1`, nsS, `pn${x}s`, `10.199.${x}.2`);
  return { lab, x, cli, srv };
}

function makeRouted(lab: Lab): Routed {
  const x = lab.subnet();
  const z = lab.subnet();
  const nsC = lab.netns('cli');
  const nsR = lab.netns('rtr');
  const nsS = lab.netns('srv');
  const [cli, rtrC] = lab.veth(nsC, `pn${x}c`, `10.199.${x}.1`, nsR, `pn${x}r`, `10.199.${x}.254`);
  const [srv, rtrS] = lab.veth(nsS, `pn${z}s`, `10.199.${z}.2`, nsR, `pn${z}r`, `10.199.${z}.254`);
  ipSync(['-n', nsC, 'route', 'add', `10.199.${z}.0/24`, 'via', rtrC.v4]);
  ipSync(['-n', nsS, 'route', 'add', `10.199.${x}.0/24`, 'via', rtrS.v4]);
  execFileSync('ip', ['netns', 'exec', nsR, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward'], { stdio: 'ignore', timeout: 10_000 });
  return { lab, cli, rtrC, rtrS, srv };
}

async function withLab<T, R>(tag: string, build: (lab: Lab) => T, fn: (net: T) => Promise<R>): Promise<R> {
  const lab = new Lab(tag);
  try {
    return await fn(build(lab));
  } finally {
    await lab.destroy();
  }
}

// ------------------------------------------------------------------ rules

type Variant = 'iptables' | 'nft' | 'legacy';
const VARIANTS: readonly { v: Variant; label: string }[] = [
  { v: 'iptables', label: 'iptables-nft' },
  { v: 'nft', label: 'nftables' },
  { v: 'legacy', label: 'iptables-legacy' },
];
/** The iptables command of a variant. */
const ipt = (v: Variant): string => (v === 'legacy' ? 'iptables-legacy' : 'iptables');
/** withLab tag letter of a variant. */
const tag = (v: Variant): string => ({ iptables: 'i', nft: 'n', legacy: 'l' })[v];

/** Our native nftables table. */
const USER_TABLE = 'usertbl';

/** Load an nft script (nft -f) into a namespace. */
async function nftApply(ns: string, script: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pp-nf-'));
  try {
    const file = join(dir, 'rules.nft');
    writeFileSync(file, script);
    await exec(ns, ['nft', '-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A base chain in our own table, with one or more rules. */
function userChain(chain: string, spec: string, rules: readonly string[], family = 'inet'): string {
  return [`table ${family} ${USER_TABLE} {`, `  chain ${chain} {`, `    ${spec}; policy accept;`, ...rules.map((r) => `    ${r}`), '  }', '}', ''].join('\n');
}

// ------------------------------------------------------------------ events

interface NfInfo {
  pf: number;
  table: string;
  chain: string;
  hook: string;
  verdict: string;
  rule: string;
}

interface RouteInfo {
  table: number;
  type: string;
  oif: string;
  gw: string;
  err: number;
}

const nfOf = (ev: TraceEvent): NfInfo | null => (ev.probe === 'netfilter' && ev.nf && typeof ev.nf === 'object' ? (ev.nf as NfInfo) : null);
const routeOf = (ev: TraceEvent): RouteInfo | null =>
  ev.probe === 'fib_table_lookup' && ev.route && typeof ev.route === 'object' ? (ev.route as RouteInfo) : null;

function dumpOf(res: TraceResult): string {
  return `\nevents:\n${describeEvents(res.events, 60)}\nstderr:\n${res.stderr}`;
}

/** Run `body` with traces attached (started together); always stop them, after a settle pause. */
async function tracedMany(
  argsList: readonly string[][],
  body: (traces: TraceRun[]) => Promise<void>,
  opts: readonly SpawnTraceOptions[] = [],
): Promise<TraceResult[]> {
  const started = await Promise.allSettled(argsList.map((a, i) => spawnTrace(a, opts[i] ?? {})));
  const traces = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  let failure: unknown = null;
  const bad = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (bad) failure = bad.reason;
  else {
    try {
      await body(traces);
      await sleep(SETTLE_MS);
    } catch (err) {
      failure = err;
    }
  }
  const results = await Promise.all(traces.map((t) => t.stop()));
  if (failure !== null) throw failure;
  return results;
}

async function traced(args: string[], body: (trace: TraceRun) => Promise<void>): Promise<TraceResult> {
  const [res] = await tracedMany([args], async ([trace]) => body(trace!));
  return res!;
}

const isSyn = (ev: TraceEvent): boolean => ev.tuple?.proto === 'tcp' && tcpFlags(ev).join(',') === 'SYN';
const nfWhere = (evs: readonly TraceEvent[], inode: number): TraceEvent[] => evs.filter((ev) => ev.probe === 'netfilter' && ev.netns === inode);

/** Checks shared by every nf step we expect. */
function assertNfStep(
  ev: TraceEvent | undefined,
  want: { table: string; chain: string; hook: string; verdict: string; rule: RegExp[]; v: Variant },
  dump: string,
): NfInfo {
  assert.ok(ev, `no netfilter event for ${want.table}/${want.chain} (${want.hook}, ${want.verdict})${dump}`);
  const nf = nfOf(ev);
  assert.ok(nf, `netfilter event without nf: ${JSON.stringify(ev)}`);
  assert.equal(nf.pf, 2, `pf should be NFPROTO_IPV4 (2): ${JSON.stringify(nf)}`);
  assert.equal(nf.table, want.table, `nf.table: ${JSON.stringify(nf)}`);
  assert.equal(nf.chain, want.chain, `nf.chain: ${JSON.stringify(nf)}`);
  assert.equal(nf.hook, want.hook, `nf.hook: ${JSON.stringify(nf)}`);
  assert.equal(nf.verdict, want.verdict, `nf.verdict: ${JSON.stringify(nf)}`);
  for (const re of want.rule) assert.match(nf.rule, re, `nf.rule should match ${re}: ${JSON.stringify(nf)}`);
  if (want.v === 'legacy') assert.match(nf.rule, /^-A [A-Z]+ /, `a legacy rule is in iptables-save form: ${JSON.stringify(nf)}`);
  else assert.match(nf.rule, /# handle \d+/, `nf.rule should carry the rule handle: ${JSON.stringify(nf)}`);
  return nf;
}

// ------------------------------------------------------------------ (1) OUTPUT DROP

async function outputDrop(t: TestContext, v: Variant): Promise<void> {
  if (!ready(t, v)) return;
  await withLab(`out${tag(v)}`, makePair, async ({ cli, srv }) => {
    const port = freshPort();
    let want: { table: string; chain: string };
    if (v !== 'nft') {
      await exec(cli.ns, [ipt(v), '-A', 'OUTPUT', '-d', srv.v4, '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
      // Mytracer's investigation 2: raw, mangle and nat tables before filter (listing creates them)
      if (v === 'legacy') {
        for (const table of ['raw', 'mangle']) await exec(cli.ns, [ipt(v), '-t', table, '-L', '-n']);
        // a NAT rule (for nobody here) turns conntrack on, so the nat table is consulted
        await exec(cli.ns, [ipt(v), '-t', 'nat', '-A', 'OUTPUT', '-d', UNUSED_V4, '-p', 'udp', '-j', 'DNAT', '--to-destination', UNUSED_V4]);
      }
      want = { table: 'filter', chain: 'OUTPUT' };
    } else {
      await nftApply(cli.ns, userChain('userout', 'type filter hook output priority 0', [`ip daddr ${srv.v4} tcp dport ${port} drop`]));
      want = { table: USER_TABLE, chain: 'userout' };
    }
    // The same filter twice at once: --json, and the text form.
    const args = ['--iptable', '-H', srv.v4, '-P', String(port), '--proto', 'tcp', ...(v === 'legacy' ? ['--verbose'] : [])];
    const [res, text] = await tracedMany(
      [args, args],
      async ([trace]) => {
        const conn = await tcpConnect(cli.ns, srv.v4, port, 1200);
        assert.equal(conn.outcome, 'timeout', `a connect through a DROP rule should time out (${conn.outcome} ${conn.detail})`);
        await trace!.waitFor((ev) => ev.probe === 'netfilter' && ev.netns === cli.inode, EXPECT_MS);
        await trace!.waitFor((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NETFILTER_DROP', EXPECT_MS);
      },
      [{}, { json: false }],
    );
    assert.ok(res && text);
    assertCleanRun(res, PROBES);
    const dump = dumpOf(res);
    const evs = res.events;

    const steps = nfWhere(evs, cli.inode);
    const drop = steps.find((ev) => nfOf(ev)?.verdict === 'DROP');
    const dropRule = v === 'legacy' ? [/-j DROP\b/, new RegExp(`--dport ${port}\\b`)] : [/\bdrop\b/, new RegExp(`dport ${port}\\b`)];
    assertNfStep(drop, { ...want, v, hook: 'output', verdict: 'DROP', rule: dropRule }, dump);
    assert.ok(drop && isSyn(drop) && drop.tuple?.saddr === cli.v4 && drop.tuple.daddr === srv.v4 && drop.tuple.dport === port, `the DROP step should be the SYN ${cli.v4} -> ${srv.v4}:${port}${dump}`);
    assert.equal(drop?.netns_name, cli.ns, `netns_name of the nf event${dump}`);

    const kfree = evs.find((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NETFILTER_DROP' && ev.netns === cli.inode && isSyn(ev) && ev.tuple?.dport === port);
    assert.ok(kfree, `no kfree_skb NETFILTER_DROP of the SYN in the client netns (${cli.inode})${dump}`);
    // every SYN (the first and its retransmission) that was dropped has its nf DROP step
    const kfrees = evs.filter((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NETFILTER_DROP' && ev.netns === cli.inode).length;
    const nfDrops = steps.filter((ev) => nfOf(ev)?.verdict === 'DROP').length;
    assert.equal(nfDrops, kfrees, `one nf DROP step per NETFILTER_DROP (${nfDrops} vs ${kfrees})${dump}`);
    if (v === 'legacy') {
      // the whole path of the dropped SYN, table by table, as Mytracer prints it
      const path = steps
        .filter((ev) => ev.skb === drop!.skb)
        .sort((a, b) => Number(a.ts_ns) - Number(b.ts_ns))
        .map((ev) => `${nfOf(ev)!.pf}.${nfOf(ev)!.table}.${nfOf(ev)!.chain}.${nfOf(ev)!.verdict}`);
      assert.deepEqual(path.slice(0, 4), ['2.raw.OUTPUT.ACCEPT', '2.mangle.OUTPUT.ACCEPT', '2.nat.OUTPUT.ACCEPT', '2.filter.OUTPUT.DROP'], `legacy path of the SYN${dump}`);
      const natStep = steps.find((ev) => ev.skb === drop!.skb && nfOf(ev)?.table === 'nat');
      assert.equal(nfOf(natStep!)?.rule, 'policy ACCEPT of chain OUTPUT', `the empty nat OUTPUT chain accepts by policy${dump}`);
      assert.match(res.stderr, /iptables-legacy path in pp-nf\S+ via BPF netfilter observers/, `--verbose names the method${dump}`);
    }
    assert.deepEqual(evs.filter((ev) => ev.netns === srv.inode), [], `nothing should reach the server netns${dump}`);
    // the explanation names the deciding chain as pf.table.chain
    assert.match(res.stderr, new RegExp(`2\\.${want.table}\\.${want.chain}\\b`), `the why: line should name 2.${want.table}.${want.chain}${dump}`);
    // text form: `<skb>.<pkt_type>:2.filter.OUTPUT.DROP [seq=N ack=N] rule="..."` (seq/ack where the step has the TCP packet)
    assert.equal(text.code, 0, `text run: exit 0 on SIGINT; stderr:\n${text.stderr}`);
    const textLine =
      v === 'legacy'
        ? new RegExp(`:2\\.filter\\.OUTPUT\\.DROP (seq=\\d+ ack=\\d+ )?rule="-A OUTPUT [^"]*--dport ${port} -j DROP"`)
        : new RegExp(`:2\\.${want.table}\\.${want.chain}\\.DROP (seq=\\d+ ack=\\d+ )?rule="[^"]*\\bdrop # handle \\d+"`);
    assert.ok(text.nonJson.some((l) => textLine.test(l)), `no text line matching ${textLine}:\n${text.nonJson.join('\n')}`);
  });
}

// ------------------------------------------------------------------ (2) INPUT DROP of resets

async function inputRstDrop(t: TestContext, v: Variant): Promise<void> {
  if (!ready(t, v)) return;
  await withLab(`rst${tag(v)}`, makePair, async ({ cli, srv }) => {
    // srv connects to a closed port on cli; cli answers with a reset; srv's INPUT drops resets.
    const port = freshPort();
    let want: { table: string; chain: string };
    if (v !== 'nft') {
      await exec(srv.ns, [ipt(v), '-A', 'INPUT', '-p', 'tcp', '--tcp-flags', 'RST', 'RST', '-j', 'DROP']);
      want = { table: 'filter', chain: 'INPUT' };
    } else {
      await nftApply(srv.ns, userChain('userin', 'type filter hook input priority 0', ['tcp flags & rst == rst drop']));
      want = { table: USER_TABLE, chain: 'userin' };
    }
    const res = await traced(['--iptable', '-H', cli.v4, '-P', String(port), '--proto', 'tcp'], async (trace) => {
      const conn = await tcpConnect(srv.ns, cli.v4, port, 1200);
      assert.equal(conn.outcome, 'timeout', `with resets dropped, a connect to a closed port should time out (${conn.outcome} ${conn.detail})`);
      await trace.waitFor((ev) => ev.probe === 'netfilter' && ev.netns === srv.inode && nfOf(ev)?.verdict === 'DROP', EXPECT_MS);
    });
    assertCleanRun(res, PROBES);
    const dump = dumpOf(res);
    const evs = res.events;

    const drop = nfWhere(evs, srv.inode).find((ev) => nfOf(ev)?.verdict === 'DROP');
    const rule = v === 'legacy' ? [/--tcp-flags RST RST/, /-j DROP\b/] : [/\brst\b/i, /tcp flags/];
    assertNfStep(drop, { ...want, v, hook: 'input', verdict: 'DROP', rule }, dump);
    assert.ok(drop && tcpFlags(drop).includes('RST') && drop.tuple?.saddr === cli.v4 && drop.tuple.sport === port && drop.tuple.daddr === srv.v4, `the DROP step should be the reset ${cli.v4}:${port} -> ${srv.v4}${dump}`);

    const sent = evs.find((ev) => ev.netns === cli.inode && TRANSMIT_PROBES.has(ev.probe) && tcpFlags(ev).includes('RST'));
    assert.ok(sent, `the reset should leave the peer (${cli.ns})${dump}`);
    const kfree = evs.find((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NETFILTER_DROP' && ev.netns === srv.inode && tcpFlags(ev).includes('RST'));
    assert.ok(kfree, `no kfree_skb NETFILTER_DROP of the reset in ${srv.ns}${dump}`);
    assert.ok(!evs.some((ev) => ev.probe === 'tcp_receive_reset' && ev.netns === srv.inode), `a dropped reset must not reach TCP${dump}`);
  });
}

// ------------------------------------------------------------------ (3) FORWARD REJECT

async function forwardReject(t: TestContext, v: Variant): Promise<void> {
  if (!ready(t, v)) return;
  await withLab(`fwd${tag(v)}`, makeRouted, async ({ cli, rtrC, rtrS, srv }) => {
    const port = freshPort();
    const rtr = rtrC; // same namespace as rtrS
    let want: { table: string; chain: string };
    if (v !== 'nft') {
      await exec(rtr.ns, [ipt(v), '-A', 'FORWARD', '-p', 'tcp', '--dport', String(port), '-j', 'REJECT', '--reject-with', 'icmp-admin-prohibited']);
      want = { table: 'filter', chain: 'FORWARD' };
    } else {
      await nftApply(rtr.ns, userChain('userfwd', 'type filter hook forward priority 0', [`tcp dport ${port} reject with icmp type admin-prohibited`]));
      want = { table: USER_TABLE, chain: 'userfwd' };
    }
    // -H client: the SYN (from the client) and the ICMP error (to the client) both match.
    const res = await traced(['--iptable', '--proto', 'any', '-H', cli.v4], async (trace) => {
      const conn = await tcpConnect(cli.ns, srv.v4, port, 1200);
      assert.equal(conn.outcome, 'error', `a REJECT with admin-prohibited should fail the connect at once (${conn.outcome} ${conn.detail})`);
      assert.equal(conn.detail, 'EHOSTUNREACH', `ICMP admin-prohibited is EHOSTUNREACH for the client (${conn.detail})`);
      await trace.waitFor((ev) => ev.probe === 'netfilter' && ev.netns === rtr.inode && nfOf(ev)?.verdict === 'DROP', EXPECT_MS);
      await trace.waitFor((ev) => ev.tuple?.proto === 'icmp' && ev.tuple.icmp_type === 3 && ev.netns === cli.inode, EXPECT_MS);
    });
    assertCleanRun(res, PROBES);
    const dump = dumpOf(res);
    const evs = res.events;

    const drop = nfWhere(evs, rtr.inode).find((ev) => nfOf(ev)?.verdict === 'DROP');
    const rule = v === 'legacy' ? [/-j REJECT\b/, /--reject-with icmp-admin-prohibited/] : [/\breject\b/, /admin-prohibited/];
    assertNfStep(drop, { ...want, v, hook: 'forward', verdict: 'DROP', rule }, dump);
    assert.ok(drop && isSyn(drop) && drop.tuple?.saddr === cli.v4 && drop.tuple.daddr === srv.v4 && drop.tuple.dport === port, `the FORWARD step should be the client's SYN${dump}`);
    assert.equal(drop?.ifname, rtrC.ifname, `a forward step names the input device of the router${dump}`);

    const kfree = evs.find((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NETFILTER_DROP' && ev.netns === rtr.inode && isSyn(ev));
    assert.ok(kfree, `no kfree_skb NETFILTER_DROP of the SYN in the router netns${dump}`);
    assert.ok(!evs.some((ev) => ev.netns === srv.inode && ev.tuple?.proto === 'tcp'), `the SYN must not reach the server${dump}`);
    assert.ok(!evs.some((ev) => ev.ifname === rtrS.ifname && TRANSMIT_PROBES.has(ev.probe) && ev.tuple?.proto === 'tcp'), `the SYN must not leave the router toward the server${dump}`);

    // The ICMP destination unreachable, code 13 (communication administratively prohibited), going back.
    const unreach = (ev: TraceEvent): boolean =>
      ev.probe !== 'netfilter' && ev.tuple?.proto === 'icmp' && ev.tuple.icmp_type === 3 && ev.tuple.icmp_code === 13 && ev.tuple.saddr === rtrC.v4 && ev.tuple.daddr === cli.v4;
    assert.ok(evs.some((ev) => unreach(ev) && ev.netns === rtr.inode && TRANSMIT_PROBES.has(ev.probe)), `no ICMP 3/13 ${rtrC.v4} -> ${cli.v4} leaving the router${dump}`);
    assert.ok(evs.some((ev) => unreach(ev) && ev.netns === cli.inode && RECEIVE_PROBES.has(ev.probe)), `no ICMP 3/13 arriving in the client${dump}`);
    const sends = evs.filter((ev) => ev.probe === 'icmp_send');
    for (const ev of sends) {
      assert.equal(ev.netns, rtr.inode, `icmp_send should be in the router: ${JSON.stringify(ev)}`);
      assert.deepEqual(ev.info, { type: 3, code: 13 }, `icmp_send info: ${JSON.stringify(ev)}`);
    }
    t.diagnostic(`icmp_send events: ${sends.length}`);
  });
}

// ------------------------------------------------------------------ (4) DNAT

async function dnatOutput(t: TestContext, v: Variant): Promise<void> {
  if (!ready(t, v)) return;
  await withLab(`dnat${tag(v)}`, makePair, async ({ lab, x, cli, srv }) => {
    const vip = `10.199.${x}.80`; // on the client's link, but nobody has it
    const realPort = 8080;
    let want: { table: string; chain: string };
    if (v !== 'nft') {
      await exec(cli.ns, [ipt(v), '-t', 'nat', '-A', 'OUTPUT', '-d', vip, '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', `${srv.v4}:${realPort}`]);
      want = { table: 'nat', chain: 'OUTPUT' };
    } else {
      await nftApply(cli.ns, userChain('usernat', 'type nat hook output priority -100', [`ip daddr ${vip} tcp dport 80 dnat ip to ${srv.v4}:${realPort}`]));
      want = { table: USER_TABLE, chain: 'usernat' };
    }
    await lab.listen(srv, realPort);
    const [byVip, byReal] = await tracedMany(
      [
        ['--iptable', '--proto', 'tcp', '-H', vip],
        ['--iptable', '--proto', 'tcp', '-H', srv.v4, '-P', String(realPort)],
      ],
      async ([a, b]) => {
        const conn = await tcpConnect(cli.ns, vip, 80, 2000);
        assert.equal(conn.outcome, 'connected', `connect to ${vip}:80 should reach ${srv.v4}:${realPort} through DNAT (${conn.outcome} ${conn.detail})`);
        await a!.waitFor((ev) => ev.probe === 'netfilter' && ev.netns === cli.inode, EXPECT_MS);
        await b!.waitFor((ev) => ev.probe === 'net_dev_queue' && isSyn(ev), EXPECT_MS);
      },
    );
    assertCleanRun(byVip!, PROBES);
    assertCleanRun(byReal!, PROBES);
    const dumpV = dumpOf(byVip!);
    const dumpR = dumpOf(byReal!);

    const nat = nfWhere(byVip!.events, cli.inode).find((ev) => /dnat/i.test(nfOf(ev)?.rule ?? ''));
    const to = new RegExp(`${srv.v4.replace(/\./g, '\\.')}:${realPort}`);
    const rule = v === 'legacy' ? [/-j DNAT --to-destination/, to] : [/\bdnat\b/, to];
    assertNfStep(nat, { ...want, v, hook: 'output', verdict: 'ACCEPT', rule }, dumpV);
    assert.ok(nat && isSyn(nat) && nat.tuple?.saddr === cli.v4 && nat.tuple.daddr === vip && nat.tuple.dport === 80, `the nat step shows the SYN before translation (${cli.v4} -> ${vip}:80)${dumpV}`);

    // The translated SYN on the wire, and at the server.
    const wire = byReal!.events.find(
      (ev) => ev.probe === 'net_dev_queue' && ev.netns === cli.inode && isSyn(ev) && ev.tuple?.saddr === cli.v4 && ev.tuple.daddr === srv.v4 && ev.tuple.dport === realPort,
    );
    assert.ok(wire, `no net_dev_queue of the translated SYN ${cli.v4} -> ${srv.v4}:${realPort} in the client netns${dumpR}`);
    assert.equal(wire?.ifname, cli.ifname, `the translated SYN leaves on ${cli.ifname}${dumpR}`);
    assert.ok(byReal!.events.some((ev) => ev.netns === srv.inode && RECEIVE_PROBES.has(ev.probe) && isSyn(ev)), `the translated SYN should arrive at the server${dumpR}`);
    assert.ok(!byReal!.events.some((ev) => ev.probe !== 'netfilter' && ev.tuple?.daddr === vip), `no packet on the wire is addressed to the VIP${dumpR}`);
    assert.ok(!byVip!.events.some((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NETFILTER_DROP'), `DNAT must not drop${dumpV}`);
  });
}

// ------------------------------------------------------------------ (5) reverse-path filtering

interface RpNet extends Pair {
  /** the client's second address, from a subnet the server has no route to */
  spoof: string;
}

function makeRp(lab: Lab): RpNet {
  const pair = makePair(lab);
  const y = lab.subnet();
  const spoof = `10.199.${y}.50`;
  ipSync(['-n', pair.cli.ns, 'addr', 'add', `${spoof}/32`, 'dev', pair.cli.ifname]);
  // no ARP: the server would answer the ARP request from the spoofed source only after routing to it
  ipSync(['-n', pair.cli.ns, 'neigh', 'replace', pair.srv.v4, 'lladdr', pair.srv.mac, 'dev', pair.cli.ifname, 'nud', 'permanent']);
  return { ...pair, spoof };
}

async function setRpFilter(end: End, value: 0 | 1): Promise<void> {
  await exec(end.ns, ['sh', '-c', `echo ${value} > /proc/sys/net/ipv4/conf/all/rp_filter && echo ${value} > /proc/sys/net/ipv4/conf/${end.ifname}/rp_filter`]);
}

async function pingFrom(rp: RpNet): Promise<void> {
  const r = await exec(rp.cli.ns, ['ping', '-n', '-I', rp.spoof, '-c', '1', '-W', '1', rp.srv.v4], { allowFail: true, timeoutMs: 5000 });
  assert.match(r.stdout, /1 packets transmitted, 0 received/, `the ping from ${rp.spoof} should get no reply:\n${r.stdout}${r.stderr}`);
}

/** A failed reverse lookup toward the spoofed source (netns 0: a failed lookup has no device). */
function failedReverseLookup(evs: readonly TraceEvent[], rp: RpNet): TraceEvent | undefined {
  return evs.find((ev) => {
    const r = routeOf(ev);
    return !!r && ev.tuple?.daddr === rp.spoof && (ev.netns === rp.srv.inode || ev.netns === 0) && (r.err !== 0 || r.type === 'no-match' || r.type === 'unreachable');
  });
}

async function rpFilterSysctl(t: TestContext): Promise<void> {
  if (!requireRoot(t, { commands: ['ping'] })) return;
  await withLab('rpk', makeRp, async (rp) => {
    await setRpFilter(rp.srv, 1);
    const res = await traced(['--route', '-H', rp.spoof], async (trace) => {
      await pingFrom(rp);
      await trace.waitFor((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'IP_RPFILTER', EXPECT_MS);
    });
    assertCleanRun(res, PROBES);
    const dump = dumpOf(res);
    const evs = res.events;

    const drop = evs.find((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'IP_RPFILTER');
    assert.ok(drop, `no kfree_skb IP_RPFILTER${dump}`);
    assert.equal(drop.netns, rp.srv.inode, `the rp_filter drop is in the server netns${dump}`);
    assert.ok(drop.tuple?.proto === 'icmp' && drop.tuple.saddr === rp.spoof && drop.tuple.daddr === rp.srv.v4 && drop.tuple.icmp_type === 8, `the dropped packet is the echo request from ${rp.spoof}${dump}`);
    const lookup = failedReverseLookup(evs, rp);
    assert.ok(lookup, `no failed route lookup toward ${rp.spoof} (route.err != 0, or type no-match/unreachable)${dump}`);
    t.diagnostic(`reverse lookup: netns ${lookup.netns} route ${JSON.stringify(lookup.route)}`);
    assert.ok(evs.some((ev) => routeOf(ev) && ev.netns === rp.cli.inode && ev.tuple?.daddr === rp.srv.v4 && routeOf(ev)?.err === 0), `the client's own (successful) lookup toward the server should show too${dump}`);
    assert.ok(!evs.some((ev) => ev.probe === 'netfilter'), `no --iptable, so no netfilter events${dump}`);
    assert.match(res.stderr, /IP_RPFILTER/, `the summary names IP_RPFILTER${dump}`);
  });
}

async function rpFilterRule(t: TestContext, v: Variant): Promise<void> {
  if (!ready(t, v, { commands: [...NEEDS.commands, 'ping'] })) return;
  await withLab(`rp${tag(v)}`, makeRp, async (rp) => {
    await setRpFilter(rp.srv, 0); // the rule decides, not the sysctl
    let want: { table: string; chain: string };
    if (v !== 'nft') {
      await exec(rp.srv.ns, [ipt(v), '-t', 'raw', '-A', 'PREROUTING', '-m', 'rpfilter', '--invert', '-j', 'DROP']);
      want = { table: 'raw', chain: 'PREROUTING' };
    } else {
      await nftApply(rp.srv.ns, userChain('userpre', 'type filter hook prerouting priority raw', ['fib saddr . iif oif missing drop']));
      want = { table: USER_TABLE, chain: 'userpre' };
    }
    const res = await traced(['--iptable', '--route', '-H', rp.spoof], async (trace) => {
      await pingFrom(rp);
      await trace.waitFor((ev) => ev.probe === 'netfilter' && ev.netns === rp.srv.inode && nfOf(ev)?.verdict === 'DROP', EXPECT_MS);
    });
    assertCleanRun(res, PROBES);
    const dump = dumpOf(res);
    const evs = res.events;

    const step = nfWhere(evs, rp.srv.inode).find((ev) => nfOf(ev)?.verdict === 'DROP');
    const rule = v === 'legacy' ? [/-m rpfilter --invert/, /-j DROP\b/] : [/fib saddr \. iif oif/, /\bdrop\b/];
    assertNfStep(step, { ...want, v, hook: 'prerouting', verdict: 'DROP', rule }, dump);
    assert.ok(step?.tuple?.proto === 'icmp' && step.tuple.saddr === rp.spoof && step.tuple.daddr === rp.srv.v4, `the step is the echo request from ${rp.spoof}${dump}`);
    const kfree = evs.find((ev) => ev.probe === 'kfree_skb' && ev.drop_reason === 'NETFILTER_DROP' && ev.netns === rp.srv.inode);
    assert.ok(kfree, `no kfree_skb NETFILTER_DROP in the server netns${dump}`);
    assert.ok(!evs.some((ev) => ev.drop_reason === 'IP_RPFILTER'), `rp_filter is off: the kernel's own check must not drop${dump}`);
    assert.ok(failedReverseLookup(evs, rp), `the fib expression's failed lookup toward ${rp.spoof} should show with --route${dump}`);
  });
}

// ------------------------------------------------------------------ (6) cleanup

/** The ruleset without counters and without pktpath's tables, for before/after comparison. */
async function rulesOf(ns: string): Promise<{ ipt: string; nft: string; legacy: string }> {
  const ipt = (await exec(ns, ['iptables-save'])).stdout
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[]'))
    .join('\n');
  const nft = (await exec(ns, ['nft', 'list', 'ruleset'])).stdout.replace(/counter packets \d+ bytes \d+/g, 'counter');
  const legacy = (await exec(ns, ['iptables-legacy-save'])).stdout
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[]'))
    .join('\n');
  return { ipt, nft, legacy };
}

/** `pktpath_*` tables in a namespace (any family). */
async function pktpathTables(ns: string): Promise<string[]> {
  const out = (await exec(ns, ['nft', 'list', 'tables'])).stdout;
  return out.split('\n').map((l) => l.trim()).filter((l) => /\bpktpath_/.test(l));
}

/** `nft` processes still running in a namespace. */
function nftProcesses(ns: string): number[] {
  let pids: number[] = [];
  try {
    pids = ipSync(['netns', 'pids', ns]).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'nft';
    } catch {
      return false;
    }
  });
}

/** In the current namespace: tables of the given pktpath pids. */
function hostTablesOf(pids: readonly number[]): string[] {
  let out = '';
  try {
    out = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  return out.split('\n').filter((l) => pids.some((p) => new RegExp(`\\bpktpath_${p}(_\\d+)?\\b`).test(l)));
}

async function cleanupCase(t: TestContext): Promise<void> {
  if (!requireRoot(t, { commands: [...NEEDS.commands, 'iptables-save'] })) return;
  await withLab('clean', makePair, async ({ cli, srv }) => {
    const port = freshPort();
    await exec(cli.ns, ['iptables', '-A', 'OUTPUT', '-d', srv.v4, '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
    await exec(cli.ns, ['iptables', '-t', 'nat', '-A', 'OUTPUT', '-d', `10.199.250.80`, '-j', 'ACCEPT']);
    await nftApply(srv.ns, userChain('userin', 'type filter hook input priority 0', [`tcp dport ${port} counter accept`]));
    // iptables-legacy rules too: the run hooks BPF netfilter observers around their tables
    const observed = legacyPathMissing() === null;
    await exec(srv.ns, ['iptables-legacy', '-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'ACCEPT']);
    const linksBefore = netfilterLinks();
    const namespaces = [cli.ns, srv.ns];
    const before = new Map<string, { ipt: string; nft: string; legacy: string }>();
    for (const ns of namespaces) before.set(ns, await rulesOf(ns));
    const args = ['--iptable', '-H', srv.v4, '-P', String(port), '--proto', 'tcp'];
    const pids: number[] = [];

    const assertClean = async (when: string): Promise<void> => {
      for (const ns of namespaces) {
        assert.deepEqual(await pktpathTables(ns), [], `${when}: pktpath tables left in ${ns} (this test's runs: ${pids.join(', ')})`);
        const now = await rulesOf(ns);
        const was = before.get(ns)!;
        assert.equal(now.ipt, was.ipt, `${when}: iptables-save changed in ${ns}`);
        assert.equal(now.nft, was.nft, `${when}: nft list ruleset changed in ${ns}`);
        assert.equal(now.legacy, was.legacy, `${when}: iptables-legacy-save changed in ${ns}`);
        assert.deepEqual(nftProcesses(ns), [], `${when}: nft monitor still running in ${ns}`);
      }
      assert.deepEqual(hostTablesOf(pids), [], `${when}: pktpath tables left in the current namespace`);
      if (linksBefore) assert.deepEqual(netfilterLinks(), linksBefore, `${when}: BPF netfilter links left behind`);
    };
    const startAndCheck = async (): Promise<TraceRun> => {
      const run = await spawnTrace(args);
      assert.ok(run.pid, 'trace has a pid');
      pids.push(run.pid);
      for (const ns of namespaces) {
        const tables = await pktpathTables(ns);
        assert.ok(tables.some((l) => l.includes(`pktpath_${run.pid}`)), `a running trace should have its table in ${ns}: ${JSON.stringify(tables)}`);
      }
      if (observed && linksBefore) assert.ok(netfilterLinks()!.length > linksBefore.length, 'a running trace hooks observers around the legacy filter table');
      // some traffic, so the sessions have work in flight
      await tcpConnect(cli.ns, srv.v4, port, 300);
      await run.waitFor((ev) => ev.probe === 'netfilter', 2000);
      return run;
    };

    // SIGINT
    const a = await startAndCheck();
    const resA = await a.stop();
    assert.equal(resA.code, 0, `exit 0 on SIGINT; stderr:\n${resA.stderr}`);
    assert.ok(resA.events.some((ev) => ev.probe === 'netfilter'), `the SIGINT run saw the drop${dumpOf(resA)}`);
    await assertClean('after SIGINT');

    // SIGTERM
    const b = await startAndCheck();
    const t0 = Date.now();
    process.kill(b.pid!, 'SIGTERM');
    const resB = await b.waitForExit(5000);
    const termMs = Date.now() - t0;
    assert.ok(resB.code === 0 || resB.code === 143 || resB.signal === 'SIGTERM', `SIGTERM: code ${resB.code} signal ${resB.signal}; stderr:\n${resB.stderr}`);
    assert.ok(termMs < 2500, `SIGTERM took ${termMs} ms`);
    await assertClean('after SIGTERM');

    // SIGKILL: the table stays (nothing can run), the monitor dies (PDEATHSIG); the next start reclaims it.
    const c = await startAndCheck();
    process.kill(c.pid!, 'SIGKILL');
    const resC = await c.waitForExit(5000);
    assert.equal(resC.signal, 'SIGKILL');
    let left = 0;
    for (const ns of namespaces) left += (await pktpathTables(ns)).filter((l) => l.includes(`pktpath_${c.pid}`)).length;
    t.diagnostic(`after SIGKILL: ${left} table(s) of pid ${c.pid} left in our namespaces (reclaimed by the next start)`);
    await sleep(300);
    for (const ns of namespaces) assert.deepEqual(nftProcesses(ns), [], `after SIGKILL: the nft monitor should die with pktpath in ${ns}`);
    // the observer links die with the process's file descriptors
    if (linksBefore) assert.deepEqual(netfilterLinks(), linksBefore, 'after SIGKILL: BPF netfilter links left behind');

    const d = await spawnTrace(args);
    pids.push(d.pid!);
    for (const ns of namespaces) {
      const tables = await pktpathTables(ns);
      assert.ok(!tables.some((l) => new RegExp(`pktpath_${c.pid}\\b`).test(l)), `the next start should reclaim the killed run's table in ${ns}: ${JSON.stringify(tables)}`);
      assert.ok(tables.some((l) => l.includes(`pktpath_${d.pid}`)), `the new run's table should be in ${ns}: ${JSON.stringify(tables)}`);
    }
    assert.deepEqual(hostTablesOf([c.pid!]), [], 'the next start should reclaim the killed run\'s table in the current namespace');
    const resD = await d.stop();
    assert.equal(resD.code, 0, `exit 0 on SIGINT; stderr:\n${resD.stderr}`);
    await assertClean('after SIGKILL and a new run');
  });
}

// ------------------------------------------------------------------ (9) what appears during the run

/** Polls `cond` every 100 ms until it holds or `ms` pass. */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (cond()) return true;
  return cond();
}

/*
 * A user starts pktpath first and builds the problem afterwards: namespaces created under
 * /run/netns during the run get their nft trace session, and iptables-legacy rules loaded
 * during the run in a traced namespace get their observers and counters.
 */
async function lateArrivals(t: TestContext): Promise<void> {
  if (!ready(t, 'legacy')) return;
  await withLab('late', (lab) => lab, async (lab) => {
    const x = lab.subnet();
    const port = freshPort();
    const srvIp = `10.199.${x}.2`;
    const trace = await spawnTrace(['--iptable', '--verbose', '-H', srvIp, '-P', String(port), '--proto', 'tcp']);
    let res: TraceResult;
    try {
      // both namespaces, and the server's iptables-nft rule, come after the ready line
      const [cli, srv] = lab.veth(lab.netns('cli'), `pn${x}c`, `10.199.${x}.1`, lab.netns('srv'), `pn${x}s`, srvIp);
      await exec(srv.ns, ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
      const picked = await until(() => [cli, srv].every((e) => trace.stderr().includes(`now tracing namespace ${e.ns},`)), 5000);
      assert.ok(picked, `both new namespaces should be picked up within 5 s:\n${trace.stderr()}`);
      await tcpConnect(cli.ns, srv.v4, port, 600);
      const nftStep = await trace.waitFor((ev) => ev.probe === 'netfilter' && ev.netns === srv.inode && nfOf(ev)?.verdict === 'DROP', EXPECT_MS);
      assert.ok(nftStep, `the nft trace step in ${srv.ns}, created during the run\n${describeEvents(trace.events, 60)}`);

      // then iptables-legacy rules in the client, which had none
      await exec(cli.ns, ['iptables-legacy', '-A', 'OUTPUT', '-d', srv.v4, '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
      const watched = await until(() => trace.stderr().includes(`iptables-legacy rules appeared in ${cli.ns}: now watched, with BPF netfilter observers`), 5000);
      assert.ok(watched, `the legacy rules should be picked up within 5 s:\n${trace.stderr()}`);
      await tcpConnect(cli.ns, srv.v4, port, 600);
      await trace.waitFor((ev) => ev.probe === 'netfilter' && ev.netns === cli.inode && nfOf(ev)?.verdict === 'DROP', EXPECT_MS);
      await sleep(SETTLE_MS);
    } finally {
      res = await trace.stop();
    }
    assertCleanRun(res, PROBES);
    const dump = dumpOf(res);
    const cli = lab.namespaces.find((n) => n.endsWith('-cli'))!;
    const cliInode = netnsInode(cli);
    const drop = nfWhere(res.events, cliInode).find((ev) => nfOf(ev)?.verdict === 'DROP');
    assertNfStep(drop, { v: 'legacy', table: 'filter', chain: 'OUTPUT', hook: 'output', verdict: 'DROP', rule: [/-j DROP\b/, new RegExp(`--dport ${port}\\b`)] }, dump);
    assert.ok(drop && isSyn(drop) && drop.tuple?.dport === port, `the legacy DROP step is the SYN${dump}`);
  });
}

// ------------------------------------------------------------------ (7) two runs at once

/*
 * nft trace messages are per namespace: every `nft monitor trace` there gets the trace
 * of every packet that any table marked. Run alone, `-P p1` prints only the p1 drop;
 * run next to another pktpath with `-P p2`, it must still print only that one.
 */

async function concurrentRuns(t: TestContext): Promise<void> {
  if (!requireRoot(t, NEEDS)) return;
  await withLab('two', makePair, async ({ cli, srv }) => {
    const p1 = freshPort();
    const p2 = freshPort();
    for (const p of [p1, p2]) await exec(cli.ns, ['iptables', '-A', 'OUTPUT', '-d', srv.v4, '-p', 'tcp', '--dport', String(p), '-j', 'DROP']);
    const [r1, r2] = await tracedMany(
      [
        ['--iptable', '-H', srv.v4, '-P', String(p1), '--proto', 'tcp'],
        ['--iptable', '-H', srv.v4, '-P', String(p2), '--proto', 'tcp'],
      ],
      async ([a, b]) => {
        await Promise.all([tcpConnect(cli.ns, srv.v4, p1, 300), tcpConnect(cli.ns, srv.v4, p2, 300)]);
        await a!.waitFor((ev) => ev.probe === 'netfilter' && ev.tuple?.dport === p1, EXPECT_MS);
        await b!.waitFor((ev) => ev.probe === 'netfilter' && ev.tuple?.dport === p2, EXPECT_MS);
      },
    );
    for (const [res, mine, other] of [[r1!, p1, p2], [r2!, p2, p1]] as const) {
      assertCleanRun(res, PROBES);
      const dump = dumpOf(res);
      const nf = nfWhere(res.events, cli.inode);
      assert.ok(nf.some((ev) => ev.tuple?.dport === mine), `the run with -P ${mine} should see its own drop${dump}`);
      const foreign = nf.filter((ev) => ev.tuple?.dport !== mine && ev.tuple?.sport !== mine);
      assert.deepEqual(
        foreign.map((ev) => `${ev.tuple?.saddr}:${ev.tuple?.sport}->${ev.tuple?.daddr}:${ev.tuple?.dport}`),
        [],
        `the run with -P ${mine} printed netfilter paths of packets only the other run (-P ${other}) matched${dump}`,
      );
    }
  });
}

// ------------------------------------------------------------------ (8) --route: local delivery

/*
 * route.type must describe the route the lookup found (what `ip route get` says), not be
 * guessed from the table id: with no ip rules the kernel merges the local table into the
 * main trie, so a local delivery is found "in table 254", and a lookup "in table 255"
 * can find a unicast route.
 */

async function routeLocal(t: TestContext): Promise<void> {
  if (!requireRoot(t, { commands: ['ping'] })) return;
  await withLab('rtloc', makePair, async ({ cli, srv }) => {
    // no --proto: an input route lookup's flow carries no L4 protocol, so --proto icmp would hide it
    const res = await traced(['--route', '-H', srv.v4], async (trace) => {
      const r = await exec(cli.ns, ['ping', '-n', '-c', '1', '-W', '1', srv.v4], { allowFail: true, timeoutMs: 5000 });
      assert.match(r.stdout, /1 received/, `ping should work:\n${r.stdout}${r.stderr}`);
      await trace.waitFor((ev) => ev.probe === 'fib_table_lookup' && ev.netns === srv.inode, EXPECT_MS);
    });
    assertCleanRun(res, PROBES);
    const dump = dumpOf(res);
    const lookups = res.events.filter((ev) => routeOf(ev) && ev.netns === srv.inode && ev.tuple?.daddr === srv.v4);
    assert.ok(lookups.length > 0, `no route lookup for ${srv.v4} in the server netns${dump}`);
    // `ip route get` in the server says "local"; on a default set-up (no ip rules) the kernel
    // looks it up in the merged main trie, so the tracepoint reports table 254 for it.
    const got = (await exec(srv.ns, ['ip', 'route', 'get', srv.v4])).stdout.trim();
    assert.match(got, /^local /, `ip route get ${srv.v4} in the server`);
    // ...and in the client, where the server's address is not local, it says "unicast".
    const gotCli = (await exec(cli.ns, ['ip', 'route', 'get', srv.v4])).stdout.trim();
    assert.doesNotMatch(gotCli, /^local /, `ip route get ${srv.v4} in the client`);
    const cliLocal = res.events.filter((ev) => routeOf(ev) && ev.netns === cli.inode && ev.tuple?.daddr === srv.v4 && routeOf(ev)?.err === 0 && routeOf(ev)?.type === 'local');
    const problems = [
      ...(lookups.some((ev) => routeOf(ev)?.type === 'local')
        ? []
        : [`the server's lookups of its own address ${srv.v4} (ip route get: "${got.split('\n')[0]}") say ${JSON.stringify(lookups.map((ev) => ev.route))}, none says type "local"`]),
      ...cliLocal.map((ev) => `the client's lookup of ${srv.v4}, not a local address there (ip route get: "${gotCli.split('\n')[0]}"), says ${JSON.stringify(ev.route)}`),
    ];
    assert.deepEqual(problems, [], `route.type should follow the route found, not the table id${dump}`);
  });
}

// ------------------------------------------------------------------ (10) Ctrl-C right after a burst

/*
 * A terminal's Ctrl-C goes to the whole foreground process group. Right after a burst of
 * UDP packets dropped by an nft rule and by an iptables-legacy rule, the run (a process
 * group of its own, as a shell makes it) gets SIGINT there: it must print the netfilter
 * DROP step of every drop, as many as the rules counted, then its summary, and exit 0.
 */

/** Sends `count` UDP datagrams from `ns` as fast as it can, every fourth to `legacyPort`, the others to `nftPort`. */
async function udpBurst(ns: string, dst: string, count: number, nftPort: number, legacyPort: number): Promise<void> {
  const py = [
    'import socket',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    `for i in range(${count}):`,
    '    try:',
    `        s.sendto(b"x", ("${dst}", ${legacyPort} if i % 4 == 0 else ${nftPort}))`,
    '    except PermissionError:',
    '        pass  # dropped on output',
  ].join('\n');
  await exec(ns, ['python3', '-c', py], { timeoutMs: 20_000 });
}

/** `pktpath trace --json args` leading a process group of its own; SIGINT goes to the group. */
async function groupTrace(args: readonly string[]): Promise<{ interrupt(): Promise<{ code: number | null; stdout: string; stderr: string }> }> {
  const child = spawn(PKTPATH_BIN, ['trace', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  closed.finally(() => clearTimeout(kill)).catch(() => undefined);
  const up = await until(() => /\bready\b/.test(stderr) || child.exitCode !== null, 30_000);
  assert.ok(up && child.exitCode === null, `pktpath trace ${args.join(' ')}: not ready:\n${stderr}`);
  return {
    async interrupt() {
      process.kill(-child.pid!, 'SIGINT'); // as the terminal does: pktpath and every child still in its group
      return { code: await closed, stdout, stderr };
    },
  };
}

async function ctrlCAfterBurst(t: TestContext): Promise<void> {
  if (!ready(t, 'legacy', { commands: [...NEEDS.commands, 'iptables-legacy-save', 'python3'] })) return;
  await withLab('ctrlc', makePair, async ({ cli, srv }) => {
    const [nftPort, legacyPort, burst] = [freshPort(), freshPort(), 400];
    // priority 10: after the legacy filter table (0) and the observer that follows it (+1)
    await nftApply(cli.ns, userChain('out', 'type filter hook output priority 10', [`udp dport ${nftPort} counter drop`]));
    await exec(cli.ns, ['iptables-legacy', '-A', 'OUTPUT', '-p', 'udp', '--dport', String(legacyPort), '-j', 'DROP']);
    const run = await groupTrace(['--iptable', '-N', cli.ns, '-H', srv.v4, '--proto', 'udp']);
    await udpBurst(cli.ns, srv.v4, burst, nftPort, legacyPort);
    const res = await run.interrupt();
    const events = res.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TraceEvent);
    const summary = /pktpath: (\d+) events, (\d+) lost/.exec(res.stderr);
    assert.equal(res.code, 0, `exit code after SIGINT\n${res.stderr}`);
    assert.ok(summary, `the summary line\n${res.stderr}`);
    assert.equal(summary[2], '0', 'no event lost on the ring (else the counts below cannot match)');
    // positive control: the rules counted the burst
    const nftCount = Number(/counter packets (\d+)/.exec((await exec(cli.ns, ['nft', 'list', 'table', 'inet', USER_TABLE])).stdout)?.[1]);
    const legacySave = (await exec(cli.ns, ['iptables-legacy-save', '-c', '-t', 'filter'])).stdout;
    const legacyCount = Number(new RegExp(`^\\[(\\d+):\\d+\\] -A OUTPUT .*--dport ${legacyPort} .*-j DROP$`, 'm').exec(legacySave)?.[1]);
    assert.deepEqual([nftCount, legacyCount], [(burst * 3) / 4, burst / 4], 'the rules counted every packet of the burst');
    const steps = (table: string, port: number): number =>
      events.filter((ev) => nfOf(ev)?.verdict === 'DROP' && nfOf(ev)?.table === table && ev.tuple?.dport === port).length;
    assert.deepEqual(
      { nft: steps(USER_TABLE, nftPort), legacy: steps('filter', legacyPort) },
      { nft: nftCount, legacy: legacyCount },
      `every drop's netfilter step printed before the exit\n${res.stderr}`,
    );
  });
}

// ------------------------------------------------------------------ tests

describe('pktpath trace --iptable / --route (integration)', () => {
  for (const { v, label } of VARIANTS) {
    test(`(1) OUTPUT DROP of a SYN in the client netns [${label}]`, { timeout: TEST_TIMEOUT }, (t) => outputDrop(t, v));
  }
  for (const { v, label } of VARIANTS) {
    test(`(2) INPUT DROP of TCP resets in the netns that receives them [${label}]`, { timeout: TEST_TIMEOUT }, (t) => inputRstDrop(t, v));
  }
  for (const { v, label } of VARIANTS) {
    test(`(3) FORWARD REJECT admin-prohibited in a router netns, ICMP 3/13 back [${label}]`, { timeout: TEST_TIMEOUT }, (t) => forwardReject(t, v));
  }
  for (const { v, label } of VARIANTS) {
    test(`(4) DNAT in nat OUTPUT: the nat step and the translated SYN on the wire [${label}]`, { timeout: TEST_TIMEOUT }, (t) => dnatOutput(t, v));
  }
  test('(5) rp_filter sysctl: IP_RPFILTER drop and the failed reverse route lookup (--route)', { timeout: TEST_TIMEOUT }, (t) => rpFilterSysctl(t));
  for (const { v, label } of VARIANTS) {
    test(`(5) reverse-path filter as a rule: prerouting DROP and the failed fib lookup [${label}]`, { timeout: TEST_TIMEOUT }, (t) => rpFilterRule(t, v));
  }
  test('(6) cleanup after SIGINT, SIGTERM, and SIGKILL followed by a new run: no pktpath tables, user rules unchanged', { timeout: TEST_TIMEOUT }, (t) =>
    cleanupCase(t),
  );
  test('(7) two runs at once: each prints only the netfilter paths its own filter matched', { timeout: TEST_TIMEOUT }, (t) => concurrentRuns(t));
  test('(8) --route: route.type follows the route found (local delivery is "local", a remote address is not)', { timeout: TEST_TIMEOUT }, (t) => routeLocal(t));
  test('(9) namespaces and iptables-legacy rules that appear during the run are picked up', { timeout: TEST_TIMEOUT }, (t) => lateArrivals(t));
  test('(10) Ctrl-C (SIGINT to the process group) right after a burst: every nft and iptables-legacy DROP step printed, then the summary', { timeout: TEST_TIMEOUT }, (t) =>
    ctrlCAfterBurst(t),
  );
});
