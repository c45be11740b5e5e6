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

export interface Limits {
  /** VLAN tags looked through (the jail: MAX_VLAN_TAGS). */
  tags: number;
  /** Radiotap it_present words looked through to find the Flags field (the jail: MAX_RADIOTAP_WORDS). */
  radiotapWords: number;
}
const NO_LIMITS: Limits = { tags: Infinity, radiotapWords: Infinity };

export interface Ip {
  off: number;
  family: 4 | 6;
  linkBroadcast: boolean;
}

const AF_INET6 = [10, 24, 28, 30];
const le16 = (p: Uint8Array, o: number): number => (p[o] ?? 0) | ((p[o + 1] ?? 0) << 8);
const le32 = (p: Uint8Array, o: number): number => (le16(p, o) + le16(p, o + 2) * 0x10000);
/** Does the capture hold bytes [o, o + n)? */
const has = (p: Uint8Array, o: number, n: number): boolean => o + n <= p.length;

/** EtherType at typeOff, payload at off; IEEE 802.1Q/802.1ad tags push both by 4. */
function etherChain(p: Uint8Array, typeOff0: number, off0: number, maxTags: number, linkBroadcast: boolean): Ip | undefined {
  let typeOff = typeOff0;
  let off = off0;
  for (let tags = 0; ; tags++) {
    if (!has(p, typeOff, 2)) return undefined;
    const t = be16(p, typeOff);
    if (t === 0x0800) return { off, family: 4, linkBroadcast };
    if (t === 0x86dd) return { off, family: 6, linkBroadcast };
    if ((t !== 0x8100 && t !== 0x88a8 && t !== 0x9100) || tags === maxTags) return undefined;
    typeOff = off + 2;
    off += 4;
  }
}

/**
 * The radio header in front of an 802.11 frame: its length, and whether
 * radiotap's Flags say the MAC header is padded to 32 bits (DATAPAD, 0x20).
 */
function radioHeader(p: Uint8Array, linktype: number, limits: Limits): { len: number; pad: boolean } | undefined {
  const avs = (): { len: number; pad: boolean } | undefined => {
    // wlan-ng AVS header: magic 0x8021100x, then its length, both big-endian.
    if (!has(p, 4, 4)) return undefined;
    const len = be32(p, 4);
    return len >= 0x10000 ? undefined : { len, pad: false };
  };
  switch (linktype) {
    case 105:
      return { len: 0, pad: false };
    case 163:
      return has(p, 0, 4) && (be32(p, 0) & 0xfffff000) >>> 0 === 0x80211000 ? avs() : undefined;
    case 119:
      // A Prism header is 144 bytes, unless the AVS magic says it is an AVS header.
      if (!has(p, 0, 4)) return undefined;
      return (be32(p, 0) & 0xfffff000) >>> 0 === 0x80211000 ? avs() : { len: 144, pad: false };
    case 192:
      // PPI: pph_version 0, pph_flags, pph_len (LE), pph_dlt (LE); only 802.11 (105) inside.
      if (!has(p, 0, 8) || p[0] !== 0 || le32(p, 4) !== 105) return undefined;
      return { len: le16(p, 2), pad: false };
    case 127: {
      // radiotap.org: it_version 0, pad, it_len (LE), it_present words (LE; bit 31: another word follows).
      if (!has(p, 0, 5) || p[0] !== 0) return undefined;
      const len = le16(p, 2);
      const present = p[4] ?? 0;
      if ((present & 0x02) === 0) return { len, pad: false }; // no Flags field
      let words = 1;
      for (;;) {
        if (!has(p, 4 * words + 3, 1)) return undefined;
        if (((p[4 * words + 3] ?? 0) & 0x80) === 0) break;
        if (words === limits.radiotapWords) return undefined;
        words++;
      }
      // Fields follow the words, each aligned to its size: TSFT (8 bytes), then Flags (1 byte).
      let flags = 4 + 4 * words;
      if ((present & 0x01) !== 0) flags = Math.ceil(flags / 8) * 8 + 8;
      if (!has(p, flags, 1)) return undefined;
      return { len, pad: ((p[flags] ?? 0) & 0x20) !== 0 };
    }
    default:
      return undefined;
  }
}

/** IEEE 802.11-2020 §9.2.4.1 (Frame Control), §9.3.2.1 (data frames), then RFC 1042 LLC/SNAP. */
function ieee80211(p: Uint8Array, linktype: number, limits: Limits): Ip | undefined {
  const radio = radioHeader(p, linktype, limits);
  if (radio === undefined) return undefined;
  const r = radio.len;
  if (!has(p, r, 2)) return undefined;
  const fc0 = p[r] ?? 0;
  const fc1 = p[r + 1] ?? 0;
  const version = fc0 & 0x03;
  const type = (fc0 >> 2) & 0x03;
  const subtype = fc0 >> 4;
  if (version !== 0 || type !== 2 || (subtype & 0x4) !== 0) return undefined; // not a data frame carrying data
  const qos = (subtype & 0x8) !== 0;
  let hdr = (fc1 & 0x03) === 0x03 ? 30 : 24; // ToDS and FromDS: Address 4
  if (qos) {
    if (!has(p, r + hdr, 1)) return undefined;
    if (((p[r + hdr] ?? 0) & 0x80) !== 0) return undefined; // A-MSDU: several subframes
    hdr += 2;
    if ((fc1 & 0x80) !== 0) hdr += 4; // +HTC: HT Control field
  }
  if (radio.pad) hdr = Math.ceil(hdr / 4) * 4;
  const llc = r + hdr;
  if (!has(p, llc, 6) || hex(p, llc, 6) !== 'aaaa03000000') return undefined;
  // The destination address is Address 1 without ToDS, else Address 3.
  const da = (fc1 & 0x01) === 0 ? r + 4 : r + 16;
  const linkBroadcast = has(p, da, 6) && p.subarray(da, da + 6).every((b) => b === 0xff);
  return etherChain(p, llc + 6, llc + 8, limits.tags, linkBroadcast);
}

/** Where the IP header starts and its version, or undefined if the frame carries no IP. */
export function findIp(p: Uint8Array, linktype: number, limits: Limits = NO_LIMITS): Ip | undefined {
  switch (linktype) {
    case 1:
      return etherChain(p, 12, 14, limits.tags, p.length >= 6 && p.subarray(0, 6).every((b) => b === 0xff));
    case 113:
      return etherChain(p, 14, 16, limits.tags, be16(p, 0) === 1 && p.length >= 2);
    case 276:
      return etherChain(p, 0, 20, limits.tags, p.length > 10 && p[10] === 1);
    case 12:
    case 14:
    case 101: {
      const v = (p[0] ?? 0) >> 4;
      return p.length < 1 ? undefined : v === 4 ? { off: 0, family: 4, linkBroadcast: false } : v === 6 ? { off: 0, family: 6, linkBroadcast: false } : undefined;
    }
    case 228:
      return { off: 0, family: 4, linkBroadcast: false };
    case 229:
      return { off: 0, family: 6, linkBroadcast: false };
    case 0:
    case 108: {
      if (p.length < 4) return undefined;
      const le = (p[0] ?? 0) | ((p[1] ?? 0) << 8) | ((p[2] ?? 0) << 16) | ((p[3] ?? 0) << 24);
      const fams = linktype === 0 ? [be32(p, 0), le >>> 0] : [be32(p, 0)];
      if (fams.includes(2)) return { off: 4, family: 4, linkBroadcast: false };
      if (fams.some((f) => AF_INET6.includes(f))) return { off: 4, family: 6, linkBroadcast: false };
      return undefined;
    }
    case 117: {
      // pflog: header length in byte 0, padded to 4 (BPF_WORDALIGN, as tcpdump's print-pflog.c); address family in byte 1.
      if (p.length < 2) return undefined;
      const off = Math.ceil((p[0] ?? 0) / 4) * 4;
      if (p[1] === 2) return { off, family: 4, linkBroadcast: false };
      if (AF_INET6.includes(p[1] ?? 0)) return { off, family: 6, linkBroadcast: false };
      return undefined;
    }
    case 105:
    case 119:
    case 127:
    case 163:
    case 192:
      return ieee80211(p, linktype, limits);
    default:
      return undefined;
  }
}

/**
 * May a confined program accept this packet? (Bytes past the capture count
 * as absent.) `limits` bounds what is looked through (the jail's limits, for exact comparisons).
 */
export function allowed(p: Uint8Array, linktype: number, jail: Jail, limits: Partial<Limits> = {}): boolean {
  const ip = findIp(p, linktype, { ...NO_LIMITS, ...limits });
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
