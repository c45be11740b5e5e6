// Where the IP header starts on each link type, as a decision tree, and what
// marks a link-layer broadcast. The jail program is generated from this tree
// and the checker evaluates the same tree against what it knows of a packet,
// so the two cannot drift apart.
//
// Most link types put the IP header at a fixed offset once a few fixed fields
// are known. Some (PFLOG, the 802.11 family) read a header length from the
// packet: a `compute` node evaluates a few straight-line instructions and
// keeps the result in M[slot]; fields after it are addressed relative to that
// slot (`base`), and the jail loads them with `ldx M[slot]; ld [x + off]`.
import { MoatError } from '../../core/index.js';
import type { Insn } from '../insn.js';
import { ieee80211Layer, pflogLayer } from './link-layers-var.js';

/** (load(size, base + off) & mask) == value; base: M[base], or the packet's start when absent. */
export interface Cond {
  base?: number;
  off: number;
  size: 1 | 2 | 4;
  mask: number;
  value: number;
}

export interface L3 {
  kind: 'l3';
  family: 4 | 6;
  base?: number;
  /** Offset of the IP header (from `base`). */
  off: number;
  /** Reached only by link-layer broadcast frames: any IP header is let through (policy-tree.ts). */
  accept?: true;
}

/** Load one field; each case leads on; anything else goes to `otherwise`, or rejects. */
export interface Dispatch {
  kind: 'dispatch';
  base?: number;
  off: number;
  size: 1 | 2 | 4;
  mask: number;
  cases: { value: number; next: LinkNode }[];
  otherwise?: LinkNode;
}

/** M[slot] = A after `code` (straight-line instructions; they may read packet bytes and earlier slots). */
export interface Compute {
  kind: 'compute';
  slot: number;
  code: Insn[];
  next: LinkNode;
}

export type LinkNode = Dispatch | L3 | Compute;

export interface LinkLayer {
  name: string;
  root: LinkNode;
  /** Alternatives (each a conjunction) that mark a link-layer broadcast frame. */
  broadcast: Cond[][];
  /**
   * Or the broadcast test as a tree: to `yes` for a broadcast frame, else to
   * `no`, reading each field once (a tree walk that runs ahead of the program
   * must not leave it re-testing a field whose facts were already forgotten).
   */
  broadcastTree?: (yes: LinkNode, no: LinkNode) => LinkNode;
  /**
   * Where the broadcast test goes (policy-tree.ts): a node every path to an
   * IP header passes, after the slots the test reads are computed. Default: the root.
   */
  broadcastAt?: LinkNode;
}

const ETHERTYPE_IP = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
// IEEE 802.1Q, 802.1ad, and the pre-standard QinQ TPID libpcap's `vlan` also accepts.
const VLAN_TPIDS = [0x8100, 0x88a8, 0x9100];
/** Tags we look through. A frame with more is rejected (never wrongly accepted). */
export const MAX_VLAN_TAGS = 2;

/**
 * An EtherType-style dispatch: type at `typeOff`, payload at `l3` (both from
 * `base`). A VLAN tag (IEEE 802.1Q §9.6) is 4 bytes at the payload offset:
 * TCI, then the inner type, so the next type is at l3 + 2 and the payload
 * moves by 4.
 */
export function ethertypeChain(typeOff: number, l3: number, depth: number, base?: number): Dispatch {
  const at = base === undefined ? {} : { base };
  const cases: Dispatch['cases'] = [
    { value: ETHERTYPE_IP, next: { kind: 'l3', family: 4, off: l3, ...at } },
    { value: ETHERTYPE_IPV6, next: { kind: 'l3', family: 6, off: l3, ...at } },
  ];
  if (depth < MAX_VLAN_TAGS) {
    const inner = ethertypeChain(l3 + 2, l3 + 4, depth + 1, base);
    for (const tpid of VLAN_TPIDS) cases.push({ value: tpid, next: inner });
  }
  return { kind: 'dispatch', off: typeOff, size: 2, mask: 0xffff, cases, ...at };
}

// AF_INET6 differs by OS: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30 (libpcap's gen_linktype does the same).
export const AF_INET6 = [10, 24, 28, 30];
const bswap32 = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

function afDispatch(hostOrder: boolean): Dispatch {
  const fam = (values: number[], family: 4 | 6): Dispatch['cases'] => {
    const next: L3 = { kind: 'l3', family, off: 4 }; // one IP header node per family, whatever the AF_ value
    return values.flatMap((v) => (hostOrder ? [v, bswap32(v)] : [v])).map((value) => ({ value, next }));
  };
  return { kind: 'dispatch', off: 0, size: 4, mask: 0xffffffff, cases: [...fam([2], 4), ...fam(AF_INET6, 6)] };
}

const ETHER_BROADCAST: Cond[][] = [[
  { off: 0, size: 4, mask: 0xffffffff, value: 0xffffffff },
  { off: 4, size: 2, mask: 0xffff, value: 0xffff },
]];

export const SUPPORTED = 'EN10MB, RAW, IPV4, IPV6, NULL, LOOP, LINUX_SLL, LINUX_SLL2, PFLOG, IEEE802_11, IEEE802_11_RADIO, PRISM_HEADER, IEEE802_11_RADIO_AVS, PPI';

/** The link types confinement supports (LINKTYPE_* values, tcpdump.org/linktypes.html). */
export function linkLayer(linktype: number): LinkLayer {
  switch (linktype) {
    case 1: // EN10MB
      return { name: 'EN10MB', root: ethertypeChain(12, 14, 0), broadcast: ETHER_BROADCAST };
    case 12: // DLT_RAW (most systems)
    case 14: // DLT_RAW (OpenBSD)
    case 101: // LINKTYPE_RAW
      return {
        name: 'RAW',
        root: {
          kind: 'dispatch', off: 0, size: 1, mask: 0xf0,
          cases: [{ value: 0x40, next: { kind: 'l3', family: 4, off: 0 } }, { value: 0x60, next: { kind: 'l3', family: 6, off: 0 } }],
        },
        broadcast: [],
      };
    case 228: // IPV4
      return { name: 'IPV4', root: { kind: 'l3', family: 4, off: 0 }, broadcast: [] };
    case 229: // IPV6
      return { name: 'IPV6', root: { kind: 'l3', family: 6, off: 0 }, broadcast: [] };
    case 0: // NULL: 4-byte family in the capturing host's byte order
      return { name: 'NULL', root: afDispatch(true), broadcast: [] };
    case 108: // LOOP: the same, in network byte order
      return { name: 'LOOP', root: afDispatch(false), broadcast: [] };
    case 113: // LINUX_SLL: packet type at 0 (1 = PACKET_BROADCAST), protocol at 14, payload at 16
      return { name: 'LINUX_SLL', root: ethertypeChain(14, 16, 0), broadcast: [[{ off: 0, size: 2, mask: 0xffff, value: 1 }]] };
    case 276: // LINUX_SLL2: protocol at 0, packet type at 10, payload at 20
      return { name: 'LINUX_SLL2', root: ethertypeChain(0, 20, 0), broadcast: [[{ off: 10, size: 1, mask: 0xff, value: 1 }]] };
    case 117:
      return pflogLayer();
    case 105:
    case 119:
    case 127:
    case 163:
    case 192:
      return ieee80211Layer(linktype);
    default:
      throw new MoatError('MOAT_BPF_CONFINE_LINKTYPE', `confinement does not support link type ${String(linktype)}; supported: ${SUPPORTED}`);
  }
}
