/**
 * comment.ts's lines written straight into a buffer as UTF-8, from fragments encoded
 * once (a place's label, its "seen at" part), for trace -w: strings made per packet and
 * per copy, and their flattening for the encoder, were half of what -w allocated. The
 * bytes equal the UTF-8 of comment.ts's text (tested); a line that would pass its
 * MAX_LINE characters gives null, and the caller writes the text version, clipped.
 */
import { Buffer } from 'node:buffer';
import { dtText, MAX_LINE } from './comment.js';
import { utf8Into } from './pcapng.js';

/** Text encoded once, with its length in characters (what MAX_LINE counts). */
export interface Fragment {
  readonly bytes: Uint8Array;
  readonly chars: number;
}

export function fragment(text: string): Fragment {
  return { bytes: Buffer.from(text, 'utf8'), chars: text.length };
}

/** The fixed parts of the lines. */
export const PATH = fragment('path: ');
const ARROW = fragment(' > ');
const SPACE = fragment(' ');
const PKTPATH = fragment('pktpath: ');
const CLOSE = fragment(')');

/**
 * Lines one after the other in one buffer, each handed out as a view of it: valid until
 * reset(), so a packet's lines live while its copies are written, then the room is reused.
 */
export class LineBytes {
  private readonly buf: Buffer;
  private at = 0;
  private start = 0;
  private chars = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reset(): void {
    this.at = this.start = 0;
  }

  /** Starts a line (`prefix` first). */
  begin(prefix: Fragment): void {
    this.start = this.at;
    this.chars = 0;
    this.put(prefix);
  }

  put(f: Fragment): void {
    const b = f.bytes;
    // a fragment is a few bytes: a loop costs less than a call of set()
    if (b.length <= 48) for (let i = 0; i < b.length; i++) this.buf[this.at + i] = b[i]!;
    else this.buf.set(b, this.at);
    this.at += b.length;
    this.chars += f.chars;
  }

  /** Text: ASCII (times, numbers, a packet's summary) byte by byte, the rest through the UTF-8 encoder. */
  text(s: string): void {
    const buf = this.buf;
    const at = this.at;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.at = at + utf8Into(buf, at, s);
        this.chars += s.length;
        return;
      }
      buf[at + i] = c;
    }
    this.at = at + s.length;
    this.chars += s.length;
  }

  /** Whether the line begun is longer than comment.ts lets a line be (then end() gives null). */
  get over(): boolean {
    return this.chars > MAX_LINE;
  }

  /** The line begun last, or null (and its room given back) when it is longer than comment.ts lets a line be. */
  end(): Buffer | null {
    if (this.chars > MAX_LINE) {
      this.at = this.start;
      return null;
    }
    return this.buf.subarray(this.start, this.at);
  }

  /** Room for one more line of `chars` characters at most (3 bytes each in UTF-8). */
  fits(chars: number): boolean {
    return this.at + 3 * chars <= this.buf.length;
  }

  /** A step of a path line (comment.ts pathText): " > " before all but the first, and the time after the first. */
  step(i: number, place: Fragment, dtNs: number): void {
    if (i > 0) this.put(ARROW);
    this.put(place);
    if (i > 0) {
      this.put(SPACE);
      this.text(dtText(dtNs));
    }
  }

  /** comment.ts vantageComment: "pktpath: <summary>" + the place's "; seen at ... (event " + n + ")". */
  vantage(summary: string, seenAt: Fragment, event: number): Buffer | null {
    if (!this.fits(summary.length + seenAt.chars + 32)) return null;
    this.begin(PKTPATH);
    this.text(summary);
    this.put(seenAt);
    this.text(String(event));
    this.put(CLOSE);
    return this.end();
  }
}
