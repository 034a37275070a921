/**
 * `pktpath stats` reports: a table per interval (text), or one JSON object per interval
 * (one line each). Pure.
 *
 * JSON line: {"type":"interval"|"total","index":N,"seconds":S,"counters":[
 *   {netns, netns_label, group, device?, name, value, delta, per_second, level, meaning?,
 *    reasons:[...], seeds:[...]} ...]}
 */
import type { Moved } from './snapshot.js';
import { alignColumns } from '../sockets/format.js';

export interface Report {
  type: 'interval' | 'total';
  /** 1-based interval number; for the total, the number of whole intervals before it */
  index: number;
  seconds: number;
  moved: Moved[];
}

function rate(v: number): string {
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function meaningText(m: Moved): string {
  const reasons = m.reasons.length ? ` [${m.reasons.join(', ')}]` : '';
  const seeds = m.seeds.length ? ` (seed ${m.seeds.join(', ')})` : '';
  return `${m.meaning ?? '(no explanation yet)'}${reasons}${seeds}`;
}

function title(r: Report): string {
  const what = r.type === 'total' ? 'total since the start' : `interval ${r.index}`;
  const n = r.moved.length;
  return `${what}: ${r.seconds.toFixed(2)} s, ${n ? `${n} counter${n === 1 ? '' : 's'}` : 'nothing moved'}`;
}

export function formatReportText(r: Report): string {
  if (!r.moved.length) return title(r);
  const rows = r.moved.map((m) => [m.netnsLabel, m.group, m.device ?? '-', m.name, String(m.delta), rate(m.perSecond), m.level, meaningText(m)]);
  return [title(r), ...alignColumns([['NETNS', 'GROUP', 'DEVICE', 'COUNTER', 'DELTA', '/S', 'LEVEL', 'MEANING'], ...rows])].join('\n');
}

export function formatReportJson(r: Report): string {
  return JSON.stringify({
    type: r.type,
    index: r.index,
    seconds: Number(r.seconds.toFixed(3)),
    counters: r.moved.map((m) => ({
      netns: m.netns,
      netns_label: m.netnsLabel,
      group: m.group,
      ...(m.device !== undefined ? { device: m.device } : {}),
      name: m.name,
      value: m.value,
      delta: m.delta,
      per_second: Number(m.perSecond.toFixed(3)),
      level: m.level,
      ...(m.meaning !== undefined ? { meaning: m.meaning } : {}),
      reasons: m.reasons,
      seeds: m.seeds,
    })),
  });
}
