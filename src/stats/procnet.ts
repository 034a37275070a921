/**
 * The counter files nstat reads, parsed into nstat's names. Pure.
 *
 *   /proc/net/snmp, /proc/net/netstat   pairs of lines, "Tcp: ActiveOpens ..." then
 *                                       "Tcp: 12 ...": name = prefix + field (TcpActiveOpens,
 *                                       TcpExtListenOverflows, IpExtInNoRoutes, IcmpMsgInType3)
 *   /proc/net/snmp6                     one "Ip6InReceives   123" per line
 *   /proc/net/softnet_stat              one line of hex columns per CPU (see parseSoftnet)
 *
 * Like nstat, values that are settings or gauges rather than counters are left out.
 */

/** What nstat leaves out: settings and the one gauge of these files. */
export const NOT_COUNTERS: ReadonlySet<string> = new Set([
  'IpForwarding', 'IpDefaultTTL', 'TcpRtoAlgorithm', 'TcpRtoMin', 'TcpRtoMax', 'TcpMaxConn', 'TcpCurrEstab',
]);

/** /proc/net/snmp or /proc/net/netstat -> nstat name -> value. A line pair that does not line up is skipped. */
export function parseSnmpPairs(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split('\n').filter((l) => l.includes(':'));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [prefix, names] = splitPrefix(lines[i]!);
    const [prefix2, values] = splitPrefix(lines[i + 1]!);
    if (prefix !== prefix2 || names.length !== values.length) continue;
    names.forEach((n, k) => {
      const v = Number(values[k]);
      const id = prefix + n;
      if (Number.isFinite(v) && !NOT_COUNTERS.has(id)) out.set(id, v);
    });
  }
  return out;
}

function splitPrefix(line: string): [string, string[]] {
  const colon = line.indexOf(':');
  return [line.slice(0, colon), line.slice(colon + 1).trim().split(/\s+/).filter(Boolean)];
}

/** /proc/net/snmp6 -> name -> value. */
export function parseSnmp6(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(-?\d+)\s*$/.exec(line);
    if (m && !NOT_COUNTERS.has(m[1]!)) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** One CPU's line of /proc/net/softnet_stat. */
export interface SoftnetCpu {
  cpu: number;
  /** packets taken off the CPU's backlog and device queues by net_rx_action */
  processed: number;
  /** packets dropped because the CPU's input backlog was full (netdev_max_backlog) */
  dropped: number;
  /** times net_rx_action ran out of budget or time with work left */
  time_squeeze: number;
  /** RPS: packets other CPUs steered to this one */
  received_rps: number;
  /** packets dropped by the flow limit (net.core.flow_limit_cpu_bitmap) */
  flow_limit_count: number;
  /** packets waiting in the backlog now (a gauge; kernel 5.10+) */
  backlog?: number;
}

/**
 * /proc/net/softnet_stat: hex columns processed, dropped, time_squeeze, five zeros,
 * cpu_collision (0), received_rps, flow_limit_count, then (5.10+) backlog length and the
 * CPU number, then (6.x) input and process queue lengths. Without the CPU column, the
 * line number is the CPU (offline CPUs then shift the numbers, as older kernels do).
 */
export function parseSoftnet(text: string): SoftnetCpu[] {
  const out: SoftnetCpu[] = [];
  text.split('\n').filter((l) => l.trim()).forEach((line, i) => {
    const c = line.trim().split(/\s+/).map((h) => parseInt(h, 16));
    if (c.length < 11 || c.some((v) => Number.isNaN(v))) return;
    const cpu: SoftnetCpu = {
      cpu: c.length >= 13 ? c[12]! : i,
      processed: c[0]!,
      dropped: c[1]!,
      time_squeeze: c[2]!,
      received_rps: c[9]!,
      flow_limit_count: c[10]!,
    };
    if (c.length >= 12) cpu.backlog = c[11]!;
    out.push(cpu);
  });
  return out;
}
