// IPv6 addresses in text (RFC 4291 §2.2): the lexer's check of an IPv6
// shape, and the 16 bytes for `host`/`net` (gen-id.ts) and for /etc/hosts
// (names.ts).

/** The value of a hex digit's character code, or -1 if it is none (the lexer's numbers use it too). */
export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

/** Does `text` parse as an IPv6 address (RFC 4291 §2.2 text forms)? */
export function parseIPv6(text: string): number[] | null {
  let s = text;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return null;
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    // Trailing dotted quad (RFC 4291 §2.2 form 3) becomes two hex groups.
    const parts = last.split('.');
    if (parts.length !== 4) return null;
    const o: number[] = [];
    for (const p of parts) {
      if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255) return null;
      o.push(Number(p));
    }
    const [a = 0, b = 0, c = 0, d = 0] = o;
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.includes('::', dbl + 1)) return null;
  // The 16-bit words, the groups before `::` first, then those after it at
  // the end (zeros between), parsed in place: no split, no regular
  // expression per group (host and net addresses are parsed on every compile).
  const words = [0, 0, 0, 0, 0, 0, 0, 0];
  if (dbl >= 0) {
    const a = groupsInto(s, 0, dbl, words, 0);
    if (a < 0) return null;
    const b = groupsInto(s, dbl + 2, s.length, groupScratch, 0);
    if (b < 0 || a + b > 7) return null;
    for (let i = 0; i < b; i++) words[8 - b + i] = groupScratch[i] ?? 0;
  } else if (groupsInto(s, 0, s.length, words, 0) !== 8) return null;
  const bytes: number[] = [];
  for (const w of words) bytes.push(w >> 8, w & 0xff);
  return bytes;
}

/** groupsInto()'s room for the groups after `::` (at most 8 are kept). */
const groupScratch = [0, 0, 0, 0, 0, 0, 0, 0];

/**
 * The colon-separated groups of s[from, to), each one to four hex digits,
 * into `out` from `at` (at most 8; more are counted, not kept): how many,
 * or -1 if one is not 1-4 hex digits (an empty range has none).
 */
function groupsInto(s: string, from: number, to: number, out: number[], at: number): number {
  if (from === to) return 0;
  let n = 0;
  let i = from;
  for (;;) {
    let w = 0;
    let digits = 0;
    while (i < to) {
      const c = s.charCodeAt(i);
      const v = hexValue(c);
      if (v < 0) break;
      w = w * 16 + v;
      digits++;
      i++;
    }
    if (digits === 0 || digits > 4) return -1;
    if (at + n < 8) out[at + n] = w;
    n++;
    if (i === to) return n;
    // Anything but a colon between groups, or a colon at the very end, is not a group.
    if (s.charCodeAt(i) !== 0x3a || i + 1 === to) return -1;
    i++;
  }
}
