/**
 * Small text pieces both formatters build lines from: zero-padded numbers, blank padding,
 * MAC hex, and strings made safe for a JSON literal or a whitespace-separated column.
 * Lookup tables instead of toString/padStart because these run several times per event.
 */

/** "00".."ff" */
export const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const PAD3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
export const SPACES = ' '.repeat(64);

/** Microseconds 0..999999 as six digits. */
export function micro6(us: number): string {
  const hi = Math.floor(us / 1000);
  return PAD3[hi]! + PAD3[us - hi * 1000]!;
}

export function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** s padded with blanks to width (up to 64 blanks); longer strings are kept whole. */
export function padEnd(s: string, width: number): string {
  return s.length >= width ? s : s + SPACES.slice(0, width - s.length);
}

// Characters that force JSON.stringify: quote, backslash, controls, and surrogates (lone
// surrogates must become \udxxx escapes for the output to stay valid UTF-8).
const JSON_UNSAFE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal for s. */
export function jsonString(s: string): string {
  return JSON_UNSAFE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

const TEXT_UNSAFE = /[\u0000-\u0020\u007f]/g;

/** Interface/comm text safe for a whitespace-separated column: control bytes and blanks as \xNN. */
export function textSafe(s: string): string {
  return s.replace(TEXT_UNSAFE, (c) => '\\x' + HEX2[c.charCodeAt(0) & 0xff]!);
}

/** Six MAC bytes as lowercase hex, sep between bytes ("" for text, ":" for JSON). */
export function macHex(m: Uint8Array, sep: string): string {
  return (
    HEX2[m[0] ?? 0]! + sep + HEX2[m[1] ?? 0]! + sep + HEX2[m[2] ?? 0]! + sep +
    HEX2[m[3] ?? 0]! + sep + HEX2[m[4] ?? 0]! + sep + HEX2[m[5] ?? 0]!
  );
}
