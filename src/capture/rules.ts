/**
 * What `pktpath analyze` can find in a capture, as data: id, level, title, the verdict
 * line, what happened and the advice, in the shape of the diagnosis engine's rules
 * (src/diagnose/rules). Where a finding is the same one (tcp.rst-injected,
 * tcp.syn-unanswered, tcp.retransmit, pmtu.black-hole, pmtu.too-big) the id, level and
 * title, and each sentence that means the same from a capture as from a trace, are the
 * diagnosis rule's, taken from it here (`diagnosis`), so each is written once; what stays
 * here speaks of packet numbers and of what a capture point sees. judge.ts decides when
 * each holds; words are templates whose {names} judge.ts fills.
 */
import { RULES } from '../diagnose/rules/index.js';
import type { Rule } from '../diagnose/rules/index.js';

export type Level = 'error' | 'warn' | 'info' | 'benign';

export interface CaptureRule {
  readonly id: string;
  readonly level: Level;
  readonly title: string;
  readonly verdict: string;
  readonly what: string;
  readonly advice: string;
  /** the seed note or issue the case comes from */
  readonly source?: string;
}

type Shared = 'level' | 'title' | 'verdict' | 'advice';

/** The diagnosis rule `id`'s `keys`: the words analyze shares with it. */
export function diagnosis<K extends Shared>(id: string, ...keys: K[]): Pick<Rule, 'id' | K> {
  const r = RULES.find((x) => x.id === id);
  if (!r) throw new Error(`no diagnosis rule ${id}`);
  const out: Partial<Rule> = { id: r.id };
  for (const k of keys) Object.assign(out, { [k]: r[k] });
  return out as Pick<Rule, 'id' | K>;
}

export const CAPTURE_RULES = [
  {
    ...diagnosis('tcp.rst-injected', 'level', 'title', 'verdict'),
    id: 'tcp.rst-injected',
    what: 'packet #{rst} is a reset from {src}:{sport} to {dst}:{dport}, but {how}. A host\'s own resets leave with the TTL and IP ID pattern of its other packets; this one was made by a box on the path (a firewall, an IPS, a TCP proxy) that cuts connections it does not like',
    advice: 'find the box that injects resets ({hops}); until then a rule on {dst} can drop the forged ones, e.g. iptables -I INPUT -p tcp --tcp-flags RST RST -m ttl --ttl-eq {ttl} -j DROP',
    source: 'seed 003 (TTL and IP ID of the resets), issue 11',
  },
  {
    id: 'tcp.refused',
    level: 'error',
    title: 'connection refused',
    verdict: 'connection refused: {src} answered the SYN to port {sport} with a reset',
    what: '{src} answered the SYN of {flow} with a reset (packet #{rst}, TTL {ttl}): nothing listens on port {sport} there, or a firewall rejects it with tcp-reset; the client sees "Connection refused" (ECONNREFUSED)',
    advice: 'check that the service listens on {src}:{sport} (ss -ltnp on that host) and look for REJECT rules (iptables -S | grep REJECT, nft list ruleset)',
  },
  {
    id: 'tcp.reset',
    level: 'warn',
    title: 'connection reset',
    verdict: '{flow} was reset by {src}',
    what: 'after {before} packets of its own, {src} reset {flow} (packet #{rst}); its TTL ({ttl}) {idWords}match its other packets, so its own stack sent it: the application aborted (closed with unread data, SO_LINGER 0), the connection was unknown there, or a firewall on that host answered with tcp-reset',
    advice: 'look at what {src} received just before packet #{rst} and at its application\'s logs',
  },
  {
    id: 'tcp.reset-after-forged',
    level: 'benign',
    title: 'reset answering packets after a forged reset',
    verdict: '{src} reset {flow} because a forged reset had already closed its end',
    what: '{src} sent a reset (packet #{rst}) after the forged one of packet #{forged} had closed its end of {flow}: the peer, which never closed, went on sending, and a connection unknown to {src} is answered with a reset',
    advice: 'nothing of its own: see tcp.rst-injected',
  },
  {
    ...diagnosis('tcp.syn-unanswered', 'level', 'title'),
    id: 'tcp.syn-unanswered',
    verdict: 'the SYN to {dst}:{dport} was sent {count} times and nothing came back',
    what: '{src} sent the SYN of {flow} {count} times ({gaps} apart: SYN timeouts) from packet #{first}, and no answer, not even a reset or an ICMP error, reached the capture point',
    advice: 'the SYN or its answer is lost: a DROP rule (not REJECT) on the path or on {dst}, no route back, or {dst} is down; capture on {dst} too (or pktpath diagnose there) to see which',
    source: 'issue 9: retransmission timeouts',
  },
  {
    ...diagnosis('tcp.retransmit', 'level', 'title'),
    id: 'tcp.retransmit',
    verdict: '{flow}: {count} retransmissions by {src} ({kinds})',
    what: '{src} sent {count} segments of {flow} again ({kinds}; first at packet #{first}); {gapWords}. {meaning}',
    advice: 'find where the segments or their ACKs die: trace the path (pktpath trace -H {dst} -P {dport}), look for drops on the way (qdisc, firewall, rate limits), and at nstat TcpExtTCPTimeouts TcpRetransSegs on {src}',
  },
  {
    id: 'tcp.zero-window',
    level: 'warn',
    title: 'zero window: the receiver does not read',
    verdict: '{src} shut its receive window on {flow} for {total}',
    what: '{src} told its peer to stop sending {count} times (window 0 from packet #{first}); the longest stall lasted {longest}{open}, with {probes} zero-window probes from {dst}. Its receive buffer was full: the application on {src} reads slower than the data arrives, or not at all',
    advice: 'look at the application on {src} (a blocked reader, a slow consumer); ss -tmi there shows Recv-Q and the buffer; a bigger net.ipv4.tcp_rmem only delays the stall',
    source: 'seed 003 (receive window and zero window)',
  },
  {
    ...diagnosis('pmtu.black-hole', 'level', 'title', 'advice'),
    id: 'pmtu.black-hole',
    verdict: '{flow}: {size}-byte segments are resent and never acknowledged while small packets pass: a path MTU black hole',
    what: '{src} sent the {size}-byte segment of packet #{first} {count} times ({gaps} apart) and it was never acknowledged, while the handshake and smaller packets of {flow} went through. {icmpWords}',
    source: 'seed 000 (docker MTU 1500 over a 1450 host link), seed 001 (DF and MTU), issue 11',
  },
  {
    ...diagnosis('pmtu.too-big', 'level', 'title'),
    id: 'pmtu.too-big',
    verdict: '{router} says {flow} needs packets of at most {mtu} bytes',
    what: '{router} answered {flow} with {icmp} (next-hop MTU {mtu}) at packet #{n}: {src}\'s {len}-byte packets do not fit a link on the path. {after}',
    advice: 'nothing if the sender adapted; otherwise see pmtu.black-hole. MSS clamping on the router (TCPMSS --clamp-mss-to-pmtu) spares every connection this round trip',
  },
  {
    id: 'icmp.unreachable',
    level: 'error',
    title: 'destination unreachable',
    verdict: '{icmp} from {router} answered {flow}',
    what: '{router} answered a packet of {flow} with {icmp} (packet #{n}, quoting {quoted}): {meaning}; the sender sees "{sees}"',
    advice: '{advice}',
  },
  {
    id: 'icmp.time-exceeded',
    level: 'warn',
    title: 'TTL exceeded on the way',
    verdict: '{router} dropped packets of {flow}: TTL exceeded',
    what: '{router} answered a packet of {flow} with {icmp} (packet #{n}): its TTL ran out on the way (a routing loop, or a traceroute)',
    advice: 'if this is not a traceroute, look for a routing loop near {router} (ip route get {dst} on each hop)',
  },
  {
    id: 'capture.offload',
    level: 'info',
    title: 'segments larger than the MTU: offload on the capture host',
    verdict: '{flow}: the capture holds {size}-byte segments from {src}, larger than any link carries',
    what: '{count} segments from {src} carry more than the {mss} bytes {dst} accepts per segment (up to {size} bytes, from packet #{first}): the capture host saw them {where}. They are not what crossed the wire, and not a path MTU problem',
    advice: 'to see the packets as the wire carries them, capture with the offloads off (ethtool -K IF tso off gso off gro off) or on the other host; tcpdump reports the kernel\'s buffer, not the frames',
    source: 'seed 000 (packets larger than the MTU in a capture)',
  },
  {
    id: 'capture.dropped',
    level: 'warn',
    title: 'the capture lost packets',
    verdict: 'the capture itself lost {count} packets on {iface}',
    what: 'the interface statistics of {iface} count {count} packets the capture did not keep ({how}): a gap or a "retransmission" may be the capture\'s, not the network\'s',
    advice: 'capture with a bigger buffer (tcpdump -B 16384), a narrower filter, or a smaller snaplen (-s 128)',
  },
] as const satisfies readonly CaptureRule[];

export type CaptureRuleId = (typeof CAPTURE_RULES)[number]['id'];

export const RULE_BY_ID: ReadonlyMap<string, CaptureRule> = new Map(CAPTURE_RULES.map((r) => [r.id, r]));

/** Fills {name} from ctx; an unknown name stays as written, so a missing word shows. */
export function fill(template: string, ctx: Readonly<Record<string, string>>): string {
  return template.replace(/\{([a-z0-9:_-]+)\}/gi, (m, k: string) => ctx[k] ?? m);
}

export const LEVEL_ORDER: Readonly<Record<Level, number>> = { error: 0, warn: 1, info: 2, benign: 3 };
