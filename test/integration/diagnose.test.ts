/**
 * The diagnosis on real traffic: each case of test/helpers/diagnose-cases*.ts builds its
 * scene in namespaces, records `pktpath trace --json` of it, and checks that the engine
 * finds the case's rule, in the right namespace, on the right evidence, and that no other
 * error or warning fires; and that the trace's own why: lines name the same rule.
 *
 * A case whose evidence needs an input the kernel side does not give yet runs as a todo
 * that names the input.
 */
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeEvents, requireRoot, skipUnlessMet, spawnTrace, whileTracing } from '../helpers/netns.js';
import type { TraceResult } from '../helpers/netns.js';
import { buildScene, describeReport, diagnose, flagFile } from '../helpers/scenes.js';
import type { Scene } from '../helpers/scenes.js';
import { CASES } from '../helpers/diagnose-cases.js';
import { MORE_CASES } from '../helpers/diagnose-cases2.js';
import type { Case } from '../helpers/diagnose-cases.js';
import type { Report } from '../../src/diagnose/index.js';
import { readSocketFacts, watchCounters } from '../../src/diagnose/io/facts.js';

const SETTLE_MS = 700;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function haveScapy(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import scapy.all'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

let port = 21000 + (process.pid % 2000) * 4;

function check(c: Case, s: Scene, report: Report, res: TraceResult, outcome: string): void {
  const dump = `\n${describeReport(report)}\nevents:\n${describeEvents(res.events as never, 60)}\nstderr:\n${res.stderr}`;
  if (c.outcome) assert.match(outcome, c.outcome, `the client saw "${outcome}"${dump}`);
  const f = report.findings.find((x) => x.rule === c.rule);
  assert.ok(f, `no ${c.rule} finding${dump}`);
  if (c.at) assert.equal(f.where.netns, s.inode[c.at], `${c.rule} should be in netns ${c.at}${dump}`);
  for (const probe of c.evidence ?? []) {
    assert.ok(f.evidence.some((e) => e.probe === probe), `${c.rule}: no ${probe} event in the evidence ${JSON.stringify(f.evidence)}${dump}`);
  }
  for (const role of c.roles ?? []) assert.ok(f.evidence.some((e) => e.role === role), `${c.rule}: no "${role}" evidence ${JSON.stringify(f.evidence)}${dump}`);
  for (const e of f.evidence) assert.ok(e.n >= 1 && e.n <= res.events.length, `evidence #${e.n} is not an event of the run`);
  if (c.words) assert.match(`${f.verdict} ${f.what}`, c.words, `${c.rule}: words${dump}`);
  const wrong = report.findings.filter((x) => (x.level === 'error' || x.level === 'warn') && x.rule !== c.rule && !(c.also ?? []).includes(x.rule));
  assert.deepEqual(wrong.map((x) => x.rule), [], `rules that should not fire${dump}`);
  assert.ok(res.stderr.includes(`[${c.rule}]`), `the trace's why: lines should name ${c.rule}${dump}`);
}

async function runCase(t: TestContext, c: Case): Promise<void> {
  const tools = (c.tools ?? []).filter((x) => x !== 'scapy');
  if (!requireRoot(t, { commands: tools })) return;
  if (c.tools?.includes('scapy') && !skipUnlessMet(t, haveScapy() ? null : 'needs python3-scapy (scripts/setup.sh installs it)')) return;
  const p = (port += 3);
  const s = buildScene(c.rule.replace(/[^a-z]/g, '').slice(0, 6), c.router);
  try {
    await c.setup?.(s, p);
    const counters = c.readFacts ? watchCounters() : null;
    let outcome = '';
    const res = await whileTracing(await spawnTrace(c.trace(s, p)), async () => {
      outcome = await c.run(s, p);
      await sleep(SETTLE_MS);
    });
    // PKTPATH_DIAG_KEEP=DIR keeps each case's recorded events (fixtures, debugging)
    if (process.env.PKTPATH_DIAG_KEEP) writeFileSync(join(process.env.PKTPATH_DIAG_KEEP, `${c.rule}-${p}.jsonl`), res.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const facts = c.readFacts ? { sockets: readSocketFacts(), ...(counters ? { counters: counters.moved() } : {}) } : c.facts?.(s, p);
    const { report } = diagnose(res.events, facts);
    check(c, s, report, res, outcome);
  } finally {
    writeFileSync(flagFile(p), ''); // the case's listeners close
    s.destroy();
    rmSync(flagFile(p), { force: true });
  }
}

describe('pktpath diagnosis on real traffic', () => {
  // PKTPATH_DIAG_CASE=REGEX runs only the matching cases (while working on one)
  const only = process.env.PKTPATH_DIAG_CASE ? new RegExp(process.env.PKTPATH_DIAG_CASE) : null;
  for (const c of [...CASES, ...MORE_CASES]) {
    if (only && !only.test(`${c.rule}: ${c.name}`)) continue;
    test(`${c.rule}: ${c.name}`, { timeout: 90_000, ...(c.todo ? { todo: c.todo } : {}) }, (t) => runCase(t, c));
  }
});
