/**
 * `pktpath analyze`: a capture's packets in, a report out. The analyzer is the readers'
 * sink: each packet is decoded in place, attached to its flow (TCP and UDP; an ICMP
 * error to the flow it quotes) and forgotten. Flows live in a bounded table; a flow is
 * judged when the table evicts it or the capture ends, and only its summary and findings
 * stay, so memory does not grow with the file.
 */
import { decodeIp, newPacket, PROTO, srcBin } from './decode.js';
import type { Packet } from './decode.js';
import { linkTypeSupported } from './format.js';
import { flowKey, newFlow, FLOW_RECORDS, NONE } from './flow.js';
import type { Flow, FlowKey } from './flow.js';
import { judgeFlow } from './judge.js';
import { linkHeader } from './link.js';
import type { LinkInfo } from './link.js';
import type { CaptureDescription, CaptureInterface, CaptureSink, InterfaceStats, RawPacket } from './records.js';
import { ReportBuilder } from './report.js';
import type { AnalysisReport, Counts } from './report.js';
import { FlowTable } from './table.js';
import { duplicateCapture, onTcp } from './tcp.js';
import type { Seen } from './tcp.js';
import { orphanIcmp } from './orphans.js';
import type { Orphans } from './orphans.js';
import { TCP_FLAG } from './decode.js';

export interface AnalyzeOptions {
  /** live flows kept at once (default 20000); older ones are judged early */
  readonly maxFlows?: number;
  /** flow summaries kept for the report (default 500; flows with findings first) */
  readonly listFlows?: number;
}

export class Analyzer implements CaptureSink {
  private readonly link: LinkInfo = { l3: 0, ethType: 0, dir: 0, ifindex: 0, vlan: -1 };
  private readonly pkt: Packet = newPacket();
  private readonly seen: { t: number; n: number; dir: 0 | 1 | 2; ifKey: number } = { t: 0, n: 0, dir: 0, ifKey: 0 };
  private sec0 = -1;
  private nsec0 = 0;
  private lastSec = 0;
  private lastNsec = 0;
  private nextFlowId = 1;
  private readonly table: FlowTable;
  private readonly builder: ReportBuilder;
  private readonly orphans: Orphans = { list: [], count: 0 };
  private readonly key: FlowKey = { k1: 0, k2: 0, key: '' };
  readonly counts: Counts = { packets: 0, bytes: 0, cut: 0, ip: 0, tcp: 0, udp: 0, icmp: 0, other: 0, nonIp: 0, short: 0, fragments: 0, unsupported: {} };
  /** packets per interface: section 0 in an array (the common case), others in the map */
  private readonly ifCounts: number[] = [];
  private readonly perIface = new Map<number, number>();
  private readonly ifaces: (CaptureInterface & { section: number })[] = [];
  private readonly stats_: InterfaceStats[] = [];

  constructor(opts: AnalyzeOptions = {}) {
    this.builder = new ReportBuilder(opts.listFlows ?? 500);
    this.table = new FlowTable(opts.maxFlows ?? 20000, (f) => this.builder.addFlow(f, judgeFlow(f)));
  }

  interface(i: CaptureInterface, section: number): void {
    if (this.ifaces.length < 4096) this.ifaces.push({ ...i, section });
  }

  stats(s: InterfaceStats): void {
    if (this.stats_.length < 256) this.stats_.push(s);
  }

  packet(r: RawPacket): void {
    const c = this.counts;
    c.packets++;
    c.bytes += r.origLen;
    if (r.caplen < r.origLen) c.cut++;
    if (r.section === 0 && r.iface < 4096) this.ifCounts[r.iface] = (this.ifCounts[r.iface] ?? 0) + 1;
    else {
      const ik = r.section * 65536 + r.iface;
      this.perIface.set(ik, (this.perIface.get(ik) ?? 0) + 1);
    }
    if (this.sec0 < 0) {
      this.sec0 = r.sec;
      this.nsec0 = r.nsec;
    }
    this.lastSec = r.sec;
    this.lastNsec = r.nsec;
    if (!linkTypeSupported(r.linkType)) {
      c.unsupported[r.linkType] = (c.unsupported[r.linkType] ?? 0) + 1;
      return;
    }
    const link = this.link;
    if (!linkHeader(r.linkType, r.buf, r.off, r.caplen, link)) return void c.short++;
    const p = this.pkt;
    if (!decodeIp(r.buf, link.l3, r.off + r.caplen, link.ethType, r.origLen - (link.l3 - r.off), p)) {
      if (p.short) c.short++;
      else c.nonIp++;
      return;
    }
    c.ip++;
    const at = this.seen;
    at.t = (r.sec - this.sec0) * 1e9 + (r.nsec - this.nsec0);
    at.n = r.n;
    at.dir = r.dir || link.dir;
    at.ifKey = ((r.iface & 0xfff) << 16) | (link.ifindex & 0xffff);
    this.ipPacket(p, at);
  }

  private ipPacket(p: Packet, at: Seen): void {
    const c = this.counts;
    if (p.frag === 2) return void c.fragments++;
    if (p.proto === PROTO.TCP || p.proto === PROTO.UDP) {
      if (p.proto === PROTO.TCP) c.tcp++;
      else c.udp++;
      if (p.sport < 0) return void c.short++;
      return this.l4(p, at);
    }
    if (p.proto === PROTO.ICMP || p.proto === PROTO.ICMPV6) {
      c.icmp++;
      if (p.inner.family !== 0 && p.inner.sport >= 0) this.icmpError(p, at);
      return;
    }
    c.other++;
  }

  private find(k: FlowKey, family: number): Flow | undefined {
    return family === 4 ? this.table.get4(k.k1, k.k2) : this.table.get6(k.key);
  }

  private l4(p: Packet, at: Seen): void {
    const k = this.key;
    flowKey(p.family, p.proto, p.srcN, p.dstN, p.src, p.dst, p.sport, p.dport, k);
    let f = this.find(k, p.family);
    if (!f) {
      // the client is side 0: swap when the first packet seen is a SYN-ACK
      const swap = p.proto === PROTO.TCP && (p.flags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === (TCP_FLAG.SYN | TCP_FLAG.ACK);
      f = newFlow(this.nextFlowId++, k, p, swap, at.t, at.n);
      this.table.add(f);
    }
    f.touched = true;
    f.lastT = at.t;
    f.lastN = at.n;
    const fromA = p.family === 4 ? p.srcN === f.aN : p.src === f.addr[0];
    const s: 0 | 1 = fromA && p.sport === f.port[0] ? 0 : 1;
    const side = f.sides[s];
    if (p.proto === PROTO.TCP && duplicateCapture(side, p, at)) return;
    side.pkts++;
    side.bytes += p.payload;
    if (p.proto !== PROTO.TCP) return;
    onTcp(f, s, p, at);
    // a finished connection is the first the table lets go of when it is full
    if (f.rstCount > 0 || (f.sides[0].fin && f.sides[1].fin)) f.touched = false;
  }

  /** An ICMP error: attach it to the flow its quoted header belongs to. */
  private icmpError(p: Packet, at: Seen): void {
    const q = p.inner;
    const k = this.key;
    flowKey(q.family, q.proto, q.srcN, q.dstN, q.src, q.dst, q.sport, q.dport, k);
    const f = this.find(k, q.family);
    if (!f) return orphanIcmp(this.orphans, p, at.n);
    const fromA = q.family === 4 ? q.srcN === f.aN : q.src === f.addr[0];
    const s: 0 | 1 = fromA && q.sport === f.port[0] ? 0 : 1;
    f.icmpCount++;
    if (p.icmpMtu > 0) {
      const side = f.sides[s];
      if (side.pmtu === 0 || p.icmpMtu < side.pmtu) {
        side.pmtu = p.icmpMtu;
        side.pmtuN = at.n;
        side.pmtuT = at.t;
      }
    }
    if (f.icmp.length >= FLOW_RECORDS) return;
    if (f.icmp === NONE) f.icmp = [];
    f.icmp.push({ n: at.n, t: at.t, family: p.family as 4 | 6, type: p.icmpType, code: p.icmpCode, from: srcBin(p), ttl: p.ttl, mtu: p.icmpMtu, side: s, len: q.len });
  }

  /** Judges the flows still live and returns the report. */
  report(desc: CaptureDescription, file: string): AnalysisReport {
    for (const f of this.table.drain()) this.builder.addFlow(f, judgeFlow(f));
    return this.builder.build({
      file,
      desc,
      counts: this.counts,
      perIface: new Map([...this.ifCounts.entries()].filter(([, n]) => n !== undefined).concat([...this.perIface])),
      ifaces: this.ifaces,
      stats: this.stats_,
      span: { sec0: this.sec0, nsec0: this.nsec0, sec1: this.lastSec, nsec1: this.lastNsec },
      orphans: this.orphans,
      evicted: this.table.evicted,
      flows: this.nextFlowId - 1,
    });
  }

  /** Link types that kept every packet (or every interface) from being decoded, or null. */
  undecodable(): number[] | null {
    const kinds = this.ifaces.map((i) => i.linkType);
    if (kinds.length && kinds.every((k) => !linkTypeSupported(k))) return [...new Set(kinds)];
    const skipped = Object.values(this.counts.unsupported).reduce((x, y) => x + y, 0);
    if (this.counts.packets > 0 && skipped === this.counts.packets) return Object.keys(this.counts.unsupported).map(Number);
    return null;
  }

  /** Flows judged so far are in the report; exposed for tests of the bound. */
  get liveFlows(): number {
    return this.table.size;
  }
}

export type { Flow };
