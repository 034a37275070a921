/**
 * The probe catalogue (src/engine/probes.json): which kernel hooks pktpath knows,
 * their ids (shared with bpf/probes.gen.h), stack stage, purpose and what their
 * probe-specific fields (aux, aux2, aux_addr) mean.
 */

export type Stage = 'link-rx' | 'link-tx' | 'qdisc' | 'route' | 'ip' | 'netfilter' | 'tcp' | 'udp' | 'icmp' | 'drop' | 'free' | 'xdp' | 'sock' | 'task';

/**
 * The runs that attach a probe besides the default: "evidence" (diagnose runs, and
 * `trace --evidence`), "track" (runs that follow a command's processes; such a probe
 * emits no events). A probe without an "attach" list is in every trace.
 */
export type AttachWhen = 'evidence' | 'track';
const ATTACH_WHEN: ReadonlySet<string> = new Set<AttachWhen>(['evidence', 'track']);

/** One probe-specific value of an event: where it comes from and how it is shown. */
export type ProbeField =
  | {
      /** the name in text (" key=value") and in JSON ("info": {"key": value}) */
      readonly key: string;
      /** aux3: the event's probe-specific byte */
      readonly src: 'aux' | 'aux2' | 'aux3';
      /**
       * int: signed decimal; u32: unsigned decimal; hex: "0x..." (a JSON string); hi8/lo8: bits 8-15 / 0-7;
       * tcp_state / xdp_act: the name of a TCP state (SYN_SENT...) / an XDP action (REDIRECT...)
       */
      readonly conv: 'int' | 'u32' | 'hex' | 'hi8' | 'lo8' | 'tcp_state' | 'xdp_act';
    }
  /** ev.auxAddr as an address string; left out when the event has none */
  | { readonly key: string; readonly src: 'auxAddr'; readonly conv: 'addr' };

export interface TracepointProbe {
  readonly id: number;
  readonly name: string;
  readonly category: string;
  readonly stage: Stage;
  /** first kernel version with the tracepoint */
  readonly since: string;
  /** what the hook means, in plain words */
  readonly what: string;
  /** the probe's extra values, in the order they are shown; absent when it has none */
  readonly info?: readonly ProbeField[];
  /** the runs that attach it besides the default (absent: every trace) */
  readonly attach?: readonly AttachWhen[];
}

export interface Catalog {
  readonly tracepoints: readonly TracepointProbe[];
  /** the probe ids of function-level events (entry and return); the function comes from func_ip, a return's value is typed from BTF */
  readonly functionProbes: { readonly entry: number; readonly return: number };
  /** the probe id of netfilter observer events (src/netfilter/legacy/observers.ts) */
  readonly netfilterProbes: { readonly observer: number };
}

const FIELD_CONVS: Readonly<Record<string, readonly string[]>> = {
  aux: ['int', 'u32', 'hex', 'hi8', 'lo8', 'tcp_state', 'xdp_act'],
  aux2: ['int', 'u32', 'hex', 'hi8', 'lo8', 'tcp_state', 'xdp_act'],
  aux3: ['u32', 'hex', 'tcp_state', 'xdp_act'],
  auxAddr: ['addr'],
};
/** Keys go into JSON unquoted by the formatter's fast path, so they stay plain identifiers. */
const FIELD_KEY = /^[a-z][a-z0-9_]*$/;

/** Checks one probe's "info" list: known sources, a conversion that fits the source, unique plain keys. */
function checkProbeFields(where: string, info: unknown): void {
  if (info === undefined) return;
  if (!Array.isArray(info)) throw new Error(`probe catalogue: ${where} "info" is not a list`);
  const keys = new Set<string>();
  for (const f of info as { key?: unknown; src?: unknown; conv?: unknown }[]) {
    const convs = typeof f?.src === 'string' ? FIELD_CONVS[f.src] : undefined;
    if (typeof f?.key !== 'string' || !FIELD_KEY.test(f.key)) throw new Error(`probe catalogue: ${where} field key ${JSON.stringify(f?.key)} is not a plain name`);
    if (!convs) throw new Error(`probe catalogue: ${where} field "${f.key}" has unknown src ${JSON.stringify(f.src)}`);
    if (typeof f.conv !== 'string' || !convs.includes(f.conv)) throw new Error(`probe catalogue: ${where} field "${f.key}": conv ${JSON.stringify(f.conv)} does not fit src ${f.src}`);
    if (keys.has(f.key)) throw new Error(`probe catalogue: ${where} field "${f.key}" twice`);
    keys.add(f.key);
  }
}

/** Validates the parsed JSON: unique ids and names, every field present, well-formed extras. */
export function parseCatalog(json: unknown): Catalog {
  const c = json as { tracepoints?: unknown };
  if (!c || !Array.isArray(c.tracepoints)) throw new Error('probe catalogue: "tracepoints" array missing');
  const fp = (c as { functionProbes?: { entry?: unknown; return?: unknown } }).functionProbes;
  if (!fp || typeof fp.entry !== 'number' || typeof fp.return !== 'number') {
    throw new Error('probe catalogue: "functionProbes" {entry, return} missing');
  }
  const np = (c as { netfilterProbes?: { observer?: unknown } }).netfilterProbes;
  if (!np || typeof np.observer !== 'number') throw new Error('probe catalogue: "netfilterProbes" {observer} missing');
  const ids = new Set<number>();
  const names = new Set<string>();
  for (const tp of c.tracepoints as TracepointProbe[]) {
    for (const k of ['id', 'name', 'category', 'stage', 'since', 'what'] as const) {
      if (tp[k] === undefined) throw new Error(`probe catalogue: entry ${JSON.stringify(tp)} lacks "${k}"`);
    }
    if (!Number.isInteger(tp.id) || tp.id <= 0 || tp.id > 0xffff) throw new Error(`probe catalogue: bad id ${tp.id}`);
    if (ids.has(tp.id) || names.has(tp.name)) throw new Error(`probe catalogue: duplicate ${tp.id}/${tp.name}`);
    checkProbeFields(tp.name, tp.info);
    const attach: unknown = tp.attach;
    if (attach !== undefined && (!Array.isArray(attach) || attach.some((a) => !ATTACH_WHEN.has(a as string)))) {
      throw new Error(`probe catalogue: ${tp.name} "attach" ${JSON.stringify(attach)}: expected a list of ${[...ATTACH_WHEN].join(', ')}`);
    }
    ids.add(tp.id);
    names.add(tp.name);
  }
  return c as Catalog;
}

/** id -> name lookup array, for the hot path. */
export function probeNames(c: Catalog): string[] {
  const names: string[] = [];
  for (const tp of c.tracepoints) names[tp.id] = tp.name;
  return names;
}

/** id -> the probe's extra fields (empty when it has none), for the hot path. */
export function probeFieldTable(c: Catalog): (readonly ProbeField[])[] {
  const fields: (readonly ProbeField[])[] = [];
  for (const tp of c.tracepoints) fields[tp.id] = tp.info ?? [];
  return fields;
}

/**
 * The catalogued tracepoints a run attaches: every one without an "attach" list, plus
 * those whose list names evidence (when `evidence`) or track (when `track`).
 */
export function tracepointsFor(c: Catalog, want: { readonly evidence?: boolean; readonly track?: boolean }): string[] {
  return c.tracepoints
    .filter((t) => !t.attach || (want.evidence === true && t.attach.includes('evidence')) || (want.track === true && t.attach.includes('track')))
    .map((t) => t.name);
}

/** The probes only evidence runs attach (diagnose, --evidence): each event is a finding's evidence, never a step on the way. */
export function evidenceProbes(c: Catalog): Set<string> {
  return new Set(c.tracepoints.filter((t) => t.attach?.includes('evidence')).map((t) => t.name));
}
