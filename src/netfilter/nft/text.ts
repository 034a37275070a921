/** Lexing helpers shared by the parsers of nft's text output. Pure. */

/** `"name"` -> `name`; anything else unchanged. */
export function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** Split on spaces, keeping "quoted strings" whole. */
export function tokenize(s: string): string[] {
  const out: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"|\S+/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[0]);
  return out;
}
