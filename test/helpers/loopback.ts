/**
 * Real traffic the tests can make without a namespace: UDP datagrams to 127.0.0.1 on a
 * port of their own (a BPF filter on that port sees nothing else), and the events a
 * loaded trace wrote to its ring buffer about them.
 */
import { createSocket } from 'node:dgram';
import { decodeEvent } from '../../src/engine/decode.js';
import type { RawEvent } from '../../src/engine/event.js';
import { RingReader } from '../../src/engine/io/ringbuf.js';
import type { RingPages } from '../../src/engine/io/native.js';

/** A port in 40000..59999 unlikely to be anyone else's right now. */
export function testPort(): number {
  return 40_000 + ((process.pid * 7919 + Date.now()) % 20_000);
}

/** Sends `count` datagrams to 127.0.0.1:port, received by a socket of ours (no ICMP back). */
export async function udpToLoopback(port: number, count = 3): Promise<void> {
  const rx = createSocket('udp4');
  const tx = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => rx.once('error', reject).bind(port, '127.0.0.1', () => resolve()));
    for (let i = 0; i < count; i++) {
      await new Promise<void>((resolve, reject) => tx.send(`pktpath test ${i}`, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    }
  } finally {
    tx.close();
    rx.close();
  }
}

/** Reads a ring buffer as a trace's reader does. */
export class RingEvents {
  private readonly reader: RingReader;
  constructor(ring: RingPages) {
    this.reader = new RingReader(ring);
  }

  /** Every event written so far. */
  drain(): RawEvent[] {
    const out: RawEvent[] = [];
    this.reader.drain((view, bytes, off, len) => void out.push(decodeEvent(view, bytes, off, len)));
    return out;
  }

  /** Waits (up to `ms`) until an event passes `match`; everything read on the way. */
  async until(match: (ev: RawEvent) => boolean, ms = 3000): Promise<RawEvent[]> {
    const seen: RawEvent[] = [];
    const end = Date.now() + ms;
    while (Date.now() < end) {
      seen.push(...this.drain());
      if (seen.some(match)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return seen;
  }
}
