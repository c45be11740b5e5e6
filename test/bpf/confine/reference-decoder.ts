// An independent statement of what a confined program may accept, written
// from the protocol specs rather than from the jail's decision tree: find the
// IP header (looking through any number of VLAN tags), then decide.
import { parseIPv6 } from '../../../src/bpf/confine/index.js';

export interface Jail {
  v4: number[];
  v6: string[]; // as 32 hex digits
  multicast: boolean;
  broadcast: boolean;
}

export function jailOf(addrs: string[], multicast = true, broadcast = true): Jail {
  const v4: number[] = [];
  const v6: string[] = [];
  for (const a of addrs) {
    if (a.includes(':')) v6.push(parseIPv6(a).map((w) => w.toString(16).padStart(8, '0')).join(''));
    else v4.push(a.split('.').reduce((x, p) => x * 256 + Number(p), 0));
  }
  return { v4, v6, multicast, broadcast };
}

const hex = (p: Uint8Array, from: number, len: number): string => Buffer.from(p.subarray(from, from + len)).toString('hex');
const be32 = (p: Uint8Array, o: number): number => ((p[o] ?? 0) * 0x1000000) + (((p[o + 1] ?? 0) << 16) | ((p[o + 2] ?? 0) << 8) | (p[o + 3] ?? 0));
const be16 = (p: Uint8Array, o: number): number => ((p[o] ?? 0) << 8) | (p[o + 1] ?? 0);

/** Where the IP header starts and its version, or undefined if the frame carries no IP. */
function findIp(p: Uint8Array, linktype: number, maxTags: number): { off: number; family: 4 | 6; linkBroadcast: boolean } | undefined {
  let typeOff: number;
  let off: number;
  let linkBroadcast = false;
  switch (linktype) {
    case 1:
      typeOff = 12;
      off = 14;
      linkBroadcast = p.length >= 6 && p.subarray(0, 6).every((b) => b === 0xff);
      break;
    case 113:
      typeOff = 14;
      off = 16;
      linkBroadcast = be16(p, 0) === 1 && p.length >= 2;
      break;
    case 276:
      typeOff = 0;
      off = 20;
      linkBroadcast = p.length > 10 && p[10] === 1;
      break;
    case 12:
    case 14:
    case 101: {
      const v = (p[0] ?? 0) >> 4;
      return p.length < 1 ? undefined : v === 4 ? { off: 0, family: 4, linkBroadcast } : v === 6 ? { off: 0, family: 6, linkBroadcast } : undefined;
    }
    case 228:
      return { off: 0, family: 4, linkBroadcast };
    case 229:
      return { off: 0, family: 6, linkBroadcast };
    case 0:
    case 108: {
      if (p.length < 4) return undefined;
      const le = (p[0] ?? 0) | ((p[1] ?? 0) << 8) | ((p[2] ?? 0) << 16) | ((p[3] ?? 0) << 24);
      const fams = linktype === 0 ? [be32(p, 0), le >>> 0] : [be32(p, 0)];
      if (fams.includes(2)) return { off: 4, family: 4, linkBroadcast };
      if (fams.some((f) => [10, 24, 28, 30].includes(f))) return { off: 4, family: 6, linkBroadcast };
      return undefined;
    }
    default:
      return undefined;
  }
  for (let tags = 0; ; tags++) {
    if (p.length < typeOff + 2) return undefined;
    const t = be16(p, typeOff);
    if (t === 0x0800) return { off, family: 4, linkBroadcast };
    if (t === 0x86dd) return { off, family: 6, linkBroadcast };
    if ((t !== 0x8100 && t !== 0x88a8 && t !== 0x9100) || tags === maxTags) return undefined;
    typeOff = off + 2;
    off += 4;
  }
}

/**
 * May a confined program accept this packet? (Bytes past the capture count
 * as absent.) `maxTags` limits the VLAN tags looked through.
 */
export function allowed(p: Uint8Array, linktype: number, jail: Jail, maxTags = Infinity): boolean {
  const ip = findIp(p, linktype, maxTags);
  if (ip === undefined) return false;
  if (jail.broadcast && ip.linkBroadcast) return true;
  const o = ip.off;
  const n = p.length;
  // A truncated capture still shows the fields it holds; each test needs only its own bytes.
  if (ip.family === 4) {
    if (n >= o + 16 && jail.v4.includes(be32(p, o + 12))) return true;
    if (n >= o + 20) {
      const dst = be32(p, o + 16);
      if (jail.v4.includes(dst) || (jail.broadcast && dst === 0xffffffff)) return true;
    }
    return jail.multicast && n > o + 16 && (p[o + 16] ?? 0) >>> 4 === 0xe;
  }
  if (n >= o + 24 && jail.v6.includes(hex(p, o + 8, 16))) return true;
  if (n >= o + 40 && jail.v6.includes(hex(p, o + 24, 16))) return true;
  return jail.multicast && n > o + 24 && p[o + 24] === 0xff;
}
