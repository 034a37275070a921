/**
 * Caches of the formatters' hot path. Consecutive events very often carry the same packet
 * (one skb through several probes), the same interface and the same names, so most text
 * is made once and reused. Keys are copied: the decoder may reuse the caller's arrays.
 */
import type { RawTuple } from '../engine/event.js';
import { macHex } from './strings.js';

/** Bounded memo for resolver lookups that are asked about the same values over and over. */
export class Memo<K, V> {
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

/** Remembers the text made for the last tuple seen; saves most address formatting. */
export class LastTuple {
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
export class LastMac {
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
