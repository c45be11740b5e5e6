// Packets for confinement tests: link header, 0–3 VLAN tags, an IPv4 or IPv6
// header whose addresses are the jail's, foreign, multicast or broadcast,
// then random damage. Near misses are the point: they probe every test.
import { int } from '../runtime/random-program.js';

export const JAIL_V4 = [192, 0, 2, 1];
export const JAIL_V6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1];
export const LINKTYPES = [1, 12, 101, 228, 229, 0, 108, 113, 276];

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
