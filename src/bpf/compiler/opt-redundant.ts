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
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_IND, BPF_JMP, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM, BPF_MISC, BPF_MOD,
  BPF_MSH, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA, BPF_X, BPF_XOR, bpfClass, bpfMode,
  bpfOp, bpfSize, bpfSrc,
} from '../insn.js';
import type { Block, Stmt } from './block.js';
import { alu } from './bpf-eval.js';
import { constantOf, fresh, konst, madeOf, upper, value } from './opt-values.js';

/** Registers: A, X, then the scratch words the graph uses (most use none), as slots. */
const A = 0;
const X = 1;
/** On entry to a block: paths disagree (a fresh number is given when the block is reached). */
const DISAGREE = -1;
const MAX = 0xffffffff;

/** The slot of each scratch word 0-15 in this run (-1: not used). */
const slotOfWord = new Int32Array(16);
/** Slots per block in this run. */
let regCount = 2;
/** Per block id, regCount slots: the registers on entry, valid where `entryRun` holds this run's number. */
let entry = new Int32Array(64 * 4);
/**
 * Per block id: the dropRedundant() run in which a path into the block was
 * met (else no path has come yet, and its `entry` slots are stale): kept
 * between runs, each with a number of its own, so nothing is emptied per run.
 */
let entryRun = new Int32Array(64);
let runs = 0;
/** The registers as the walk goes (2 + 16 slots at most), and as they were on entry to the block. */
const regsOf = new Int32Array(18);
const saved = new Int32Array(18);
/** Per block id: the upper bound of X on entry (for the peephole), from the last run. */
let xMax = new Float64Array(64);

/** Make room for an optimizer run on a graph whose block ids are below `ids`. */
export function redundantStart(ids: number): void {
  if (xMax.length < ids) xMax = new Float64Array(Math.max(ids, 2 * xMax.length));
  if (entryRun.length < xMax.length) {
    const more = new Int32Array(xMax.length);
    more.set(entryRun);
    entryRun = more;
  }
}

/** The upper bound of X on entry to b, from the last dropRedundant() over its graph. */
export function entryXBound(b: Block): number {
  return xMax[b.id] ?? MAX;
}

/** The upper bound of scratch word k on entry to b, from the last dropRedundant() over its graph (for the peephole). */
export function entryWordBound(b: Block, k: number): number {
  const slot = k >>> 0 < 16 ? (slotOfWord[k] ?? -1) : -1;
  if (slot < 0 || entryRun[b.id] !== thisRun) return MAX;
  const v = entry[b.id * regCount + slot] ?? 0;
  return v > 0 ? upper(v) : MAX;
}

/** The largest value a load of this opcode gives. */
export function loadMax(code: number): number {
  const sz = bpfSize(code);
  return sz === 0x10 ? 0xff : sz === 0x08 ? 0xffff : MAX;
}

const bitsMax = (m: number): number => (m >= 0x80000000 ? MAX : 2 ** Math.ceil(Math.log2(m + 1)) - 1);

/**
 * An upper bound of `a op v` given bounds ma and mv of the operands (and
 * v's value, when it is a constant).
 */
export function aluBound(op: number, ma: number, mv: number, cv: number | null): number {
  switch (op) {
    case BPF_ADD: return ma + mv <= MAX ? ma + mv : MAX;
    case BPF_MUL: return ma * mv <= MAX ? ma * mv : MAX;
    case BPF_DIV: return ma;
    case BPF_MOD: return cv !== null && cv > 0 ? Math.min(ma, cv - 1) : ma;
    case BPF_AND: return Math.min(ma, mv);
    case BPF_OR: case BPF_XOR: return bitsMax(Math.max(ma, mv));
    case BPF_LSH: return cv !== null && cv < 32 && ma * 2 ** cv <= MAX ? ma * 2 ** cv : MAX;
    case BPF_RSH: return cv !== null && cv < 32 ? Math.floor(ma / 2 ** cv) : ma;
    default: return MAX;
  }
}

/** The number of `A op v` (v a number), its bound worked out from the operands'. */
export function aluValue(op: number, a: number, v: number): number {
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
  return value(BPF_ALU | op, a, v, aluBound(op, upper(a), upper(v), cv));
}

/** The mask setWordsUsed() last set the slots for (-1: none yet). */
let wordsUsed = -1;

/**
 * The scratch words the graph uses, as a mask, for this optimizer run (set
 * once: passes only ever drop uses): each gets a slot.
 */
export function setWordsUsed(mask: number): void {
  // Most graphs store no word, compile after compile: the slots are as they were.
  if (mask === wordsUsed) return;
  wordsUsed = mask;
  regCount = 2;
  // One loop, no fill(): this runs on every compile.
  for (let k = 0; k < 16; k++) slotOfWord[k] = ((mask >>> k) & 1) === 1 ? regCount++ : -1;
}

/**
 * Drop the redundant statements of the graph whose order (each block before
 * its successors, root first) is `blocks`. True if any statement went.
 * Changes statements only, never an edge.
 */
export function dropRedundant(blocks: readonly Block[]): boolean {
  const n = blocks.length;
  const w = regCount;
  if (entry.length < xMax.length * w) entry = new Int32Array(xMax.length * w);
  // Loops, not fill() or set(): a builtin call costs more than copying these few slots (~20 per block).
  const regs = regsOf;
  if (runs === 0x7fffffff) {
    entryRun.fill(0);
    runs = 0;
  }
  const run = ++runs;
  thisRun = run;
  let changed = false;
  for (let i = 0; i < n; i++) {
    const b = blocks[i];
    if (b === undefined) continue;
    // A mark that could not be stored would read as "no path yet" for every path: refused.
    if (b.id >= entryRun.length) throw new Error('moat bpf: the redundant pass ran on a block it has no room for');
    const base = b.id * w;
    const reached = entryRun[b.id] === run;
    for (let r = 0; r < w; r++) {
      const v = reached ? (entry[base + r] ?? 0) : 0;
      // The root (no path in), or paths that disagree: nothing known.
      regs[r] = v <= 0 ? fresh() : v;
    }
    xMax[b.id] = upper(regs[X] ?? 0);
    // One scan for both: are there jumps in the list, and which A writes are dead?
    const marked = markDeadA(b.stmts);
    if (marked === JUMPS) {
      // Left as it is; what it leaves in the registers is not known.
      for (let r = 0; r < w; r++) regs[r] = fresh();
    } else {
      for (let r = 0; r < w; r++) saved[r] = regs[r] ?? 0;
      let kept = walk(b.stmts, regs, marked === SOME_DEAD);
      if (kept !== null) {
        // What went may leave an A write dead that hid a load A already held
        // (`ld #0; add x` became `txa`): once more from the same registers.
        for (let r = 0; r < w; r++) regs[r] = saved[r] ?? 0;
        kept = walk(kept, regs, markDeadA(kept) === SOME_DEAD) ?? kept;
        b.stmts = kept;
        changed = true;
      }
      if (b.stmts.length > 0 && b.jt !== null && unchanged(regs, w)) {
        // Every register as it came in (`ldh [2]; sub x` again after a block
        // that left A so), and every load here already made: nothing to run.
        b.stmts = [];
        changed = true;
      }
    }
    if (b.jt !== null) into(b.jt, regs, w);
    if (b.jf !== null && b.jf !== b.jt) into(b.jf, regs, w);
  }
  return changed;
}

/**
 * Did the walk leave every register as it was on entry (`saved`), with each
 * statement that can end the program one whose value the entry registers
 * are made of (so it was made, and succeeded, on every path here)?
 */
function unchanged(regs: Int32Array, w: number): boolean {
  for (let r = 0; r < w; r++) if (regs[r] !== saved[r]) return false;
  for (let i = 0; i < failCount; i++) {
    const f = fails[i] ?? 0;
    let made = false;
    for (let r = 0; r < w && !made; r++) made = madeOf(saved[r] ?? 0, f);
    if (!made) return false;
  }
  return true;
}

/** The number of the dropRedundant() run under way (for into()). */
let thisRun = 0;

/** The registers on leaving a block, met with what other paths into `t` brought. */
function into(t: Block, regs: Int32Array, w: number): void {
  const base = t.id * w;
  if (entryRun[t.id] !== thisRun) {
    entryRun[t.id] = thisRun;
    for (let r = 0; r < w; r++) entry[base + r] = regs[r] ?? 0;
    return;
  }
  for (let r = 0; r < w; r++) if (entry[base + r] !== regs[r]) entry[base + r] = DISAGREE;
}

/** The values of the walked statements that can end the program (packet loads, divisions by zero). */
let fails = new Int32Array(16);
let failCount = 0;

function failed(v: number): void {
  if (failCount === fails.length) {
    const more = new Int32Array(2 * fails.length);
    more.set(fails);
    fails = more;
  }
  fails[failCount++] = v;
}

/** Per statement of the block being walked: 1 if it only writes an A nobody reads (markDeadA). */
let deadA = new Uint8Array(32);
/** markDeadA's answers: no dead A write, some, or a list with jumps of its own (the 802.11 prologue, protochain: not straight-line, not walked). */
const NONE_DEAD = 0;
const SOME_DEAD = 1;
const JUMPS = 2;

/**
 * Mark the statements that write A where nothing reads it before it is
 * written again, and that cannot end the program (constants, `txa`, scratch
 * loads, ALU operations that cannot divide by zero): so `ld #0; ldxb …;
 * add x; tax` leaves A as it was, and a load A already held is seen to be
 * one. The block's jump is taken to read A. SOME_DEAD if any is marked,
 * JUMPS for a list with jumps of its own (then the marks mean nothing).
 */
function markDeadA(stmts: readonly Stmt[]): number {
  const n = stmts.length;
  if (deadA.length < n) deadA = new Uint8Array(2 * n);
  let live = true;
  let any = false;
  let jumps = false;
  for (let i = n - 1; i >= 0; i--) {
    const s = stmts[i];
    deadA[i] = 0;
    if (s === undefined) continue;
    const c = s.code;
    const cls = bpfClass(c);
    if (cls === BPF_LD || c === (BPF_MISC | BPF_TXA)) {
      const mode = bpfMode(c);
      const canFail = cls === BPF_LD && (mode === BPF_ABS || mode === BPF_IND);
      if (!live && !canFail) {
        deadA[i] = 1;
        any = true;
      }
      live = false;
    } else if (cls === BPF_ALU) {
      const op = bpfOp(c);
      const canFail = (op === BPF_DIV || op === BPF_MOD) && (bpfSrc(c) === BPF_X || s.k >>> 0 === 0);
      if (!live && !canFail) {
        deadA[i] = 1;
        any = true;
      } else live = true;
    } else if (cls === BPF_ST || c === (BPF_MISC | BPF_TAX)) live = true;
    else if (cls === BPF_JMP) jumps = true;
  }
  return jumps ? JUMPS : any ? SOME_DEAD : NONE_DEAD;
}

/**
 * Run the statements on the register numbers in `regs` (changed in place);
 * return the statements kept, or null if all are. `anyDead`: markDeadA(stmts)
 * marked some (it ran on just these statements).
 */
function walk(stmts: readonly Stmt[], regs: Int32Array, anyDead: boolean): Stmt[] | null {
  let kept: Stmt[] | null = null;
  failCount = 0;
  for (let i = 0; i < stmts.length; i++) {
    const s = stmts[i];
    if (s === undefined) continue;
    if (anyDead && deadA[i] === 1) {
      // Its A is overwritten before anything reads it: gone, and A keeps the value it had.
      kept ??= stmts.slice(0, i);
      continue;
    }
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
      else if (mode === BPF_MEM) v = s.k >>> 0 < 16 && (slotOfWord[s.k] ?? -1) >= 0 ? (regs[slotOfWord[s.k] ?? 0] ?? 0) : fresh();
      // One number for both registers' packet length.
      else if (mode === BPF_LEN) v = value(BPF_LD | BPF_LEN, 0, 0, MAX);
      else if (mode === BPF_IND) v = value(c, s.k | 0, x, loadMax(c));
      else if (mode === BPF_MSH) v = value(c, s.k | 0, 0, 60);
      else v = value(c, s.k | 0, 0, loadMax(c));
      if (mode === BPF_ABS || mode === BPF_IND || mode === BPF_MSH) failed(v);
    } else if (cls === BPF_ST || cls === BPF_STX) {
      if (s.k >>> 0 < 16 && (slotOfWord[s.k] ?? -1) >= 0) {
        dest = slotOfWord[s.k] ?? -1;
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
        failed(v);
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
