import { test } from 'node:test';
import { catalogFields } from '../../test/helpers/formatting.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pipeline } from './pipeline.js';
import type { LineSink, NetfilterJoin, PipelineNames, PipelineOptions } from './pipeline.js';
import { encodeEvent, decodeEvent } from '../engine/decode.js';
import { EV_DROP, EV_HAS_TUPLE, EV_RET } from '../engine/event.js';
import { STEP_WAIT_NS } from './steps.js';
import type { RawEvent } from '../engine/event.js';
import type { LegacyStep } from '../netfilter/legacy/observers.js';
import type { NfJson, NfTrace } from '../netfilter/index.js';
import { makeJsonFormatter } from '../output/index.js';
import type { Resolver } from '../output/resolver.js';
import { ROOT } from '../shared/io/paths.js';
import { shapeProblems, TRACEPOINT_PROBES } from '../../test/helpers/events.js';
import type { TraceEvent } from '../../test/helpers/netns.js';
import type { RingRecording } from '../../test/helpers/record-ring.js';

// ------------------------------------------------------------------ recorded runs

/** Ring records of real runs (test/helpers/record-ring.ts), with the names of that build and kernel. */
function recording(name: string): { rec: RingRecording; records: Uint8Array[] } {
  const rec = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/ring', `${name}.json`), 'utf8')) as RingRecording;
  return { rec, records: rec.records.map((b) => new Uint8Array(Buffer.from(b, 'base64'))) };
}

function resolverOf(rec: RingRecording): Resolver & PipelineNames {
  return {
    probeName: (id) => rec.probes[id] ?? `probe#${id}`,
    probeFields: (id) => catalogFields(rec.probes[id]),
    dropReason: (v) => rec.dropReasons[v] ?? String(v),
    symbol: (a) => `0x${a.toString(16)}`,
    netnsName: () => undefined,
    wallClockNs: (ns) => ns,
    functionProbe: () => assert.fail('no function probes in a tracepoint run'),
    namedProbe: () => 1000,
  };
}

class Lines implements LineSink {
  readonly lines: string[] = [];
  open = true;
  writable(): boolean {
    return this.open;
  }
  push(line: string): void {
    this.lines.push(line);
  }
}

const OBSERVER = 900;

/** The events a pipeline hands on (onEvent), and of them the drops and the netfilter DROP steps. */
function emitted(): { onEvent: (ev: RawEvent) => void; all: RawEvent[]; drops: () => RawEvent[]; nfDrops: () => RawEvent[] } {
  const all: RawEvent[] = [];
  return { onEvent: (ev) => void all.push(ev), all, drops: () => all.filter((e) => e.flags & EV_DROP), nfDrops: () => all.filter((e) => e.nf?.verdict === 'DROP') };
}

function feed(p: Pipeline, records: readonly Uint8Array[]): boolean[] {
  return records.map((r) => p.record(new DataView(r.buffer, r.byteOffset, r.byteLength), r, 0, r.length));
}

test('recorded closed-port run: every record printed in ring order as well-formed JSON, the NO_SOCKET drop counted and kept', () => {
  const { rec, records } = recording('closed-port');
  const names = resolverOf(rec);
  const out = new Lines();
  const fmt = makeJsonFormatter(names, { time: 'default', stack: false });
  const seen = emitted();
  const p = new Pipeline({ names, format: (ev) => fmt.format(ev), out, observerProbe: OBSERVER, onEvent: seen.onEvent });
  assert.deepEqual(feed(p, records), records.map(() => true));
  assert.equal(out.lines.length, records.length);
  assert.equal(p.events, records.length);
  const events = out.lines.map((l) => JSON.parse(l) as TraceEvent);
  for (const ev of events) assert.equal(shapeProblems(ev, TRACEPOINT_PROBES), '');
  const ringOrder = records.map((r) => String(decodeEvent(new DataView(r.buffer), r, 0, r.length).tsNs));
  assert.deepEqual(events.map((e) => String(e.ts_ns)), ringOrder);
  assert.deepEqual([...p.drops], [['NO_SOCKET', 1]]);
  assert.equal(seen.drops().length, 1, 'the drop is handed on (to the diagnosis)');
  assert.equal(events.find((e) => e.drop_reason)?.drop_reason, 'NO_SOCKET');
  assert.deepEqual([p.backpressure, p.malformed], [0, 0]);
});

test('recorded iptables OUTPUT drop: NETFILTER_DROP counted per retransmitted SYN', () => {
  const { rec, records } = recording('output-drop');
  const seen = emitted();
  const p = new Pipeline({ names: resolverOf(rec), format: () => 'x', out: new Lines(), observerProbe: OBSERVER, onEvent: seen.onEvent });
  feed(p, records);
  assert.deepEqual([...p.drops], [['NETFILTER_DROP', records.length]]);
  assert.equal(seen.drops().length, records.length);
});

test('catch count: records are taken up to it, then refused; held and late events stop there too', () => {
  const { rec, records } = recording('closed-port');
  const cases: [number, number][] = [
    [1, 1],
    [3, 3],
    [records.length, records.length],
    [records.length + 5, records.length],
  ];
  for (const [count, printed] of cases) {
    const out = new Lines();
    const p = new Pipeline({ names: resolverOf(rec), format: () => 'x', out, observerProbe: OBSERVER, catchCount: count });
    const took = feed(p, records);
    assert.equal(out.lines.length, printed, `-c ${count}`);
    assert.equal(p.full(), count <= records.length, `-c ${count}`);
    // the record that reaches the count answers false; later ones are refused
    assert.deepEqual(took, records.map((_, i) => i + 1 < count), `-c ${count}`);
  }
});

test('back-pressure: while the output has no room nothing is decoded or queued, each record is counted, drops still are', () => {
  const { rec, records } = recording('closed-port');
  const out = new Lines();
  let formatted = 0;
  const seen = emitted();
  const p = new Pipeline({ names: resolverOf(rec), format: () => String(++formatted), out, observerProbe: OBSERVER, onEvent: seen.onEvent });
  feed(p, records.slice(0, 4));
  out.open = false;
  feed(p, records.slice(4));
  out.open = true;
  assert.equal(out.lines.length, 4);
  assert.equal(formatted, 4);
  assert.equal(p.events, 4);
  assert.equal(p.backpressure, records.length - 4);
  assert.deepEqual([...p.drops], [['NO_SOCKET', 1]], 'the drop is counted for the summary even when not printed');
  assert.equal(seen.drops().length, 1, 'and handed on to the diagnosis');
});

test('a malformed record is counted and skipped, never thrown; the records around it are printed', () => {
  const { rec, records } = recording('closed-port');
  const cases: [string, (r: Uint8Array) => Uint8Array][] = [
    ['truncated', (r) => r.subarray(0, 40)],
    ['empty', () => new Uint8Array(0)],
    ['one byte short', (r) => r.subarray(0, r.length - 1)],
  ];
  for (const [what, bad] of cases) {
    const out = new Lines();
    const p = new Pipeline({ names: resolverOf(rec), format: () => 'x', out, observerProbe: OBSERVER });
    const took = feed(p, [records[0]!, bad(records[1]!), records[2]!]);
    assert.deepEqual(took, [true, true, true], what);
    assert.equal(p.malformed, 1, what);
    assert.match(p.firstMalformed ?? '', /^RangeError: /, what);
    assert.equal(out.lines.length, 2, what);
  }
  // a formatter that throws on one event is the same: counted, not fatal
  const out = new Lines();
  let n = 0;
  const p = new Pipeline({ names: resolverOf(rec), format: () => (++n === 2 ? assert.fail('boom') : 'x'), out, observerProbe: OBSERVER });
  feed(p, records.slice(0, 3));
  assert.deepEqual([p.malformed, out.lines.length], [1, 2]);
});

// ------------------------------------------------------------------ netfilter joins

const NS = 4026532777;

function raw(extra: Partial<RawEvent>): RawEvent {
  return {
    tsNs: 100n,
    skb: 0xaan,
    location: 0n,
    netns: NS,
    ifindex: 2,
    mark: 0,
    len: 60,
    pid: 0,
    dropReason: 0,
    aux: 0,
    aux2: 0,
    aux3: 0,
    probe: 3,
    cpu: 0,
    pktType: 0,
    flags: EV_HAS_TUPLE,
    dstMac: new Uint8Array(6),
    ifname: 'veth0',
    comm: '',
    tuple: { family: 4, saddr: Uint8Array.of(10, 0, 0, 1), daddr: Uint8Array.of(10, 0, 0, 2), sport: 1234, dport: 80, l3proto: 0x800, l4proto: 6, tcpFlags: 2, icmpType: 0, icmpCode: 0, icmpId: 0 },
    stack: null,
    ...extra,
  };
}

const step = (verdict: 'ACCEPT' | 'DROP', exact = true): LegacyStep => ({
  pf: 2, family: 'ipv4', table: 'filter', chain: 'OUTPUT', hook: 'output', verdict, ifname: 'veth0', ifindex: 2, tuple: null, exact,
});

/** A netfilter path whose rule lookups answer when the test says so. */
function fakeNetfilter(opts: { legacy?: string[]; watches?: boolean; observe?: (ev: RawEvent) => LegacyStep | null; freed?: LegacyStep | null } = {}) {
  const answers: ((rule: string | null) => void)[] = [];
  const nf: NetfilterJoin = {
    tracker: {
      observe: opts.observe ?? ((ev) => (ev.aux2 === 1 ? step('ACCEPT') : null)),
      freed: () => opts.freed ?? null,
      watches: () => opts.watches ?? true,
    },
    legacy: opts.legacy ?? [''],
    explainLegacyStep: (_ns, _ts, s) =>
      new Promise<NfJson>((r) => answers.push((rule) => r({ pf: s.pf, table: s.table, chain: s.chain, hook: s.hook, verdict: s.verdict, rule }))),
    explainLegacyDrop: () => new Promise<NfJson | null>((r) => answers.push((rule) => r(rule === null ? null : { pf: 2, table: 'filter', chain: 'OUTPUT', hook: 'output', verdict: 'DROP', rule }))),
  };
  return { nf, answer: (i: number, rule: string | null) => answers[i]!(rule), asked: () => answers.length };
}

const NAMES: PipelineNames = {
  dropReason: (v) => (v === 12 ? 'NETFILTER_DROP' : v === 3 ? 'NO_SOCKET' : String(v)),
  functionProbe: () => 500,
  namedProbe: () => 1000,
  symbol: (a) => `0x${a.toString(16)}`,
};
/** probe:ts, and the netfilter step's table/verdict/rule */
const short = (ev: RawEvent): string => `${ev.probe}:${ev.tsNs}${ev.nf ? `:${ev.nf.table}/${ev.nf.verdict}/${ev.nf.rule}` : ''}`;

function pipelineWith(nf: NetfilterJoin, extra: Partial<PipelineOptions> = {}): { p: Pipeline; out: Lines; late: () => number } {
  const out = new Lines();
  let late = 0;
  const p = new Pipeline({ names: NAMES, format: short, out, observerProbe: OBSERVER, onLate: () => void late++, ...extra });
  p.useNetfilter(nf);
  return { p, out, late: () => late };
}

const feedEvents = (p: Pipeline, evs: readonly RawEvent[]): boolean[] => feed(p, evs.map(encodeEvent));

test("events wait for a legacy ACCEPT step's rule, then follow it in the order they happened", async () => {
  const { nf, answer } = fakeNetfilter();
  const { p, out } = pipelineWith(nf);
  feedEvents(p, [
    raw({ probe: 3, tsNs: 1n }),
    raw({ probe: OBSERVER, tsNs: 2n, aux2: 1 }), // the after-spot: filter ACCEPT, rule to be named
    raw({ probe: 4, tsNs: 3n }), // same skb: waits
    raw({ probe: 7, tsNs: 4n, skb: 0xbbn }), // another skb: waits too, the output keeps the order
    raw({ probe: 8, tsNs: 5n }),
  ]);
  assert.deepEqual(out.lines, ['3:1']);
  answer(0, '-A OUTPUT -j ACCEPT');
  await p.settled();
  assert.deepEqual(out.lines, ['3:1', '1000:2:filter/ACCEPT/-A OUTPUT -j ACCEPT', '4:3', '7:4', '8:5']);
  assert.equal(p.events, 5);
});

test('a drop inside a legacy table is followed by its DROP step (ts + 1); counters-only namespaces get the rule from counters', async () => {
  const cases: [string, Parameters<typeof fakeNetfilter>[0], string | null, string[]][] = [
    ['observers saw it enter the table', { freed: step('DROP') }, '-A OUTPUT -j DROP', ['15:10', '1000:11:filter/DROP/-A OUTPUT -j DROP']],
    ['a shared spot: told only if the counters confirm', { freed: step('DROP', false) }, null, ['15:10']],
    ['counters only (no observers in that namespace)', { watches: false }, '-A OUTPUT -j DROP', ['15:10', '1000:11:filter/DROP/-A OUTPUT -j DROP']],
    ['counters only, nothing counted', { watches: false }, null, ['15:10']],
    ['no legacy rules anywhere: nothing to ask', { watches: false, legacy: [] }, null, ['15:10']],
  ];
  for (const [what, opts, rule, want] of cases) {
    const { nf, answer, asked } = fakeNetfilter(opts);
    const { p, out } = pipelineWith(nf);
    feedEvents(p, [raw({ probe: 15, tsNs: 10n, flags: EV_DROP | EV_HAS_TUPLE, dropReason: 12 })]);
    if (asked()) answer(0, rule);
    await p.settled();
    assert.deepEqual(out.lines, want, what);
    assert.deepEqual([...p.drops], [['NETFILTER_DROP', 1]], what);
  }
});

test('netfilter DROP steps are handed on for the explanation; the chains of a pktpath table are not the path', () => {
  const { nf } = fakeNetfilter();
  const seen = emitted();
  const { p, out } = pipelineWith(nf, { onEvent: seen.onEvent });
  const evalRet = (table: string, aux: number): RawEvent => raw({ probe: 3, funcIp: 0xffffn, aux, nfNames: { table, chain: 'out' }, aux3: 2 });
  feedEvents(p, [evalRet('pktpath_4242', 1), evalRet('usertbl', 0)]);
  assert.equal(out.lines.length, 1);
  assert.match(out.lines[0]!, /usertbl\/DROP/);
  assert.equal(seen.nfDrops().length, 1);
});

test('bounds: rule lookups in flight, events waiting behind steps', async () => {
  const { nf: nf2 } = fakeNetfilter();
  const flight = pipelineWith(nf2, { maxInFlight: 1 });
  feedEvents(flight.p, [raw({ probe: OBSERVER, aux2: 1 }), raw({ probe: OBSERVER, aux2: 1, skb: 0xccn })]);
  assert.equal(flight.p.backpressure, 1, 'the second step found no room: counted');

  const nf3 = fakeNetfilter();
  const held = pipelineWith(nf3.nf, { maxHeld: 1 });
  feedEvents(held.p, [raw({ probe: OBSERVER, aux2: 1 }), raw({ probe: 4, tsNs: 2n }), raw({ probe: 5, tsNs: 3n })]);
  assert.deepEqual(held.out.lines, ['1000:100:filter/ACCEPT/null', '4:2', '5:3'], 'past the bound, the step goes without its rule, and what waited behind it');
  nf3.answer(0, 'late');
  await held.p.settled();
  assert.equal(held.out.lines.length, 3, 'its answer, too late, prints nothing');
});

test('close: a step still waiting goes without its rule, and what waited behind it; answers that come later are ignored', async () => {
  const { nf, answer } = fakeNetfilter();
  const { p, out } = pipelineWith(nf);
  feedEvents(p, [raw({ probe: OBSERVER, aux2: 1 }), raw({ probe: 4, tsNs: 2n })]);
  p.close();
  assert.deepEqual(out.lines, ['1000:100:filter/ACCEPT/null', '4:2']);
  answer(0, 'late');
  await p.settled();
  assert.deepEqual(out.lines, ['1000:100:filter/ACCEPT/null', '4:2']);
});

test('nft trace paths become netfilter events, stamped in order, and are written out at once', () => {
  const { nf } = fakeNetfilter();
  const seen = emitted();
  const { p, out, late } = pipelineWith(nf, { catchCount: 3, onEvent: seen.onEvent });
  const hop = (verdict: 'ACCEPT' | 'DROP') => ({ pf: 2, table: 'filter', chain: 'output', hook: 'output' as const, verdict, rule: null, family: 'ip' as const, type: 'filter' as const });
  const trace = { traceId: '1', packet: null, path: [hop('ACCEPT'), hop('DROP')], records: [] } as unknown as NfTrace;
  p.nfTrace(trace, NS, 50n);
  assert.deepEqual(out.lines, ['1000:50:filter/ACCEPT/null', '1000:51:filter/DROP/null']);
  assert.equal(late(), 1);
  assert.equal(seen.nfDrops().length, 1);
  p.nfTrace(trace, NS, 60n);
  assert.equal(out.lines.length, 3, 'the catch count holds for netfilter steps too');
  p.close();
  p.nfTrace(trace, NS, 70n);
  assert.equal(out.lines.length, 3);
});

// ------------------------------------------------------------------ one line per nftables verdict

/** fexit on nft_do_chain: the verdict of one base chain, on its skb. */
const evalStep = (extra: Partial<RawEvent>): RawEvent =>
  raw({ funcIp: 0xffffffffc0001000n, flags: EV_HAS_TUPLE | EV_RET, nfNames: { table: 'filter', chain: 'OUTPUT' }, aux: 1, aux2: 3, aux3: 2, ...extra });

/** nft trace's path of the same packet: one base chain, with the rule that decided. */
function traceOf(verdict: 'ACCEPT' | 'DROP', rule: string, chain = 'OUTPUT'): NfTrace {
  const hop = { pf: 2, family: 'ip', table: 'filter', chain, hook: 'output', priority: 0, verdict, rule, handle: 3, ruleChain: null, policy: false };
  const packet = { family: 4, saddr: '10.0.0.1', daddr: '10.0.0.2', l4proto: 'tcp', sport: 1234, dport: 80 };
  return { traceId: '1', packet, path: [hop], records: [] } as unknown as NfTrace;
}

test('nftables: a verdict seen by fexit waits for its nft trace line, takes its rule, and is printed once, in the order of events', () => {
  const { nf } = fakeNetfilter();
  const seen = emitted();
  const { p, out } = pipelineWith({ ...nf, tracesNft: () => true }, { onEvent: seen.onEvent });
  feedEvents(p, [
    raw({ probe: 3, tsNs: 1n }),
    evalStep({ tsNs: 2n, aux: 0 }), // OUTPUT DROP, rule to come from nft trace
    raw({ probe: 4, tsNs: 3n }), // waits behind the verdict
    raw({ probe: 7, tsNs: 4n, skb: 0xbbn }), // another skb waits too: the output keeps the order events happened in
  ]);
  assert.deepEqual(out.lines, ['3:1']);
  assert.equal(p.waitingSteps, 1);
  p.nfTrace(traceOf('DROP', 'tcp dport 80 drop # handle 3'), NS, 50n);
  assert.deepEqual(out.lines, ['3:1', '1000:2:filter/DROP/tcp dport 80 drop # handle 3', '4:3', '7:4'], 'one line for the verdict, the netfilter step with the rule; the trace line is not printed');
  assert.equal(seen.nfDrops().length, 1);
  assert.equal(seen.nfDrops()[0]!.nf?.rule, 'tcp dport 80 drop # handle 3', 'the explanation gets the rule');
  assert.equal(p.waitingSteps, 0);
});

test('nftables: two chains keep their order whatever order their lines come in; a verdict whose line never comes goes without a rule after the wait', () => {
  const { nf } = fakeNetfilter();
  const { p, out } = pipelineWith({ ...nf, tracesNft: () => true });
  feedEvents(p, [
    evalStep({ tsNs: 10n }),
    raw({ probe: 4, tsNs: 11n }),
    evalStep({ tsNs: 12n, nfNames: { table: 'filter', chain: 'POSTROUTING' } }),
    raw({ probe: 5, tsNs: 13n }),
  ]);
  assert.deepEqual(out.lines, []);
  p.nfTrace(traceOf('ACCEPT', 'r2', 'POSTROUTING'), NS, 40n); // the second chain's line first
  assert.deepEqual(out.lines, [], 'the second waits behind the first');
  p.nfTrace(traceOf('ACCEPT', 'r1'), NS, 41n);
  assert.deepEqual(out.lines, ['1000:10:filter/ACCEPT/r1', '4:11', '1000:12:filter/ACCEPT/r2', '5:13']);
  feedEvents(p, [evalStep({ tsNs: 100n, skb: 0xccn }), raw({ probe: 6, tsNs: 101n, skb: 0xddn })]);
  p.expire(100n + STEP_WAIT_NS);
  assert.equal(out.lines.length, 4, 'not yet');
  p.expire(101n + STEP_WAIT_NS);
  assert.deepEqual(out.lines.slice(4), ['500:100:filter/ACCEPT/null', '6:101']);
  p.nfTrace(traceOf('ACCEPT', 'late', 'FORWARD'), NS, 200n);
  assert.deepEqual(out.lines.slice(6), ['1000:200:filter/ACCEPT/late'], 'a trace line with no verdict waiting is printed as it is');
});

test('nftables under a lagging reader: a verdict waits STEP_WAIT_NS from when it is read, not from its kernel time; a trace line read before its verdict is its only line', () => {
  const { nf } = fakeNetfilter();
  let now = 10n * STEP_WAIT_NS; // the reader is far behind the kernel's clock
  const { p, out } = pipelineWith({ ...nf, tracesNft: () => true }, { nowNs: () => now });
  feedEvents(p, [evalStep({ tsNs: 10n }), raw({ probe: 4, tsNs: 11n })]);
  p.expire(now + 1n);
  assert.deepEqual(out.lines, [], 'read just now: it still waits for its line');
  p.nfTrace(traceOf('ACCEPT', 'r1'), NS, now + 2n);
  assert.deepEqual(out.lines, ['1000:10:filter/ACCEPT/r1', '4:11']);
  // the trace line of the next packet comes before its fexit verdict is read
  now += 5n;
  p.nfTrace(traceOf('ACCEPT', 'r1'), NS, now);
  feedEvents(p, [evalStep({ tsNs: 20n }), raw({ probe: 4, tsNs: 21n })]);
  assert.deepEqual(out.lines.slice(2), [`1000:${now}:filter/ACCEPT/r1`, '4:21'], 'one line for the verdict, not one more without its rule');
  assert.equal(p.waitingSteps, 0);
  // a third verdict has no line ahead of it: it waits, and goes without a rule after the wait
  feedEvents(p, [evalStep({ tsNs: 30n })]);
  p.expire(now + STEP_WAIT_NS + 1n);
  assert.deepEqual(out.lines.slice(4), ['500:30:filter/ACCEPT/null']);
});

test('nftables: no waiting where nft trace does not run, nor for x_tables verdicts; the end prints what still waits', () => {
  const { nf } = fakeNetfilter();
  const none = pipelineWith({ ...nf, tracesNft: () => false });
  feedEvents(none.p, [evalStep({ tsNs: 1n })]);
  assert.deepEqual(none.out.lines, ['500:1:filter/ACCEPT/null']);
  const xt = pipelineWith({ ...fakeNetfilter({ watches: false, legacy: [] }).nf, tracesNft: () => true });
  feedEvents(xt.p, [evalStep({ tsNs: 1n, aux: 0, nfNames: { table: 'filter', chain: '' } })]);
  assert.equal(xt.out.lines.length, 1, 'ipt_do_table has no nft trace line to wait for, nor counters without legacy rules');
  const end = pipelineWith({ ...nf, tracesNft: () => true });
  feedEvents(end.p, [evalStep({ tsNs: 1n }), raw({ probe: 4, tsNs: 2n })]);
  end.p.close();
  assert.deepEqual(end.out.lines, ['500:1:filter/ACCEPT/null', '4:2']);
});

test('iptables-legacy: where observers watch, their step stands for the table verdict fexit saw; elsewhere a drop verdict waits for the counters to name its rule', async () => {
  const xt = (extra: Partial<RawEvent>): RawEvent => evalStep({ nfNames: { table: 'filter', chain: '' }, ...extra });
  const watched = pipelineWith(fakeNetfilter({ watches: true }).nf);
  feedEvents(watched.p, [xt({ tsNs: 1n, aux: 1 }), raw({ probe: 4, tsNs: 2n })]);
  assert.deepEqual(watched.out.lines, ['4:2'], 'the observers give this table step (with its rule)');

  const { nf, answer } = fakeNetfilter({ watches: false });
  const { p, out } = pipelineWith(nf);
  feedEvents(p, [
    xt({ tsNs: 1n, aux: 1 }), // ACCEPT: no rule will come, printed at once
    xt({ tsNs: 2n, aux: 0 }), // DROP: waits for the counters
    raw({ probe: 15, tsNs: 3n, flags: EV_HAS_TUPLE | EV_DROP, dropReason: 12 }), // NETFILTER_DROP: asks the counters
  ]);
  assert.deepEqual(out.lines, ['500:1:filter/ACCEPT/null']);
  answer(0, '-A OUTPUT -p tcp -j DROP');
  await p.settled();
  assert.deepEqual(out.lines, ['500:1:filter/ACCEPT/null', '1000:2:filter/DROP/-A OUTPUT -p tcp -j DROP', '15:3'], 'one DROP line, the step with the rule, in its place');
  assert.deepEqual([...p.drops], [['NETFILTER_DROP', 1]]);
});

test('packet bytes: a view of the record while the event is handed on; a copy when a netfilter join may hold the event', async () => {
  const pkt = Uint8Array.from({ length: 96 }, (_, i) => i);
  const rec = encodeEvent(raw({ bytes: pkt }));
  const ring = new Uint8Array(rec.length + 64);
  ring.set(rec, 32);
  const seen: Uint8Array[] = [];
  const onEvent = (ev: RawEvent): void => void seen.push(ev.bytes!);
  const take = (p: Pipeline): void => void p.record(new DataView(ring.buffer), ring, 32, rec.length);
  take(new Pipeline({ names: NAMES, format: short, out: new Lines(), observerProbe: OBSERVER, onEvent }));
  assert.deepEqual([...seen[0]!], [...pkt]);
  assert.equal(seen[0]!.buffer, ring.buffer, 'no copy: the bytes are read in the ring');
  // a legacy ACCEPT step waits for its rule, and the event behind it with it: its bytes must outlive the record
  const { nf, answer } = fakeNetfilter();
  const { p } = pipelineWith(nf, { onEvent });
  const step = encodeEvent(raw({ probe: OBSERVER, aux2: 1 }));
  p.record(new DataView(step.buffer), step, 0, step.length);
  take(p);
  ring.fill(0xee); // the ring moved on
  answer(0, 'accept rule');
  await p.settled();
  const held = seen.at(-1)!;
  assert.notEqual(held.buffer, ring.buffer);
  assert.deepEqual([...held], [...pkt], 'the held event kept its own bytes');
});

test('print: false (trace -w, diagnose): no line formatted or printed; every event counted and handed on, the catch count on all of them', () => {
  const { rec, records } = recording('closed-port');
  const out = new Lines();
  const seen = emitted();
  let formatted = 0;
  const p = new Pipeline({ names: resolverOf(rec), format: () => String(++formatted), out, observerProbe: OBSERVER, onEvent: seen.onEvent, print: false, shows: () => true, catchCount: 3 });
  feed(p, records);
  assert.deepEqual([out.lines.length, formatted, p.folded], [0, 0, 0]);
  assert.deepEqual([p.events, seen.all.length, p.full()], [3, 3, true]);
});
