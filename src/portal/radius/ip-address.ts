// IPv4 and IPv6 text <-> octets, strict, for the address attribute types
// (RFC 8044 §3.8, §3.9). No DNS, no zone ids, no leading-zero octets.

/** 4 octets for a dotted quad, or undefined. */
export function parseIpv4(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export function formatIpv4(b: Buffer): string {
  return `${String(b[0] ?? 0)}.${String(b[1] ?? 0)}.${String(b[2] ?? 0)}.${String(b[3] ?? 0)}`;
}

/** 16 octets for an IPv6 address in RFC 4291 §2.2 text form (with an embedded IPv4 tail allowed), or undefined. */
export function parseIpv6(text: string): Buffer | undefined {
  if (text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const split = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = split(halves[0] ?? '');
  const tail = halves.length === 2 ? split(halves[1] ?? '') : [];
  const words: number[] = [];
  const toWords = (list: string[], last: boolean): number[] | undefined => {
    const w: number[] = [];
    for (let i = 0; i < list.length; i++) {
      const g = list[i] ?? '';
      if (last && i === list.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (v4 === undefined) return undefined;
        w.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        w.push(parseInt(g, 16));
      }
    }
    return w;
  };
  const hw = toWords(head, halves.length === 1);
  const tw = toWords(tail, true);
  if (hw === undefined || tw === undefined) return undefined;
  if (halves.length === 1) {
    if (hw.length !== 8) return undefined;
    words.push(...hw);
  } else {
    if (hw.length + tw.length > 7) return undefined;
    words.push(...hw, ...new Array<number>(8 - hw.length - tw.length).fill(0), ...tw);
  }
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** RFC 5952 text form of 16 octets. */
export function formatIpv6(b: Buffer): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(b.readUInt16BE(i * 2));
  // RFC 5952 §4.2: the longest run (first on a tie) of two or more zero words becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}
