/** ICMP errors that answered a flow: unreachable (with what the sender sees) and TTL exceeded. */
import { addrText } from './decode.js';
import type { Flow, IcmpRecord } from './flow.js';
import { make, sideWords } from './found.js';
import type { Found, Words } from './found.js';
import { icmpKind, icmpWords } from './icmp.js';
import { fill } from './rules.js';

export function icmpRecordWords(r: IcmpRecord, base: Words): Words {
  const w = icmpWords(r.family, r.type, r.code);
  const words: Words = { ...base, router: addrText(r.from), icmp: w.icmp, n: String(r.n), meaning: w.meaning, sees: w.sees, quoted: `a ${r.len}-byte packet from ${base.src}` };
  return { ...words, advice: fill(w.advice, words) };
}

export function icmpFindings(f: Flow): Found[] {
  const out: Found[] = [];
  for (const kind of ['unreachable', 'time-exceeded'] as const) {
    const r = f.icmp.find((x) => icmpKind(x.family, x.type, x.code) === kind);
    if (!r) continue;
    const same = f.icmp.filter((x) => icmpKind(x.family, x.type, x.code) === kind).map((x) => x.n);
    out.push(make(kind === 'unreachable' ? 'icmp.unreachable' : 'icmp.time-exceeded', f, icmpRecordWords(r, sideWords(f, r.side)), same));
  }
  return out;
}
