/**
 * A packet's steps -> boxes: consecutive steps of one kind on one device (one hook, for
 * netfilter) make one box, so "netif_rx, netif_receive_skb" is one "receive" box and the
 * raw, mangle and nat PREROUTING steps are one "PREROUTING" box listing each table's
 * verdict. A drop is always a box of its own, red, with its reason, location and rule.
 */
import type { Finding, Report } from '../diagnose/model.js';
import { durationText } from '../diagnose/latency.js';
import type { Box, Packet, Step, Tone } from './model.js';

/** Which findings cite which events, and how the diagnosis judged them. */
export interface Citations {
  /** event line -> finding numbers */
  readonly byEvent: ReadonlyMap<number, readonly number[]>;
  readonly findings: ReadonlyMap<number, Finding>;
}

export function citationsOf(report: Report | null): Citations {
  const byEvent = new Map<number, number[]>();
  const findings = new Map<number, Finding>();
  for (const f of report?.findings ?? []) {
    findings.set(f.n, f);
    for (const e of f.evidence) {
      const list = byEvent.get(e.n) ?? [];
      if (!list.includes(f.n)) list.push(f.n);
      byEvent.set(e.n, list);
    }
  }
  return { byEvent, findings };
}

const SOCKET_LABEL: Readonly<Record<string, string>> = {
  tcp_retransmit_skb: 'retransmit',
  tcp_send_reset: 'send reset',
  tcp_receive_reset: 'reset received',
  tcp_bad_csum: 'bad checksum',
};

/** "0x80080000" -> "8008:" (tc's major:minor, as `tc qdisc show` prints it) */
export function handleText(h: string | number | undefined): string {
  if (h === undefined) return '';
  const v = typeof h === 'number' ? h : parseInt(h, h.startsWith('0x') ? 16 : 10);
  if (!Number.isFinite(v)) return String(h);
  const major = (v >>> 16).toString(16);
  const minor = v & 0xffff;
  return `${major}:${minor ? minor.toString(16) : ''}`;
}

/** "nft_do_chain+0x3e8" -> "nft_do_chain" */
function fn(location: string | undefined): string | null {
  return location ? location.replace(/\+0x[0-9a-f]+(\/0x[0-9a-f]+)?$/, '') : null;
}

function sameBox(a: Step, b: Step): boolean {
  if (a.kind !== b.kind || a.netns !== b.netns || a.kind === 'drop' || a.kind === 'icmp') return false;
  if (a.kind === 'netfilter') return (a.j.nf?.hook ?? a.j.nf?.chain) === (b.j.nf?.hook ?? b.j.nf?.chain);
  if (a.kind === 'socket') return a.j.probe === b.j.probe;
  return a.dev === b.dev;
}

function devLine(s: Step): string {
  return s.dev || 'no device yet';
}

function labelOf(steps: readonly Step[]): { label: string; lines: string[] } {
  const s = steps[0]!;
  const j = s.j;
  switch (s.kind) {
    case 'receive':
      return { label: 'receive', lines: [devLine(s)] };
    case 'queue':
      return { label: 'device queue', lines: [devLine(s)] };
    case 'qdisc': {
      const wait = Math.max(0, ...steps.map((x) => x.waitNs ?? 0));
      return { label: `qdisc ${handleText(j.info?.handle)}`.trim(), lines: [devLine(s), ...(wait ? [`waited ${durationText(wait)}`] : [])] };
    }
    case 'transmit':
      return { label: 'transmit', lines: [devLine(s)] };
    case 'route': {
      const r = j.route;
      return { label: 'route lookup', lines: r ? [r.err ? `error ${r.err}` : `${r.type} via ${r.oif || '-'}`, `table ${r.table}`] : [] };
    }
    case 'netfilter': {
      const hook = (j.nf?.hook ?? j.nf?.chain ?? 'netfilter').toUpperCase();
      return { label: hook, lines: steps.map((x) => `${x.j.nf?.table ?? '?'} ${x.j.nf?.chain ?? '?'} ${x.j.nf?.verdict ?? ''}`.trim()) };
    }
    case 'socket':
      return { label: SOCKET_LABEL[j.probe] ?? j.probe, lines: [devLine(s)] };
    case 'icmp':
      return { label: `ICMP ${String(j.info?.type ?? '?')}/${String(j.info?.code ?? '?')} sent`, lines: ['icmp_send', devLine(s)] };
    case 'drop':
      return { label: `DROP ${j.drop_reason ?? ''}`.trim(), lines: [`at ${fn(j.location) ?? '?'}`, devLine(s)] };
    case 'free':
      return { label: 'consumed', lines: [`at ${fn(j.location) ?? '?'}`] };
    case 'func': {
      const names = [...new Set(steps.map((x) => x.j.probe))];
      return { label: names.length === 1 ? names[0]! : `${names.length} functions`, lines: names.length === 1 ? [devLine(s)] : [...names.slice(0, 3), ...(names.length > 3 ? [`+${names.length - 3} more`] : [])] };
    }
    default:
      return { label: j.probe, lines: [devLine(s)] };
  }
}

function toneOf(steps: readonly Step[], cites: Citations): Tone {
  const s = steps[0]!;
  const judged = steps.flatMap((x) => cites.byEvent.get(x.n) ?? []).map((n) => cites.findings.get(n)?.level);
  if (s.kind === 'drop') return judged.length && judged.every((l) => l === 'benign') ? 'benign' : 'drop';
  if (s.kind === 'netfilter' && steps.some((x) => x.j.nf?.verdict === 'DROP' || x.j.nf?.verdict === 'REJECT')) return 'drop';
  if (s.kind === 'icmp' || (s.kind === 'socket' && s.j.probe === 'tcp_send_reset')) return 'error-sent';
  return 'plain';
}

/** The rule behind a drop: the finding that cites it, else the packet's netfilter DROP step before it. */
function ruleOf(drop: Step, steps: readonly Step[], cites: Citations): string | null {
  for (const n of cites.byEvent.get(drop.n) ?? []) {
    const r = cites.findings.get(n)?.where.rule;
    if (r) return r;
  }
  const i = steps.indexOf(drop);
  for (let k = i - 1; k >= 0; k--) {
    const nf = steps[k]!.j.nf;
    if (steps[k]!.netns === drop.netns && nf && (nf.verdict === 'DROP' || nf.verdict === 'REJECT')) return nf.rule ?? `${nf.table} ${nf.chain} ${nf.verdict}`;
  }
  return null;
}

/** Splits a packet's steps into boxes. */
export function boxesOf(p: Packet, flow: number, cites: Citations): Box[] {
  const groups: Step[][] = [];
  for (const s of p.steps) {
    const g = groups[groups.length - 1];
    if (g && sameBox(g[g.length - 1]!, s)) g.push(s);
    else groups.push([s]);
  }
  return groups.map((g, i) => {
    const { label, lines } = labelOf(g);
    const ts = g.filter((s) => s.ts !== null).map((s) => s.ts!);
    const first = ts.length ? ts[0]! : null;
    const last = ts.length ? ts[ts.length - 1]! : null;
    const s = g[0]!;
    const findings = [...new Set(g.flatMap((x) => cites.byEvent.get(x.n) ?? []))].sort((x, y) => x - y);
    const box: Box = {
      id: `f${flow}p${p.id}b${i}`,
      kind: s.kind,
      netns: s.netns,
      dev: s.dev,
      label,
      lines,
      events: g.map((x) => x.n),
      tone: toneOf(g, cites),
      dwellNs: Math.max(first !== null && last !== null ? last - first : 0, ...g.map((x) => x.waitNs ?? 0)),
      findings,
      first,
      last,
    };
    if (s.kind !== 'drop') return box;
    const rule = ruleOf(s, p.steps, cites);
    return { ...box, lines: rule ? [...lines, `rule: ${rule}`] : lines, drop: { reason: s.j.drop_reason ?? '?', at: fn(s.j.location), rule } };
  });
}
