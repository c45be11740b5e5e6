// Statement lists interned as numbers, for the optimizer's keys (opt-blocks.ts):
// two lists get the same number exactly when they have the same (code, k)
// sequence. A trie keyed by each statement's (code, k) replaces the strings
// the keys were before: no string is built or hashed per block.
import type { Stmt } from './block.js';

interface Node {
  id: number;
  next: Map<number, Node> | null;
}

/** Past this many lists the trie starts afresh (see internReset): bounded memory in a long-lived process. */
const LIMIT = 20_000;
let root: Node = { id: 0, next: null };
let count = 1;
let generation = 0;

/**
 * Called once per optimizer run, before any list is interned: numbers stay
 * comparable within a run. A fresh trie gets a new generation, so numbers
 * memoized on blocks from before it are not trusted.
 */
export function internReset(): void {
  if (count < LIMIT) return;
  root = { id: 0, next: null };
  count = 1;
  generation++;
}

/** The generation that numbers handed out now belong to. */
export function internGeneration(): number {
  return generation;
}

/** The number of stmts[from..] (the empty list is 0). */
export function internList(stmts: readonly Stmt[], from: number): number {
  let n = root;
  for (let i = from; i < stmts.length; i++) {
    const s = stmts[i];
    if (s === undefined) break;
    // code is a 16-bit opcode and k a 32-bit word: the pair fits a double exactly.
    const key = s.code * 0x100000000 + (s.k >>> 0);
    n.next ??= new Map<number, Node>();
    let c = n.next.get(key);
    if (c === undefined) {
      c = { id: count++, next: null };
      n.next.set(key, c);
    }
    n = c;
  }
  return n.id;
}
