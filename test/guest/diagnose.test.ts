/**
 * Guest-kernel tier of the diagnosis (issue 9): the no-listener, REJECT (ICMP
 * admin-prohibited and TCP reset) and PMTU black hole cases of
 * test/integration/diagnose.test.ts, traced with a function backend, which this host
 * cannot run. One boot runs test/guest/diagnose-scenarios.ts, which records one
 * `pktpath trace --json --backend B --func ...` per backend over the four scenes (the
 * traces side by side, on the same traffic); here each scene's events are diagnosed (the
 * library, as the integration tier does) and:
 *
 *   - the case's rule holds, in the right namespace, on the right evidence and words,
 *     and no other error or warning fires in that scene;
 *   - the trace's own why: lines name the rule;
 *   - the function backend ran: the trace says "functions via B", and the packet the
 *     finding is about was seen by a traced kernel function (tcp_v4_rcv, nf_hook_slow,
 *     ip_forward) in the finding's namespace, on the path the report gives for it, once
 *     per entry (a function's return is not a step);
 *   - locations in modules (nf_tables) are named by their bare function.
 *
 *   6.12: fentry, kprobe.multi
 *
 * Skipped, with the reason printed, when not root, not built, or when the guest harness
 * cannot run here. Run: node --test dist/test/guest/diagnose.test.js (about 1.5-2 min).
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, describeEvents } from '../helpers/netns.js';
import type { TraceEvent, TraceResult } from '../helpers/netns.js';
import { describeReport, diagnose } from '../helpers/scenes.js';
import type { Report } from '../../src/diagnose/index.js';
import { GUEST_CASES } from './diagnose-cases.js';
import type { DiagnoseResults, GuestCase, SceneRecord } from './diagnose-cases.js';

const GUEST = join(REPO_ROOT, 'scripts/vm/guest.sh');
const OUT_DIR = join(REPO_ROOT, '.guest-results');
const RUNNER = join(REPO_ROOT, 'dist/test/guest/diagnose-scenarios.js');

function cannotRun(): string | null {
  if (process.geteuid?.() !== 0) return 'needs root (QEMU, namespaces and BPF inside the guest)';
  if (!existsSync(RUNNER)) return 'dist/test/guest/diagnose-scenarios.js not built';
  if (!existsSync(join(REPO_ROOT, 'build/pktpath.bpf.o'))) return 'BPF object not built';
  const check = spawnSync(GUEST, ['--check'], { encoding: 'utf8' });
  if (check.status !== 0) return `guest harness cannot run: ${(check.stdout + check.stderr).trim() || `exit ${check.status}`}`;
  return null;
}
const why = cannotRun();

const BACKENDS = ['fentry', 'kprobe.multi'] as const;
let recorded: DiagnoseResults | undefined;

/** One boot for both backends: their traces load side by side (the load is most of the time). */
function runGuest(t: TestContext): DiagnoseResults {
  if (recorded) return recorded;
  mkdirSync(OUT_DIR, { recursive: true });
  const out = join(OUT_DIR, 'diagnose-6.12.json');
  // PKTPATH_GUEST_REUSE=1: assert on the last run's recording, without a boot (working on the assertions)
  if (process.env.PKTPATH_GUEST_REUSE === '1' && existsSync(out)) {
    t.diagnostic(`PKTPATH_GUEST_REUSE=1: the recording of an earlier run, ${out}`);
    return (recorded = JSON.parse(readFileSync(out, 'utf8')) as DiagnoseResults);
  }
  rmSync(out, { force: true });
  const t0 = Date.now();
  const r = spawnSync(GUEST, ['--kernel', '6.12', '--', 'node', RUNNER, BACKENDS.join(','), out], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 15 * 60_000, maxBuffer: 64 << 20 });
  if (!existsSync(out)) throw new Error(`the guest produced no results (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-4000)}`);
  recorded = JSON.parse(readFileSync(out, 'utf8')) as DiagnoseResults;
  t.diagnostic(`guest boot ${Math.round((Date.now() - t0) / 1000)} s for both backends; ${recorded.notes.join('; ')}`);
  return recorded;
}

/** The scene's own events: those in one of its namespaces (a return whose entry was not seen names none). */
function sceneEvents(evs: readonly TraceEvent[], s: SceneRecord): TraceEvent[] {
  const mine = new Set(Object.values(s.inode).filter((i) => i !== 0));
  return evs.filter((ev) => mine.has(ev.netns));
}

/** The integration tier's checks (test/integration/diagnose.test.ts), on one scene of the shared trace. */
function checkRule(g: GuestCase, s: SceneRecord, report: Report, res: TraceResult, dump: string): Report['findings'][number] {
  const c = g.c;
  if (c.outcome) assert.match(s.outcome, c.outcome, `the client saw "${s.outcome}"${dump}`);
  const f = report.findings.find((x) => x.rule === c.rule);
  assert.ok(f, `no ${c.rule} finding${dump}`);
  if (c.at) assert.equal(f.where.netns, s.inode[c.at], `${c.rule} should be in netns ${c.at}${dump}`);
  for (const probe of c.evidence ?? []) assert.ok(f.evidence.some((e) => e.probe === probe), `${c.rule}: no ${probe} event in the evidence${dump}`);
  for (const role of c.roles ?? []) assert.ok(f.evidence.some((e) => e.role === role), `${c.rule}: no "${role}" evidence${dump}`);
  if (c.words) assert.match(`${f.verdict} ${f.what}`, c.words, `${c.rule}: words${dump}`);
  const wrong = report.findings.filter((x) => (x.level === 'error' || x.level === 'warn') && x.rule !== c.rule && !(c.also ?? []).includes(x.rule));
  assert.deepEqual(wrong.map((x) => x.rule), [], `rules that should not fire${dump}`);
  assert.ok(res.stderr.includes(`[${c.rule}]`), `the trace's why: lines should name ${c.rule}${dump}`);
  return f;
}

/** The function backend saw the finding's dropped packet, and the report's path of it shows that function. */
function checkFunction(g: GuestCase, s: SceneRecord, f: Report['findings'][number], report: Report, evs: readonly TraceEvent[], dump: string, t: TestContext): void {
  for (const e of f.evidence) assert.equal(evs[e.n - 1]?.probe, e.probe, `evidence #${e.n} is event ${e.n} of the scene${dump}`);
  const drop = f.evidence.find((e) => e.probe === 'kfree_skb');
  assert.ok(drop, `${g.c.rule}: a kfree_skb in the evidence${dump}`);
  const dropped = evs[drop.n - 1]!;
  const ns = g.c.at ? s.inode[g.c.at] : f.where.netns;
  const seen = evs.filter((ev) => ev.probe === g.func && ev.skb === dropped.skb && ev.netns === ns);
  assert.ok(seen.length > 0, `${g.func} (function backend) saw the dropped packet ${dropped.skb} in netns ${ns}${dump}`);
  // the report's path of that packet (an skb address is reused by later packets: the path holds the drop)
  const path = report.flows.find((x) => x.id === f.flowId)?.paths.find((p) => p.stages.some((st) => st.n === drop.n));
  assert.ok(path, `the report gives the path of the dropped packet (event #${drop.n})${dump}`);
  const steps = path.stages.filter((st) => st.probe === g.func && st.netns === ns).length;
  assert.ok(steps > 0, `the path of ${dropped.skb} shows ${g.func}${dump}`);
  // a function's return is not a step of its own: once per entry in the packet's life
  const life = evs.slice(path.stages[0]!.n - 1, path.stages.at(-1)!.n);
  const entries = life.filter((ev) => ev.probe === g.func && ev.skb === dropped.skb && ev.netns === ns && !('ret' in ev)).length;
  assert.equal(steps, entries, `${g.func} steps on the path of ${dropped.skb}, one per entry${dump}`);
  assert.doesNotMatch(f.where.function ?? '', /\+0x|\[/, `the finding names a bare function${dump}`);
  const funcEvidence = f.evidence.filter((e) => !/^(kfree_skb|consume_skb|net_dev_|netif_|napi_|qdisc_|icmp_send|tcp_send_reset|tcp_receive_reset|tcp_retransmit_skb|netfilter)/.test(e.probe));
  t.diagnostic(`${g.key}: ${f.rule} @${f.where.netnsName ?? f.where.netns}; evidence ${f.evidence.map((e) => `${e.role}:${e.probe}`).join(' ')}; function events in it: ${funcEvidence.length}; path of the dropped packet: ${path.stages.map((st) => st.probe).join(' ')}`);
}

function checkCase(g: GuestCase, r: DiagnoseResults, trace: TraceResult, t: TestContext): void {
  const s = r.scenes.find((x) => x.key === g.key);
  assert.ok(s, `the scene ${g.key} was recorded: ${r.notes.join('; ')}`);
  const evs = sceneEvents(trace.events, s);
  const { report } = diagnose(evs);
  const dump = `\n${describeReport(report)}\nevents:\n${describeEvents(evs, 80)}\nstderr:\n${trace.stderr.slice(-2000)}`;
  const f = checkRule(g, s, report, trace, dump);
  checkFunction(g, s, f, report, evs, dump, t);
}

for (const backend of BACKENDS) {
  test(`guest 6.12 --backend ${backend}: no listener, REJECT and PMTU black hole diagnosed from function-backend traces`, { timeout: 16 * 60_000 }, async (t) => {
    if (why) return t.skip(why);
    const r = runGuest(t);
    const run = r.runs[backend];
    assert.ok(run?.trace, `the ${backend} trace recorded results: ${r.notes.join('; ')}`);
    const trace = run.trace;
    t.diagnostic(`${backend}: ready ${run.readyMs} ms after the traces started; ${trace.events.length} events; outcomes: ${r.scenes.map((s) => `${s.key} ${s.outcome}`).join(', ')}`);
    assert.equal(trace.code, 0, `the trace exits 0: ${trace.stderr.slice(-1500)}`);
    assert.match(trace.stderr, new RegExp(`functions via ${backend.replace('.', '\\.')}`), 'the backend asked for');
    // a drop in a module function (nf_tables is one in Debian's kernel) is named by its bare function
    const whys = trace.stderr.split('\n').filter((l) => l.includes(' why: '));
    assert.deepEqual(whys.filter((l) => /\+0x[0-9a-f]+|\[nf_tables\]/.test(l)), [], 'why: lines name bare functions');
    for (const g of GUEST_CASES) await t.test(`${g.key}: ${g.c.rule}`, (tt) => checkCase(g, r, trace, tt));
  });
}
