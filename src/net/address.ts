// IPv4/IPv6 address arithmetic the renderers and the lint rules share:
// prefix containment (is the gateway inside the configured prefix?) and the
// dotted netmask that OpenBSD's hostname.if(5) and ifupdown write.
import { isIPv4, isIPv6 } from 'node:net';

/** An address with its prefix length, as written `198.51.100.10/32`. */
export interface Prefixed {
  readonly address: string;
  readonly length: number;
  readonly family: 4 | 6;
}

/** Parse `addr` or `addr/len`; a bare address gets a host prefix (/32 or /128). */
export function parsePrefixed(text: string): Prefixed | undefined {
  const [address = '', len, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (len === undefined) return { address, length: max, family };
  if (!/^\d{1,3}$/.test(len)) return undefined;
  const length = Number(len);
  if (length > max) return undefined;
  return { address, length, family };
}

/** The address as a big integer (IPv4 in 32 bits, IPv6 in 128). */
export function addressBits(address: string): bigint {
  if (isIPv4(address)) {
    return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  }
  const [head = '', tail] = address.split('::');
  const words = (s: string): string[] => (s === '' ? [] : s.split(':'));
  let left = words(head);
  let right = tail === undefined ? [] : words(tail);
  // An embedded IPv4 tail (::ffff:192.0.2.1) counts as two 16-bit words.
  const fix = (list: string[]): string[] => {
    const last = list[list.length - 1];
    if (last?.includes('.')) {
      const v4 = addressBits(last);
      return [...list.slice(0, -1), (v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
    }
    return list;
  };
  left = fix(left);
  right = fix(right);
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].reduce((acc, w) => (acc << 16n) | BigInt(parseInt(w, 16)), 0n);
}

/** Is `address` inside `prefix`? Different families never contain each other. */
export function prefixContains(prefix: Prefixed, address: string): boolean {
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family !== prefix.family) return false;
  const width = BigInt(family === 4 ? 32 : 128);
  const shift = width - BigInt(prefix.length);
  return addressBits(prefix.address) >> shift === addressBits(address) >> shift;
}

/** A dotted-quad netmask for an IPv4 prefix length: 32 → 255.255.255.255. */
export function netmask(length: number): string {
  const bits = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return [24, 16, 8, 0].map((s) => String((bits >>> s) & 0xff)).join('.');
}

/** The prefix length of a dotted netmask or a hex one (0xffffff00), or undefined if it is not contiguous. */
export function netmaskLength(mask: string): number | undefined {
  let bits: number;
  if (/^0x[0-9a-f]{8}$/i.test(mask)) bits = parseInt(mask.slice(2), 16);
  else if (isIPv4(mask)) bits = Number(addressBits(mask));
  else return undefined;
  let n = 0;
  while (n < 32 && ((bits >>> (31 - n)) & 1) === 1) n++;
  return ((bits << n) >>> 0) === 0 || n === 32 ? n : undefined;
}

/** A MAC as six colon-separated hex pairs, compared case-insensitively. */
export function normalizeMac(mac: string): string {
  return mac.toLowerCase();
}

/** An IPv4 address from its 32-bit value. */
export function ipv4FromBits(bits: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((bits >> s) & 0xffn)).join('.');
}

/** The first and last usable host of an IPv4 prefix (network and broadcast left out when there are any). */
export function ipv4HostRange(p: Prefixed): { first: string; last: string } {
  const size = 1n << BigInt(32 - p.length);
  const base = (addressBits(p.address) >> BigInt(32 - p.length)) << BigInt(32 - p.length);
  if (size <= 2n) return { first: ipv4FromBits(base), last: ipv4FromBits(base + size - 1n) };
  return { first: ipv4FromBits(base + 1n), last: ipv4FromBits(base + size - 2n) };
}
