/**
 * The JSON formatter: one object per event on one line, no trailing newline.
 *
 *   time        ISO-8601 UTC with microseconds ("2022-11-04T02:26:26.103401Z"), from resolver.wallClockNs
 *   ts_ns       monotonic ns (exact integer digits)
 *   cpu, pid, comm, netns, netns_name (only when known), ifname, ifindex
 *   dst_mac     "aa:bb:cc:dd:ee:ff"
 *   skb         "0xffff..."
 *   pkt_type, mark, len
 *   probe       probe name
 *   tuple       {proto, saddr, daddr, sport, dport, flags, icmp_type, icmp_code, icmp_id} or null;
 *               icmp_* only for icmp/icmpv6 (tuple.ts toTuple has the same shape)
 *   ret, ret_name  a function's return value (a number; pointers as "0x..." text) and its name
 *               from the function's BTF type ("NULL", "-EPERM", "NF_DROP", "NO_SOCKET") or null;
 *               entry_seen false when the return's entry was not seen (what it shows was read at return)
 *   drop_reason kernel name ("NO_SOCKET"), only on drops
 *   location    "func+0xoff", on drops and consume_skb events with a known location
 *   kept        true, only for a packet that was kept (EV_KEPT)
 *   nf          {pf, table, chain, hook, verdict, rule}, only for a netfilter step
 *   stack       ["func+0xoff", ...], only when opts.stack and the event carries frames
 *   info        the probe's extras (probes.json "info"), only for probes that have them
 *   route       {table, type, oif, gw, err}, only for route lookups
 *   ttl, ip_id  IPv4 TTL / IPv6 hop limit, IPv4 identification: when the IP header was read
 *   tcp_seq, tcp_ack, tcp_win   when the TCP header was read (window as sent, not scaled)
 *   gso_size, gso_segs          skb_shinfo's, for events with an skb
 *   mtu         the MTU of the event's device, when it has one
 *   inner       an ICMP/ICMPv6 error's quoted header, as a tuple
 *   icmp_mtu    the MTU an ICMP frag-needed / ICMPv6 packet-too-big announces
 *   related     true when the event matched the filter only through `inner`
 */
import type { RawEvent, RawTuple } from '../engine/event.js';
import { EV_DROP, EV_KEPT } from '../engine/event.js';
import { routeOf } from '../route/route.js';
import { formatAddr } from '../shared/addr.js';
import { LastMac, LastTuple, Memo } from './caches.js';
import { WallClock, isoPrefix } from './clock.js';
import { infoValue } from './fields.js';
import type { Resolver } from './resolver.js';
import { Shared, returnOf } from './shared.js';
import type { FormatOptions, Formatter, ProbeEntry } from './shared.js';
import { jsonString } from './strings.js';
import { protoName, tcpFlagsText, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP } from './tuple.js';

function tupleJson(t: RawTuple): string {
  const fam = t.family;
  const l4 = t.l4proto;
  let s =
    '{"proto":"' + protoName(l4, t.l3proto) +
    '","saddr":"' + (fam === 0 ? '' : formatAddr(t.saddr, fam)) +
    '","daddr":"' + (fam === 0 ? '' : formatAddr(t.daddr, fam)) +
    '","sport":' + t.sport + ',"dport":' + t.dport +
    ',"flags":"' + (l4 === IPPROTO_TCP ? tcpFlagsText(t.tcpFlags) : '') + '"';
  if ((l4 === IPPROTO_ICMP || l4 === IPPROTO_ICMPV6) && t.l3proto !== 0x0806) {
    s += ',"icmp_type":' + t.icmpType + ',"icmp_code":' + t.icmpCode + ',"icmp_id":' + t.icmpId;
  }
  return s + '}';
}

function nfJson(nf: NonNullable<RawEvent['nf']>): string {
  return ',"nf":{"pf":' + nf.pf + ',"table":' + jsonString(nf.table) + ',"chain":' + jsonString(nf.chain) +
    ',"hook":' + (nf.hook === null ? 'null' : jsonString(nf.hook)) + ',"verdict":"' + nf.verdict + '","rule":' +
    (nf.rule === null ? 'null' : jsonString(nf.rule)) + '}';
}

/** ',"info":{...}' with the probe's extras the event has; '' when the probe has none. */
function infoJson(p: ProbeEntry, ev: RawEvent): string {
  const fields = p.fields;
  if (!fields.length) return '';
  let s = '';
  let sep = ',"info":{"';
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const v = infoValue(f, ev);
    if (v === undefined) continue;
    // keys are plain names (the catalogue checks them), string values are hex or addresses
    s += sep + f.key + '":' + (typeof v === 'string' ? '"' + v + '"' : v);
    sep = ',"';
  }
  return sep === ',"' ? s + '}' : s;
}

/** The packet fields beyond the tuple (struct pp_pkt), those the kernel read. */
function pktJson(ev: RawEvent): string {
  let s = '';
  if (ev.ipTtl !== undefined) s += ',"ttl":' + ev.ipTtl;
  if (ev.ipId !== undefined) s += ',"ip_id":' + ev.ipId;
  if (ev.tcpSeq !== undefined) s += ',"tcp_seq":' + ev.tcpSeq + ',"tcp_ack":' + ev.tcpAck + ',"tcp_win":' + ev.tcpWin;
  if (ev.gsoSize !== undefined) s += ',"gso_size":' + ev.gsoSize + ',"gso_segs":' + ev.gsoSegs;
  if (ev.mtu !== undefined) s += ',"mtu":' + ev.mtu;
  if (ev.inner) s += ',"inner":' + tupleJson(ev.inner);
  if (ev.icmpMtu !== undefined) s += ',"icmp_mtu":' + ev.icmpMtu;
  if (ev.related) s += ',"related":true';
  return s;
}

function routeJson(ev: RawEvent): string {
  const r = routeOf(ev);
  return ',"route":{"table":' + r.table + ',"type":"' + r.type + '","oif":' + jsonString(r.oif) + ',"gw":"' + r.gw + '","err":' + r.err + '}';
}

/** One JSON object per line; see the file comment for the fields. */
export function makeJsonFormatter(resolver: Resolver, opts: FormatOptions): Formatter {
  const sh = new Shared(resolver);
  const clock = new WallClock(resolver, isoPrefix);
  const symbols = sh.symbols;
  const reasons = sh.reasons;
  const mac = new LastMac(':');
  const ifnames = new Memo<string, string>(jsonString, 1024);
  const comms = new Memo<string, string>(jsonString, 4096);
  const tuples = new LastTuple(tupleJson);

  function format(ev: RawEvent): string {
    const p = sh.probe(ev.probe);
    const ns = sh.ns(ev.netns);
    const t = ev.tuple;
    let s =
      '{"time":"' + clock.text(ev.tsNs) + 'Z","ts_ns":' + ev.tsNs +
      ',"cpu":' + ev.cpu + ',"pid":' + ev.pid + ',"comm":' + comms.get(ev.comm) +
      ns.json + ifnames.get(ev.ifname) +
      ',"ifindex":' + ev.ifindex + ',"dst_mac":"' + mac.get(ev.dstMac) +
      '","skb":"0x' + sh.skbHex(ev.skb) + '","pkt_type":' + ev.pktType +
      ',"mark":' + (ev.mark >>> 0) + ',"len":' + ev.len + p.json + (t === null ? 'null' : tuples.get(t));
    const ret = returnOf(resolver, ev);
    if (ret) {
      s += ',"ret":' + (typeof ret.value === 'number' ? ret.value : '"' + ret.value + '"') + ',"ret_name":' + (ret.name === null ? 'null' : jsonString(ret.name));
      if (!ret.entrySeen) s += ',"entry_seen":false';
    }
    if (ev.flags & EV_DROP) {
      s += ',"drop_reason":' + jsonString(reasons.get(ev.dropReason));
      if (ev.location !== 0n) s += ',"location":' + jsonString(symbols.get(ev.location));
    } else if (ev.location !== 0n && p.name === 'consume_skb') {
      // where a packet was freed normally tells the diagnosis who took it (an XDP program, a socket...)
      s += ',"location":' + jsonString(symbols.get(ev.location));
    }
    if (ev.flags & EV_KEPT) s += ',"kept":true';
    if (ev.nf) s += nfJson(ev.nf);
    const stack = ev.stack;
    if (opts.stack && stack !== null) {
      s += ',"stack":[';
      for (let i = 0; i < stack.length; i++) s += (i ? ',' : '') + jsonString(symbols.get(stack[i]!));
      s += ']';
    }
    s += pktJson(ev) + infoJson(p, ev);
    if (p.route) s += routeJson(ev);
    return s + '}';
  }

  return { header: () => null, format };
}
