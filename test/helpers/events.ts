/**
 * Checks every integration test applies to a `pktpath trace --json` run: a clean exit
 * on SIGINT, nothing but JSON on stdout, and every event shaped as the CLI promises.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './netns.js';
import type { TraceEvent, TraceResult } from './netns.js';

/** The tracepoint probe names, from the catalogue the BPF side is generated from. */
export const TRACEPOINT_PROBES: ReadonlySet<string> = new Set(
  (JSON.parse(readFileSync(join(REPO_ROOT, 'src/engine/probes.json'), 'utf8')) as { tracepoints: { name: string }[] }).tracepoints.map(
    (t) => t.name,
  ),
);

export const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v);

/** Problems with one event's shape, per the --json specification ('' when fine). */
export function shapeProblems(ev: TraceEvent, probes: ReadonlySet<string>): string {
  const p: string[] = [];
  if (typeof ev.time !== 'string') p.push('time');
  if (!isInt(ev.ts_ns) && !(typeof ev.ts_ns === 'string' && /^\d+$/.test(ev.ts_ns))) p.push('ts_ns');
  for (const k of ['cpu', 'pid', 'netns', 'ifindex', 'mark', 'len'] as const) if (!isInt(ev[k])) p.push(k);
  for (const k of ['comm', 'ifname', 'dst_mac'] as const) if (typeof ev[k] !== 'string') p.push(k);
  if (typeof ev.skb !== 'string' || !/^0x[0-9a-f]+$/i.test(ev.skb)) p.push('skb');
  if (!isInt(ev.pkt_type) && typeof ev.pkt_type !== 'string') p.push('pkt_type');
  if (!probes.has(ev.probe)) p.push(`probe ${JSON.stringify(ev.probe)}`);
  if (ev.tuple !== null) {
    const t = ev.tuple;
    if (typeof t !== 'object' || t === undefined) p.push('tuple');
    else {
      for (const k of ['proto', 'saddr', 'daddr', 'flags'] as const) if (typeof t[k] !== 'string') p.push(`tuple.${k}`);
      for (const k of ['sport', 'dport'] as const) if (!isInt(t[k])) p.push(`tuple.${k}`);
    }
  }
  if (ev.probe === 'kfree_skb' && ev.drop_reason !== undefined && typeof ev.drop_reason !== 'string') p.push('drop_reason');
  if (ev.probe === 'netfilter') {
    const nf = ev.nf as Record<string, unknown> | undefined;
    if (!nf || typeof nf !== 'object') p.push('nf');
    else {
      if (!isInt(nf.pf)) p.push('nf.pf');
      for (const k of ['table', 'chain', 'hook', 'verdict'] as const) if (typeof nf[k] !== 'string') p.push(`nf.${k}`);
      // null when no rule could be named (the scenario tests assert it where they expect one)
      if (typeof nf.rule !== 'string' && nf.rule !== null) p.push('nf.rule');
      if (typeof nf.verdict === 'string' && nf.verdict !== nf.verdict.toUpperCase()) p.push('nf.verdict not upper case');
    }
  }
  if ((ev.probe === 'fib_table_lookup' || ev.probe === 'fib6_table_lookup') && ev.route !== undefined) {
    const r = ev.route as Record<string, unknown> | null;
    if (!r || !isInt(r.table) || typeof r.type !== 'string' || typeof r.oif !== 'string' || typeof r.gw !== 'string' || !isInt(r.err)) p.push('route');
  }
  return p.length ? `bad ${p.join(', ')} in ${JSON.stringify(ev)}` : '';
}

/** Clean exit on SIGINT, JSON only, well-formed events with probes from `probes`. */
export function assertCleanRun(res: TraceResult, probes: ReadonlySet<string> = TRACEPOINT_PROBES): void {
  assert.equal(res.code, 0, `pktpath should exit 0 on SIGINT (code ${res.code}, signal ${res.signal}); stderr:\n${res.stderr}`);
  assert.deepEqual(res.nonJson, [], 'every stdout line of --json output should be a JSON object');
  for (const ev of res.events) {
    const bad = shapeProblems(ev, probes);
    assert.equal(bad, '', bad);
  }
}
