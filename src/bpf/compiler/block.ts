// The control-flow representation libpcap's code generator uses (gencode.h):
// a block is a run of straight-line statements ending in one conditional
// jump. An expression under construction is one block whose true and false
// exits are still open; the open exits are threaded through the jt/jf fields
// themselves and told apart by each block's `sense` bit. Keeping this exact
// shape is what makes our unoptimized output match libpcap's `-O` output
// instruction for instruction.
import { BPF_JMP, BPF_K, BPF_RET } from '../insn.js';

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
 * nothing. Never changed in place: no statement list is (the optimizer's
 * memos are valid for the very array they were made for).
 */
const NO_STMTS: Stmt[] = [];

/** Blocks made since the graph under construction was started: the next block's id. */
let made = 0;

/**
 * Start a new graph: its blocks are numbered from 0 (Block.id), so that the
 * optimizer's passes can keep their state in tables indexed by id, sized by
 * blockIds(). Called by the code generator before it makes any block.
 */
export function startGraph(): void {
  made = 0;
  storeFree = null;
}

/**
 * The root of the last graph the code generator made, if it made no scratch
 * store (`st`, `stx`) for it, else null: the optimizer then knows, without
 * a scan of every statement, that no scratch word is stored (opt-stable.ts).
 * Only the code generator sets it, for the graph it just finished.
 */
let storeFree: Block | null = null;

/** The code generator finished the graph at `root`, with no scratch store (null: it made some). */
export function setStoreFree(root: Block | null): void {
  storeFree = root;
}

/** Is this the root of the graph the code generator just made with no scratch store? */
export function isStoreFree(root: Block): boolean {
  return root === storeFree;
}

/** One more than the largest id given since startGraph(): the size of a table indexed by id. */
export function blockIds(): number {
  return made;
}

/**
 * A block of the graph, and nothing else: what the optimizer's passes work
 * out about it, memos and scratch of a walk alike, is theirs to keep, in
 * tables indexed by `id` (optimize.ts says where each pass keeps its own).
 */
export class Block {
  stmts: Stmt[] = NO_STMTS;
  /** The block's final jump (or `ret`, for a return block). */
  s: Stmt;
  jt: Block | null = null;
  jf: Block | null = null;
  sense = false;
  head: Block;
  clause: Clause | undefined;
  /** The block's number in its graph (dense from 0, see startGraph): the index of the passes' tables. */
  readonly id: number;

  constructor(code: number, k = 0, clause?: Clause) {
    this.s = { code, k, clause };
    this.head = this;
    this.clause = clause;
    this.id = made++;
  }
}

/** Is this block the reject, `ret #0` (a return of the constant 0)? */
export function isReject(b: Block): boolean {
  return b.jt === null && b.s.code === (BPF_RET | BPF_K) && b.s.k === 0;
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
