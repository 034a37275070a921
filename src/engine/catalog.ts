/**
 * The probe catalogue (src/engine/probes.json): which kernel hooks pktpath knows,
 * their ids (shared with bpf/probes.gen.h), stack stage and purpose.
 */

export type Stage = 'link-rx' | 'link-tx' | 'qdisc' | 'route' | 'ip' | 'netfilter' | 'tcp' | 'udp' | 'icmp' | 'drop' | 'free';

export interface TracepointProbe {
  readonly id: number;
  readonly name: string;
  readonly category: string;
  readonly stage: Stage;
  /** first kernel version with the tracepoint */
  readonly since: string;
  /** what the hook means, in plain words */
  readonly what: string;
}

export interface Catalog {
  readonly tracepoints: readonly TracepointProbe[];
  /** the probe ids of function-level events (entry and return); the function comes from func_ip */
  readonly functionProbes: { readonly entry: number; readonly return: number };
  /** the probe id of netfilter observer events (src/netfilter/legacy/observers.ts) */
  readonly netfilterProbes: { readonly observer: number };
}

/** Validates the parsed JSON: unique ids and names, every field present. */
export function parseCatalog(json: unknown): Catalog {
  const c = json as { tracepoints?: unknown };
  if (!c || !Array.isArray(c.tracepoints)) throw new Error('probe catalogue: "tracepoints" array missing');
  const fp = (c as { functionProbes?: { entry?: unknown; return?: unknown } }).functionProbes;
  if (!fp || typeof fp.entry !== 'number' || typeof fp.return !== 'number') {
    throw new Error('probe catalogue: "functionProbes" {entry, return} missing');
  }
  const np = (c as { netfilterProbes?: { observer?: unknown } }).netfilterProbes;
  if (!np || typeof np.observer !== 'number') throw new Error('probe catalogue: "netfilterProbes" {observer} missing');
  const ids = new Set<number>();
  const names = new Set<string>();
  for (const tp of c.tracepoints as TracepointProbe[]) {
    for (const k of ['id', 'name', 'category', 'stage', 'since', 'what'] as const) {
      if (tp[k] === undefined) throw new Error(`probe catalogue: entry ${JSON.stringify(tp)} lacks "${k}"`);
    }
    if (!Number.isInteger(tp.id) || tp.id <= 0 || tp.id > 0xffff) throw new Error(`probe catalogue: bad id ${tp.id}`);
    if (ids.has(tp.id) || names.has(tp.name)) throw new Error(`probe catalogue: duplicate ${tp.id}/${tp.name}`);
    ids.add(tp.id);
    names.add(tp.name);
  }
  return c as Catalog;
}

/** id -> name lookup array, for the hot path. */
export function probeNames(c: Catalog): string[] {
  const names: string[] = [];
  for (const tp of c.tracepoints) names[tp.id] = tp.name;
  return names;
}
