/**
 * Kernel stacks from bpf_get_stack start inside the tracing machinery (the BPF
 * program, bpf_trace_run*, __bpf_trace_*, trace_* wrappers). Users want the stack
 * from the first real kernel function: the one that hit the tracepoint.
 */

const MACHINERY = /^(bpf_trace_run\d+|__bpf_trace_|__traceiter_|bpf_prog_|__bpf_prog_enter|bpf_trampoline_|perf_trace_|trace_event_raw_event_|0x)/;

/**
 * Drops the leading frames that belong to the tracer. `name` gives a frame's symbol
 * name ("0x..." when unknown). Keeps the stack whole if every frame looks like machinery.
 */
export function trimTracerFrames(stack: readonly bigint[], name: (addr: bigint) => string): bigint[] {
  let i = 0;
  while (i < stack.length && MACHINERY.test(name(stack[i]!))) i++;
  return i === stack.length ? [...stack] : stack.slice(i);
}
