/**
 * Fixtures of the formatter tests (src/output/*.test.ts): a resolver whose probe extras come
 * from the shipped probe catalogue, and a Mytracer-like event to vary.
 */
import type { ProbeField } from '../../src/engine/catalog.js';
import type { RawEvent, RawTuple } from '../../src/engine/event.js';
import { EV_HAS_TUPLE } from '../../src/engine/event.js';
import { catalog } from '../../src/engine/io/catalog.js';
import type { Resolver } from '../../src/output/resolver.js';
import { parseAddr } from '../../src/shared/addr.js';

export const PROBES: Record<number, string> = {
  3: 'netif_receive_skb', 5: 'qdisc_enqueue', 6: 'qdisc_dequeue', 8: 'net_dev_xmit', 9: 'fib_table_lookup',
  11: 'tcp_send_reset', 14: 'icmp_send', 15: 'kfree_skb', 99: 'we"ird',
};
export const MONO0 = 1_000_000_000_000n; // 1000 s after boot
export const WALL0 = BigInt(Date.UTC(2022, 10, 4, 10, 26, 26)) * 1_000_000n; // 2022-11-04 10:26:26 UTC

/** A probe's extras as the catalogue describes them ([] for a probe it does not list). */
export function catalogFields(name: string | undefined): readonly ProbeField[] {
  return catalog().tracepoints.find((t) => t.name === name)?.info ?? [];
}

export function resolver(names: Map<number, string> = new Map([[4026533234, 'pod-a']])): Resolver & { netnsAsks: number } {
  const r = {
    netnsAsks: 0,
    probeName: (id: number) => PROBES[id] ?? `probe${id}`,
    probeFields: (id: number) => catalogFields(PROBES[id]),
    dropReason: (v: number) => (v === 2 ? 'NO_SOCKET' : String(v)),
    symbol: (a: bigint) => (a === 0xffffffff81000010n ? 'tcp_v4_rcv+0x6d3' : a === 0xffffffff81000020n ? 'ip_rcv+0x3d' : '0x' + a.toString(16)),
    netnsName(inode: number) {
      r.netnsAsks++;
      return names.get(inode);
    },
    wallClockNs: (mono: bigint) => mono - MONO0 + WALL0,
  };
  return r;
}

export const addr = (s: string): Uint8Array => parseAddr(s)!.bytes;

export function tcp(over: Partial<RawTuple> = {}): RawTuple {
  return {
    family: 4, saddr: addr('192.168.88.154'), daddr: addr('192.168.40.230'), sport: 34060, dport: 8080,
    l3proto: 0x0800, l4proto: 6, tcpFlags: 0x02, icmpType: 0, icmpCode: 0, icmpId: 0, ...over,
  };
}

export function ev(over: Partial<RawEvent> = {}): RawEvent {
  return {
    tsNs: MONO0 + 103_401_000n, skb: 0xffff9fdef19eb600n, location: 0n, netns: 4026531992, ifindex: 2,
    mark: 0, len: 60, pid: 0, dropReason: 0, aux: 0, aux2: 0, probe: 3, cpu: 1, pktType: 0,
    flags: EV_HAS_TUPLE, dstMac: Uint8Array.from([0x00, 0x16, 0x3e, 0x0c, 0xb8, 0x38]), ifname: 'eth1',
    comm: 'swapper/1', tuple: tcp(), stack: null, ...over,
  };
}
