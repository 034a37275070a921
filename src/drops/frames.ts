/**
 * A drop's stack as a user reads it: without the tracer's frames (src/kernel/stack.ts
 * trims them first; what it leaves when a BPF frame is named after a neighbour in the
 * [bpf] area goes here) nor the freeing functions every drop passes (kfree_skb and its
 * wrappers), so the first frame is the code that decided to drop. Pure.
 */
const FREEING = /^(sk_skb_reason_drop|kfree_skb|__kfree_skb|kfree_skb_reason|kfree_skb_list_reason|__kfree_skb_reason|kfree_skb_partial)(\+0x[0-9a-f]+)?( \[\w+\])?$/;
const TRACER = /( \[bpf\]$|^(bpf_trace_run\d+|__bpf_trace_|__traceiter_))/;

/** Drops the leading tracer and freeing frames; keeps the stack whole if nothing else is left. */
export function trimFreeingFrames(frames: readonly string[]): string[] {
  let i = 0;
  while (i < frames.length && (FREEING.test(frames[i]!) || TRACER.test(frames[i]!))) i++;
  return i === frames.length ? [...frames] : frames.slice(i);
}
