/**
 * What `pktpath drops --listen` exports, as plain metric families (src/drops/io/exporter.ts
 * hands them to prom-client, which writes the text format):
 *
 *   pktpath_drops_total{reason,location,netns,device,proto}   drops since pktpath started
 *   pktpath_drops_hidden_total{reason}                        NOT_SPECIFIED and benign frees (without --all)
 *   pktpath_snmp_total{netns,counter}                         SNMP/netstat MIB counters  \
 *   pktpath_link_total{netns,device,counter}                  link statistics             | change since the
 *   pktpath_ethtool_total{netns,device,counter}               driver statistics           | start, drop and
 *   pktpath_softnet_total{cpu,counter}                        softnet statistics         /  error level only
 *   pktpath_lost_events_total{what="samples"|"uncounted"}
 *
 * Label sets are bounded: the first `limit` rows (biggest first when several arrive at
 * once) keep series of their own for the exporter's life, so a counter never goes down;
 * every later row is added to its reason's row with location, netns, device and proto
 * "other". Counters likewise, with their own budget; those past it are left out. Pure.
 */
import type { Moved } from '../stats/snapshot.js';
import type { DropRow } from './rows.js';

export interface MetricSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly samples: readonly MetricSample[];
}

/** Ids that own a series; once admitted, always admitted. */
export class SeriesBudget {
  private readonly owners = new Set<string>();
  constructor(readonly limit: number) {}

  /** Whether `id` has (or now gets) a series of its own. */
  admit(id: string): boolean {
    if (this.owners.has(id)) return true;
    if (this.owners.size >= this.limit) return false;
    this.owners.add(id);
    return true;
  }
}

export const DROP_LABELS = ['reason', 'location', 'netns', 'device', 'proto'] as const;

/** pktpath_drops_total and pktpath_drops_hidden_total from every row (hidden ones too). */
export function dropFamilies(rows: readonly DropRow[], budget: SeriesBudget): MetricFamily[] {
  const shown: MetricSample[] = [];
  const other = new Map<string, number>();
  const hidden = new Map<string, number>();
  for (const r of [...rows].sort((a, b) => b.total - a.total || a.id.localeCompare(b.id))) {
    if (r.hidden) hidden.set(r.reason, (hidden.get(r.reason) ?? 0) + r.total);
    else if (budget.admit(r.id)) {
      shown.push({ labels: { reason: r.reason, location: r.location, netns: r.netnsLabel, device: r.device, proto: r.proto }, value: r.total });
    } else other.set(r.reason, (other.get(r.reason) ?? 0) + r.total);
  }
  for (const [reason, value] of other) shown.push({ labels: { reason, location: 'other', netns: 'other', device: 'other', proto: 'other' }, value });
  return [
    { name: 'pktpath_drops_total', help: 'Packets the kernel dropped (skb:kfree_skb) since pktpath started, by drop reason, location, namespace, device and protocol', labelNames: DROP_LABELS, samples: shown },
    {
      name: 'pktpath_drops_hidden_total',
      help: 'NOT_SPECIFIED and benign frees since pktpath started (pktpath drops --all counts them as drops)',
      labelNames: ['reason'],
      samples: [...hidden].map(([reason, value]) => ({ labels: { reason }, value })),
    },
  ];
}

const COUNTER_FAMILIES = {
  snmp: { name: 'pktpath_snmp_total', help: 'SNMP and netstat MIB counters (nstat) of level drop or error: change since pktpath started', labelNames: ['netns', 'counter'] },
  link: { name: 'pktpath_link_total', help: 'Link statistics (IFLA_STATS64) of level drop or error: change since pktpath started', labelNames: ['netns', 'device', 'counter'] },
  ethtool: { name: 'pktpath_ethtool_total', help: 'Driver statistics (ethtool -S) of level drop or error: change since pktpath started', labelNames: ['netns', 'device', 'counter'] },
  softnet: { name: 'pktpath_softnet_total', help: 'Softnet statistics (/proc/net/softnet_stat) of level drop or error: change since pktpath started', labelNames: ['cpu', 'counter'] },
} as const;

function counterLabels(m: Moved): Record<string, string> {
  if (m.group === 'softnet') return { cpu: (m.device ?? '').replace(/^cpu/, ''), counter: m.name };
  if (m.group === 'snmp') return { netns: m.netnsLabel, counter: m.name };
  return { netns: m.netnsLabel, device: m.device ?? '', counter: m.name };
}

/** The moved counters (since the start) as one family per group. */
export function counterFamilies(moved: readonly Moved[], budget: SeriesBudget): MetricFamily[] {
  const samples = new Map<string, MetricSample[]>();
  for (const m of [...moved].sort((a, b) => b.delta - a.delta)) {
    if (m.level === 'info' || !budget.admit(`${m.group}|${m.netns}|${m.device ?? ''}|${m.name}`)) continue;
    const list = samples.get(m.group) ?? [];
    list.push({ labels: counterLabels(m), value: m.delta });
    samples.set(m.group, list);
  }
  return Object.entries(COUNTER_FAMILIES).map(([group, f]) => ({ ...f, samples: samples.get(group) ?? [] }));
}

export function lostFamily(lost: { samples: number; uncounted: number }): MetricFamily {
  return {
    name: 'pktpath_lost_events_total',
    help: 'What pktpath lost: sample packets the side channel had no room for (what="samples"), drops its table could not count (what="uncounted")',
    labelNames: ['what'],
    samples: [
      { labels: { what: 'samples' }, value: lost.samples },
      { labels: { what: 'uncounted' }, value: lost.uncounted },
    ],
  };
}
