/**
 * Byte offsets of `struct pp_event` and `struct pp_tuple` (bpf/event.h).
 * test: src/engine/layout.test.ts compares every entry with the compiled object's BTF.
 */
export const EVENT = {
  size: 248,
  ts_ns: 0,
  skb: 8,
  location: 16,
  netns: 24,
  ifindex: 28,
  mark: 32,
  len: 36,
  pid: 40,
  drop_reason: 44,
  aux: 48,
  aux2: 52,
  probe: 56,
  cpu: 58,
  pkt_type: 60,
  flags: 61,
  stack_depth: 62,
  aux3: 63,
  dst_mac: 64,
  cap_len: 70,
  ifname: 72,
  comm: 88,
  tuple: 104,
  aux_addr: 148,
  aux_family: 164,
  bytes_off: 166,
  func_ip: 168,
  pkt: 176,
} as const;

export const TUPLE = {
  size: 44,
  saddr: 0,
  daddr: 16,
  sport: 32,
  dport: 34,
  l3proto: 36,
  l4proto: 38,
  tcp_flags: 39,
  icmp_type: 40,
  icmp_code: 41,
  icmp_id: 42,
} as const;

/** `struct pp_pkt`, the packet fields beyond the tuple (valid: PKT_* bits in event.ts). */
export const PKT = {
  size: 72,
  tcp_seq: 0,
  tcp_ack: 4,
  mtu: 8,
  icmp_mtu: 12,
  tcp_win: 16,
  ip_id: 18,
  gso_size: 20,
  gso_segs: 22,
  ttl: 24,
  valid: 25,
  inner: 28,
} as const;

/** `struct pp_nf_names`, after an event with EV_NAMES. */
export const NF_NAMES = {
  size: 64,
  table: 0,
  chain: 32,
} as const;

/** Sizes of the fixed arrays, for the same check. */
export const SIZES = { ifname: 16, comm: 16, dst_mac: 6, addr: 16, maxStack: 32, maxSnap: 4096 } as const;
