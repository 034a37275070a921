/**
 * Named checks: what a rule's pattern cannot say by itself (comparing two events'
 * fields, reading socket facts, weighing latency). Each returns extra words for the
 * finding, or null when the rule does not hold after all.
 */
import type { DEvent, Facts, Need, SocketFact } from './model.js';
import type { CheckName } from './rules/types.js';
import type { FlowState } from './state.js';
import type { NameOf, Proof } from './words.js';
import { durationText } from './latency.js';
import { HOP_WORDS } from './stages.js';

export interface CheckEnv {
  readonly facts: Facts;
  readonly names: NameOf;
  /** inputs found missing while judging (reported) */
  readonly missing: Set<Need>;
  /** a hop dominates when its median is at least this long (ns) */
  readonly dominantNs: number;
}

export interface CheckInput {
  readonly anchor: DEvent;
  readonly life: readonly DEvent[];
  readonly flow: FlowState | null;
  readonly proofs: readonly Proof[];
  readonly env: CheckEnv;
}

export interface CheckResult {
  readonly vars: Record<string, string>;
  readonly proofs?: readonly Proof[];
  readonly netns?: number;
  readonly dev?: string;
  /** findings of one rule and flow with different groups stay apart */
  readonly group?: string;
}

const WILDCARD = new Set(['0.0.0.0', '::', '*']);
/** a latency finding needs this many packets through the hop */
const MIN_SAMPLES = 3;

function dstOf(a: DEvent): { addr: string; port: number } | null {
  const f = a.flow;
  if (!f) return null;
  return a.dir === 0 ? f.b : f.a;
}

function listenerElsewhere(i: CheckInput): CheckResult {
  const socks = i.env.facts.sockets;
  const dst = dstOf(i.anchor);
  if (!socks) {
    i.env.missing.add('sockets');
    return { vars: { elsewhere: '' } };
  }
  if (!dst) return { vars: { elsewhere: '' } };
  const proto = i.anchor.flow?.proto;
  const near = socks.filter(
    (s) => s.proto === proto && (s.state === 'LISTEN' || s.state === 'UNCONN') && s.local.port === dst.port && (s.netns !== i.anchor.netns || (s.local.addr !== dst.addr && !WILDCARD.has(s.local.addr))),
  );
  if (!near.length) return { vars: { elsewhere: ` No socket listens on port ${dst.port} in any namespace read.` } };
  const where = near
    .slice(0, 3)
    .map((s) => `${s.local.addr}:${s.local.port}${s.netns !== i.anchor.netns ? ` in netns ${s.netnsName ?? i.env.names.netns(s.netns)}` : ' in this namespace'}${s.process ? ` (${s.process})` : ''}`);
  return { vars: { elsewhere: ` A socket listens on ${where.join(', ')}: the service is bound to the wrong address or runs in the wrong namespace.` } };
}

function acceptQueueFull(i: CheckInput): CheckResult | null {
  const dst = dstOf(i.anchor);
  const socks = i.env.facts.sockets;
  const words: string[] = [];
  if (socks && dst) {
    // read after the run: the listener may be gone by then, so its absence proves nothing
    const l = socks.find((s: SocketFact) => s.state === 'LISTEN' && s.netns === i.anchor.netns && s.local.port === dst.port);
    if (l && l.recvQ !== undefined && l.sendQ !== undefined) words.push(` The listener ${l.local.addr}:${l.local.port}${l.process ? ` (${l.process})` : ''} has ${l.recvQ} connections waiting for accept() with a backlog of ${l.sendQ}.`);
  } else i.env.missing.add('sockets');
  const c = i.env.facts.counters?.filter((x) => x.netns === i.anchor.netns && (x.name === 'TcpExtListenOverflows' || x.name === 'TcpExtListenDrops'));
  if (c?.length) words.push(` ${c.map((x) => `${x.name} +${x.delta}`).join(', ')} in that namespace.`);
  else if (!i.env.facts.counters) i.env.missing.add('counters');
  return { vars: { queue: words.join('') } };
}

/** The namespaces where packets of one direction of a flow were made, split by RST or not. */
function origins(flow: FlowState, dir: 0 | 1): { rst: Map<number, DEvent>; other: Set<number> } {
  const rst = new Map<number, DEvent>();
  const other = new Set<number>();
  for (const s of flow.entries()) {
    const e = s.first;
    if (e.dir !== dir || !e.local || e.stage === 'tcp-rst-recv') continue;
    if (e.tcpFlags & 0x04) {
      if (!rst.has(e.netns)) rst.set(e.netns, e);
    } else other.add(e.netns);
  }
  return { rst, other };
}

/** The most common value of a field among the peer's packets (TTL, IP ID pattern). */
function peerTtl(flow: FlowState, anchor: DEvent): number | null {
  const counts = new Map<number, number>();
  for (const s of flow.entries()) {
    const e = s.first;
    if (e.dir !== anchor.dir || e.netns !== anchor.netns || e.stage !== 'rx' || e.tcpFlags & 0x04) continue;
    const ttl = e.ttl;
    if (ttl !== undefined) counts.set(ttl, (counts.get(ttl) ?? 0) + s.count);
  }
  let best: number | null = null;
  for (const [v, n] of counts) if (best === null || n > (counts.get(best) ?? 0)) best = v;
  return best;
}

function spoofedRst(i: CheckInput): CheckResult | null {
  const flow = i.flow;
  if (!flow) return null;
  const ttl = i.anchor.ttl;
  const usual = ttl !== undefined ? peerTtl(flow, i.anchor) : null;
  if (ttl !== undefined && usual !== null && Math.abs(ttl - usual) > 1) {
    return { vars: { how: `its TTL is ${ttl} where the peer's packets arrive with ${usual}`, origin: 'a box on the path' } };
  }
  if (ttl === undefined) i.env.missing.add('ttl');
  const { rst, other } = origins(flow, i.anchor.dir);
  if (!rst.size || !other.size || [...rst.keys()].some((ns) => other.has(ns))) return null;
  const [ns, e] = [...rst][0]!;
  const names = [...other].map((x) => i.env.names.netns(x)).join(', ');
  return {
    vars: { how: `it was made in netns ${i.env.names.netns(ns)}, while the peer's packets come from netns ${names}`, origin: `netns ${i.env.names.netns(ns)}` },
    proofs: [{ role: 'forger', e, count: 1 }],
  };
}

function sameMac(a: DEvent, b: DEvent): boolean {
  const x = a.mac;
  const y = b.mac;
  for (let k = 0; k < 6; k++) if (x[k] !== y[k]) return false;
  return x.some((v) => v !== 0);
}

function mirred(i: CheckInput): CheckResult | null {
  const a = i.anchor;
  const idx = i.life.indexOf(a);
  for (let k = idx - 1; k >= 0; k--) {
    const e = i.life[k]!;
    if (e.stage === 'route' || e.stage === 'nf') return null; // routed, not redirected
    if (e.probe !== 'netif_receive_skb') continue;
    if (e.dev === a.dev && e.netns === a.netns) return null;
    if (!sameMac(e, a)) return null; // a forwarded frame gets the next hop's MAC
    return {
      vars: { from: e.dev, fromNetns: i.env.names.netns(e.netns), to: a.dev, toNetns: i.env.names.netns(a.netns) },
      proofs: [{ role: 'received', e, count: 1 }],
      group: `${e.netns}/${e.dev}>${a.netns}/${a.dev}`,
    };
  }
  return null;
}

/**
 * dominantHop reads only the flow (as it stands), the facts and the anchor's direction: a
 * flow's candidates, judged one after the other, share its answer (one slot: the last flow).
 */
const hopMemo = { flow: null as FlowState | null, env: null as CheckEnv | null, events: -1, packets: -1, r: [undefined, undefined] as (CheckResult | null | undefined)[] };

function dominantHop(i: CheckInput): CheckResult | null {
  const f = i.flow;
  const m = hopMemo;
  if (m.flow !== f || m.env !== i.env || !f || m.events !== f.events || m.packets !== f.packets) {
    // field by field: an object to assign from was made per flow
    m.flow = f;
    m.env = i.env;
    m.events = f?.events ?? -1;
    m.packets = f?.packets ?? -1;
    m.r[0] = m.r[1] = undefined;
  }
  const dir = i.anchor.dir;
  let r = m.r[dir];
  if (r === undefined) m.r[dir] = r = dominantHopOf(i);
  return r;
}

function dominantHopOf(i: CheckInput): CheckResult | null {
  const flow = i.flow;
  // no hop can be long in a flow shorter than the threshold
  if (!flow || flow.lastTs - flow.firstTs < i.env.dominantNs) return null;
  const dir = i.anchor.dir;
  // the wait for the application to read is the application's time, not the path's
  let total = 0;
  let top: ReturnType<FlowState['hopList']>[number] | null = null;
  let p50 = 0;
  for (const h of flow.hopList()) {
    if (h.dir !== dir || h.count < MIN_SAMPLES || h.kind === 'rx-to-socket') continue;
    const m = h.quantile(0.5);
    total += m;
    if (m > p50) [top, p50] = [h, m];
  }
  if (!top) return null;
  if (p50 < i.env.dominantNs || p50 < total * 0.5) return null;
  const q = i.env.facts.qdiscs?.find((x) => x.netns === top.netns && x.dev === top.dev);
  return {
    vars: {
      who: dir === 0 ? 'packets' : 'replies',
      hopWords: (HOP_WORDS[top.kind] ?? HOP_WORDS.other!).replace('{qdisc}', q ? `${q.kind} qdisc` : 'qdisc'),
      hop: `${top.from} -> ${top.to}`,
      median: durationText(p50),
      p90: durationText(top.quantile(0.9)),
      samples: String(top.count),
      share: `${Math.round((p50 / total) * 100)}%`,
      qdisc: q ? `${q.kind} qdisc` : 'qdisc',
      hopDev: top.dev || 'no device',
      hopNetns: i.env.names.netns(top.netns),
    },
    netns: top.netns,
    dev: top.dev,
    group: `${dir}|${top.from}>${top.to}|${top.netns}/${top.dev}`,
  };
}

function sameSizeResent(i: CheckInput): CheckResult | null {
  const flow = i.flow;
  if (!flow) return null;
  const a = i.anchor;
  let resent: DEvent | null = null;
  let count = 0;
  for (const s of flow.entries()) {
    const e = s.last;
    if (e.dir !== a.dir || !e.local || e.n <= a.n || (e.stage !== 'tx-queue' && e.stage !== 'tcp-retrans')) continue;
    if (e.len + 64 < a.len) continue; // the sender went smaller: it heard the MTU
    count += s.count;
    resent ??= e;
  }
  if (!resent) return null;
  return { vars: { resentLen: String(resent.len) }, proofs: [{ role: 'resent', e: resent, count }] };
}

const CHECKS: Readonly<Record<CheckName, (i: CheckInput) => CheckResult | null>> = {
  listenerElsewhere,
  acceptQueueFull,
  spoofedRst,
  mirred,
  dominantHop,
  sameSizeResent,
};

/** Checks that read the anchor's packet life beyond the anchor (a candidate keeps it only for these). */
export const READS_LIFE: ReadonlySet<CheckName> = new Set<CheckName>(['mirred']);

export function runCheck(name: CheckName, input: CheckInput): CheckResult | null {
  return CHECKS[name](input);
}
