// Folding's own state (fold.ts), per block: what a round of folding found
// about each block, so that the next round, or the next folding, skips a
// block whose inputs are as they were.
import { BPF_LD, BPF_LDX, BPF_MEM, BPF_ST, BPF_STX, bpfClass, bpfMode } from '../insn.js';
import type { Block, Stmt } from './block.js';
import { inert } from './fold-inert.js';
import { bit, mask } from './fold-sweep.js';

/**
 * Folding's own state about one block: the last inputs (statements, jump,
 * shape of the successors, liveness) on which propagate() (pm…) and sweep()
 * (sm…) left it unchanged, the scratch words it reads first for its
 * statement array (rm…), whether folding can change it at all (inert…),
 * and whether foldOnce() skips it in its current round. One record per block id (one table read, then fields), kept
 * between runs and never emptied: each memo depends on nothing but its
 * inputs, the arrays and jumps compared by identity (never changed in
 * place), so an entry left by another graph is one no block here matches.
 */
export class FoldMemo {
  // First the fields every round reads of every block (most blocks are
  // skipped there, by these alone): they share the record's first cache
  // line. Last, they cost a second line per block per round (~1% of a compile).
  /** fold-inert.ts inert(), for these statements and jump. */
  inertStmts: readonly Stmt[] | null = null;
  inertS: Stmt | null = null;
  inert = false;
  skip = false;
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
}

const memos: FoldMemo[] = [];

/** Make room for an optimizer run on a graph whose block ids are below `ids`. */
export function foldStart(ids: number): void {
  while (memos.length < ids) memos.push(new FoldMemo());
}

/** The record of a block (foldStart made room for its id). */
export function memoOf(b: Block): FoldMemo {
  const m = memos[b.id];
  if (m === undefined) throw new Error('moat bpf: folding ran on a block it has no room for');
  return m;
}

/** Does folding leave the block as it is (fold-inert.ts), memoized for its statements and jump? */
export function inertOf(b: Block, m: FoldMemo): boolean {
  if (m.inertStmts !== b.stmts || m.inertS !== b.s) {
    m.inert = inert(b);
    m.inertStmts = b.stmts;
    m.inertS = b.s;
  }
  return m.inert;
}

/**
 * inertOf() without noting anything: a block found inert is memoized as
 * inertOf() would (an inert answer notes nothing, fold-inert.ts); one that
 * is not is left for inertOf() to find again, and note.
 */
export function inertQuietly(b: Block, m: FoldMemo): boolean {
  if (m.inertStmts === b.stmts && m.inertS === b.s) return m.inert;
  if (!inert(b, false)) return false;
  m.inert = true;
  m.inertStmts = b.stmts;
  m.inertS = b.s;
  return true;
}

/** The scratch words a block reads before it writes them (a mask), memoized for its statement array. */
export function readsMemory(b: Block, m: FoldMemo): number {
  if (m.rmStmts === b.stmts) return m.rmMask;
  let read = 0;
  let written = 0;
  for (const s of b.stmts) {
    const cls = bpfClass(s.code);
    if ((cls === BPF_LD || cls === BPF_LDX) && bpfMode(s.code) === BPF_MEM && !bit(s.k, written)) read |= mask(s.k);
    if (cls === BPF_ST || cls === BPF_STX) written |= mask(s.k);
  }
  m.rmStmts = b.stmts;
  m.rmMask = read;
  return read;
}
