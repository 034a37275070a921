/**
 * `pktpath drops --json`: one object per report, on one line. The schema is in the
 * README ("pktpath drops --json"); field names are snake_case like the trace's JSON.
 */
import type { DropReport } from './report.js';
import { shownSums } from './report.js';

export function formatReportJson(r: DropReport): string {
  const sums = shownSums(r);
  return JSON.stringify({
    type: r.type,
    index: r.index,
    time: new Date(r.at).toISOString(),
    seconds: Number(r.seconds.toFixed(3)),
    all: r.all,
    drops: { count: sums.delta, total: sums.total },
    hidden: { reasons: r.hidden.reasons, rows: r.hidden.rows, count: r.hidden.delta, total: r.hidden.total },
    lost: r.lost,
    filtered: r.filtered,
    rows: r.rows.map((x) => ({
      reason: x.reason,
      location: x.location,
      netns: x.netnsLabel,
      netns_inode: x.netns,
      device: x.device,
      ifindex: x.ifindex,
      proto: x.proto,
      count: x.delta,
      total: x.total,
      rate: Number(x.rate.toFixed(3)),
      bytes: x.bytes,
      meaning: x.meaning,
      samples: x.samples,
      ...(x.stacks.length ? { stacks: x.stacks } : {}),
    })),
    counters: r.counters.map((c) => ({
      netns: c.netnsLabel,
      group: c.group,
      ...(c.device !== undefined ? { device: c.device } : {}),
      name: c.name,
      delta: c.delta,
      rate: Number(c.perSecond.toFixed(3)),
      level: c.level,
      ...(c.meaning ? { meaning: c.meaning } : {}),
      reasons: c.reasons,
    })),
  });
}
