// Scratch words that hold one value per packet wherever they are read
// (opt-blocks.ts setStableMemory): loading one is then as pure as loading
// from the packet, so jump threading can key and skip blocks that index by
// it (`ldx M[3]; ldb [x + 0]` on 802.11 link types, pflog's header length).
// A word is stable when one block alone stores it (a block runs at most
// once per packet) and that block comes before every block that reads it
// (on every path from the entry), reading it not itself before the store.
// The stores may be conditional (the 802.11 prologue jumps inside its
// statement list): the word then holds the stored value or its initial 0,
// still one value per packet once the block is done.
import { BPF_LD, BPF_LDX, BPF_MEM, BPF_ST, BPF_STX, bpfClass, bpfMode } from '../insn.js';
import { isStoreFree, type Block } from './block.js';

/** Per word: the one block that stores it, and that block's place in the order (scratch of one call). */
const storer: (Block | null)[] = new Array<Block | null>(16).fill(null);
const storerAt = new Int32Array(16);

/** The scratch words stableMemoryOf() saw stored, as a mask (a word is only loaded where one is stored). */
export let wordsStored = 0;

/** The stable words of the graph with this root and order, as a mask. */
export function stableMemoryOf(root: Block, blocks: readonly Block[]): number {
  // The code generator made no store for this graph: none to find.
  if (isStoreFree(root)) {
    wordsStored = 0;
    return 0;
  }
  // A loop, not fill(): a builtin call costs more than these 16 stores, on every compile.
  for (let k = 0; k < 16; k++) storer[k] = null;
  let many = 0;
  let stored = 0;
  wordsStored = 0;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i];
    if (b === undefined) continue;
    for (const s of b.stmts) {
      // Classes ST (2) and STX (3) only, by one test: this scan runs on every compile.
      if ((s.code & 0x06) !== 0x02) continue;
      if (s.k >>> 0 < 16) {
        const bit = 1 << s.k;
        if ((stored & bit) === 0) {
          stored |= bit;
          storer[s.k] = b;
          storerAt[s.k] = i;
        } else if (storer[s.k] !== b) many |= bit;
      }
    }
  }
  wordsStored = stored;
  let stable = stored & ~many;
  if (stable === 0) return 0;
  // A word no block but its storer loads: its one value per packet helps no
  // other block's key (arithmetic's `st M[1]; … ld M[1]` within one block),
  // so it is not worked out (setStableValues() would run the block for it).
  let elsewhere = 0;
  for (const b of blocks) {
    const loads = readsWords(b) & stable;
    for (let k = 0; loads >>> k !== 0; k++) if (((loads >>> k) & 1) === 1 && storer[k] !== b) elsewhere |= 1 << k;
  }
  stable &= elsewhere;
  if (stable === 0) return 0;
  // The size of a table indexed by block id: `blocks` is every block reachable.
  let ids = 0;
  for (const b of blocks) if (b.id >= ids) ids = b.id + 1;
  // Words read by the storing block itself, or by a block reached from the entry without it: not stable.
  let done = 0;
  for (let k = 0; k < 16; k++) {
    const s = storer[k];
    if ((stable & (1 << k)) === 0 || (done & (1 << k)) !== 0 || s === undefined || s === null) continue;
    const words = wordsOf(s);
    done |= words;
    stable &= ~(readsFirst(s) & words);
    if (s !== root) stable &= ~(readsAvoiding(root, s, ids) & words);
  }
  return stable;
}

/**
 * The blocks that store the words of `mask` (stable words, each stored by
 * one block), each once, in the order stableMemoryOf() was given: what
 * setStableValues() (opt-keys.ts) runs, without a scan of every block.
 */
export function stableStorers(mask: number): Block[] {
  const out: Block[] = [];
  const at: number[] = [];
  for (let k = 0; k < 16; k++) {
    const b = storer[k];
    if (((mask >>> k) & 1) === 0 || b === null || b === undefined || out.includes(b)) continue;
    const i = storerAt[k] ?? 0;
    let j = out.length;
    out.push(b);
    at.push(i);
    // Insertion by place in the order (a handful at most).
    while (j > 0 && (at[j - 1] ?? 0) > i) {
      out[j] = out[j - 1] ?? b;
      at[j] = at[j - 1] ?? 0;
      j--;
    }
    out[j] = b;
    at[j] = i;
  }
  return out;
}

/** The words the block stores, as a mask. */
function wordsOf(b: Block): number {
  let m = 0;
  for (const s of b.stmts) {
    const cls = bpfClass(s.code);
    if ((cls === BPF_ST || cls === BPF_STX) && s.k >>> 0 < 16) m |= 1 << s.k;
  }
  return m;
}

/** The words the block loads, as a mask. */
function readsWords(b: Block): number {
  let m = 0;
  for (const s of b.stmts) {
    const cls = bpfClass(s.code);
    if ((cls === BPF_LD || cls === BPF_LDX) && bpfMode(s.code) === BPF_MEM && s.k >>> 0 < 16) m |= 1 << s.k;
  }
  return m;
}

/** The words the block loads before it stores them, as a mask. */
function readsFirst(b: Block): number {
  let m = 0;
  let stored = 0;
  for (const s of b.stmts) {
    const cls = bpfClass(s.code);
    if (s.k >>> 0 >= 16) continue;
    if ((cls === BPF_LD || cls === BPF_LDX) && bpfMode(s.code) === BPF_MEM && (stored & (1 << s.k)) === 0) m |= 1 << s.k;
    if (cls === BPF_ST || cls === BPF_STX) stored |= 1 << s.k;
  }
  return m;
}

/** readsAvoiding()'s marks, per block id: the walk that reached the block (kept between walks, nothing emptied). */
let seen = new Int32Array(64);
let walks = 0;

/** The words loaded by the blocks reachable from root without passing `avoid`, in a graph whose block ids are below `ids`. */
function readsAvoiding(root: Block, avoid: Block, ids: number): number {
  if (seen.length < ids) seen = new Int32Array(Math.max(ids, 2 * seen.length));
  if (walks === 0x7fffffff) {
    seen.fill(0);
    walks = 0;
  }
  const walk = ++walks;
  const marks = seen;
  let m = 0;
  const stack: Block[] = [root];
  marks[root.id] = walk;
  while (stack.length > 0) {
    const b = stack.pop();
    if (b === undefined) break;
    m |= readsWords(b);
    const { jt, jf } = b;
    if (jt !== null && jt !== avoid && marks[jt.id] !== walk) {
      marks[jt.id] = walk;
      stack.push(jt);
    }
    if (jf !== null && jf !== avoid && marks[jf.id] !== walk) {
      marks[jf.id] = walk;
      stack.push(jf);
    }
  }
  return m;
}
