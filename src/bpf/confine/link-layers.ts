// Where the IP header starts on each link type, as a decision tree on
// fixed-offset fields, and what marks a link-layer broadcast. The jail
// program is generated from this tree and the checker's witnesses are
// enumerated from it, so the two cannot drift apart.
import { EX_USAGE, MoatError } from '../../core/index.js';

/** (load(size, off) & mask) == value, on the packet's bytes. */
export interface Cond {
  off: number;
  size: 1 | 2 | 4;
  mask: number;
  value: number;
}

export interface L3 {
  kind: 'l3';
  family: 4 | 6;
  /** Offset of the IP header. */
  off: number;
}

/** Load one field; each case leads on; anything else rejects. */
export interface Dispatch {
  kind: 'dispatch';
  off: number;
  size: 1 | 2 | 4;
  mask: number;
  cases: { value: number; next: Dispatch | L3 }[];
}

export interface LinkLayer {
  name: string;
  root: Dispatch | L3;
  /** Alternatives (each a conjunction) that mark a link-layer broadcast frame. */
  broadcast: Cond[][];
}

const ETHERTYPE_IP = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
// IEEE 802.1Q, 802.1ad, and the pre-standard QinQ TPID libpcap's `vlan` also accepts.
const VLAN_TPIDS = [0x8100, 0x88a8, 0x9100];
/** Tags we look through. A frame with more is rejected (never wrongly accepted). */
export const MAX_VLAN_TAGS = 2;

/**
 * An EtherType-style dispatch: type at `typeOff`, payload at `l3`. A VLAN
 * tag (IEEE 802.1Q §9.6) is 4 bytes at the payload offset: TCI, then the
 * inner type, so the next type is at l3 + 2 and the payload moves by 4.
 */
function ethertypeChain(typeOff: number, l3: number, depth: number): Dispatch {
  const cases: Dispatch['cases'] = [
    { value: ETHERTYPE_IP, next: { kind: 'l3', family: 4, off: l3 } },
    { value: ETHERTYPE_IPV6, next: { kind: 'l3', family: 6, off: l3 } },
  ];
  if (depth < MAX_VLAN_TAGS) {
    const inner = ethertypeChain(l3 + 2, l3 + 4, depth + 1);
    for (const tpid of VLAN_TPIDS) cases.push({ value: tpid, next: inner });
  }
  return { kind: 'dispatch', off: typeOff, size: 2, mask: 0xffff, cases };
}

// AF_INET6 differs by OS: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30 (libpcap's gen_linktype does the same).
const AF_INET6 = [10, 24, 28, 30];
const bswap32 = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

function afDispatch(hostOrder: boolean): Dispatch {
  const fam = (values: number[], family: 4 | 6): Dispatch['cases'] =>
    values.flatMap((v) => (hostOrder ? [v, bswap32(v)] : [v])).map((value) => ({ value, next: { kind: 'l3', family, off: 4 } }));
  return { kind: 'dispatch', off: 0, size: 4, mask: 0xffffffff, cases: [...fam([2], 4), ...fam(AF_INET6, 6)] };
}

const ETHER_BROADCAST: Cond[][] = [[
  { off: 0, size: 4, mask: 0xffffffff, value: 0xffffffff },
  { off: 4, size: 2, mask: 0xffff, value: 0xffff },
]];

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
    default:
      throw new MoatError('MOAT_BPF_CONFINE_LINKTYPE', `confinement does not support link type ${String(linktype)}; supported: EN10MB, RAW, IPV4, IPV6, NULL, LOOP, LINUX_SLL, LINUX_SLL2`, { exitCode: EX_USAGE });
  }
}
