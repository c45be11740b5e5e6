// Blocks that folding (fold.ts) cannot change, told apart before it runs:
// most blocks of a filter only load from the packet and test what they
// loaded (`ldh [12]; jeq #0x800`), and neither half of folding has anything
// to do there. Recognizing them costs one look at the statements, memoized
// per statement array (fold-memo.ts), where folding them would cost both passes and their
// bookkeeping in every round of every folding.
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IND, BPF_MOD, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX,
  BPF_LEN, BPF_LSH, BPF_MISC, BPF_MSH, BPF_MUL, BPF_OR, BPF_RET, BPF_RSH, BPF_SUB, BPF_TAX, BPF_TXA, BPF_X, BPF_XOR,
  bpfClass, bpfMode, bpfOp, bpfSrc,
} from '../insn.js';
import type { Block } from './block.js';
import { decidedAfterLoad, decidedByBits } from './fold-bits.js';
import { covered } from './fold-sweep.js';

/**
 * inert() for the commonest block of a filter, one packet load and a test
 * on a constant (`ldh [12]; jeq #0x800`), without the walks: the test reads
 * A, so the load stays, and A is never known; only the tests that
 * propagate() decides by their constant alone, or by the load's bits, are left.
 */
function loadTestInert(c: number, k: number, load: number, note: boolean): boolean {
  const op = bpfOp(c);
  if ((op === BPF_JSET && k === 0) || (op === BPF_JGE && k === 0) || (op === BPF_JGT && k === 0xffffffff)) return false;
  return decidedAfterLoad(c, k, load, note) === null;
}

/** ALU K operations that leave A unchanged. */
export function identity(op: number, k: number): boolean {
  if (k === 0) return op === BPF_ADD || op === BPF_SUB || op === BPF_OR || op === BPF_XOR || op === BPF_LSH || op === BPF_RSH;
  if (k === 1) return op === BPF_MUL || op === BPF_DIV;
  return op === BPF_AND && k >>> 0 === 0xffffffff;
}

/**
 * Would propagate() and sweep() leave this block as it is, whatever is live
 * after it and whichever scratch words are read? Asked of a block with two
 * distinct successors, or a return (fold-memo.ts memoizes it for the
 * block's statements and jump). A test the bits of A decide is noted as
 * reasoning beyond libpcap's (fold-bits.ts), unless `note` is false; only
 * a false answer ever notes it.
 */
export function inert(b: Block, note = true): boolean {
  const c = b.s.code;
  const stmts = b.stmts;
  if (stmts.length === 1 && bpfClass(c) === BPF_JMP && bpfSrc(c) === BPF_K) {
    const load = stmts[0]?.code ?? -1;
    if (bpfClass(load) === BPF_LD && (bpfMode(load) === BPF_ABS || bpfMode(load) === BPF_IND)) return loadTestInert(c, b.s.k >>> 0, load, note);
  }
  const cls = bpfClass(c);
  if (cls === BPF_JMP && bpfSrc(c) === BPF_K) {
    // Tests propagate() decides, or rewrites, without knowing A.
    const op = bpfOp(c);
    const k = b.s.k >>> 0;
    if ((op === BPF_JSET && k === 0) || (op === BPF_JGE && k === 0) || (op === BPF_JGT && k === 0xffffffff)) return false;
    // (The last statement read only when there is one: an index of -1 is a slow property lookup.)
    const last = op === BPF_JEQ && k === 0 && stmts.length > 0 ? stmts[stmts.length - 1] : undefined;
    if (last !== undefined && bpfClass(last.code) === BPF_ALU && bpfOp(last.code) === BPF_SUB) return false;
    if (decidedByBits(c, k, stmts, note) !== null) return false;
  } else if (cls !== BPF_JMP && cls !== BPF_RET) {
    return false;
  }
  // One walk, backwards, for both halves. propagate(): with nothing but
  // packet loads and ALU operations on them, A and X are never known, so
  // nothing is folded; an identity or absorbing K operation would be,
  // whatever A is. sweep(): every statement kept with the least that can be
  // live after the block (an undecided test reads A; a return reads what it
  // returns); with more live it keeps them all too. Its rules, for these
  // statements: a value nobody reads goes unless computing it can fail.
  let aLive = cls === BPF_JMP || (c & 0x18) === 0x10;
  let xLive = cls === BPF_JMP ? bpfSrc(c) === BPF_X : (c & 0x18) === BPF_X;
  for (let i = stmts.length - 1; i >= 0; i--) {
    const s = stmts[i];
    if (s === undefined) return false;
    const code = s.code;
    switch (bpfClass(code)) {
      case BPF_LD: {
        const mode = bpfMode(code);
        if (mode !== BPF_ABS && mode !== BPF_IND && mode !== BPF_LEN) return false;
        // A load that can fail stays, unless a later absolute load reaches as far.
        if (!aLive && (mode === BPF_LEN || (mode === BPF_ABS && covered(stmts, i)))) return false;
        aLive = false;
        if (mode === BPF_IND) xLive = true;
        break;
      }
      case BPF_LDX:
        // `ldxb 4*([k]&0xf)` can fail: it stays.
        if (bpfMode(code) !== BPF_MSH) return false;
        xLive = false;
        break;
      case BPF_ALU: {
        const op = bpfOp(code);
        const k = s.k >>> 0;
        const onK = bpfSrc(code) === BPF_K;
        if (onK && (identity(op, k) || ((op === BPF_AND || op === BPF_MUL) && k === 0) || ((op === BPF_LSH || op === BPF_RSH) && k >= 32))) return false;
        if (!aLive && !((op === BPF_DIV || op === BPF_MOD) && (!onK || k === 0))) return false;
        aLive = true;
        if (!onK) xLive = true;
        break;
      }
      case BPF_MISC:
        if (code === (BPF_MISC | BPF_TAX)) {
          if (!xLive) return false;
          xLive = false;
          aLive = true;
        } else if (code === (BPF_MISC | BPF_TXA)) {
          if (!aLive) return false;
          aLive = false;
          xLive = true;
        } else return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
