/**
 * Event formatters: Mytracer-style text columns and one-line JSON.
 *
 * Text (one line per event, then stack frames when asked; no trailing newline):
 *
 *   time       NETWORK_NS   INTERFACE    DEST_MAC     PKT_INFO                                 TRACE_INFO
 *   [10:26:26.103401 ][4026531992] eth1         00163e0cb838 T_SYN:192.168.88.154:34060->192.168.40.230:8080 ffff9fdef19eb600.0:netif_receive_skb
 *
 *   time        default  [HH:MM:SS.uuuuuu ]              local time
 *               datetime [YYYY-MM-DD HH:MM:SS.uuuuuu ]   local time (-T)
 *               relative [    SSSS.uuuuuu ]              seconds since opts.startNs, else since the first event (-t)
 *   NETWORK_NS  [inode]
 *   INTERFACE   name padded to 12 ("nil" when empty; control bytes shown as \xNN)
 *   DEST_MAC    12 lowercase hex digits
 *   PKT_INFO    tuple.ts pktInfo(), padded to 40; "-" when the event has no tuple
 *   TRACE_INFO  <skb hex>.<pkt_type>:<probe name>
 *   then        per-probe " key=value" pairs (PROBE_INFO below),
 *               on drops " reason=<NAME>" plus " at <func+0xoff>" when the location is known,
 *               " netns=<name>" when the netns has a name under /run/netns.
 *   stack       one frame per line, "    <func+0xoff>", when opts.stack and the event has frames.
 *
 * JSON: one object per event on one line, no trailing newline. See makeJsonFormatter.
 */
import type { RawEvent, RawTuple } from '../engine/event.js';
import { EV_DROP, EV_KEPT } from '../engine/event.js';
import { ROUTE_PROBES, routeOf } from '../route/route.js';
import type { Resolver } from './resolver.js';
import { formatAddr, pktInfoWith, protoName, tcpFlagsText, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP } from './tuple.js';

export type TimeMode = 'default' | 'datetime' | 'relative';

export interface FormatOptions {
  time: TimeMode;
  /** Monotonic ns that relative time counts from; the first event's timestamp when absent. */
  startNs?: bigint;
  /** Print stack frames of events that carry them. */
  stack: boolean;
}

export interface Formatter {
  /** Column header line for text; null for JSON. */
  header(): string | null;
  /** The event as text: no trailing newline (text may span several lines when stack frames follow). */
  format(ev: RawEvent): string;
}

/* ------------------------------------------------------------ per-probe extras */

/** Where an extra value comes from and how it is shown. */
export type InfoField =
  | {
      key: string;
      src: 'aux' | 'aux2';
      /** int: signed decimal; u32: unsigned decimal; hex: "0x..." (a JSON string); hi8/lo8: bits 8-15 / 0-7 */
      conv: 'int' | 'u32' | 'hex' | 'hi8' | 'lo8';
    }
  /** ev.auxAddr as an address string; left out when the event has none */
  | { key: string; src: 'auxAddr'; conv: 'addr' };

/** Extra per-probe values, keyed by probe name (bpf/event.h documents aux/aux2 per probe). */
export const PROBE_INFO: Readonly<Record<string, readonly InfoField[]>> = {
  net_dev_xmit: [{ key: 'rc', src: 'aux', conv: 'int' }],
  tcp_send_reset: [{ key: 'reason', src: 'aux', conv: 'int' }],
  fib_table_lookup: [
    { key: 'table', src: 'aux2', conv: 'u32' },
    { key: 'err', src: 'aux', conv: 'int' },
    { key: 'gw', src: 'auxAddr', conv: 'addr' },
  ],
  fib6_table_lookup: [
    { key: 'table', src: 'aux2', conv: 'u32' },
    { key: 'err', src: 'aux', conv: 'int' },
    { key: 'gw', src: 'auxAddr', conv: 'addr' },
  ],
  qdisc_enqueue: [
    { key: 'handle', src: 'aux', conv: 'hex' },
    { key: 'parent', src: 'aux2', conv: 'hex' },
  ],
  qdisc_dequeue: [
    { key: 'handle', src: 'aux', conv: 'hex' },
    { key: 'parent', src: 'aux2', conv: 'hex' },
  ],
  icmp_send: [
    { key: 'type', src: 'aux', conv: 'hi8' },
    { key: 'code', src: 'aux', conv: 'lo8' },
  ],
};

/** The value of one extra; undefined when the event does not have it. */
function infoValue(f: InfoField, ev: RawEvent): number | string | undefined {
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
export function probeInfo(probeName: string, ev: RawEvent): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const f of PROBE_INFO[probeName] ?? []) {
    const v = infoValue(f, ev);
    if (v !== undefined) out[f.key] = v;
  }
  return out;
}

/** Mytracer's netfilter form: <pf>.<table>.<chain>.<VERDICT>, e.g. 2.filter.OUTPUT.DROP */
function nfText(nf: NonNullable<RawEvent['nf']>): string {
  return nf.pf + '.' + nf.table + '.' + nf.chain + '.' + nf.verdict;
}

/* ------------------------------------------------------------ small helpers */

const HEX2: string[] = [];
for (let i = 0; i < 256; i++) HEX2.push(i.toString(16).padStart(2, '0'));
const PAD3: string[] = [];
for (let i = 0; i < 1000; i++) PAD3.push(String(i).padStart(3, '0'));
const SPACES = ' '.repeat(64);

function micro6(us: number): string {
  const hi = Math.floor(us / 1000);
  return PAD3[hi]! + PAD3[us - hi * 1000]!;
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function padEnd(s: string, width: number): string {
  return s.length >= width ? s : s + SPACES.slice(0, width - s.length);
}

// Characters that force JSON.stringify: quote, backslash, controls, and surrogates (lone
// surrogates must become \udxxx escapes for the output to stay valid UTF-8).
const JSON_UNSAFE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal for s. */
export function jsonString(s: string): string {
  return JSON_UNSAFE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

const TEXT_UNSAFE = /[\u0000-\u0020\u007f]/g;

/** Interface/comm text safe for a whitespace-separated column: control bytes and blanks as \xNN. */
function textSafe(s: string): string {
  return s.replace(TEXT_UNSAFE, (c) => '\\x' + HEX2[c.charCodeAt(0) & 0xff]!);
}

/** Bounded memo for resolver lookups that are asked about the same values over and over. */
class Memo<K, V> {
  private readonly map = new Map<K, V>();
  constructor(
    private readonly fn: (k: K) => V,
    private readonly max = 65536,
  ) {}
  get(k: K): V {
    let v = this.map.get(k);
    if (v === undefined) {
      if (this.map.size >= this.max) this.map.clear();
      v = this.fn(k);
      this.map.set(k, v);
    }
    return v;
  }
}

/**
 * Remembers the text made for the last tuple seen. Consecutive events very often carry the
 * same packet (one skb through several probes), so this saves most address formatting.
 * The key is copied: the caller's arrays may be reused by the decoder.
 */
class LastTuple {
  private has = false;
  private family = 0;
  private sport = 0;
  private dport = 0;
  private l3 = 0;
  private l4 = 0;
  private flags = 0;
  private itype = 0;
  private icode = 0;
  private iid = 0;
  private readonly s = new Uint8Array(16);
  private readonly d = new Uint8Array(16);
  private text = '';

  constructor(private readonly build: (t: RawTuple) => string) {}

  get(t: RawTuple): string {
    const n = t.family === 6 ? 16 : t.family === 4 ? 4 : 0;
    if (
      this.has && t.family === this.family && t.sport === this.sport && t.dport === this.dport &&
      t.l4proto === this.l4 && t.l3proto === this.l3 && t.tcpFlags === this.flags &&
      t.icmpType === this.itype && t.icmpCode === this.icode && t.icmpId === this.iid
    ) {
      const ts = t.saddr;
      const td = t.daddr;
      const s = this.s;
      const d = this.d;
      let i = 0;
      while (i < n && ts[i] === s[i] && td[i] === d[i]) i++;
      if (i === n) return this.text;
    }
    this.has = true;
    this.family = t.family;
    this.sport = t.sport;
    this.dport = t.dport;
    this.l3 = t.l3proto;
    this.l4 = t.l4proto;
    this.flags = t.tcpFlags;
    this.itype = t.icmpType;
    this.icode = t.icmpCode;
    this.iid = t.icmpId;
    for (let i = 0; i < n; i++) {
      this.s[i] = t.saddr[i] ?? 0;
      this.d[i] = t.daddr[i] ?? 0;
    }
    this.text = this.build(t);
    return this.text;
  }
}

/** Remembers the text of the last MAC address (copied key, like LastTuple). */
class LastMac {
  private readonly m = new Uint8Array(6);
  private text: string;

  constructor(private readonly sep: string) {
    this.text = macHex(this.m, sep);
  }

  get(m: Uint8Array): string {
    const k = this.m;
    if (m[0] !== k[0] || m[1] !== k[1] || m[2] !== k[2] || m[3] !== k[3] || m[4] !== k[4] || m[5] !== k[5]) {
      for (let i = 0; i < 6; i++) k[i] = m[i] ?? 0;
      this.text = macHex(k, this.sep);
    }
    return this.text;
  }
}

/* ------------------------------------------------------------ shared state */

interface ProbeEntry {
  name: string;
  nameJson: string;
  /** ',"probe":"<name>","tuple":' */
  json: string;
  fields: readonly InfoField[];
  /** a route lookup (fib_table_lookup, fib6_table_lookup): the event carries a route */
  route: boolean;
}

interface NetnsEntry {
  /** "[4026531992]" */
  col: string;
  name: string | undefined;
  /** " netns=<name>" or "" */
  nameText: string;
  /** ',"netns":<inode>[,"netns_name":"<name>"],"ifname":' */
  json: string;
  /** event count when the name was last asked for */
  asked: number;
}

/** Re-ask the resolver for a netns that had no name after this many events (namespaces come and go). */
const NETNS_RECHECK_EVENTS = 4096;

class Shared {
  private readonly probes: (ProbeEntry | undefined)[] = [];
  private readonly netns = new Map<number, NetnsEntry>();
  private count = 0;
  private lastNs = -1;
  private lastNsEntry: NetnsEntry | undefined;
  private lastSkb = -1n;
  private lastSkbHex = '';
  readonly symbols: Memo<bigint, string>;
  readonly reasons: Memo<number, string>;

  constructor(readonly resolver: Resolver) {
    this.symbols = new Memo((a) => resolver.symbol(a));
    this.reasons = new Memo((r) => resolver.dropReason(r), 4096);
  }

  probe(id: number): ProbeEntry {
    let p = this.probes[id];
    if (p === undefined) {
      const name = this.resolver.probeName(id);
      const nameJson = jsonString(name);
      p = { name, nameJson, json: ',"probe":' + nameJson + ',"tuple":', fields: this.resolver.probeFields?.(id) ?? PROBE_INFO[name] ?? [], route: ROUTE_PROBES.has(name) };
      this.probes[id] = p;
    }
    return p;
  }

  ns(inode: number): NetnsEntry {
    this.count++;
    let e = inode === this.lastNs ? this.lastNsEntry : this.netns.get(inode);
    if (e === undefined) {
      e = {
        col: '[' + String(inode).padStart(10) + ']',
        name: undefined,
        nameText: '',
        json: ',"netns":' + inode + ',"ifname":',
        asked: -Infinity,
      };
      if (this.netns.size >= 4096) this.netns.clear();
      this.netns.set(inode, e);
    }
    if (e.name === undefined && this.count - e.asked >= NETNS_RECHECK_EVENTS) {
      e.asked = this.count;
      const name = this.resolver.netnsName(inode);
      if (name !== undefined && name !== '') {
        e.name = name;
        e.nameText = ' netns=' + textSafe(name);
        e.json = ',"netns":' + inode + ',"netns_name":' + jsonString(name) + ',"ifname":';
      }
    }
    this.lastNs = inode;
    this.lastNsEntry = e;
    return e;
  }

  skbHex(skb: bigint): string {
    if (skb !== this.lastSkb) {
      this.lastSkb = skb;
      this.lastSkbHex = skb.toString(16);
    }
    return this.lastSkbHex;
  }
}

/**
 * Wall-clock text for monotonic timestamps. The resolver is asked once per wall-clock
 * second (and whenever time runs backwards); within that second the microseconds follow
 * from the monotonic clock in plain float arithmetic, no BigInt per event. Exact while
 * uptime is below 2^53 ns (104 days), off by at most a few hundred ns beyond that.
 */
class WallClock {
  /** monotonic ns at which the cached wall second starts / ends */
  private monoStart = 1;
  private monoEnd = 0;
  private prefix = '';

  constructor(
    private readonly resolver: Resolver,
    private readonly prefixOf: (epochSec: number) => string,
  ) {}

  /** prefix (cached per second) + 6-digit microseconds */
  text(monoNs: bigint): string {
    const m = Number(monoNs);
    if (m >= this.monoStart && m < this.monoEnd) {
      return this.prefix + micro6(Math.floor((m - this.monoStart) / 1000));
    }
    const wall = this.resolver.wallClockNs(monoNs);
    let sec = wall / 1_000_000_000n;
    if (sec * 1_000_000_000n > wall) sec -= 1n; // floor for times before 1970
    const into = Number(wall - sec * 1_000_000_000n); // ns into the second, exact
    this.monoStart = m - into;
    this.monoEnd = this.monoStart + 1e9;
    this.prefix = this.prefixOf(Number(sec));
    return this.prefix + micro6(Math.floor(into / 1000));
  }
}

function localPrefix(withDate: boolean): (sec: number) => string {
  return (sec) => {
    const d = new Date(sec * 1000);
    const hms = pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds()) + '.';
    if (!withDate) return '[' + hms;
    return '[' + d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' + hms;
  };
}

/** "2022-11-04T02:26:26." for the JSON time field. */
function isoPrefix(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 20);
}

function macHex(m: Uint8Array, sep: string): string {
  return (
    HEX2[m[0] ?? 0]! + sep + HEX2[m[1] ?? 0]! + sep + HEX2[m[2] ?? 0]! + sep +
    HEX2[m[3] ?? 0]! + sep + HEX2[m[4] ?? 0]! + sep + HEX2[m[5] ?? 0]!
  );
}

/* ------------------------------------------------------------ text */

const TIME_WIDTH: Record<TimeMode, number> = {
  default: '[HH:MM:SS.uuuuuu ]'.length,
  datetime: '[YYYY-MM-DD HH:MM:SS.uuuuuu ]'.length,
  relative: '[SSSSSSSSSSSS ]'.length,
};
const REL_WIDTH = 12;
const IFNAME_WIDTH = 12;
const PKT_WIDTH = 40;
const NO_PKT = ' ' + padEnd('-', PKT_WIDTH) + ' ';

/** Mytracer-style columns; see the file comment. */
export function makeTextFormatter(resolver: Resolver, opts: FormatOptions): Formatter {
  const sh = new Shared(resolver);
  const clock = opts.time === 'relative' ? null : new WallClock(resolver, localPrefix(opts.time === 'datetime'));
  let start = opts.startNs;
  const ifcols = new Memo<string, string>((n) => ' ' + padEnd(n === '' ? 'nil' : textSafe(n), IFNAME_WIDTH) + ' ', 1024);
  const symbols = sh.symbols;
  const reasons = sh.reasons;
  const mac = new LastMac('');
  // " <PKT_INFO padded> "
  const pkts = new LastTuple((t) => {
    const pkt = t.family === 0 ? pktInfoWith(t, '', '') : pktInfoWith(t, formatAddr(t.saddr, t.family), formatAddr(t.daddr, t.family));
    return ' ' + padEnd(pkt, PKT_WIDTH) + ' ';
  });

  let startNum = start === undefined ? 0 : Number(start);

  function relTime(ts: bigint): string {
    if (start === undefined) {
      start = ts;
      startNum = Number(ts);
    }
    let rel = Number(ts) - startNum;
    let sign = '';
    if (rel < 0) {
      sign = '-';
      rel = -rel;
    }
    const us = Math.floor(rel / 1000);
    const sec = Math.floor(us / 1e6);
    const t = sign + sec + '.' + micro6(us - sec * 1e6);
    return '[' + (t.length < REL_WIDTH ? SPACES.slice(0, REL_WIDTH - t.length) + t : t) + ' ]';
  }

  return {
    header() {
      return (
        padEnd('time', TIME_WIDTH[opts.time]) +
        padEnd('NETWORK_NS', 13) +
        padEnd('INTERFACE', IFNAME_WIDTH + 1) +
        padEnd('DEST_MAC', 13) +
        padEnd('PKT_INFO', PKT_WIDTH + 1) +
        'TRACE_INFO'
      );
    },

    format(ev: RawEvent): string {
      const p = sh.probe(ev.probe);
      const ns = sh.ns(ev.netns);
      const time = clock === null ? relTime(ev.tsNs) : clock.text(ev.tsNs) + ' ]';
      const t = ev.tuple;
      let line =
        time + ns.col + ifcols.get(ev.ifname) + mac.get(ev.dstMac) + (t === null ? NO_PKT : pkts.get(t)) +
        sh.skbHex(ev.skb) + '.' + ev.pktType + ':' + (ev.nf ? nfText(ev.nf) : p.name);
      const fields = p.fields;
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        const v = infoValue(f, ev);
        if (v !== undefined) line += ' ' + f.key + '=' + v;
      }
      if (ev.flags & EV_DROP) {
        line += ' reason=' + reasons.get(ev.dropReason);
        if (ev.location !== 0n) line += ' at ' + symbols.get(ev.location);
      }
      if (ev.flags & EV_KEPT) line += ' kept';
      if (ev.nf?.rule) line += ' rule=' + JSON.stringify(ev.nf.rule);
      if (p.route) {
        const r = routeOf(ev);
        line += ' type=' + r.type + (r.oif ? ' oif=' + r.oif : '');
      }
      line += ns.nameText;
      const stack = ev.stack;
      if (opts.stack && stack !== null) {
        for (let i = 0; i < stack.length; i++) line += '\n    ' + symbols.get(stack[i]!);
      }
      return line;
    },
  };
}

/* ------------------------------------------------------------ JSON */

/**
 * One JSON object per line:
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
 *   drop_reason kernel name ("NO_SOCKET"), only on drops
 *   location    "func+0xoff", on drops and consume_skb events with a known location
 *   stack       ["func+0xoff", ...], only when opts.stack and the event carries frames
 *   info        per-probe extras (PROBE_INFO), only for probes that have them
 */
export function makeJsonFormatter(resolver: Resolver, opts: FormatOptions): Formatter {
  const sh = new Shared(resolver);
  const clock = new WallClock(resolver, isoPrefix);
  const symbols = sh.symbols;
  const reasons = sh.reasons;
  const mac = new LastMac(':');
  const ifnames = new Memo<string, string>(jsonString, 1024);
  const comms = new Memo<string, string>(jsonString, 4096);
  const tuples = new LastTuple(tupleJson);

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

  return {
    header() {
      return null;
    },

    format(ev: RawEvent): string {
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
      if (ev.flags & EV_DROP) {
        s += ',"drop_reason":' + jsonString(reasons.get(ev.dropReason));
        if (ev.location !== 0n) s += ',"location":' + jsonString(symbols.get(ev.location));
      } else if (ev.location !== 0n && p.name === 'consume_skb') {
        // where a packet was freed normally tells the diagnosis who took it (an XDP program, a socket...)
        s += ',"location":' + jsonString(symbols.get(ev.location));
      }
      if (ev.flags & EV_KEPT) s += ',"kept":true';
      if (ev.nf) {
        const nf = ev.nf;
        s += ',"nf":{"pf":' + nf.pf + ',"table":' + jsonString(nf.table) + ',"chain":' + jsonString(nf.chain) +
          ',"hook":' + (nf.hook === null ? 'null' : jsonString(nf.hook)) + ',"verdict":"' + nf.verdict + '","rule":' +
          (nf.rule === null ? 'null' : jsonString(nf.rule)) + '}';
      }
      const stack = ev.stack;
      if (opts.stack && stack !== null) {
        s += ',"stack":[';
        for (let i = 0; i < stack.length; i++) s += (i ? ',' : '') + jsonString(symbols.get(stack[i]!));
        s += ']';
      }
      const fields = p.fields;
      if (fields.length) {
        let sep = ',"info":{"';
        for (let i = 0; i < fields.length; i++) {
          const f = fields[i]!;
          const v = infoValue(f, ev);
          if (v === undefined) continue;
          s += sep + f.key + '":' + (typeof v === 'string' ? '"' + v + '"' : v);
          sep = ',"';
        }
        if (sep === ',"') s += '}';
      }
      if (p.route) {
        const r = routeOf(ev);
        s += ',"route":{"table":' + r.table + ',"type":"' + r.type + '","oif":' + jsonString(r.oif) + ',"gw":"' + r.gw + '","err":' + r.err + '}';
      }
      return s + '}';
    },
  };
}
