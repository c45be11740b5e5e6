// Redundant statements, found by value numbering over the whole graph
// (opt-values.ts): a statement that puts into A, X or a scratch word the
// value it already holds on every path to it goes. This is what libpcap's
// optimizer does in opt_blk() and vstore() (a block's registers on entry are
// those all its predecessors leave, else unknown). It finds, among others:
//  - a load A already holds: `ldb [0]; jeq #0 …` then `ldb [0]; and #0xf0`;
//  - an `ldx` or `ldxb` X already holds, also where the first was reached
//    through other blocks (`ldxb 4*([14]&0xf)` again after the peephole);
//  - the same value reached two ways: `tax; ldb [x + 0]` after `st M[0]`,
//    then `ldx M[0]; ldb [x + 0]` (802.11 and radiotap link headers);
//  - `ld #0; add x; tax` (X plus nothing, X again).
// Sound for the rule that the optimized program keeps the unoptimized
// one's verdicts: a packet load is only dropped where the very same load,
// from the same index, already succeeded on every path, so it cannot be the
// one that falls off the packet. ALU statements stay unless their result is
// already in A, or is X (they become `txa`).
import {
  BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_IND, BPF_JMP, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MOD,
  BPF_MSH, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA, BPF_X, BPF_XOR, bpfClass, bpfMode,
  bpfOp, bpfSize, bpfSrc,
} from '../insn.js';
import type { Block, Stmt } from './block.js';
import { alu } from './fold.js';
import { constantOf, fresh, konst, upper, value } from './opt-values.js';

/** Registers per block: the 16 scratch words, then A, then X. */
const WORDS = 16;
const A = 16;
const X = 17;
const REGS = 18;
/** On entry to a block: paths disagree (a fresh number is given when the block is reached). */
const DISAGREE = -1;
const MAX = 0xffffffff;

/** Per block (by b.num, its place in the order): the registers on entry; 0 where no path has come yet. */
let entry = new Int32Array(64 * REGS);
/** Per block: the upper bound of X on entry (for the peephole), from the last run. */
let xMax = new Float64Array(64);

/** The upper bound of X on entry to b, from the last dropRedundant() over its graph (b.num its place). */
export function entryXBound(b: Block): number {
  return xMax[b.num] ?? MAX;
}

function loadMax(code: number): number {
  const sz = bpfSize(code);
  return sz === 0x10 ? 0xff : sz === 0x08 ? 0xffff : MAX;
}

const bitsMax = (m: number): number => (m >= 0x80000000 ? MAX : 2 ** Math.ceil(Math.log2(m + 1)) - 1);

/** The number of `A op v` (v a number), its bound worked out from the operands'. */
function aluValue(op: number, a: number, v: number): number {
  const ca = constantOf(a);
  const cv = constantOf(v);
  if (ca !== null && cv !== null) {
    const r = alu(op, ca, cv);
    if (r !== null) return konst(r);
  }
  // Identities: these give one operand back (or zero).
  if (cv === 0 && (op === BPF_ADD || op === BPF_SUB || op === BPF_OR || op === BPF_XOR || op === BPF_LSH || op === BPF_RSH)) return a;
  if (ca === 0 && (op === BPF_ADD || op === BPF_OR || op === BPF_XOR)) return v;
  if ((cv === 0 || ca === 0) && (op === BPF_AND || op === BPF_MUL)) return konst(0);
  const ma = upper(a);
  const mv = upper(v);
  let max = MAX;
  switch (op) {
    case BPF_ADD: max = ma + mv <= MAX ? ma + mv : MAX; break;
    case BPF_MUL: max = ma * mv <= MAX ? ma * mv : MAX; break;
    case BPF_DIV: max = ma; break;
    case BPF_MOD: max = cv !== null && cv > 0 ? Math.min(ma, cv - 1) : ma; break;
    case BPF_AND: max = Math.min(ma, mv); break;
    case BPF_OR: case BPF_XOR: max = bitsMax(Math.max(ma, mv)); break;
    case BPF_LSH: max = cv !== null && cv < 32 && ma * 2 ** cv <= MAX ? ma * 2 ** cv : MAX; break;
    case BPF_RSH: max = cv !== null && cv < 32 ? Math.floor(ma / 2 ** cv) : ma; break;
    default: break;
  }
  return value(BPF_ALU | op, a, v, max);
}

/** Statement lists with jumps of their own (protochain) are not straight-line. */
function hasJump(stmts: readonly Stmt[]): boolean {
  for (const s of stmts) if (bpfClass(s.code) === BPF_JMP) return true;
  return false;
}

/**
 * Drop the redundant statements of the graph whose order (each block before
 * its successors, root first) is `blocks`. True if any statement went.
 * Changes statements only, never an edge.
 */
export function dropRedundant(blocks: readonly Block[]): boolean {
  const n = blocks.length;
  if (entry.length < n * REGS) entry = new Int32Array(n * REGS * 2);
  if (xMax.length < n) xMax = new Float64Array(n * 2);
  entry.fill(0, 0, n * REGS);
  for (let i = 0; i < n; i++) {
    const b = blocks[i];
    if (b !== undefined) b.num = i;
  }
  const regs = new Int32Array(REGS);
  let changed = false;
  for (let i = 0; i < n; i++) {
    const b = blocks[i];
    if (b === undefined) continue;
    const base = i * REGS;
    for (let r = 0; r < REGS; r++) {
      const v = entry[base + r] ?? 0;
      // The root (no path in), or paths that disagree: nothing known.
      regs[r] = v <= 0 ? fresh() : v;
    }
    xMax[i] = upper(regs[X] ?? 0);
    const stmts = b.stmts;
    if (hasJump(stmts)) {
      for (let r = 0; r < REGS; r++) regs[r] = fresh();
    } else {
      const kept = walk(stmts, regs);
      if (kept !== null) {
        b.stmts = kept;
        changed = true;
      }
    }
    if (b.jt !== null) into(b.jt, regs);
    if (b.jf !== null && b.jf !== b.jt) into(b.jf, regs);
  }
  return changed;
}

/** The registers on leaving a block, met with what other paths into `t` brought. */
function into(t: Block, regs: Int32Array): void {
  const base = t.num * REGS;
  const first = entry[base + A] === 0;
  for (let r = 0; r < REGS; r++) {
    const v = regs[r] ?? 0;
    if (first) entry[base + r] = v;
    else if (entry[base + r] !== v) entry[base + r] = DISAGREE;
  }
}

/**
 * Run the statements on the register numbers in `regs` (changed in place);
 * return the statements kept, or null if all are.
 */
function walk(stmts: readonly Stmt[], regs: Int32Array): Stmt[] | null {
  let kept: Stmt[] | null = null;
  for (let i = 0; i < stmts.length; i++) {
    const s = stmts[i];
    if (s === undefined) continue;
    const c = s.code;
    const cls = bpfClass(c);
    let dest = -1;
    let v = 0;
    let out: Stmt | null = s;
    const a = regs[A] ?? 0;
    const x = regs[X] ?? 0;
    if (cls === BPF_LD || cls === BPF_LDX) {
      dest = cls === BPF_LD ? A : X;
      const mode = bpfMode(c);
      if (mode === BPF_IMM) v = konst(s.k);
      else if (mode === BPF_MEM) v = s.k >>> 0 < WORDS ? (regs[s.k] ?? 0) : fresh();
      // One number for both registers' packet length.
      else if (mode === BPF_LEN) v = value(BPF_LD | BPF_LEN, 0, 0, MAX);
      else if (mode === BPF_IND) v = value(c, s.k | 0, x, loadMax(c));
      else if (mode === BPF_MSH) v = value(c, s.k | 0, 0, 60);
      else v = value(c, s.k | 0, 0, loadMax(c));
    } else if (cls === BPF_ST || cls === BPF_STX) {
      if (s.k >>> 0 < WORDS) {
        dest = s.k;
        v = cls === BPF_ST ? a : x;
      }
    } else if (c === (BPF_MISC | BPF_TAX)) {
      dest = X;
      v = a;
    } else if (c === (BPF_MISC | BPF_TXA)) {
      dest = A;
      v = x;
    } else if (cls === BPF_ALU) {
      const op = bpfOp(c);
      dest = A;
      if (op === BPF_NEG) v = value(c, a, 0, MAX);
      else if ((op === BPF_DIV || op === BPF_MOD) && (bpfSrc(c) === BPF_X ? constantOf(x) ?? 0 : s.k >>> 0) === 0) {
        // Division by zero ends the program: the statement stays, its result is unknown.
        v = fresh();
      } else {
        v = aluValue(op, a, bpfSrc(c) === BPF_X ? x : konst(s.k));
        // A result that is X's value is `txa` (the statement reads nothing but X then).
        if (v !== a && v === x) out = { code: BPF_MISC | BPF_TXA, k: 0, clause: s.clause };
      }
    }
    if (dest >= 0) {
      if (regs[dest] === v) out = null;
      else regs[dest] = v;
    }
    if (out !== s && kept === null) kept = stmts.slice(0, i);
    if (kept !== null && out !== null) kept.push(out);
  }
  return kept;
}
