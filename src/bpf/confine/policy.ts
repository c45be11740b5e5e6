// What a confined program may accept, as alternatives of byte-level
// conditions per IP header: the jail's own addresses as source or
// destination, and optionally multicast and broadcast.
//   multicast: IPv4 224.0.0.0/4 (RFC 5771), IPv6 ff00::/8 (RFC 4291 §2.7) destinations;
//   broadcast: IPv4 255.255.255.255 (RFC 919) destination, or a link-layer broadcast frame.
import type { JailAddresses } from './addresses.js';
import type { Cond, L3, LinkLayer } from './link-layers.js';

export interface ConfinePolicy {
  addrs: JailAddresses;
  multicast: boolean;
  broadcast: boolean;
}

const word = (l3: L3, off: number, value: number): Cond => ({ ...(l3.base === undefined ? {} : { base: l3.base }), off: l3.off + off, size: 4, mask: 0xffffffff, value });

/** The alternatives that let a packet with its IP header at `l3` through. */
export function acceptAlternatives(l3: L3, link: LinkLayer, policy: ConfinePolicy): Cond[][] {
  if (l3.accept === true) return [[]]; // a link-layer broadcast frame (policy-tree.ts)
  const alts: Cond[][] = [];
  const at = l3.base === undefined ? {} : { base: l3.base };
  if (l3.family === 4) {
    // RFC 791: source at 12, destination at 16. Same-field tests stay together so the jail loads each once.
    for (const a of policy.addrs.v4) alts.push([word(l3, 12, a)]);
    for (const a of policy.addrs.v4) alts.push([word(l3, 16, a)]);
    if (policy.broadcast) alts.push([word(l3, 16, 0xffffffff)]);
    if (policy.multicast) alts.push([{ ...at, off: l3.off + 16, size: 1, mask: 0xf0, value: 0xe0 }]);
  } else {
    for (const a of policy.addrs.v6) {
      // RFC 8200: source at 8, destination at 24.
      alts.push(a.map((w, i) => word(l3, 8 + 4 * i, w)), a.map((w, i) => word(l3, 24 + 4 * i, w)));
    }
    if (policy.multicast) alts.push([{ ...at, off: l3.off + 24, size: 1, mask: 0xff, value: 0xff }]);
  }
  // Link-layer broadcast: a few fixed bytes, tested here; a broadcast test that
  // is a tree of its own (802.11) is placed once, before the IP header (policy-tree.ts).
  if (policy.broadcast && link.broadcastTree === undefined) alts.push(...link.broadcast);
  // A load past the captured bytes ends the whole program with a reject, so
  // test the alternatives that need the fewest bytes first: then a truncated
  // packet is still accepted by any alternative whose bytes it holds.
  const end = (alt: Cond[]): number => Math.max(...alt.map((c) => (c.base ?? -1) * 0x10000 + c.off + c.size));
  return alts.map((alt, i) => ({ alt, i })).sort((a, b) => end(a.alt) - end(b.alt) || a.i - b.i).map((x) => x.alt);
}
