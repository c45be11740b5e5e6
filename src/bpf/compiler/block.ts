// The control-flow representation libpcap's code generator uses (gencode.h):
// a block is a run of straight-line statements ending in one conditional
// jump. An expression under construction is one block whose true and false
// exits are still open; the open exits are threaded through the jt/jf fields
// themselves and told apart by each block's `sense` bit. Keeping this exact
// shape is what makes our unoptimized output match libpcap's `-O` output
// instruction for instruction.
import { BPF_JMP, BPF_K } from '../insn.js';
import type { Fact, ThreadInfo } from './opt-facts.js';

export interface Stmt {
  code: number;
  k: number;
  /** Source clause this statement was generated for (for --explain). */
  clause?: Clause | undefined;
  /** For a `ja` inside a statement list (protochain): its target statement. */
  target?: Stmt | undefined;
  /** For a conditional jump inside a statement list (protochain). */
  jtStmt?: Stmt | undefined;
  jfStmt?: Stmt | undefined;
}

export interface Clause {
  start: number;
  end: number;
  text: string;
}

/**
 * The statements of a block made without any: one shared empty list, as a
 * block made for a list (most are) would otherwise make one first for
 * nothing. Never changed in place: no statement list is (see memoStmts).
 */
const NO_STMTS: Stmt[] = [];

export class Block {
  stmts: Stmt[] = NO_STMTS;
  /** The block's final jump (or `ret`, for a return block). */
  s: Stmt;
  jt: Block | null = null;
  jf: Block | null = null;
  // Hot in every pass first (the layout of a block follows this order):
  // walks, readsOnEntry's memo, folding's memos.
  /** Scratch for one graph walk (optimize.ts): `mark` is the walk's number, `num`/`repl` its data. */
  mark = 0;
  /** order()'s walk state: which successor to visit next (0 jt, 1 jf, 2 done). */
  step = 0;
  // The optimizer's memos, valid while `stmts` (and `s`) are the very
  // objects they were computed for: the passes replace a block's statement
  // array when they change it, never edit it in place. readsOnEntry's first.
  memoStmts: readonly Stmt[] | null = null;
  memoS: Stmt | null = null;
  memoReads = false;
  /**
   * fold.ts: the last inputs (statements, jump, shape of the successors,
   * liveness) on which propagate() (pm…) and sweep() (sm…) left the block
   * unchanged, and the scratch words the block reads first (rm…), for its
   * statement array. -1: none yet.
   */
  pmStmts: readonly Stmt[] | null = null;
  pmS: Stmt | null = null;
  pmShape = -1;
  pmLive = false;
  smStmts: readonly Stmt[] | null = null;
  smS: Stmt | null = null;
  smShape = -1;
  smLive = false;
  smMem = 0;
  rmStmts: readonly Stmt[] | null = null;
  rmMask = 0;
  /** fold-inert.ts: can folding change the block, for this statement array and jump? */
  inertStmts: readonly Stmt[] | null = null;
  inertS: Stmt | null = null;
  inert = false;
  sense = false;
  head: Block;
  clause: Clause | undefined;
  /** Interned keys of the statements (opt-blocks.ts), valid for the array and the intern generation. */
  keyStmts: readonly Stmt[] | null = null;
  keyNum = 0;
  keyGen = -1;
  /** Jump threading's facts about the block (opt-thread.ts), valid for thrStmts, thrS and thrGen. */
  thr: ThreadInfo | null = null;
  thrStmts: readonly Stmt[] | null = null;
  thrS: Stmt | null = null;
  thrGen = -1;
  /** Scratch of one pass: mergeEqual's canonical number, or the block's place in the order (opt-redundant.ts, opt-peep.ts). */
  num = 0;
  repl: Block | null = null;
  /** Scratch of one optimizer pass (opt-straight.ts, fold.ts, opt-thread.ts): predecessor count, a flag, a walk's stamp. */
  count = 0;
  flag = false;
  stamp = 0;
  /** Jump threading's facts on entry (opt-thread.ts), valid where `stamp` is its walk. */
  facts: Fact | null = null;
  /** mergeEqual's hash of the block (optimize.ts), valid during one mergeEqual. */
  hash = 0;
  /** Layout of one linearize() call (linearize.ts), valid while `layoutRun` is its number. */
  layoutRun = 0;
  offset = 0;
  longjt = 0;
  longjf = 0;

  constructor(code: number, k = 0, clause?: Clause) {
    this.s = { code, k, clause };
    this.head = this;
    this.clause = clause;
  }
}

let walks = 0;
/** A fresh number for one graph walk or layout (see Block.mark and Block.layoutRun). */
export function nextWalk(): number {
  return ++walks;
}

export function jmp(op: number): number {
  return BPF_JMP | op | BPF_K;
}

/** Point every open exit on `list`'s chain (selected by sense) at `target`. */
export function backpatch(list: Block | null, target: Block): void {
  let b = list;
  while (b !== null) {
    let next: Block | null;
    if (!b.sense) {
      next = b.jt;
      b.jt = target;
    } else {
      next = b.jf;
      b.jf = target;
    }
    b = next;
  }
}

/** Append chain b1 to the end of chain b0. */
export function merge(b0: Block, b1: Block): void {
  let b = b0;
  for (;;) {
    const next = !b.sense ? b.jt : b.jf;
    if (next === null) {
      if (!b.sense) b.jt = b1;
      else b.jf = b1;
      return;
    }
    b = next;
  }
}

/** b1 := b0 and b1 (b1 is the result). */
export function genAnd(b0: Block, b1: Block): void {
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  b1.sense = !b1.sense;
  merge(b1, b0);
  b1.sense = !b1.sense;
  b1.head = b0.head;
}

/** b1 := b0 or b1 (b1 is the result). */
export function genOr(b0: Block, b1: Block): void {
  b0.sense = !b0.sense;
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  merge(b1, b0);
  b1.head = b0.head;
}

export function genNot(b: Block): void {
  b.sense = !b.sense;
}
