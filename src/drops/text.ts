/**
 * `pktpath drops` as text. On a terminal, a screen redrawn in place (top-like: every row
 * with its rate, cut to the window); otherwise plain lines, an interval showing the rows
 * that moved in it. Each row is followed by the reason's meaning and, with --stack, its
 * top stacks. The counters that moved follow in a second block. Pure.
 */
import { alignColumns } from '../sockets/format.js';
import type { Moved } from '../stats/snapshot.js';
import type { DropReport } from './report.js';
import { shownSums } from './report.js';
import type { DropRow } from './rows.js';

/** A terminal's size, for the redrawn screen; null for plain lines. */
export type Screen = { readonly columns: number; readonly rows: number } | null;

const HEADER = ['COUNT', 'RATE/s', 'TOTAL', 'REASON', 'LOCATION', 'NETNS', 'DEVICE', 'PROTO', 'SAMPLE'];

function rate(v: number): string {
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

export function title(r: DropReport, filtered: boolean): string {
  const sums = shownSums(r);
  const what = r.type === 'total' ? `total since the start (${r.seconds.toFixed(2)} s)` : `interval ${r.index} (${r.seconds.toFixed(2)} s)`;
  const rows = plural(r.rows.length, 'row');
  const moved = r.rows.filter((x) => x.delta > 0).length;
  const where = r.type === 'total' ? rows : `${moved} of ${rows}`;
  const parts = [`drops, ${what}: ${plural(r.type === 'total' ? sums.total : sums.delta, 'drop')} in ${where}`];
  if (r.all) parts.push('all reasons shown (--all)');
  else if (r.hidden.reasons.length) {
    const n = r.type === 'total' ? r.hidden.total : r.hidden.delta;
    parts.push(`hidden: ${n} NOT_SPECIFIED and benign frees (--all shows them)`);
  }
  if (filtered) parts.push(`left out by the filter: ${r.filtered}`);
  parts.push(`lost: ${r.lost.uncounted} uncounted, ${r.lost.samples} samples`);
  return parts.join('; ');
}

function cells(x: DropRow): string[] {
  return [String(x.delta), rate(x.rate), String(x.total), x.reason, x.location, x.netnsLabel, x.device, x.proto, x.samples.join(', ') || '-'];
}

function details(x: DropRow): string[] {
  const out = [`    ${x.meaning}`];
  for (const s of x.stacks) {
    const frames = s.frames.length ? s.frames.join(' < ') : '(not recorded: the stack map was full or two stacks collided)';
    out.push(`    stack x${s.count}: ${frames}`);
  }
  return out;
}

function dropLines(rows: readonly DropRow[]): string[] {
  if (!rows.length) return [];
  const [head, ...aligned] = alignColumns([HEADER, ...rows.map(cells)]);
  return [head!, ...aligned.flatMap((line, i) => [line, ...details(rows[i]!)])];
}

function counterLines(moved: readonly Moved[]): string[] {
  if (!moved.length) return [];
  const table = moved.map((m) => [m.netnsLabel, m.group, m.device ?? '-', m.name, String(m.delta), rate(m.perSecond), m.meaning ?? '(no explanation yet)']);
  return ['counters that moved:', ...alignColumns([['NETNS', 'GROUP', 'DEVICE', 'COUNTER', 'DELTA', '/S', 'MEANING'], ...table])];
}

/** Plain lines: an interval shows the rows that moved in it, the total shows every row. */
export function formatReportText(r: DropReport, filtered = false): string {
  const rows = r.type === 'total' ? r.rows : r.rows.filter((x) => x.delta > 0);
  return [title(r, filtered), ...dropLines(rows), ...counterLines(r.counters)].join('\n');
}

/**
 * A whole screen, cut to the terminal: the drops first (every row, moved or not), then
 * the counters with what room is left. Lines are cut at the width, never wrapped.
 */
export function formatScreen(r: DropReport, screen: { columns: number; rows: number }, filtered = false): string[] {
  const cut = (l: string): string => (l.length > screen.columns ? l.slice(0, Math.max(1, screen.columns - 1)) + '…' : l);
  const head = [title(r, filtered), ''];
  const room = Math.max(1, screen.rows - head.length - 1);
  const drops = r.rows.length ? dropLines(r.rows) : ['no drops since the start'];
  const counters = counterLines(r.counters);
  const body = drops.length >= room ? drops.slice(0, room) : [...drops, '', ...counters].slice(0, room);
  return [...head, ...body].map(cut);
}
