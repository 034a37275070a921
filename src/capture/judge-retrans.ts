/** The words of a side's retransmissions: kinds, gaps, and what they mean. */
import type { Retrans } from './flow.js';
import { doubling, gapsText, plural } from './words.js';

export function retransWords(r: Retrans, count: number): Record<string, string> {
  const kinds: string[] = [];
  if (r.rto) kinds.push(`${plural(r.rto, 'timeout')} (RTO)`);
  if (r.fast) kinds.push(`${r.fast} fast (after duplicate ACKs)`);
  if (r.early) kinds.push(`${r.early} early (tail-loss probe or SACK recovery)`);
  if (r.unknown) kinds.push(`${r.unknown} of segments sent before the capture window`);
  const w = r.worst;
  const series = w && w.count > 1 && w.gaps.length > 1 ? `the segment of packet #${w.n} went ${w.count + 1} times, ${gapsText(w.gaps)} apart${doubling(w.gaps) ? ' (doubling: a timeout backing off, nothing came back)' : ''}` : '';
  const gapWords = series || (r.gaps.length ? `gaps after the previous copy: ${gapsText(r.gaps)}${r.maxGap > 0 ? `, longest ${gapsText([r.maxGap])}` : ''}` : 'the first copies were not in the capture');
  const meaning =
    r.rto > 0 && r.rto >= r.fast
      ? 'A timeout means nothing came back for a whole RTO, not even duplicate ACKs: the segments, or all their ACKs, were lost'
      : r.fast > 0
        ? 'Fast retransmissions answer duplicate ACKs: the receiver reported single losses, and TCP recovered'
        : 'Early retransmissions come before an RTO: TCP suspected a loss at the tail of a burst';
  void count;
  return { kinds: kinds.join(', '), gapWords, meaning };
}
