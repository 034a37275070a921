/**
 * The text formatter: Mytracer-style columns, one line per event, then stack frames when
 * asked; no trailing newline.
 *
 *   time       NETWORK_NS   COMMAND         INTERFACE    DEST_MAC     PKT_INFO                                 TRACE_INFO
 *   [10:26:26.103401 ][4026531992] swapper/1       eth1         00163e0cb838 T_SYN:192.168.88.154:34060->192.168.40.230:8080 ffff9fdef19eb600.0:netif_receive_skb seq=3349821034 ack=0
 *
 *   time        default  [HH:MM:SS.uuuuuu ]              local time
 *               datetime [YYYY-MM-DD HH:MM:SS.uuuuuu ]   local time (-T)
 *               relative [    SSSS.uuuuuu ]              seconds since opts.startNs, else since the first event (-t)
 *   NETWORK_NS  [inode]
 *   COMMAND     the task the event ran in (comm), padded to 15 ("-" when the probe has none)
 *   INTERFACE   name padded to 12 ("nil" when empty; control bytes shown as \xNN)
 *   DEST_MAC    12 lowercase hex digits
 *   PKT_INFO    tuple.ts pktInfo(), padded to 40; "-" when the event has no tuple
 *   TRACE_INFO  <skb hex>.<pkt_type>:<probe name>, or <pf>.<table>.<chain>.<VERDICT> for a netfilter step
 *   then        the probe's " key=value" extras (probes.json "info"),
 *               for TCP, " seq=<n> ack=<n>" when the probe read the header,
 *               on a function's return " ret=<its name, else its value>" (" (entry not seen)" when
 *               what it shows was read at return), on drops " reason=<NAME>" plus " at <func+0xoff>"
 *               when the location is known,
 *               " kept", " rule=<the netfilter rule>", " type=<route type> oif=<dev>" for route lookups,
 *               " netns=<name>" when the netns has a name under /run/netns.
 *   stack       one frame per line, "    <func+0xoff>", when opts.stack and the event has frames.
 */
import type { RawEvent } from '../engine/event.js';
import { EV_DROP, EV_KEPT } from '../engine/event.js';
import { routeOf } from '../route/route.js';
import { formatAddr } from '../shared/addr.js';
import { LastMac, LastTuple, Memo } from './caches.js';
import { WallClock, localPrefix } from './clock.js';
import { infoValue } from './fields.js';
import type { Resolver } from './resolver.js';
import { Shared, returnOf } from './shared.js';
import type { FormatOptions, Formatter, TimeMode } from './shared.js';
import { SPACES, micro6, padEnd, textSafe } from './strings.js';
import { pktInfoWith } from './tuple.js';

const TIME_WIDTH: Record<TimeMode, number> = {
  default: '[HH:MM:SS.uuuuuu ]'.length,
  datetime: '[YYYY-MM-DD HH:MM:SS.uuuuuu ]'.length,
  relative: '[SSSSSSSSSSSS ]'.length,
};
const REL_WIDTH = 12;
const IFNAME_WIDTH = 12;
const COMM_WIDTH = 15;
const PKT_WIDTH = 40;
const NO_PKT = ' ' + padEnd('-', PKT_WIDTH) + ' ';

/** Mytracer's netfilter form: <pf>.<table>.<chain>.<VERDICT>, e.g. 2.filter.OUTPUT.DROP */
function nfText(nf: NonNullable<RawEvent['nf']>): string {
  return nf.pf + '.' + nf.table + '.' + nf.chain + '.' + nf.verdict;
}

/** "[    SSSS.uuuuuu ]" since start (the first timestamp it is given when start is undefined). */
function relativeClock(start: bigint | undefined): (ts: bigint) => string {
  let startNum = start === undefined ? NaN : Number(start);
  return (ts) => {
    if (Number.isNaN(startNum)) startNum = Number(ts);
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
  };
}

function header(time: TimeMode): string {
  return (
    padEnd('time', TIME_WIDTH[time]) +
    padEnd('NETWORK_NS', 13) +
    padEnd('COMMAND', COMM_WIDTH + 1) +
    padEnd('INTERFACE', IFNAME_WIDTH + 1) +
    padEnd('DEST_MAC', 13) +
    padEnd('PKT_INFO', PKT_WIDTH + 1) +
    'TRACE_INFO'
  );
}

/** Mytracer-style columns; see the file comment. */
export function makeTextFormatter(resolver: Resolver, opts: FormatOptions): Formatter {
  const sh = new Shared(resolver);
  let time: (ts: bigint) => string;
  if (opts.time === 'relative') time = relativeClock(opts.startNs);
  else {
    const clock = new WallClock(resolver, localPrefix(opts.time === 'datetime'));
    time = (ts) => clock.text(ts) + ' ]';
  }
  const ifcols = new Memo<string, string>((n) => ' ' + padEnd(n === '' ? 'nil' : textSafe(n), IFNAME_WIDTH) + ' ', 1024);
  const comms = new Memo<string, string>((c) => ' ' + padEnd(c === '' ? '-' : textSafe(c), COMM_WIDTH), 4096);
  const symbols = sh.symbols;
  const reasons = sh.reasons;
  const mac = new LastMac('');
  // " <PKT_INFO padded> "
  const pkts = new LastTuple((t) => {
    const pkt = t.family === 0 ? pktInfoWith(t, '', '') : pktInfoWith(t, formatAddr(t.saddr, t.family), formatAddr(t.daddr, t.family));
    return ' ' + padEnd(pkt, PKT_WIDTH) + ' ';
  });

  function format(ev: RawEvent): string {
    const p = sh.probe(ev.probe);
    const ns = sh.ns(ev.netns);
    const t = ev.tuple;
    let line =
      time(ev.tsNs) + ns.col + comms.get(ev.comm) + ifcols.get(ev.ifname) + mac.get(ev.dstMac) + (t === null ? NO_PKT : pkts.get(t)) +
      sh.skbHex(ev.skb) + '.' + ev.pktType + ':' + (ev.nf ? nfText(ev.nf) : p.name);
    const fields = p.fields;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const v = infoValue(f, ev);
      if (v !== undefined) line += ' ' + f.key + '=' + v;
    }
    if (ev.tcpSeq !== undefined) line += ' seq=' + ev.tcpSeq + ' ack=' + ev.tcpAck;
    const ret = returnOf(resolver, ev);
    if (ret) line += ' ret=' + (ret.name ?? ret.value) + (ret.entrySeen ? '' : ' (entry not seen)');
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
  }

  return { header: () => header(opts.time), format };
}
