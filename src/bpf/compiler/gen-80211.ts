// IEEE 802.11 frames (gencode.c gen_check_802_11_data_frame,
// gen_llc_linktype, gen_wlanhostop, gen_p80211_type, gen_p80211_fcdir and
// the 802.11 cases of broadcast/multicast/llc). Offsets are into the MAC
// header (IEEE 802.11-2016 §9.2.4): frame control at 0 (type 0x0c, subtype
// 0xf0), flags at 1 (To DS 0x01, From DS 0x02), addresses at 4, 10, 16, 24.
import { BPF_B, BPF_H, BPF_JSET } from '../insn.js';
import type { Dir } from './ast.js';
import { genAnd, genNot, genOr, jmp, type Block } from './block.js';
import { fail } from './errors.js';
import type { Gen } from './gen.js';
import { ETHERTYPE, LLCSAP, snap } from './gen-link.js';

const ETHERMTU = 1500;
const FC0_TYPE_MASK = 0x0c;
const FC0_SUBTYPE_MASK = 0xf0;
const FC0_TYPE_CTL = 0x04;
const FC0_SUBTYPE_CTS = 0xc0;
const FC0_SUBTYPE_ACK = 0xd0;
const FC1_DIR_MASK = 0x03;
const FC1_DIR_DSTODS = 0x03;

function fcJset(g: Gen, offset: number, bit: number): Block {
  return g.block(jmp(BPF_JSET), bit, g.loadA('linkhdr', offset, BPF_B));
}

/** Frame-control bit 0x08 set and 0x04 clear (the 0x04 test runs first). */
export function dataFrameCheck(g: Gen): Block {
  const b0 = fcJset(g, 0, 0x08);
  const b1 = fcJset(g, 0, 0x04);
  genNot(b1);
  genAnd(b1, b0);
  return b0;
}

/** gen_llc_linktype: 802.2 LLC after the MAC header; EtherTypes are looked for in a SNAP header. */
export function llcLinktype(g: Gen, p: number): Block {
  switch (p) {
    case LLCSAP.IP:
    case LLCSAP.ISONS:
    case LLCSAP.NETBEUI:
      return g.cmp('llc', 0, BPF_H, (p << 8) | p);
    case LLCSAP.IPX:
      return g.cmp('llc', 0, BPF_B, LLCSAP.IPX);
    case ETHERTYPE.ATALK:
      return snap(g, 0x080007, ETHERTYPE.ATALK);
    default:
      // Only the SNAP type field is compared, not the OUI (as libpcap).
      if (p <= ETHERMTU) return g.cmp('llc', 0, BPF_B, p);
      return g.cmp('llc', 6, BPF_H, p);
  }
}

/** Not a CTS or ACK control frame: those carry no second address. */
function hasAddr2(g: Gen): Block {
  const b0 = g.mcmp('linkhdr', 0, BPF_B, FC0_TYPE_CTL, FC0_TYPE_MASK);
  genNot(b0);
  const b1 = g.mcmp('linkhdr', 0, BPF_B, FC0_SUBTYPE_CTS, FC0_SUBTYPE_MASK);
  genNot(b1);
  const b2 = g.mcmp('linkhdr', 0, BPF_B, FC0_SUBTYPE_ACK, FC0_SUBTYPE_MASK);
  genNot(b2);
  genAnd(b1, b2);
  genOr(b0, b2);
  return b2;
}

/**
 * SA or DA, wherever the frame puts it: data frames by the DS bits,
 * management frames at a fixed place, control frames not at all. `test`
 * builds the comparison at an offset (an address match, or the group bit).
 */
function byFrame(g: Gen, test: (off: number) => Block, toDsOff: number, noDsOff: number, src: boolean): Block {
  let b1 = fcJset(g, 1, 0x01);
  const b0 = test(toDsOff);
  genAnd(b1, b0);
  let b2 = fcJset(g, 1, 0x01);
  genNot(b2);
  b1 = test(noDsOff);
  genAnd(b2, b1);
  genOr(b1, b0);
  if (src) {
    // SA: From DS set → 24 or 16 (just done); From DS clear → 10.
    b1 = fcJset(g, 1, 0x02);
    genAnd(b1, b0);
    b2 = fcJset(g, 1, 0x02);
    genNot(b2);
    b1 = test(10);
    genAnd(b2, b1);
    genOr(b1, b0);
  }
  b1 = fcJset(g, 0, 0x08);
  genAnd(b1, b0);
  b2 = fcJset(g, 0, 0x08);
  genNot(b2);
  b1 = test(src ? 10 : 4);
  genAnd(b2, b1);
  genOr(b1, b0);
  b1 = fcJset(g, 0, 0x04);
  genNot(b1);
  genAnd(b1, b0);
  return b0;
}

/** gen_wlanhostop: an 802.11 MAC address under a direction qualifier. */
export function wlanHostop(g: Gen, eaddr: readonly number[], dir: Dir): Block {
  const at = (off: number): Block => g.bcmp('linkhdr', off, eaddr);
  switch (dir) {
    case 'src':
      return byFrame(g, at, 24, 16, true);
    case 'dst':
      return byFrame(g, at, 16, 4, false);
    case 'ra': {
      // Not in management frames; addr1 otherwise.
      const b1 = fcJset(g, 0, 0x08);
      const b0 = at(4);
      genAnd(b1, b0);
      return b0;
    }
    case 'ta': {
      const b2 = hasAddr2(g);
      const b1 = fcJset(g, 0, 0x08);
      genAnd(b1, b2);
      const b3 = at(10);
      genAnd(b2, b3);
      return b3;
    }
    case 'addr1':
      return at(4);
    case 'addr2': {
      const b2 = hasAddr2(g);
      const b1 = at(10);
      genAnd(b2, b1);
      return b1;
    }
    case 'addr3': {
      const b0 = g.mcmp('linkhdr', 0, BPF_B, FC0_TYPE_CTL, FC0_TYPE_MASK);
      genNot(b0);
      const b1 = at(16);
      genAnd(b0, b1);
      return b1;
    }
    case 'addr4': {
      // Only with both DS bits set; no control or management frame has that.
      const b0 = g.mcmp('linkhdr', 1, BPF_B, FC1_DIR_DSTODS, FC1_DIR_MASK);
      const b1 = at(24);
      genAnd(b0, b1);
      return b1;
    }
    case 'and': {
      const b0 = wlanHostop(g, eaddr, 'src');
      const b1 = wlanHostop(g, eaddr, 'dst');
      genAnd(b0, b1);
      return b1;
    }
    case 'default':
    case 'or': {
      const b0 = wlanHostop(g, eaddr, 'src');
      const b1 = wlanHostop(g, eaddr, 'dst');
      genOr(b0, b1);
      return b1;
    }
    case 'undef':
      return fail('syntax error in filter expression');
  }
}

/** `multicast` on 802.11: the group bit of the DA (none in control frames). */
export function wlanMulticast(g: Gen): Block {
  return byFrame(g, (off) => fcJset(g, off, 0x01), 16, 4, false);
}

/** `type`/`subtype` (gen_p80211_type): the frame-control byte under `mask`. */
export function p80211Type(g: Gen, value: number, mask: number): Block {
  return g.mcmp('linkhdr', 0, BPF_B, value, mask);
}

/** `dir` (gen_p80211_fcdir): the two DS bits. */
export function p80211Dir(g: Gen, value: number): Block {
  return g.mcmp('linkhdr', 1, BPF_B, value, FC1_DIR_MASK);
}
