/**
 * IP addresses as text and back: IPv4 dotted quads and RFC 5952 IPv6 text (formatAddr),
 * strict RFC 4291 parsing (parseAddr). Used by the CLI options, the netfilter parsers, the
 * route and drop explanations and the output formatters alike.
 */
const HEX4: string[] = [];
for (let i = 0; i < 0x10000; i++) HEX4.push(i.toString(16));

// Direct-mapped cache of IPv4 texts: traces see the same few addresses over and over.
const V4_SLOTS = 4096;
const v4Keys = new Int32Array(V4_SLOTS); // an empty text marks an unused slot
const v4Texts: string[] = new Array<string>(V4_SLOTS).fill('');

function formatIPv4(b: Uint8Array): string {
  const b0 = b[0] ?? 0;
  const b1 = b[1] ?? 0;
  const b2 = b[2] ?? 0;
  const b3 = b[3] ?? 0;
  const key = (b0 << 24) | (b1 << 16) | (b2 << 8) | b3; // int32
  const slot = (b3 ^ (b2 << 4) ^ (b1 << 2) ^ (b0 << 6)) & (V4_SLOTS - 1);
  if (v4Keys[slot] === key && v4Texts[slot] !== '') return v4Texts[slot]!;
  const text = b0 + '.' + b1 + '.' + b2 + '.' + b3;
  v4Keys[slot] = key;
  v4Texts[slot] = text;
  return text;
}

/** IPv4 dotted quad (first 4 bytes) or RFC 5952 IPv6 text (16 bytes). */
export function formatAddr(bytes: Uint8Array, family: 4 | 6): string {
  return family === 4 ? formatIPv4(bytes) : formatIPv6(bytes);
}

function formatIPv6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0));
  // IPv4-mapped ::ffff:a.b.c.d (RFC 5952 section 5)
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${b[12] ?? 0}.${b[13] ?? 0}.${b[14] ?? 0}.${b[15] ?? 0}`;
  }
  // Longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  if (bestStart < 0) {
    for (let i = 0; i < 8; i++) out += (i ? ':' : '') + HEX4[w[i]!];
    return out;
  }
  for (let i = 0; i < bestStart; i++) out += (i ? ':' : '') + HEX4[w[i]!];
  out += '::';
  for (let i = bestStart + bestLen; i < 8; i++) out += (i > bestStart + bestLen ? ':' : '') + HEX4[w[i]!];
  return out;
}

const IPV4_PART = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIPv4Into(text: string, out: Uint8Array, at: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!IPV4_PART.test(p)) return false;
    const v = Number(p);
    if (v > 255) return false;
    out[at + i] = v;
  }
  return true;
}

function parseIPv6(text: string): Uint8Array | null {
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) return null;
  let head: string[];
  let tail: string[];
  if (dbl >= 0) {
    const h = text.slice(0, dbl);
    const t = text.slice(dbl + 2);
    head = h === '' ? [] : h.split(':');
    tail = t === '' ? [] : t.split(':');
  } else {
    head = text.split(':');
    tail = [];
  }
  // An embedded IPv4 address may only be the very last piece.
  const lastList = dbl >= 0 ? tail : head;
  const bytes = new Uint8Array(16);
  let v4 = false;
  if (lastList.length && lastList[lastList.length - 1]!.includes('.')) {
    if (!parseIPv4Into(lastList.pop()!, bytes, 12)) return null;
    v4 = true;
  }
  for (const p of head) if (!HEX_GROUP.test(p)) return null;
  for (const p of tail) if (!HEX_GROUP.test(p)) return null;
  const groups = head.length + tail.length + (v4 ? 2 : 0);
  if (dbl >= 0 ? groups > 7 : groups !== 8) return null; // "::" stands for at least one group
  const put = (i: number, p: string) => {
    const v = parseInt(p, 16);
    bytes[2 * i] = v >> 8;
    bytes[2 * i + 1] = v & 0xff;
  };
  head.forEach((p, i) => put(i, p));
  const tailStart = 8 - tail.length - (v4 ? 2 : 0);
  tail.forEach((p, i) => put(tailStart + i, p));
  return bytes;
}

/**
 * Parses an IPv4 (strict dotted quad, no leading zeros) or IPv6 address (RFC 4291 text,
 * embedded IPv4 allowed, no zone id, no brackets). IPv4 yields 4 bytes, IPv6 16.
 * Returns null for anything else.
 */
export function parseAddr(text: string): { family: 4 | 6; bytes: Uint8Array } | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) return null;
  if (text.includes(':')) {
    const bytes = parseIPv6(text);
    return bytes ? { family: 6, bytes } : null;
  }
  const bytes = new Uint8Array(4);
  return parseIPv4Into(text, bytes, 0) ? { family: 4, bytes } : null;
}
