/**
 * What both formatters share: their options and interface, and per-run caches of the text
 * made for a probe id, a netns inode and an skb address.
 */
import type { ProbeField } from '../engine/catalog.js';
import type { RawEvent } from '../engine/event.js';
import { EV_RET, RET_NO_ENTRY } from '../engine/event.js';
import type { ReturnValue } from '../functions/returns.js';
import { ROUTE_PROBES } from '../route/route.js';
import { Memo } from './caches.js';
import type { Resolver } from './resolver.js';
import { jsonString, textSafe } from './strings.js';

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

export interface ProbeEntry {
  name: string;
  /** ',"probe":"<name>","tuple":' */
  json: string;
  /** the probe's extras (catalogue "info", or the resolver's for function returns) */
  fields: readonly ProbeField[];
  /** a route lookup (fib_table_lookup, fib6_table_lookup): the event carries a route */
  route: boolean;
}

export interface NetnsEntry {
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

export class Shared {
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
      const json = ',"probe":' + jsonString(name) + ',"tuple":';
      p = { name, json, fields: this.resolver.probeFields(id) ?? [], route: ROUTE_PROBES.has(name) };
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
 * A function return's value as its type reads it; undefined for any other event (a
 * netfilter evaluation function's return is its step's verdict).
 */
export function returnOf(resolver: Resolver, ev: RawEvent): (ReturnValue & { entrySeen: boolean }) | undefined {
  if (!(ev.flags & EV_RET) || ev.nf || ev.nfNames) return undefined;
  const r = resolver.returnOf?.(ev.probe, ev.location) ?? { value: ev.aux | 0, name: null };
  return { ...r, entrySeen: ((ev.aux3 ?? 0) & RET_NO_ENTRY) === 0 };
}
