/**
 * The session's phases with fakes for the kernel side, the netfilter path and the signals:
 * the stop order, the second signal, and failures in the middle of a run, which must never
 * skip the cleanup and the summary.
 */
import { catalogFields } from '../../../test/helpers/formatting.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { runTrace } from './session.js';
import type { NetfilterHooks, RunIo, SessionDeps } from './session.js';
import type { RunEngine } from './engine.js';
import type { RecordSink } from '../../engine/io/ringbuf.js';
import { encodeEvent } from '../../engine/decode.js';
import { EV_DROP, EV_HAS_TUPLE } from '../../engine/event.js';
import type { RawEvent } from '../../engine/event.js';
import type { NetfilterPath } from '../../netfilter/io/path.js';
import { LegacyPathTracker } from '../../netfilter/legacy/observers.js';
import type { NfTrace } from '../../netfilter/index.js';
import type { RunResolver } from '../../output/io/resolver.js';
import { parseTraceOptions } from '../../cli/options.js';
import { runRequest } from '../../cli/request.js';
import { UsageError } from '../../shared/errors.js';
import type { PcapngOut } from '../../capture/io/pcapng-out.js';
import { BlockSplitter } from '../../capture/annotate.js';
import { CaptureStream } from '../../capture/stream.js';
import type { Report } from '../../diagnose/model.js';
import { ip, tcp, TCP } from '../../../test/helpers/frames.js';

const PROBES = ['netif_receive_skb', 'kfree_skb'];

function record(i: number, extra: Partial<RawEvent> = {}): Uint8Array {
  return encodeEvent({
    tsNs: BigInt(1000 + i), skb: 0xff00n + BigInt(i), location: 0n, netns: 4026531840, ifindex: 2, mark: 0, len: 60, pid: 1, dropReason: 0,
    aux: 0, aux2: 0, probe: 0, cpu: 0, pktType: 0, flags: 0, dstMac: new Uint8Array(6), ifname: 'eth0', comm: 'x', tuple: null, stack: null, ...extra,
  });
}
const drop = (i: number): Uint8Array => record(i, { probe: 1, flags: EV_DROP | EV_HAS_TUPLE, dropReason: 2, tuple: { family: 4, saddr: Uint8Array.of(10, 0, 0, 1), daddr: Uint8Array.of(10, 0, 0, 2), sport: 1, dport: 2, l3proto: 0x800, l4proto: 6, tcpFlags: 2, icmpType: 0, icmpCode: 0, icmpId: 0 } });

/** The kernel side: a queue of records, a wake-up the test triggers, and a log of what the session did. */
class FakeEngine implements RunEngine {
  readonly probes = PROBES.map((probe) => ({ probe, attached: true, via: 'tp_btf' }));
  readonly label = 'tracepoints';
  readonly queue: Uint8Array[] = [];
  failPoll: Error | null = null;
  failDrain: Error | null = null;
  /** a detach that does not end (fentry trampolines on a slow machine) */
  slowClose = false;
  private onReadable: (() => void) | null = null;
  constructor(private readonly log: string[]) {}
  startPolling(cb: () => void): void {
    this.log.push('poll');
    if (this.failPoll) throw this.failPoll;
    this.onReadable = cb;
  }
  stopPolling(): void {
    this.log.push('stop polling');
    this.onReadable = null;
  }
  drain(sink: RecordSink, max: number): number {
    if (this.failDrain) throw this.failDrain;
    let n = 0;
    while (n < max && this.queue.length) {
      const r = this.queue.shift()!;
      n++;
      if (sink(new DataView(r.buffer), r, 0, r.length) === false) break;
    }
    if (n) this.log.push(`read ${n}`);
    return n;
  }
  pending(): number {
    return this.queue.reduce((a, r) => a + 8 + r.length, 0);
  }
  lost(): number {
    return 3;
  }
  undecided(): number {
    return 0;
  }
  close(): void | Promise<void> {
    this.log.push('detach');
    if (this.slowClose) return new Promise<void>(() => {});
  }
  wake(): void {
    this.onReadable?.();
  }
}

const resolver: RunResolver = {
  probeName: (id) => PROBES[id] ?? `p${id}`,
  probeFields: (id) => catalogFields(PROBES[id]),
  dropReason: (v) => (v === 2 ? 'NO_SOCKET' : String(v)),
  symbol: (a) => `0x${a.toString(16)}`,
  netnsName: () => undefined,
  wallClockNs: (ns) => ns,
  functionProbe: () => 500,
  namedProbe: () => 600,
};

interface Harness {
  log: string[];
  engine: FakeEngine;
  signals: EventEmitter;
  exits: number[];
  out: string[];
  err: () => string;
  io: RunIo;
  deps: SessionDeps;
  /** what the netfilter path was handed */
  hooks: () => NetfilterHooks;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function harness(nf: (log: string[], hooks: NetfilterHooks) => Partial<NetfilterPath> | Promise<never> = () => ({}), out?: Writable): Harness {
  const log: string[] = [];
  const engine = new FakeEngine(log);
  const signals = new EventEmitter();
  const exits: number[] = [];
  const lines: string[] = [];
  let errText = '';
  const stdout = out ?? new Writable({ write: (c: Buffer, _e, cb) => void (lines.push(...c.toString().trimEnd().split('\n')), cb()) });
  const err = new Writable({
    write: (c: Buffer, _e, cb) => {
      errText += c.toString();
      if (/ events, \d+ lost/.test(c.toString())) log.push('summary');
      cb();
    },
  });
  let hooks: NetfilterHooks | undefined;
  const deps: SessionDeps = {
    startEngine: () => engine,
    startNetfilter: async (_req, h) => {
      hooks = h;
      log.push('netfilter start');
      const made = nf(log, h);
      const path: NetfilterPath = {
        namespaces: [''], legacy: [], observed: [], tracker: new LegacyPathTracker(), problems: [],
        explainLegacyStep: () => assert.fail('no legacy steps here'), explainLegacyDrop: async () => null, tracesNft: () => false,
        stop: async () => void log.push('netfilter stop'),
        cleanupSync: () => void log.push('netfilter cleanupSync'),
        ...(await made),
      };
      return path;
    },
    resolver: () => resolver,
    observerProbe: () => 900,
    signals,
    forceExit: (code) => void exits.push(code),
    nowNs: () => 5000n,
  };
  return { log, engine, signals, exits, out: lines, err: () => errText, io: { out: stdout, err }, deps, hooks: () => hooks! };
}

const request = (raw: Record<string, string | boolean> = {}) => runRequest(parseTraceOptions({ json: true, backend: 'tracepoints', ...raw }));

const nfTrace = (): NfTrace =>
  ({ traceId: '1', packet: null, records: [], path: [{ pf: 2, table: 'filter', chain: 'output', hook: 'output', verdict: 'ACCEPT', rule: null }] }) as unknown as NfTrace;

test('SIGINT stops in order: no more wake-ups, the ring drained, the netfilter path drained (awaited), the summary, then the detach', async () => {
  const h = harness((log, hooks) => ({
    stop: async () => {
      log.push('netfilter stop begins');
      await tick();
      hooks.onTrace(nfTrace(), 4026531840); // a path completing during the drain is still printed
      log.push('netfilter stop ends');
    },
  }));
  const run = runTrace(request({ iptable: true }), h.io, h.deps);
  await tick();
  h.engine.queue.push(record(1), drop(2));
  h.engine.wake();
  h.engine.queue.push(record(3)); // arrives, no wake-up before the signal
  h.signals.emit('SIGINT');
  const s = await run;
  assert.deepEqual(h.log, ['netfilter start', 'poll', 'read 2', 'stop polling', 'read 1', 'netfilter stop begins', 'netfilter stop ends', 'summary', 'detach']);
  assert.equal(h.out.length, 4);
  assert.match(h.out[3]!, /"probe":"p600".*"nf":/);
  assert.deepEqual([s.events, s.lost, s.backpressure, s.unwritten, [...s.drops]], [4, 3, 0, 0, [['NO_SOCKET', 1]]]);
  assert.match(h.err(), /pktpath: 4 events, 3 lost; drops: NO_SOCKET 1\n/);
  assert.deepEqual([h.signals.listenerCount('SIGINT'), h.signals.listenerCount('SIGTERM')], [0, 0], 'signals given back');
  assert.deepEqual(h.exits, []);
});

test('a second signal while the stop waits forces the exit, with the signal\'s code', async () => {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const h = harness(() => ({ stop: () => new Promise<void>(() => {}) })); // a netfilter drain that never ends
    void runTrace(request({ iptable: true }), h.io, h.deps);
    await tick();
    h.signals.emit(sig);
    await tick();
    assert.deepEqual(h.exits, [], 'the first signal stops gracefully');
    h.signals.emit(sig);
    assert.deepEqual(h.exits, [code]);
    assert.match(h.err(), new RegExp(`${sig} again: exiting now`));
  }
});

test('the summary comes before a slow detach, and a second signal during the detach forces the exit', async () => {
  const h = harness();
  h.engine.slowClose = true;
  void runTrace(request(), h.io, h.deps);
  await tick();
  h.signals.emit('SIGINT');
  await tick();
  assert.deepEqual(h.log.slice(-2), ['summary', 'detach']);
  assert.deepEqual(h.exits, []);
  h.signals.emit('SIGINT');
  assert.deepEqual(h.exits, [130]);
});

test('failures in the middle of a run: the netfilter drain, the summary and the detach still happen, then the error is thrown', async () => {
  const cases: [string, (h: Harness) => void, RegExp, string[]][] = [
    ['the poll does not start', (h) => void (h.engine.failPoll = new Error('uv_poll_init: bad fd')), /uv_poll_init: bad fd/, ['netfilter start', 'poll', 'stop polling', 'netfilter stop', 'summary', 'detach']],
    ['a wake-up throws (not a record)', (h) => void (h.engine.failDrain = new Error('ring gone')), /ring gone/, ['netfilter start', 'poll', 'stop polling', 'netfilter stop', 'summary', 'detach']],
  ];
  for (const [what, arrange, error, order] of cases) {
    const h = harness();
    arrange(h);
    const failed = assert.rejects(runTrace(request({ iptable: true }), h.io, h.deps), error, what);
    await tick();
    h.engine.wake();
    await failed;
    assert.deepEqual(h.log.filter((l) => !l.startsWith('read')), order, what);
    assert.equal(h.signals.listenerCount('SIGINT'), 0, what);
  }
});

test('a netfilter stop that rejects: the summary is printed and the probes detached, then the error names its phase', async () => {
  const h = harness(() => ({ stop: () => Promise.reject(new Error('nft delete table: busy')) }));
  const failed = assert.rejects(runTrace(request({ iptable: true }), h.io, h.deps), (e: Error) => e.message === 'netfilter drain: nft delete table: busy');
  await tick();
  h.signals.emit('SIGINT');
  await failed;
  assert.deepEqual(h.log, ['netfilter start', 'poll', 'stop polling', 'summary', 'detach']);
});

test('a malformed record is counted in the summary and the run goes on', async () => {
  const h = harness();
  const run = runTrace(request(), h.io, h.deps);
  await tick();
  h.engine.queue.push(record(1), record(2).subarray(0, 20), record(3));
  h.engine.wake();
  h.engine.queue.push(record(4));
  h.engine.wake();
  h.signals.emit('SIGTERM');
  const s = await run;
  assert.deepEqual([s.events, s.malformed], [3, 1]);
  assert.match(h.err(), /3 events, 3 lost, 1 malformed records skipped \(RangeError: event record of 20 bytes is shorter than \d+\)/);
});

test('the catch count ends the run, mid-slice, without a signal', async () => {
  const h = harness();
  const run = runTrace(request({ catchCount: '2' }), h.io, h.deps);
  await tick();
  h.engine.queue.push(record(1), record(2), record(3), record(4));
  h.engine.wake();
  const s = await run;
  assert.equal(s.events, 2);
  assert.equal(h.out.length, 2);
  assert.deepEqual(h.log, ['poll', 'read 2', 'stop polling', 'summary', 'detach']);
});

test('the netfilter path fails to start: the probes are detached, no summary, the error as it was', async () => {
  const h = harness(() => Promise.reject(new UsageError('unknown network namespace "x"')));
  await assert.rejects(runTrace(request({ iptable: true }), h.io, h.deps), UsageError);
  assert.deepEqual(h.log, ['netfilter start', 'detach']);
  assert.equal(h.signals.listenerCount('SIGINT'), 0);
});

test('a stdout nobody reads: events become counted back-pressure, and after SIGINT the run does not wait for the reader', async () => {
  const stalled = new Writable({ highWaterMark: 1024, write: () => {} }); // never calls back: nothing is ever taken
  const h = harness(undefined, stalled);
  const run = runTrace(request(), h.io, h.deps);
  await tick();
  const total = 60_000;
  for (let i = 0; i < total; i++) h.engine.queue.push(record(i));
  while (h.engine.queue.length) h.engine.wake();
  assert.ok(stalled.writableLength < 6 << 20, `stdout holds ${stalled.writableLength} characters`);
  h.signals.emit('SIGINT');
  const s = await run;
  assert.equal(s.events, 0, 'nothing reached the reader');
  assert.equal(s.backpressure, total);
  assert.ok(s.unwritten > 0);
  assert.match(h.err(), new RegExp(`0 events, 3 lost, ${total} dropped for back-pressure`));
});

/** -w's output in memory; `rewrite` runs the blocks through `each` as the file's would. */
function memoryPcapng(kind: 'file' | 'device' | 'broken'): PcapngOut & { bytes(): Buffer; closed: boolean } {
  let chunks: Buffer[] = [];
  const out = {
    name: 'mem.pcapng',
    closed: false,
    write: (b: Buffer) => void chunks.push(Buffer.from(b)),
    room: () => true,
    close: async () => void (out.closed = true),
    bytes: () => Buffer.concat(chunks),
    ...(kind !== 'device'
      ? {
          rewrite: async (each: (b: Buffer) => Buffer) => {
            assert.ok(out.closed, 'rewritten after the close');
            if (kind === 'broken') throw new Error('cannot rewrite mem.pcapng: ENOSPC');
            const split = new BlockSplitter();
            chunks = split.push(Buffer.concat(chunks)).map(each);
            split.end();
          },
        }
      : {}),
  };
  return out;
}

test('diagnose -w: after the summary, the findings go on the packets that are their evidence and the verdict in the section header; a device or a failed rewrite is said, the run still ends well', async () => {
  const syn = ip('10.0.0.1', '10.0.0.2', 6, tcp(1, 2, { flags: TCP.SYN }));
  const tuple = { family: 4 as const, saddr: Uint8Array.of(10, 0, 0, 1), daddr: Uint8Array.of(10, 0, 0, 2), sport: 1, dport: 2, l3proto: 0x800, l4proto: 6, tcpFlags: 2, icmpType: 0, icmpCode: 0, icmpId: 0 };
  for (const kind of ['file', 'device', 'broken'] as const) {
    const h = harness();
    const pcapng = memoryPcapng(kind);
    let report: Report | null = null;
    const run = runTrace(request({ write: 'mem.pcapng' }), { ...h.io, pcapng, diagnose: { facts: () => ({}), done: (r) => void (report = r) } }, h.deps);
    await tick();
    h.engine.queue.push(record(1, { skb: 0xabn, flags: EV_HAS_TUPLE, tuple, bytes: syn }), record(2, { skb: 0xabn, probe: 1, flags: EV_DROP | EV_HAS_TUPLE, dropReason: 2, tuple, bytes: syn }));
    h.engine.wake();
    h.signals.emit('SIGINT');
    await run;
    const rep = report as Report | null;
    assert.ok(rep && rep.findings.length >= 1, 'the drop is a finding');
    const f = rep.findings.find((x) => x.evidence.some((e) => e.n === 2))!;
    const packets: (string[] | null)[] = [];
    const s = new CaptureStream('t', { packet: (p) => packets.push(p.comments) });
    s.push(pcapng.bytes());
    const d = s.finish();
    assert.equal(packets.length, 1);
    const line = `pktpath finding ${f.n} [${f.rule}] ${f.level}: ${f.verdict}`;
    if (kind === 'file') {
      assert.ok(packets[0]!.includes(line), packets[0]!.join('\n'));
      assert.equal(d.comment, `pktpath diagnosis: ${rep.verdict.text}`);
      assert.match(h.err(), new RegExp(`pcapng: the verdict in the file's comment, ${rep.findings.length} findings? on 1 packet copies\\n`));
    } else {
      assert.ok(!packets[0]!.some((c) => c.startsWith('pktpath finding')));
      const why = kind === 'device' ? 'mem\\.pcapng is not a regular file: the findings are not written into it' : 'the findings are not in mem\\.pcapng: cannot rewrite mem\\.pcapng: ENOSPC';
      assert.match(h.err(), new RegExp(`pcapng: ${why}\\n`), 'said, and the run ends with its report');
    }
  }
});
