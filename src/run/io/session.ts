/**
 * One trace run: start an engine, read its ring buffer on each wake-up, decode,
 * format and write in batches, stop on a signal or the catch count, detach, and
 * summarise on stderr.
 */
import { decodeEvent } from '../../engine/decode.js';
import { EV_DROP, EV_RET } from '../../engine/event.js';
import { explainDrops } from '../../diagnose/explain.js';
import { trimTracerFrames } from '../../kernel/stack.js';
import type { Finding } from '../../diagnose/explain.js';
import type { RawEvent } from '../../engine/event.js';
import type { ConfigFields } from '../../engine/config.js';
import { makeJsonFormatter, makeTextFormatter } from '../../output/index.js';
import type { TimeMode } from '../../output/index.js';
import { native } from '../../engine/io/native.js';
import { makeResolver } from '../../output/io/resolver.js';
import { RingReader } from '../../engine/io/ringbuf.js';
import { nfEvents } from '../../netfilter/events.js';
import type { TraceOptions } from '../../cli/options.js';
import { planFunctions } from '../../functions/io/plan.js';
import { startNetfilterPath } from '../../netfilter/io/path.js';
import type { NetfilterPath } from '../../netfilter/io/path.js';
import type { FunctionChoice } from '../../functions/io/plan.js';
import type { ReturnSpec } from '../../functions/returns.js';
import { loadTrace } from '../../engine/io/loader.js';
import { catalog } from '../../engine/io/catalog.js';
import type { LegacyStep } from '../../netfilter/legacy/observers.js';
import { nfOfEval } from '../../netfilter/eval.js';
import { OWN_TABLE_RE } from '../../netfilter/index.js';
import type { LoadedTrace } from '../../engine/io/loader.js';

export interface TraceRunOptions {
  readonly config: object;
  readonly json: boolean;
  readonly time: TimeMode;
  /** print stack frames (with --callstack / --dropstack; the kernel side decides which events carry them) */
  readonly stack: boolean;
  readonly catchCount?: number;
  readonly verbose: boolean;
  readonly ringBytes: number;
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  /** --iptable: the netfilter path of traced packets (nft trace), with the options that filter it */
  readonly iptable?: TraceOptions;
  /** show route lookups (fib_table_lookup is not attached otherwise) */
  readonly route?: boolean;
  /** kernel functions to trace besides the tracepoints (absent: tracepoints only) */
  readonly functions?: FunctionChoice;
  /** called once the probes are attached (tests, demo) */
  readonly onReady?: () => void;
  /** resolves when the run should end early (demo, tests); signals always end it */
  readonly until?: Promise<unknown>;
}

export interface TraceSummary {
  readonly events: number;
  readonly lost: number;
  readonly drops: ReadonlyMap<string, number>;
  readonly attached: number;
  readonly skipped: number;
  /** the run's drops, grouped and explained */
  readonly findings: readonly Finding[];
}

/** Drops kept for the explanation at the end of a run. */
const MAX_KEPT_DROPS = 10_000;

function startEngine(
  config: object,
  ringBytes: number,
  choice: FunctionChoice | undefined,
  err: NodeJS.WritableStream,
  verbose: boolean,
  route: boolean,
  observers: boolean,
): { trace: LoadedTrace; label: string; returnSpecs?: ReadonlyMap<string, ReturnSpec> } {
  const exclude = route ? [] : ['fib_table_lookup', 'fib6_table_lookup'];
  if (!choice) return { trace: loadTrace(config, { ringBytes, exclude, observers }), label: 'tracepoints' };
  const planned = planFunctions(choice);
  if (verbose) {
    err.write(`pktpath: ${planned.discovered} kernel functions take an skb; traceable list: ${planned.traceableSource}\n`);
    for (const s of planned.skipped) err.write(`pktpath: function ${s.name}${s.module ? ` [${s.module}]` : ''}: skipped: ${s.reason}\n`);
  }
  const trace = loadTrace(config, { ringBytes, exclude, observers, nfEval: observers, functions: planned.plan });
  const fns = trace.probes.filter((p) => p.attached && p.via && !p.via.startsWith('tp_btf') && p.via !== 'raw_tp').length;
  const label = trace.backend ? `tracepoints and ${fns} functions via ${trace.backend}` : 'tracepoints only (no function backend works here: --verbose says why)';
  return { trace, label, returnSpecs: planned.returnSpecs };
}

/** Runs a trace until SIGINT/SIGTERM, the catch count, `until`, or a closed stdout. */
export async function runTrace(o: TraceRunOptions): Promise<TraceSummary> {
  const { trace, label, returnSpecs } = startEngine(o.config, o.ringBytes, o.functions, o.err, o.verbose, o.route ?? false, o.iptable !== undefined);
  const observerProbe = catalog().netfilterProbes.observer;
  const resolver = makeResolver(returnSpecs);
  const fmtOpts = { time: o.time, stack: o.stack };
  const formatter = o.json ? makeJsonFormatter(resolver, fmtOpts) : makeTextFormatter(resolver, fmtOpts);
  const n = native();
  const attached = trace.probes.filter((p) => p.attached);
  const skipped = trace.probes.filter((p) => !p.attached);

  if (o.verbose) {
    for (const p of trace.probes) {
      o.err.write(p.attached ? `pktpath: probe ${p.probe}: attached via ${p.via}\n` : `pktpath: probe ${p.probe}: skipped: ${p.reason}\n`);
    }
  }
  const header = formatter.header();
  if (header) o.out.write(`${header}\n`);

  let events = 0;
  const drops = new Map<string, number>();
  const dropEvents: RawEvent[] = [];
  const nfDrops: RawEvent[] = [];
  const reader = new RingReader(trace.ring);
  const limit = o.catchCount ?? Infinity;
  let done = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const pendingLegacy = new Set<Promise<void>>();
  const onEvent = (ev: RawEvent): void => {
    events++;
    if (ev.flags & EV_DROP) {
      const r = resolver.dropReason(ev.dropReason);
      drops.set(r, (drops.get(r) ?? 0) + 1);
      if (dropEvents.length < MAX_KEPT_DROPS) dropEvents.push(ev);
    }
  };
  /** A drop as it comes off the ring: the legacy table that dropped it, named in order with the observers. */
  const linkDrop = (ev: RawEvent): void => {
    if (!netfilter) return;
    const r = resolver.dropReason(ev.dropReason);
    const seen = netfilter.tracker.freed(ev, r);
    if (seen) legacyTableStep(ev, seen, ev.tsNs + 1n);
    else if (r === 'NETFILTER_DROP' && netfilter.legacy.length && !netfilter.tracker.watches(ev.netns) && ev.tuple && ev.tuple.family) {
      legacyStep(ev, ev.tuple.family);
    }
  };

  /**
   * Events of an skb whose legacy ACCEPT step waits for its rule (counters) are held and
   * printed after it, so the output stays in the packet's order.
   */
  const held = new Map<bigint, { pending: number; events: RawEvent[] }>();
  const hold = (skb: bigint): void => {
    const h = held.get(skb);
    if (h) h.pending++;
    else held.set(skb, { pending: 1, events: [] });
  };
  const release = (skb: bigint): void => {
    const h = held.get(skb);
    if (!h || --h.pending > 0) return;
    held.delete(skb);
    for (const e of h.events) if (events < limit) emit(e);
  };

  let chunk: string[] = [];
  /** Counts, keeps what the summary needs, and queues the formatted line. */
  const emit = (ev: RawEvent): void => {
    onEvent(ev);
    if (ev.nf?.verdict === 'DROP' && nfDrops.length < MAX_KEPT_DROPS) nfDrops.push(ev);
    chunk.push(formatter.format(ev));
  };
  const sink = (view: DataView, bytes: Uint8Array, off: number, len: number): boolean => {
    if (events >= limit) return false;
    const ev = decodeEvent(view, bytes, off, len);
    if (ev.probe === observerProbe) {
      // a netfilter observer: printed only as the legacy table step it proves
      const step = netfilter?.tracker.observe(ev);
      if (step) legacyTableStep(ev, step, ev.tsNs);
      return events < limit;
    }
    if (ev.funcIp) ev.probe = resolver.functionProbe(ev.funcIp, (ev.flags & EV_RET) !== 0);
    if (ev.nfNames) {
      ev.nf = nfOfEval(ev) ?? undefined;
      // the chains of a pktpath run's own tracing table are instrumentation, not the path
      if (ev.nf && OWN_TABLE_RE.test(ev.nf.table)) return events < limit;
    }
    if (ev.stack) ev.stack = trimTracerFrames(ev.stack, resolver.symbol);
    if (ev.flags & EV_DROP) linkDrop(ev);
    const h = held.size && ev.skb ? held.get(ev.skb) : undefined;
    if (h) h.events.push(ev);
    else emit(ev);
    return events < limit;
  };

  let poller: ReturnType<typeof n.pollStart> | undefined;
  const flush = (): void => {
    if (!chunk.length) return;
    const text = `${chunk.join('\n')}\n`;
    chunk = [];
    if (!o.out.write(text) && !done && poller) {
      // stdout is slow: stop reading; the kernel counts what it cannot queue as lost
      n.pollStop(poller);
      poller = undefined;
      o.out.once('drain', () => {
        if (!done) poller = n.pollStart(trace.ringFd, onReadable);
      });
    }
  };
  const onReadable = (): void => {
    if (done) return;
    reader.drain(sink);
    flush();
    if (events >= limit) stop();
  };

  const stop = (): void => {
    if (done) return;
    done = true;
    if (poller) n.pollStop(poller);
    poller = undefined;
    reader.drain(sink); // what arrived before the stop
    flush();
    finish();
  };

  const onSignal = (): void => stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const onOutError = (): void => stop(); // EPIPE: the reader went away
  o.out.on('error', onOutError);

  let netfilter: NetfilterPath | undefined;
  let draining = false; // paths that complete while the sessions stop are still printed
  /** iptables-legacy: the rule behind a NETFILTER_DROP, from counters, as a netfilter event after the drop */
  function legacyStep(drop: RawEvent, family: 4 | 6): void {
    const p = netfilter!
      .explainLegacyDrop(drop.netns, drop.tsNs, family)
      .then((nf) => {
        if (!nf || (done && !draining) || events >= limit) return;
        emit({ ...drop, flags: drop.flags & ~EV_DROP, probe: resolver.namedProbe('netfilter'), stack: null, nf, tsNs: drop.tsNs + 1n });
        flush();
      })
      .catch((err: unknown) => void o.err.write(`pktpath: iptables-legacy counters: ${(err as Error).message}\n`))
      .finally(() => void pendingLegacy.delete(p));
    pendingLegacy.add(p);
  }
  /**
   * iptables-legacy table step seen by the observers, emitted once the counters have
   * named its rule (snapshots are coalesced: at most one per 50 ms per namespace).
   */
  function legacyTableStep(ev: RawEvent, step: LegacyStep, tsNs: bigint): void {
    const base = {
      ...ev,
      flags: ev.flags & ~EV_DROP,
      probe: resolver.namedProbe('netfilter'),
      stack: null,
      tsNs,
      ifname: step.ifname,
      ifindex: step.ifindex,
      tuple: step.tuple,
      location: 0n,
      dropReason: 0,
      aux: 0,
      aux2: 0,
      aux3: 0,
    };
    const holds = step.verdict === 'ACCEPT' && ev.skb !== 0n;
    if (holds) hold(ev.skb);
    const p = netfilter!
      .explainLegacyStep(ev.netns, ev.tsNs, step)
      .then((nf) => {
        if ((done && !draining) || events >= limit) return;
        // a drop after a shared spot is the table's only if its counters say so
        if (step.verdict === 'DROP' && !step.exact && nf.rule === null) return;
        emit({ ...base, nf });
      })
      .catch((err: unknown) => void o.err.write(`pktpath: iptables-legacy counters: ${(err as Error).message}\n`))
      .finally(() => {
        pendingLegacy.delete(p);
        if (holds) release(ev.skb);
        if (!done || draining) flush();
      });
    pendingLegacy.add(p);
  }
  if (o.iptable) {
    const nfProbe = resolver.namedProbe('netfilter');
    try {
      netfilter = await startNetfilterPath(
        o.iptable,
        (t, netns) => {
          if (done && !draining) return;
          for (const ev of nfEvents(t, { tsNs: process.hrtime.bigint(), netns, probe: nfProbe })) {
            if (events >= limit) break;
            emit(ev);
          }
          flush();
          if (events >= limit && !done) stop();
        },
        (msg) => o.err.write(`pktpath: ${msg}\n`),
        trace.observers,
        (msg) => void (o.verbose && o.err.write(`pktpath: ${msg}\n`)),
      );
    } catch (err) {
      trace.close();
      throw err;
    }
    for (const p of netfilter.problems) o.err.write(`pktpath: netfilter path: ${p}\n`);
    if (o.verbose) {
      o.err.write(`pktpath: netfilter path via nft trace in ${netfilter.namespaces.map((x) => x || 'this namespace').join(', ')}\n`);
      if (netfilter.legacy.length) {
        o.err.write(`pktpath: iptables-legacy rules in ${netfilter.legacy.map((x) => x || 'this namespace').join(', ')}: their drops are named from rule counters\n`);
      }
      for (const x of netfilter.observed) {
        o.err.write(`pktpath: iptables-legacy path in ${x.name || 'this namespace'} via BPF netfilter observers at ${x.spots} hook positions\n`);
      }
      if (trace.observerProblem && netfilter.legacy.length) o.err.write(`pktpath: no netfilter observers: ${trace.observerProblem}\n`);
    }
  }

  poller = n.pollStart(trace.ringFd, onReadable);
  o.err.write(
    `pktpath: tracing ${attached.length} probes: ${label}${skipped.length ? `; ${skipped.length} skipped${o.verbose ? '' : ' (--verbose says why)'}` : ''}; ready, Ctrl-C to stop\n`,
  );
  o.onReady?.();
  o.until?.then(stop, stop);

  await finished;
  if (netfilter) {
    draining = true;
    await Promise.all([...pendingLegacy]);
    await netfilter.stop();
    flush();
  }
  {
    const { lost } = trace.stats();
    trace.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    o.out.off('error', onOutError);
    const dropText = [...drops].map(([r, c]) => `${r} ${c}`).join(', ');
    o.err.write(`pktpath: ${events} events, ${lost} lost${dropText ? `; drops: ${dropText}` : '; no drops'}\n`);
    const findings = explainDrops(dropEvents, resolver, nfDrops);
    for (const f of findings) o.err.write(`pktpath: why: ${f.text}\n`);
    return { events, lost, drops, attached: attached.length, skipped: skipped.length, findings };
  }
}
