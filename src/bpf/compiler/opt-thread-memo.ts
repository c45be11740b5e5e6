// Jump threading's own state (opt-thread.ts, opt-reject-ways.ts), per
// block: what it works out of a block's statements and jump (its keys, as
// value numbers), and the facts on entry to it in the current walk. Kept in
// a table indexed by Block.id (optimize.ts), never on the block.
import { BPF_ALU, BPF_DIV, BPF_IMM, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_MEM, BPF_MOD, BPF_ST, BPF_STX, bpfClass, bpfMode, bpfOp, bpfSrc } from '../insn.js';
import type { Block, Stmt } from './block.js';
import { constantA, readsOnEntry } from './opt-blocks.js';
import { fact, newest, type Facts, type ThreadInfo } from './opt-facts.js';
import { blockKeys, wholeKey } from './opt-keys.js';
import { vnRun } from './opt-values.js';

/**
 * Threading's own state about one block: its ThreadInfo (opt-facts.ts), in
 * the record itself (no object per block per run), valid where `keyed` and
 * made for the statements, jump and value-numbering run it holds (so never
 * one of another run); and the facts on entry to it, valid where `stamp` is
 * the walk's number. One record per block id, kept between runs
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
  keyed = false;
  stmts: readonly Stmt[] | null = null;
  s: Stmt | null = null;
  gen = -1;
  facts: Facts = null;
  stamp = 0;
  /** For rejectsOnEveryWay(), made by markWays() when it is asked: see there. */
  down = 0;
  repeats = false;
}

const memos: ThreadMemo[] = [];
let walks = 0;

/** A new walk's number, for the records' `stamp` (older walks' are smaller). */
export function nextWalk(): number {
  if (walks === 0x7fffffff) {
    for (const m of memos) m.stamp = 0;
    walks = 0;
  }
  return ++walks;
}

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
 * Facts learned from b's outcome: on the value it tests, and on the whole
 * block (keys() must have run on b). A test against X or on a constant
 * teaches nothing.
 */
export function learnBoth(f: Facts, info: ThreadInfo, outcome: boolean): Facts {
  if (!info.learns) return f;
  const { op, k, test, whole } = info;
  let out = test === null ? f : fact(test, op, k, outcome, f, newest(f, test));
  // The fact just put in front is on another key: look past it.
  if (whole !== null && whole !== test) out = fact(whole, op, k, outcome, out, newest(f, whole));
  return out;
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
  m.keyed = true;
  m.stmts = b.stmts;
  m.s = b.s;
  m.gen = gen;
  return m;
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
