// The optimizer. It works on the laid-out program, rebuilt into basic
// blocks, and relies on one fact about classic BPF: the packet never
// changes, so a value loaded from it by the same instructions is the same
// every time. Passes:
//  - constant folding and dead statements (fold.ts): `ld #k; jeq #c` and
//    other tests on known values are decided at compile time;
//  - jump threading (opt-thread.ts): an edge into a test whose outcome is
//    already implied by the tests on every path to that edge jumps straight
//    to the outcome (this removes the repeated `ldh [12]; jeq #0x800` of
//    unoptimized code); facts are keyed by the value a block tests, so a
//    block that also stores to scratch memory still informs later tests;
//  - redundant loads: a block whose every predecessor ends by running its
//    very statements keeps only its jump; an `ldx` that X already holds on
//    every path (a dataflow over the graph) goes;
//  - the transport-offset peephole (opt-peep.ts): `ld #c; add x; tax;
//    ld [x + n]` → `ld [x + (n + c)]`;
//  - dead-code removal: blocks no longer reachable are dropped;
//  - merging of equal blocks (same statements, same successors).
// A test is only skipped when an identical load already succeeded on the
// path, so a load that would fall off the packet still rejects; and only
// when the block it skips to does not read A or X before setting them.
// Correctness is checked against the unoptimized program on random packets.
import { BPF_IMM, BPF_JA, BPF_JMP, BPF_K, BPF_LDX, BPF_MEM, BPF_MISC, BPF_MSH, BPF_RET, BPF_ST, BPF_STX, BPF_TAX, bpfClass, bpfOp } from '../insn.js';
import { Block, nextWalk, type Clause, type Stmt } from './block.js';
import { foldBlocks } from './fold.js';
import { linearize, type Linear } from './linearize.js';
import { order, pureKey, readsOnEntry, selfContained, stmtsId } from './opt-blocks.js';
import { internReset } from './opt-intern.js';
import { foldIndexBase } from './opt-peep.js';
import { thread } from './opt-thread.js';

/** Linear program → blocks; null if it has shapes we leave alone. */
function toBlocks(l: Linear): Block | null {
  const p = l.insns;
  const leaders = new Set<number>([0]);
  for (let i = 0; i < p.length; i++) {
    const ins = p[i];
    if (ins === undefined) return null;
    const cls = bpfClass(ins.code);
    if (cls === BPF_JMP) {
      if (bpfOp(ins.code) === BPF_JA) return null;
      leaders.add(i + 1 + ins.jt);
      leaders.add(i + 1 + ins.jf);
      leaders.add(i + 1);
    } else if (cls === BPF_RET) {
      leaders.add(i + 1);
    }
  }
  const blocks = new Map<number, Block>();
  const ends = new Map<Block, number>();
  let cur: Block | null = null;
  let stmts: Stmt[] = [];
  let start = 0;
  for (let i = 0; i < p.length; i++) {
    const ins = p[i];
    if (ins === undefined) return null;
    const clause: Clause | undefined = l.clauses[i];
    if (leaders.has(i) && stmts.length > 0) return null; // fall-through into a leader
    if (leaders.has(i)) start = i;
    const cls = bpfClass(ins.code);
    if (cls === BPF_JMP || cls === BPF_RET) {
      cur = new Block(ins.code, ins.k, clause);
      cur.stmts = stmts;
      blocks.set(start, cur);
      ends.set(cur, i);
      stmts = [];
    } else {
      stmts.push({ code: ins.code, k: ins.k, clause });
    }
  }
  if (stmts.length > 0) return null;
  for (const [, b] of blocks) {
    if (bpfClass(b.s.code) !== BPF_JMP) continue;
    const at = ends.get(b) ?? 0;
    const ins = p[at];
    if (ins === undefined) return null;
    const t = blocks.get(at + 1 + ins.jt);
    const f = blocks.get(at + 1 + ins.jf);
    if (t === undefined || f === undefined) return null;
    b.jt = t;
    b.jf = f;
  }
  return blocks.get(0) ?? null;
}

/** Same statements, same jump, same successors (by their canonical numbers): mergeEqual's equality. */
function sameBlock(a: Block, b: Block, list: number): boolean {
  return stmtsId(a) === list && a.s.code === b.s.code && a.s.k >>> 0 === b.s.k >>> 0 &&
    (a.jt === null ? b.jt === null : b.jt !== null && a.jt.num === b.jt.num) &&
    (a.jf === null ? b.jf === null : b.jf !== null && a.jf.num === b.jf.num);
}

/**
 * mergeEqual's hash table of canonical blocks, open addressing with linear
 * probing, kept between calls (all null outside one): no map per call.
 */
let table: (Block | null)[] = new Array<Block | null>(64).fill(null);

/** Merge equal blocks; `changed`: were any found (else the graph is as it was)? */
function mergeEqual(root: Block): { root: Block; changed: boolean } {
  const blocks = order(root);
  // Per block (set below, in reverse order): `repl` its canonical equal, `num` that one's number.
  for (const b of blocks) b.repl = null;
  // The canonical blocks, each the first seen of its kind, by a hash of what
  // sameBlock compares; at most one per kind, found by probing from its hash.
  let size = 64;
  while (size < 2 * blocks.length) size *= 2;
  if (table.length < size) table = new Array<Block | null>(size).fill(null);
  const slots = size - 1;
  let next = 0;
  let changed = false;
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b === undefined) continue;
    if (b.jt !== null) b.jt = b.jt.repl ?? b.jt;
    if (b.jf !== null) b.jf = b.jf.repl ?? b.jf;
    const list = stmtsId(b);
    let h = Math.imul(list, 0x9e3779b1) ^ b.s.code;
    h = Math.imul(h ^ b.s.k, 0x85ebca6b);
    h = Math.imul(h ^ (b.jt === null ? -1 : b.jt.num), 0xc2b2ae35);
    h = (h ^ (b.jf === null ? -1 : b.jf.num)) | 0;
    b.hash = h;
    let at = h & slots;
    let c = table[at] ?? null;
    while (c !== null && !(c.hash === h && sameBlock(c, b, list))) {
      at = (at + 1) & slots;
      c = table[at] ?? null;
    }
    if (c === null) {
      table[at] = b;
      b.num = next++;
    } else {
      b.repl = c;
      b.num = c.num;
      changed = true;
    }
  }
  for (let j = 0; j < size; j++) table[j] = null;
  return { root: root.repl ?? root, changed };
}

/**
 * Redundant loads: a pure block whose every predecessor ran the same
 * statements (so A and X already hold what they would compute) keeps only
 * its jump. Run last: threading must not add predecessors afterwards.
 */
function dropRedundantLoads(blocks: readonly Block[]): void {
  // Decided on the statements as they are before any is dropped (a block
  // emptied here still leaves in A and X what they computed, from its
  // predecessors), so first every edge, then every block. Per block, on the
  // block: `count` its predecessors, `flag` whether each ends with its statements.
  for (const b of blocks) {
    b.count = 0;
    b.flag = true;
  }
  for (const p of blocks) {
    const jump = bpfClass(p.s.code) === BPF_JMP;
    if (p.jt !== null) predecessor(p, p.jt, jump);
    if (p.jf !== null && p.jf !== p.jt) predecessor(p, p.jf, jump);
  }
  for (const b of blocks) {
    if (bpfClass(b.s.code) !== BPF_JMP || b.count === 0 || !b.flag || pureKey(b) === null || !selfContained(b.stmts, 0)) continue;
    // Every predecessor ends by running these very statements: A and X hold their results,
    // and the loads among them already succeeded.
    b.stmts = [];
  }
}

function predecessor(p: Block, s: Block, jump: boolean): void {
  s.count++;
  if (s.flag && !(jump && endsWith(p.stmts, s.stmts))) s.flag = false;
}

function endsWith(list: readonly Stmt[], tail: readonly Stmt[]): boolean {
  if (tail.length > list.length) return false;
  const off = list.length - tail.length;
  for (let i = 0; i < tail.length; i++) {
    const t = tail[i];
    const l = list[off + i];
    if (t === undefined || l?.code !== t.code || l.k >>> 0 !== t.k >>> 0) return false;
  }
  return true;
}

/**
 * A block whose every way out is `ret #0` is itself `ret #0`: its loads can
 * only fail, and failing rejects the packet too. Edges to such blocks go
 * straight to the reject.
 */
function foldRejects(root: Block): Block {
  const blocks = order(root);
  // Marks a block as a reject with this walk's number (no set).
  const reject = nextWalk();
  let canon: Block | null = null;
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (b === undefined) continue;
    if (bpfClass(b.s.code) === BPF_RET && (b.s.code & 0x18) === BPF_K && b.s.k === 0) {
      b.mark = reject;
      canon ??= b;
    } else if (b.jt !== null && b.jf !== null && b.jt.mark === reject && b.jf.mark === reject) {
      b.mark = reject;
    }
  }
  if (canon === null) return root;
  for (const b of blocks) {
    if (b.jt !== null && b.jt.mark === reject) b.jt = canon;
    if (b.jf !== null && b.jf.mark === reject) b.jf = canon;
  }
  return root.mark === reject ? canon : root;
}

/**
 * X already holds what an `ldx`/`ldxb` would load when, on every path to it,
 * that same instruction was the last to set X: a forward dataflow over the
 * graph (X's "signature" on entry to a block is the one all its predecessors
 * leave, and a block that does not touch X passes its entry value on).
 * The packet never changes, so the load gives the same value again, and it
 * cannot fail where it already succeeded.
 */
function dropRedundantLdx(root: Block, blocks: readonly Block[]): void {
  // What last set X, as a number: the statement's code and k (injective: a
  // 16-bit code, a 32-bit k). `ldx M[k]` counts too, until something stores to M[k].
  const xSig = (st: Stmt): number | null =>
    st.code === (BPF_LDX | BPF_MSH | 0x10) || st.code === (BPF_LDX | BPF_IMM) || st.code === (BPF_LDX | BPF_MEM)
      ? st.code * 0x100000000 + (st.k >>> 0)
      : null;
  const memSig = (k: number): number => (BPF_LDX | BPF_MEM) * 0x100000000 + (k >>> 0);
  // X's signature on entry, on the block (`xIn`), valid where `stamp` is this
  // walk's; no stamp: no predecessor seen yet; null: unknown or disagreeing.
  const walk = nextWalk();
  root.stamp = walk;
  root.xIn = null;
  for (const b of blocks) {
    let cur = b.stamp === walk ? b.xIn : null;
    const kept: Stmt[] = [];
    // Statement lists with jumps of their own (protochain) are not straight-line: leave them.
    const straight = !b.stmts.some((st) => bpfClass(st.code) === BPF_JMP);
    if (!straight) cur = null;
    for (const st of straight ? b.stmts : []) {
      const cls = bpfClass(st.code);
      if (cls === BPF_LDX || st.code === (BPF_MISC | BPF_TAX)) {
        const sig = xSig(st);
        if (sig !== null && sig === cur) continue;
        cur = sig;
      } else if ((cls === BPF_ST || cls === BPF_STX) && cur === memSig(st.k)) {
        cur = null;
      }
      kept.push(st);
    }
    if (straight && kept.length !== b.stmts.length) b.stmts = kept;
    if (b.jt !== null) xInto(b.jt, cur, walk);
    if (b.jf !== null && b.jf !== b.jt) xInto(b.jf, cur, walk);
  }
}

function xInto(t: Block, cur: number | null, walk: number): void {
  if (t.stamp !== walk) {
    t.stamp = walk;
    t.xIn = cur;
  } else if (t.xIn !== cur) t.xIn = null;
}

/** Join a block whose jump is decided to its successor when it is the only way in. */
function mergeStraight(root: Block, blocks: readonly Block[]): void {
  // Predecessor counts on the blocks (`count`).
  for (const b of blocks) b.count = 0;
  for (const b of blocks) {
    if (b.jt !== null) b.jt.count++;
    if (b.jf !== null && b.jf !== b.jt) b.jf.count++;
  }
  for (const b of blocks) {
    for (let guard = 0; guard < 10000; guard++) {
      const c = b.jt;
      if (c === null || c !== b.jf || c === root || c.count !== 1) break;
      b.stmts = b.stmts.concat(c.stmts);
      b.s = c.s;
      b.jt = c.jt;
      b.jf = c.jf;
      c.count = 0;
    }
  }
}

export function optimize(l: Linear): Linear {
  const root = toBlocks(l);
  if (root === null) return l;
  return optimizeGraph(root, l);
}

/**
 * Optimize a block graph in place (the code generator's, or one rebuilt
 * from a program) and lay it out; `plain` is returned if that is shorter.
 */
export function optimizeGraph(root: Block, plain: Linear): Linear {
  return optimizeGraphAgainst(root, plain.insns.length) ?? plain;
}

/**
 * Optimize a block graph in place and lay it out, or null if the result
 * would be longer than the unoptimized program's `plainLength` instructions.
 */
export function optimizeGraphAgainst(root: Block, plainLength: number): Linear | null {
  internReset();
  const all = order(root);
  foldBlocks(all, readsOnEntry);
  let r = root;
  // Jump threading carries path facts; on huge generated filters it would
  // grow quadratic, so it is left out there (the other passes still run).
  // Folding only ever drops edges, so a graph no larger than that before it is not huge after.
  const huge = all.length > 2000 && order(r).length > 2000;
  // Two rounds, unless the first changes nothing after foldRejects: the
  // second would then start from the very graph the first did, and change
  // nothing either (foldRejects leaves its own result as it is).
  let settled = false;
  for (let pass = 0; pass < 2 && !settled; pass++) {
    r = foldRejects(r);
    let changed = false;
    if (!huge) {
      const t = thread(r);
      r = t.root;
      changed = t.changed;
    }
    const m = mergeEqual(r);
    r = m.root;
    settled = !changed && !m.changed;
  }
  if (!settled) r = foldRejects(r);
  // One walk for the next three passes: the first two change statements only.
  const blocks = order(r);
  dropRedundantLoads(blocks);
  dropRedundantLdx(r, blocks);
  mergeStraight(r, blocks);
  // Again one walk for two: the peephole changes statements only.
  const merged = order(r);
  for (const b of merged) foldIndexBase(b, (b.jt !== null && readsOnEntry(b.jt)) || (b.jf !== null && readsOnEntry(b.jf)));
  foldBlocks(merged, readsOnEntry);
  r = foldRejects(r);
  r = mergeEqual(r).root;
  const out = linearize(r);
  return out.insns.length <= plainLength ? out : null;
}
