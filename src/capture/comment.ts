/**
 * The standard per-packet comment of pktpath's pcapng files: what the kernel did with the
 * packet, in a few opt_comment lines that Wireshark shows as packet comments and
 * `tshark -T fields -e frame.comment` prints. One aspect per comment, each starting with
 * a fixed word (pktpath, path, netfilter, drop, finding), so a display filter such as
 * `frame.comment contains "drop:"` finds the dropped packets.
 */

export interface StoryStep {
  readonly probe: string;
  readonly netns: string;
  readonly dev: string;
  /** time since the packet's first step, ns */
  readonly dtNs: number;
}

export interface StoryNetfilter {
  /** pf.table.chain, e.g. ip.filter.INPUT */
  readonly hook: string;
  readonly verdict: string;
  readonly rule: string | null;
}

export interface PacketStory {
  /** the packet as pktpath prints it, e.g. "tcp 10.0.0.1:40000 -> 10.0.0.2:8080 [S]" */
  readonly summary: string;
  /** where this copy was taken: the step whose bytes these are */
  readonly at: StoryStep & { readonly event?: number };
  /** every step of the packet's life in the trace, in order */
  readonly path: readonly StoryStep[];
  readonly netfilter?: readonly StoryNetfilter[];
  readonly drop?: { readonly reason: string; readonly location: string } | null;
  readonly finding?: { readonly id: string; readonly level: string; readonly text: string } | null;
}

/** Steps written in the path comment; the rest are counted. */
export const PATH_STEPS = 32;
/** opt_comment holds at most 65535 bytes; keep each line readable well below it. */
export const MAX_LINE = 4000;

function clip(s: string): string {
  return s.length <= MAX_LINE ? s : `${s.slice(0, MAX_LINE - 3)}...`;
}

/** The time since the packet's first step, as the path comment writes it (+800ns, +1.2us, +3.45ms). */
export function dtText(ns: number): string {
  return ns < 1e3 ? `+${Math.round(ns)}ns` : ns < 1e6 ? `+${Math.round(ns / 100) / 10}us` : `+${Math.round(ns / 1e4) / 100}ms`;
}

export function pathText(path: readonly StoryStep[]): string {
  let place = '';
  const parts = path.slice(0, PATH_STEPS).map((s, i) => {
    const here = `${s.netns}/${s.dev}`;
    const where = here !== place ? ` [${here}]` : '';
    place = here;
    return `${s.probe}${where}${i > 0 ? ` ${dtText(s.dtNs)}` : ''}`;
  });
  const more = path.length - PATH_STEPS;
  return parts.join(' > ') + (more > 0 ? ` > ... ${more} more` : '');
}

/** The comment lines for one copy of a packet. */
export function packetComments(s: PacketStory): string[] {
  return [vantageComment(s.summary, s.at), ...lifeComments({ ...s, pathLine: s.path.length ? pathText(s.path) : '' })];
}

/** The first line, the one that differs between the copies of a packet: where this copy was taken. */
export function vantageComment(summary: string, at: PacketStory['at']): string {
  const ev = at.event !== undefined ? ` (event ${at.event})` : '';
  return clip(`pktpath: ${summary}; seen at ${at.probe} on ${at.dev} in netns ${at.netns}${ev}`);
}

/** The lines every copy of a packet shares: its path, netfilter steps, drop and finding. */
export function lifeComments(s: Pick<PacketStory, 'netfilter' | 'drop' | 'finding'> & { readonly pathLine: string }): string[] {
  const out: string[] = [];
  if (s.pathLine) out.push(`path: ${s.pathLine}`);
  if (s.netfilter?.length) out.push(`netfilter: ${s.netfilter.map((n) => `${n.hook} ${n.verdict}${n.rule ? ` rule "${n.rule}"` : ''}`).join('; ')}`);
  if (s.drop) out.push(`drop: ${s.drop.reason} at ${s.drop.location}`);
  if (s.finding) out.push(`finding: ${s.finding.id} (${s.finding.level}): ${s.finding.text}`);
  return out.map(clip);
}
