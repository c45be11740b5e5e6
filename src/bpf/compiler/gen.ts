// Code-generation state and primitives, modelled on libpcap's gencode.c
// (1.10.3): statements and blocks, loads relative to the link header, the
// link payload or the transport header, comparisons, and the scratch
// register allocator. Higher-level generators live in gen-*.ts.
import {
  BPF_ABS, BPF_ALU, BPF_AND, BPF_B, BPF_H, BPF_IMM, BPF_IND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET, BPF_K, BPF_LD, BPF_LDX,
  BPF_MEM, BPF_MEMWORDS, BPF_MSH, BPF_RET, BPF_W, BPF_ADD, BPF_X, BPF_MISC, BPF_TAX, BPF_LSH,
} from '../insn.js';
import { Block, genAnd, genNot, jmp, type Clause, type Stmt } from './block.js';
import { fail } from './errors.js';
import { DLT, checkOnlyOffsets, initLinktype, isSupportedLinktype, linktypeDescription, linktypeName, type AbsOffset, type LinkOffsets } from './linktypes.js';
import type { NameDb } from './names.js';
import { is80211, wlanPrologue } from './gen-80211-prologue.js';

export type OffRel =
  | 'packet' | 'linkhdr' | 'llc' | 'prevmplshdr' | 'linkpl' | 'linkpl_nosnap' | 'linktype' | 'tran_ipv4' | 'tran_ipv6';

export interface GenOptions {
  linktype: number;
  snaplen: number;
  netmask: number;
  names: NameDb | null;
  littleEndianHost: boolean;
  /** Compiling for a capture file (libpcap's savefile mode), and whether its byte order is the host's opposite. */
  savefile?: { swapped: boolean } | undefined;
}

export const PCAP_NETMASK_UNKNOWN = 0xffffffff;

export class Gen {
  /** The current link type: `pppoes` switches it to PPP, `geneve` to Ethernet. */
  linktype: number;
  /** The link type before the last switch (libpcap's prevlinktype). */
  prevLinktype: number;
  readonly outerLinktype: number;
  readonly snaplen: number;
  readonly netmask: number;
  readonly names: NameDb | null;
  readonly littleEndianHost: boolean;
  readonly savefile: { swapped: boolean } | undefined;
  off: LinkOffsets;
  private readonly outerLinkpl: AbsOffset;
  /** The scratch registers in use, one bit each (a number: no array made per compile). */
  private regused = 0;
  private curreg = 0;
  /** MPLS labels seen so far in the expression (gen_mpls shifts offsets). */
  labelStackDepth = 0;
  vlanStackDepth = 0;
  isGeneve = false;
  /** protochain's backward jump defeats the optimizer (libpcap no_optimize). */
  noOptimize = false;
  /** The clause being compiled, stamped on every statement (for --explain). */
  clause: Clause | undefined;
  /** Has a scratch store (`st`, `stx`) been made? (Every statement is made by stmt().) */
  stores = false;

  constructor(opts: GenOptions) {
    this.linktype = opts.linktype;
    this.outerLinktype = opts.linktype;
    this.prevLinktype = opts.linktype;
    this.snaplen = opts.snaplen;
    this.netmask = opts.netmask;
    this.names = opts.names;
    this.littleEndianHost = opts.littleEndianHost;
    this.savefile = opts.savefile;
    this.off = isSupportedLinktype(opts.linktype) ? initLinktype(opts.linktype) : checkOnlyOffsets();
    this.outerLinkpl = this.off.linkpl;
  }

  /**
   * gencode.c PUSH_LINKHDR: what follows is a new link-layer header of
   * `linktype` at the given offset (pppoes, geneve). It is no longer the
   * Geneve payload itself, so `isGeneve` is cleared.
   */
  pushLinkhdr(linktype: number, isVariable: boolean, constant: number, reg: number): void {
    this.prevLinktype = this.linktype;
    this.linktype = linktype;
    this.off.linkhdr = { isVariable, constant, reg };
    this.isGeneve = false;
  }

  get linktypeLabel(): string {
    return linktypeName(this.linktype);
  }

  get description(): string {
    return linktypeDescription(this.linktype);
  }

  stmt(code: number, k = 0): Stmt {
    // Classes ST (2) and STX (3), by one test: every statement is made here.
    if ((code & 0x06) === 0x02) this.stores = true;
    return { code, k: k >>> 0, clause: this.clause };
  }

  block(code: number, k = 0, stmts: Stmt[] = []): Block {
    const b = new Block(code, k >>> 0, this.clause);
    b.stmts = stmts;
    return b;
  }

  retBlock(k: number): Block {
    return new Block(BPF_RET | BPF_K, k >>> 0, undefined);
  }

  // --- scratch registers (alloc_reg/free_reg: round-robin) ---
  allocReg(): number {
    for (let n = BPF_MEMWORDS; n > 0; n--) {
      const bit = 1 << this.curreg;
      if ((this.regused & bit) !== 0) {
        this.curreg = (this.curreg + 1) % BPF_MEMWORDS;
      } else {
        this.regused |= bit;
        return this.curreg;
      }
    }
    return fail('too many registers needed to evaluate expression');
  }

  freeReg(n: number): void {
    this.regused &= ~(1 << n);
  }

  // --- loads ---
  /** Code to put the variable part of an offset into X, or null if constant. */
  absOffsetVarpart(off: AbsOffset): Stmt[] | null {
    if (!off.isVariable) return null;
    if (off.reg === -1) off.reg = this.allocReg();
    return [this.stmt(BPF_LDX | BPF_MEM, off.reg)];
  }

  loadAbsOffsetRel(off: AbsOffset, offset: number, size: number): Stmt[] {
    const s = this.absOffsetVarpart(off);
    if (s !== null) {
      s.push(this.stmt(BPF_LD | BPF_IND | size, off.constant + offset));
      return s;
    }
    return [this.stmt(BPF_LD | BPF_ABS | size, off.constant + offset)];
  }

  /** X := length of the IPv4 header (+ variable part of the payload offset). */
  loadxIphdrlen(): Stmt[] {
    const o = this.off.linkpl;
    if (o.isVariable) {
      const s = this.absOffsetVarpart(o) ?? [];
      s.push(this.stmt(BPF_LD | BPF_IND | BPF_B, o.constant + this.off.nl));
      s.push(this.stmt(BPF_ALU | BPF_AND | BPF_K, 0xf));
      s.push(this.stmt(BPF_ALU | BPF_LSH | BPF_K, 2));
      s.push(this.stmt(BPF_ALU | BPF_ADD | BPF_X));
      s.push(this.stmt(BPF_MISC | BPF_TAX));
      return s;
    }
    return [this.stmt(BPF_LDX | BPF_MSH | BPF_B, o.constant + this.off.nl)];
  }

  loadA(rel: OffRel, offset: number, size: number): Stmt[] {
    const o = this.off;
    switch (rel) {
      case 'packet':
        return [this.stmt(BPF_LD | BPF_ABS | size, offset)];
      case 'linkhdr':
        return this.loadAbsOffsetRel(o.linkhdr, offset, size);
      case 'llc':
        return this.loadAbsOffsetRel(o.linkpl, offset, size);
      case 'prevmplshdr':
        return this.loadAbsOffsetRel(o.linkpl, o.nl - 4 + offset, size);
      case 'linkpl':
        return this.loadAbsOffsetRel(o.linkpl, o.nl + offset, size);
      case 'linkpl_nosnap':
        return this.loadAbsOffsetRel(o.linkpl, o.nlNosnap + offset, size);
      case 'linktype':
        return this.loadAbsOffsetRel(o.linktype, offset, size);
      case 'tran_ipv4': {
        const s = this.loadxIphdrlen();
        s.push(this.stmt(BPF_LD | BPF_IND | size, o.linkpl.constant + o.nl + offset));
        return s;
      }
      case 'tran_ipv6':
        return this.loadAbsOffsetRel(o.linkpl, o.nl + 40 + offset, size);
    }
  }

  // --- comparisons (gen_ncmp and friends) ---
  ncmp(rel: OffRel, offset: number, size: number, mask: number, jtype: number, reverse: boolean, v: number): Block {
    const s = this.loadA(rel, offset, size);
    if (mask >>> 0 !== 0xffffffff) s.push(this.stmt(BPF_ALU | BPF_AND | BPF_K, mask));
    const b = this.block(jmp(jtype), v, s);
    if (reverse && (jtype === BPF_JGT || jtype === BPF_JGE)) genNot(b);
    return b;
  }

  cmp(rel: OffRel, offset: number, size: number, v: number): Block {
    return this.ncmp(rel, offset, size, 0xffffffff, BPF_JEQ, false, v);
  }

  cmpGt(rel: OffRel, offset: number, size: number, v: number): Block {
    return this.ncmp(rel, offset, size, 0xffffffff, BPF_JGT, false, v);
  }

  cmpGe(rel: OffRel, offset: number, size: number, v: number): Block {
    return this.ncmp(rel, offset, size, 0xffffffff, BPF_JGE, false, v);
  }

  cmpLt(rel: OffRel, offset: number, size: number, v: number): Block {
    return this.ncmp(rel, offset, size, 0xffffffff, BPF_JGE, true, v);
  }

  cmpLe(rel: OffRel, offset: number, size: number, v: number): Block {
    return this.ncmp(rel, offset, size, 0xffffffff, BPF_JGT, true, v);
  }

  mcmp(rel: OffRel, offset: number, size: number, v: number, mask: number): Block {
    return this.ncmp(rel, offset, size, mask, BPF_JEQ, false, v);
  }

  /** Compare `bytes` at `offset`: words from the end, then a half, then a byte. */
  bcmp(rel: OffRel, offset: number, bytes: readonly number[]): Block {
    let size = bytes.length;
    let b: Block | null = null;
    const at = (i: number): number => bytes[i] ?? 0;
    while (size >= 4) {
      const i = size - 4;
      const w = ((at(i) << 24) | (at(i + 1) << 16) | (at(i + 2) << 8) | at(i + 3)) >>> 0;
      const tmp = this.cmp(rel, offset + i, BPF_W, w);
      if (b !== null) genAnd(b, tmp);
      b = tmp;
      size -= 4;
    }
    while (size >= 2) {
      const i = size - 2;
      const tmp = this.cmp(rel, offset + i, BPF_H, (at(i) << 8) | at(i + 1));
      if (b !== null) genAnd(b, tmp);
      b = tmp;
      size -= 2;
    }
    if (size > 0) {
      const tmp = this.cmp(rel, offset, BPF_B, at(0));
      if (b !== null) genAnd(b, tmp);
      b = tmp;
    }
    if (b === null) return this.genTrue();
    return b;
  }

  jset(rel: OffRel, offset: number, size: number, k: number): Block {
    return this.block(jmp(BPF_JSET), k, this.loadA(rel, offset, size));
  }

  /** gen_uncond: `ld #!rsense; jeq #0`. */
  uncond(rsense: boolean): Block {
    return this.block(jmp(BPF_JEQ), 0, [this.stmt(BPF_LD | BPF_IMM, rsense ? 0 : 1)]);
  }

  genTrue(): Block {
    return this.uncond(true);
  }

  genFalse(): Block {
    return this.uncond(false);
  }

  /** The register holding the pflog header length, once something used it. */
  get pflogReg(): number {
    return this.outerLinkpl.reg;
  }

  /**
   * The first block's statements with, in front, the code that computes
   * variable header lengths once (insert_compute_vloffsets): the pflog
   * header, or the radio header and the 802.11 header (gen-80211-prologue).
   */
  prologue(head: Stmt[]): Stmt[] {
    if (this.outerLinktype === DLT.PFLOG && this.pflogReg !== -1) {
      return [
        this.stmt(BPF_LD | BPF_B | BPF_ABS, 0),
        this.stmt(BPF_ALU | BPF_ADD | BPF_K, 3),
        this.stmt(BPF_ALU | BPF_AND | BPF_K, 0xfffffffc),
        this.stmt(0x02 /* BPF_ST */, this.pflogReg),
        this.stmt(BPF_MISC | BPF_TAX),
        ...head,
      ];
    }
    if (is80211(this.outerLinktype)) return wlanPrologue(this, head);
    return head;
  }
}
