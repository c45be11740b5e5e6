// Parsing the --addr values of a jail: IPv4 dotted quads and IPv6 text (RFC 4291 §2.2).
import { MoatError } from '../../core/index.js';
import { isIPv4, isIPv6 } from 'node:net';

export interface JailAddresses {
  /** IPv4 addresses as u32. */
  v4: number[];
  /** IPv6 addresses as four u32 words, network order. */
  v6: [number, number, number, number][];
}

function v4ToU32(text: string): number {
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) >>> 0;
}

/** RFC 4291 §2.2 text forms: full, `::`-compressed, and with an embedded dotted quad. */
export function parseIPv6(text: string): [number, number, number, number] {
  let t = text;
  const groups: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  let tail: number[] = [];
  if (dotted?.[1] !== undefined) {
    const v = v4ToU32(dotted[1]);
    tail = [v >>> 16, v & 0xffff];
    t = t.slice(0, -dotted[1].length);
    if (t.endsWith(':') && !t.endsWith('::')) t = t.slice(0, -1);
  }
  const [head = '', rest] = t.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = parse(head);
  const r = [...parse(rest ?? ''), ...tail];
  if (rest === undefined) groups.push(...h, ...tail);
  else groups.push(...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r);
  const w = (i: number): number => (((groups[2 * i] ?? 0) << 16) | (groups[2 * i + 1] ?? 0)) >>> 0;
  return [w(0), w(1), w(2), w(3)];
}

/** Split addresses by family; anything else is a usage error naming it. */
export function parseJailAddresses(addrs: readonly string[]): JailAddresses {
  const out: JailAddresses = { v4: [], v6: [] };
  for (const a of addrs) {
    if (isIPv4(a)) out.v4.push(v4ToU32(a));
    else if (isIPv6(a) && !a.includes('%')) out.v6.push(parseIPv6(a));
    else throw new MoatError('MOAT_BPF_CONFINE_ADDRESS', `'${a}' is not an IPv4 or IPv6 address`);
  }
  if (out.v4.length + out.v6.length === 0) throw new MoatError('MOAT_BPF_CONFINE_ADDRESS', 'confinement needs at least one address');
  return out;
}
