/**
 * A diagnosis written into the pcapng file pktpath made (diagnose -w): each packet that is
 * evidence of a finding gets one more opt_comment, "pktpath finding 2 [tcp.no-listener]
 * error: ...", and the Section Header Block gets the verdict and the list of findings as
 * its comments (capinfos and Wireshark's capture file properties show them).
 *
 * Findings are known only when the run ends, after its packets were written. The file is
 * rewritten then, block by block (io/pcapng-out.ts), rather than its packets held back:
 * the file on disk is a whole capture all along (a killed run still leaves one), and the
 * only memory the findings cost is the event -> packet index of TracePcapng (4 bytes an
 * event, bounded) and one block at a time. Pure: blocks in, blocks out. Reads only the
 * little-endian files PcapngWriter writes.
 */
import type { Finding, Report } from '../diagnose/model.js';
import { BLOCK, BYTE_ORDER_MAGIC, OPT } from './format.js';

/** The largest block the rewrite takes: pktpath's own are far smaller (snaplen 4096 and a few comments). */
export const MAX_BLOCK = 4 * 1024 * 1024;
/** opt_comment holds at most 65535 bytes. */
const MAX_COMMENT = 4000;

function clip(s: string): string {
  return s.length <= MAX_COMMENT ? s : `${s.slice(0, MAX_COMMENT - 3)}...`;
}

/** The comment a packet that is evidence of finding `f` gets. */
export function findingComment(f: Pick<Finding, 'n' | 'rule' | 'level' | 'verdict'>): string {
  return clip(`pktpath finding ${f.n} [${f.rule}] ${f.level}: ${f.verdict}`);
}

/** The section's comments: the verdict, then each finding's line and how many packets are its evidence. */
export function sectionComments(report: Pick<Report, 'verdict' | 'findings'>, packets: ReadonlyMap<number, number>): string[] {
  const out = [clip(`pktpath diagnosis: ${report.verdict.text}`)];
  for (const f of report.findings) {
    const m = packets.get(f.n) ?? 0;
    const where = m ? ` (evidence: ${m} packet${m === 1 ? '' : 's'}, frame.comment contains "pktpath finding ${f.n} ")` : ' (no packet of this file is its evidence)';
    // the same line as its packets carry, so one search finds both
    out.push(clip(`${findingComment(f)}${where}`));
  }
  return out;
}

/** What each packet id gets (one comment per finding it is evidence of, in finding order), and how many packets each finding has. */
export function notesByPacket(findings: readonly Finding[], packetOf: (event: number) => number | undefined): { notes: Map<number, string[]>; packets: Map<number, number> } {
  const notes = new Map<number, string[]>();
  const packets = new Map<number, number>();
  for (const f of findings) {
    const line = findingComment(f);
    for (const e of f.evidence) {
      const id = packetOf(e.n);
      if (id === undefined) continue;
      const list = notes.get(id) ?? [];
      if (list.includes(line)) continue;
      list.push(line);
      notes.set(id, list);
      packets.set(f.n, (packets.get(f.n) ?? 0) + 1);
    }
  }
  return { notes, packets };
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** `block` with comment options added, at the start of its options or just before opt_endofopt. */
function withComments(block: Buffer, optsAt: number, comments: readonly string[], first: boolean): Buffer {
  const end = block.length - 4;
  let optsEnd = optsAt; // where opt_endofopt (or the trailing length) is
  while (optsEnd + 4 <= end && block.readUInt16LE(optsEnd) !== OPT.endofopt) optsEnd += 4 + pad4(block.readUInt16LE(optsEnd + 2));
  const added = comments.map((c) => {
    const v = Buffer.from(c, 'utf8');
    const o = Buffer.alloc(4 + pad4(v.length));
    o.writeUInt16LE(OPT.comment, 0);
    o.writeUInt16LE(v.length, 2);
    v.copy(o, 4);
    return o;
  });
  const own = block.subarray(optsAt, Math.min(optsEnd, end));
  const parts = [block.subarray(0, optsAt), ...(first ? [...added, own] : [own, ...added]), Buffer.alloc(8)];
  const out = Buffer.concat(parts);
  out.writeUInt32LE(out.length, 4);
  out.writeUInt32LE(out.length, out.length - 4);
  return out;
}

/** The epb_packetid of an EPB, or undefined. */
export function packetIdOf(block: Buffer): bigint | undefined {
  const end = block.length - 4;
  let at = 28 + pad4(block.readUInt32LE(20));
  while (at + 4 <= end) {
    const code = block.readUInt16LE(at);
    const len = block.readUInt16LE(at + 2);
    if (code === OPT.endofopt) return undefined;
    if (code === OPT.epb_packetid && len === 8 && at + 12 <= end) return block.readBigUInt64LE(at + 4);
    at += 4 + pad4(len);
  }
  return undefined;
}

/** Rewrites one block: the SHB gets the section's comments, an EPB the notes of its packet id. */
export class Annotator {
  /** packet copies that got a finding's comment */
  marked = 0;

  constructor(
    private readonly notes: ReadonlyMap<number, readonly string[]>,
    private readonly section: readonly string[],
  ) {}

  block(b: Buffer): Buffer {
    const type = b.readUInt32LE(0);
    if (type === BLOCK.SHB) {
      if (b.readUInt32LE(8) !== BYTE_ORDER_MAGIC) throw new Error('not a little-endian pcapng section (not written by pktpath)');
      return this.section.length ? withComments(b, 24, this.section, true) : b;
    }
    if (type !== BLOCK.EPB) return b;
    const id = packetIdOf(b);
    const notes = id !== undefined ? this.notes.get(Number(id)) : undefined;
    if (!notes?.length) return b;
    this.marked++;
    return withComments(b, 28 + pad4(b.readUInt32LE(20)), notes, false);
  }
}

/** Cuts a byte stream into whole pcapng blocks (little-endian), one bounded block at a time. */
export class BlockSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private offset = 0;

  /** The whole blocks `chunk` completes. */
  push(chunk: Buffer): Buffer[] {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    while (buf.length >= 8) {
      const len = buf.readUInt32LE(4);
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) throw new Error(`corrupt pcapng: block of length ${len} at byte ${this.offset}`);
      if (buf.length < len) break;
      out.push(buf.subarray(0, len));
      buf = buf.subarray(len);
      this.offset += len;
    }
    this.pending = Buffer.from(buf);
    return out;
  }

  /** Throws when the stream ended inside a block. */
  end(): void {
    if (this.pending.length) throw new Error(`corrupt pcapng: ${this.pending.length} bytes of a cut block at byte ${this.offset}`);
  }
}
