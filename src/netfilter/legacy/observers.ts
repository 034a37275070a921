/**
 * The iptables-legacy path from BPF netfilter observers.
 *
 * nft trace does not see x_tables (iptables-legacy) rules. On kernels with BPF netfilter
 * hook programs (6.4+) pktpath hooks a program that only looks (and always accepts) just
 * before and just after each legacy table at each hook it registers, at the table's fixed
 * priority -1 and +1 (one spot serves as "after" one table and "before" the next when
 * none of the kernel's own hooks lies between them). For a traced packet:
 *
 *   seen before table T and after it     -> T let it through: `<pf>.T.<CHAIN>.ACCEPT`
 *   seen before T, not after, then a kfree_skb with NETFILTER_DROP -> T dropped it
 *
 * The rule behind a step comes from the counters (src/netfilter/io/legacy-counters.ts). The nat table is
 * only consulted for a tracked packet whose NAT is not yet set up (the first packet of a
 * connection): the observer before it reports the conntrack status, and other packets
 * get no nat step.
 *
 * The kernel refuses a BPF hook at a priority another hook already has (EBUSY: two
 * pktpath runs, or another tool): a spot then moves away from its table, one step at a
 * time, up to PRIORITY_TRIES (tables are at least 50 apart).
 * Pure: planning and decoding only; src/netfilter/io/path.ts attaches.
 */
import type { RawEvent } from '../../engine/event.js';
import type { NfHook } from '../model.js';
import { BUILTIN_HOOK } from './iptsave.js';

export type LegacyFamily = 'ipv4' | 'ipv6';

/** NF_INET_* hook numbers, in order. */
export const NF_INET_HOOKS: readonly NfHook[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];

/** The x_tables builtin chain of each hook (the inverse of BUILTIN_HOOK). */
export const HOOK_CHAIN: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(BUILTIN_HOOK).map(([chain, hook]) => [hook, chain]));

/** NFPROTO_* of each family. */
export const NFPROTO: Readonly<Record<LegacyFamily, 2 | 10>> = { ipv4: 2, ipv6: 10 };

/**
 * Where each x_tables table hooks in, and at which priority (enum nf_ip_hook_priorities
 * and nf_ip6_hook_priorities: the same numbers for both families). nat hooks at DNAT
 * priority (-100) before routing and at SNAT priority (100) after it.
 */
export const LEGACY_TABLE_HOOKS: Readonly<Record<string, Readonly<Partial<Record<NfHook, number>>>>> = {
  raw: { prerouting: -300, output: -300 },
  mangle: { prerouting: -150, input: -150, forward: -150, output: -150, postrouting: -150 },
  nat: { prerouting: -100, output: -100, input: 100, postrouting: 100 },
  filter: { input: 0, forward: 0, output: 0 },
  security: { input: 50, forward: 50, output: 50 },
};

/** Observer programs in the BPF object (nf_obs_0 .. nf_obs_9): two per table, five tables at most per hook. */
export const OBSERVER_SLOTS = 10;

/** How far (in priority steps) a spot may move away from its table when its priority is taken. */
export const PRIORITY_TRIES = 8;

/** The priorities to try for a spot, nearest its table first (a spot after a table moves up). */
export function priorityCandidates(spot: ObserverSpot): number[] {
  const dir = spot.after !== null ? 1 : -1;
  return Array.from({ length: PRIORITY_TRIES }, (_, k) => spot.priority + dir * k);
}

/**
 * Priorities of the kernel's own hooks that may sit between two legacy tables (enum
 * nf_ip_hook_priorities): defrag, SELinux, conntrack, conntrack helpers. (Others, such as
 * IPVS, are rare; a drop after a shared spot is told only when counters confirm it.)
 * Where one lies between two tables, each table gets its own spot on that side, so a
 * drop there is not put on a table.
 */
export const KERNEL_HOOK_PRIORITIES: readonly number[] = [-400, -225, -200, 225, 300];

/**
 * One observer position at one hook: just after one table (a packet seen here left it
 * alive), just before the next (a packet seen here entered it), or both when nothing of
 * the kernel's own lies between the two tables.
 */
export interface ObserverSpot {
  readonly family: LegacyFamily;
  readonly pf: 2 | 10;
  readonly hook: NfHook;
  /** NF_INET_* number */
  readonly hookNum: number;
  /** the table this spot follows, or null */
  readonly after: string | null;
  /** the table this spot precedes, or null */
  readonly before: string | null;
  /** the spot sits right before its table (priority - 1): nothing else can drop in between */
  readonly exact: boolean;
  readonly priority: number;
  /** which program (nf_obs_<slot>); unique per (pf, hook) */
  readonly slot: number;
}

/** The spots for the legacy tables a namespace has (from /proc/net/ip{,6}_tables_names). */
export function planObservers(tables: Readonly<Record<LegacyFamily, readonly string[]>>): ObserverSpot[] {
  const out: ObserverSpot[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const known = tables[family].filter((t) => t in LEGACY_TABLE_HOOKS);
    for (const [hookNum, hook] of NF_INET_HOOKS.entries()) {
      const here = known
        .map((table) => ({ table, prio: LEGACY_TABLE_HOOKS[table]![hook] }))
        .filter((x): x is { table: string; prio: number } => x.prio !== undefined)
        .sort((a, b) => a.prio - b.prio);
      const base = { family, pf: NFPROTO[family], hook, hookNum };
      let slot = 0;
      here.forEach(({ table, prio }, i) => {
        const prev = here[i - 1];
        // merged with the spot after the previous table when nothing lies between
        const merged = prev !== undefined && !KERNEL_HOOK_PRIORITIES.some((k) => k > prev.prio && k < prio);
        if (!merged) out.push({ ...base, after: null, before: table, exact: true, priority: prio - 1, slot: slot++ });
        const next = here[i + 1];
        const mergeNext = next !== undefined && !KERNEL_HOOK_PRIORITIES.some((k) => k > prio && k < next.prio);
        out.push({ ...base, after: table, before: mergeNext ? next.table : null, exact: false, priority: prio + 1, slot: slot++ });
      });
    }
  }
  return out;
}

/** A legacy table step: the `nf` of an event, rule still to be named. */
export interface LegacyStep {
  pf: 2 | 10;
  family: LegacyFamily;
  table: string;
  chain: string;
  hook: NfHook;
  verdict: 'ACCEPT' | 'DROP';
  /** the device the observer before the table saw (a drop's own event has none) */
  ifname: string;
  ifindex: number;
  /** the packet as it entered the table (NAT may change it inside) */
  tuple: RawEvent['tuple'];
  /**
   * The observer before the table sat right before it. When false, a gap without kernel
   * hooks back to the previous table lies in between too: an nftables chain there could
   * have dropped the packet, so a DROP is only told when the table's counters confirm it.
   */
  exact: boolean;
}

/* struct nf_conn status bits (enum ip_conntrack_status) */
const IPS_SRC_NAT_DONE = 1n << 7n;
const IPS_DST_NAT_DONE = 1n << 8n;
const CT_TRACKED = 1n << 63n;

/** Whether the nat table will be consulted at `hook` for a packet with this conntrack word (event.location). */
export function natConsulted(hook: NfHook, ctWord: bigint): boolean {
  if (!(ctWord & CT_TRACKED)) return false; // no conntrack entry: NAT lets it pass untouched (conntrack is off in the namespace until a NAT rule needs it)
  const done = hook === 'prerouting' || hook === 'output' ? IPS_DST_NAT_DONE : IPS_SRC_NAT_DONE;
  return (ctWord & done) === 0n;
}

const MAX_PENDING = 65_536;

/**
 * Turns observer events into table steps. Feed every observer event to observe(), and
 * every skb free (kfree_skb / consume_skb) to freed().
 *
 * @example
 *   const tr = new LegacyPathTracker();
 *   tr.setSpots(netnsInode, planObservers({ ipv4: ['filter'], ipv6: [] }));
 *   tr.observe(ev)   // after-spot: {table: 'filter', chain: 'OUTPUT', verdict: 'ACCEPT', ...}
 *   tr.freed(drop, 'NETFILTER_DROP')   // before-spot seen, after not: the DROP step
 */
export class LegacyPathTracker {
  private readonly spots = new Map<string, ObserverSpot>();
  /** skb -> the table it entered (before-spot seen, after-spot not yet) */
  private readonly pending = new Map<bigint, Entered>();

  /** The spots attached in one namespace (replaces what was there). */
  setSpots(netns: number, spots: readonly ObserverSpot[]): void {
    for (const k of [...this.spots.keys()]) if (k.startsWith(`${netns}/`)) this.spots.delete(k);
    for (const s of spots) this.spots.set(`${netns}/${s.pf}/${s.hookNum}/${s.slot}`, s);
  }

  get size(): number {
    return this.spots.size;
  }

  /** The spot an observer event came from (aux = hook, aux2 = slot, aux3 = pf), or undefined. */
  spotOf(ev: RawEvent): ObserverSpot | undefined {
    return this.spots.get(`${ev.netns}/${ev.aux3 ?? 0}/${ev.aux}/${ev.aux2}`);
  }

  /** An observer event: the ACCEPT step it proves, or null (a before-spot, or nat not consulted). */
  observe(ev: RawEvent): LegacyStep | null {
    const spot = this.spotOf(ev);
    if (!spot) return null;
    let step: LegacyStep | null = null;
    const p = this.pending.get(ev.skb);
    if (p) {
      this.pending.delete(ev.skb);
      if (spot.after !== null && p.table === spot.after && p.spot.hook === spot.hook && p.spot.pf === spot.pf) step = stepOf(p, 'ACCEPT');
    }
    if (spot.before !== null && (spot.before !== 'nat' || natConsulted(spot.hook, ev.location))) {
      if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!); // oldest first
      this.pending.set(ev.skb, { netns: ev.netns, spot, table: spot.before, ifname: ev.ifname, ifindex: ev.ifindex, tuple: ev.tuple });
    }
    return step;
  }

  /**
   * An skb was freed. With reason NETFILTER_DROP while it was inside a legacy table, that
   * table dropped it: the DROP step. Otherwise null.
   */
  freed(ev: RawEvent, reason: string | null): LegacyStep | null {
    const p = this.pending.get(ev.skb);
    if (!p) return null;
    this.pending.delete(ev.skb);
    return reason === 'NETFILTER_DROP' ? stepOf(p, 'DROP') : null;
  }

  /** Whether observers are attached in this namespace. */
  watches(netns: number): boolean {
    for (const k of this.spots.keys()) if (k.startsWith(`${netns}/`)) return true;
    return false;
  }
}

/** What the observer before a table saw. */
interface Entered {
  netns: number;
  spot: ObserverSpot;
  /** the table entered */
  table: string;
  ifname: string;
  ifindex: number;
  tuple: RawEvent['tuple'];
}

function stepOf(e: Entered, verdict: 'ACCEPT' | 'DROP'): LegacyStep {
  const { spot } = e;
  return {
    pf: spot.pf,
    family: spot.family,
    table: e.table,
    chain: HOOK_CHAIN[spot.hook]!,
    hook: spot.hook,
    verdict,
    ifname: e.ifname,
    ifindex: e.ifindex,
    tuple: e.tuple,
    exact: spot.exact,
  };
}
