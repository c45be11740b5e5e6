// Two optimizer passes over the whole graph, in reverse order (each block
// after its successors): merging equal blocks, and folding blocks that can
// only reject into the one `ret #0`. Both take the graph's order from their
// caller (optimize.ts), which knows when a previous pass left it valid.
import { isReject, type Block, type Stmt } from './block.js';

/** A block graph: its root, and order(root) (opt-blocks.ts). */
export interface Graph {
  root: Block;
  blocks: readonly Block[];
}

/**
 * The passes' own state about one block. mergeEqual's, valid within one
 * call: the block's canonical equal (`repl`, null: itself), that one's
 * number (`canon`), and the hash it was found by. foldRejects' mark: the call that found the
 * block to be a reject. One record per block id (mergeStart makes room),
 * kept between runs: one table read, then fields.
 */
class MergeMemo {
  repl: Block | null = null;
  canon = 0;
  hash = 0;
  reject = 0;
}

const memos: MergeMemo[] = [];
let rejectCalls = 0;

/** Make room for an optimizer run on a graph whose block ids are below `ids`. */
export function mergeStart(ids: number): void {
  while (memos.length < ids) memos.push(new MergeMemo());
}

/** The record of a block (mergeStart made room for its id). */
function memoOf(b: Block): MergeMemo {
  const m = memos[b.id];
  if (m === undefined) throw new Error('moat bpf: merging ran on a block it has no room for');
  return m;
}

/**
 * Same jump, same successors (by their canonical numbers): mergeEqual's
 * equality but for the statements (sameStmts, the dearest test, last).
 */
function sameJumps(a: Block, b: Block): boolean {
  return a.s.code === b.s.code && a.s.k >>> 0 === b.s.k >>> 0 &&
    (a.jt === null ? b.jt === null : b.jt !== null && memoOf(a.jt).canon === memoOf(b.jt).canon) &&
    (a.jf === null ? b.jf === null : b.jf !== null && memoOf(a.jf).canon === memoOf(b.jf).canon);
}

/**
 * The pairs of blocks the last mergeEqual() found with the same jump and
 * successors but other statements, by their places in the order it was
 * given (alikeA[i], alikeB[i]; numbers, not the blocks: a new block stored
 * in these long-lived arrays would cost V8 a write barrier). When it merged
 * nothing, these are all the pairs that could be equal: every other
 * block's (jump, jt, jf) is its own. Until an edge moves or a jump is
 * rewritten (and so while the order is the same), another call would merge
 * two blocks only if some pair's statements have become the same
 * (stillUnlike(); opt-passes.ts).
 */
let alikeA = new Int32Array(16);
let alikeB = new Int32Array(16);
/** How many pairs. */
let alike = 0;

/** Do the last mergeEqual()'s alike pairs still differ in their statements? `blocks`: the order it was given. */
export function stillUnlike(blocks: readonly Block[]): boolean {
  for (let i = 0; i < alike; i++) {
    const a = blocks[alikeA[i] ?? -1];
    const b = blocks[alikeB[i] ?? -1];
    if (a === undefined || b === undefined || sameStmts(a.stmts, b.stmts)) return false;
  }
  return true;
}

/** After an optimizer run: no pairs. */
export function mergeDone(): void {
  alike = 0;
}

function noteAlike(a: number, b: number): void {
  if (alike === alikeA.length) {
    const moreA = new Int32Array(2 * alike);
    const moreB = new Int32Array(2 * alike);
    moreA.set(alikeA);
    moreB.set(alikeB);
    alikeA = moreA;
    alikeB = moreB;
  }
  alikeA[alike] = a;
  alikeB[alike] = b;
  alike++;
}

/** The same (code, k) sequence (k as 32 bits)? */
function sameStmts(x: readonly Stmt[], y: readonly Stmt[]): boolean {
  if (x === y) return true;
  if (x.length !== y.length) return false;
  let i = 0;
  for (const a of x) {
    const b = y[i++];
    if (b?.code !== a.code || b.k >>> 0 !== a.k >>> 0) return false;
  }
  return true;
}

/**
 * mergeEqual's hash table of canonical blocks, open addressing with linear
 * probing, kept between calls (all 0 outside one): no map per call. A slot
 * holds a block's place in the call's order plus one: numbers, not the
 * blocks (a store of a new object into this long-lived table costs V8 a
 * write barrier's slow path).
 */
let table = new Int32Array(64);
/** The slots of `table` taken in one call, to empty just those after it (the table may be far larger than the graph). */
let taken = new Int32Array(32);

/**
 * Merge equal blocks of the graph with this root and order (`blocks`:
 * order(root)); `changed`: were any found (else the graph is as it was, and
 * `blocks` still its order)?
 */
export function mergeEqual(root: Block, blocks: readonly Block[]): { root: Block; changed: boolean } {
  // Per block (set below, in reverse order): `repl` its canonical equal (null:
  // itself), `canon` that one's number. Each block's are set before any of
  // its predecessors reads them (they come after it in `blocks`): no reset first.
  // The canonical blocks, each the first seen of its kind, by a hash of its
  // jump and successors; at most one per kind, found by probing from its
  // hash. The statements are left out of the hash: hashing every list cost
  // more than comparing the few lists whose jump and successors are the same
  // (sameStmts, which mostly stops at the length or the first statement).
  let size = 16;
  while (size < 2 * blocks.length) size *= 2;
  if (table.length < size) table = new Int32Array(size);
  if (taken.length < blocks.length) taken = new Int32Array(size);
  // In locals: module bindings are re-read on every use.
  const slotsOf = table;
  const takenAt = taken;
  const slots = size - 1;
  let next = 0;
  let changed = false;
  alike = 0;
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b === undefined) continue;
    // Only stored when it changes (most do not, and a store costs more than a load).
    // A successor's number is its canonical equal's: read from its own record.
    let canonT = -1;
    let canonF = -1;
    const jt = b.jt;
    if (jt !== null) {
      const mt = memoOf(jt);
      canonT = mt.canon;
      if (mt.repl !== null) b.jt = mt.repl;
    }
    const jf = b.jf;
    if (jf !== null) {
      const mf = memoOf(jf);
      canonF = mf.canon;
      if (mf.repl !== null) b.jf = mf.repl;
    }
    const m = memoOf(b);
    let h = Math.imul(b.s.code, 0x9e3779b1);
    h = Math.imul(h ^ b.s.k, 0x85ebca6b);
    h = Math.imul(h ^ canonT, 0xc2b2ae35);
    h = (h ^ canonF) | 0;
    m.hash = h;
    let at = h & slots;
    let c: Block | null = null;
    for (let slot = slotsOf[at] ?? 0; slot !== 0; slot = slotsOf[at] ?? 0) {
      const d = blocks[slot - 1];
      if (d !== undefined && memoOf(d).hash === h && sameJumps(d, b)) {
        if (sameStmts(d.stmts, b.stmts)) {
          c = d;
          break;
        }
        noteAlike(slot - 1, i);
      }
      at = (at + 1) & slots;
    }
    if (c === null) {
      m.repl = null;
      slotsOf[at] = i + 1;
      takenAt[next] = at;
      m.canon = next++;
    } else {
      m.repl = c;
      m.canon = memoOf(c).canon;
      changed = true;
    }
  }
  for (let j = 0; j < next; j++) slotsOf[takenAt[j] ?? 0] = 0;
  return { root: memoOf(root).repl ?? root, changed };
}

/**
 * A block whose every way out is `ret #0` is itself `ret #0`: its loads can
 * only fail, and failing rejects the packet too. Edges to such blocks go
 * straight to the reject. `blocks` is order(root); so is the result's, for
 * the graph after (the passes that follow use it instead of a walk of their own).
 */
export function foldRejects(root: Block, blocks: readonly Block[]): Graph {
  // Marks a block as a reject with this call's number (no set, nothing emptied).
  if (rejectCalls === 0x7fffffff) {
    for (const m of memos) m.reject = 0;
    rejectCalls = 0;
  }
  const reject = ++rejectCalls;
  let first: Block | null = null;
  let marked = 0;
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b === undefined) continue;
    if (isReject(b)) {
      memoOf(b).reject = reject;
      first ??= b;
      marked++;
    } else if (b.jt !== null && b.jf !== null && memoOf(b.jt).reject === reject && memoOf(b.jf).reject === reject) {
      memoOf(b).reject = reject;
      marked++;
    }
  }
  // The reject alone: every edge to a reject already goes there.
  if (first === null || marked === 1) return { root, blocks };
  const canonical = first;
  // The graph after: every block not marked, in the same order (a marked
  // block's successors are all marked, so a walk from the root meets the
  // others in the same order with or without the marked ones), then the
  // reject, a leaf, which every edge into a marked block now reaches.
  const after: Block[] = [];
  for (const b of blocks) {
    if (b.jt !== null && memoOf(b.jt).reject === reject) b.jt = canonical;
    if (b.jf !== null && memoOf(b.jf).reject === reject) b.jf = canonical;
    if (memoOf(b).reject !== reject) after.push(b);
  }
  if (memoOf(root).reject === reject) return { root: canonical, blocks: [canonical] };
  after.push(canonical);
  return { root, blocks: after };
}

