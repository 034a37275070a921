/**
 * pktpath's own tracing table: its name, and the `nft -f` script whose base chains set
 * nftrace on the packets the run's filter matches (and do nothing else). Pure.
 */
import { parseAddr } from '../../shared/addr.js';
import { OWN_TABLE_RE } from '../model.js';

/** What packets pktpath's table marks for tracing. Every field is optional; all must match. */
export interface NftTraceFilter {
  family?: 4 | 6;
  /** IPv4 or IPv6 address, either side */
  addr?: string;
  /** TCP/UDP port, either side */
  port?: number;
  l4proto?: 'tcp' | 'udp' | 'icmp';
}

/** Table name for a process (and, for a second table of the same process, its sequence number). */
export function ownTableName(pid: number, seq = 0): string {
  return seq > 0 ? `pktpath_${pid}_${seq}` : `pktpath_${pid}`;
}

/**
 * The rule bodies (before `meta nftrace set 1`) that together match the filter: one per
 * side of the address times one per side of the port. Throws on an invalid filter.
 */
export function traceMatchRules(filter: NftTraceFilter): string[] {
  let family = filter.family;
  if (family !== undefined && family !== 4 && family !== 6) throw new RangeError(`family must be 4 or 6, not ${String(family)}`);
  let addrParts: string[] = [''];
  if (filter.addr !== undefined) {
    const a = parseAddr(filter.addr);
    if (!a) throw new RangeError(`not an IPv4 or IPv6 address: "${filter.addr}"`);
    if (family !== undefined && a.family !== family) throw new RangeError(`address ${filter.addr} is not IPv${family}`);
    family = a.family;
    const kw = a.family === 4 ? 'ip' : 'ip6';
    addrParts = [`${kw} saddr ${filter.addr}`, `${kw} daddr ${filter.addr}`];
  }
  const proto = filter.l4proto;
  if (proto !== undefined && proto !== 'tcp' && proto !== 'udp' && proto !== 'icmp') throw new RangeError(`l4proto must be tcp, udp or icmp`);
  if (filter.port !== undefined) {
    if (!Number.isInteger(filter.port) || filter.port < 1 || filter.port > 65535) throw new RangeError(`port must be 1-65535, not ${filter.port}`);
    if (proto === 'icmp') throw new RangeError('a port cannot be combined with icmp');
  }
  const pre: string[] = [];
  if (family !== undefined && filter.addr === undefined) pre.push(`meta nfproto ${family === 4 ? 'ipv4' : 'ipv6'}`);
  let portParts: string[] = [''];
  if (proto === 'icmp') {
    pre.push(family === 4 ? 'meta l4proto icmp' : family === 6 ? 'meta l4proto ipv6-icmp' : 'meta l4proto { icmp, ipv6-icmp }');
  } else if (filter.port !== undefined) {
    const l4 = proto ?? null;
    pre.push(l4 ? `meta l4proto ${l4}` : 'meta l4proto { tcp, udp }');
    portParts = [`th sport ${filter.port}`, `th dport ${filter.port}`];
  } else if (proto) {
    pre.push(`meta l4proto ${proto}`);
  }
  const out: string[] = [];
  for (const a of addrParts) for (const p of portParts) out.push([a, ...pre, p].filter(Boolean).join(' '));
  return out;
}

/** Priority of pktpath's base chains: before raw (-300) and conntrack defragmentation (-400). */
export const TRACE_PRIORITY = -500;

/**
 * The `nft -f` script that creates pktpath's tracing table: base chains on prerouting
 * and output that set nftrace on matching packets and do nothing else (no verdict: the
 * policy is accept, as for every chain that does not drop).
 */
export function traceTableScript(table: string, filter: NftTraceFilter, comment?: string): string {
  if (!OWN_TABLE_RE.test(table)) throw new RangeError(`not a pktpath table name: ${table}`);
  if (comment !== undefined && !/^[A-Za-z0-9 _.,:=?/-]{0,120}$/.test(comment)) throw new RangeError(`unsafe table comment: ${comment}`);
  const rules = traceMatchRules(filter);
  const chain = (name: string, hook: string): string[] => [
    `\tchain ${name} {`,
    `\t\ttype filter hook ${hook} priority ${TRACE_PRIORITY}; policy accept;`,
    ...rules.map((r) => `\t\t${r ? `${r} ` : ''}meta nftrace set 1`),
    '\t}',
  ];
  const head = comment === undefined ? [] : [`\tcomment "${comment}"`];
  return [`table inet ${table} {`, ...head, ...chain('pre', 'prerouting'), ...chain('out', 'output'), '}', ''].join('\n');
}
