/**
 * Path MTU trouble seen from a capture. A black hole: one big segment resent again and
 * again and never acknowledged, while the handshake and smaller packets pass; with the
 * router's ICMP "fragmentation needed" in the capture or without it. A lowered path MTU:
 * the ICMP error, and whether the sender then sent smaller segments.
 */
import { addrText } from './decode.js';
import { acked, BIG_SEGMENT, handshakeDone } from './flow.js';
import type { Flow, IcmpRecord } from './flow.js';
import { make, sideWords } from './found.js';
import type { Found } from './found.js';
import { icmpKind, icmpWords } from './icmp.js';
import { gapsText } from './words.js';

/** IP and TCP headers without options */
const HEADERS = 40;

function firstTooBig(f: Flow, s: 0 | 1): IcmpRecord | undefined {
  return f.icmp.find((r) => r.side === s && icmpKind(r.family, r.type, r.code) === 'too-big');
}

function icmpSeenWords(f: Flow, s: 0 | 1, size: number): string {
  const src = sideWords(f, s).src;
  const r = firstTooBig(f, s);
  if (!r) {
    return 'No ICMP "fragmentation needed" ("packet too big") about this flow reached the capture point: a router on the path drops the big packets without saying so, or its ICMP is filtered on the way';
  }
  const { icmp } = icmpWords(r.family, r.type, r.code);
  return `${icmp} (MTU ${r.mtu}) from ${addrText(r.from)} reached the capture point at packet #${r.n}, yet ${src} kept sending ${size}-byte segments: the ICMP is dropped after the capture point (a firewall on ${src} that drops ICMP) or ignored (a socket with path MTU discovery off)`;
}

/**
 * Evidence that small packets die as well, so size is not the cause: the peer resent its
 * SYN-ACK (our small ACK did not reach it), or a small segment sent after the stuck one
 * drew no answer at all.
 */
function smallLostToo(f: Flow, s: 0 | 1, since: number): boolean {
  const me = f.sides[s];
  const peer = f.sides[s === 0 ? 1 : 0];
  if (s === 0 && f.synAckCount > 1) return true;
  return me.smallT > since && peer.lastT < me.smallT;
}

function blackHole(f: Flow, s: 0 | 1): Found | null {
  const me = f.sides[s];
  const w = me.retrans.worst;
  if (!w || w.count < 2 || w.size < BIG_SEGMENT || acked(f, s, w.seq)) return null;
  const peer = f.sides[s === 0 ? 1 : 0];
  if (!handshakeDone(f) && peer.pkts === 0) return null; // nothing got through at all: not an MTU problem
  if (smallLostToo(f, s, w.t0)) return null;
  const words = { ...sideWords(f, s), size: String(w.size), first: String(w.n), count: String(w.count + 1), gaps: gapsText(w.gaps), icmpWords: icmpSeenWords(f, s, w.size) };
  const icmp = firstTooBig(f, s);
  return make('pmtu.black-hole', f, words, icmp ? [w.n, icmp.n] : [w.n]);
}

function tooBig(f: Flow, s: 0 | 1): Found | null {
  const r = firstTooBig(f, s);
  if (!r) return null;
  const me = f.sides[s];
  const src = sideWords(f, s).src;
  const after =
    me.bigAfterPmtu + HEADERS > r.mtu
      ? `Yet ${src} resent ${me.bigAfterPmtu}-byte segments after it`
      : me.retrans.count > 0
        ? 'Later retransmissions fit: the sender adapted'
        : 'A sender whose TCP gets this message lowers its segment size';
  const { icmp } = icmpWords(r.family, r.type, r.code);
  return make('pmtu.too-big', f, { ...sideWords(f, s), router: addrText(r.from), icmp, mtu: String(r.mtu), n: String(r.n), len: String(r.len), after }, [r.n]);
}

export function pmtuFindings(f: Flow): { found: Found[]; holes: [boolean, boolean] } {
  const found: Found[] = [];
  const holes: [boolean, boolean] = [false, false];
  for (const s of [0, 1] as const) {
    const hole = blackHole(f, s);
    if (hole) {
      holes[s] = true;
      found.push(hole);
      continue; // the black hole tells the ICMP too
    }
    const big = tooBig(f, s);
    if (big) found.push(big);
  }
  return { found, holes };
}
