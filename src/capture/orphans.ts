/**
 * ICMP errors about packets the capture does not hold (the flow began before it, was
 * evicted, or was filtered out): still worth a finding, told from the quoted header.
 */
import { addrText, dstBin, srcBin } from './decode.js';
import type { Packet } from './decode.js';
import { make } from './found.js';
import type { Found } from './found.js';
import { icmpKind, icmpWords } from './icmp.js';
import { icmpRecordWords } from './judge-icmp.js';
import type { IcmpRecord } from './flow.js';
import { endpoint, protoName } from './words.js';

const KEPT = 16;

export interface Orphan {
  readonly rec: IcmpRecord;
  readonly proto: number;
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
}

export interface Orphans {
  readonly list: Orphan[];
  count: number;
}

export function orphanIcmp(o: Orphans, p: Packet, n: number): void {
  o.count++;
  if (o.list.length >= KEPT) return;
  const q = p.inner;
  const rec: IcmpRecord = { n, t: 0, family: p.family as 4 | 6, type: p.icmpType, code: p.icmpCode, from: srcBin(p), ttl: p.ttl, mtu: p.icmpMtu, side: 0, len: q.len };
  o.list.push({ rec, proto: q.proto, src: srcBin(q), sport: q.sport, dst: dstBin(q), dport: q.dport });
}

export function orphanFindings(o: Orphans): Found[] {
  return o.list.flatMap((x) => {
    const base = {
      flow: `${protoName(x.proto)} ${endpoint(x.src, x.sport)} -> ${endpoint(x.dst, x.dport)}`,
      src: addrText(x.src),
      dst: addrText(x.dst),
      sport: String(x.sport),
      dport: String(x.dport),
      proto: protoName(x.proto),
    };
    const kind = icmpKind(x.rec.family, x.rec.type, x.rec.code);
    if (kind === 'other') return [];
    const words = icmpRecordWords(x.rec, base);
    if (kind === 'too-big') {
      const { icmp } = icmpWords(x.rec.family, x.rec.type, x.rec.code);
      return [make('pmtu.too-big', null, { ...words, icmp, mtu: String(x.rec.mtu), len: String(x.rec.len), after: 'The flow itself is not in the capture' }, [x.rec.n])];
    }
    return [make(kind === 'unreachable' ? 'icmp.unreachable' : 'icmp.time-exceeded', null, words, [x.rec.n])];
  });
}
