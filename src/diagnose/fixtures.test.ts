/**
 * Recorded traces of real runs (test/fixtures/diagnose), replayed through the engine:
 * each must still give its rule, and nothing worse than what the run allowed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Diagnoser } from './engine.js';
import { ReplayResolver, parseJsonLines, rawOfJson } from './replay.js';
import { renderReport } from './render.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'diagnose');

const CASES: readonly { file: string; rule: string; also?: readonly string[]; words?: RegExp }[] = [
  { file: 'tcp.no-listener', rule: 'tcp.no-listener', words: /Connection refused/ },
  { file: 'udp.no-port', rule: 'udp.no-port' },
  { file: 'nf.output-drop', rule: 'nf.output-drop', words: /would NOT show/ },
  { file: 'nf.reject', rule: 'nf.reject', words: /ICMP 3\/13 \(admin prohibited\).*No route to host/ },
  { file: 'pmtu.black-hole', rule: 'pmtu.black-hole' },
  { file: 'qdisc.drop', rule: 'qdisc.drop', also: ['udp.no-port'] },
  { file: 'latency.dominant-hop', rule: 'latency.dominant-hop', words: /waited in the qdisc on .* median/ },
  { file: 'tc.mirred', rule: 'tc.mirred' },
  { file: 'tcp.accept-queue-full', rule: 'tcp.accept-queue-full' },
];

for (const c of CASES) {
  test(`recorded ${c.file}: ${c.rule}`, () => {
    const r = new ReplayResolver();
    const d = new Diagnoser(r);
    const events = parseJsonLines(readFileSync(join(DIR, `${c.file}.jsonl`), 'utf8'));
    for (const j of events) d.push(rawOfJson(j, r));
    const rep = d.report();
    const text = renderReport(rep, { netns: (i) => r.netnsName(i) ?? String(i) });
    const f = rep.findings.find((x) => x.rule === c.rule);
    assert.ok(f, text);
    if (c.words) assert.match(`${f.verdict} ${f.what}`, c.words);
    const wrong = rep.findings.filter((x) => (x.level === 'error' || x.level === 'warn') && x.rule !== c.rule && !(c.also ?? []).includes(x.rule));
    assert.deepEqual(wrong.map((x) => x.rule), [], text);
    // the verdict leads with the first error or warning
    const lead = rep.findings.find((x) => x.level === 'error' || x.level === 'warn');
    if (lead) assert.equal(rep.verdict.finding, lead.n);
    assert.equal(rep.inputs.events, events.length);
  });
}
