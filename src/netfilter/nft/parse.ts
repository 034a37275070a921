/**
 * The lines of `nft monitor trace`, as records. The text format is the one nftables
 * 1.0.6 prints (src/trace.c, netlink.c there):
 *
 *   trace id 2ba6f5c9 ip filter OUTPUT packet: oif "eth0" ip saddr 10.0.0.1 ... tcp flags == syn ...
 *   trace id 2ba6f5c9 ip filter OUTPUT rule ip daddr 10.0.0.2 counter packets 0 bytes 0 drop # handle 2 (verdict drop)
 *   trace id 2ba6f5c9 ip filter OUTPUT unknown rule handle 8 (verdict accept)
 *   trace id 2ba6f5c9 ip mangle OUTPUT policy accept meta mark 0x00000007
 *   trace id 2ba6f5c9 ip filter sub verdict continue
 *
 * - A `packet:` line is printed once per base-chain invocation, before that chain's first
 *   event; its table/chain are those of the first traced event (normally the base chain).
 * - Only rules that matched are printed; `# handle N` only with `nft -a`.
 * - The rule text comes from the ruleset the monitor read when it started: rules added
 *   later print as `unknown rule handle N`, and counters are the start-time values.
 * - The trace id comes from the skb's address, so it is reused by later packets.
 * - Lines of different packets interleave (a `reject` prints its ICMP error's lines
 *   before the rule line that sent it).
 *
 * Pure.
 */
import { isNftFamily, isNftVerdict } from '../model.js';
import type { NftTraceRecord, NftVerdict } from '../model.js';
import { parsePacketFields } from './packet.js';
import { unquote } from './text.js';

const HEADER = /^trace id ([0-9a-f]{8}) (\S+) (\S+) (\S+) (.*)$/;

type RecordBase = Pick<NftTraceRecord, 'traceId' | 'family' | 'table' | 'chain'>;

/**
 * One `nft monitor trace` line as a record; null for anything else (blank lines,
 * nft's warnings, `conntrack:` lines of newer nft versions, unknown families).
 */
export function parseTraceLine(line: string): NftTraceRecord | null {
  const m = HEADER.exec(line.replace(/\s+$/, ''));
  if (!m) return null;
  const [, traceId = '', fam = '', table = '', chain = '', rest = ''] = m;
  if (!isNftFamily(fam)) return null;
  const base: RecordBase = { traceId, family: fam, table, chain };
  if (rest.startsWith('packet:')) return { ...base, kind: 'packet', packet: parsePacketFields(rest.slice('packet:'.length)) };
  if (rest.startsWith('rule ') || rest.startsWith('unknown rule handle ')) return ruleRecord(base, rest);
  return policyOrVerdictRecord(base, rest);
}

/** `rule <text> [# handle N] (verdict V)` or `unknown rule handle N (verdict V)`. */
function ruleRecord(base: RecordBase, rest: string): NftTraceRecord | null {
  const v = /^(.*) \(verdict (.+)\)$/s.exec(rest);
  if (!v) return null;
  const body = v[1] ?? '';
  const rec: NftTraceRecord = { ...base, kind: 'rule', ...parseVerdict(v[2] ?? '') };
  const unknown = /^unknown rule handle (\d+)$/.exec(body);
  if (unknown) {
    rec.unknownRule = true;
    rec.handle = Number(unknown[1]);
    return rec;
  }
  let text = body.slice('rule '.length);
  const h = /^(.*?)\s*# handle (\d+)$/s.exec(text);
  if (h) {
    text = h[1] ?? '';
    rec.handle = Number(h[2]);
  }
  rec.rule = text;
  return rec;
}

/** `policy V [meta mark M]` or `verdict V [meta mark M]`. */
function policyOrVerdictRecord(base: RecordBase, rest: string): NftTraceRecord | null {
  const pv = /^(policy|verdict) (.*)$/.exec(rest);
  if (!pv) return null;
  const kind = pv[1] as 'policy' | 'verdict';
  let body = pv[2] ?? '';
  let mark: number | undefined;
  const mm = /^(.*?)\s*meta mark (0x[0-9a-f]+|\d+)$/.exec(body);
  if (mm) {
    body = mm[1] ?? '';
    mark = Number(mm[2]);
  }
  const rec: NftTraceRecord = { ...base, kind, ...parseVerdict(body.trim()) };
  if (mark !== undefined) rec.mark = mark;
  return rec;
}

/** Every trace line of a text (e.g. a saved `nft monitor trace` output), in order. */
export function parseTraceText(text: string): NftTraceRecord[] {
  const out: NftTraceRecord[] = [];
  for (const line of text.split('\n')) {
    const r = parseTraceLine(line);
    if (r) out.push(r);
  }
  return out;
}

/** "drop", "jump MYCHAIN", "goto sub2" -> verdict and target. */
function parseVerdict(text: string): { verdict?: NftVerdict; target?: string } {
  const t = text.trim();
  const jg = /^(jump|goto) (.+)$/.exec(t);
  if (jg) return { verdict: jg[1] as NftVerdict, target: unquote(jg[2] ?? '') };
  return isNftVerdict(t) ? { verdict: t } : {};
}
