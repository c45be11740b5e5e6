// Two optimizer passes over the whole graph, in reverse order (each block
// after its successors): merging equal blocks, and folding blocks that can
// only reject into the one `ret #0`. Both take the graph's order from their
// caller (optimize.ts), which knows when a previous pass left it valid.
import { BPF_K, BPF_RET, bpfClass } from '../insn.js';
import { nullTable, type Block } from './block.js';
import { stmtsId } from './opt-blocks.js';

/** A block graph: its root, and order(root) (opt-blocks.ts). */
export interface Graph {
  root: Block;
  blocks: readonly Block[];
}

// The passes' own state, per block id (room made by mergeStart). mergeEqual's, valid within one call: each block's canonical
// equal (`repl`, null: itself), that one's number (`canon`), and the hash
// and statements' number (opt-blocks.ts stmtsId) it was found by. foldRejects'
// marks: the call that found the block to be a reject (`rejectOf`).
let repl: (Block | null)[] = [];
let canon = new Int32Array(0);
let hashOf = new Int32Array(0);
let listOf = new Int32Array(0);
let rejectOf = new Int32Array(0);
let rejectCalls = 0;

/** Make room for an optimizer run on a graph whose block ids are below `ids`. */
export function mergeStart(ids: number): void {
  if (canon.length >= ids) return;
  const n = Math.max(ids, 2 * canon.length, 64);
  repl = nullTable<Block>(n);
  canon = new Int32Array(n);
  hashOf = new Int32Array(n);
  listOf = new Int32Array(n);
  rejectOf = new Int32Array(n);
  rejectCalls = 0;
}

/**
 * Same statements, same jump, same successors (by their canonical numbers):
 * mergeEqual's equality. `a` was hashed before in this call, so its
 * statements' number is in `listOf`.
 */
function sameBlock(a: Block, b: Block, list: number, nums: Int32Array): boolean {
  return listOf[a.id] === list && a.s.code === b.s.code && a.s.k >>> 0 === b.s.k >>> 0 &&
    (a.jt === null ? b.jt === null : b.jt !== null && nums[a.jt.id] === nums[b.jt.id]) &&
    (a.jf === null ? b.jf === null : b.jf !== null && nums[a.jf.id] === nums[b.jf.id]);
}

/**
 * mergeEqual's hash table of canonical blocks, open addressing with linear
 * probing, kept between calls (all null outside one): no map per call.
 */
let table: (Block | null)[] = new Array<Block | null>(64).fill(null);
/** The slots of `table` taken in one call, to empty just those after it (the table may be far larger than the graph). */
let taken = new Int32Array(32);

/**
 * Merge equal blocks of the graph with this root and order (`blocks`:
 * order(root)); `changed`: were any found (else the graph is as it was, and
 * `blocks` still its order)?
 */
export function mergeEqual(root: Block, blocks: readonly Block[]): { root: Block; changed: boolean } {
  // Per block (set below, in reverse order): `repl` its canonical equal, `canon` that one's number.
  // In locals: module bindings are re-read on every use.
  const repls = repl;
  const nums = canon;
  const hashes = hashOf;
  for (const b of blocks) repls[b.id] = null;
  // The canonical blocks, each the first seen of its kind, by a hash of what
  // sameBlock compares; at most one per kind, found by probing from its hash.
  let size = 16;
  while (size < 2 * blocks.length) size *= 2;
  if (table.length < size) table = new Array<Block | null>(size).fill(null);
  if (taken.length < blocks.length) taken = new Int32Array(size);
  const slotsOf = table;
  const takenAt = taken;
  const slots = size - 1;
  let next = 0;
  let changed = false;
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b === undefined) continue;
    // Only stored when it changes (most do not, and a store costs more than a load).
    let jt = b.jt;
    let jf = b.jf;
    if (jt !== null) {
      const rt = repls[jt.id] ?? null;
      if (rt !== null) b.jt = jt = rt;
    }
    if (jf !== null) {
      const rf = repls[jf.id] ?? null;
      if (rf !== null) b.jf = jf = rf;
    }
    const list = stmtsId(b);
    listOf[b.id] = list;
    let h = Math.imul(list, 0x9e3779b1) ^ b.s.code;
    h = Math.imul(h ^ b.s.k, 0x85ebca6b);
    h = Math.imul(h ^ (jt === null ? -1 : (nums[jt.id] ?? 0)), 0xc2b2ae35);
    h = (h ^ (jf === null ? -1 : (nums[jf.id] ?? 0))) | 0;
    hashes[b.id] = h;
    let at = h & slots;
    let c = slotsOf[at] ?? null;
    while (c !== null && !(hashes[c.id] === h && sameBlock(c, b, list, nums))) {
      at = (at + 1) & slots;
      c = slotsOf[at] ?? null;
    }
    if (c === null) {
      slotsOf[at] = b;
      takenAt[next] = at;
      nums[b.id] = next++;
    } else {
      repls[b.id] = c;
      nums[b.id] = nums[c.id] ?? 0;
      changed = true;
    }
  }
  for (let j = 0; j < next; j++) slotsOf[takenAt[j] ?? 0] = null;
  return { root: repls[root.id] ?? root, changed };
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
    rejectOf.fill(0);
    rejectCalls = 0;
  }
  const reject = ++rejectCalls;
  const mark = rejectOf;
  let first: Block | null = null;
  let marked = 0;
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b === undefined) continue;
    if (bpfClass(b.s.code) === BPF_RET && (b.s.code & 0x18) === BPF_K && b.s.k === 0) {
      mark[b.id] = reject;
      first ??= b;
      marked++;
    } else if (b.jt !== null && b.jf !== null && mark[b.jt.id] === reject && mark[b.jf.id] === reject) {
      mark[b.id] = reject;
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
    if (b.jt !== null && mark[b.jt.id] === reject) b.jt = canonical;
    if (b.jf !== null && mark[b.jf.id] === reject) b.jf = canonical;
    if (mark[b.id] !== reject) after.push(b);
  }
  if (mark[root.id] === reject) return { root: canonical, blocks: [canonical] };
  after.push(canonical);
  return { root, blocks: after };
}

