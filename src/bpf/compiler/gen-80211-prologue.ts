// The code that runs once, before the filter proper, on 802.11 link types
// (gencode.c insert_compute_vloffsets and the gen_load_*_llprefixlen
// loaders): the length of the radio header in front of the 802.11 frame
// (Prism/AVS, AVS, radiotap, PPI), then the length of the 802.11 MAC header,
// which depends on the frame type, the QoS bit and radiotap's data padding.
// Both go to the scratch registers that loads through a variable offset read
// (`ldx M[r]`). The computation contains jumps inside one statement list,
// which is why libpcap turns its optimizer off for it.
import { BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_IMM, BPF_IND, BPF_JA, BPF_JEQ, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LSH, BPF_MEM, BPF_MISC, BPF_OR, BPF_ST, BPF_TAX, BPF_TXA, BPF_W, BPF_X } from '../insn.js';
import { jmp, type Block, type Stmt } from './block.js';
import type { Gen } from './gen.js';
import { DLT } from './linktypes.js';

/** The link types whose frames are 802.11, with or without a radio header in front. */
export function is80211(dlt: number): boolean {
  return dlt === DLT.IEEE802_11 || dlt === DLT.PRISM_HEADER || dlt === DLT.IEEE802_11_RADIO || dlt === DLT.IEEE802_11_RADIO_AVS || dlt === DLT.PPI;
}

/** Byte-swap a word: radiotap fields are little-endian, BPF loads are big-endian. */
function swapLong(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** Radiotap and PPI: the header length is the little-endian 16-bit word at offset 2. */
function leLength(g: Gen, reg: number): Stmt[] {
  return [
    g.stmt(BPF_LD | BPF_B | BPF_ABS, 3),
    g.stmt(BPF_ALU | BPF_LSH | BPF_K, 8),
    g.stmt(BPF_MISC | BPF_TAX),
    g.stmt(BPF_LD | BPF_B | BPF_ABS, 2),
    g.stmt(BPF_ALU | BPF_OR | BPF_X),
    g.stmt(BPF_ST, reg),
    g.stmt(BPF_MISC | BPF_TAX),
  ];
}

/**
 * Linux's ARPHRD_IEEE80211_PRISM carries either a 144-byte Prism header or
 * an AVS header, told apart by the AVS cookie 0x80211000 (version masked).
 */
function prismLength(g: Gen, reg: number): Stmt[] {
  const isAvs = g.stmt(jmp(BPF_JEQ), 0x80211000);
  const avsLen = g.stmt(BPF_LD | BPF_W | BPF_ABS, 4);
  const skip = g.stmt(BPF_JMP | BPF_JA, 1);
  const prism = g.stmt(BPF_LD | BPF_W | BPF_IMM, 144);
  const store = g.stmt(BPF_ST, reg);
  isAvs.jtStmt = avsLen;
  isAvs.jfStmt = prism;
  return [g.stmt(BPF_LD | BPF_W | BPF_ABS, 0), g.stmt(BPF_ALU | BPF_AND | BPF_K, 0xfffff000), isAvs, avsLen, skip, prism, store, g.stmt(BPF_MISC | BPF_TAX)];
}

/** X := the radio header's length, stored in the link-header register; null when nothing reads it. */
function radioLength(g: Gen): Stmt[] | null {
  const reg = g.off.linkhdr.reg;
  if (reg === -1) return null;
  switch (g.outerLinktype) {
    case DLT.PRISM_HEADER:
      g.noOptimize = true;
      return prismLength(g, reg);
    case DLT.IEEE802_11_RADIO_AVS:
      // AVS: the header length is the big-endian word at offset 4.
      return [g.stmt(BPF_LD | BPF_W | BPF_ABS, 4), g.stmt(BPF_ST, reg), g.stmt(BPF_MISC | BPF_TAX)];
    case DLT.IEEE802_11_RADIO:
    case DLT.PPI:
      return leLength(g, reg);
    default:
      return null;
  }
}

/**
 * gen_load_802_11_header_len: the payload starts 24 bytes after the 802.11
 * header for data frames (IEEE 802.11-2016 §9.3.2.1), 2 more with QoS, and
 * rounded up to 4 when radiotap says the driver padded it (the DATAPAD
 * flag, looked for only in a single-word presence bitmap, as libpcap does).
 */
function macHeaderLength(g: Gen, s0: Stmt[] | null, next: Stmt | undefined): Stmt[] | null {
  const reg = g.off.linkpl.reg;
  if (reg === -1) return s0;
  g.noOptimize = true;
  const s = s0 ?? [g.stmt(BPF_LDX | BPF_IMM, 0)];
  const add = (code: number, k = 0): Stmt => {
    const st = g.stmt(code, k);
    s.push(st);
    return st;
  };
  add(BPF_MISC | BPF_TXA);
  add(BPF_ALU | BPF_ADD | BPF_K, 24);
  add(BPF_ST, reg);
  add(BPF_LD | BPF_IND | BPF_B, 0);
  // A data frame has frame-control bit 0x08 set and 0x04 clear.
  const data1 = add(jmp(BPF_JSET), 0x08);
  const data2 = add(jmp(BPF_JSET), 0x04);
  const qos = add(jmp(BPF_JSET), 0x80);
  data1.jtStmt = data2;
  data1.jfStmt = next;
  data2.jtStmt = next;
  data2.jfStmt = qos;
  qos.jtStmt = add(BPF_LD | BPF_MEM, reg);
  add(BPF_ALU | BPF_ADD | BPF_IMM, 2);
  add(BPF_ST, reg);
  if (g.outerLinktype !== DLT.IEEE802_11_RADIO) {
    qos.jfStmt = next;
    return s;
  }
  qos.jfStmt = add(BPF_LD | BPF_ABS | BPF_W, 4);
  const flags = add(jmp(BPF_JSET), swapLong(0x00000002));
  const ext = add(jmp(BPF_JSET), swapLong(0x80000000));
  const tsft = add(jmp(BPF_JSET), swapLong(0x00000001));
  flags.jtStmt = ext;
  flags.jfStmt = next;
  ext.jtStmt = next;
  ext.jfStmt = tsft;
  // The flags byte follows the 8-byte header, and the 8-byte TSFT if present.
  tsft.jtStmt = add(BPF_LD | BPF_ABS | BPF_B, 16);
  const padT = add(jmp(BPF_JSET), 0x20);
  tsft.jfStmt = add(BPF_LD | BPF_ABS | BPF_B, 8);
  const padF = add(jmp(BPF_JSET), 0x20);
  const roundup = add(BPF_LD | BPF_MEM, reg);
  add(BPF_ALU | BPF_ADD | BPF_IMM, 3);
  add(BPF_ALU | BPF_AND | BPF_IMM, ~3 >>> 0);
  add(BPF_ST, reg);
  for (const p of [padT, padF]) {
    p.jtStmt = roundup;
    p.jfStmt = next;
  }
  return s;
}

/** insert_compute_vloffsets for the 802.11 family: `head` is the first block's statements. */
export function wlanPrologue(g: Gen, head: Stmt[]): Stmt[] {
  // The payload offset includes the radio header's length, so computing it
  // needs that length even when no load used the link header directly.
  if (g.off.linkpl.reg !== -1 && g.off.linkhdr.isVariable && g.off.linkhdr.reg === -1) g.off.linkhdr.reg = g.allocReg();
  const s = macHeaderLength(g, radioLength(g), head[0]);
  return s === null ? head : [...s, ...head];
}

/** gen_ppi_dlt_check: PPI's DLT field (little-endian, at offset 4) must say 802.11. */
export function genPpiDltCheck(g: Gen): Block | null {
  if (g.linktype !== DLT.PPI) return null;
  return g.block(jmp(BPF_JEQ), swapLong(DLT.IEEE802_11), [g.stmt(BPF_LD | BPF_W | BPF_ABS, 4)]);
}
