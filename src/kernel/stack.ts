/**
 * Kernel stacks from bpf_get_stack start inside the tracing machinery (the BPF program,
 * bpf_trace_run*, __bpf_trace_*, trace_* wrappers). Users want the stack from the first
 * real kernel function: the one that hit the tracepoint, or the traced function.
 *
 * Further down, tracing leaves frames of its own wherever a traced function is still
 * running: with fexit (or a fentry that calls the function back), the function runs from
 * its BPF trampoline, so the stack shows the trampoline (bpf_trampoline_*, or an unnamed
 * address) and then the function again at its patched entry ("__ip_queue_xmit+0x9");
 * return probes (kretprobe, kprobe sessions) swap return addresses for their trampoline.
 * Those are pktpath's, not the packet's path: they go too.
 */

const MACHINERY = /^(bpf_trace_run\d+|__bpf_trace_|__traceiter_|bpf_prog_|__bpf_prog_enter|bpf_trampoline_|perf_trace_|trace_event_raw_event_|0x)/;
/** Frames of a trampoline or return probe, anywhere in the stack. */
const TRAMPOLINE = /^(bpf_trampoline_\d+|bpf_prog_[0-9a-f]+_|__bpf_prog_(enter|exit)|arch_rethook_trampoline|__kretprobe_trampoline|rethook_trampoline_handler|ftrace_trampoline|return_to_handler)/;
/** A function's patched entry (the call to its trampoline: endbr64 + call, or the call alone). */
const ENTRY_SITE_MAX = 0x10;

/** "name+0xoff [mod]" -> name and offset; null for an unnamed address ("0x..."). */
function parse(frame: string): { name: string; offset: number } | null {
  const m = /^([^\s+]+)\+0x([0-9a-f]+)/.exec(frame);
  return m ? { name: m[1]!, offset: Number.parseInt(m[2]!, 16) } : null;
}

/**
 * Drops the leading frames that belong to the tracer, and the trampoline frames below:
 * a named trampoline, or an unnamed address followed by a function at its patched entry
 * (which goes with it). `name` gives a frame's symbol ("func+0xoff", "0x..." when
 * unknown). Keeps the stack whole if every frame looks like machinery.
 */
export function trimTracerFrames(stack: readonly bigint[], name: (addr: bigint) => string): bigint[] {
  let i = 0;
  while (i < stack.length && MACHINERY.test(name(stack[i]!))) i++;
  if (i === stack.length) return [...stack];
  const out: bigint[] = [stack[i]!];
  for (let j = i + 1; j < stack.length; j++) {
    const frame = name(stack[j]!);
    const named = TRAMPOLINE.test(frame);
    if (!named && !frame.startsWith('0x')) {
      out.push(stack[j]!);
      continue;
    }
    const next = j + 1 < stack.length ? parse(name(stack[j + 1]!)) : null;
    if (next && next.offset <= ENTRY_SITE_MAX) j++; // the function's patched entry the trampoline returns to
    else if (!named) out.push(stack[j]!); // an unnamed address that is no trampoline of ours
  }
  return out;
}
