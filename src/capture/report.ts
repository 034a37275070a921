/**
 * The report of `pktpath analyze` (README "pktpath analyze --json" documents it): what
 * the capture was, the verdict, the findings (one per rule, with how many flows had it),
 * and flow summaries. Bounded: at most `listFlows` summaries are kept, flows with
 * findings before the others; the rest are counted.
 */
import type { Flow, RttStats, Side } from './flow.js';
import type { Found } from './found.js';
import { linkTypeName } from './format.js';
import { orphanFindings } from './orphans.js';
import type { Orphans } from './orphans.js';
import type { CaptureDescription, CaptureInterface, InterfaceStats } from './records.js';
import { LEVEL_ORDER } from './rules.js';
import type { Level } from './rules.js';
import { endpoint, protoName } from './words.js';
import { capturedDrops } from './judge-capture.js';

export interface Counts {
  packets: number;
  bytes: number;
  /** packets the snaplen cut */
  cut: number;
  ip: number;
  tcp: number;
  udp: number;
  icmp: number;
  other: number;
  nonIp: number;
  short: number;
  fragments: number;
  /** link type -> packets not decoded */
  unsupported: Record<number, number>;
}

export interface Finding {
  readonly n: number;
  readonly id: string;
  readonly level: Level;
  readonly title: string;
  readonly verdict: string;
  readonly what: string;
  readonly advice: string;
  /** the flow the words are about (the first one, or the worst) */
  readonly flow: string | null;
  readonly flowId: number | null;
  readonly packets: readonly number[];
  /** flows (or ICMP errors, for those without a flow) the same rule held for */
  readonly count: number;
  /** ids of those flows (the first 20) */
  readonly flowIds: readonly number[];
}

export interface DataRtt {
  readonly samples: number;
  readonly minMs: number;
  readonly avgMs: number;
  readonly maxMs: number;
}

export interface FlowSummary {
  readonly id: number;
  readonly proto: string;
  /** side a sent the first packet seen (the client, when the handshake is in the capture) */
  readonly a: string;
  readonly b: string;
  readonly firstPacket: number;
  readonly lastPacket: number;
  readonly startS: number;
  readonly durationS: number;
  /** [a to b, b to a] */
  readonly packets: readonly [number, number];
  readonly bytes: readonly [number, number];
  /** TCP: complete, refused, unanswered, no final ACK, not in capture; null for UDP */
  readonly handshake: string | null;
  /** TCP: reset, closed, half-closed, open */
  readonly end: string | null;
  readonly rttMs: {
    /** SYN to the client's ACK, split at the capture point: to b (SYN to SYN-ACK), to a (SYN-ACK to ACK) */
    readonly handshake: number | null;
    readonly toB: number | null;
    readonly toA: number | null;
    /** data sent by a (ACKed by b) and by b */
    readonly data: readonly [DataRtt | null, DataRtt | null];
  } | null;
  readonly mss: readonly [number | null, number | null];
  readonly maxSegment: readonly [number, number];
  readonly retransmissions: readonly [number, number];
  readonly zeroWindows: readonly [number, number];
  /** sequence jumps: segments missing from the capture */
  readonly notCaptured: readonly [number, number];
  /** packets the capture holds twice (another interface of the same host), left out of the counts */
  readonly capturedTwice: readonly [number, number];
  readonly resets: number;
  readonly icmpErrors: number;
  readonly findings: readonly string[];
}

export interface AnalysisReport {
  readonly schema: 'pktpath.capture/1';
  readonly capture: {
    readonly file: string;
    readonly format: 'pcap' | 'pcapng';
    readonly version: string;
    readonly byteOrder: string;
    readonly resolution: string;
    readonly sections: number;
    readonly application: string | null;
    readonly interfaces: readonly {
      readonly id: number;
      readonly section: number;
      readonly name: string | null;
      readonly description: string | null;
      readonly linkType: number;
      readonly linkTypeName: string;
      readonly snaplen: number;
      readonly packets: number;
    }[];
    readonly packets: number;
    readonly bytes: number;
    readonly first: string | null;
    readonly last: string | null;
    readonly durationS: number;
    readonly stats: readonly InterfaceStats[];
  };
  readonly decoded: Counts;
  readonly verdict: { readonly level: Level | 'ok'; readonly text: string; readonly finding: number | null };
  readonly findings: readonly Finding[];
  readonly flows: {
    readonly total: number;
    readonly evicted: number;
    readonly listed: number;
    readonly notListed: number;
    readonly list: readonly FlowSummary[];
  };
}

export interface BuildInput {
  readonly file: string;
  readonly desc: CaptureDescription;
  readonly counts: Counts;
  readonly perIface: ReadonlyMap<number, number>;
  readonly ifaces: readonly (CaptureInterface & { section: number })[];
  readonly stats: readonly InterfaceStats[];
  readonly span: { sec0: number; nsec0: number; sec1: number; nsec1: number };
  readonly orphans: Orphans;
  readonly evicted: number;
  readonly flows: number;
}

const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3;

function dataRtt(r: RttStats): DataRtt | null {
  return r.n === 0 ? null : { samples: r.n, minMs: ms(r.min), avgMs: ms(r.sum / r.n), maxMs: ms(r.max) };
}

function handshakeState(f: Flow): string {
  if (f.synAckT >= 0) return f.ackT >= 0 ? 'complete' : 'no final ACK';
  if (f.synCount === 0) return 'not in capture';
  return f.rsts.some((r) => r.side === 1) ? 'refused' : 'unanswered';
}

function endState(f: Flow): string {
  if (f.rstCount > 0) return 'reset';
  const [a, b] = f.sides;
  return a.fin && b.fin ? 'closed' : a.fin || b.fin ? 'half-closed' : 'open';
}

function pair<T>(f: Flow, get: (s: Side) => T): [T, T] {
  return [get(f.sides[0]), get(f.sides[1])];
}

export function summarize(f: Flow, found: readonly Found[]): FlowSummary {
  const tcp = f.proto === 6;
  const hsDone = f.synT >= 0 && f.synAckT >= 0 && f.ackT >= 0;
  return {
    id: f.id,
    proto: protoName(f.proto),
    a: endpoint(f.addr[0], f.port[0]),
    b: endpoint(f.addr[1], f.port[1]),
    firstPacket: f.firstN,
    lastPacket: f.lastN,
    startS: ms(f.firstT) / 1e3,
    durationS: ms(f.lastT - f.firstT) / 1e3,
    packets: pair(f, (s) => s.pkts),
    bytes: pair(f, (s) => s.bytes),
    handshake: tcp ? handshakeState(f) : null,
    end: tcp ? endState(f) : null,
    rttMs: tcp
      ? {
          handshake: hsDone ? ms(f.ackT - f.synT) : null,
          toB: f.synT >= 0 && f.synAckT >= f.synT ? ms(f.synAckT - f.synT) : null,
          toA: hsDone ? ms(f.ackT - f.synAckT) : null,
          data: pair(f, (s) => dataRtt(s.rtt)),
        }
      : null,
    mss: pair(f, (s) => (s.mss > 0 ? s.mss : null)),
    maxSegment: pair(f, (s) => s.maxSeg),
    retransmissions: pair(f, (s) => s.retrans.count),
    zeroWindows: pair(f, (s) => s.zw.count),
    notCaptured: pair(f, (s) => s.holes),
    capturedTwice: pair(f, (s) => s.dupCaptured),
    resets: f.rstCount,
    icmpErrors: f.icmpCount,
    findings: [...new Set(found.map((x) => x.id))],
  };
}

interface Group {
  rep: Found;
  count: number;
  flowIds: number[];
}

export class ReportBuilder {
  private readonly list: FlowSummary[] = [];
  private notListed = 0;
  private readonly groups = new Map<string, Group>();

  constructor(private readonly limit: number) {}

  addFlow(f: Flow, found: readonly Found[]): void {
    for (const x of found) this.addFound(x);
    if (this.list.length < this.limit) return void this.list.push(summarize(f, found));
    this.notListed++;
    // a flow with findings takes the place of one without
    const plain = found.length ? this.list.findIndex((y) => y.findings.length === 0) : -1;
    if (plain >= 0) this.list[plain] = summarize(f, found);
  }

  addFound(x: Found): void {
    const g = this.groups.get(x.id);
    if (!g) return void this.groups.set(x.id, { rep: x, count: 1, flowIds: x.flowId !== null ? [x.flowId] : [] });
    g.count++;
    if (x.flowId !== null && g.flowIds.length < 20) g.flowIds.push(x.flowId);
    if (LEVEL_ORDER[x.level] < LEVEL_ORDER[g.rep.level]) g.rep = x;
  }

  private findings(): Finding[] {
    const groups = [...this.groups.values()].sort((a, b) => LEVEL_ORDER[a.rep.level] - LEVEL_ORDER[b.rep.level] || (a.rep.packets[0] ?? 0) - (b.rep.packets[0] ?? 0));
    return groups.map((g, i) => ({ n: i + 1, ...g.rep, count: g.count, flowIds: g.flowIds }));
  }

  build(input: BuildInput): AnalysisReport {
    for (const x of [...orphanFindings(input.orphans), ...capturedDrops(input.stats, input.ifaces)]) this.addFound(x);
    const findings = this.findings();
    const lead = findings[0];
    const verdict = lead
      ? { level: lead.level, text: lead.verdict, finding: lead.n }
      : { level: 'ok' as const, text: okText(input), finding: null };
    this.list.sort((a, b) => a.id - b.id);
    return {
      schema: 'pktpath.capture/1',
      capture: captureInfo(input),
      decoded: input.counts,
      verdict,
      findings,
      flows: { total: input.flows, evicted: input.evicted, listed: this.list.length, notListed: this.notListed, list: this.list },
    };
  }
}

function okText(i: BuildInput): string {
  if (i.counts.ip === 0) return `no IP packets among the ${i.counts.packets} of the capture`;
  return `nothing wrong found in ${i.flows} flows: no resets, retransmissions, zero windows, ICMP errors or MTU trouble`;
}

function iso(sec: number, nsec: number): string | null {
  if (sec < 0) return null;
  const d = new Date(sec * 1000).toISOString();
  return `${d.slice(0, 19)}.${String(nsec).padStart(9, '0')}Z`;
}

function captureInfo(i: BuildInput): AnalysisReport['capture'] {
  const d = i.desc;
  const { sec0, nsec0, sec1, nsec1 } = i.span;
  return {
    file: i.file,
    format: d.format,
    version: d.version,
    byteOrder: d.byteOrder,
    resolution: d.resolution,
    sections: d.sections,
    application: d.application,
    interfaces: i.ifaces.map((x) => ({
      id: x.id,
      section: x.section,
      name: x.name,
      description: x.description,
      linkType: x.linkType,
      linkTypeName: linkTypeName(x.linkType),
      snaplen: x.snaplen,
      packets: i.perIface.get(x.section * 65536 + x.id) ?? 0,
    })),
    packets: i.counts.packets,
    bytes: i.counts.bytes,
    first: iso(sec0, nsec0),
    last: sec0 < 0 ? null : iso(sec1, nsec1),
    durationS: sec0 < 0 ? 0 : Math.round(((sec1 - sec0) * 1e9 + (nsec1 - nsec0)) / 1e3) / 1e6,
    stats: i.stats,
  };
}
