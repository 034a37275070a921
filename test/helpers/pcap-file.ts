/**
 * Classic pcap files for the filter tests: read the corpus, and ask tcpdump which of its
 * packets an expression accepts.
 */
import { spawnSync } from 'node:child_process';

export interface Frame {
  readonly data: Uint8Array;
  /** original length on the wire */
  readonly wirelen: number;
}

/** The records of a little-endian microsecond pcap file (as scapy and tcpdump -w write). */
export function readPcap(file: Uint8Array): Frame[] {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length < 24 || v.getUint32(0, true) !== 0xa1b2c3d4) throw new Error('not a little-endian pcap file');
  const out: Frame[] = [];
  for (let at = 24; at + 16 <= file.length; ) {
    const caplen = v.getUint32(at + 8, true);
    const wirelen = v.getUint32(at + 12, true);
    out.push({ data: file.subarray(at + 16, at + 16 + caplen), wirelen });
    at += 16 + caplen;
  }
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * Indexes (into `frames`, read from `pcapPath`) of the packets `tcpdump -r pcapPath EXPR`
 * accepts. Throws with tcpdump's message when it rejects the expression.
 */
export function tcpdumpAccepts(pcapPath: string, frames: readonly Frame[], expression: string): Set<number> {
  const r = spawnSync('tcpdump', ['-r', pcapPath, '-w', '-', expression], { maxBuffer: 64 << 20, timeout: 30_000 });
  if (r.status !== 0) throw new Error(`tcpdump: ${r.stderr.toString().trim().split('\n').pop()}`);
  const byBytes = new Map(frames.map((f, i) => [hex(f.data), i]));
  const out = new Set<number>();
  for (const f of readPcap(new Uint8Array(r.stdout))) {
    const i = byBytes.get(hex(f.data));
    if (i === undefined) throw new Error('tcpdump wrote a packet that is not in the corpus');
    out.add(i);
  }
  return out;
}
