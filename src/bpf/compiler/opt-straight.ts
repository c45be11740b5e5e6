// An optimizer pass (optimize.ts) about decided blocks (both edges to one
// successor): an edge into one with nothing left to run goes straight to
// its successor, and one is joined to its successor when it is the only way
// in.
import type { Block } from './block.js';

/** mergeStraight()'s scratch, per block id: how many blocks jump to it. */
let preds = new Int32Array(64);

/** Make room for an optimizer run on a graph whose block ids are below `ids`. */
export function straightStart(ids: number): void {
  if (preds.length < ids) preds = new Int32Array(Math.max(ids, 2 * preds.length));
}

/** Is the block decided (both edges to one successor)? */
const decided = (b: Block): boolean => b.jt !== null && b.jt === b.jf;

/** Is it decided with nothing to run? */
const emptyDecided = (b: Block): boolean => decided(b) && b.stmts.length === 0;

/** Past decided blocks with no statements: where an edge into one leads. */
function past(t: Block): Block {
  let b = t;
  for (let guard = 0; guard < 10000 && b.jt !== null && b.jt === b.jf && b.stmts.length === 0; guard++) b = b.jt;
  return b;
}

/**
 * Edges (and the root) into decided blocks with no statements go on to
 * their successors. The new root, or null if no edge moved.
 */
export function skipEmpty(root: Block, blocks: readonly Block[]): Block | null {
  // Most graphs have no decided block at all (threading has passed them by): one look at each jump, no walk past.
  if (!blocks.some(emptyDecided)) return null;
  let moved = false;
  for (const b of blocks) {
    if (b.jt === null) continue;
    const jt = past(b.jt);
    const jf = b.jf === null ? null : past(b.jf);
    if (jt !== b.jt || jf !== b.jf) {
      b.jt = jt;
      b.jf = jf;
      moved = true;
    }
  }
  const r = past(root);
  return moved || r !== root ? r : null;
}

/**
 * Join a block whose jump is decided to its successor when it is the only
 * way in. True if any was (else the graph, and its order, are as they were).
 */
export function mergeStraight(root: Block, blocks: readonly Block[]): boolean {
  // With no decided block (the usual graph here), nothing joins: no count of predecessors.
  if (!blocks.some(decided)) return false;
  // Its own count of each block's predecessors (in a local: module bindings are re-read on every use).
  const count = preds;
  for (const b of blocks) count[b.id] = 0;
  for (const p of blocks) {
    if (p.jt !== null) count[p.jt.id] = (count[p.jt.id] ?? 0) + 1;
    if (p.jf !== null && p.jf !== p.jt) count[p.jf.id] = (count[p.jf.id] ?? 0) + 1;
  }
  let joined = false;
  for (const b of blocks) {
    for (let guard = 0; guard < 10000; guard++) {
      const c = b.jt;
      if (c === null || c !== b.jf || c === root || count[c.id] !== 1) break;
      b.stmts = b.stmts.concat(c.stmts);
      b.s = c.s;
      b.jt = c.jt;
      b.jf = c.jf;
      count[c.id] = 0;
      joined = true;
    }
  }
  return joined;
}
