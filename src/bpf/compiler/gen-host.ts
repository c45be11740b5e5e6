// Host and network tests: IPv4 (gen_host/gen_hostop), IPv6 (gen_host6/
// gen_hostop6) and Ethernet addresses (gen_ehostop), as in gencode.c.
import { BPF_B, BPF_H, BPF_W } from '../insn.js';
import type { Dir, Proto } from './ast.js';
import { genAnd, genNot, genOr, type Block } from './block.js';
import { fail } from './errors.js';
import type { Gen } from './gen.js';
import { ETHERTYPE, genLinktype } from './gen-link.js';
import { DLT } from './linktypes.js';
import { wlanHostop } from './gen-80211.js';
import { is80211 } from './gen-80211-prologue.js';
import { prevLinkhdrCheck } from './gen-geneve.js';

/** The 802.11 address qualifiers (a set made once: this is asked for every id). */
export const WLAN_DIRS: ReadonlySet<string> = new Set(['addr1', 'addr2', 'addr3', 'addr4', 'ra', 'ta']);

export function checkDir80211(g: Gen, dir: Dir): void {
  if (WLAN_DIRS.has(dir) && !is80211(g.linktype)) {
    fail(`'${dir}' is valid for 802.11 syntax only`);
  }
}

function hostop(g: Gen, addr: number, mask: number, dir: Dir, llProto: number, srcOff: number, dstOff: number): Block {
  let offset: number;
  switch (dir) {
    case 'src':
      offset = srcOff;
      break;
    case 'dst':
      offset = dstOff;
      break;
    case 'and': {
      const b0 = hostop(g, addr, mask, 'src', llProto, srcOff, dstOff);
      const b1 = hostop(g, addr, mask, 'dst', llProto, srcOff, dstOff);
      genAnd(b0, b1);
      return b1;
    }
    case 'default':
    case 'or': {
      const b0 = hostop(g, addr, mask, 'src', llProto, srcOff, dstOff);
      const b1 = hostop(g, addr, mask, 'dst', llProto, srcOff, dstOff);
      genOr(b0, b1);
      return b1;
    }
    default:
      // libpcap master's wording, even on 802.11: these qualifiers are for MAC addresses.
      return fail(`'${dir}' is valid for 802.11 syntax only`);
  }
  const b0 = genLinktype(g, llProto);
  const b1 = g.mcmp('linkpl', offset, BPF_W, addr, mask);
  genAnd(b0, b1);
  return b1;
}

/** IPv4 host/net. `what` names the operand for error messages ('host <IPv4 address>'). */
export function genHost(g: Gen, addr: number, mask: number, proto: Proto, dir: Dir, what: string): Block {
  checkDir80211(g, dir);
  switch (proto) {
    case 'default': {
      let b0 = genHost(g, addr, mask, 'ip', dir, what);
      // Only look at ARP/RARP when not inside MPLS (gencode.c).
      if (g.labelStackDepth === 0) {
        const b1 = genHost(g, addr, mask, 'arp', dir, what);
        genOr(b0, b1);
        b0 = genHost(g, addr, mask, 'rarp', dir, what);
        genOr(b1, b0);
      }
      return b0;
    }
    case 'ip':
      return hostop(g, addr, mask, dir, ETHERTYPE.IP, 12, 16);
    case 'arp':
      return hostop(g, addr, mask, dir, ETHERTYPE.ARP, 14, 24);
    case 'rarp':
      return hostop(g, addr, mask, dir, ETHERTYPE.REVARP, 14, 24);
    default:
      return fail(`'${proto}' is not a valid qualifier for '${what}'`);
  }
}

function hostop6(g: Gen, addr: readonly number[], mask: readonly number[], dir: Dir, srcOff: number, dstOff: number): Block {
  let offset: number;
  switch (dir) {
    case 'src':
      offset = srcOff;
      break;
    case 'dst':
      offset = dstOff;
      break;
    case 'and': {
      const b0 = hostop6(g, addr, mask, 'src', srcOff, dstOff);
      const b1 = hostop6(g, addr, mask, 'dst', srcOff, dstOff);
      genAnd(b0, b1);
      return b1;
    }
    case 'default':
    case 'or': {
      const b0 = hostop6(g, addr, mask, 'src', srcOff, dstOff);
      const b1 = hostop6(g, addr, mask, 'dst', srcOff, dstOff);
      genOr(b0, b1);
      return b1;
    }
    default:
      // libpcap master's wording, even on 802.11: these qualifiers are for MAC addresses.
      return fail(`'${dir}' is valid for 802.11 syntax only`);
  }
  const word = (a: readonly number[], i: number): number =>
    (((a[i * 4] ?? 0) << 24) | ((a[i * 4 + 1] ?? 0) << 16) | ((a[i * 4 + 2] ?? 0) << 8) | (a[i * 4 + 3] ?? 0)) >>> 0;
  // "this order is important" (gencode.c): last word first.
  const b1 = g.mcmp('linkpl', offset + 12, BPF_W, word(addr, 3), word(mask, 3));
  let b0 = g.mcmp('linkpl', offset + 8, BPF_W, word(addr, 2), word(mask, 2));
  genAnd(b0, b1);
  b0 = g.mcmp('linkpl', offset + 4, BPF_W, word(addr, 1), word(mask, 1));
  genAnd(b0, b1);
  b0 = g.mcmp('linkpl', offset, BPF_W, word(addr, 0), word(mask, 0));
  genAnd(b0, b1);
  b0 = genLinktype(g, ETHERTYPE.IPV6);
  genAnd(b0, b1);
  return b1;
}

export function genHost6(g: Gen, addr: readonly number[], mask: readonly number[], proto: Proto, dir: Dir, what: string): Block {
  checkDir80211(g, dir);
  switch (proto) {
    case 'default':
    case 'ip6':
      return hostop6(g, addr, mask, dir, 8, 24);
    default:
      return fail(`'${proto}' is not a valid qualifier for '${what}'`);
  }
}

export function genEhostop(g: Gen, eaddr: readonly number[], dir: Dir): Block {
  switch (dir) {
    case 'src':
      return g.bcmp('linkhdr', 6, eaddr);
    case 'dst':
      return g.bcmp('linkhdr', 0, eaddr);
    case 'and': {
      const b0 = genEhostop(g, eaddr, 'src');
      const b1 = genEhostop(g, eaddr, 'dst');
      genAnd(b0, b1);
      return b1;
    }
    case 'default':
    case 'or': {
      const b0 = genEhostop(g, eaddr, 'src');
      const b1 = genEhostop(g, eaddr, 'dst');
      genOr(b0, b1);
      return b1;
    }
    default:
      checkDir80211(g, dir);
      return fail(`'${dir}' is not a valid qualifier for an Ethernet address`);
  }
}

/** Ethernet-address test on the current link type (gen_ecode's switch). */
export function genEther(g: Gen, eaddr: readonly number[], dir: Dir): Block {
  checkDir80211(g, dir);
  if (is80211(g.linktype)) return wlanHostop(g, eaddr, dir);
  if (g.linktype !== DLT.EN10MB) fail(`'link host XX:XX:XX:XX:XX:XX' not supported on DLT_${g.linktypeLabel}`);
  const b = genEhostop(g, eaddr, dir);
  const pre = prevLinkhdrCheck(g);
  if (pre !== null) genAnd(pre, b);
  return b;
}

/** gen_gateway: link address is the gateway's, IP address is not. */
export function genGateway(g: Gen, eaddr: readonly number[], addrs: readonly number[], proto: Proto): Block {
  if (!['default', 'ip', 'arp', 'rarp'].includes(proto)) fail(`'${proto}' is not a valid qualifier for 'gateway'`);
  if (g.labelStackDepth > 0) fail("'gateway' cannot be used within MPLS");
  if (g.isGeneve) fail("'gateway' cannot be used within VXLAN or Geneve");
  const wlan = is80211(g.linktype);
  if (g.linktype !== DLT.EN10MB && !wlan) fail(`'gateway' not supported on DLT_${g.linktypeLabel}`);
  const b0 = wlan ? wlanHostop(g, eaddr, 'or') : genEhostop(g, eaddr, 'or');
  let b1: Block | null = null;
  for (const a of addrs) {
    const tmp = genHost(g, a, 0xffffffff, proto, 'or', 'gateway');
    if (b1 !== null) genOr(b1, tmp);
    b1 = tmp;
  }
  if (b1 === null) return fail('gateway has no IPv4 address');
  genNot(b1);
  genAnd(b0, b1);
  return b1;
}

/**
 * DECnet host (gen_dnhostop): the address sits at one of four places,
 * depending on the long/short header and padding flags. libpcap builds the
 * constants with ntohs() on its own host, so on a little-endian host they
 * are byte-swapped; we mirror the compiling host as it does.
 */
export function genDnhost(g: Gen, addr: number, dir: Dir): Block {
  let offsetSh: number;
  let offsetLh: number;
  switch (dir) {
    case 'dst':
      offsetSh = 1;
      offsetLh = 7;
      break;
    case 'src':
      offsetSh = 3;
      offsetLh = 15;
      break;
    case 'and':
    case 'default':
    case 'or': {
      const b0 = genDnhost(g, addr, 'src');
      const b1 = genDnhost(g, addr, 'dst');
      if (dir === 'and') genAnd(b0, b1);
      else genOr(b0, b1);
      return b1;
    }
    default:
      checkDir80211(g, dir);
      return fail(`'${dir}' is not a valid qualifier for 'decnet host'`);
  }
  const ntohs = (v: number): number => (g.littleEndianHost ? ((v & 0xff) << 8) | ((v >> 8) & 0xff) : v & 0xffff);
  const a = ntohs(addr);
  const b0 = genLinktype(g, 0x6003);
  let tmp = g.mcmp('linkpl', 2, BPF_H, ntohs(0x0681), ntohs(0x07ff));
  const b1 = g.cmp('linkpl', 2 + 1 + offsetLh, BPF_H, a);
  genAnd(tmp, b1);
  tmp = g.mcmp('linkpl', 2, BPF_B, 0x06, 0x07);
  let b2 = g.cmp('linkpl', 2 + offsetLh, BPF_H, a);
  genAnd(tmp, b2);
  genOr(b2, b1);
  tmp = g.mcmp('linkpl', 2, BPF_H, ntohs(0x0281), ntohs(0x07ff));
  b2 = g.cmp('linkpl', 2 + 1 + offsetSh, BPF_H, a);
  genAnd(tmp, b2);
  genOr(b2, b1);
  tmp = g.mcmp('linkpl', 2, BPF_B, 0x02, 0x07);
  b2 = g.cmp('linkpl', 2 + offsetSh, BPF_H, a);
  genAnd(tmp, b2);
  genOr(b2, b1);
  genAnd(b0, b1);
  return b1;
}
