/**
 * The diagnosis engine's data: what it reads (normalized events, socket facts, counter
 * deltas) and what it says (findings, paths, latency, the tcpdump view, the report).
 * Plain data only; README "Diagnosis report (--json)" documents the JSON form.
 */
import type { RawEvent, RawTuple } from '../engine/event.js';

export type Level = 'error' | 'warn' | 'info' | 'benign';

/** Where an event sits on a packet's road (probe names map to these in stages.ts). */
export type Stage =
  | 'rx' // a device received it (napi_gro_receive_entry, netif_rx, netif_receive_skb)
  | 'tx-queue' // handed to the device layer (net_dev_queue): before tc egress and the qdisc
  | 'qdisc-in'
  | 'qdisc-out'
  | 'tx' // the driver starts sending it (net_dev_start_xmit): after the qdisc, where tcpdump sees it
  | 'tx-done'
  | 'route'
  | 'nf'
  | 'tcp-retrans'
  | 'tcp-rst-send'
  | 'tcp-rst-recv'
  | 'tcp-csum'
  | 'icmp-send'
  | 'drop'
  | 'free'
  | 'func'
  | 'other';

/** One endpoint of a flow. */
export interface Endpoint {
  readonly addr: string;
  readonly port: number;
}

/** A conversation between two endpoints, direction-agnostic; `a` sent the first packet seen. */
export interface FlowId {
  /** 1-based, in order of first appearance */
  readonly id: number;
  readonly proto: string;
  readonly family: 4 | 6;
  readonly a: Endpoint;
  readonly b: Endpoint;
  /** the IP protocol number (the flow table's first key) */
  readonly l4: number;
  /** the a and b sides' address:port as the flow table keys them (IPv4: address * 65536 + port; direction test without formatting) */
  readonly aKey: string | number;
  readonly bKey: string | number;
}

/** An event as the engine reads it: names resolved, flow and direction attached. */
export interface DEvent {
  /** 1-based ordinal in the stream (the line number of `trace --json`) */
  readonly n: number;
  readonly ts: number;
  readonly probe: string;
  readonly stage: Stage;
  /** the namespace; an event the kernel could not place (0) takes its packet's last one */
  netns: number;
  /** "probe@netns/dev", made once per event for the summaries' keys */
  place: string;
  readonly dev: string;
  readonly skb: bigint;
  readonly flow: FlowId | null;
  /** 0: a -> b, 1: b -> a */
  readonly dir: 0 | 1;
  readonly proto: string;
  readonly tcpFlags: number;
  /** the packet's own ICMP type/code; -1 when not ICMP */
  readonly icmpType: number;
  readonly icmpCode: number;
  readonly len: number;
  /** drop reason name (kfree_skb), else null */
  readonly reason: string | null;
  /** kfree_skb / consume_skb location function, without the offset */
  readonly at: string | null;
  readonly nf: RawEvent['nf'] | null;
  readonly route: { type: string; err: number; oif: string; table: number } | null;
  /** icmp_send: the ICMP error the kernel sends about this packet */
  readonly sent: { type: number; code: number } | null;
  /** attached to its flow through an ICMP error's quoted header (RawEvent.inner) */
  readonly related: boolean;
  /** the skb began on the transmit side in this trace (locally made), not received from a device */
  local: boolean;
  /** the frame's destination MAC (zeros before the L2 header exists) */
  readonly mac: Uint8Array;
  /** IP TTL / hop limit and IPv4 ID, when the kernel side gives them */
  readonly ttl: number | undefined;
  readonly ipId: number | undefined;
  /** a netfilter verdict from an evaluation function (fexit), which knows no rule */
  readonly fexit: boolean;
  /** probe-specific value (qdisc handle, xmit rc...) */
  readonly aux: number;
}

/* ------------------------------------------------------------------ other inputs */

/** A socket seen by sock_diag (src/sockets fills these). */
export interface SocketFact {
  readonly netns: number;
  readonly netnsName?: string;
  readonly proto: 'tcp' | 'udp';
  /** TCP state name as ss prints it: LISTEN, ESTAB, SYN-SENT, ...; UNCONN for UDP */
  readonly state: string;
  readonly local: Endpoint;
  readonly remote?: Endpoint;
  /** LISTEN: connections waiting for accept(); others: bytes unread */
  readonly recvQ?: number;
  /** LISTEN: the accept backlog; others: bytes unsent */
  readonly sendQ?: number;
  readonly process?: string;
}

/** How much a kernel counter grew over the run (src/stats fills these). */
export interface CounterDelta {
  readonly netns: number;
  /** SNMP/netstat name as nstat prints it (TcpExtListenOverflows, IcmpOutDestUnreachs...), or a device counter as "<dev>:<name>" */
  readonly name: string;
  readonly delta: number;
}

/** A qdisc known in a namespace, to name the kind behind a handle (tbf, fq_codel...). */
export interface QdiscFact {
  readonly netns: number;
  readonly dev: string;
  /** "8001:" as the events print handles (tc's major:) */
  readonly handle: string;
  readonly kind: string;
}

/** What process-tree capture found (`diagnose -- CMD`): what the command's processes opened. */
export interface TrackedFacts {
  /** flows joined: the command's own and what NAT turned them into */
  readonly flows: number;
  readonly sockets: number;
  /** processes tracked because a tracked one forked them */
  readonly children: number;
  /** forks not tracked: the kernel's table of tracked processes was full */
  readonly untracked: number;
}

/** Facts gathered around the trace; every field optional. */
export interface Facts {
  readonly sockets?: readonly SocketFact[];
  readonly counters?: readonly CounterDelta[];
  readonly qdiscs?: readonly QdiscFact[];
  /** events the kernel could not queue (lost): findings built on absence say so */
  readonly lost?: number;
  /** the run followed a command's process tree (diagnose -- CMD) */
  readonly tracked?: TrackedFacts;
}

/** Inputs a rule needs that a trace may not carry; the report names those missing. */
export type Need = 'ttl' | 'ipid' | 'tcpseq' | 'gso' | 'mtu' | 'inner' | 'iptable' | 'route' | 'sockets' | 'counters' | 'xdp';

/* ------------------------------------------------------------------ outputs */

export interface EvidenceEvent {
  readonly n: number;
  readonly role: string;
  readonly probe: string;
  readonly netns: number;
  readonly dev: string;
  readonly text: string;
  /** further events like this one (a retransmitted SYN seen 4 times: count 4) */
  readonly count: number;
}

export interface Where {
  readonly netns: number;
  readonly netnsName?: string;
  readonly dev?: string;
  /** netfilter hook as pf.table.chain, when one decided */
  readonly hook?: string;
  /** the netfilter rule that decided, when --iptable named it */
  readonly rule?: string;
  /** the chain's policy decided (a traced step with no rule) */
  readonly policy?: boolean;
  readonly function?: string;
}

export interface Finding {
  /** 1-based, in report order */
  n: number;
  readonly rule: string;
  readonly level: Level;
  readonly title: string;
  readonly what: string;
  readonly where: Where;
  readonly evidence: readonly EvidenceEvent[];
  readonly advice: string;
  /** how many times the same thing happened (same rule, flow, place) */
  readonly count: number;
  /** the first flow it happened to */
  readonly flow: string | null;
  readonly flowId: number | null;
  /** how many flows it happened to, when more than one */
  readonly flows?: number;
  readonly firstNs: number;
  /** one line for the verdict when this finding leads */
  readonly verdict: string;
  /** ids of rules whose findings this one explains (they are folded into it) */
  explains: string[];
  /** for drop-anchored findings: the drop reason, as the trace's why: lines start with it */
  readonly reason: string | null;
}

/** One stage on a packet's road, and the time since the stage before. */
export interface PathStage {
  readonly n: number;
  readonly probe: string;
  readonly netns: number;
  readonly dev: string;
  readonly dtNs: number;
  readonly note?: string;
}

export interface PacketPath {
  readonly skb: string;
  readonly flowId: number;
  /** "a>b" or "b>a" */
  readonly dir: string;
  readonly summary: string;
  readonly stages: readonly PathStage[];
  /** how the packet's life ended: "dropped NO_SOCKET at tcp_v4_rcv", "freed", "still in flight" */
  readonly end: string;
  readonly totalNs: number;
}

export interface HopLatency {
  readonly flowId: number;
  readonly dir: string;
  readonly from: string;
  readonly to: string;
  /** qdisc, forward, veth, tx-driver, stack-tx, rx-to-free, other */
  readonly kind: string;
  readonly netns: number;
  readonly dev: string;
  readonly count: number;
  readonly p50Ns: number;
  readonly p90Ns: number;
  readonly p99Ns: number;
  readonly maxNs: number;
}

export interface TcpdumpView {
  readonly flowId: number;
  readonly netns: number;
  readonly netnsName?: string;
  readonly dev: string;
  /** packets a -> b and b -> a that `tcpdump -i dev` in that namespace would have printed */
  readonly seen: readonly [number, number];
  /** packets that reached the device layer there but not tcpdump's capture point */
  readonly missed: readonly [number, number];
  readonly note: string;
}

export interface FlowReport {
  readonly id: number;
  readonly proto: string;
  readonly a: string;
  readonly b: string;
  readonly events: number;
  readonly packets: number;
  readonly paths: readonly PacketPath[];
  readonly latency: readonly HopLatency[];
  readonly tcpdump: readonly TcpdumpView[];
}

export interface Report {
  readonly schema: 'pktpath.diagnosis/1';
  readonly verdict: { readonly level: Level | 'ok'; readonly text: string; readonly finding: number | null };
  readonly findings: readonly Finding[];
  readonly flows: readonly FlowReport[];
  readonly inputs: {
    readonly events: number;
    readonly lost: number;
    readonly flows: number;
    readonly flowsEvicted: number;
    readonly packetsEvicted: number;
    /** inputs some rule could have used but the trace did not carry */
    readonly missing: readonly Need[];
    /** process-tree capture's counts, when the run followed a command (diagnose -- CMD) */
    readonly tracked?: TrackedFacts;
  };
}

export type { RawEvent, RawTuple };
