/** `tc -j qdisc show` -> QdiscFact: names the kind (tbf, fq_codel...) behind a handle the events print. */
import type { QdiscFact } from './model.js';

interface TcQdisc {
  kind?: string;
  handle?: string;
  dev?: string;
}

/** Parses tc's JSON; qdiscs without a handle or a device, and unparsable text, give nothing. */
export function parseTcQdiscs(json: string, netns: number): QdiscFact[] {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  return (list as TcQdisc[])
    .filter((q) => typeof q.kind === 'string' && typeof q.handle === 'string' && typeof q.dev === 'string' && q.kind !== 'noqueue')
    .map((q) => ({ netns, dev: q.dev!, handle: q.handle!, kind: q.kind! }));
}
