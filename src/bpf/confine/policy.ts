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

const word = (off: number, value: number): Cond => ({ off, size: 4, mask: 0xffffffff, value });

/** The alternatives that let a packet with its IP header at `l3` through. */
export function acceptAlternatives(l3: L3, link: LinkLayer, policy: ConfinePolicy): Cond[][] {
  const alts: Cond[][] = [];
  const o = l3.off;
  if (l3.family === 4) {
    // RFC 791: source at 12, destination at 16. Same-field tests stay together so the jail loads each once.
    for (const a of policy.addrs.v4) alts.push([word(o + 12, a)]);
    for (const a of policy.addrs.v4) alts.push([word(o + 16, a)]);
    if (policy.broadcast) alts.push([word(o + 16, 0xffffffff)]);
    if (policy.multicast) alts.push([{ off: o + 16, size: 1, mask: 0xf0, value: 0xe0 }]);
  } else {
    for (const a of policy.addrs.v6) {
      // RFC 8200: source at 8, destination at 24.
      alts.push(a.map((w, i) => word(o + 8 + 4 * i, w)), a.map((w, i) => word(o + 24 + 4 * i, w)));
    }
    if (policy.multicast) alts.push([{ off: o + 24, size: 1, mask: 0xff, value: 0xff }]);
  }
  if (policy.broadcast) alts.push(...link.broadcast);
  // A load past the captured bytes ends the whole program with a reject, so
  // test the alternatives that need the fewest bytes first: then a truncated
  // packet is still accepted by any alternative whose bytes it holds.
  const end = (alt: Cond[]): number => Math.max(...alt.map((c) => c.off + c.size));
  return alts.map((alt, i) => ({ alt, i })).sort((a, b) => end(a.alt) - end(b.alt) || a.i - b.i).map((x) => x.alt);
}

/** Every path to an IP header: the conditions on the way and where it lands. */
export function linkPaths(link: LinkLayer): { conds: Cond[]; l3: L3 }[] {
  const out: { conds: Cond[]; l3: L3 }[] = [];
  const walk = (node: LinkLayer['root'], conds: Cond[]): void => {
    if (node.kind === 'l3') {
      out.push({ conds, l3: node });
      return;
    }
    for (const c of node.cases) walk(c.next, [...conds, { off: node.off, size: node.size, mask: node.mask, value: c.value }]);
  };
  walk(link.root, []);
  return out;
}

/** The confinement test as a disjunction of conjunctions (what the checker must find on each accepting path). */
export function witnesses(link: LinkLayer, policy: ConfinePolicy): Cond[][] {
  return linkPaths(link).flatMap(({ conds, l3 }) => acceptAlternatives(l3, link, policy).map((alt) => [...conds, ...alt]));
}
