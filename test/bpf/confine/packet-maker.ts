// Packets for confinement tests: link header, 0–3 VLAN tags, an IPv4 or IPv6
// header whose addresses are the jail's, foreign, multicast or broadcast,
// then random damage. Near misses are the point: they probe every test.
import { int } from '../runtime/random-program.js';

export const JAIL_V4 = [192, 0, 2, 1];
export const JAIL_V6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1];
export const LINKTYPES = [1, 12, 101, 228, 229, 0, 108, 113, 276, 117, 105, 127, 119, 163, 192];
/** The link types whose IP header sits at an offset read from the packet. */
export const VARIABLE_LINKTYPES = [117, 105, 127, 119, 163, 192];

function pick<T>(r: () => number, xs: readonly T[]): T {
  const x = xs[int(r, xs.length)];
  if (x === undefined) throw new Error('empty');
  return x;
}

function addr(r: () => number, family: 4 | 6): number[] {
  const c = int(r, 6);
  if (family === 4) {
    if (c === 0) return JAIL_V4;
    if (c === 1) return [224 + int(r, 16), int(r, 256), int(r, 256), int(r, 256)];
    if (c === 2) return [255, 255, 255, 255];
    if (c === 3) return [192, 0, 2, int(r, 4)]; // near the jail's address
    return [int(r, 256), int(r, 256), int(r, 256), int(r, 256)];
  }
  if (c === 0) return JAIL_V6;
  if (c === 1) return [0xff, ...Array.from({ length: 15 }, () => int(r, 256))];
  if (c === 2) return JAIL_V6.map((b, i) => (i === 15 ? int(r, 3) : b));
  return Array.from({ length: 16 }, () => int(r, 256));
}

function ipHeader(r: () => number, family: 4 | 6): number[] {
  if (family === 4) {
    const h = [0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, ...addr(r, 4), ...addr(r, 4)];
    return [...h, ...Array.from({ length: int(r, 24) }, () => int(r, 256))];
  }
  return [0x60, 0, 0, 0, 0, 20, 6, 64, ...addr(r, 6), ...addr(r, 6), ...Array.from({ length: int(r, 24) }, () => int(r, 256))];
}

const ETHERTYPES = [0x0800, 0x86dd, 0x8100, 0x88a8, 0x9100, 0x0806, 0x1234];

function typed(r: () => number, family: 4 | 6): number[] {
  // 0–3 VLAN tags, then the EtherType for family (or, sometimes, a wrong one).
  const out: number[] = [];
  const tags = pick(r, [0, 0, 1, 1, 2, 3]);
  for (let i = 0; i < tags; i++) {
    const tpid = pick(r, [0x8100, 0x88a8, 0x9100]);
    out.push(tpid >> 8, tpid & 0xff, int(r, 256), int(r, 256));
  }
  const t = int(r, 8) === 0 ? pick(r, ETHERTYPES) : family === 4 ? 0x0800 : 0x86dd;
  // The tags are written after the first type field: [type][tci][type]...
  const first = out.length > 0 ? [out[0] ?? 0, out[1] ?? 0] : [t >> 8, t & 0xff];
  const rest: number[] = [];
  for (let i = 0; i < tags; i++) {
    rest.push(out[4 * i + 2] ?? 0, out[4 * i + 3] ?? 0);
    const nextType = i + 1 < tags ? [out[4 * (i + 1)] ?? 0, out[4 * (i + 1) + 1] ?? 0] : [t >> 8, t & 0xff];
    rest.push(...nextType);
  }
  return [...first, ...rest];
}

const randomBytes = (r: () => number, n: number): number[] => Array.from({ length: n }, () => int(r, 256));
const le16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
const be32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

/** pflog: header length byte, address family, the rest of the header, padded to 4 (sometimes not: a near miss). */
function pflog(r: () => number, family: 4 | 6, ip: number[]): number[] {
  const len = pick(r, [48, 61, 100, 45, 64, int(r, 256)]);
  const af = int(r, 8) === 0 ? int(r, 32) : family === 4 ? 2 : pick(r, [10, 24, 28, 30]);
  const hdrlen = int(r, 6) === 0 ? len : Math.ceil(len / 4) * 4;
  const hdr = [len, af, ...randomBytes(r, Math.max(0, hdrlen - 2))].slice(0, Math.max(hdrlen, 2));
  return [...hdr, ...ip.slice(Math.max(0, hdr.length - hdrlen))];
}

/**
 * An 802.11 data frame (IEEE 802.11-2020 §9.3.2.1) carrying `payload` after
 * RFC 1042 LLC/SNAP: 3 or 4 addresses, QoS, +HTC, A-MSDU, radiotap's
 * DATAPAD padding; now and then a frame that is not a data frame, or a
 * header laid out one field short or long (near misses).
 */
function dot11(r: () => number, pad: boolean, payload: number[]): number[] {
  const fc0 = int(r, 6) === 0 ? pick(r, [0x48, 0xc8, 0x80, 0x09, 0x04, int(r, 256)]) : pick(r, [0x08, 0x88, 0x88, 0x28]);
  const fc1 = int(r, 256);
  const qos = (fc0 & 0x80) !== 0;
  const bcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
  const mac = (): number[] => (int(r, 3) === 0 ? bcast : randomBytes(r, 6));
  const h = [fc0, fc1, ...randomBytes(r, 2), ...mac(), ...randomBytes(r, 6), ...mac(), ...randomBytes(r, 2)];
  if ((fc1 & 0x03) === 0x03 && int(r, 10) !== 0) h.push(...randomBytes(r, 6));
  if (qos && int(r, 10) !== 0) {
    h.push(int(r, 6) === 0 ? 0x80 : int(r, 128), int(r, 256));
    if ((fc1 & 0x80) !== 0 && int(r, 10) !== 0) h.push(...randomBytes(r, 4));
  }
  if (pad && int(r, 10) !== 0) while (h.length % 4 !== 0) h.push(0);
  const llc = int(r, 10) === 0 ? pick(r, [[0xaa, 0xaa, 0x03, 0x00, 0x00, 0xf8], [0x42, 0x42, 0x03, 0, 0, 0], randomBytes(r, 6)]) : [0xaa, 0xaa, 0x03, 0, 0, 0];
  return [...h, ...llc, ...payload];
}

/** Radiotap: it_version, pad, it_len, 1–5 present words, TSFT and Flags (with DATAPAD) when present. */
function radiotap(r: () => number, frame: (pad: boolean) => number[]): number[] {
  const words = pick(r, [1, 1, 1, 2, 2, 3, 4, 5]);
  const tsft = int(r, 2) === 1;
  const flagsPresent = int(r, 4) !== 0;
  const h: number[] = [int(r, 12) === 0 ? 1 : 0, 0, 0, 0];
  for (let w = 0; w < words; w++) {
    const word = [w === 0 ? (tsft ? 1 : 0) | (flagsPresent ? 2 : 0) | (int(r, 64) << 2) : int(r, 256), int(r, 256), int(r, 256), int(r, 128) | (w < words - 1 ? 0x80 : 0)];
    h.push(...word);
  }
  if (tsft) {
    while (h.length % 8 !== 0) h.push(0);
    h.push(...randomBytes(r, 8));
  }
  const pad = flagsPresent && int(r, 2) === 0;
  if (flagsPresent) h.push((pad ? 0x20 : 0) | (int(r, 256) & 0xdf));
  h.push(...randomBytes(r, int(r, 6)));
  const len = int(r, 12) === 0 ? h.length + int(r, 5) - 2 : h.length;
  h[2] = len & 0xff;
  h[3] = len >> 8;
  return [...h.slice(0, Math.max(4, len)), ...new Array<number>(Math.max(0, len - h.length)).fill(0), ...frame(pad)];
}

function avsHeader(r: () => number): number[] {
  const len = int(r, 10) === 0 ? pick(r, [0x10040, 8, 60, int(r, 0x20000)]) : 64;
  const magic = int(r, 10) === 0 ? int(r, 0x100000000) : 0x80211001;
  const body = Math.min(Math.max(0, len - 8), 200);
  return [...be32(magic), ...be32(len), ...randomBytes(r, body)];
}

function radioFrame(r: () => number, linktype: number, payload: number[]): number[] {
  const plain = (pad: boolean): number[] => dot11(r, pad, payload);
  switch (linktype) {
    case 127:
      return radiotap(r, plain);
    case 192: {
      const len = pick(r, [8, 8, 20, 32]);
      const dlt = int(r, 8) === 0 ? pick(r, [1, 127, int(r, 300)]) : 105;
      return [int(r, 12) === 0 ? 1 : 0, int(r, 2), ...le16(len), ...le16(dlt), 0, 0, ...randomBytes(r, len - 8), ...plain(false)];
    }
    case 163:
      return [...avsHeader(r), ...plain(false)];
    case 119:
      if (int(r, 3) === 0) return [...avsHeader(r), ...plain(false)];
      return [0x44, 0, 0, 0, 144, 0, 0, 0, ...randomBytes(r, 136), ...plain(false)];
    default:
      return plain(false);
  }
}

/** A packet for `linktype`, maybe damaged, maybe truncated. */
export function makePacket(r: () => number, linktype: number): Uint8Array {
  const family: 4 | 6 = int(r, 2) === 0 ? 4 : 6;
  let bytes: number[];
  const ip = ipHeader(r, family);
  switch (linktype) {
    case 1: {
      const dst = pick(r, [[255, 255, 255, 255, 255, 255], [1, 0, 0x5e, 0, 0, 1], Array.from({ length: 6 }, () => int(r, 256))]);
      const [t0 = 0, t1 = 0, ...tail] = typed(r, family);
      bytes = [...dst, ...Array.from({ length: 6 }, () => int(r, 256)), t0, t1, ...tail, ...ip];
      break;
    }
    case 113: {
      const [t0 = 0, t1 = 0, ...tail] = typed(r, family);
      bytes = [0, int(r, 5), 0, 1, 0, 6, ...Array.from({ length: 8 }, () => int(r, 256)), t0, t1, ...tail, ...ip];
      break;
    }
    case 276: {
      const [t0 = 0, t1 = 0, ...tail] = typed(r, family);
      bytes = [t0, t1, 0, 0, 0, 0, 0, 2, 0, 1, int(r, 5), 6, ...Array.from({ length: 8 }, () => int(r, 256)), ...tail, ...ip];
      break;
    }
    case 0:
    case 108: {
      const af = family === 4 ? 2 : pick(r, [10, 24, 28, 30, 7]);
      bytes = int(r, 2) === 0 ? [af, 0, 0, 0, ...ip] : [0, 0, 0, af, ...ip];
      break;
    }
    case 117:
      bytes = pflog(r, family, ip);
      break;
    case 105:
    case 127:
    case 119:
    case 163:
    case 192:
      bytes = radioFrame(r, linktype, [...typed(r, family), ...ip]);
      break;
    case 228:
    case 229:
    default:
      bytes = ip;
  }
  const p = Uint8Array.from(bytes);
  const damage = int(r, 4);
  for (let i = 0; i < damage; i++) p[int(r, p.length)] = int(r, 4) === 0 ? 0xff : int(r, 256);
  return int(r, 6) === 0 ? p.subarray(0, int(r, p.length + 1)) : p;
}
