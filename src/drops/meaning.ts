/**
 * The one-line meaning of a drop reason, from the diagnosis's rules
 * (src/diagnose/explain.ts DROP_RULES), filled in with a sample packet when there is one.
 */
import type { RawTuple } from '../engine/event.js';
import { DROP_RULES } from '../diagnose/explain.js';
import { formatAddr } from '../shared/addr.js';
import { protoName } from '../output/tuple.js';

const UNKNOWN = 'no explanation in pktpath yet: the reason is the kernel\'s own name';

/** The rule's text with {daddr}, {dport}, {proto} from `tuple`; without one, "the destination". */
export function reasonMeaning(reason: string, tuple: RawTuple | null): string {
  const rule = DROP_RULES[reason];
  if (!rule) return UNKNOWN;
  if (!tuple || tuple.family === 0) {
    return rule.what.replace('{daddr}:{dport}/{proto}', 'the destination port').replace(/\{\w+\}/g, '?');
  }
  const ports = tuple.l4proto === 6 || tuple.l4proto === 17;
  const addr = formatAddr(tuple.daddr, tuple.family);
  const fill: Record<string, string> = {
    daddr: tuple.family === 6 && ports ? `[${addr}]` : addr,
    dport: ports ? String(tuple.dport) : '-',
    proto: protoName(tuple.l4proto, tuple.l3proto),
  };
  return rule.what.replace(/\{(\w+)\}/g, (m, k: string) => fill[k] ?? m);
}
