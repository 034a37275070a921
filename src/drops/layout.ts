/**
 * Byte offsets of `struct pp_drop_key`, `struct pp_drop_val` and `struct pp_drop_sample`
 * (bpf/drops.h). test: src/drops/layout.test.ts compares every entry with the BTF of
 * build/drops.bpf.o.
 */
export const DROP_KEY = {
  size: 32,
  location: 0,
  reason: 8,
  netns: 12,
  ifindex: 16,
  l3proto: 20,
  l4proto: 22,
  stack_id: 24,
} as const;

export const DROP_VAL = {
  size: 24,
  count: 0,
  bytes: 8,
  sample_tat: 16,
} as const;

export const DROP_SAMPLE = {
  size: 112,
  key: 0,
  tuple: 32,
  len: 76,
  has_tuple: 80,
  ifname: 84,
  ts_ns: 104,
} as const;

/** Counters of the per-CPU drop_stats array (PP_DROPS_* in bpf/drops.h). */
export const DROP_STATS = { samples: 0, samplesLost: 1, tableFull: 2, filtered: 3, n: 4 } as const;

/** Frames kept per stack (PP_DROP_STACK_DEPTH). */
export const STACK_DEPTH = 32;
