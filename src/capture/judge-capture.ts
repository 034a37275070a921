/** What the capture file says about itself: packets its capture lost (pcapng statistics). */
import { make } from './found.js';
import type { Found } from './found.js';
import type { CaptureInterface, InterfaceStats } from './records.js';

export function capturedDrops(stats: readonly InterfaceStats[], ifaces: readonly (CaptureInterface & { section: number })[]): Found[] {
  // the last statistics block of an interface holds its totals
  const last = new Map<string, InterfaceStats>();
  for (const s of stats) last.set(`${s.section}/${s.iface}`, s);
  const out: Found[] = [];
  for (const s of last.values()) {
    const byIf = s.droppedByIf ?? 0;
    const byOs = s.droppedByOs ?? 0;
    if (byIf + byOs === 0) continue;
    const i = ifaces.find((x) => x.section === s.section && x.id === s.iface);
    const iface = i?.name ?? `interface ${s.iface}`;
    const how = [byIf ? `${byIf} by the interface` : '', byOs ? `${byOs} by the operating system` : ''].filter(Boolean).join(', ');
    out.push(make('capture.dropped', null, { iface, count: String(byIf + byOs), how, flow: '' }, []));
  }
  return out;
}
