/**
 * The places of a -w run: a probe at a device in a network namespace, as a small number.
 * A packet's life is a few places; every event names one by three numbers (probe id,
 * namespace inode, ifindex), and a run meets few, so the numbers are looked up in a small
 * direct-mapped cache before a Map, and the names (probe, namespace, device) are made once
 * per place, not per event.
 */
import type { Direction } from './pcapng.js';
import { hash3 } from '../shared/hash.js';
import { fragment } from './comment-bytes.js';
import type { Fragment } from './comment-bytes.js';

/** Probes where a device receives the packet, and where it hands it to a device. */
const IN = new Set(['netif_receive_skb', 'napi_gro_receive_entry', 'netif_rx']);
const OUT = new Set(['net_dev_queue', 'net_dev_start_xmit', 'net_dev_xmit', 'qdisc_enqueue', 'qdisc_dequeue']);
/** Probes that end an skb's life. */
const END = new Set(['kfree_skb', 'consume_skb']);

export function directionOf(probe: string): Direction | null {
  return IN.has(probe) ? 'in' : OUT.has(probe) ? 'out' : null;
}

export interface PlaceNames {
  probeName(id: number): string;
  /** the namespace's name, else undefined (its inode is written) */
  netnsName(inode: number): string | undefined;
}

export interface Place {
  readonly probe: string;
  readonly netns: string;
  /** '' when the skb has no device */
  readonly dev: string;
  readonly ifindex: number;
  readonly dir: Direction | null;
  /** the probe ends the skb's life */
  readonly end: boolean;
  /** the (namespace, device) part, as a number: places with the same one are the same vantage point */
  readonly where: number;
  /**
   * As UTF-8 (comment-bytes.ts): the place in a path comment where the packet arrives at it,
   * "probe [netns/dev]" ('-' for no device); the probe alone; and a copy's "; seen at probe
   * on dev in netns netns (event ".
   */
  readonly labelBytes: Fragment;
  readonly probeBytes: Fragment;
  readonly seenAt: Fragment;
}

const CACHE = 256;

export class Places {
  private readonly byKey = new Map<string, number>();
  private readonly wheres = new Map<string, number>();
  readonly list: Place[] = [];
  // the cache: probe, namespace and ifindex of the place in each slot, and its id (-1: empty)
  private readonly cProbe = new Int32Array(CACHE);
  private readonly cNetns = new Uint32Array(CACHE);
  private readonly cIfindex = new Uint32Array(CACHE);
  private readonly cId = new Int32Array(CACHE).fill(-1);

  constructor(private readonly names: PlaceNames) {}

  /** The id of a probe at a device (ifindex, named ifname) in a namespace (inode). */
  id(probe: number, netns: number, ifindex: number, ifname: string): number {
    const slot = hash3(probe, netns, ifindex) & (CACHE - 1);
    const cached = this.cId[slot]!;
    if (cached >= 0 && this.cProbe[slot] === probe && this.cNetns[slot] === netns && this.cIfindex[slot] === ifindex) return cached;
    const id = this.lookup(probe, netns, ifindex, ifname);
    this.cProbe[slot] = probe;
    this.cNetns[slot] = netns;
    this.cIfindex[slot] = ifindex;
    this.cId[slot] = id;
    return id;
  }

  private lookup(probe: number, netns: number, ifindex: number, ifname: string): number {
    const key = `${probe}/${netns}/${ifindex}/${ifname}`;
    let id = this.byKey.get(key);
    if (id !== undefined) return id;
    const name = this.names.probeName(probe);
    const ns = this.names.netnsName(netns) ?? String(netns);
    const whereKey = `${ns}\0${ifname}`;
    let where = this.wheres.get(whereKey);
    if (where === undefined) this.wheres.set(whereKey, (where = this.wheres.size));
    id = this.list.length;
    const dev = ifname || '-';
    const seenAt = fragment(`; seen at ${name} on ${dev} in netns ${ns} (event `);
    this.list.push({ probe: name, netns: ns, dev: ifname, ifindex, dir: directionOf(name), end: END.has(name), where, labelBytes: fragment(`${name} [${ns}/${dev}]`), probeBytes: fragment(name), seenAt });
    this.byKey.set(key, id);
    return id;
  }
}
