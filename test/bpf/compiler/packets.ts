// Random packets for semantic comparisons: mostly well-formed headers for
// the link type (so filters get past their first tests), with fields drawn
// from small pools that the test expressions mention, and random truncation.
import { DLT } from '../../../src/bpf/compiler/index.js';
import { rng, type Rng } from '../../helpers/rng.js';

export { rng, type Rng };

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const byte = (r: Rng): number => Math.floor(r() * 256);

const ETHERTYPES = [0x0800, 0x0800, 0x0800, 0x86dd, 0x86dd, 0x0806, 0x8035, 0x8100, 0x88a8, 0x8847, 0x8864, 0x8863, 0x05dc, 0x0026];
const PROTOS = [6, 6, 17, 17, 1, 58, 132, 51, 50, 103, 112, 2, 44, 0, 47, 9];
const PORTS = [80, 53, 22, 25, 443, 123, 1023, 1024, 20, 21, 0, 65535];
const V4 = [[10, 0, 0, 1], [192, 168, 1, 1], [1, 2, 3, 4], [10, 1, 2, 3], [224, 0, 0, 1], [255, 255, 255, 255], [192, 0, 2, 1], [127, 0, 0, 1]];

function ipv4(r: Rng, payload: number[]): number[] {
  const ihl = r() < 0.9 ? 5 : 5 + Math.floor(r() * 3);
  const h = new Array<number>(ihl * 4).fill(0).map(() => byte(r));
  h[0] = r() < 0.95 ? 0x40 | ihl : byte(r);
  const frag = r() < 0.8 ? 0 : Math.floor(r() * 0x2000);
  h[6] = (r() < 0.5 ? 0x40 : 0) | (frag >> 8);
  h[7] = frag & 0xff;
  h[9] = pick(r, PROTOS);
  const s = r() < 0.8 ? pick(r, V4) : [byte(r), byte(r), byte(r), byte(r)];
  const d = r() < 0.8 ? pick(r, V4) : [byte(r), byte(r), byte(r), byte(r)];
  h.splice(12, 8, ...s, ...d);
  return [...h, ...payload];
}

function ipv6(r: Rng, payload: number[]): number[] {
  const h = new Array<number>(40).fill(0).map(() => byte(r));
  h[0] = r() < 0.95 ? 0x60 : byte(r);
  h[6] = pick(r, PROTOS);
  const fe80 = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const mc = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  if (r() < 0.5) h.splice(8, 16, ...pick(r, [fe80, mc]));
  if (r() < 0.5) h.splice(24, 16, ...pick(r, [fe80, mc]));
  if (h[6] === 44) payload.splice(0, 1, pick(r, PROTOS));
  return [...h, ...payload];
}

function transport(r: Rng): number[] {
  const t = new Array<number>(20 + Math.floor(r() * 20)).fill(0).map(() => byte(r));
  const sp = r() < 0.8 ? pick(r, PORTS) : Math.floor(r() * 65536);
  const dp = r() < 0.8 ? pick(r, PORTS) : Math.floor(r() * 65536);
  t[0] = sp >> 8;
  t[1] = sp & 0xff;
  t[2] = dp >> 8;
  t[3] = dp & 0xff;
  return t;
}

function l3(r: Rng, ethertype: number): number[] {
  if (ethertype === 0x0800) return ipv4(r, transport(r));
  if (ethertype === 0x86dd) return ipv6(r, transport(r));
  if (ethertype === 0x0806 || ethertype === 0x8035) {
    const a = new Array<number>(28).fill(0).map(() => byte(r));
    a.splice(14, 4, ...pick(r, V4));
    a.splice(24, 4, ...pick(r, V4));
    return a;
  }
  return new Array<number>(Math.floor(r() * 80)).fill(0).map(() => byte(r));
}

/**
 * An 802.11 frame (IEEE 802.11-2016 §9.3): management, control or data,
 * any DS bits, QoS or not; data frames carry LLC/SNAP and an IP/ARP payload.
 * `pad`: the driver padded the MAC header to a multiple of 4 (radiotap DATAPAD).
 */
function wlanFrame(r: Rng, pad: boolean): number[] {
  const fc0 = pick(r, [0x80, 0x40, 0x50, 0xb0, 0xc0, 0x08, 0x88, 0x48, 0xd4, 0xc4, 0xb4, 0xa4]);
  const fc1 = Math.floor(r() * 4);
  const addr = (): number[] => (r() < 0.3 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : r() < 0.3 ? [0x01, 0x00, 0x5e, 0, 0, 1] : [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
  const h = [fc0, fc1, 0, 0, ...addr(), ...addr(), ...addr(), 0, 0];
  if ((fc1 & 3) === 3) h.push(...addr());
  const data = (fc0 & 0x0c) === 0x08;
  if (data && (fc0 & 0x80) !== 0) h.push(0, 0);
  if (pad) while (h.length % 4 !== 0) h.push(0);
  if (!data) return [...h, ...new Array<number>(Math.floor(r() * 40)).fill(0).map(() => byte(r))];
  const et = pick(r, [0x0800, 0x86dd, 0x0806]);
  return [...h, 0xaa, 0xaa, 0x03, 0, 0, 0, et >> 8, et & 0xff, ...l3(r, et)];
}

/** A radio header for the 802.11 link types, then the frame. */
function radioPacket(r: Rng, dlt: number): number[] {
  switch (dlt) {
    case DLT.IEEE802_11_RADIO: {
      // radiotap: version, pad, length (LE), present word (LE); TSFT (8 bytes) and/or flags (1 byte).
      const tsft = r() < 0.5;
      const flags = r() < 0.7;
      const datapad = flags && r() < 0.4;
      const body = [...(tsft ? new Array<number>(8).fill(0).map(() => byte(r)) : []), ...(flags ? [datapad ? 0x20 : 0x00, 0] : [])];
      const len = 8 + body.length;
      const present = (tsft ? 1 : 0) | (flags ? 2 : 0);
      return [0, 0, len & 0xff, len >> 8, present, 0, 0, 0, ...body, ...wlanFrame(r, datapad)];
    }
    case DLT.PRISM_HEADER:
      if (r() < 0.3) return [0x80, 0x21, 0x10, 0x01, 0, 0, 0, 64, ...new Array<number>(56).fill(0), ...wlanFrame(r, false)];
      return [0, 0, 0, 0x41, ...new Array<number>(140).fill(0).map(() => byte(r)), ...wlanFrame(r, false)];
    case DLT.IEEE802_11_RADIO_AVS:
      return [0x80, 0x21, 0x10, 0x01, 0, 0, 0, 64, ...new Array<number>(56).fill(0), ...wlanFrame(r, false)];
    case DLT.PPI: {
      const inner = r() < 0.8 ? 105 : 1;
      return [0, 0, 8, 0, inner, 0, 0, 0, ...wlanFrame(r, false)];
    }
    default:
      return wlanFrame(r, false);
  }
}

/** A random packet for the link type (DLT_ value), possibly truncated. */
export function randomPacket(r: Rng, dlt: number): Uint8Array {
  let et = pick(r, ETHERTYPES);
  let bytes: number[];
  const payload = (): number[] => {
    if (et === 0x8100 || et === 0x88a8) {
      const inner = pick(r, [0x0800, 0x86dd, 0x0806]);
      const vid = r() < 0.5 ? 10 : Math.floor(r() * 4096);
      const p = [vid >> 8, vid & 0xff, inner >> 8, inner & 0xff, ...l3(r, inner)];
      return p;
    }
    if (et === 0x8847) return [0x00, 0x01, 0x51, 0x40, ...l3(r, 0x0800)];
    if (et === 0x8864) return [0x11, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x21, ...l3(r, 0x0800)];
    return l3(r, et);
  };
  switch (dlt) {
    case DLT.EN10MB: {
      const dst = r() < 0.2 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : r() < 0.2 ? [0x01, 0x00, 0x5e, 0, 0, 1] : [0, 1, 2, 3, 4, 5];
      bytes = [...dst, 0, 0x11, 0x22, 0x33, 0x44, 0x55, et >> 8, et & 0xff, ...payload()];
      break;
    }
    case DLT.LINUX_SLL:
      bytes = [0, pick(r, [0, 4]), 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, et >> 8, et & 0xff, ...payload()];
      break;
    case DLT.LINUX_SLL2:
      bytes = [et >> 8, et & 0xff, 0, 0, 0, 0, 0, pick(r, [1, 7]), 0, 1, pick(r, [0, 4]), 6, 0, 1, 2, 3, 4, 5, 0, 0, ...payload()];
      break;
    case DLT.NULL:
    case DLT.LOOP: {
      et = pick(r, [0x0800, 0x86dd]);
      const af = et === 0x0800 ? 2 : pick(r, [10, 24, 28, 30]);
      const w = dlt === DLT.NULL ? [af, 0, 0, 0] : [0, 0, 0, af];
      bytes = [...w, ...l3(r, et)];
      break;
    }
    case DLT.PFLOG: {
      et = pick(r, [0x0800, 0x86dd]);
      const h = new Array<number>(64).fill(0).map(() => byte(r));
      h[0] = 61;
      h[1] = et === 0x0800 ? 2 : 10;
      h[2] = pick(r, [0, 1, 2]);
      h[3] = pick(r, [0, 1, 7]);
      h.splice(4, 4, 0x65, 0x74, 0x68, 0x30);
      h[8] = 0;
      h[60] = pick(r, [1, 2]);
      bytes = [...h, ...l3(r, et)];
      break;
    }
    case DLT.IPV6:
      bytes = l3(r, 0x86dd);
      break;
    case DLT.IPV4:
      bytes = l3(r, 0x0800);
      break;
    case DLT.IEEE802_11:
    case DLT.IEEE802_11_RADIO:
    case DLT.IEEE802_11_RADIO_AVS:
    case DLT.PRISM_HEADER:
    case DLT.PPI:
      bytes = radioPacket(r, dlt);
      break;
    default:
      bytes = l3(r, pick(r, [0x0800, 0x86dd]));
  }
  const len = r() < 0.15 ? Math.floor(r() * bytes.length) : bytes.length;
  return Uint8Array.from(bytes.slice(0, len));
}
