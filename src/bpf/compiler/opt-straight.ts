// An optimizer pass (optimize.ts) about decided blocks (both edges to one
// successor): an edge into one with nothing left to run goes straight to
// its successor, and one is joined to its successor when it is the only way
// in. Its scratch per block is on the block (`count`): keeping it in tables
// of their own cost the optimizer ~20% (block-tables experiment, issue 14),
// as every table read is a module binding, a property and an element where
// a field is one load.
import type { Block } from './block.js';

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
  // Its own count of each block's predecessors (`count`, on the block).
  for (const b of blocks) b.count = 0;
  for (const p of blocks) {
    if (p.jt !== null) p.jt.count++;
    if (p.jf !== null && p.jf !== p.jt) p.jf.count++;
  }
  let joined = false;
  for (const b of blocks) {
    for (let guard = 0; guard < 10000; guard++) {
      const c = b.jt;
      if (c === null || c !== b.jf || c === root || c.count !== 1) break;
      b.stmts = b.stmts.concat(c.stmts);
      b.s = c.s;
      b.jt = c.jt;
      b.jf = c.jf;
      c.count = 0;
      joined = true;
    }
  }
  return joined;
}
