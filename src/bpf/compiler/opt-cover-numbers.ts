// The value numbers the cover pass (opt-cover.ts) says an indexed load's
// index in: a walk over the graph in order, as opt-redundant.ts walk()
// numbers statements (opt-values.ts), recording the number X holds before
// each statement, so that two loads indexed by the same value, however
// computed and blocks apart, are seen to be (`ld #6; ldx M[2]; add x; tax;
// ldh [x + 0]` and `ldx M[2]; ldb [x + 9]`: M[2] plus 6, and M[2]).
// A register no path agrees on, or not set before, gets a fresh number
// when first read. Only A, X and the scratch words the graph stores
// (opt-stable.ts) have slots.
import {
  BPF_ALU, BPF_ADD, BPF_IMM, BPF_IND, BPF_LD, BPF_LDX, BPF_LEN, BPF_MEM, BPF_MISC, BPF_MSH, BPF_NEG,
  BPF_ST, BPF_STX, BPF_TAX, BPF_TXA, BPF_X, bpfClass, bpfMode, bpfOp, bpfSrc,
} from '../insn.js';
import type { Block, Stmt } from './block.js';
import { canFail, hasJump } from './opt-blocks.js';
import { wordsStored } from './opt-stable.js';
import { aluValue, loadMax } from './opt-redundant.js';
import { constantOf, fresh, konst, opOfValue, operandOf, value } from './opt-values.js';

const MAX = 0xffffffff;
/** Register slots at most: A, X, the 16 scratch words. */
const W = 18;
/** Slots in this walk: A, X, and the scratch words the graph stores (opt-stable.ts wordsStored). */
let w = 2;
/** Per scratch word: its slot in this walk (0: not stored anywhere, so it only ever holds 0). */
const slotOf = new Int32Array(16);
const A = 0;
const X = 1;
/** Per block id, W slots: the value numbers on entry (0: paths disagree), valid where `entryWalk` is this walk's. */
let entry = new Int32Array(64 * W);
let entryWalk = new Int32Array(64);
let walks = 0;
/** Per block id: where its statements' X numbers start in `xAt`. */
let firstAt = new Int32Array(64);
/** X's number before each statement, the blocks' statements one after another. */
let xAt = new Int32Array(256);

/** Make room for a walk over a graph whose block ids are below `ids`. */
export function numbersStart(ids: number): void {
  if (entryWalk.length >= ids) return;
  const n = Math.max(ids, 2 * entryWalk.length);
  entry = new Int32Array(n * W);
  entryWalk = new Int32Array(n);
  firstAt = new Int32Array(n);
  walks = 0;
}

/** The number X holds before statement i of block b, in the last numberAll() (0 if not an indexed load's). */
export function xBefore(b: Block, i: number): number {
  return xAt[(firstAt[b.id] ?? 0) + i] ?? 0;
}

/** The registers as the forward walk goes. */
const regs = new Int32Array(W);

/** Number the statements of the blocks (in order), recording X before each. */
export function numberAll(blocks: readonly Block[]): void {
  if (walks === 0x7fffffff) {
    entryWalk.fill(0);
    walks = 0;
  }
  const walk = ++walks;
  w = 2;
  for (let k = 0; k < 16; k++) slotOf[k] = ((wordsStored >>> k) & 1) === 1 ? w++ : 0;
  let at = 0;
  for (const b of blocks) at += b.stmts.length;
  if (xAt.length < at) xAt = new Int32Array(Math.max(at, 2 * xAt.length));
  at = 0;
  for (const b of blocks) {
    const base = b.id * W;
    const reached = entryWalk[b.id] === walk;
    for (let r = 0; r < w; r++) {
      // 0: not known (given a fresh number when first read, reg()).
      regs[r] = reached ? (entry[base + r] ?? 0) : 0;
    }
    firstAt[b.id] = at;
    const st = b.stmts;
    if (hasJump(st)) {
      for (let r = 0; r < w; r++) regs[r] = 0;
      at += st.length;
    } else {
      for (const s of st) {
        xAt[at++] = bpfClass(s.code) === BPF_LD && bpfMode(s.code) === BPF_IND ? reg(X) : 0;
        step(s);
      }
    }
    if (b.jt !== null) into(b.jt, walk);
    if (b.jf !== null && b.jf !== b.jt) into(b.jf, walk);
  }
}

/** The registers on leaving a block, met with what other paths into `t` brought (0: they disagree). */
function into(t: Block, walk: number): void {
  const tb = t.id * W;
  if (entryWalk[t.id] !== walk) {
    entryWalk[t.id] = walk;
    for (let r = 0; r < w; r++) entry[tb + r] = regs[r] ?? 0;
  } else for (let r = 0; r < w; r++) if (entry[tb + r] !== regs[r]) entry[tb + r] = 0;
}

/** Register r's number, a fresh one if it is not known (paths disagree, or the entry). */
function reg(r: number): number {
  const v = regs[r] ?? 0;
  if (v > 0) return v;
  const f = fresh();
  regs[r] = f;
  return f;
}

/** One statement on `regs` (as opt-redundant.ts walk() numbers it). */
function step(s: Stmt): void {
  const c = s.code;
  const cls = bpfClass(c);
  const k = s.k >>> 0;
  if (cls === BPF_LD || cls === BPF_LDX) {
    const mode = bpfMode(c);
    let v: number;
    if (mode === BPF_IMM) v = konst(k);
    else if (mode === BPF_MEM) v = k < 16 && (slotOf[k] ?? 0) > 0 ? reg(slotOf[k] ?? 0) : fresh();
    else if (mode === BPF_LEN) v = value(BPF_LD | BPF_LEN, 0, 0, MAX);
    else if (mode === BPF_IND) v = value(c, s.k | 0, reg(X), loadMax(c));
    else if (mode === BPF_MSH) v = value(c, s.k | 0, 0, 60);
    else v = value(c, s.k | 0, 0, loadMax(c));
    regs[cls === BPF_LD ? A : X] = v;
  } else if (cls === BPF_ST || cls === BPF_STX) {
    if (k < 16 && (slotOf[k] ?? 0) > 0) regs[slotOf[k] ?? 0] = reg(cls === BPF_ST ? A : X);
  } else if (c === (BPF_MISC | BPF_TAX)) regs[X] = reg(A);
  else if (c === (BPF_MISC | BPF_TXA)) regs[A] = reg(X);
  else if (cls === BPF_ALU) {
    const op = bpfOp(c);
    const a = reg(A);
    if (op === BPF_NEG) regs[A] = value(c, a, 0, MAX);
    else if (canFail(s) && (bpfSrc(c) === BPF_X ? constantOf(reg(X)) ?? 0 : k) === 0) regs[A] = fresh();
    else regs[A] = aluValue(op, a, bpfSrc(c) === BPF_X ? reg(X) : konst(k));
  }
}

/** split()'s answer: X's number is `splitBase` plus `splitOff` (base 0: X is the constant splitOff). */
export let splitBase = 0;
export let splitOff = 0;

/** Split a number into a base and the constants added to it. */
export function split(n: number): void {
  let off = 0;
  let v = n;
  for (let depth = 0; depth < 16; depth++) {
    const c = constantOf(v);
    if (c !== null) {
      splitBase = 0;
      splitOff = off + c;
      return;
    }
    if (opOfValue(v) !== (BPF_ALU | BPF_ADD)) break;
    const l = operandOf(v, 0);
    const r = operandOf(v, 1);
    const cr = constantOf(r);
    const cl = constantOf(l);
    if (cr !== null) {
      off += cr;
      v = l;
    } else if (cl !== null) {
      off += cl;
      v = r;
    } else break;
  }
  splitBase = v;
  splitOff = off;
}
