/**
 * The report's path diagram on fresh runs of the diagnosis cases: each scene of
 * test/helpers/diagnose-cases*.ts is built in namespaces with its real rules, qdiscs and
 * traffic, traced with `pktpath trace --json`, and the report made from the events must
 * draw what test/helpers/report-expect.ts says (the same checks as the unit tests on the
 * recorded fixtures).
 *
 * PKTPATH_REPORT_KEEP=DIR keeps each run's events as DIR/<case>.jsonl (how
 * test/fixtures/report was recorded).
 */
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot, spawnTrace, whileTracing } from '../helpers/netns.js';
import { buildScene } from '../helpers/scenes.js';
import type { Scene } from '../helpers/scenes.js';
import { CASES } from '../helpers/diagnose-cases.js';
import { MORE_CASES } from '../helpers/diagnose-cases2.js';
import type { Case } from '../helpers/diagnose-cases.js';
import { REPORT_CASES, checkReportCase } from '../helpers/report-expect.js';
import { ReportReplay } from '../../src/report/replay.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ALL = [...CASES, ...MORE_CASES];

function caseOf(pred: (c: Case) => boolean): Case {
  const c = ALL.find(pred);
  if (!c) throw new Error('diagnosis case not found');
  return c;
}

/** Report case -> the diagnosis case whose scene it runs, and the trace filter (null: the case's own). */
const RUNS: readonly [string, Case, ((s: Scene, p: number) => string[]) | null][] = [
  ['closed-port', caseOf((c) => c.rule === 'tcp.no-listener' && c.name.includes('IPv4')), null],
  ['output-drop', caseOf((c) => c.rule === 'nf.output-drop'), null],
  // every namespace (no -N, so no --iptable: nft trace would enter other tests' namespaces)
  ['forward-reject', caseOf((c) => c.rule === 'nf.reject' && !!c.router), (s, p) => ['-H', s.v4.srv, '-P', String(p), '--proto', 'tcp']],
  ['forward-reject-iptable', caseOf((c) => c.rule === 'nf.reject' && !!c.router), null],
  ['pmtu', caseOf((c) => c.rule === 'pmtu.black-hole' && c.name.includes('IPv4')), null],
  ['tc-delay', caseOf((c) => c.rule === 'latency.dominant-hop'), null],
];

let port = 31000 + (process.pid % 2000) * 4;

async function run(t: TestContext, name: string, c: Case, trace: ((s: Scene, p: number) => string[]) | null): Promise<void> {
  if (!requireRoot(t, { commands: (c.tools ?? []).filter((x) => x !== 'scapy') })) return;
  const p = (port += 3);
  const s = buildScene(`rp${name.replace(/[^a-z]/g, '').slice(0, 4)}`, c.router);
  try {
    await c.setup?.(s, p);
    const res = await whileTracing(await spawnTrace((trace ?? c.trace)(s, p)), async () => {
      await c.run(s, p);
      await sleep(700);
    });
    const text = res.events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    if (process.env.PKTPATH_REPORT_KEEP) writeFileSync(join(process.env.PKTPATH_REPORT_KEEP, `${name}.jsonl`), text);
    const r = new ReportReplay();
    for (const line of text.split('\n')) r.push(line);
    checkReportCase(REPORT_CASES[name]!, r.finish({ source: name, made: new Date().toISOString() }));
  } finally {
    s.destroy();
  }
}

describe('the report of the diagnosis cases, on real traffic', () => {
  for (const [name, c, trace] of RUNS) {
    test(`${name}: ${REPORT_CASES[name]!.name}`, { timeout: 90_000 }, (t) => run(t, name, c, trace));
  }
});
