/**
 * Which reader a capture needs, from its first bytes: pcap (four magics, two byte
 * orders) or pcapng (a section header block). Anything else is named as well as we can
 * (a gzip'd capture, an empty file) in one line.
 */
import { BLOCK, PCAP_MAGIC } from './format.js';
import { PcapParser } from './read-pcap.js';
import { PcapngParser } from './read-pcapng.js';
import { CaptureError } from './records.js';
import type { CaptureSink, RecordParser } from './records.js';

const PCAP_MAGICS = new Set<number>(Object.values(PCAP_MAGIC));

/** Bytes detect() wants to look at (fewer only when the file is that short). */
export const DETECT_BYTES = 4;

/** A reader for the capture whose first bytes are `head`; `name` prefixes its errors. */
export function detect(head: Buffer, name: string, sink: CaptureSink): RecordParser {
  if (head.length === 0) throw new CaptureError(`${name}: empty file, not a capture`);
  if (head.length < 4) throw new CaptureError(`${name}: ${head.length} bytes, too short to be a capture`);
  const magic = head.readUInt32LE(0);
  if (PCAP_MAGICS.has(magic)) return new PcapParser(sink, name);
  if (magic === BLOCK.SHB) return new PcapngParser(sink, name);
  if (head[0] === 0x1f && head[1] === 0x8b) throw new CaptureError(`${name}: gzip-compressed; decompress it first (gunzip -k)`);
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) throw new CaptureError(`${name}: zstd-compressed; decompress it first (zstd -d)`);
  throw new CaptureError(`${name}: not a pcap or pcapng capture (it starts with ${head.subarray(0, 4).toString('hex')})`);
}
