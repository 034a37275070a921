/**
 * Listings of nft: `nft -j list chains` (JSON) and `nft list chains|ruleset` (text) as
 * chains with their hook and priority, and `nft -a list ...` as rules by handle (the
 * text of a rule added after the monitor started). Pure.
 */
import { isNfHook, isNftFamily } from '../model.js';
import type { NftChainInfo, NftFamily } from '../model.js';
import { unquote } from './text.js';

/** Chains from `nft -j list chains` (or `nft -j list ruleset`: non-chain objects are skipped). */
export function parseNftChainsJson(text: string): NftChainInfo[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`nft -j list chains: not JSON: ${(err as Error).message}`, { cause: err });
  }
  const items = (doc as { nftables?: unknown }).nftables;
  if (!Array.isArray(items)) throw new Error('nft -j list chains: no "nftables" array');
  const out: NftChainInfo[] = [];
  for (const item of items) {
    const c = (item as { chain?: Record<string, unknown> }).chain;
    if (!c || typeof c !== 'object') continue;
    const family = String(c.family ?? '');
    if (!isNftFamily(family) || typeof c.table !== 'string' || typeof c.name !== 'string') continue;
    const info: NftChainInfo = { family, table: c.table, chain: c.name };
    if (typeof c.handle === 'number') info.handle = c.handle;
    if (typeof c.type === 'string') info.type = c.type;
    if (typeof c.hook === 'string' && isNfHook(c.hook)) info.hook = c.hook;
    if (typeof c.prio === 'number') info.priority = c.prio;
    if (c.policy === 'accept' || c.policy === 'drop') info.policy = c.policy;
    if (typeof c.dev === 'string') info.device = c.dev;
    else if (Array.isArray(c.dev) && typeof c.dev[0] === 'string') info.device = c.dev.join(',');
    out.push(info);
  }
  return out;
}

/** Named chain priorities (nft(8) "PRIORITY"); the bridge family has its own. */
const PRIORITY_NAMES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
const BRIDGE_PRIORITY_NAMES: Record<string, number> = { dstnat: -300, filter: -200, out: 100, srcnat: 300 };

/** "filter", "-500", "mangle - 5", "srcnat + 10" -> number; null when not understood. */
export function parsePriority(family: NftFamily, text: string): number | null {
  const m = /^\s*(-?\d+|[a-z]+)\s*(?:([+-])\s*(\d+))?\s*$/.exec(text);
  if (!m) return null;
  const names = family === 'bridge' ? BRIDGE_PRIORITY_NAMES : PRIORITY_NAMES;
  const base = /^-?\d+$/.test(m[1]!) ? Number(m[1]) : names[m[1]!];
  if (base === undefined) return null;
  const off = m[3] === undefined ? 0 : Number(m[3]) * (m[2] === '-' ? -1 : 1);
  return base + off;
}

/** Chains from `nft list chains` / `nft list ruleset` text (with or without -a). */
export function parseNftChainsText(text: string): NftChainInfo[] {
  const out: NftChainInfo[] = [];
  let family: NftFamily | null = null;
  let table: string | null = null;
  let cur: NftChainInfo | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s*# handle \d+\s*$/, '').trim();
    const t = /^table (\S+) (\S+) \{$/.exec(line);
    if (t) {
      family = isNftFamily(t[1]!) ? t[1] : null;
      table = unquote(t[2]!);
      cur = null;
      continue;
    }
    const c = /^chain (\S+) \{$/.exec(line);
    if (c && family && table !== null) {
      cur = { family, table, chain: unquote(c[1]!) };
      const h = /# handle (\d+)\s*$/.exec(raw);
      if (h) cur.handle = Number(h[1]);
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const b = /^type (\S+) hook (\S+)(?: device (?:"([^"]*)"|(\S+)))?(?: devices = \{([^}]*)\})? priority ([^;]+);(?: policy (accept|drop);)?/.exec(line);
    if (b) {
      cur.type = b[1]!;
      if (isNfHook(b[2]!)) cur.hook = b[2];
      const dev = b[3] ?? b[4] ?? b[5]?.replace(/[\s"]/g, '');
      if (dev) cur.device = dev;
      const prio = parsePriority(cur.family, b[6]!);
      if (prio !== null) cur.priority = prio;
      if (b[7]) cur.policy = b[7] as 'accept' | 'drop';
      continue;
    }
    if (line === '}') cur = null;
  }
  return out;
}

/** A rule from an `nft -a list ...` listing. */
export interface NftListedRule {
  family: NftFamily;
  table: string;
  chain: string;
  handle: number;
  /** the rule text without `# handle N` (counters are those of the listing) */
  text: string;
}

/** Rules from `nft -a list ruleset|table|chain` text. Rules without a handle (no -a) are skipped. */
export function parseNftRuleList(text: string): NftListedRule[] {
  const out: NftListedRule[] = [];
  let family: NftFamily | null = null;
  let table: string | null = null;
  let chain: string | null = null;
  let depth = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const t = /^table (\S+) (\S+) \{/.exec(line);
    if (t && depth === 0) {
      family = isNftFamily(t[1]!) ? t[1] : null;
      table = unquote(t[2]!);
      depth = 1;
      continue;
    }
    const c = /^chain (\S+) \{/.exec(line);
    if (c && depth === 1) {
      chain = unquote(c[1]!);
      depth = 2;
      continue;
    }
    if (depth === 1 && /\{\s*(# handle \d+)?$/.test(line)) {
      depth = 3; // set, map, flowtable, counter object...: skip to its end
      continue;
    }
    if (line === '}') {
      depth = depth === 3 ? 1 : Math.max(0, depth - 1);
      if (depth < 2) chain = null;
      continue;
    }
    if (depth !== 2 || !family || table === null || chain === null) continue;
    if (/^(type \S+ hook|policy \S+;)/.test(line)) continue;
    const r = /^(.*?)\s*# handle (\d+)$/.exec(line);
    if (r) out.push({ family, table, chain, handle: Number(r[2]), text: r[1]! });
  }
  return out;
}
