/**
 * A probe's extra values (what aux, aux2 and aux_addr mean for it), as the probe catalogue
 * (src/engine/probes.json "info") describes them; the resolver hands each probe's list over.
 */
import type { ProbeField } from '../engine/catalog.js';
import type { RawEvent } from '../engine/event.js';
import { formatAddr } from '../shared/addr.js';

/** The value of one extra; undefined when the event does not have it. */
export function infoValue(f: ProbeField, ev: RawEvent): number | string | undefined {
  if (f.src === 'auxAddr') {
    const a = ev.auxAddr;
    return a ? formatAddr(a.bytes, a.family) : undefined;
  }
  const v = f.src === 'aux' ? ev.aux : ev.aux2;
  switch (f.conv) {
    case 'int':
      return v | 0;
    case 'u32':
      return v >>> 0;
    case 'hex':
      return '0x' + (v >>> 0).toString(16);
    case 'hi8':
      return (v >>> 8) & 0xff;
    case 'lo8':
      return v & 0xff;
  }
}

/** The extras of one event as a plain object (empty when the probe has none). */
export function probeInfo(fields: readonly ProbeField[], ev: RawEvent): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const f of fields) {
    const v = infoValue(f, ev);
    if (v !== undefined) out[f.key] = v;
  }
  return out;
}
