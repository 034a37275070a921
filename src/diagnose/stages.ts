/**
 * Where each probe sits on a packet's road, and where tcpdump's capture point is.
 *
 * tcpdump (an AF_PACKET tap) sees a received frame in __netif_receive_skb_core, after
 * the netif_receive_skb tracepoint and before tc ingress, netfilter and the protocols; it
 * sees a transmitted one in dev_hard_start_xmit, after tc egress and the qdisc, just
 * before the driver (net_dev_start_xmit). So a packet dropped in INPUT was captured on
 * its way in, one dropped in OUTPUT or in a qdisc never was (seed 002, investigation 2).
 */
import type { Stage } from './model.js';

export const STAGE_OF_PROBE: Readonly<Record<string, Stage>> = {
  napi_gro_receive_entry: 'rx',
  netif_rx: 'rx',
  netif_receive_skb: 'rx',
  net_dev_queue: 'tx-queue',
  qdisc_enqueue: 'qdisc-in',
  qdisc_dequeue: 'qdisc-out',
  net_dev_start_xmit: 'tx',
  net_dev_xmit: 'tx-done',
  fib_table_lookup: 'route',
  fib6_table_lookup: 'route',
  netfilter: 'nf',
  nft_do_chain: 'nf',
  ipt_do_table: 'nf',
  ip6t_do_table: 'nf',
  tcp_retransmit_skb: 'tcp-retrans',
  tcp_send_reset: 'tcp-rst-send',
  tcp_receive_reset: 'tcp-rst-recv',
  tcp_bad_csum: 'tcp-csum',
  icmp_send: 'icmp-send',
  kfree_skb: 'drop',
  consume_skb: 'free',
};

export function stageOf(probe: string): Stage {
  return STAGE_OF_PROBE[probe] ?? (probe.startsWith('probe#') ? 'other' : 'func');
}

/** The probe at which tcpdump -i DEV sees a received packet. */
export const CAPTURE_RX = 'netif_receive_skb';
/** The probe at which tcpdump -i DEV sees a transmitted packet. */
export const CAPTURE_TX = 'net_dev_start_xmit';

/** Stages that put a packet on a device road (used for paths, latency and tcpdump). */
export const ROAD_STAGES: ReadonlySet<Stage> = new Set<Stage>(['rx', 'tx-queue', 'qdisc-in', 'qdisc-out', 'tx', 'tx-done', 'func', 'nf', 'icmp-send', 'tcp-rst-send', 'tcp-retrans', 'drop', 'free']);

/** Stages at which an skb's life may begin on the transmit side (a locally made packet). */
export const TX_SIDE: ReadonlySet<Stage> = new Set<Stage>(['tx-queue', 'qdisc-in', 'qdisc-out', 'tx', 'tx-done', 'tcp-retrans']);

/** Classifies the hop between two consecutive stages of one packet, for latency. */
export function hopKind(from: string, to: string, sameNetns: boolean, sameDev: boolean): string {
  if (from === 'qdisc_enqueue' && to === 'qdisc_dequeue') return 'qdisc';
  if (from === 'net_dev_queue' && (to === 'net_dev_start_xmit' || to === 'qdisc_enqueue')) return 'tx-queue';
  if (from === 'net_dev_start_xmit' && to === 'net_dev_xmit') return 'tx-driver';
  if (STAGE_OF_PROBE[from] === 'tx' || STAGE_OF_PROBE[from] === 'tx-done') {
    if (STAGE_OF_PROBE[to] === 'rx' && !sameDev) return sameNetns ? 'wire' : 'veth';
  }
  if (STAGE_OF_PROBE[from] === 'rx' && STAGE_OF_PROBE[to] === 'rx') return 'rx-backlog';
  if (STAGE_OF_PROBE[from] === 'rx' && (STAGE_OF_PROBE[to] === 'tx-queue' || STAGE_OF_PROBE[to] === 'tx')) return 'forward';
  if (STAGE_OF_PROBE[from] === 'rx' && STAGE_OF_PROBE[to] === 'free') return 'rx-to-socket';
  return 'other';
}

/** Words for a hop kind, as the latency finding tells it. */
export const HOP_WORDS: Readonly<Record<string, string>> = {
  qdisc: 'waited in the {qdisc}',
  'tx-queue': 'waited between the device layer and the driver (tc egress, qdisc)',
  'tx-driver': 'spent in the driver',
  veth: 'crossed the veth pair',
  wire: 'crossed the link',
  'rx-backlog': 'waited in the receive backlog (softirq)',
  forward: 'was forwarded',
  'rx-to-socket': 'waited between softirq receive and the socket read',
  other: 'spent between these stages',
};
