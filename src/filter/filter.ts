/**
 * A pcap-filter(7) expression, made into what the probes run: libpcap compiles it twice
 * (Ethernet, for skbs with their link-layer header, and raw IP, for skbs that have only
 * a network header yet), each program is checked against what a probe can give and
 * translated into the body of its placeholder function in bpf/pcap.h.
 */
import { UsageError } from '../shared/errors.js';
import { decodeCbpf } from './cbpf.js';
import { analyze, Refusal } from './bounds.js';
import { rejectAll, translate, TooLarge } from './translate.js';

/** DLT_EN10MB and DLT_RAW (Linux numbering). */
export const LINKTYPE = { ethernet: 1, raw: 12 } as const;
export type LinkType = (typeof LINKTYPE)[keyof typeof LINKTYPE];

/** The placeholder functions in bpf/pcap.h. */
export const PLACEHOLDER = { l2: 'pp_pcap_l2', l3: 'pp_pcap_l3' } as const;
/** Bytes of packet a probe copies at most (PP_PCAP_WIN in bpf/pcap.h). */
export const WINDOW = 512;

/** libpcap's compiler: classic BPF bytes, or a throw with libpcap's message. */
export type PcapCompile = (expression: string, linktype: LinkType) => Uint8Array;

export interface CompiledFilter {
  readonly expression: string;
  /** placeholder bodies by function name, for splice() */
  readonly bodies: Readonly<Record<string, Uint8Array>>;
  /** bytes from the link-layer header the Ethernet form reads */
  readonly needL2: number;
  /** bytes from the network header the raw-IP form reads (at least its version byte) */
  readonly needL3: number;
  /** set when skbs without a link-layer header never match, and why */
  readonly l3Unavailable?: string;
}

/**
 * `ether[...]` and its aliases read link-layer bytes by offset. libpcap compiles them for
 * raw IP too, reading the network header instead: such an expression has no raw-IP form.
 */
const LINK_BYTES = /\b(?:ether|link|ppp|slip|fddi|tr|wlan)\s*\[/;

function variant(prog: Uint8Array, slots: number): { body: Uint8Array; need: number } {
  const insns = decodeCbpf(prog);
  const analysis = analyze(insns, WINDOW);
  return { body: translate(insns, analysis, slots, WINDOW), need: analysis.need };
}

function refused(expression: string, err: unknown): never {
  if (err instanceof Refusal || err instanceof TooLarge) {
    throw new UsageError(`cannot run "${expression}" at a probe: ${err.message}`, { cause: err });
  }
  throw err;
}

/**
 * Compiles and translates `expression` for placeholders of `slots` instructions.
 * @throws whatever `compile` throws for the Ethernet form (libpcap's own message); a
 *   UsageError when a probe cannot run it.
 */
export function compileFilter(expression: string, compile: PcapCompile, slots: { l2: number; l3: number }): CompiledFilter {
  let l2: { body: Uint8Array; need: number };
  try {
    l2 = variant(compile(expression, LINKTYPE.ethernet), slots.l2);
  } catch (err) {
    refused(expression, err);
  }
  let l3: { body: Uint8Array; need: number } | undefined;
  let why: string | undefined;
  try {
    if (LINK_BYTES.test(expression)) throw new Error('it reads link-layer header bytes');
    l3 = variant(compile(expression, LINKTYPE.raw), slots.l3);
  } catch (err) {
    // an expression about the link layer has no raw-IP form: such skbs cannot match it
    why = err instanceof Error ? err.message : String(err);
  }
  return {
    expression,
    bodies: { [PLACEHOLDER.l2]: l2.body, [PLACEHOLDER.l3]: l3?.body ?? rejectAll(slots.l3) },
    needL2: l2.need,
    // the probe checks the IP version in the first byte, so the raw-IP form always reads it
    needL3: Math.max(l3?.need ?? 0, 1),
    ...(why !== undefined ? { l3Unavailable: why } : {}),
  };
}

/** Bodies for a run without an expression: the probes never call them, but the verifier sees them. */
export function noFilterBodies(slots: { l2: number; l3: number }): Record<string, Uint8Array> {
  return { [PLACEHOLDER.l2]: rejectAll(slots.l2), [PLACEHOLDER.l3]: rejectAll(slots.l3) };
}

/** The `struct pp_config` fields (bpf/event.h) for a run with `filter` (or without one). */
export function filterConfig(filter: CompiledFilter | undefined): Record<string, number> {
  if (!filter) return { pcap: 0, pcap_l3: 0, pcap_need_l2: 0, pcap_need_l3: 0 };
  return { pcap: 1, pcap_l3: filter.l3Unavailable === undefined ? 1 : 0, pcap_need_l2: filter.needL2, pcap_need_l3: filter.needL3 };
}
