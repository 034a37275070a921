/** Small helpers for writing HTML and SVG as text: escaping, attributes, truncation. */

const ESC: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value, escaped for HTML and SVG. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** ' a="1" b="x"' from a record; undefined and false values are left out. */
export function attrs(a: Readonly<Record<string, string | number | boolean | undefined>>): string {
  let s = '';
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined || v === false) continue;
    s += v === true ? ` ${k}` : ` ${k}="${esc(v)}"`;
  }
  return s;
}

/** An element with escaped attributes and raw (already escaped) content. */
export function el(tag: string, a: Readonly<Record<string, string | number | boolean | undefined>>, inner = ''): string {
  return `<${tag}${attrs(a)}>${inner}</${tag}>`;
}

/** At most `max` characters, with an ellipsis when cut. */
export function trunc(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(1, max - 1))}\u2026`;
}

/** A number with at most 1 decimal, for coordinates. */
export function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** JSON safe inside a <script> element: no "</script>", no line separators that end a JS string. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A stable colour for a flow id (distinct hues, readable on white). */
export function flowColour(id: number): string {
  const hue = (id * 137.508) % 360;
  return `hsl(${Math.round(hue)},65%,40%)`;
}
