/**
 * The counters' meanings, as reviewed data (src/stats/counters.json): per group and
 * counter name (or a name pattern), one sentence, a level, the kernel drop reasons the
 * same event carries in a trace, and the seed notes that meet the case. Pure: the JSON
 * comes in parsed.
 */
export type CounterGroup = 'snmp' | 'link' | 'ethtool' | 'softnet';
export type Level = 'drop' | 'error' | 'info';

export const GROUPS: readonly CounterGroup[] = ['snmp', 'link', 'ethtool', 'softnet'];
const LEVELS: readonly Level[] = ['drop', 'error', 'info'];

export interface CounterInfo {
  meaning: string;
  level: Level;
  /** drop reasons (enum skb_drop_reason, without SKB_DROP_REASON_) */
  reasons: string[];
  /** seed note numbers ("000") */
  seeds: string[];
  /** a value rather than a counter: never shown as a delta */
  gauge: boolean;
}

interface Entry extends CounterInfo {
  group: CounterGroup;
  names?: Set<string>;
  pattern?: RegExp;
}

export interface CounterCatalog {
  /** seed number -> what the seed note is about */
  seeds: Map<string, string>;
  /** the entry for a counter, or undefined when none is written */
  lookup(group: CounterGroup, name: string): CounterInfo | undefined;
  /** every entry, for checks */
  entries: readonly Readonly<Entry>[];
}

function fail(i: number, why: string): never {
  throw new Error(`counters.json: entry ${i}: ${why}`);
}

function strings(v: unknown, i: number, what: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail(i, `${what} must be a list of strings`);
  return v as string[];
}

function parseEntry(raw: Record<string, unknown>, i: number, seeds: Map<string, string>): Entry {
  const group = raw.group as CounterGroup;
  if (!GROUPS.includes(group)) fail(i, `unknown group ${String(raw.group)}`);
  const level = raw.level as Level;
  if (!LEVELS.includes(level)) fail(i, `unknown level ${String(raw.level)}`);
  if (typeof raw.meaning !== 'string' || !raw.meaning) fail(i, 'meaning missing');
  const names = strings(raw.names, i, 'names');
  if (!names.length && typeof raw.pattern !== 'string') fail(i, 'names or pattern needed');
  const entrySeeds = strings(raw.seeds, i, 'seeds');
  for (const s of entrySeeds) if (!seeds.has(s)) fail(i, `unknown seed ${s}`);
  return {
    group,
    level,
    meaning: raw.meaning,
    reasons: strings(raw.reasons, i, 'reasons'),
    seeds: entrySeeds,
    gauge: raw.gauge === true,
    ...(names.length ? { names: new Set(names) } : {}),
    ...(typeof raw.pattern === 'string' ? { pattern: new RegExp(raw.pattern) } : {}),
  };
}

/** Checks and indexes counters.json; throws naming the bad entry. */
export function parseCounterCatalog(json: unknown): CounterCatalog {
  const doc = json as { seeds?: Record<string, string>; counters?: Record<string, unknown>[] };
  if (!doc || !Array.isArray(doc.counters)) throw new Error('counters.json: no "counters" list');
  const seeds = new Map(Object.entries(doc.seeds ?? {}));
  const entries = doc.counters.map((c, i) => parseEntry(c, i, seeds));
  const exact = new Map<string, Entry>();
  for (const e of entries) for (const n of e.names ?? []) exact.set(`${e.group}:${n}`, e);
  const patterns = entries.filter((e) => e.pattern);
  return {
    seeds,
    entries,
    lookup(group, name) {
      return exact.get(`${group}:${name}`) ?? patterns.find((e) => e.group === group && e.pattern!.test(name));
    },
  };
}

/** A level for a counter nobody described, from its name. */
export function guessLevel(name: string): Level {
  if (/drop|discard|missed|nobuf|no_buf/i.test(name)) return 'drop';
  if (/err|fail|overflow|overrun|invalid|timeout|abort/i.test(name)) return 'error';
  return 'info';
}
