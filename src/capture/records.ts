/**
 * What the capture readers hand out: packets (one reused object, valid only during the
 * callback: the reader owns the buffer), interfaces and interface statistics. Readers
 * parse complete records from a buffer the caller fills (io/file.ts), so they stay pure
 * and stream: memory is the buffer plus one entry per interface.
 */
import { UsageError } from '../shared/errors.js';
import type { Dir } from './format.js';

/** A capture the readers cannot read: corrupt, truncated, or of a kind they do not know (exit 2). */
export class CaptureError extends UsageError {}

export interface CaptureInterface {
  /** index in the section (pcapng interface id); 0 for pcap */
  readonly id: number;
  readonly linkType: number;
  readonly snaplen: number;
  readonly name: string | null;
  readonly description: string | null;
  /** timestamp units per second (1e6 when if_tsresol is absent) */
  readonly unitsPerSec: number;
  /** if_tsoffset, seconds added to every timestamp */
  readonly tsOffset: number;
  readonly filter: string | null;
  readonly os: string | null;
}

/** A packet record. Fields are overwritten for the next packet: copy what you keep. */
export interface RawPacket {
  /** 1-based frame number, as tshark and Wireshark number them */
  n: number;
  sec: number;
  /** nanoseconds within `sec` */
  nsec: number;
  /** interface (pcapng interface id; 0 for pcap), section-relative */
  iface: number;
  /** which section the interface belongs to (0 for pcap and single-section pcapng) */
  section: number;
  linkType: number;
  /** direction from epb_flags or the modified-pcap pkt_type; 0 unknown */
  dir: Dir;
  /** the bytes: buf[off, off + caplen) */
  buf: Buffer;
  off: number;
  caplen: number;
  origLen: number;
  /** byte offset of the record in the file */
  fileOffset: number;
  /** pcapng opt_comment values, when the packet has any */
  comments: string[] | null;
}

export interface InterfaceStats {
  readonly iface: number;
  readonly section: number;
  /** isb_ifrecv / isb_ifdrop / isb_osdrop; null when absent */
  readonly received: number | null;
  readonly droppedByIf: number | null;
  readonly droppedByOs: number | null;
}

export interface CaptureSink {
  packet(p: RawPacket): void;
  interface?(i: CaptureInterface, section: number): void;
  stats?(s: InterfaceStats): void;
}

export function newRawPacket(): RawPacket {
  return {
    n: 0,
    sec: 0,
    nsec: 0,
    iface: 0,
    section: 0,
    linkType: 0,
    dir: 0,
    buf: Buffer.alloc(0),
    off: 0,
    caplen: 0,
    origLen: 0,
    fileOffset: 0,
    comments: null,
  };
}

/**
 * One capture reader. `parse` consumes the complete records in buf[start, end), calling
 * the sink for each, and returns where the first incomplete record starts; the caller
 * keeps those bytes and appends more. `finish` is called at end of file with the bytes
 * left over.
 */
export interface RecordParser {
  readonly format: 'pcap' | 'pcapng';
  parse(buf: Buffer, start: number, end: number, fileOffset: number): number;
  /** the size a buffer needs to hold the next record (grows the caller's buffer) */
  needed(): number;
  finish(leftover: number, fileOffset: number): void;
  describe(): CaptureDescription;
}

export interface CaptureDescription {
  readonly format: 'pcap' | 'pcapng';
  readonly byteOrder: 'little-endian' | 'big-endian' | 'mixed';
  /** pcap: 'us' or 'ns'; pcapng: per interface */
  readonly resolution: string;
  readonly version: string;
  readonly sections: number;
  readonly interfaces: readonly (CaptureInterface & { readonly section: number })[];
  /** name resolution records seen (NRB) */
  readonly names: number;
  readonly comment: string | null;
  readonly application: string | null;
}
