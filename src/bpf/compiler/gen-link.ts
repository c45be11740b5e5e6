// Link-layer type tests and protocol abbreviations (gencode.c gen_linktype,
// gen_ether_linktype, gen_linux_sll_linktype, gen_proto_abbrev, gen_proto).
import { BPF_B, BPF_H, BPF_JSET } from '../insn.js';
import type { Proto } from './ast.js';
import { genAnd, genNot, genOr, jmp, type Block } from './block.js';
import { fail } from './errors.js';
import type { Gen } from './gen.js';
import { DLT, linktypeName } from './linktypes.js';
import { dataFrameCheck, llcLinktype } from './gen-80211.js';

export const ETHERTYPE = {
  IP: 0x0800, ARP: 0x0806, REVARP: 0x8035, IPV6: 0x86dd, ATALK: 0x809b, AARP: 0x80f3, DN: 0x6003,
  LAT: 0x6004, SCA: 0x6007, MOPDL: 0x6001, MOPRC: 0x6002, IPX: 0x8137, PPPOED: 0x8863, PPPOES: 0x8864,
  MPLS: 0x8847, VLAN_8021Q: 0x8100, VLAN_8021AD: 0x88a8, VLAN_QINQ: 0x9100,
} as const;
export const LLCSAP = { IP: 0x06, ISONS: 0xfe, NETBEUI: 0xf0, IPX: 0xe0, SNAP: 0xaa, STP: 0x42 } as const;
export const IPPROTO = {
  ICMP: 1, IGMP: 2, TCP: 6, UDP: 17, IGRP: 9, ICMPV6: 58, AH: 51, ESP: 50, PIM: 103, VRRP: 112, SCTP: 132,
  FRAGMENT: 44,
} as const;
const ETHERMTU = 1500;
// PPP protocol numbers (RFC 1661 §2, the IANA PPP DLL protocol numbers)
// for the EtherTypes and SAPs libpcap maps (gencode.c ethertype_to_ppptype);
// anything else is compared as given.
const PPP_TYPES: Record<number, number> = {
  [ETHERTYPE.IP]: 0x0021, [ETHERTYPE.IPV6]: 0x0057, [ETHERTYPE.DN]: 0x0027, [ETHERTYPE.ATALK]: 0x0029,
  [LLCSAP.IPX]: 0x002b, [LLCSAP.ISONS]: 0x0023, [LLCSAP.STP]: 0x0031, 0x0600 /* XNS */: 0x0025,
};
/** PPP's protocol number for MPLS unicast (RFC 3032 §4.3). */
export const PPP_MPLS_UCAST = 0x0281;
// Van Jacobson compressed and uncompressed TCP/IP (RFC 1144), which BSD/OS PPP also counts as IP.
const PPP_VJC = 0x002d;
const PPP_VJNC = 0x002f;
// ISO/IEC TR 9577 NLPIDs, after Frame Relay's UI control byte 0x03 (RFC 2427 §3).
export const NLPID = { IP: 0xcc, IPV6: 0x8e, CLNP: 0x81, ESIS: 0x82, ISIS: 0x83 } as const;
const FR_UI = 0x03;

/** `link proto` on Frame Relay: the UI control byte and the NLPID (libpcap assumes a 2-byte address). */
export function frelayNlpid(g: Gen, nlpid: number): Block {
  return g.cmp('linkhdr', 2, BPF_H, (FR_UI << 8) | nlpid);
}
const AF_INET = 2;
const AF_INET6 = 10; // Linux's value: libpcap 1.10.3 compiles its host's AF_INET6.

export function snap(g: Gen, orgcode: number, ptype: number): Block {
  return g.bcmp('llc', 0, [LLCSAP.SNAP, LLCSAP.SNAP, 0x03, (orgcode >> 16) & 0xff, (orgcode >> 8) & 0xff, orgcode & 0xff, (ptype >> 8) & 0xff, ptype & 0xff]);
}

function notGtMtu(g: Gen): Block {
  const b = g.cmpGt('linktype', 0, BPF_H, ETHERMTU);
  genNot(b);
  return b;
}

function etherLinktype(g: Gen, p: number): Block {
  switch (p) {
    case LLCSAP.ISONS:
    case LLCSAP.IP:
    case LLCSAP.NETBEUI: {
      const b0 = notGtMtu(g);
      const b1 = g.cmp('llc', 0, BPF_H, (p << 8) | p);
      genAnd(b0, b1);
      return b1;
    }
    case LLCSAP.IPX: {
      let b0 = g.cmp('llc', 0, BPF_B, LLCSAP.IPX);
      const b1 = g.cmp('llc', 0, BPF_H, 0xffff);
      genOr(b0, b1);
      b0 = snap(g, 0, ETHERTYPE.IPX);
      genOr(b0, b1);
      b0 = notGtMtu(g);
      genAnd(b0, b1);
      b0 = g.cmp('linktype', 0, BPF_H, ETHERTYPE.IPX);
      genOr(b0, b1);
      return b1;
    }
    case ETHERTYPE.ATALK:
    case ETHERTYPE.AARP: {
      let b0 = notGtMtu(g);
      const b1 = p === ETHERTYPE.ATALK ? snap(g, 0x080007, ETHERTYPE.ATALK) : snap(g, 0, ETHERTYPE.AARP);
      genAnd(b0, b1);
      b0 = g.cmp('linktype', 0, BPF_H, p);
      genOr(b0, b1);
      return b1;
    }
    default:
      if (p <= ETHERMTU) {
        const b0 = notGtMtu(g);
        const b1 = g.cmp('linktype', 2, BPF_B, p);
        genAnd(b0, b1);
        return b1;
      }
      return g.cmp('linktype', 0, BPF_H, p);
  }
}

const SLL_P_802_2 = 4;
const SLL_P_802_3 = 1;

function sllLinktype(g: Gen, p: number): Block {
  switch (p) {
    case LLCSAP.ISONS:
    case LLCSAP.IP:
    case LLCSAP.NETBEUI: {
      const b0 = g.cmp('linktype', 0, BPF_H, SLL_P_802_2);
      const b1 = g.cmp('llc', 0, BPF_H, (p << 8) | p);
      genAnd(b0, b1);
      return b1;
    }
    case LLCSAP.IPX: {
      let b0 = g.cmp('llc', 0, BPF_B, LLCSAP.IPX);
      const b1 = snap(g, 0, ETHERTYPE.IPX);
      genOr(b0, b1);
      b0 = g.cmp('linktype', 0, BPF_H, SLL_P_802_2);
      genAnd(b0, b1);
      b0 = g.cmp('linktype', 0, BPF_H, SLL_P_802_3);
      genOr(b0, b1);
      b0 = g.cmp('linktype', 0, BPF_H, ETHERTYPE.IPX);
      genOr(b0, b1);
      return b1;
    }
    case ETHERTYPE.ATALK:
    case ETHERTYPE.AARP: {
      let b0 = g.cmp('linktype', 0, BPF_H, SLL_P_802_2);
      const b1 = p === ETHERTYPE.ATALK ? snap(g, 0x080007, ETHERTYPE.ATALK) : snap(g, 0, ETHERTYPE.AARP);
      genAnd(b0, b1);
      b0 = g.cmp('linktype', 0, BPF_H, p);
      genOr(b0, b1);
      return b1;
    }
    default:
      if (p <= ETHERMTU) {
        const b0 = g.cmp('linktype', 0, BPF_H, SLL_P_802_2);
        const b1 = g.cmp('linkhdr', g.off.linkpl.constant, BPF_B, p);
        genAnd(b0, b1);
        return b1;
      }
      return g.cmp('linktype', 0, BPF_H, p);
  }
}

function mplsLinktype(g: Gen, p: number): Block {
  const version = p === ETHERTYPE.IP ? 0x40 : p === ETHERTYPE.IPV6 ? 0x60 : -1;
  if (version < 0) fail('unsupported protocol over mpls');
  // Bottom-of-stack bit of the last label, then the IP version nibble.
  const b0 = g.mcmp('linkpl', -2, BPF_B, 0x01, 0x01);
  const b1 = g.mcmp('linkpl', 0, BPF_B, version, 0xf0);
  genAnd(b0, b1);
  return b1;
}

const swap32 = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

function loopback(g: Gen, af: number): Block {
  // DLT_NULL's AF_ word is in the capturing host's byte order; libpcap
  // compiles htonl(AF) on its own host (gen_loopback_linktype), after
  // swapping it when a capture file has the other byte order.
  let v = af;
  if (g.linktype === DLT.NULL) {
    if (g.savefile?.swapped === true) v = swap32(v);
    if (g.littleEndianHost) v = swap32(v);
  }
  return g.cmp('linkhdr', 0, 0x00 /* BPF_W */, v);
}

// AF_INET6 as NetBSD/OpenBSD, FreeBSD and Darwin number it (libpcap's BSD_AFNUM_INET6_*).
const BSD_AF_INET6 = [24, 28, 30];

/** `ip6` on a loopback header: a capture file may come from any BSD, so all three values match. */
function loopbackIpv6(g: Gen): Block {
  if (g.savefile === undefined) return loopback(g, AF_INET6);
  const [bsd = 24, freebsd = 28, darwin = 30] = BSD_AF_INET6;
  const b0 = loopback(g, bsd);
  const b1 = loopback(g, freebsd);
  genOr(b0, b1);
  genOr(loopback(g, darwin), b1);
  return b1;
}

export function genLinktype(g: Gen, p: number): Block {
  if (g.labelStackDepth > 0) return mplsLinktype(g, p);
  switch (g.linktype) {
    case DLT.EN10MB:
      return etherLinktype(g, p);
    case DLT.LINUX_SLL:
    case DLT.LINUX_SLL2:
      return sllLinktype(g, p);
    case DLT.C_HDLC:
      // Cisco HDLC carries EtherTypes, and 0xfefe for OSI.
      return g.cmp('linktype', 0, BPF_H, p === LLCSAP.ISONS ? (p << 8) | p : p);
    case DLT.SLIP:
    case DLT.RAW:
      // No type field: the IP version nibble, at the link header as libpcap
      // tests it (on SLIP that is the pseudo-header's direction byte).
      if (p === ETHERTYPE.IP) return g.mcmp('linkhdr', 0, BPF_B, 0x40, 0xf0);
      if (p === ETHERTYPE.IPV6) return g.mcmp('linkhdr', 0, BPF_B, 0x60, 0xf0);
      return g.genFalse();
    case DLT.IPV4:
      return p === ETHERTYPE.IP ? g.genTrue() : g.genFalse();
    case DLT.IPV6:
      return p === ETHERTYPE.IPV6 ? g.genTrue() : g.genFalse();
    case DLT.NULL:
    case DLT.LOOP:
      if (p === ETHERTYPE.IP) return loopback(g, AF_INET);
      if (p === ETHERTYPE.IPV6) return loopbackIpv6(g);
      return g.genFalse();
    case DLT.PFLOG:
      // struct pfloghdr: af is the second byte.
      if (p === ETHERTYPE.IP) return g.cmp('linkhdr', 1, BPF_B, AF_INET);
      if (p === ETHERTYPE.IPV6) return g.cmp('linkhdr', 1, BPF_B, AF_INET6);
      return g.genFalse();
    case DLT.PPP:
    case DLT.PPP_SERIAL:
    case DLT.PPP_ETHER:
      return g.cmp('linktype', 0, BPF_H, PPP_TYPES[p] ?? p);
    case DLT.PPP_BSDOS:
      if (p === ETHERTYPE.IP) {
        let b0 = g.cmp('linktype', 0, BPF_H, PPP_TYPES[p] ?? p);
        const b1 = g.cmp('linktype', 0, BPF_H, PPP_VJC);
        genOr(b0, b1);
        b0 = g.cmp('linktype', 0, BPF_H, PPP_VJNC);
        genOr(b1, b0);
        return b0;
      }
      return g.cmp('linktype', 0, BPF_H, PPP_TYPES[p] ?? p);
    case DLT.FRELAY:
      if (p === ETHERTYPE.IP) return frelayNlpid(g, NLPID.IP);
      if (p === ETHERTYPE.IPV6) return frelayNlpid(g, NLPID.IPV6);
      if (p === LLCSAP.ISONS) {
        const b0 = frelayNlpid(g, NLPID.CLNP);
        const b1 = frelayNlpid(g, NLPID.ESIS);
        const b2 = frelayNlpid(g, NLPID.ISIS);
        genOr(b1, b2);
        genOr(b0, b2);
        return b2;
      }
      return g.genFalse();
    case DLT.IEEE802_11:
    case DLT.PRISM_HEADER:
    case DLT.IEEE802_11_RADIO:
    case DLT.IEEE802_11_RADIO_AVS:
    case DLT.PPI: {
      // Only data frames carry a payload; it starts with an LLC header.
      const b0 = dataFrameCheck(g);
      const b1 = llcLinktype(g, p);
      genAnd(b0, b1);
      return b1;
    }
    default:
      if (g.off.linktype.constant >= 0) return g.cmp('linktype', 0, BPF_H, p);
      return fail(`link-layer type filtering not implemented for DLT_${linktypeName(g.linktype)}`, 'any');
  }
}

/** Not a non-first fragment: `ip[6:2] & 0x1fff == 0`. */
export function genIpfrag(g: Gen): Block {
  const b = g.block(jmp(BPF_JSET), 0x1fff, g.loadA('linkpl', 6, BPF_H));
  genNot(b);
  return b;
}

/** `proto N` under a protocol qualifier (gen_proto, without protochain). */
export function genProto(g: Gen, v: number, proto: Proto): Block {
  switch (proto) {
    case 'default': {
      const b0 = genProto(g, v, 'ip');
      const b1 = genProto(g, v, 'ip6');
      genOr(b0, b1);
      return b1;
    }
    case 'link':
      if (v > 0xffff) fail(`EtherType ${String(v)} greater than maximum 65535`);
      return genLinktype(g, v);
    case 'ip': {
      if (v > 255) fail(`protocol number ${String(v)} greater than maximum 255`);
      const b0 = genLinktype(g, ETHERTYPE.IP);
      const b1 = g.cmp('linkpl', 9, BPF_B, v);
      genAnd(b0, b1);
      return b1;
    }
    case 'ip6': {
      if (v > 255) fail(`protocol number ${String(v)} greater than maximum 255`);
      const b0 = genLinktype(g, ETHERTYPE.IPV6);
      // Also look behind one fragment header (gencode.c).
      let b2 = g.cmp('linkpl', 6, BPF_B, IPPROTO.FRAGMENT);
      const b1 = g.cmp('linkpl', 40, BPF_B, v);
      genAnd(b2, b1);
      b2 = g.cmp('linkpl', 6, BPF_B, v);
      genOr(b2, b1);
      genAnd(b0, b1);
      return b1;
    }
    case 'iso': {
      if (v > 255) fail(`ISO protocol ${String(v)} greater than maximum 255`);
      // Frame Relay: the NLPID is the protocol itself.
      if (g.linktype === DLT.FRELAY) return frelayNlpid(g, v);
      const b0 = genLinktype(g, LLCSAP.ISONS);
      // Cisco HDLC stuffs a fudge byte in front of OSI payloads.
      const b1 = g.cmp('linkpl_nosnap', g.linktype === DLT.C_HDLC ? 1 : 0, BPF_B, v);
      genAnd(b0, b1);
      return b1;
    }
    case 'isis': {
      if (v > 31) fail(`IS-IS PDU type ${String(v)} greater than maximum 31`);
      const b0 = genProto(g, 0x83, 'iso');
      // The PDU type is the fifth byte of the IS-IS header.
      const b1 = g.cmp('linkpl_nosnap', 4, BPF_B, v);
      genAnd(b0, b1);
      return b1;
    }
    default:
      return fail(`'${proto}' is not a valid qualifier for 'proto'`);
  }
}

// IS-IS PDU types (ISO 10589 §9): the abbreviations OR these together.
const ISIS_PDUS: Partial<Record<Proto, number[]>> = {
  l1: [15, 17, 18, 24, 26],
  l2: [16, 17, 20, 25, 27],
  iih: [15, 16, 17],
  lsp: [18, 20],
  snp: [24, 25, 26, 27],
  csnp: [24, 25],
  psnp: [26, 27],
};

function isisAny(g: Gen, types: readonly number[]): Block {
  // As gencode.c chains them: each new test is OR'ed in front.
  const [first, ...rest] = types;
  if (first === undefined) return g.genFalse();
  let b1 = genProto(g, first, 'isis');
  for (const t of rest) {
    const b0 = genProto(g, t, 'isis');
    if (t === rest[0]) {
      genOr(b1, b0);
      b1 = b0;
    } else {
      genOr(b0, b1);
    }
  }
  return b1;
}

export function genProtoAbbrev(g: Gen, proto: Proto): Block {
  switch (proto) {
    case 'sctp': return genProto(g, IPPROTO.SCTP, 'default');
    case 'tcp': return genProto(g, IPPROTO.TCP, 'default');
    case 'udp': return genProto(g, IPPROTO.UDP, 'default');
    case 'icmp': return genProto(g, IPPROTO.ICMP, 'ip');
    case 'igmp': return genProto(g, IPPROTO.IGMP, 'ip');
    case 'igrp': return genProto(g, IPPROTO.IGRP, 'ip');
    case 'pim': return genProto(g, IPPROTO.PIM, 'default');
    case 'vrrp': return genProto(g, IPPROTO.VRRP, 'ip');
    case 'carp': return genProto(g, IPPROTO.VRRP, 'ip');
    case 'ip': return genLinktype(g, ETHERTYPE.IP);
    case 'arp': return genLinktype(g, ETHERTYPE.ARP);
    case 'rarp': return genLinktype(g, ETHERTYPE.REVARP);
    case 'link': return fail("'link' cannot be used as an abbreviation");
    case 'atalk': return genLinktype(g, ETHERTYPE.ATALK);
    case 'aarp': return genLinktype(g, ETHERTYPE.AARP);
    case 'decnet': return genLinktype(g, ETHERTYPE.DN);
    case 'sca': return genLinktype(g, ETHERTYPE.SCA);
    case 'lat': return genLinktype(g, ETHERTYPE.LAT);
    case 'mopdl': return genLinktype(g, ETHERTYPE.MOPDL);
    case 'moprc': return genLinktype(g, ETHERTYPE.MOPRC);
    case 'ip6': return genLinktype(g, ETHERTYPE.IPV6);
    case 'icmp6': return genProto(g, IPPROTO.ICMPV6, 'ip6');
    case 'ah': return genProto(g, IPPROTO.AH, 'default');
    case 'esp': return genProto(g, IPPROTO.ESP, 'default');
    case 'iso': return genLinktype(g, LLCSAP.ISONS);
    case 'esis': return genProto(g, 0x82, 'iso');
    case 'isis': return genProto(g, 0x83, 'iso');
    case 'clnp': return genProto(g, 0x81, 'iso');
    case 'stp': return genLinktype(g, LLCSAP.STP);
    case 'ipx': return genLinktype(g, LLCSAP.IPX);
    case 'netbeui': return genLinktype(g, LLCSAP.NETBEUI);
    case 'radio': return fail("'radio' cannot be used as an abbreviation");
    case 'l1': case 'l2': case 'iih': case 'lsp': case 'snp': case 'csnp': case 'psnp':
      return isisAny(g, ISIS_PDUS[proto] ?? []);
    default:
      return fail(`'${proto}' is not supported by moat bpf`);
  }
}
