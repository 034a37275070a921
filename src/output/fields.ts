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
  const v = f.src === 'aux' ? ev.aux : f.src === 'aux2' ? ev.aux2 : (ev.aux3 ?? 0);
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
    case 'tcp_state':
      return TCP_STATES[v] || String(v);
    case 'xdp_act':
      return XDP_ACTIONS[v] ?? String(v >>> 0);
  }
}

/** include/net/tcp_states.h, by value */
const TCP_STATES: readonly string[] = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE',
  'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV', 'BOUND_INACTIVE'];
/** enum xdp_action, by value */
const XDP_ACTIONS: readonly string[] = ['ABORTED', 'DROP', 'PASS', 'TX', 'REDIRECT'];

/** The extras of one event as a plain object (empty when the probe has none). */
export function probeInfo(fields: readonly ProbeField[], ev: RawEvent): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const f of fields) {
    const v = infoValue(f, ev);
    if (v !== undefined) out[f.key] = v;
  }
  return out;
}
