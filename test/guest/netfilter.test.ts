/**
 * Guest-kernel tier: the netfilter scenarios of test/integration/netfilter.test.ts on the
 * Debian 6.12 guest kernel, with a function backend and `--iptable` in the same trace, so
 * both engines run together: kprobe.multi function events and the netfilter path from
 * nftables tracing, BPF netfilter observers (iptables-legacy) and fexit on the netfilter
 * evaluation functions (nft_do_chain, ipt_do_table).
 *
 * One guest boot (scripts/vm/guest.sh) runs test/guest/nf-scenarios.ts inside it: a
 * routed topology cli - rtr - srv, one `pktpath trace --json --backend kprobe.multi
 * --iptable --route --verbose --proto any -H <cli>`, and the scenarios in three phases
 * (iptables-nft rules, native nftables rules, iptables-legacy rules in a copy of the
 * topology with the same addresses) plus the rp_filter sysctl. The recorded --json events
 * are asserted on here, one test per scenario and rule kind:
 *
 *   (1) OUTPUT DROP of a SYN in the client
 *   (2) INPUT DROP of TCP resets in the client (its connect to a closed port)
 *   (3) FORWARD REJECT (icmp admin-prohibited) in the router, ICMP 3/13 back
 *   (4) DNAT in the client's nat OUTPUT, and the translated SYN on the wire
 *   (5) reverse-path filter as a prerouting rule; and the rp_filter sysctl
 *
 * One line per verdict: fexit on nft_do_chain sees each nftables verdict on its skb, and
 * it goes out as the netfilter step once nft trace has named its rule. With
 * iptables-legacy rules the steps come from the observers, with the rule in iptables-save
 * form from the counters (they stand for ipt_do_table's verdicts). A second boot, Debian
 * 6.1 (no BPF netfilter programs, no kprobe.multi), runs only the legacy OUTPUT DROP with
 * `--backend kprobe`: fexit on ipt_do_table gives the tables' verdicts, and its DROP goes
 * out as the step the counters name.
 *
 * Skipped, with the reason printed, when not root, when the runner or the BPF object is
 * not built, or when the guest harness cannot run here (scripts/vm/can-run.sh); a rule
 * kind the guest cannot use (no nft / no iptables-nft there) skips its own tests.
 *
 * Run: node --test dist/test/guest/netfilter.test.js (guest.sh wall measured: 60-75 s on
 * 6.12 and 25-40 s on 6.1, one boot after the other). PKTPATH_NF_GUEST_REUSE=1 asserts on
 * the results the last run recorded in .guest-results/ instead of booting (to work on the
 * assertions).
 */
import { before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BPF_OBJECT, CLI_ENTRY, RECEIVE_PROBES, REPO_ROOT, TRANSMIT_PROBES, describeEvents, skipUnlessMet, tcpFlags } from '../helpers/netns.js';
import type { TraceEvent } from '../helpers/netns.js';
import { assertCleanRun, TRACEPOINT_PROBES } from '../helpers/events.js';
import { planObservers } from '../../src/netfilter/legacy/observers.js';
import type { NfEnd, NfGuestResults, NfPhase, NfScenario, NfVariant } from './nf-scenarios.js';

const GUEST = join(REPO_ROOT, 'scripts/vm/guest.sh');
const RUNNER = join(REPO_ROOT, 'dist/test/guest/nf-scenarios.js');
/** The guest run itself takes 1-2 minutes; the first run of the harness may also download a kernel. */
const TEST_TIMEOUT = 20 * 60_000;

/** One guest boot: the kernel, the backend, the runner's flags. */
interface GuestSpec {
  kernel: string;
  backend: string;
  flags: string[];
}

/** Debian 6.12: everything (kprobe.multi, fexit, BPF netfilter programs). */
const MAIN: GuestSpec = { kernel: '6.12', backend: 'kprobe.multi', flags: [] };
/**
 * Debian 6.1: no kprobe.multi, no BPF netfilter programs (6.4+). Only the legacy OUTPUT
 * DROP, and only the functions its assertions need: attaching kprobes one by one is slow
 * under TCG. A function backend is still needed for fexit on ipt_do_table.
 */
const OLD: GuestSpec = {
  kernel: '6.1',
  backend: 'kprobe',
  flags: ['--legacy-only', '--func', '^(__ip_local_out|ip_local_out|nf_hook_slow|ipt_do_table|ip_output|__dev_queue_xmit|dev_hard_start_xmit)$'],
};

/** Why this tier cannot run here (for one kernel), or null. */
function cannotRun(kernel: string): string | null {
  if (process.platform !== 'linux') return 'guest VM tests need Linux';
  if (process.getuid?.() !== 0) return 'needs root (QEMU, namespaces and BPF inside the guest)';
  if (!existsSync(RUNNER)) return 'dist/test/guest/nf-scenarios.js not built (npm run build)';
  if (!existsSync(CLI_ENTRY)) return 'the CLI is not built (npm run build)';
  if (!existsSync(BPF_OBJECT)) return 'BPF object not built (npm run build)';
  const check = spawnSync(GUEST, ['--kernel', kernel, '--check'], { encoding: 'utf8', timeout: 120_000 });
  if (check.status !== 0) return `guest harness cannot run: ${(check.stdout + check.stderr).trim().split('\n')[0] || `exit ${check.status}`}`;
  return null;
}

const why = cannotRun(MAIN.kernel);
if (why) process.stderr.write(`# guest ${MAIN.kernel} netfilter tests skipped: ${why}\n`);
const whyOld = cannotRun(OLD.kernel);
if (whyOld) process.stderr.write(`# guest ${OLD.kernel} netfilter tests skipped: ${whyOld}\n`);

// ------------------------------------------------------------------ one guest run per kernel

interface GuestRun {
  res: NfGuestResults;
  wallMs: number;
}

const guestRuns = new Map<GuestSpec, Promise<GuestRun>>();

/** Boot the guest once and run the scenarios in it; every test of that kernel awaits the same run. */
function results(spec: GuestSpec = MAIN): Promise<GuestRun> {
  let run = guestRuns.get(spec);
  if (run) return run;
  const out = join(REPO_ROOT, '.guest-results', `nf-${spec.kernel}-${spec.backend}.json`);
  if (process.env.PKTPATH_NF_GUEST_REUSE === '1' && existsSync(out)) {
    run = Promise.resolve({ res: JSON.parse(readFileSync(out, 'utf8')) as NfGuestResults, wallMs: NaN });
    guestRuns.set(spec, run);
    return run;
  }
  run = new Promise<GuestRun>((resolve, reject) => {
    mkdirSync(join(REPO_ROOT, '.guest-results'), { recursive: true });
    rmSync(out, { force: true });
    const t0 = Date.now();
    const child = spawn(GUEST, ['--kernel', spec.kernel, '--', 'node', RUNNER, spec.backend, out, ...spec.flags], {
      cwd: REPO_ROOT,
      env: { ...process.env, PKTPATH_VM_TIMEOUT: process.env.PKTPATH_VM_TIMEOUT ?? '600' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (d: string): void => {
      output = (output + d).slice(-16_000);
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallMs = Date.now() - t0;
      if (!existsSync(out)) {
        reject(new Error(`the guest produced no results (guest.sh exit ${code ?? signal} after ${wallMs} ms):\n${output.slice(-4000)}`));
        return;
      }
      try {
        resolve({ res: JSON.parse(readFileSync(out, 'utf8')) as NfGuestResults, wallMs });
      } catch (err) {
        reject(err as Error);
      }
    });
  });
  guestRuns.set(spec, run);
  return run;
}

// ------------------------------------------------------------------ events

interface NfInfo {
  pf: number;
  table: string;
  chain: string;
  hook: string;
  verdict: string;
  rule: string | null;
}

interface RouteInfo {
  table: number;
  type: string;
  err: number;
}

/** Every probe a run may name: the tracepoints, the functions of the default set, and `netfilter`. */
const PROBES: ReadonlySet<string> = new Set([
  ...TRACEPOINT_PROBES,
  'netfilter',
  ...(JSON.parse(readFileSync(join(REPO_ROOT, 'src/functions/functions.json'), 'utf8')) as { functions: { name: string }[] }).functions.map((f) => f.name),
]);

const nfOf = (ev: TraceEvent): NfInfo | null => (ev.probe === 'netfilter' && ev.nf && typeof ev.nf === 'object' ? (ev.nf as NfInfo) : null);
const routeOf = (ev: TraceEvent): RouteInfo | null =>
  ev.probe === 'fib_table_lookup' && ev.route && typeof ev.route === 'object' ? (ev.route as RouteInfo) : null;
const isSyn = (ev: TraceEvent): boolean => ev.tuple?.proto === 'tcp' && tcpFlags(ev).join(',') === 'SYN';
const isRst = (ev: TraceEvent): boolean => ev.tuple?.proto === 'tcp' && tcpFlags(ev).includes('RST');
const isNfDrop = (ev: TraceEvent): boolean => nfOf(ev)?.verdict === 'DROP';
const isKfree = (reason: string) => (ev: TraceEvent): boolean => ev.probe === 'kfree_skb' && ev.drop_reason === reason;
/** A function event (not a tracepoint, not a netfilter step) whose name matches. */
const isFn = (re: RegExp) => (ev: TraceEvent): boolean => !TRACEPOINT_PROBES.has(ev.probe) && ev.probe !== 'netfilter' && re.test(ev.probe);
const inNs = (end: NfEnd) => (ev: TraceEvent): boolean => ev.netns === end.inode;
const ts = (ev: TraceEvent): bigint => BigInt(ev.ts_ns);
/** The `nf` of an evaluation function's event (fexit nft_do_chain / ipt_do_table): the probe is the function. */
const evalOf = (ev: TraceEvent): NfInfo | null => (ev.probe !== 'netfilter' && ev.nf && typeof ev.nf === 'object' ? (ev.nf as NfInfo) : null);
/** Transmit probes, tracepoints and functions. */
const XMIT_FN = /^(__dev_queue_xmit|dev_queue_xmit|dev_hard_start_xmit|veth_xmit|sch_direct_xmit)$/;
const isXmit = (ev: TraceEvent): boolean => TRANSMIT_PROBES.has(ev.probe) || isFn(XMIT_FN)(ev);

/**
 * Checks shared by every nf step we expect (as in the integration test). `rule`: patterns
 * for an nftables rule (which carries its handle), or the exact iptables-save line of a
 * legacy rule (named from counters).
 */
function assertNfStep(ev: TraceEvent | undefined, want: { table: string; chain: string; hook: string; verdict: string; rule: RegExp[] | string }, dump: string): NfInfo {
  assert.ok(ev, `no netfilter event for ${want.table}/${want.chain} (${want.hook}, ${want.verdict})${dump}`);
  const nf = nfOf(ev);
  assert.ok(nf, `netfilter event without nf: ${JSON.stringify(ev)}`);
  assert.equal(nf.pf, 2, `pf should be NFPROTO_IPV4 (2): ${JSON.stringify(nf)}`);
  assert.equal(nf.table, want.table, `nf.table: ${JSON.stringify(nf)}`);
  assert.equal(nf.chain, want.chain, `nf.chain: ${JSON.stringify(nf)}`);
  assert.equal(nf.hook, want.hook, `nf.hook: ${JSON.stringify(nf)}`);
  assert.equal(nf.verdict, want.verdict, `nf.verdict: ${JSON.stringify(nf)}`);
  if (typeof want.rule === 'string') {
    assert.equal(nf.rule, want.rule, `nf.rule should be the legacy rule in iptables-save form: ${JSON.stringify(nf)}${dump}`);
  } else {
    for (const re of want.rule) assert.match(nf.rule ?? '', re, `nf.rule should match ${re}: ${JSON.stringify(nf)}`);
    assert.match(nf.rule ?? '', /# handle \d+/, `nf.rule should carry the rule handle: ${JSON.stringify(nf)}`);
  }
  return nf;
}

/**
 * The verdict on the packet's own skb: fexit on nft_do_chain / ipt_do_table saw it, and it
 * is printed once, as the netfilter step with the rule (nft trace or the legacy counters
 * named it) or, where nothing names rules, as the evaluation function's verdict. With
 * iptables-legacy rules, in that table and chain.
 */
function assertEvaluated(same: readonly TraceEvent[], v: NfVariant, legacy: { table: string; chain: string; hook: string; verdict: string }, what: string, dump: string): void {
  const found = same.find((ev) => {
    const nf = nfOf(ev) ?? evalOf(ev);
    return !!nf && nf.verdict === legacy.verdict && (v !== 'legacy' || (nf.table === legacy.table && nf.chain === legacy.chain));
  });
  assert.ok(found, `${what}: no ${legacy.verdict} verdict on its skb${dump}`);
  assert.ok(found.skb !== '0x0', `${what}: the verdict carries the skb fexit saw${dump}`);
}

/** A failed reverse lookup toward `spoof` (netns 0: a failed lookup has no device). */
function failedReverseLookup(evs: readonly TraceEvent[], cli: NfEnd, spoof: string): TraceEvent | undefined {
  return evs.find((ev) => {
    const r = routeOf(ev);
    return !!r && ev.tuple?.daddr === spoof && (ev.netns === cli.inode || ev.netns === 0) && (r.err !== 0 || r.type === 'no-match' || r.type === 'unreachable');
  });
}

// ------------------------------------------------------------------ per-test context

interface Ctx {
  res: NfGuestResults;
  ph: NfPhase;
  v: NfVariant;
  evs: TraceEvent[];
  cli: NfEnd;
  rtr: NfEnd;
  rtrS: NfEnd;
  srv: NfEnd;
  /** events inside the scenario's time window (its traffic and its wait) */
  win(ev: TraceEvent): boolean;
  dump(sel: (ev: TraceEvent) => boolean): string;
}

/** The run and the phase of `variant`, or null when the test was skipped (reason printed). */
async function phaseCtx(t: TestContext, variant: NfVariant, scenario: NfScenario, spec: GuestSpec = MAIN): Promise<Ctx | null> {
  if (!skipUnlessMet(t, spec === MAIN ? why : whyOld)) return null;
  const { res } = await results(spec);
  const ph = res.phases.find((p) => p.variant === variant);
  assert.ok(ph, `no ${variant} phase in the results`);
  if (!skipUnlessMet(t, ph.skipped ? `in the guest: ${ph.skipped}` : null)) return null;
  assert.ok(res.run, `the guest run did not trace: ${res.error ?? 'no run recorded'}`);
  assert.deepEqual(ph.errors, [], `driving the ${ph.label} phase failed`);
  const window = ph.windows[scenario];
  assert.ok(window, `the ${scenario} scenario of the ${ph.label} phase did not run (no time window recorded)`);
  const [w0, w1] = window.map(BigInt) as [bigint, bigint];
  const evs = res.run.result.events;
  const ends = ph.ends ?? res;
  return {
    res,
    ph,
    v: variant,
    evs,
    cli: ends.cli,
    rtr: ends.rtrC,
    rtrS: ends.rtrS,
    srv: ends.srv,
    win: (ev) => ts(ev) >= w0 && ts(ev) <= w1,
    dump: (sel) =>
      `\n[${ph.label}] outcomes ${JSON.stringify(ph.outcomes)}; waited ${JSON.stringify(ph.waited)}\nevents:\n${describeEvents(evs.filter(sel), 80)}\nrules:\n${ph.ruleset}`,
  };
}

// ------------------------------------------------------------------ (1) OUTPUT DROP

/** `nf` as `pf.table.CHAIN.VERDICT`, Mytracer's way. */
const stepName = (nf: NfInfo | null): string => (nf ? `${nf.pf}.${nf.table}.${nf.chain}.${nf.verdict}` : '?');
const byTs = (a: TraceEvent, b: TraceEvent): number => (ts(a) < ts(b) ? -1 : ts(a) > ts(b) ? 1 : 0);
/** The legacy OUTPUT path of a SYN the client's filter table drops: raw, mangle and nat (an empty chain: its policy) before filter. */
const LEGACY_OUT_PATH = ['2.raw.OUTPUT.ACCEPT', '2.mangle.OUTPUT.ACCEPT', '2.nat.OUTPUT.ACCEPT', '2.filter.OUTPUT.DROP'];

/**
 * Each NETFILTER_DROP of the SYN and the events of its skb since the previous drop of that
 * skb (a retransmitted SYN may come back in the same skb).
 */
function perDrop(evs: readonly TraceEvent[], kfrees: readonly TraceEvent[], sel: (ev: TraceEvent) => boolean): { k: TraceEvent; same: TraceEvent[] }[] {
  return kfrees.map((k) => {
    const prev = kfrees.filter((o) => o.skb === k.skb && ts(o) < ts(k)).map(ts).reduce((a, b) => (a > b ? a : b), -1n);
    return { k, same: evs.filter((ev) => ev.skb === k.skb && sel(ev) && ts(ev) > prev && ts(ev) <= ts(k)) };
  });
}

/**
 * `old`: the 6.1 run (kernel < 6.4): no observers, so the only step is the DROP named from
 * counters; ipt_do_table's verdicts only if fexit loaded there (else --verbose says why).
 */
async function outputDrop(t: TestContext, v: NfVariant, old = false): Promise<void> {
  const c = await phaseCtx(t, v, 'outDrop', old ? OLD : MAIN);
  if (!c) return;
  const { ph, evs, cli, srv } = c;
  const port = ph.ports.outDrop;
  const legacy = v === 'legacy';
  const stderr = c.res.run?.result.stderr ?? '';
  const fexit = !old || /pktpath: probe ipt_do_table \(verdict\): attached via fexit/.test(stderr);
  if (!fexit) {
    const reason = /pktpath: probe (?:ipt_do_table \(verdict\)|netfilter evaluation functions): skipped: [^\n]+/.exec(stderr);
    assert.ok(reason, `fexit on ipt_do_table is not attached, and --verbose does not say why:\n${stderr}`);
    t.diagnostic(`no ipt_do_table verdicts on ${c.res.kernel}: ${reason[0]}`);
  }
  const mine = (ev: TraceEvent): boolean => ev.tuple?.proto === 'tcp' && ev.tuple.dport === port;
  const dump = c.dump(mine);
  assert.match(ph.outcomes.outDrop ?? '', /^timeout/, `a connect through a DROP rule should time out${dump}`);

  const steps = evs.filter((ev) => mine(ev) && ev.probe === 'netfilter' && inNs(cli)(ev));
  const drop = steps.find(isNfDrop);
  const rule = legacy ? `-A OUTPUT -d ${srv.v4}/32 -p tcp -m tcp --dport ${port} -j DROP` : [/\bdrop\b/, new RegExp(`dport ${port}\\b`)];
  assertNfStep(drop, { ...ph.where.outDrop, hook: 'output', verdict: 'DROP', rule }, dump);
  assert.ok(drop && isSyn(drop) && drop.tuple?.saddr === cli.v4 && drop.tuple.daddr === srv.v4, `the DROP step should be the SYN ${cli.v4} -> ${srv.v4}:${port}${dump}`);
  assert.equal(drop?.netns_name, cli.ns, `netns_name of the nf event${dump}`);

  const kfrees = evs.filter((ev) => mine(ev) && isKfree('NETFILTER_DROP')(ev) && inNs(cli)(ev) && isSyn(ev));
  assert.ok(kfrees.length > 0, `no kfree_skb NETFILTER_DROP of the SYN in the client netns${dump}`);
  // every SYN that was dropped (the first, and a retransmission) has its nf DROP step
  assert.equal(steps.filter(isNfDrop).length, kfrees.length, `one nf DROP step per NETFILTER_DROP${dump}`);
  assert.deepEqual(evs.filter((ev) => mine(ev) && ev.netns !== cli.inode).map((ev) => `${ev.probe}@${ev.netns_name}`), [], `the dropped SYN must not leave the client${dump}`);

  // the function backend on the same skbs: into the output hook, into nf_tables or
  // ip_tables, never to a device
  for (const { k, same } of perDrop(evs, kfrees, mine)) {
    assert.ok(same.some(isFn(/^(__ip_local_out|ip_local_out)$/)), `the dropped SYN (skb ${k.skb}) at ip_local_out${dump}`);
    assert.ok(same.some(isFn(/^nf_hook_slow$/)), `the dropped SYN (skb ${k.skb}) at nf_hook_slow${dump}`);
    const skbEvents = evs.filter((ev) => ev.skb === k.skb && mine(ev));
    if (fexit) assertEvaluated(skbEvents, v, { ...ph.where.outDrop, hook: 'output', verdict: 'DROP' }, `the dropped SYN (skb ${k.skb})`, dump);
    assert.deepEqual(same.filter(isXmit).map((ev) => ev.probe), [], `the dropped SYN (skb ${k.skb}) must never reach a transmit probe${dump}`);
    if (legacy) {
      const step = steps.find((ev) => isNfDrop(ev) && ev.skb === k.skb);
      assert.ok(step, `the nf DROP step is about the freed skb (${k.skb})${dump}`);
    }
  }
  if (!legacy) return;
  if (old) {
    // before 6.4 there are no observers: legacy drops are named from counters, nothing else
    assert.deepEqual(steps.filter((ev) => !isNfDrop(ev)).map((ev) => stepName(nfOf(ev))), [], `without observers no legacy ACCEPT steps${dump}`);
    if (!fexit) return;
  }

  // iptables-legacy: the path of the first dropped SYN, table by table, as Mytracer prints
  // it, from the observers (with each step's rule from the counters) ...
  const first = [...kfrees].sort(byTs)[0]!;
  const { same } = perDrop(evs, [first], mine)[0]!;
  const obs = old ? [] : same.filter((ev) => ev.probe === 'netfilter');
  // (the DROP step is told at the drop: it may carry the kfree's time, so take it from all steps)
  const path = [...obs.filter((ev) => !isNfDrop(ev)), ...steps.filter((ev) => isNfDrop(ev) && ev.skb === first.skb && ts(ev) >= ts(first))].sort(byTs);
  if (!old) {
    assert.deepEqual(path.map((ev) => stepName(nfOf(ev))).slice(0, 4), LEGACY_OUT_PATH, `the observers' legacy path of the SYN (skb ${first.skb})${dump}`);
    for (const ev of path.slice(0, 3)) assert.equal(nfOf(ev)?.rule, 'policy ACCEPT of chain OUTPUT', `an OUTPUT chain with no rule for this SYN accepts by policy${dump}`);
  }
  // ... one line per table verdict: where the observers watch, their steps stand for
  // ipt_do_table's (fexit) verdicts; without them (6.1) ipt_do_table's verdicts are the
  // ACCEPT steps, and its DROP waits for the counters and goes out as the ruled step
  // (up to the first drop: the SYN's retransmission may reuse the freed skb's address)
  const evals = evs.filter((ev) => ev.skb === first.skb && ev.probe === 'ipt_do_table' && evalOf(ev) && (!old || ts(ev) <= ts(first))).sort(byTs);
  if (!old) {
    assert.deepEqual(evals.map((ev) => stepName(evalOf(ev))), [], `no ipt_do_table verdict beside the observers' steps (one line per verdict)${dump}`);
    return;
  }
  const ruled = steps.find((ev) => isNfDrop(ev) && ev.skb === first.skb)!;
  assert.deepEqual([...evals.map((ev) => stepName(evalOf(ev))), stepName(nfOf(ruled))], LEGACY_OUT_PATH, `the tables' verdicts of the SYN (skb ${first.skb})${dump}`);
  for (const ev of evals) assert.equal(evalOf(ev)?.rule, null, `an ipt_do_table ACCEPT names no rule: ${JSON.stringify(ev.nf)}`);
  assert.ok(ts(ruled) <= ts(first), `the filter DROP (fexit's time) before the kfree_skb${dump}`);
}

// ------------------------------------------------------------------ (2) INPUT DROP of resets

async function inputRstDrop(t: TestContext, v: NfVariant): Promise<void> {
  const c = await phaseCtx(t, v, 'rst');
  if (!c) return;
  const { ph, evs, cli, rtr, srv } = c;
  const port = ph.ports.rst;
  const mine = (ev: TraceEvent): boolean => ev.tuple?.proto === 'tcp' && (ev.tuple.dport === port || ev.tuple.sport === port);
  const reset = (ev: TraceEvent): boolean => mine(ev) && isRst(ev) && ev.tuple?.sport === port && ev.tuple.saddr === srv.v4 && ev.tuple.daddr === cli.v4;
  const dump = c.dump(mine);
  assert.match(ph.outcomes.rst ?? '', /^timeout/, `with resets dropped, a connect to a closed port should time out${dump}`);

  const drop = evs.find((ev) => reset(ev) && inNs(cli)(ev) && isNfDrop(ev));
  const rule = v === 'legacy' ? '-A INPUT -p tcp -m tcp --tcp-flags RST RST -j DROP' : [/\brst\b/i, /tcp flags/];
  assertNfStep(drop, { ...ph.where.rst, hook: 'input', verdict: 'DROP', rule }, dump);

  assert.ok(evs.some((ev) => reset(ev) && inNs(srv)(ev) && TRANSMIT_PROBES.has(ev.probe)), `the reset should leave the server${dump}`);
  assert.ok(evs.some((ev) => reset(ev) && inNs(rtr)(ev) && isFn(/^ip_forward$/)(ev)), `the reset should be forwarded by the router (ip_forward)${dump}`);
  const kfree = evs.find((ev) => reset(ev) && inNs(cli)(ev) && isKfree('NETFILTER_DROP')(ev));
  assert.ok(kfree, `no kfree_skb NETFILTER_DROP of the reset in the client${dump}`);
  const same = evs.filter((ev) => ev.skb === kfree.skb && reset(ev) && inNs(cli)(ev));
  assert.ok(same.some(isFn(/^ip_rcv$/)), `the dropped reset (skb ${kfree.skb}) at ip_rcv in the client${dump}`);
  assert.ok(same.some(isFn(/^ip_local_deliver$/)), `the dropped reset (skb ${kfree.skb}) at ip_local_deliver (the INPUT hook runs there)${dump}`);
  if (v === 'legacy') assertEvaluated(same, v, { ...ph.where.rst, hook: 'input', verdict: 'DROP' }, `the dropped reset (skb ${kfree.skb})`, dump);
  assert.deepEqual(same.filter(isFn(/^tcp_v4_rcv$/)).map((ev) => ev.probe), [], `a reset dropped in INPUT must not reach tcp_v4_rcv${dump}`);
  assert.ok(!evs.some((ev) => reset(ev) && inNs(cli)(ev) && ev.probe === 'tcp_receive_reset'), `a dropped reset must not reach TCP${dump}`);
}

// ------------------------------------------------------------------ (3) FORWARD REJECT

async function forwardReject(t: TestContext, v: NfVariant): Promise<void> {
  const c = await phaseCtx(t, v, 'fwd');
  if (!c) return;
  const { ph, evs, cli, rtr, rtrS, srv } = c;
  const port = ph.ports.fwd;
  const syn = (ev: TraceEvent): boolean => isSyn(ev) && ev.tuple?.dport === port && ev.tuple.saddr === cli.v4 && ev.tuple.daddr === srv.v4;
  const unreach = (ev: TraceEvent): boolean =>
    ev.probe !== 'netfilter' && ev.tuple?.proto === 'icmp' && ev.tuple.icmp_type === 3 && ev.tuple.icmp_code === 13 && ev.tuple.saddr === rtr.v4 && ev.tuple.daddr === cli.v4;
  const dump = c.dump((ev) => (ev.tuple?.proto === 'tcp' && ev.tuple.dport === port) || (c.win(ev) && ev.tuple?.proto === 'icmp'));
  assert.equal(ph.outcomes.fwd, 'error EHOSTUNREACH', `a REJECT with admin-prohibited fails the connect at once with EHOSTUNREACH${dump}`);

  const drop = evs.find((ev) => syn(ev) && inNs(rtr)(ev) && isNfDrop(ev));
  const rule = v === 'legacy' ? `-A FORWARD -p tcp -m tcp --dport ${port} -j REJECT --reject-with icmp-admin-prohibited` : [/\breject\b/, /admin-prohibited/];
  assertNfStep(drop, { ...ph.where.fwd, hook: 'forward', verdict: 'DROP', rule }, dump);
  assert.equal(drop?.ifname, rtr.ifname, `a forward step names the router's input device${dump}`);

  const kfree = evs.find((ev) => syn(ev) && inNs(rtr)(ev) && isKfree('NETFILTER_DROP')(ev));
  assert.ok(kfree, `no kfree_skb NETFILTER_DROP of the SYN in the router${dump}`);
  const same = evs.filter((ev) => ev.skb === kfree.skb && syn(ev) && inNs(rtr)(ev));
  assert.ok(same.some(isFn(/^ip_forward$/)), `the rejected SYN (skb ${kfree.skb}) at ip_forward${dump}`);
  assertEvaluated(same, v, { ...ph.where.fwd, hook: 'forward', verdict: 'DROP' }, `the rejected SYN (skb ${kfree.skb})`, dump);
  assert.ok(same.some(isFn(/^__icmp_send$/)), `the ICMP error sent for that very skb (__icmp_send)${dump}`);
  const sends = same.filter((ev) => ev.probe === 'icmp_send');
  assert.ok(sends.length > 0, `no icmp_send tracepoint for the rejected SYN${dump}`);
  for (const ev of sends) assert.deepEqual(ev.info, { type: 3, code: 13 }, `icmp_send info: ${JSON.stringify(ev)}`);
  assert.ok(!evs.some((ev) => syn(ev) && inNs(srv)(ev)), `the SYN must not reach the server${dump}`);
  assert.ok(!evs.some((ev) => syn(ev) && ev.ifname === rtrS.ifname && inNs(rtr)(ev) && isXmit(ev)), `the SYN must not leave the router toward the server${dump}`);

  // the ICMP destination unreachable, code 13 (communication administratively prohibited), going back
  assert.ok(evs.some((ev) => c.win(ev) && unreach(ev) && inNs(rtr)(ev) && TRANSMIT_PROBES.has(ev.probe)), `no ICMP 3/13 ${rtr.v4} -> ${cli.v4} leaving the router${dump}`);
  assert.ok(evs.some((ev) => c.win(ev) && unreach(ev) && inNs(cli)(ev) && RECEIVE_PROBES.has(ev.probe)), `no ICMP 3/13 arriving in the client${dump}`);
  assert.ok(evs.some((ev) => c.win(ev) && unreach(ev) && inNs(cli)(ev) && isFn(/^icmp_rcv$/)(ev)), `the ICMP 3/13 at icmp_rcv in the client${dump}`);
}

// ------------------------------------------------------------------ (4) DNAT

async function dnatOutput(t: TestContext, v: NfVariant): Promise<void> {
  const c = await phaseCtx(t, v, 'dnat');
  if (!c) return;
  const { ph, evs, cli, srv, res } = c;
  const vip = ph.vip;
  const real = res.dnatPort;
  const before = (ev: TraceEvent): boolean => isSyn(ev) && ev.tuple?.saddr === cli.v4 && ev.tuple.daddr === vip && ev.tuple.dport === 80;
  const after = (ev: TraceEvent): boolean => isSyn(ev) && ev.tuple?.saddr === cli.v4 && ev.tuple.daddr === srv.v4 && ev.tuple.dport === real;
  const dump = c.dump((ev) => c.win(ev) && ev.tuple?.proto === 'tcp' && (ev.tuple.daddr === vip || ev.tuple.saddr === vip || ev.tuple.dport === real || ev.tuple.sport === real));
  assert.equal(ph.outcomes.dnat, 'connected', `connect to ${vip}:80 should reach ${srv.v4}:${real} through DNAT${dump}`);

  const nat = evs.find((ev) => before(ev) && inNs(cli)(ev) && /\bdnat\b/i.test(nfOf(ev)?.rule ?? ''));
  const rule =
    v === 'legacy'
      ? `-A OUTPUT -d ${vip}/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination ${srv.v4}:${real}`
      : [/\bdnat\b/, new RegExp(`${srv.v4.replace(/\./g, '\\.')}:${real}\\b`)];
  assertNfStep(nat, { ...ph.where.dnat, hook: 'output', verdict: 'ACCEPT', rule }, dump);

  // the function backend follows the very skb through the translation: VIP before, srv after
  const pre = evs.find((ev) => c.win(ev) && before(ev) && inNs(cli)(ev) && isFn(/^(__ip_local_out|ip_local_out|nf_hook_slow)$/)(ev));
  assert.ok(pre, `the SYN to ${vip}:80 at ip_local_out / nf_hook_slow before the translation${dump}`);
  // the nat table's step (the observers', one line per verdict) is about that skb, still to the VIP
  if (v === 'legacy') assert.equal(nat?.skb, pre.skb, `the nat step is about that skb${dump}`);
  const post = evs.filter((ev) => ev.skb === pre.skb && after(ev) && inNs(cli)(ev) && ts(ev) >= ts(pre));
  assert.ok(post.some(isFn(/^ip_output$/)), `the same skb (${pre.skb}) at ip_output, addressed to ${srv.v4}:${real}${dump}`);
  if (v === 'legacy') {
    const filter = post.map(nfOf).find((nf) => nf?.table === 'filter' && nf.chain === 'OUTPUT');
    assert.equal(filter?.verdict, 'ACCEPT', `the translated SYN (skb ${pre.skb}) through the filter table, after nat${dump}`);
  }
  const wire = post.find((ev) => ev.probe === 'net_dev_queue');
  assert.ok(wire, `net_dev_queue of the translated SYN (skb ${pre.skb}) in the client${dump}`);
  assert.equal(wire.ifname, cli.ifname, `the translated SYN leaves on ${cli.ifname}${dump}`);
  assert.ok(evs.some((ev) => c.win(ev) && after(ev) && inNs(srv)(ev) && RECEIVE_PROBES.has(ev.probe)), `the translated SYN should arrive at the server${dump}`);
  assert.ok(evs.some((ev) => c.win(ev) && after(ev) && inNs(srv)(ev) && isFn(/^tcp_v4_rcv$/)(ev)), `the translated SYN at tcp_v4_rcv in the server${dump}`);
  assert.deepEqual(
    evs.filter((ev) => ev.tuple?.daddr === vip && isXmit(ev)).map((ev) => `${ev.probe}@${ev.netns_name}`),
    [],
    `no packet on the wire is addressed to the VIP${dump}`,
  );
  assert.ok(!evs.some((ev) => c.win(ev) && (before(ev) || after(ev)) && isKfree('NETFILTER_DROP')(ev)), `DNAT must not drop${dump}`);
}

// ------------------------------------------------------------------ (5) reverse-path filtering

async function rpFilterRule(t: TestContext, v: NfVariant): Promise<void> {
  const c = await phaseCtx(t, v, 'rp');
  if (!c) return;
  const { ph, evs, cli } = c;
  const spoof = ph.spoof;
  const echo = (ev: TraceEvent): boolean => ev.tuple?.proto === 'icmp' && ev.tuple.saddr === spoof && ev.tuple.daddr === cli.v4 && ev.tuple.icmp_type === 8;
  const dump = c.dump((ev) => ev.tuple?.saddr === spoof || ev.tuple?.daddr === spoof);
  assert.match(ph.outcomes.rp ?? '', /1 packets transmitted, 0 received/, `the ping from ${spoof} should get no reply${dump}`);

  const step = evs.find((ev) => echo(ev) && inNs(cli)(ev) && isNfDrop(ev));
  const rule = v === 'legacy' ? '-A PREROUTING -m rpfilter --invert -j DROP' : [/fib saddr \. iif oif/, /\bdrop\b/];
  assertNfStep(step, { ...ph.where.rp, hook: 'prerouting', verdict: 'DROP', rule }, dump);
  const kfree = evs.find((ev) => echo(ev) && inNs(cli)(ev) && isKfree('NETFILTER_DROP')(ev));
  assert.ok(kfree, `no kfree_skb NETFILTER_DROP of the echo request in the client${dump}`);
  const same = evs.filter((ev) => ev.skb === kfree.skb && echo(ev) && inNs(cli)(ev));
  assert.ok(same.some(isFn(/^ip_rcv$/)), `the dropped echo request (skb ${kfree.skb}) at ip_rcv${dump}`);
  assertEvaluated(same, v, { ...ph.where.rp, hook: 'prerouting', verdict: 'DROP' }, `the dropped echo request (skb ${kfree.skb})`, dump);
  assert.deepEqual(same.filter(isFn(/^(ip_rcv_finish|ip_route_input_noref|icmp_rcv)$/)).map((ev) => ev.probe), [], `a packet dropped in prerouting must not get to routing or ICMP${dump}`);
  assert.ok(!evs.some((ev) => echo(ev) && ev.drop_reason === 'IP_RPFILTER'), `rp_filter is off: the kernel's own check must not drop${dump}`);
  assert.ok(failedReverseLookup(evs, cli, spoof), `the rule's failed fib lookup toward ${spoof} should show with --route${dump}`);
}

async function rpFilterSysctl(t: TestContext): Promise<void> {
  if (!skipUnlessMet(t, why)) return;
  const { res } = await results();
  const sc = res.sysctl;
  if (!skipUnlessMet(t, sc.skipped ? `in the guest: ${sc.skipped}` : null)) return;
  assert.ok(res.run, `the guest run did not trace: ${res.error ?? 'no run recorded'}`);
  assert.deepEqual(sc.errors, [], 'driving the rp_filter sysctl scenario failed');
  const evs = res.run.result.events;
  const cli = res.cli;
  const echo = (ev: TraceEvent): boolean => ev.tuple?.proto === 'icmp' && ev.tuple.saddr === sc.spoof && ev.tuple.daddr === cli.v4 && ev.tuple.icmp_type === 8;
  const dump = `\noutcome ${sc.outcome}\nevents:\n${describeEvents(evs.filter((ev) => ev.tuple?.saddr === sc.spoof || ev.tuple?.daddr === sc.spoof), 80)}`;
  assert.match(sc.outcome, /1 packets transmitted, 0 received/, `the ping from ${sc.spoof} should get no reply${dump}`);

  const drop = evs.find((ev) => echo(ev) && isKfree('IP_RPFILTER')(ev));
  assert.ok(drop, `no kfree_skb IP_RPFILTER of the echo request${dump}`);
  assert.equal(drop.netns, cli.inode, `the rp_filter drop is in the client${dump}`);
  const same = evs.filter((ev) => ev.skb === drop.skb && echo(ev));
  assert.ok(same.some(isFn(/^ip_rcv$/)), `the dropped echo request (skb ${drop.skb}) at ip_rcv${dump}`);
  assert.ok(same.some(isFn(/^ip_route_input_noref$/)), `the dropped echo request (skb ${drop.skb}) at ip_route_input_noref, where rp_filter runs${dump}`);
  assert.ok(failedReverseLookup(evs, cli, sc.spoof), `no failed route lookup toward ${sc.spoof}${dump}`);
  assert.deepEqual(
    evs.filter((ev) => ev.probe === 'netfilter' && (ev.tuple?.saddr === sc.spoof || ev.tuple?.daddr === sc.spoof)).map((ev) => JSON.stringify(ev.nf)),
    [],
    `no rules are left in this phase, so no netfilter steps${dump}`,
  );
  assert.match(res.run.result.stderr, /IP_RPFILTER/, 'the summary names IP_RPFILTER');
}

// ------------------------------------------------------------------ iptables-legacy: the methods, the run, the summary

const esc = (x: string): string => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The run's common checks: it traced, exited cleanly, lost nothing, and its netfilter path reported no problem. */
function assertRun(res: NfGuestResults, spec: GuestSpec): NonNullable<NfGuestResults['run']> {
  const run = res.run;
  assert.equal(res.error, undefined, `the guest runner failed: ${res.error}`);
  assert.ok(run, 'the trace ran');
  assert.ok(res.kernel.startsWith(spec.kernel), `guest kernel ${res.kernel}`);
  assert.match(run.result.stderr, new RegExp(`functions via ${esc(spec.backend)}(?![.\\w])`), `the chosen backend is ${spec.backend}:\n${run.result.stderr}`);
  assertCleanRun(run.result, PROBES);
  const summary = /(\d+) events, (\d+) lost/.exec(run.result.stderr);
  assert.ok(summary, `no summary line:\n${run.result.stderr}`);
  assert.equal(summary[2], '0', `events were lost:\n${run.result.stderr}`);
  // problems are `netfilter path: ...` and `netfilter path in NS: ...` (not --verbose's `netfilter path via ...`)
  assert.doesNotMatch(run.result.stderr, /netfilter path(?: in [^:\n]+)?: /, `the netfilter path reported a problem:\n${run.result.stderr}`);
  return run;
}

async function legacyMethods(t: TestContext): Promise<void> {
  const c = await phaseCtx(t, 'legacy', 'outDrop');
  if (!c) return;
  const { evs, cli, rtr, srv } = c;
  const stderr = c.res.run!.result.stderr;
  const dump = `\nstderr:\n${stderr}`;
  assert.match(stderr, new RegExp(`pktpath: iptables-legacy rules in [^\\n]*\\b${esc(cli.ns)}\\b[^\\n]*: their drops are named from rule counters`), `--verbose names the namespaces with legacy rules${dump}`);
  // observers around each table at each hook it registers, as planned (src/netfilter/legacy/observers.ts):
  // raw, mangle, nat and filter in the client (21 spots), filter in the router (6)
  const planned = (tables: string[]): number => planObservers({ ipv4: tables, ipv6: [] }).length;
  for (const [end, spots] of [[cli, planned(['raw', 'mangle', 'nat', 'filter'])], [rtr, planned(['filter'])]] as const) {
    assert.match(stderr, new RegExp(`pktpath: iptables-legacy path in ${esc(end.ns)} via BPF netfilter observers at ${spots} hook positions\\n`), `--verbose: observers around the legacy tables of ${end.ns}${dump}`);
  }
  assert.doesNotMatch(stderr, new RegExp(`iptables-legacy path in ${esc(srv.ns)}\\b`), `no legacy tables in ${srv.ns}, so no observers there${dump}`);
  assert.doesNotMatch(stderr, /no netfilter observers/, `6.4+: the observers load${dump}`);
  assert.match(stderr, /^pktpath: probe ipt_do_table \(verdict\): attached via fexit$/m, `--verbose: ipt_do_table's verdict via fexit${dump}`);
  assert.match(stderr, /^pktpath: probe nft_do_chain \(verdict\): attached via fexit$/m, `--verbose: nft_do_chain's verdict via fexit${dump}`);
  // one line per verdict: where the observers watch (here, every legacy table), their steps
  // stand for ipt_do_table's fexit verdicts, so none is left as an event of its own; any that
  // is (a table the observers missed) is in the legacy client or router
  const verdicts = evs.filter((ev) => ev.probe === 'ipt_do_table' && evalOf(ev));
  const steps = evs.filter((ev) => ev.probe === 'netfilter' && [cli.ns, rtr.ns].includes(String(ev.netns_name ?? '')));
  assert.ok(steps.length > 0, `observer steps in the legacy client and router${dump}`);
  const where = new Set(verdicts.map((ev) => ev.netns_name ?? String(ev.netns)));
  assert.deepEqual([...where].filter((ns) => ns !== cli.ns && ns !== rtr.ns), [], `ipt_do_table verdicts in the legacy client and router only`);
}

/**
 * The summary's `why:` line for the legacy OUTPUT DROP names the rule that decided, though
 * the fexit ipt_do_table DROP event (rule null) comes before the counter-named step.
 */
async function legacyWhy(t: TestContext, old = false): Promise<void> {
  const c = await phaseCtx(t, 'legacy', 'outDrop', old ? OLD : MAIN);
  if (!c) return;
  const { ph, cli, srv } = c;
  const stderr = c.res.run!.result.stderr;
  const line = stderr.split('\n').find((l) => l.startsWith('pktpath: why: dropped NETFILTER_DROP') && l.includes(`in netns ${cli.ns} `));
  assert.ok(line, `no why: line for the NETFILTER_DROP in ${cli.ns}:\n${stderr}`);
  const rule = `-A OUTPUT -d ${srv.v4}/32 -p tcp -m tcp --dport ${ph.ports.outDrop} -j DROP`;
  assert.ok(line.includes(`Decided in 2.filter.OUTPUT by: ${rule}.`), `the why: line should name the rule ${JSON.stringify(rule)}:\n${line}`);
}


// ------------------------------------------------------------------ tests

const VARIANTS: readonly { v: NfVariant; label: string }[] = [
  { v: 'iptables', label: 'iptables-nft' },
  { v: 'nft', label: 'nftables' },
  { v: 'legacy', label: 'iptables-legacy' },
];

describe(`guest ${MAIN.kernel}: --backend ${MAIN.backend} with --iptable, the netfilter scenarios`, { timeout: TEST_TIMEOUT }, () => {
  before(async () => {
    if (why) return;
    await results().catch(() => undefined); // each test reports a failed run itself
  });

  test('one trace, all engines: functions via kprobe.multi, nft trace steps, legacy observer steps, fexit verdicts; clean exit', async (t) => {
    if (!skipUnlessMet(t, why)) return;
    const { res, wallMs } = await results();
    t.diagnostic(
      `kernel ${res.kernel}; guest.sh wall ${(wallMs / 1000).toFixed(1)} s; runner ${JSON.stringify(res.timings)}; phases ${JSON.stringify(res.phases.map((p) => [p.label, p.ms]))}; ` +
        `guest uptime ${res.uptime.start}-${res.uptime.end} s; ${res.run?.result.events.length ?? 0} events; tools ${JSON.stringify(res.tools)}`,
    );
    const skipped = [...res.phases.map((p) => p.skipped), res.sysctl.skipped];
    if (skipped.every(Boolean) && !skipUnlessMet(t, `in the guest: ${skipped.join('; ')}`)) return;
    const run = assertRun(res, MAIN);
    const evs = run.result.events;
    const namespaces = new Set([res.cli.inode, res.rtrC.inode, res.srv.inode]);
    for (const ph of res.phases) if (ph.ends && !ph.skipped) for (const e of [ph.ends.cli, ph.ends.rtrC, ph.ends.srv]) namespaces.add(e.inode);
    const nf = evs.filter((ev) => ev.probe === 'netfilter');
    assert.ok(nf.length > 0, 'no netfilter events');
    assert.deepEqual(nf.filter((ev) => !namespaces.has(ev.netns)).map((ev) => ev.netns), [], 'netfilter steps only in the namespaces the test made');
    assert.ok(evs.some(isFn(/^ip_rcv$/)) && evs.some(isFn(/^nf_hook_slow$/)) && evs.some(isFn(/^nft_do_chain/)), 'function events (ip_rcv, nf_hook_slow, nft_do_chain*)');
  });

  for (const { v, label } of VARIANTS) {
    test(`(1) OUTPUT DROP of a SYN in the client [${label}]`, (t) => outputDrop(t, v));
    test(`(2) INPUT DROP of TCP resets in the client [${label}]`, (t) => inputRstDrop(t, v));
    test(`(3) FORWARD REJECT admin-prohibited in the router, ICMP 3/13 back [${label}]`, (t) => forwardReject(t, v));
    test(`(4) DNAT in nat OUTPUT: the nat step, the same skb translated on the wire [${label}]`, (t) => dnatOutput(t, v));
    test(`(5) reverse-path filter as a prerouting rule: DROP and the failed fib lookup [${label}]`, (t) => rpFilterRule(t, v));
  }
  test('(5) rp_filter sysctl: IP_RPFILTER drop at ip_route_input_noref and the failed reverse lookup', (t) => rpFilterSysctl(t));
  test('iptables-legacy --verbose: via BPF netfilter observers around each legacy table, ipt_do_table (verdict) via fexit', (t) => legacyMethods(t));
  test('iptables-legacy why: line names the rule of the OUTPUT DROP', (t) => legacyWhy(t));
});

describe(`guest ${OLD.kernel}: --backend ${OLD.backend} with --iptable, an iptables-legacy OUTPUT DROP (no BPF netfilter programs)`, { timeout: TEST_TIMEOUT }, () => {
  before(async () => {
    if (whyOld) return;
    await results(OLD).catch(() => undefined);
  });

  test('the run: kprobe, legacy drops named from counters, no observers before 6.4; clean exit', async (t) => {
    if (!skipUnlessMet(t, whyOld)) return;
    const { res, wallMs } = await results(OLD);
    t.diagnostic(
      `kernel ${res.kernel}; guest.sh wall ${(wallMs / 1000).toFixed(1)} s; runner ${JSON.stringify(res.timings)}; guest uptime ${res.uptime.start}-${res.uptime.end} s; ` +
        `${res.run?.result.events.length ?? 0} events`,
    );
    const ph = res.phases.find((p) => p.variant === 'legacy');
    assert.ok(ph, 'no iptables-legacy phase in the results');
    if (!skipUnlessMet(t, ph.skipped ? `in the guest: ${ph.skipped}` : null)) return;
    const run = assertRun(res, OLD);
    const stderr = run.result.stderr;
    assert.match(stderr, new RegExp(`pktpath: iptables-legacy rules in [^\\n]*\\b${esc(res.cli.ns)}\\b[^\\n]*: their drops are named from rule counters`), `--verbose names the legacy namespaces:\n${stderr}`);
    assert.match(stderr, /pktpath: no netfilter observers: this kernel has no BPF netfilter hook programs \(Linux 6\.4\+\)/, `--verbose says why there are no observers:\n${stderr}`);
    assert.doesNotMatch(stderr, /via BPF netfilter observers/, `no observers before 6.4:\n${stderr}`);
    const fexit = /^pktpath: probe ipt_do_table \(verdict\): (.*)$/m.exec(stderr) ?? /^pktpath: probe netfilter evaluation functions: (.*)$/m.exec(stderr);
    assert.ok(fexit, `--verbose says whether ipt_do_table's verdict is traced:\n${stderr}`);
    t.diagnostic(`ipt_do_table (verdict) on ${res.kernel}: ${fexit[1]}`);
  });
  test('(1) OUTPUT DROP of a SYN in the client [iptables-legacy]: the rule from counters, ipt_do_table verdicts', (t) => outputDrop(t, 'legacy', true));
  test('iptables-legacy why: line names the rule of the OUTPUT DROP', (t) => legacyWhy(t, true));
});
