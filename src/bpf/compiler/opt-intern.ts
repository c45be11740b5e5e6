// Statement lists interned as numbers, for the optimizer's keys (opt-blocks.ts):
// two lists get the same number exactly when they have the same (code, k)
// sequence. A list's number is that of its node in a trie keyed by each
// statement's (code, k); the trie's edges live in one open-addressing hash
// table of typed arrays, (parent number, code, k) → child number, so a
// lookup neither hashes a boxed key nor allocates (it runs for every block
// of every compile).
import type { Stmt } from './block.js';

/** Past this many lists the trie starts afresh (see internReset): bounded memory in a long-lived process. */
const LIMIT = 20_000;
/** Initial table slots: a power of two, kept at least twice the edges in it so that probing stays short. */
const INITIAL = 1 << 12;
// Per slot: the edge's parent, code and k, and its child (0: slot empty; no child is numbered 0).
let size = INITIAL;
let parentOf = new Int32Array(size);
let codeOf = new Int32Array(size);
let kOf = new Int32Array(size);
let childOf = new Int32Array(size);
/** Numbers handed out so far (0 is the empty list); each but 0 is one edge of the table. */
let count = 1;
let generation = 0;

const slotOf = (parent: number, code: number, k: number): number =>
  (Math.imul(parent, 0x9e3779b1) ^ Math.imul(code, 0x85ebca6b) ^ Math.imul(k, 0xc2b2ae35)) & (size - 1);

/** Double the table (a run on a huge filter may intern more than LIMIT lists: it cannot start afresh mid-run). */
function grow(): void {
  const [p, c, k, ch] = [parentOf, codeOf, kOf, childOf];
  size *= 2;
  parentOf = new Int32Array(size);
  codeOf = new Int32Array(size);
  kOf = new Int32Array(size);
  childOf = new Int32Array(size);
  for (let i = 0; i < ch.length; i++) {
    const child = ch[i] ?? 0;
    if (child === 0) continue;
    const parent = p[i] ?? 0;
    const code = c[i] ?? 0;
    const kk = k[i] ?? 0;
    let at = slotOf(parent, code, kk);
    while ((childOf[at] ?? 0) !== 0) at = (at + 1) & (size - 1);
    parentOf[at] = parent;
    codeOf[at] = code;
    kOf[at] = kk;
    childOf[at] = child;
  }
}

/**
 * Called once per optimizer run, before any list is interned: numbers stay
 * comparable within a run. A fresh trie gets a new generation, so numbers
 * memoized on blocks from before it are not trusted.
 */
export function internReset(): void {
  if (count < LIMIT) return;
  size = INITIAL;
  parentOf = new Int32Array(size);
  codeOf = new Int32Array(size);
  kOf = new Int32Array(size);
  childOf = new Int32Array(size);
  count = 1;
  generation++;
}

/** The generation that numbers handed out now belong to. */
export function internGeneration(): number {
  return generation;
}

/** The number of stmts[from..] (the empty list is 0). */
export function internList(stmts: readonly Stmt[], from: number): number {
  // The table in locals (module bindings are re-read on every use), again after a grow().
  let parents = parentOf;
  let codes = codeOf;
  let ks = kOf;
  let children = childOf;
  let slots = size - 1;
  let n = 0;
  for (let i = from; i < stmts.length; i++) {
    const s = stmts[i];
    if (s === undefined) break;
    const code = s.code | 0;
    const k = s.k | 0;
    let at = slotOf(n, code, k);
    for (;;) {
      const c = children[at] ?? 0;
      if (c === 0) {
        parents[at] = n;
        codes[at] = code;
        ks[at] = k;
        children[at] = count;
        n = count++;
        if (2 * count > size) {
          grow();
          parents = parentOf;
          codes = codeOf;
          ks = kOf;
          children = childOf;
          slots = size - 1;
        }
        break;
      }
      if (parents[at] === n && codes[at] === code && ks[at] === k) {
        n = c;
        break;
      }
      at = (at + 1) & slots;
    }
  }
  return n;
}
