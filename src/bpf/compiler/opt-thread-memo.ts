// Jump threading's own state (opt-thread.ts, opt-reject-ways.ts), per
// block: what it works out of a block's statements and jump (its keys, as
// value numbers). Kept in a table indexed by Block.id (optimize.ts), never
// on the block. (The facts on entry to each block are the walk's own:
// opt-thread.ts.)
import { BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_MEM, BPF_MOD, BPF_ST, BPF_STX, bpfClass, bpfMode, bpfOp, bpfSrc } from '../insn.js';
import type { Block, Stmt } from './block.js';
import { constantA, readsOnEntry } from './opt-blocks.js';
import { beyondOn, usedBeyond } from './beyond-libpcap.js';
import { DERIVED_DEPTH, derivedFrom, fact, newest, type Facts, type ThreadInfo } from './opt-facts.js';
import { blockKeys, loadKey, wholeKey } from './opt-keys.js';
import { constantOf, opOfValue, operandOf, upper, vnRun } from './opt-values.js';

/**
 * Threading's own state about one block: its ThreadInfo (opt-facts.ts), in
 * the record itself (no object per block per run), valid where `keyed` and
 * made for the statements, jump and value-numbering run it holds (so never
 * one of another run). One record per block id, kept between runs
 * (threadStart makes room): one table read, then fields.
 */
export class ThreadMemo implements ThreadInfo {
  whole: number | null = null;
  test: number | null = null;
  decidable = false;
  learns = false;
  op = 0;
  k = 0;
  isConst = false;
  constA = 0;
  reads = false;
  /** Its test may be passed by where both its ways lead to one block (passable()). */
  free = false;
  /** Its value is `masked` (a value number; 0: none) and `maskBits`, `maskMax` that value's bound (maskedBounds()). */
  masked = 0;
  maskBits = 0;
  maskMax = 0;
  keyed = false;
  stmts: readonly Stmt[] | null = null;
  s: Stmt | null = null;
  gen = -1;
  /** The bits (bitOf) of the values a test of this block may be decided by (decidedBy()), for markWays(). */
  decidedBy = 0;
  /** For rejectsOnEveryWay(), made by markWays() when it is asked: see there. */
  down = 0;
  repeats = false;
}

const memos: ThreadMemo[] = [];

/** Make room for an optimizer run on a graph whose block ids are below `ids`. */
export function threadStart(ids: number): void {
  while (memos.length < ids) memos.push(new ThreadMemo());
}

/** The record of a block (threadStart made room for its id). */
export function memoOf(b: Block): ThreadMemo {
  const m = memos[b.id];
  if (m === undefined) throw new Error('moat bpf: threading ran on a block it has no room for');
  return m;
}

/**
 * Facts learned from b's outcome, on the value it tests (keys() must have
 * run on b; its whole key, when it has one, is that value too). A test
 * against X or on a constant teaches nothing.
 */
export function learnBoth(f: Facts, info: ThreadMemo, outcome: boolean): Facts {
  const { op, k, test } = info;
  if (!info.learns || test === null) return f;
  const out = fact(test, op, k, outcome, f, newest(f, test));
  return outcome && op === BPF_JEQ && info.masked !== 0 ? maskedBounds(out, info) : out;
}

/**
 * A held `jeq #c` of a value that is another with bits masked off
 * (`ldb [0]; and #0xf0`, keys()) bounds that other value too: its masked
 * bits are c's, so it lies in [c, c | ~mask] (and under its own bound).
 * `ldb [0]; jeq #0` is then decided where `[0] & 0xf0` was 0x60 (an IPv6
 * test before SLIP's `inbound`). Its load succeeded: the masked value was
 * made from it. libpcap's optimizer does not reason so (beyond-libpcap.ts).
 */
export function maskedBounds(f: Facts, m: ThreadMemo): Facts {
  const c = m.k >>> 0;
  const mask = m.maskBits >>> 0;
  // A `jeq` that can never hold teaches nothing here (folding's business).
  if (((c & ~mask) >>> 0) !== 0) return f;
  usedBeyond();
  const src = m.masked;
  const hi = Math.min(m.maskMax, (c | ~mask) >>> 0);
  const out = fact(src, BPF_JGE, c | 0, true, f, newest(f, src));
  return fact(src, BPF_JGT, hi | 0, false, out, out);
}

/**
 * The block's ThreadInfo (its record), made afresh unless the statements,
 * the jump and the value-numbering run (opt-values.ts) are the ones it was
 * made for.
 */
export function keys(b: Block): ThreadInfo {
  const gen = vnRun();
  const m = memoOf(b);
  if (m.keyed && m.stmts === b.stmts && m.s === b.s && m.gen === gen) return m;
  const c = b.s.code;
  const stmts = b.stmts;
  // The commonest blocks, read off their few statements (what keysOf() would find, without its
  // walks). A test on k of a packet load (`ldh [12]; jeq #k`, `ldxb 4*([14]&0xf); ldh [x + 16];
  // jeq #k`): its load is its whole key and makes A, so it reads nothing on entry, learns, may
  // fail and is not masked.
  const key = bpfClass(c) === BPF_JMP && bpfSrc(c) === BPF_K ? loadKey(stmts) : 0;
  if (key !== 0) {
    m.whole = key;
    m.test = key;
    m.decidable = true;
    m.learns = true;
    m.op = bpfOp(c);
    m.k = b.s.k | 0;
    m.isConst = false;
    m.constA = 0;
    m.reads = false;
    m.free = false;
    m.masked = 0;
    // decidedBy(): its own value only (a load is derived from nothing).
    m.decidedBy = bitOf(key);
  } else {
    keysOf(b, m);
    m.decidedBy = decidedBy(m);
  }
  m.keyed = true;
  m.stmts = stmts;
  m.s = b.s;
  m.gen = gen;
  return m;
}

/** A value number's bit in markWays()' masks (opt-reject-ways.ts; a few values share one: a test then only lets more through). */
export const bitOf = (key: number): number => 1 << (key & 31);

/**
 * The bits (bitOf) of the values a test on block m's value may be decided
 * by: its own value and those derivedValues() reads for it; all bits when
 * A is a constant there (decided by no fact); none where it cannot be decided.
 * Made with its keys (markWays() asks it of every block on every walk).
 */
function decidedBy(m: ThreadMemo): number {
  if (!m.decidable || m.whole === null) return 0;
  if (m.isConst) return -1;
  let bits = bitOf(m.whole);
  if (!beyondOn()) return bits;
  let from = m.whole;
  for (let d = 0; d < DERIVED_DEPTH; d++) {
    from = derivedFrom(from);
    if (from === 0) break;
    bits |= bitOf(from);
  }
  return bits;
}

/** keys() for any block: its record `m` filled from the statements and the jump. */
function keysOf(b: Block, m: ThreadMemo): void {
  let whole: number | null = null;
  let test: number | null = null;
  const c = b.s.code;
  const jump = bpfClass(c) === BPF_JMP;
  if (jump) {
    test = blockKeys(b);
    whole = wholeKey;
  }
  const constA = constantA(b);
  const onK = bpfSrc(c) === BPF_K;
  m.whole = whole;
  m.test = test;
  m.decidable = onK && jump;
  m.learns = onK && constA === null;
  m.op = bpfOp(c);
  m.k = b.s.k | 0;
  m.isConst = constA !== null;
  m.constA = (constA ?? 0) | 0;
  m.reads = readsOnEntry(b);
  m.free = !m.reads && passable(b.stmts);
  m.masked = 0;
  if (test !== null && m.learns && bpfOp(c) === BPF_JEQ && beyondOn()) {
    const mask = opOfValue(test) === (BPF_ALU | BPF_AND) ? constantOf(operandOf(test, 1)) : null;
    if (mask !== null) {
      m.masked = operandOf(test, 0);
      m.maskBits = mask | 0;
      m.maskMax = upper(m.masked);
    }
  }
}

/**
 * May a block with these statements be passed by without running it (its
 * test decides nothing on the path)? Not if a statement can end the program
 * (a packet load, a division by X) or stores into scratch memory; nor if
 * the block reads A or X from before (ThreadMemo.reads: then its test was
 * not its own to drop).
 */
function passable(stmts: readonly Stmt[]): boolean {
  for (const s of stmts) {
    const c = s.code;
    const cls = bpfClass(c);
    if (cls === BPF_ST || cls === BPF_STX || cls === BPF_JMP) return false;
    if ((cls === BPF_LD || cls === BPF_LDX) && bpfMode(c) !== BPF_IMM && bpfMode(c) !== BPF_MEM && bpfMode(c) !== BPF_LEN) return false;
    if (cls === BPF_ALU && (bpfOp(c) === BPF_DIV || bpfOp(c) === BPF_MOD)) return false;
  }
  return true;
}
