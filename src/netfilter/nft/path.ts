/**
 * A packet's netfilter path: the trace records of one packet (one group of the
 * assembler) become one step per base chain, with the verdict and the rule that decided
 * (Mytracer's `2.filter.OUTPUT.DROP`). Pure.
 */
import { NFPROTO, OWN_TABLE_RE, chainKey } from '../model.js';
import type { NfJson, NfPathStep, NfTrace, NfVerdictName, NftFamily, NftHookMap, NftTracePacket, NftTraceRecord, NftVerdict } from '../model.js';

export interface AggregateOptions {
  /** leave a table out of the path; default: pktpath's own tables (OWN_TABLE_RE) */
  skipTable?: (family: NftFamily, table: string) => boolean;
}

const defaultSkip = (family: NftFamily, table: string): boolean => family === 'inet' && OWN_TABLE_RE.test(table);

interface Segment {
  family: NftFamily;
  table: string;
  chain: string;
  packet: NftTracePacket | null;
  chains: string[];
  closed: boolean;
  verdict: NfVerdictName;
  deciding: NftTraceRecord | null;
  byPolicy: boolean;
  mark?: number;
}

/** Verdicts that end a base chain; the others (continue, break, jump, goto, return) let the traversal go on. */
const FINAL: Readonly<Partial<Record<NftVerdict, NfVerdictName>>> = { accept: 'ACCEPT', drop: 'DROP', queue: 'QUEUE', stolen: 'STOLEN', repeat: 'REPEAT' };

/** The rule text as `nft -a list` prints it: "<text> # handle N". */
export function ruleWithHandle(rec: Pick<NftTraceRecord, 'rule' | 'handle'>): string | null {
  if (rec.rule === undefined) return null;
  return rec.handle === undefined ? rec.rule : `${rec.rule} # handle ${rec.handle}`;
}

/**
 * The netfilter path of one packet: the records of one trace id (one packet; see
 * NftTraceAssembler), in the order nft printed them, to one step per base chain.
 * `hooks` (from `nft -j list chains`) fills hook and priority, and tells base chains
 * from regular ones when a `packet:` line is missing.
 */
export function buildNfPath(records: readonly NftTraceRecord[], hooks?: NftHookMap, opts: AggregateOptions = {}): NfPathStep[] {
  const isBase = (r: NftTraceRecord): boolean => hooks?.get(chainKey(r.family, r.table, r.chain))?.hook !== undefined;
  const { segs, lastPacket } = segments(records, opts.skipTable ?? defaultSkip, isBase);
  return segs.map((s) => stepOf(s, hooks, s.packet ?? lastPacket));
}

/** One segment per base-chain traversal, in order; `lastPacket` is the last `packet:` line seen (own tables included). */
function segments(
  records: readonly NftTraceRecord[],
  skip: (family: NftFamily, table: string) => boolean,
  isBase: (r: NftTraceRecord) => boolean,
): { segs: Segment[]; lastPacket: NftTracePacket | null } {
  const segs: Segment[] = [];
  let cur: Segment | null = null;
  let lastPacket: NftTracePacket | null = null;
  for (const r of records) {
    if (r.packet) lastPacket = r.packet;
    if (skip(r.family, r.table)) continue;
    const fresh =
      cur === null ||
      r.kind === 'packet' ||
      cur.closed ||
      r.family !== cur.family ||
      r.table !== cur.table ||
      (isBase(r) && r.chain !== cur.chain && !cur.chains.includes(r.chain));
    if (fresh) {
      cur = {
        family: r.family,
        table: r.table,
        chain: r.chain,
        packet: r.packet ?? null,
        chains: [r.chain],
        closed: false,
        verdict: 'UNKNOWN',
        deciding: null,
        byPolicy: false,
      };
      segs.push(cur);
    }
    follow(cur!, r);
  }
  return { segs, lastPacket };
}

/** What one record adds to its segment: a chain entered, a mark, the verdict that ends it. */
function follow(s: Segment, r: NftTraceRecord): void {
  if (!s.chains.includes(r.chain)) s.chains.push(r.chain);
  if (r.mark !== undefined) s.mark = r.mark;
  if (r.kind === 'packet' || r.verdict === undefined) return;
  if ((r.verdict === 'jump' || r.verdict === 'goto') && r.target !== undefined) {
    if (!s.chains.includes(r.target)) s.chains.push(r.target);
    return;
  }
  const final = FINAL[r.verdict];
  if (final === undefined) return;
  s.verdict = final;
  s.closed = true;
  if (r.kind === 'rule') s.deciding = r;
  s.byPolicy = r.kind === 'policy';
}

function stepOf(s: Segment, hooks: NftHookMap | undefined, pkt: NftTracePacket | null): NfPathStep {
  const info = hooks?.get(chainKey(s.family, s.table, s.chain));
  const pf = s.family === 'inet' ? (pkt?.family === 4 ? NFPROTO.ip : pkt?.family === 6 ? NFPROTO.ip6 : NFPROTO.inet) : NFPROTO[s.family];
  const step: NfPathStep = {
    pf,
    family: s.family,
    table: s.table,
    chain: s.chain,
    hook: info?.hook ?? null,
    priority: info?.priority ?? null,
    verdict: s.verdict,
    rule: s.deciding ? ruleWithHandle(s.deciding) : null,
    handle: s.deciding?.handle ?? null,
    ruleChain: s.deciding?.chain ?? null,
    byPolicy: s.byPolicy,
    chains: s.chains,
  };
  if (s.mark !== undefined) step.mark = s.mark;
  return step;
}

/** One trace group as an NfTrace. */
export function aggregateTrace(records: readonly NftTraceRecord[], hooks?: NftHookMap, opts: AggregateOptions = {}): NfTrace {
  const first = records[0];
  return {
    traceId: first?.traceId ?? '',
    packet: records.find((r) => r.packet)?.packet ?? null,
    path: buildNfPath(records, hooks, opts),
    records: [...records],
  };
}

/** Mytracer's TRACE_INFO form of a step: "2.filter.OUTPUT.DROP". */
export function formatNfStep(step: Pick<NfPathStep, 'pf' | 'table' | 'chain' | 'verdict'>): string {
  return `${step.pf}.${step.table}.${step.chain}.${step.verdict}`;
}

/** The `nf` object of pktpath's JSON output. */
export function nfJson(step: NfPathStep): NfJson {
  return { pf: step.pf, table: step.table, chain: step.chain, hook: step.hook, verdict: step.verdict, rule: step.rule };
}
